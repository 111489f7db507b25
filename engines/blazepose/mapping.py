"""BlazePose-33 landmarks -> the canonical 16 joints of shared/SKELETON.md, with a confidence each.

A joint is either one BlazePose landmark or the midpoint of two points; its confidence is the
minimum of its sources' confidences, a source's confidence being min(visibility, presence) of the
landmark (both are probabilities from the landmark model). Joint names come from semgcn.skeleton.
"""
from __future__ import annotations

import numpy as np

from semgcn.skeleton import JOINT_INDEX, JOINT_NAMES, NUM_JOINTS

#: BlazePose landmark indices used by the canonical skeleton.
BLAZEPOSE = {
    "left_ear": 7, "right_ear": 8, "left_shoulder": 11, "right_shoulder": 12, "left_elbow": 13,
    "right_elbow": 14, "left_wrist": 15, "right_wrist": 16, "left_hip": 23, "right_hip": 24,
    "left_knee": 25, "right_knee": 26, "left_ankle": 27, "right_ankle": 28,
}

#: Each canonical joint as the BlazePose landmarks it averages (one index = that landmark).
#: spine = mid(pelvis, thorax) = the mean of both hips and both shoulders.
SOURCES: dict[str, tuple[int, ...]] = {
    "pelvis": (BLAZEPOSE["left_hip"], BLAZEPOSE["right_hip"]),
    "right_hip": (BLAZEPOSE["right_hip"],),
    "right_knee": (BLAZEPOSE["right_knee"],),
    "right_ankle": (BLAZEPOSE["right_ankle"],),
    "left_hip": (BLAZEPOSE["left_hip"],),
    "left_knee": (BLAZEPOSE["left_knee"],),
    "left_ankle": (BLAZEPOSE["left_ankle"],),
    "spine": (BLAZEPOSE["left_hip"], BLAZEPOSE["right_hip"],
              BLAZEPOSE["left_shoulder"], BLAZEPOSE["right_shoulder"]),
    "thorax": (BLAZEPOSE["left_shoulder"], BLAZEPOSE["right_shoulder"]),
    "head": (BLAZEPOSE["left_ear"], BLAZEPOSE["right_ear"]),
    "left_shoulder": (BLAZEPOSE["left_shoulder"],),
    "left_elbow": (BLAZEPOSE["left_elbow"],),
    "left_wrist": (BLAZEPOSE["left_wrist"],),
    "right_shoulder": (BLAZEPOSE["right_shoulder"],),
    "right_elbow": (BLAZEPOSE["right_elbow"],),
    "right_wrist": (BLAZEPOSE["right_wrist"],),
}
assert set(SOURCES) == set(JOINT_NAMES)

#: (16, 33) averaging matrix: canonical = MAPPING_MATRIX @ blazepose.
MAPPING_MATRIX = np.zeros((NUM_JOINTS, 33), np.float32)
for _name, _src in SOURCES.items():
    MAPPING_MATRIX[JOINT_INDEX[_name], list(_src)] = 1.0 / len(_src)
#: (16, 4) sources of each joint, padded by repeating them (which leaves their minimum alone).
_SOURCE_INDEX = np.array([(SOURCES[n] * 4)[:4] for n in JOINT_NAMES], np.intp)


def blazepose_to_canonical(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Map BlazePose landmarks to the canonical skeleton.

    Args:
        landmarks: (33, 5) x, y, z, visibility, presence (or (33, 2+) positions only, then every
            confidence is 1).

    Returns:
        keypoints (16, 2) float32 (same units as the input x, y) and confidence (16,) float32.
    """
    landmarks = np.asarray(landmarks, np.float32)
    if landmarks.ndim != 2 or landmarks.shape[0] != 33 or landmarks.shape[1] < 2:
        raise ValueError(f"expected BlazePose landmarks of shape (33, >=2), got {landmarks.shape}")
    keypoints = (MAPPING_MATRIX @ landmarks[:, :2]).astype(np.float32)
    if landmarks.shape[1] >= 5:
        source_conf = np.minimum(landmarks[:, 3], landmarks[:, 4])
    else:
        source_conf = np.ones(33, np.float32)
    confidence = source_conf[_SOURCE_INDEX].min(axis=1).astype(np.float32, copy=False)
    return keypoints, confidence
