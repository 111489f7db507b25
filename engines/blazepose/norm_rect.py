"""MediaPipe's normalised rectangles, computed in float32 exactly as its C++ calculators do.

The landmark model is sensitive: a crop that differs by one grey level in a few pixels can move a
landmark by a pixel and flip a borderline pose-presence decision, and in video mode such a
difference feeds back through the tracking ROI. So the ROI path mirrors MediaPipe step by step in
float32: AlignmentPointsRectsCalculator + RectTransformationCalculator (:func:`rect_from_alignment`),
ImageToTensorCalculator's GetRoi + PadRoi (:func:`pixel_roi`), LandmarkLetterboxRemovalCalculator
+ LandmarkProjectionCalculator (:func:`project_landmarks`). Coordinates are normalised to the image
(x by its width, y by its height) like MediaPipe's NormalizedRect / NormalizedLandmark.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engines.blazepose.roi import ROI_SCALE, Roi, normalize_radians

f32 = np.float32
TARGET_ANGLE_F32 = f32(math.pi * 90.0 / 180.0)


@dataclass(frozen=True)
class NormRect:
    """A rotated rectangle normalised to the image (all float32), MediaPipe's NormalizedRect.

    Attributes:
        x_center, y_center: centre / image width, height.
        width, height: size / image width, height (square in pixels for pose ROIs).
        rotation: radians, clockwise on screen.
    """

    x_center: np.float32
    y_center: np.float32
    width: np.float32
    height: np.float32
    rotation: np.float32

    def to_roi(self, image_width: int, image_height: int) -> Roi:
        """The same rectangle in pixels (float64), for users and the geometry helpers."""
        return Roi(float(self.x_center) * image_width, float(self.y_center) * image_height,
                   float(self.width) * image_width, float(self.height) * image_height, float(self.rotation))


def rect_from_alignment(centre: np.ndarray, scale_point: np.ndarray, image_size: tuple[int, int],
                        scale: float = ROI_SCALE) -> NormRect:
    """The pose ROI from two normalised alignment points (detection keypoints 0, 1 or aux landmarks).

    Args:
        centre: (2,) normalised body centre.
        scale_point: (2,) normalised scale/rotation point.
        image_size: (width, height) in pixels.
        scale: enlargement of the square (1.25).
    """
    w, h = f32(image_size[0]), f32(image_size[1])
    x0, y0 = f32(centre[0]) * w, f32(centre[1]) * h
    x1, y1 = f32(scale_point[0]) * w, f32(scale_point[1]) * h
    box = f32(float(np.sqrt(f32((x1 - x0) * (x1 - x0) + (y1 - y0) * (y1 - y0)))) * 2.0)
    # MediaPipe wraps the angle in double and stores it as float
    rotation = f32(normalize_radians(float(f32(TARGET_ANGLE_F32 - np.arctan2(f32(-(y1 - y0)), f32(x1 - x0))))))
    width, height = box / w, box / h
    long_side = max(width * w, height * h)  # square_long
    s = f32(scale)
    return NormRect(x0 / w, y0 / h, (long_side / w) * s, (long_side / h) * s, rotation)


def pixel_roi(rect: NormRect, image_size: tuple[int, int],
              out_size: tuple[int, int]) -> tuple[Roi, tuple[float, float, float, float]]:
    """The ROI in pixels after MediaPipe's keep-aspect-ratio padding, and that padding.

    Args:
        rect: the normalised ROI.
        image_size: (width, height) of the image.
        out_size: (width, height) of the model input.

    Returns:
        The padded pixel ROI (float32 values) and the letterbox padding (left, top, right, bottom).
    """
    w, h = f32(image_size[0]), f32(image_size[1])
    roi_w, roi_h = rect.width * w, rect.height * h
    tensor_aspect = f32(out_size[1]) / f32(out_size[0])
    roi_aspect = roi_h / roi_w
    if tensor_aspect > roi_aspect:
        new_w, new_h = roi_w, roi_w * tensor_aspect
        v = (f32(1) - roi_aspect / tensor_aspect) / f32(2)
        padding = (0.0, float(v), 0.0, float(v))
    else:
        new_w, new_h = roi_h / tensor_aspect, roi_h
        hp = (f32(1) - tensor_aspect / roi_aspect) / f32(2)
        padding = (float(hp), 0.0, float(hp), 0.0)
    roi = Roi(float(rect.x_center * w), float(rect.y_center * h), float(new_w), float(new_h),
              float(rect.rotation))
    return roi, padding


def project_landmarks(landmarks: np.ndarray, rect: NormRect,
                      padding: tuple[float, float, float, float]) -> np.ndarray:
    """Crop-normalised landmarks -> image-normalised landmarks (float32, MediaPipe's arithmetic).

    Args:
        landmarks: (N, 5) x, y, z (crop units), visibility, presence.
        rect: the normalised ROI the crop came from.
        padding: the letterbox padding of the crop (left, top, right, bottom).

    Returns:
        (N, 5) float32: x, y normalised to the image, z normalised like x, visibility, presence.
    """
    lm = np.asarray(landmarks, f32).copy()
    left, top, right, bottom = (f32(p) for p in padding)
    lr, tb = left + right, top + bottom
    lm[:, 0] = (lm[:, 0] - left) / (f32(1) - lr)
    lm[:, 1] = (lm[:, 1] - top) / (f32(1) - tb)
    lm[:, 2] = lm[:, 2] / (f32(1) - lr)
    x, y = lm[:, 0] - f32(0.5), lm[:, 1] - f32(0.5)
    c, s = np.cos(rect.rotation), np.sin(rect.rotation)
    out = lm.copy()
    out[:, 0] = (c * x - s * y) * rect.width + rect.x_center
    out[:, 1] = (s * x + c * y) * rect.height + rect.y_center
    out[:, 2] = lm[:, 2] * rect.width
    return out
