"""Orientations of the head, hands and feet from BlazePose's 33 landmarks, where the 16 joints say nothing.

The 16 joints fix where each bone points, not how it turns about itself, and say nothing of the head,
hands and feet beyond where they start. BlazePose's landmarks do: the face (nose, eyes, ears, mouth)
gives the head's frame, wrist / pinky / index / thumb the hand's, heel / foot index / ankle the foot's.

The landmarks are another model's 3D (BlazePose's world landmarks, metres about the hips; or the image
landmarks, whose z has the scale of x), in axes close to but not the same as the solver's. So each part's
frame is built in landmark space and brought over in two steps: the rotation that best aligns the
landmark body (shoulders, elbows, wrists, hips, knees, ankles) with the solver's joints (weighted
Kabsch), then the shortest arc that turns the part's parent segment (neck, forearm, shank) as the
landmarks see it onto the solver's own. What survives is the part's turn *relative to its parent*,
which both models agree on far better than on absolute directions.

Each part comes with a weight in [0, 1] from the visibility of its landmarks (a smooth ramp between
``lo`` and ``hi``): 0 means "not seen", and the solver then falls back to swing-only rotations.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from semgcn.skeleton import JOINT_INDEX as J
from semgcn.solver.geometry import frame_from, kabsch, rotation_between, smoothstep
from semgcn.solver.rig import FORWARD, LEFT, RIGHT, UP

# BlazePose landmark indices.
NOSE, L_EYE, R_EYE, L_EAR, R_EAR, MOUTH_L, MOUTH_R = 0, 2, 5, 7, 8, 9, 10
L_SHOULDER, R_SHOULDER, L_ELBOW, R_ELBOW, L_WRIST, R_WRIST = 11, 12, 13, 14, 15, 16
L_PINKY, R_PINKY, L_INDEX, R_INDEX, L_THUMB, R_THUMB = 17, 18, 19, 20, 21, 22
L_HIP, R_HIP, L_KNEE, R_KNEE, L_ANKLE, R_ANKLE = 23, 24, 25, 26, 27, 28
L_HEEL, R_HEEL, L_FOOT, R_FOOT = 29, 30, 31, 32
NUM_LANDMARKS = 33

#: Landmark -> canonical joint, for aligning the landmark body with the solver's joints.
BODY_PAIRS: tuple[tuple[int, int], ...] = (
    (L_SHOULDER, J["left_shoulder"]), (R_SHOULDER, J["right_shoulder"]), (L_ELBOW, J["left_elbow"]),
    (R_ELBOW, J["right_elbow"]), (L_WRIST, J["left_wrist"]), (R_WRIST, J["right_wrist"]),
    (L_HIP, J["left_hip"]), (R_HIP, J["right_hip"]), (L_KNEE, J["left_knee"]), (R_KNEE, J["right_knee"]),
    (L_ANKLE, J["left_ankle"]), (R_ANKLE, J["right_ankle"]),
)


@dataclass
class PartOrientation:
    """A part's measured frame in the solver frame (identity = its T-pose orientation) and its weight."""

    frame: np.ndarray
    weight: float


@dataclass(frozen=True)
class PartRule:
    """How a part's frame is read from landmarks.

    Attributes:
        primary: (from, to) landmark lists whose mean difference is the exact axis ``primary_rest``.
        secondary: (from, to) landmark lists giving the second axis ``secondary_rest``.
        parent: (from joints, to joints) of the parent segment in the solver's joints, and the
            landmarks of the same segment: ``((j_from, j_to), (l_from, l_to))``.
        landmarks: every landmark used (their visibilities give the weight).
    """

    primary: tuple[tuple[int, ...], tuple[int, ...]]
    primary_rest: np.ndarray
    secondary: tuple[tuple[int, ...], tuple[int, ...]]
    secondary_rest: np.ndarray
    parent: tuple[tuple[int, int], tuple[tuple[int, ...], tuple[int, ...]]]
    landmarks: tuple[int, ...]


def _hand(wrist, pinky, index, thumb, elbow, rest_axis, j_elbow, j_wrist) -> PartRule:
    # along the hand: wrist -> between index and pinky; across it: pinky -> index and thumb (forward,
    # palms down at rest, for both hands)
    return PartRule(((wrist,), (index, pinky)), rest_axis, ((pinky,), (index, thumb)), FORWARD,
                    ((j_elbow, j_wrist), ((elbow,), (wrist,))), (wrist, pinky, index, thumb))


def _foot(heel, toe, ankle, knee, j_knee, j_ankle) -> PartRule:
    # heel -> toe is forward at rest, heel -> ankle up
    return PartRule(((heel,), (toe,)), FORWARD, ((heel,), (ankle,)), UP,
                    ((j_knee, j_ankle), ((knee,), (ankle,))), (heel, toe, ankle))


