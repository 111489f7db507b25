"""Metric scale of the lifted pose: the paper's bone-length calibration, and an online estimate.

SemGCN (Sect. 5.2) calibrates the scale of its output so that the sum of all 3D bone lengths equals
that of a canonical skeleton. Here the canonical skeleton is built from a subject height with standard
anthropometric proportions (segment lengths as fractions of body height, after Drillis & Contini /
Winter's "Biomechanics and Motor Control of Human Movement"), in this project's 16-joint layout
(``head`` is the head centre at ear level, not the top of the skull).

Without a height, the scale can be estimated online when a metric floor plane is known (a board laid
on the floor): the feet touch the floor, which fixes how far away, hence how large, the person is.
"""
from __future__ import annotations

from collections import deque

import numpy as np

from semgcn.skeleton import JOINT_INDEX, NUM_JOINTS, bone_lengths

#: Height assumed for "canonical" scale when no subject height is given (metres).
DEFAULT_HEIGHT_M = 1.70

# Segment proportions of body height (y up, x toward the subject's left, facing the camera).
_HIP_HALF_WIDTH = 0.072
_THIGH = 0.245
_SHANK = 0.246
_PELVIS_HEIGHT = 0.530          # hip joint centres above the floor
_HALF_TRUNK = 0.144             # pelvis -> spine and spine -> thorax (thorax = mid-shoulders, 0.818 H)
_NECK_TO_HEAD_CENTRE = 0.107    # thorax -> head centre at ear level (0.925 H)
_SHOULDER_HALF_WIDTH = 0.130
_UPPER_ARM = 0.186
_FOREARM = 0.146
#: Ankle joint centre above the floor, as a fraction of body height.
ANKLE_HEIGHT_FRACTION = _PELVIS_HEIGHT - _THIGH - _SHANK
#: The two ankle joints (right, left), the body's floor contacts.
ANKLES = [JOINT_INDEX["right_ankle"], JOINT_INDEX["left_ankle"]]


def canonical_pose(height_m: float = DEFAULT_HEIGHT_M) -> np.ndarray:
    """A standing canonical skeleton facing the camera, (16, 3) metres, camera axes, pelvis at origin.

    Args:
        height_m: body height in metres (floor to top of the head).
    """
    up = {  # (x, y) in body units, y up; the subject's left is the camera's right (+x)
        "pelvis": (0, 0),
        "right_hip": (-_HIP_HALF_WIDTH, 0), "right_knee": (-_HIP_HALF_WIDTH, -_THIGH),
        "right_ankle": (-_HIP_HALF_WIDTH, -_THIGH - _SHANK),
        "left_hip": (_HIP_HALF_WIDTH, 0), "left_knee": (_HIP_HALF_WIDTH, -_THIGH),
        "left_ankle": (_HIP_HALF_WIDTH, -_THIGH - _SHANK),
        "spine": (0, _HALF_TRUNK), "thorax": (0, 2 * _HALF_TRUNK),
        "head": (0, 2 * _HALF_TRUNK + _NECK_TO_HEAD_CENTRE),
        "left_shoulder": (_SHOULDER_HALF_WIDTH, 2 * _HALF_TRUNK),
        "left_elbow": (_SHOULDER_HALF_WIDTH, 2 * _HALF_TRUNK - _UPPER_ARM),
        "left_wrist": (_SHOULDER_HALF_WIDTH, 2 * _HALF_TRUNK - _UPPER_ARM - _FOREARM),
        "right_shoulder": (-_SHOULDER_HALF_WIDTH, 2 * _HALF_TRUNK),
        "right_elbow": (-_SHOULDER_HALF_WIDTH, 2 * _HALF_TRUNK - _UPPER_ARM),
        "right_wrist": (-_SHOULDER_HALF_WIDTH, 2 * _HALF_TRUNK - _UPPER_ARM - _FOREARM),
    }
    pose = np.zeros((NUM_JOINTS, 3))
    for name, (x, y) in up.items():
        pose[JOINT_INDEX[name]] = (x, -y, 0.0)  # camera y points down
    return pose * float(height_m)


#: Sum of the 15 bone lengths of the canonical skeleton per metre of body height (about 2.45).
BONE_SUM_PER_HEIGHT = float(bone_lengths(canonical_pose(1.0)).sum())


def bone_sum_for_height(height_m: float) -> float:
    """Sum of bone lengths (metres) of the canonical skeleton of a person ``height_m`` tall."""
    return BONE_SUM_PER_HEIGHT * float(height_m)


def height_for_bone_sum(bone_sum_m: float) -> float:
    """Body height (metres) whose canonical skeleton has this bone-length sum."""
    return float(bone_sum_m) / BONE_SUM_PER_HEIGHT


def ankle_height_for(joints: np.ndarray) -> float:
    """Ankle joint centre above the sole (metres) for a skeleton of the size of ``joints`` (16, 3)."""
    return ANKLE_HEIGHT_FRACTION * height_for_bone_sum(bone_lengths(joints).sum())


def scale_to_height(joints: np.ndarray, height_m: float) -> float:
    """Factor that makes the bone-length sum of ``joints`` (16, 3) equal the canonical one for ``height_m``."""
    total = float(bone_lengths(np.asarray(joints, dtype=np.float64)).sum())
    if not np.isfinite(total) or total <= 1e-6:
        return float("nan")
    return bone_sum_for_height(height_m) / total


class FloorScaleEstimator:
    """Online metric scale from a metric floor plane: the lower ankle rests on the floor.

    For a pose ``P`` (any scale) and its fitted translation ``T``, the scene ``s (P + T)`` projects to
    the same image for every ``s``. The lower ankle ``q = P_a + T`` must sit one ankle height above the
    floor ``n . p + d = 0`` (metric): ``s (n . q) + d = s * a`` with ``a`` the ankle height for the
    pose's own size, so ``s = -d / (n . q - a)``. A running median over frames ignores jumps and
    frames where the feet are off the floor.

    Args:
        window: number of recent per-frame estimates the median runs over.
        min_samples: estimates needed before ``factor`` answers.
    """

    def __init__(self, window: int = 90, min_samples: int = 10):
        self._samples: deque[float] = deque(maxlen=window)
        self.min_samples = min_samples

    def add(self, joints_rel: np.ndarray, translation: np.ndarray, normal: np.ndarray, offset_m: float) -> None:
        """Add one frame: pose (16, 3) with its fitted translation (3,), and the metric floor plane."""
        q = np.asarray(joints_rel)[ANKLES] + translation
        heights = q @ normal
        denom = float(heights.min()) - ankle_height_for(joints_rel)
        if denom < -1e-6:  # the floor is below the feet, on the far side from the camera
            s = -offset_m / denom
            if np.isfinite(s) and 0.05 < s < 20.0:
                self._samples.append(s)

    @property
    def factor(self) -> float | None:
        """The current scale factor, or None before ``min_samples`` frames."""
        if len(self._samples) < self.min_samples:
            return None
        return float(np.median(self._samples))

    def reset(self) -> None:
        self._samples.clear()
