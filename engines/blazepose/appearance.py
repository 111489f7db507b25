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
    mask = np.zeros(image.shape[:2], np.uint8)
    cv2.fillConvexPoly(mask, quad, 255)
    if cv2.countNonZero(mask) < 30:
        return None
    hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
    hist = cv2.calcHist([hsv], [0, 1], mask, [12, 8], [0, 180, 0, 256]).ravel()
    return hist / max(float(hist.sum()), 1e-9)


def colour_distance(a: np.ndarray | None, b: np.ndarray | None) -> float:
    """Bhattacharyya distance of two histograms in [0, 1] (0.5 when one is unknown)."""
    if a is None or b is None:
        return 0.5
    return float(cv2.compareHist(a.astype(np.float32), b.astype(np.float32), cv2.HISTCMP_BHATTACHARYYA))
