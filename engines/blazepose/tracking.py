"""Landmark smoothing between video frames, as MediaPipe's PoseLandmarkFiltering graph does it.

Per frame, with the object scale taken as the side of the alignment square of the *raw*
auxiliary landmarks (twice the distance centre -> scale point, in pixels):

* auxiliary landmarks (which give the next frame's ROI): One Euro, min_cutoff 0.01, beta 10,
  always on in video mode;
* the 33 landmarks (when smoothing is on): visibility low-pass alpha 0.1, then One Euro on
  x, y, z in pixels with min_cutoff 0.05, beta 80, speed in object sizes per second;
* world landmarks (when smoothing is on): One Euro min_cutoff 0.1, beta 40, speed unscaled.

Every filter is reset when a frame has no pose, so smoothing restarts after a re-detection.
"""
from __future__ import annotations

import math

import numpy as np

from engines.one_euro import LowPassFilter, OneEuroFilter

#: MediaPipe's min_allowed_object_scale: below it the landmarks pass unfiltered.
MIN_OBJECT_SCALE = 1e-6


def object_scale(aux_xy: np.ndarray) -> float:
    """Side in pixels of the alignment square of the two auxiliary landmarks (2, >=2)."""
    dx, dy = aux_xy[1, 0] - aux_xy[0, 0], aux_xy[1, 1] - aux_xy[0, 1]
    return 2.0 * math.hypot(float(dx), float(dy))


class PoseSmoother:
    """Smooths one person's landmarks across frames.

    Args:
        smooth_landmarks: smooth the 33 landmarks and the world landmarks (the auxiliary
            landmarks, which only steer the tracking ROI, are smoothed regardless).
    """

    def __init__(self, smooth_landmarks: bool = True):
        self.smooth_landmarks = smooth_landmarks
        self.aux = OneEuroFilter(min_cutoff=0.01, beta=10.0, derivate_cutoff=1.0)
        self.landmarks = OneEuroFilter(min_cutoff=0.05, beta=80.0, derivate_cutoff=1.0)
        self.world = OneEuroFilter(min_cutoff=0.1, beta=40.0, derivate_cutoff=1.0)
        self.visibility = LowPassFilter(alpha=0.1)

    def reset(self) -> None:
        """Forget every history (no pose in this frame, or a new video)."""
        for f in (self.aux, self.landmarks, self.world, self.visibility):
            f.reset()

    def __call__(self, landmarks: np.ndarray, aux: np.ndarray, world: np.ndarray | None,
                 timestamp: float) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Smooth one frame.

        Args:
            landmarks: (33, 5) x px, y px, z px, visibility, presence.
            aux: (2, 5) auxiliary landmarks, same layout.
            world: (33, 3) metres, or None.
            timestamp: seconds.

        Returns:
            (landmarks, aux, world) smoothed, float32, same shapes.
        """
        scale = object_scale(aux)
        if scale < MIN_OBJECT_SCALE:
            return landmarks, aux, world
        aux = aux.copy()
        aux[:, :3] = self.aux(aux[:, :3], timestamp, 1.0 / scale)
        if not self.smooth_landmarks:
            return landmarks, aux.astype(np.float32), world
        landmarks = landmarks.copy()
        landmarks[:, 3] = self.visibility(landmarks[:, 3])
        landmarks[:, :3] = self.landmarks(landmarks[:, :3], timestamp, 1.0 / scale)
        if world is not None:
            world = self.world(world, timestamp, 1.0).astype(np.float32)
        return landmarks.astype(np.float32), aux.astype(np.float32), world