RULES: dict[str, PartRule] = {
    # right ear -> left ear (and eyes, mouth corners) is the head's +x; ears -> eyes forward (the eyes
    # are near ear height in a level head, the nose well below: it would tilt the frame ~15 degrees)
    "Head": PartRule(((R_EAR, R_EYE, MOUTH_R), (L_EAR, L_EYE, MOUTH_L)), LEFT, ((L_EAR, R_EAR), (L_EYE, R_EYE)),
                     FORWARD,
                     ((J["thorax"], J["head"]), ((L_SHOULDER, R_SHOULDER), (L_EAR, R_EAR))),
                     (NOSE, L_EYE, R_EYE, L_EAR, R_EAR, MOUTH_L, MOUTH_R)),
    "LeftHand": _hand(L_WRIST, L_PINKY, L_INDEX, L_THUMB, L_ELBOW, LEFT, J["left_elbow"], J["left_wrist"]),
    "RightHand": _hand(R_WRIST, R_PINKY, R_INDEX, R_THUMB, R_ELBOW, RIGHT, J["right_elbow"], J["right_wrist"]),
    "LeftFoot": _foot(L_HEEL, L_FOOT, L_ANKLE, L_KNEE, J["left_knee"], J["left_ankle"]),
    "RightFoot": _foot(R_HEEL, R_FOOT, R_ANKLE, R_KNEE, J["right_knee"], J["right_ankle"]),
}


@dataclass
class PartOptions:
    """Visibility ramp: a part's weight rises from 0 at ``lo`` to 1 at ``hi`` (its least visible landmark)."""

    lo: float = 0.4
    hi: float = 0.75


def part_orientations(points: np.ndarray, visibility: np.ndarray | None, joints: np.ndarray,
                      options: PartOptions | None = None) -> dict[str, PartOrientation]:
    """The measured frames of the head, hands and feet, in the solver frame of ``joints``.

    Args:
        points: ``(33, 3)`` landmark positions (world landmarks, or image x, y, z), any scale, axes
            roughly the camera's.
        visibility: ``(33,)`` BlazePose visibility (None: all visible).
        joints: ``(16, 3)`` the solver's input joints (solver frame).
    Returns:
        part name -> :class:`PartOrientation`, for the parts whose weight is above 0 (empty when the
        landmarks cannot be aligned with the body).
    """
    options = options or PartOptions()
    points = np.asarray(points, dtype=np.float64)
    if points.shape != (NUM_LANDMARKS, 3) or not np.all(np.isfinite(points)):
        return {}
    vis = np.ones(NUM_LANDMARKS) if visibility is None else np.nan_to_num(np.asarray(visibility, np.float64))
    lm_idx, j_idx = zip(*BODY_PAIRS)
    align = kabsch(points[list(lm_idx)], joints[list(j_idx)], np.clip(vis[list(lm_idx)], 0.05, 1.0))
    if align is None:
        return {}
    found, directions = {}, _part_frames(points)
    for name, rule in RULES.items():
        weight = smoothstep(float(vis[list(rule.landmarks)].min()), options.lo, options.hi)
        frame = _part_frame(directions[name], rule, align, joints) if weight > 0 else None
        if frame is not None:
            found[name] = PartOrientation(frame, weight)
    return found


def _difference_row(pair: tuple[tuple[int, ...], tuple[int, ...]]) -> np.ndarray:
    """Weights over the 33 landmarks whose dot with the points is mean(pair[1]) - mean(pair[0])."""
    row = np.zeros(NUM_LANDMARKS)
    for idx, sign in ((pair[0], -1.0), (pair[1], 1.0)):
        for i in idx:
            row[i] += sign / len(idx)
    return row


#: The three directions of every part (primary, secondary, parent segment) as one (15, 33) matrix, so
#: a frame's are a single product instead of 45 small means.
_DIRECTIONS = np.array([_difference_row(pair) for rule in RULES.values()
                        for pair in (rule.primary, rule.secondary, rule.parent[1])])


def _part_frames(points: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    d = _DIRECTIONS @ points
    return {name: (d[3 * k], d[3 * k + 1], d[3 * k + 2]) for k, name in enumerate(RULES)}


def _part_frame(directions: tuple[np.ndarray, np.ndarray, np.ndarray], rule: PartRule, align: np.ndarray,
                joints: np.ndarray) -> np.ndarray | None:
    primary, secondary, segment = directions
    frame = frame_from(primary, rule.primary_rest, secondary, rule.secondary_rest)
    if frame is None:
        return None
    j_from, j_to = rule.parent[0]
    correction = rotation_between(align @ segment, joints[j_to] - joints[j_from])
    return correction @ align @ frame
