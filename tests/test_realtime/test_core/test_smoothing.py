"""The 3D pose smoother: less jitter at rest, little lag in motion, restarts when the person is lost."""
from __future__ import annotations

import numpy as np

from realtime.core.records import FrameResult, PersonPose
from realtime.core.smoothing import JointSmoother, SmoothingOptions, SmoothingStage

FPS = 30.0


def _base_pose() -> np.ndarray:
    return np.random.default_rng(0).normal(0.0, 0.3, (16, 3)).astype(np.float32)


def test_first_pose_passes_unchanged_as_float32():
    smoother = JointSmoother()
    pose = _base_pose()
    out = smoother(pose, 0.0)
    assert out.dtype == np.float32 and out.shape == (16, 3)
    np.testing.assert_allclose(out, pose, atol=1e-6)


def test_jitter_of_a_still_pose_is_reduced():
    rng = np.random.default_rng(1)
    base = _base_pose()
    smoother = JointSmoother()
    raw, smooth = [], []
    for i in range(120):
        noisy = base + rng.normal(0, 0.01, base.shape).astype(np.float32)  # 1 cm of detector jitter
        raw.append(noisy)
        smooth.append(smoother(noisy, i / FPS))
    raw_err = np.linalg.norm(np.array(raw[30:]) - base, axis=-1).mean()
    smooth_err = np.linalg.norm(np.array(smooth[30:]) - base, axis=-1).mean()
    assert smooth_err < 0.5 * raw_err


def test_a_steady_motion_is_followed_with_little_lag():
    base = _base_pose()
    smoother = JointSmoother()
    velocity = np.array([1.0, 0.0, 0.0], np.float32)  # 1 m/s sideways
    for i in range(60):
        t = i / FPS
        out = smoother(base + velocity * t, t)
    lag_m = np.abs(out - (base + velocity * t))[:, 0].max()
    assert lag_m < 0.05


def test_losing_the_person_or_a_long_gap_restarts_the_filter():
    smoother = JointSmoother(SmoothingOptions(max_gap_s=0.5))
    a, b = _base_pose(), _base_pose() + 1.0
    smoother(a, 0.0)
    smoother(a, 1 / FPS)
    assert np.abs(smoother(b, 2 / FPS) - b).max() > 0.1  # filtered: pulled towards a
    assert smoother(None, 3 / FPS) is None
    np.testing.assert_allclose(smoother(b, 4 / FPS), b, atol=1e-6)  # restarted: passes through
    np.testing.assert_allclose(smoother(a, 10.0), a, atol=1e-6)       # gap of seconds: restarted
    nan_pose = a.copy()
    nan_pose[3, 1] = np.nan
    assert smoother(nan_pose, 10.03) is None
    np.testing.assert_allclose(smoother(b, 10.06), b, atol=1e-6)


def _frame(t: float, poses: dict[int, np.ndarray]) -> FrameResult:
    people = [PersonPose(id=pid, joints_3d=pose.copy()) for pid, pose in poses.items()]
    return FrameResult(frame_index=int(t * FPS), t_capture=1e9 + t, image_size=(640, 480), media_time=t, people=people)


def test_the_stage_smooths_each_person_on_their_own_and_restarts_one_who_left():
    stage = SmoothingStage()
    a, b = _base_pose(), _base_pose() + 1.0
    stage.process(_frame(0.0, {0: a, 1: b}))
    jump = {0: a + 0.05, 1: b + 0.05}  # both step 5 cm: each is filtered towards its own history
    frame = _frame(1 / FPS, jump)
    stage.process(frame)
    for person, base in zip(frame.people, (a, b)):
        step = np.abs(person.joints_3d - base).max()
        assert 0.0 < step < 0.05 and person.joints_3d.dtype == np.float32
    stage.process(_frame(2 / FPS, {1: b + 0.05}))  # person 0 left the frame ...
    back = _frame(3 / FPS, {0: a + 0.5, 1: b + 0.05})
    stage.process(back)
    np.testing.assert_allclose(back.people[0].joints_3d, a + 0.5, atol=1e-6)  # ... and comes back unfiltered
    assert np.abs(back.people[1].joints_3d - (b + 0.05)).max() < 0.05
