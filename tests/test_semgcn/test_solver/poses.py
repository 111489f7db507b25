"""Poses made with the rig itself, whose rotations are therefore known: plausible local rotations
(elbows and knees bending about their hinges, twists within the limits), and the BlazePose landmarks
such a body would show (face, hands and feet from small templates)."""
from __future__ import annotations

import math

import numpy as np
from scipy.spatial.transform import Rotation

from semgcn.skeleton import JOINT_INDEX as J
from semgcn.solver import parts as P
from semgcn.solver.geometry import axis_angle
from semgcn.solver.pose import forward_kinematics
from semgcn.solver.rig import BONE_INDEX, JOINT_BONE, rest_offsets

X, Y, Z = np.eye(3)
LENGTHS = np.zeros(16)
for _name, _length in {"right_hip": 0.1, "right_knee": 0.42, "right_ankle": 0.41, "left_hip": 0.1, "left_knee": 0.42,
                       "left_ankle": 0.41, "spine": 0.24, "thorax": 0.24, "head": 0.18, "left_shoulder": 0.18,
                       "left_elbow": 0.29, "left_wrist": 0.25, "right_shoulder": 0.18, "right_elbow": 0.29,
                       "right_wrist": 0.25}.items():
    LENGTHS[J[_name]] = _length
REST = rest_offsets(LENGTHS)


def random_locals(rng: np.random.Generator, bend: tuple[float, float] = (0.5, 2.0)) -> np.ndarray:
    """``(19, 3, 3)`` local rotations of a plausible pose: hinges flex by ``bend`` radians."""
    u = rng.uniform
    local = np.tile(np.eye(3), (19, 1, 1))
    local[BONE_INDEX["Hips"]] = Rotation.from_euler("YXZ", [u(-3, 3), u(-0.3, 0.5), u(-0.2, 0.2)]).as_matrix()
    local[BONE_INDEX["Spine"]] = axis_angle(X, u(-0.2, 0.4)) @ axis_angle(Y, u(-0.2, 0.2))
    local[BONE_INDEX["Chest"]] = axis_angle(Y, u(-0.2, 0.2))
    local[BONE_INDEX["Neck"]] = axis_angle(X, u(-0.3, 0.3)) @ axis_angle(Y, u(-0.3, 0.3))
    local[BONE_INDEX["Head"]] = Rotation.from_rotvec(rng.normal(0, 0.3, 3)).as_matrix()
    tilt = u(-0.2, 0.2)  # the shoulder line tilts as one: the thorax stays the shoulders' midpoint
    for side, sign in (("Left", 1.0), ("Right", -1.0)):
        local[BONE_INDEX[f"{side}Shoulder"]] = axis_angle(Z, tilt)
        local[BONE_INDEX[f"{side}UpperArm"]] = (axis_angle(Z, sign * u(-1.3, 0.6)) @ axis_angle(Y, u(-0.8, 0.8))
                                               @ axis_angle(X, u(-0.8, 0.8)))
        local[BONE_INDEX[f"{side}LowerArm"]] = axis_angle(-sign * Y, u(*bend))
        local[BONE_INDEX[f"{side}Hand"]] = Rotation.from_rotvec([0.0, *rng.normal(0, 0.3, 2)]).as_matrix()  # a wrist
        # has no twist of its own: pronation is the forearm's
        local[BONE_INDEX[f"{side}UpperLeg"]] = (axis_angle(X, u(-1.2, 0.3)) @ axis_angle(Z, sign * u(-0.1, 0.3))
                                               @ axis_angle(Y, u(-0.5, 0.5)))
        local[BONE_INDEX[f"{side}LowerLeg"]] = axis_angle(X, u(*bend))
        local[BONE_INDEX[f"{side}Foot"]] = axis_angle(X, u(-0.5, 0.5)) @ axis_angle(Y, u(-0.2, 0.2))
    return local


def pose_of(local: np.ndarray, root=(0.1, 0.0, 2.0)) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(bone positions (19, 3), global rotations (19, 3, 3), the 16 joints) of ``local``."""
    positions, rotations = forward_kinematics(REST, local, np.asarray(root, dtype=np.float64))
    return positions, rotations, positions[list(JOINT_BONE)]


# Landmark templates in each part's own rest frame (metres; +x the person's left, +y up, +z forward),
# laid out as the solver reads them: ears and eyes level, mid-ears at the head joint (SKELETON.md),
# the hand flat, heel and toe level.
_HEAD = {P.L_EAR: (0.075, 0, 0), P.R_EAR: (-0.075, 0, 0), P.L_EYE: (0.032, 0, 0.075),
         P.R_EYE: (-0.032, 0, 0.075), P.NOSE: (0, -0.03, 0.1), P.MOUTH_L: (0.025, -0.06, 0.08),
         P.MOUTH_R: (-0.025, -0.06, 0.08)}
_LEFT_HAND = {P.L_INDEX: (0.085, 0, 0.03), P.L_PINKY: (0.075, 0, -0.03), P.L_THUMB: (0.035, 0, 0.05)}
_LEFT_FOOT = {P.L_HEEL: (0, -0.07, -0.05), P.L_FOOT: (0, -0.07, 0.15)}
_MIRROR = np.diag([-1.0, 1.0, 1.0])


def landmarks_of(positions: np.ndarray, rotations: np.ndarray, joints: np.ndarray) -> np.ndarray:
    """``(33, 3)`` BlazePose landmarks of the body, solver frame."""
    lm = np.zeros((33, 3))
    for landmark, joint in P.BODY_PAIRS:
        lm[landmark] = joints[joint]
    head = BONE_INDEX["Head"]
    for landmark, offset in _HEAD.items():
        lm[landmark] = positions[head] + rotations[head] @ np.asarray(offset, dtype=np.float64)
    right = {P.L_INDEX: P.R_INDEX, P.L_PINKY: P.R_PINKY, P.L_THUMB: P.R_THUMB, P.L_HEEL: P.R_HEEL, P.L_FOOT: P.R_FOOT}
    for bone, template in (("LeftHand", _LEFT_HAND), ("LeftFoot", _LEFT_FOOT)):
        for landmark, offset in template.items():
            for side_bone, side_landmark, mirror in ((bone, landmark, np.eye(3)),
                                                     (bone.replace("Left", "Right"), right[landmark], _MIRROR)):
                i = BONE_INDEX[side_bone]
                lm[side_landmark] = positions[i] + rotations[i] @ (mirror @ np.asarray(offset, dtype=np.float64))
    return lm


def angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    """Angle between two rotation matrices, degrees."""
    return math.degrees(math.acos(max(-1.0, min(1.0, (np.trace(a.T @ b) - 1.0) / 2.0))))
