"""Multi-person frames (``semgcn.pose/2``) for the bridge tests: people of different sizes who come and go.

Each person is a rigid synthetic body of their own (``session_fixtures.synthetic_poses`` with their own
seed) scaled by their own factor, so that one person's bone lengths can never pass for another's, and
stands at their own place 3 m in front of the camera. ``isolated_skeletons`` solves each person alone,
in frames holding nobody else: what a bridge sends for a person must equal it, or it mixed people.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from realtime.core.records import FrameResult, PersonPose
from realtime.core.skeleton_stage import SkeletonOptions, SkeletonStage
from semgcn.skeleton import NUM_JOINTS
from tests.test_realtime.test_recording.session_fixtures import FPS, synthetic_poses


@dataclass(frozen=True)
class Span:
    """One person: in view for frames ``[first, last)``, body ``scale``, standing ``x`` metres to the side."""

    first: int
    last: int
    scale: float
    x: float


#: Person 3 is tracked the longest and leaves at frame 60; 8 came before 12, so 8 is chosen next,
#: once person 3 has been gone for the selector's 1.5 s (45 frames); 12 leaves at 120, 8 stays.
SCHEDULE = {3: Span(0, 60, 1.0, -0.8), 8: Span(10, 150, 0.8, 0.0), 12: Span(30, 120, 1.2, 0.8)}
FRAMES = 150


def people_frames(n: int = FRAMES, schedule: dict[int, Span] | None = None, t0: float = 1.7e9) -> list[FrameResult]:
    """``n`` version 2 frames with the people of ``schedule``, in id order (every array a person needs)."""
    schedule = SCHEDULE if schedule is None else schedule
    poses = {pid: synthetic_poses(n, seed=pid) * span.scale for pid, span in schedule.items()}
    rng = np.random.default_rng(1)
    frames = []
    for i in range(n):
        frame = FrameResult(frame_index=i, t_capture=t0 + i / FPS, image_size=(640, 480), source="synthetic",
                            wire_major=2)
        frame.t_publish = frame.t_capture + 0.02
        for pid, span in schedule.items():
            if span.first <= i < span.last:
                frame.people.append(_person(pid, poses[pid][i], span, rng))
        frames.append(frame)
    return frames


def _person(pid: int, joints: np.ndarray, span: Span, rng) -> PersonPose:
    root = np.array([span.x, 0.3, 3.0])
    cam = joints.astype(np.float64) + root
    return PersonPose(id=pid, keypoints_2d=(600.0 * cam[:, :2] / cam[:, 2:] + [320.0, 240.0]).astype(np.float32),
                      confidence=rng.uniform(0.5, 1.0, NUM_JOINTS).astype(np.float32),
                      joints_3d=joints.astype(np.float32), root_translation=root.astype(np.float32))


def isolated_skeletons(frames: list[FrameResult]) -> dict[int, dict[int, object]]:
    """``{person id: {frame index: SkeletonPose}}``, each person solved by a stage that sees only them."""
    stages: dict[int, SkeletonStage] = {}
    out: dict[int, dict[int, object]] = {}
    for frame in frames:
        for person in frame.people:
            alone = copy.copy(frame)
            alone.people = [copy.copy(person)]
            alone.people[0].skeleton = None
            alone.header = {}
            stage = stages.setdefault(person.id, SkeletonStage(SkeletonOptions(publish=False)))
            stage.process(alone)
            out.setdefault(person.id, {})[frame.frame_index] = alone.people[0].skeleton
    return out


def present(frames: list[FrameResult], pid: int) -> list[bool]:
    """Whether person ``pid`` is in each frame."""
    return [any(p.id == pid for p in f.people) for f in frames]


def drawn_and_deleted(index: int, schedule: dict[int, Span] | None = None,
                      deletion_frames: int = 30) -> tuple[set[int], set[int]]:
    """Who a scene of frame ``index`` draws, and whose drawings it deletes (left less than
    ``deletion_frames`` ago, ``SceneBuilder.repeat_deletions``)."""
    schedule = SCHEDULE if schedule is None else schedule
    drawn = {pid for pid, s in schedule.items() if s.first <= index < s.last}
    deleted = {pid for pid, s in schedule.items() if s.last <= index < s.last + deletion_frames}
    return drawn, deleted


def churn_frames(n: int = 90, seed: int = 4, most: int = 6, t0: float = 1.7e9) -> list[FrameResult]:
    """People coming and going at random, every few frames (new ids, some back after a gap, up to
    ``most`` at once), each with a body of their own; now and then a person the lifter gave no joints."""
    rng = np.random.default_rng(seed)
    bodies: dict[int, np.ndarray] = {}
    inside: list[int] = []
    frames = []
    for i in range(n):
        inside = [pid for pid in inside if rng.random() < 0.9]
        if len(inside) < most and rng.random() < 0.35:
            inside.append(len(bodies))
            bodies[len(bodies)] = synthetic_poses(n, seed=len(bodies)) * rng.uniform(0.75, 1.25)
        frame = FrameResult(frame_index=i, t_capture=t0 + i / FPS, image_size=(640, 480), source="churn",
                            wire_major=2)
        for pid in inside:
            person = _person(pid, bodies[pid][i], Span(0, n, 1.0, 0.4 * (pid % 5) - 0.8), rng)
            if rng.random() < 0.03:
                person.joints_3d = None
            frame.people.append(person)
        frames.append(frame)
    return frames
