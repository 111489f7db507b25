"""Forward kinematics of the demo figure: joint angles -> segment frames and the 16 canonical joints.

Body frame (every segment's local frame at rest): x to the subject's own left, y up, z forward (the
way the face looks). The world frame has the same axes with the floor at ``y = 0``; a heading of 0
means the figure faces +z. Angles are radians; each segment's rotation is its parent's rotation
times its own local rotation, so the skeleton is a plain kinematic tree.

The 16 joints follow ``shared/SKELETON.md``: hips and shoulders are joint centres, ``pelvis`` and
``thorax`` are midpoints of them, ``spine`` is the midpoint of pelvis and thorax, and ``head`` is the
centre of the head at ear level (the midpoint of the two ears).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from semgcn.skeleton import JOINT_INDEX, NUM_JOINTS

#: Every joint angle the motion generator may set (radians); missing ones are 0.
POSE_PARAMS: tuple[str, ...] = (
    "pelvis_tilt", "pelvis_roll", "pelvis_yaw",
    "spine_flex", "spine_lateral", "spine_twist",
    "head_pitch", "head_yaw", "head_roll",
    *(f"{s}_{p}" for s in ("l", "r") for p in (
        "hip_flex", "hip_abd", "hip_rot", "knee", "ankle",
        "shoulder_flex", "shoulder_abd", "shoulder_rot", "elbow", "forearm_twist", "wrist")),
)


@dataclass(frozen=True)
class BodyShape:
    """Segment lengths and offsets of an adult about 1.75 m tall (metres).

    Args:
        hip_half_width: pelvis centre to each hip joint centre along x.
        thigh: hip to knee.  shank: knee to ankle.  ankle_height: ankle centre above the sole.
        lumbar: pelvis to the lower-torso/chest joint.  chest: that joint to the neck base.
        shoulder_half_width: thorax to each shoulder joint centre along x.
        shoulder_drop: how far the shoulder centres sit below the neck base.
        neck_to_head: neck base to the head centre (ear level).
        upper_arm: shoulder to elbow.  forearm: elbow to wrist.
    """

    hip_half_width: float = 0.092
    thigh: float = 0.43
    shank: float = 0.43
    ankle_height: float = 0.085
    lumbar: float = 0.24
    chest: float = 0.27
    shoulder_half_width: float = 0.178
    shoulder_drop: float = 0.035
    neck_to_head: float = 0.145
    upper_arm: float = 0.29
    forearm: float = 0.255

    @property
    def standing_pelvis_height(self) -> float:
        return self.thigh + self.shank + self.ankle_height


@dataclass
class Skeleton:
    """Posed figure in world coordinates (metres, y up).

    Attributes:
        frames: segment name -> (origin (3,), rotation (3, 3)); columns of the rotation are the
            segment's x/y/z axes in the world.
        joints: (16, 3) canonical joints in world coordinates, in ``semgcn.skeleton`` order.
    """

    frames: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    joints: np.ndarray = field(default_factory=lambda: np.zeros((NUM_JOINTS, 3)))

    def translate(self, offset: np.ndarray) -> None:
        """Move the whole figure by ``offset`` (3,) in place."""
        self.frames = {k: (o + offset, r) for k, (o, r) in self.frames.items()}
        self.joints = self.joints + offset


def rot_x(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def rot_y(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def rot_z(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


_DOWN = np.array([0.0, -1.0, 0.0])
_UP = np.array([0.0, 1.0, 0.0])


def forward_kinematics(params: dict[str, float], shape: BodyShape, heading: float,
                       pelvis_position: np.ndarray) -> Skeleton:
    """Pose the figure.

    Args:
        params: joint angles by name (see ``POSE_PARAMS``; missing ones are 0).
        shape: segment lengths.
        heading: rotation of the whole body about the vertical axis (radians, 0 = facing +z).
        pelvis_position: (3,) world position of the pelvis.
    Returns:
        The posed ``Skeleton``.
    """
    p = params.get
    sk = Skeleton()
    frames = sk.frames
    r_pelvis = rot_y(heading + p("pelvis_yaw", 0.0)) @ rot_x(p("pelvis_tilt", 0.0)) @ rot_z(p("pelvis_roll", 0.0))
    pelvis = np.asarray(pelvis_position, dtype=np.float64)
    frames["pelvis"] = (pelvis, r_pelvis)

    # Legs: hip flexion swings the thigh forward (+z), abduction moves it away from the midline.
    for side, sign in (("l", 1.0), ("r", -1.0)):
        hip = pelvis + r_pelvis @ np.array([sign * shape.hip_half_width, 0.0, 0.0])
        r_thigh = r_pelvis @ rot_z(sign * p(f"{side}_hip_abd", 0.0)) @ rot_x(-p(f"{side}_hip_flex", 0.0)) \
            @ rot_y(sign * p(f"{side}_hip_rot", 0.0))
        knee = hip + r_thigh @ (_DOWN * shape.thigh)
        r_shank = r_thigh @ rot_x(p(f"{side}_knee", 0.0))
        ankle = knee + r_shank @ (_DOWN * shape.shank)
        r_foot = r_shank @ rot_x(-p(f"{side}_ankle", 0.0))
        frames[f"{side}_thigh"] = (hip, r_thigh)
        frames[f"{side}_shank"] = (knee, r_shank)
        frames[f"{side}_foot"] = (ankle, r_foot)

    # Torso: flexion, side bend and twist are shared between the lumbar and the chest segment.
    def torso_rot(fraction: float) -> np.ndarray:
        return rot_x(fraction * p("spine_flex", 0.0)) @ rot_z(-fraction * p("spine_lateral", 0.0)) \
            @ rot_y(fraction * p("spine_twist", 0.0))

    r_lumbar = r_pelvis @ torso_rot(0.45)
    waist = pelvis + r_lumbar @ (_UP * shape.lumbar)
    r_chest = r_lumbar @ torso_rot(0.55)
    neck = waist + r_chest @ (_UP * shape.chest)
    frames["lumbar"] = (pelvis, r_lumbar)
    frames["chest"] = (waist, r_chest)
    r_head = r_chest @ rot_x(p("head_pitch", 0.0)) @ rot_y(p("head_yaw", 0.0)) @ rot_z(p("head_roll", 0.0))
    frames["neck"] = (neck, r_head)
    head = neck + r_head @ (_UP * shape.neck_to_head)
    frames["head"] = (head, r_head)

    # Arms hang down at rest; flexion raises them forward, abduction sideways.
    shoulders = {}
    for side, sign in (("l", 1.0), ("r", -1.0)):
        shoulder = neck + r_chest @ np.array([sign * shape.shoulder_half_width, -shape.shoulder_drop, 0.0])
        r_upper = r_chest @ rot_z(sign * p(f"{side}_shoulder_abd", 0.0)) \
            @ rot_x(-p(f"{side}_shoulder_flex", 0.0)) @ rot_y(sign * p(f"{side}_shoulder_rot", 0.0))
        elbow = shoulder + r_upper @ (_DOWN * shape.upper_arm)
        r_fore = r_upper @ rot_x(-p(f"{side}_elbow", 0.0))
        wrist = elbow + r_fore @ (_DOWN * shape.forearm)
        r_hand = r_fore @ rot_y(sign * p(f"{side}_forearm_twist", 0.0)) @ rot_x(-p(f"{side}_wrist", 0.0))
        frames[f"{side}_upper_arm"] = (shoulder, r_upper)
        frames[f"{side}_forearm"] = (elbow, r_fore)
        frames[f"{side}_hand"] = (wrist, r_hand)
        shoulders[side] = shoulder

    j = np.zeros((NUM_JOINTS, 3))
    for side, name in (("l", "left"), ("r", "right")):
        j[JOINT_INDEX[f"{name}_hip"]] = frames[f"{side}_thigh"][0]
        j[JOINT_INDEX[f"{name}_knee"]] = frames[f"{side}_shank"][0]
        j[JOINT_INDEX[f"{name}_ankle"]] = frames[f"{side}_foot"][0]
        j[JOINT_INDEX[f"{name}_shoulder"]] = frames[f"{side}_upper_arm"][0]
        j[JOINT_INDEX[f"{name}_elbow"]] = frames[f"{side}_forearm"][0]
        j[JOINT_INDEX[f"{name}_wrist"]] = frames[f"{side}_hand"][0]
    j[JOINT_INDEX["pelvis"]] = 0.5 * (j[JOINT_INDEX["left_hip"]] + j[JOINT_INDEX["right_hip"]])
    j[JOINT_INDEX["thorax"]] = 0.5 * (shoulders["l"] + shoulders["r"])
    # SKELETON.md defines spine as the pelvis-thorax midpoint (not the bending joint of the torso).
    j[JOINT_INDEX["spine"]] = 0.5 * (j[JOINT_INDEX["pelvis"]] + j[JOINT_INDEX["thorax"]])
    j[JOINT_INDEX["head"]] = head
    sk.joints = j
    return sk


#: The shoe ellipsoid in the foot frame (origin at the ankle): the figure stands on its lowest point.
SHOE_CENTRE = (0.0, -0.045, 0.055)
SHOE_RADII = (0.052, 0.042, 0.135)


def lowest_sole_height(sk: Skeleton) -> float:
    """Height (world y) of the lowest point of either shoe, for putting the figure on the floor."""
    radii2 = np.square(SHOE_RADII)
    lows = []
    for side in ("l", "r"):
        origin, rot = sk.frames[f"{side}_foot"]
        centre = origin + rot @ np.asarray(SHOE_CENTRE)
        # Half-height of a rotated ellipsoid along y: sqrt(sum_i (R[y, i] * r_i)^2).
        lows.append(centre[1] - np.sqrt(np.sum(rot[1] ** 2 * radii2)))
    return float(min(lows))
