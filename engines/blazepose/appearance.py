"""What a person looks like, to tell people apart when their tracks meet: the colours of their torso.

Positions alone cannot say who is who after two people crossed; clothes usually can. The histogram is
hue and saturation (not brightness: a person walking past a window changes brightness, not colour).
"""
from __future__ import annotations

import cv2
import numpy as np

#: BlazePose landmarks of the torso (shoulders and hips), whose colours identify a person.
TORSO = (11, 12, 24, 23)


def torso_histogram(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray | None:
    """A normalised hue-saturation histogram of the middle of the torso (the quadrilateral of shoulders
    and hips shrunk to half its size about its centre: its edges are where somebody in front or behind
    shows through)."""
    corners = landmarks[list(TORSO), :2].astype(np.float64)
    quad = np.round(corners.mean(axis=0) + 0.5 * (corners - corners.mean(axis=0))).astype(np.int32)
    # Only the quadrilateral's bounding box of the image is converted (it runs per person per frame).
    h, w = image.shape[:2]
    x0, y0 = np.clip(quad.min(axis=0), 0, [w, h])
    x1, y1 = np.clip(quad.max(axis=0) + 1, 0, [w, h])
    if x1 <= x0 or y1 <= y0:
        return None
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillConvexPoly(mask, quad - [x0, y0], 255)
    if cv2.countNonZero(mask) < 30:
        return None
    hsv = cv2.cvtColor(np.ascontiguousarray(image[y0:y1, x0:x1]), cv2.COLOR_BGR2HSV)
    hist = cv2.calcHist([hsv], [0, 1], mask, [12, 8], [0, 180, 0, 256]).ravel()
    return hist / max(float(hist.sum()), 1e-9)


def colour_distance(a: np.ndarray | None, b: np.ndarray | None) -> float:
    """Bhattacharyya distance of two histograms in [0, 1] (0.5 when one is unknown)."""
    if a is None or b is None:
        return 0.5
    return float(cv2.compareHist(a.astype(np.float32), b.astype(np.float32), cv2.HISTCMP_BHATTACHARYYA))
