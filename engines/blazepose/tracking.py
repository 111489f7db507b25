"""Landmark smoothing between video frames, as MediaPipe's PoseLandmarkFiltering graph does it.

Landmarks are image-normalised (MediaPipe's NormalizedLandmark); each filter works on pixels
(x * width, y * height, z * width) and the result is normalised back, in float32 like MediaPipe.
Per frame, with the object scale taken as the side of the alignment square of the *raw*
auxiliary landmarks (twice the distance centre -> scale point, in pixels):

* auxiliary landmarks (which give the next frame's ROI): One Euro, min_cutoff 0.01, beta 10,
  always on in video mode;
* the 33 landmarks (when smoothing is on): visibility low-pass alpha 0.1, then One Euro on
  x, y, z with min_cutoff 0.05, beta 80, speed in object sizes per second;
* world landmarks (when smoothing is on): One Euro min_cutoff 0.1, beta 40, speed unscaled.

The position filters reset when a frame has no pose; the visibility low-pass does not (in
MediaPipe's graph it only runs on frames that have landmarks), only :meth:`LandmarkSmoother.reset` does.
"""
from __future__ import annotations

import numpy as np

from engines.one_euro import LowPassFilter, OneEuroFilter

f32 = np.float32
#: MediaPipe's min_allowed_object_scale: below it the landmarks pass unfiltered.
MIN_OBJECT_SCALE = 1e-6


def object_scale(aux: np.ndarray, image_size: tuple[int, int]) -> np.float32:
    """Object size in pixels: mean side of the alignment rectangle of the 2 normalised aux points."""
    w, h = f32(image_size[0]), f32(image_size[1])
    dx = f32(aux[1, 0]) * w - f32(aux[0, 0]) * w
    dy = f32(aux[1, 1]) * h - f32(aux[0, 1]) * h
    box = f32(float(np.sqrt(f32(dx * dx + dy * dy))) * 2.0)
    return ((box / w) * w + (box / h) * h) / f32(2)


def _filter_normalised(filt: OneEuroFilter, points: np.ndarray, image_size, timestamp: float,
                       value_scale: float) -> np.ndarray:
    scale = np.array([image_size[0], image_size[1], image_size[0]], f32)
    absolute = points[:, :3].astype(f32) * scale
    filtered = filt(absolute.astype(np.float64), timestamp, value_scale).astype(f32)
    out = points.copy()
    out[:, :3] = filtered / scale
    return out


class LandmarkSmoother:
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

    def lost(self) -> None:
        """The pose was lost: restart the position filters (visibility keeps its state)."""
        for f in (self.aux, self.landmarks, self.world):
            f.reset()

    def reset(self) -> None:
        """Forget every history (a new video)."""
        self.lost()
        self.visibility.reset()

    def __call__(self, landmarks: np.ndarray, aux: np.ndarray, world: np.ndarray | None,
                 timestamp: float, image_size: tuple[int, int]):
        """Smooth one frame.

        Args:
            landmarks: (33, 5) image-normalised x, y, z, visibility, presence.
            aux: (2, 5) auxiliary landmarks, same layout.
            world: (33, 3) metres, or None.
            timestamp: seconds.
            image_size: (width, height) in pixels.

        Returns:
            (landmarks, aux, world) smoothed, float32, same shapes.
        """
        scale = object_scale(aux, image_size)
        if not scale >= MIN_OBJECT_SCALE:
            return landmarks, aux, world
        value_scale = float(f32(1) / scale)
        aux = _filter_normalised(self.aux, aux, image_size, timestamp, value_scale)
        if not self.smooth_landmarks:
            return landmarks, aux, world
        landmarks = landmarks.copy()
        landmarks[:, 3] = self.visibility(landmarks[:, 3]).astype(f32)
        landmarks = _filter_normalised(self.landmarks, landmarks, image_size, timestamp, value_scale)
        if world is not None:
            world = self.world(world.astype(np.float64), timestamp, 1.0).astype(f32)
        return landmarks, aux, world
