"""A causal temporal stage for live video: steadier joints, depth and bone lengths, no future frames.

Each person's joints go through a constant-velocity tracker (an alpha-beta filter, the steady state of
a Kalman filter with a constant-velocity model), coordinate by coordinate, and a bone-length prior:

1. **Predict, then correct**: each frame, every joint coordinate is predicted from its filtered
   position and velocity, and moved a fraction ``alpha`` of the way to the new lifted value; the
   velocity takes ``beta`` of the surprise. A joint moving at constant speed is followed with no lag
   in the steady state, unlike a low-pass filter (One Euro), while frame-to-frame noise is averaged
   away; only a change of speed is followed a little late.
2. **Depth apart**: the depth (camera z) of a lifted joint is what one view constrains least and where
   most of the jitter is, so it gets smaller gains than x and y, which the 2D keypoints pin down.
3. **Bone lengths**: a person's bones do not change length, so each bone takes the median of its
   lifted lengths over the last frames (left and right averaged) and the pose is rebuilt from the
   pelvis along the filtered bone directions.
4. **2D keypoints as a reset signal**: when the detector's 2D keypoints jump (median joint speed above
   ``jump_speed`` body sizes per second: a re-detection, another person), or after a gap in time, the
   history is dropped instead of dragging the old pose into the new one.

Gains and windows were chosen on rendered sequences of *training* people (``tools.temporal_check``
measures the result on held-out ones): within the one frame of lag allowed, these settings roughly
halve the jitter. Nothing waits for a later frame: frame t's output depends on frames up to t only, so
the stage adds no latency of its own. ``TemporalStage`` keeps one ``TemporalFilter`` per person id and
drops it when the person leaves, like ``realtime.core.smoothing.SmoothingStage``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from realtime.core.per_person import PerPerson
from realtime.core.records import FrameResult
from semgcn.skeleton import BONES, FLIP_PERMUTATION, ROOT

_CHILD = np.array([c for c, _ in BONES])
_PARENT = np.array([p for _, p in BONES])
#: For each bone, the index of its left/right partner bone (itself for centre bones).
_PARTNER = np.array([[c for c, _ in BONES].index(FLIP_PERMUTATION[c]) for c, _ in BONES])


@dataclass
class TemporalOptions:
    """Options of ``TemporalFilter``.

    Attributes:
        alpha: position gain for x and y (1: no smoothing).
        beta: velocity gain for x and y.
        depth_alpha: position gain for the depth z.
        depth_beta: velocity gain for the depth z.
        bone_history: frames whose median bone lengths are imposed (0: bone lengths as filtered).
        jump_speed: 2D median joint speed (body sizes per second) above which the history is dropped.
        max_gap_s: restart when two frames are further apart than this.
    """

    alpha: float = 0.6
    beta: float = 0.15
    depth_alpha: float = 0.4
    depth_beta: float = 0.08
    bone_history: int = 60
    jump_speed: float = 8.0
    max_gap_s: float = 0.5


def body_speed_2d(previous: np.ndarray, current: np.ndarray, dt: float) -> float:
    """Median joint speed between two 2D poses in body sizes (RMS distance from the pelvis) per second."""
    size = np.sqrt(((current - current[ROOT]) ** 2).sum(-1).mean())
    step = np.linalg.norm(current - previous, axis=-1)
    return float(np.median(step) / max(size, 1e-6) / max(dt, 1e-6))


def _paths() -> np.ndarray:
    """``(16, 15)``: 1 where bone k lies on the way from the pelvis to joint j."""
    path = np.zeros((len(BONES) + 1, len(BONES)))
    for k, (child, parent) in enumerate(BONES):       # parents come first
        path[child] = path[parent]
        path[child, k] = 1.0
    return path


_PATHS = _paths()


def with_bone_lengths(joints: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``(16, 3)`` joints rebuilt from the pelvis with the same bone directions and the given lengths
    (each joint: the pelvis plus the bones on its way, one matrix product)."""
    vectors = joints[_CHILD] - joints[_PARENT]
    units = vectors / np.maximum(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-9)
    return joints[ROOT] + _PATHS @ (lengths[:, None] * units)


class TemporalFilter:
    """One person's temporal filter; pass None for a frame without the person to restart.

    Args:
        options: ``TemporalOptions``; defaults when None.
    """

    def __init__(self, options: TemporalOptions | None = None):
        self.options = options or TemporalOptions()
        opt = self.options
        self._alpha = np.array([opt.alpha, opt.alpha, opt.depth_alpha])
        self._beta = np.array([opt.beta, opt.beta, opt.depth_beta])
        self._lengths = np.zeros((max(opt.bone_history, 1), len(BONES)))  # a ring of recent bone lengths
        self.reset()

    def __call__(self, joints_3d: np.ndarray | None, keypoints_2d: np.ndarray | None, t: float) -> np.ndarray | None:
        """The steadied pose of the frame at time ``t`` (seconds), or None (and a restart)."""
        if joints_3d is None or not np.all(np.isfinite(joints_3d)):
            self.reset()
            return None
        pose = np.asarray(joints_3d, np.float64)
        keypoints = None if keypoints_2d is None or not np.all(np.isfinite(keypoints_2d)) \
            else np.asarray(keypoints_2d, np.float64)
        if self._t is not None and self._restart(t, keypoints):
            self.reset()
        if self._t is None:
            self._position, self._velocity = pose.copy(), np.zeros_like(pose)
        else:
            dt = t - self._t
            predicted = self._position + self._velocity * dt
            surprise = pose - predicted
            self._position = predicted + self._alpha * surprise
            self._velocity = self._velocity + self._beta / dt * surprise
        self._t, self._keypoints = float(t), keypoints
        steady = self._position - self._position[ROOT]
        if not self.options.bone_history:
            return steady.astype(np.float32)
        lengths = np.linalg.norm(pose[_CHILD] - pose[_PARENT], axis=-1)
        self._lengths[self._count % len(self._lengths)] = (lengths + lengths[_PARTNER]) / 2
        self._count += 1
        median = np.median(self._lengths[:min(self._count, len(self._lengths))], axis=0)
        return with_bone_lengths(steady, median).astype(np.float32)

    def _restart(self, t: float, keypoints: np.ndarray | None) -> bool:
        dt = t - self._t
        if not 0.0 < dt <= self.options.max_gap_s:
            return True
        if keypoints is None or self._keypoints is None:
            return False
        return body_speed_2d(self._keypoints, keypoints, dt) > self.options.jump_speed

    def reset(self) -> None:
        """Forget the history (the next pose passes through, only its left and right bones made equal)."""
        self._t: float | None = None
        self._position = self._velocity = None
        self._keypoints: np.ndarray | None = None
        self._count = 0


class TemporalStage:
    """The pipeline stage that steadies every person's ``joints_3d`` in place, one filter per person id.

    A person id that is not in a frame loses its filter, so a person who comes back starts afresh.

    Args:
        options: ``TemporalOptions`` for every person's filter.
    """

    name = "temporal"

    def __init__(self, options: TemporalOptions | None = None):
        self.options = options or TemporalOptions()
        self._filters: PerPerson[TemporalFilter] = PerPerson(lambda: TemporalFilter(self.options))

    def process(self, result: FrameResult) -> None:
        for person, steadier in self._filters.for_frame(result.people):
            steady = steadier(person.joints_3d, person.keypoints_2d, result.timestamp)
            if steady is not None:
                person.joints_3d = steady

    def reset(self) -> None:
        """Forget every person's history."""
        self._filters.clear()
