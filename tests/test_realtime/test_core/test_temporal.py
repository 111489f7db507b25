"""The temporal stage: causal line fits (no lag on steady motion), steadier joints and bone lengths,
one filter per person id, restarts when a person leaves."""
from __future__ import annotations

import numpy as np
import pytest

from realtime.core.records import FrameResult, PersonPose
from realtime.core.smoothing import JointSmoother
from realtime.core.temporal import TemporalFilter, TemporalOptions, TemporalStage, with_bone_lengths
from realtime.demo.kinematics import POSE_PARAMS, BodyShape, forward_kinematics
from semgcn.metrics import acceleration_error_mm, lag_frames
from semgcn.skeleton import bone_lengths

FPS = 30.0


def _pose(seed: int = 0) -> np.ndarray:
    """A body (left and right bones of equal length) in a random posture, pelvis at the origin."""
    rng = np.random.default_rng(seed)
    angles = {name: rng.uniform(-0.6, 0.6) for name in POSE_PARAMS}
    joints = forward_kinematics(angles, BodyShape(), rng.uniform(0, 6.28), np.zeros(3)).joints
    return joints - joints[0]


def _moving(frames: int, noise: float, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """A pose whose joints swing (0.5 Hz, 0.2 m), and noisy observations of it (depth noise doubled)."""
    rng = np.random.default_rng(seed)
    t = np.arange(frames) / FPS
    truth = _pose()[None] + 0.2 * np.sin(2 * np.pi * 0.5 * t)[:, None, None] * np.linspace(0, 1, 16)[None, :, None]
    truth -= truth[:, :1]
    observed = truth + rng.normal(size=truth.shape) * noise * np.array([1.0, 1.0, 2.0])
    observed -= observed[:, :1]
    return truth, observed


def _run(filt, observed: np.ndarray) -> np.ndarray:
    return np.stack([filt(p, None, i / FPS) if isinstance(filt, TemporalFilter) else filt(p, i / FPS)
                     for i, p in enumerate(observed)])


def test_constant_speed_is_followed_without_lag():
    start, velocity = _pose(4), np.linspace(-0.3, 0.3, 48).reshape(16, 3)  # m/s
    velocity[0] = 0.0
    filt = TemporalFilter(TemporalOptions(bone_history=0))   # the tracker alone, bone lengths as filtered
    for i in range(90):
        out = filt(start + velocity * i / FPS, None, i / FPS)
    np.testing.assert_allclose(out, start + velocity * 89 / FPS, atol=1e-4)


def test_a_jump_of_the_2d_keypoints_restarts_the_history():
    filt = TemporalFilter()
    keypoints = np.random.default_rng(0).uniform(200, 400, (16, 2))
    for i in range(10):
        filt(_pose(0), keypoints, i / FPS)
    elsewhere = _pose(8)
    np.testing.assert_allclose(filt(elsewhere, keypoints + 300.0, 10 / FPS), elsewhere, atol=1e-5)


def test_bone_lengths_are_imposed_along_the_same_directions():
    pose = _pose(3)
    wanted = np.linspace(0.1, 0.4, 15)
    out = with_bone_lengths(pose, wanted)
    np.testing.assert_allclose(bone_lengths(out), wanted, atol=1e-12)
    direction = lambda p: (p[2] - p[1]) / np.linalg.norm(p[2] - p[1])  # noqa: E731
    np.testing.assert_allclose(direction(out), direction(pose), atol=1e-12)


def test_less_jitter_steadier_bones_and_at_most_one_frame_of_lag():
    truth, observed = _moving(240, noise=0.01)
    out = _run(TemporalFilter(), observed)
    assert acceleration_error_mm(out, truth) < 0.6 * acceleration_error_mm(observed, truth)
    assert bone_lengths(out)[30:].std(0).max() < 0.3 * bone_lengths(observed).std(0).max()
    assert abs(lag_frames(out, truth)) <= 1.0
    # One Euro, the light option, lags more on the same motion (what the temporal stage is for).
    assert lag_frames(_run(JointSmoother(), observed), truth) > lag_frames(out, truth)


def test_restarts_on_a_gap_or_a_missing_pose():
    filt = TemporalFilter(TemporalOptions(max_gap_s=0.5))
    for i in range(10):
        filt(_pose(0), None, i / FPS)
    fresh = _pose(5)
    np.testing.assert_allclose(filt(fresh, None, 2.0), fresh, atol=1e-6)   # after a gap: passed through
    assert filt(None, None, 2.1) is None
    np.testing.assert_allclose(filt(_pose(6), None, 2.2), _pose(6), atol=1e-6)


def _frame(t: float, people: dict[int, np.ndarray]) -> FrameResult:
    return FrameResult(frame_index=int(t * FPS), t_capture=t, image_size=(640, 480),
                       people=[PersonPose(id=i, joints_3d=p.astype(np.float32),
                                          keypoints_2d=np.full((16, 2), 100.0, np.float32)) for i, p in people.items()])


def test_stage_keeps_one_filter_per_person_and_forgets_who_left():
    stage = TemporalStage()
    a, b = _pose(1), _pose(2)
    for i in range(12):
        result = _frame(i / FPS, {0: a, 1: b})
        stage.process(result)
    np.testing.assert_allclose(result.people[0].joints_3d, a, atol=1e-5)   # a still pose stays itself
    np.testing.assert_allclose(result.people[1].joints_3d, b, atol=1e-5)   # ...and is not mixed with b
    stage.process(_frame(12 / FPS, {0: a}))                                   # person 1 leaves
    back = _pose(7)
    result = _frame(13 / FPS, {0: a, 1: back})                              # ...and someone else comes
    stage.process(result)
    np.testing.assert_allclose(result.people[1].joints_3d, back, atol=1e-5)
