"""Rotated regions of interest and the affine crop between the image and a model input.

A :class:`Roi` is a rotated rectangle in image pixels. Its crop maps the rectangle's corners onto
the model input's corners (MediaPipe's ImageToTensorCalculator convention), so a point at
normalised crop position (u, v) in [0, 1]^2 lies in the image at
``centre + R(rotation) @ ((u - 0.5) * width, (v - 0.5) * height)``, which is also how MediaPipe's
LandmarkProjectionCalculator maps landmarks back.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import cv2
import numpy as np

#: Rotation the alignment vector (centre -> scale point) is turned to: "up" in the crop.
TARGET_ANGLE = math.pi / 2
#: Enlargement of the alignment square (RectTransformationCalculator scale_x = scale_y = 1.25).
ROI_SCALE = 1.25


@dataclass(frozen=True)
class Roi:
    """A rotated rectangle in image pixels.

    Attributes:
        cx, cy: centre.
        width, height: side lengths before rotation.
        rotation: radians, clockwise on screen (image y points down), in [-pi, pi).
    """

    cx: float
    cy: float
    width: float
    height: float
    rotation: float = 0.0


def normalize_radians(angle: float) -> float:
    """``angle`` wrapped into [-pi, pi)."""
    return angle - 2 * math.pi * math.floor((angle + math.pi) / (2 * math.pi))


def roi_from_alignment(centre: np.ndarray, scale_point: np.ndarray, scale: float = ROI_SCALE,
                       target_angle: float = TARGET_ANGLE) -> Roi:
    """The square ROI around a body given two alignment points in image pixels.

    MediaPipe's AlignmentPointsRectsCalculator + RectTransformationCalculator(square_long): the
    side is twice the centre -> scale-point distance times ``scale``; the rotation turns the vector
    centre -> scale point to ``target_angle``.

    Args:
        centre: (2,) the body centre (detection keypoint 0 / auxiliary landmark 33: mid-hip).
        scale_point: (2,) the point encoding size and rotation (keypoint 1 / landmark 34).
        scale: enlargement of the square.
        target_angle: angle the alignment vector is rotated to, radians.
    """
    (x0, y0), (x1, y1) = np.asarray(centre, np.float64), np.asarray(scale_point, np.float64)
    side = 2.0 * math.hypot(x1 - x0, y1 - y0) * scale
    rotation = normalize_radians(target_angle - math.atan2(-(y1 - y0), x1 - x0))
    return Roi(float(x0), float(y0), side, side, rotation)


def letterbox_roi(image_width: int, image_height: int,
                  out_size: tuple[int, int]) -> tuple[Roi, tuple[float, float, float, float]]:
    """The unrotated ROI that fits the whole image into ``out_size`` keeping its aspect ratio.

    Args:
        image_width, image_height: the image size in pixels.
        out_size: (width, height) of the model input.

    Returns:
        The ROI (the image, padded to the input's aspect ratio, centred) and the letterbox padding
        (left, top, right, bottom) as fractions of the input.
    """
    out_aspect = out_size[1] / out_size[0]
    roi_aspect = image_height / image_width
    if out_aspect > roi_aspect:
        width, height = float(image_width), image_width * out_aspect
        pad = (1.0 - roi_aspect / out_aspect) / 2.0
        padding = (0.0, pad, 0.0, pad)
    else:
        width, height = image_height / out_aspect, float(image_height)
        pad = (1.0 - out_aspect / roi_aspect) / 2.0
        padding = (pad, 0.0, pad, 0.0)
    return Roi(image_width / 2.0, image_height / 2.0, width, height, 0.0), padding


def crop_to_image_matrix(roi: Roi, out_size: tuple[int, int]) -> np.ndarray:
    """2x3 affine matrix from crop pixels (corner convention) to image pixels.

    Args:
        roi: the region of interest.
        out_size: (width, height) of the crop.
    """
    c, s = math.cos(roi.rotation), math.sin(roi.rotation)
    rot = np.array([[c, -s], [s, c]])
    linear = rot @ np.diag([roi.width / out_size[0], roi.height / out_size[1]])
    offset = np.array([roi.cx, roi.cy]) - rot @ np.array([roi.width / 2, roi.height / 2])
    return np.hstack([linear, offset[:, None]])


def image_to_crop_matrix(roi: Roi, out_size: tuple[int, int]) -> np.ndarray:
    """2x3 affine matrix from image pixels to crop pixels (the inverse of the above)."""
    return cv2.invertAffineTransform(crop_to_image_matrix(roi, out_size))


def apply_affine(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a 2x3 affine ``matrix`` to (..., 2) ``points``."""
    pts = np.asarray(points, np.float64)
    return pts @ matrix[:, :2].T + matrix[:, 2]


def mediapipe_perspective_matrix(roi: Roi, out_size: tuple[int, int]) -> np.ndarray:
    """3x3 image -> crop matrix computed the way MediaPipe's ImageToTensorCalculator does it.

    The ROI's corners (cv2.boxPoints, float32) are mapped onto the crop's corners with
    cv2.getPerspectiveTransform. Equal to :func:`image_to_crop_matrix` up to float32 rounding,
    which matters for bit-exact crops.

    Args:
        roi: the region of interest.
        out_size: (width, height) of the crop.
    """
    f32 = np.float32
    # cv::RotatedRect holds floats; MediaPipe passes the angle as rotation * 180.f / M_PI.
    angle = float(f32(f32(roi.rotation) * f32(180.0)) / math.pi)
    box = ((float(f32(roi.cx)), float(f32(roi.cy))), (float(f32(roi.width)), float(f32(roi.height))), angle)
    src = cv2.boxPoints(box).astype(np.float32)
    w, h = out_size
    dst = np.array([[0, h], [0, 0], [w, 0], [w, h]], np.float32)
    return cv2.getPerspectiveTransform(src, dst)


def fixed_point_maps(matrix: np.ndarray, out_size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """OpenCV fixed-point remap maps (CV_16SC2 + CV_16UC1) of a 3x3 image -> crop matrix.

    Source positions are rounded to 1/32 pixel exactly as OpenCV's classic warpPerspective does
    (before OpenCV 4.11 rewrote it in floating point). MediaPipe's wheel uses that classic code,
    and cv2.remap with these maps reproduces its crops bit for bit; plain cv2.warpAffine of
    OpenCV >= 4.11 differs by +-1 grey level on ~1% of the pixels, which is enough to flip
    borderline detections.

    Args:
        matrix: 3x3 image -> crop matrix.
        out_size: (width, height) of the crop.
    """
    inv = cv2.invert(matrix, flags=cv2.DECOMP_LU)[1]  # as warpPerspective inverts it
    xs = np.arange(out_size[0], dtype=np.float64)[None, :]
    ys = np.arange(out_size[1], dtype=np.float64)[:, None]
    w = inv[2, 0] * xs + inv[2, 1] * ys + inv[2, 2]
    w = np.where(w != 0, 32.0 / np.where(w != 0, w, 1.0), 0.0)
    x = np.rint((inv[0, 0] * xs + inv[0, 1] * ys + inv[0, 2]) * w).astype(np.int64)
    y = np.rint((inv[1, 0] * xs + inv[1, 1] * ys + inv[1, 2]) * w).astype(np.int64)
    whole = np.clip(np.stack([x >> 5, y >> 5], -1), -32768, 32767).astype(np.int16)
    fraction = ((y & 31) * 32 + (x & 31)).astype(np.uint16)
    return whole, fraction


def crop(image: np.ndarray, roi: Roi, out_size: tuple[int, int], border_zero: bool) -> np.ndarray:
    """Warp the ROI of ``image`` to an ``out_size`` crop (bilinear, MediaPipe-exact).

    Args:
        image: (H, W, C) uint8 image.
        roi: the region of interest.
        out_size: (width, height) of the crop.
        border_zero: pad outside the image with zeros (the detector) instead of replicating the
            edge pixels (the landmark model), as the two MediaPipe graphs do.
    """
    border = cv2.BORDER_CONSTANT if border_zero else cv2.BORDER_REPLICATE
    whole, fraction = _cached_maps(roi, tuple(out_size))
    return cv2.remap(image, whole, fraction, cv2.INTER_LINEAR, borderMode=border, borderValue=0)


@functools.lru_cache(maxsize=8)
def _cached_maps(roi: Roi, out_size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    # The detector's letterbox ROI repeats every frame of a video: its maps are built once.
    return fixed_point_maps(mediapipe_perspective_matrix(roi, out_size), out_size)
