"""Decoding of the landmark model: 39 landmarks, heatmap refinement, world landmarks, projection.

The full BlazePose landmark model (256x256 RGB crop in [0, 1]) outputs 39 landmarks: the 33 pose
landmarks and 2 auxiliary ones (33 body centre, 34 scale/rotation point, used for tracking) plus 4
unused. Each has (x, y, z) in crop pixels and visibility and presence logits. Semantics of
MediaPipe's TensorsToLandmarksCalculator, RefineLandmarksFromHeatmapCalculator (kernel 9, min
confidence 0.5), LandmarkProjectionCalculator and WorldLandmarkProjectionCalculator.
"""
from __future__ import annotations

import math

import numpy as np

from engines.blazepose.decode import sigmoid
from engines.blazepose.roi import Roi

NUM_LANDMARKS = 33
NUM_MODEL_LANDMARKS = 39
AUX_CENTRE, AUX_SCALE = 33, 34
INPUT_SIZE = (256, 256)
HEATMAP_KERNEL = 9
HEATMAP_MIN_CONFIDENCE = 0.5

#: ONNX output names of the landmark model (tf2onnx keeps the TFLite names).
OUT_LANDMARKS, OUT_PRESENCE, OUT_HEATMAP, OUT_WORLD = "Identity", "Identity_1", "Identity_3", "Identity_4"


def decode_landmarks(raw: np.ndarray, heatmap: np.ndarray | None,
                     input_size: tuple[int, int] = INPUT_SIZE) -> np.ndarray:
    """Raw landmark tensor -> (39, 5) landmarks normalised to the crop, refined by the heatmap.

    Args:
        raw: (195,) (x, y, z, visibility logit, presence logit) per landmark, in crop pixels.
        heatmap: (64, 64, 39) heatmap logits, or None to skip the refinement.
        input_size: (width, height) of the crop; x and z are divided by the width, y by the height.

    Returns:
        (39, 5) float32: x, y in [0, 1] of the crop, z in crop widths, visibility, presence.
    """
    lm = np.asarray(raw, np.float32).reshape(NUM_MODEL_LANDMARKS, 5).copy()
    lm[:, 0] /= input_size[0]
    lm[:, 1] /= input_size[1]
    lm[:, 2] /= input_size[0]
    lm[:, 3:5] = sigmoid(lm[:, 3:5])
    if heatmap is not None:
        refine_from_heatmap(lm, np.asarray(heatmap, np.float32))
    return lm


def refine_from_heatmap(landmarks: np.ndarray, heatmap: np.ndarray,
                        kernel: int = HEATMAP_KERNEL, min_confidence: float = HEATMAP_MIN_CONFIDENCE) -> None:
    """Move each landmark to the confidence-weighted mean of the heatmap around it (in place).

    A landmark is refined only when the largest sigmoid confidence inside the kernel is at least
    ``min_confidence``. Mirrors MediaPipe, including its bounds check, which tests the column
    against the heatmap height instead of testing the row (harmless on square heatmaps except
    just below the crop, where MediaPipe refines with a clipped window; we do the same).

    Args:
        landmarks: (N, >=2) normalised crop coordinates, changed in place.
        heatmap: (H, W, N) logits.
        kernel: odd window size in heatmap cells.
        min_confidence: refinement threshold.
    """
    hm_h, hm_w, channels = heatmap.shape
    offset = (kernel - 1) // 2
    for i in range(min(channels, landmarks.shape[0])):
        col = int(landmarks[i, 0] * hm_w)  # C++ float -> int truncates toward zero
        row = int(landmarks[i, 1] * hm_h)
        if col < 0 or col >= hm_w or row < 0 or col >= hm_h:
            continue
        r0, r1 = max(0, row - offset), min(hm_h, row + offset + 1)
        c0, c1 = max(0, col - offset), min(hm_w, col + offset + 1)
        if r0 >= r1 or c0 >= c1:
            continue
        conf = sigmoid(heatmap[r0:r1, c0:c1, i])
        total = float(conf.sum())
        if conf.max() >= min_confidence and total > 0:
            # index vectors broadcast over the window: the same products and sums as full index grids
            landmarks[i, 0] = float((np.arange(c0, c1) * conf).sum()) / hm_w / total
            landmarks[i, 1] = float((np.arange(r0, r1)[:, None] * conf).sum()) / hm_h / total


def project_to_image(landmarks: np.ndarray, roi: Roi) -> np.ndarray:
    """Crop-normalised landmarks -> image pixels (x, y), z in pixels, visibility, presence.

    Args:
        landmarks: (N, 5) output of :func:`decode_landmarks`.
        roi: the ROI the crop was taken from.

    Returns:
        (N, 5) float32: x px, y px, z px (scaled like x: crop widths times the ROI width in pixels;
        MediaPipe's normalised z is this divided by the image width), visibility, presence.
    """
    c, s = math.cos(roi.rotation), math.sin(roi.rotation)
    u = landmarks[:, 0] - 0.5
    v = landmarks[:, 1] - 0.5
    out = np.empty_like(landmarks, dtype=np.float32)
    out[:, 0] = roi.cx + (c * u * roi.width - s * v * roi.height)
    out[:, 1] = roi.cy + (s * u * roi.width + c * v * roi.height)
    out[:, 2] = landmarks[:, 2] * roi.width
    out[:, 3:5] = landmarks[:, 3:5]
    return out


def decode_world_landmarks(raw: np.ndarray, roi: Roi) -> np.ndarray:
    """Raw world landmarks -> (33, 3) metres, hip-centred, rotated by the ROI's rotation.

    Args:
        raw: (117,) (x, y, z) per model landmark, metres, in the crop's orientation.
        roi: the ROI the crop was taken from (its rotation is undone, as MediaPipe does).
    """
    world = np.asarray(raw, np.float32).reshape(NUM_MODEL_LANDMARKS, 3)[:NUM_LANDMARKS].copy()
    c, s = math.cos(roi.rotation), math.sin(roi.rotation)
    x, y = world[:, 0].copy(), world[:, 1].copy()
    world[:, 0] = c * x - s * y
    world[:, 1] = s * x + c * y
    return world
