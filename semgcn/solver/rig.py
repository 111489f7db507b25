"""The humanoid rig the solver drives: 19 bones named as Unity's ``HumanBodyBones``, a T-pose rest.

Solver frame (docs/skeleton_solver.md): right-handed, metres, y up. At rest the body stands in a
T-pose facing +z with its own left at +x: legs straight down, arms straight out, palms down, head and
spine up, feet pointing forward. Every bone's rest orientation is the identity, so a bone's local
rotation is its rotation away from the T-pose relative to its parent, the convention of VRM and VMC
avatars.

Each bone sits on a point of the canonical 16 joints (``semgcn.skeleton``): the joint itself, or for
``Chest`` the midpoint of spine and thorax. ``Neck`` and both ``Shoulder`` (clavicle) bones start at
the thorax (the midpoint of the shoulders), so the clavicles carry the shrug of each shoulder.
The rest offset of each bone (its position in its parent at rest) is a rest direction times a length
taken from the 15 canonical bone lengths; ``Hips`` hangs from the root (on the floor) at hip height.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from semgcn.skeleton import JOINT_INDEX as J
from semgcn.skeleton import NUM_JOINTS, PARENTS

UP, DOWN = np.array([0.0, 1.0, 0.0]), np.array([0.0, -1.0, 0.0])
LEFT, RIGHT = np.array([1.0, 0.0, 0.0]), np.array([-1.0, 0.0, 0.0])
FORWARD = np.array([0.0, 0.0, 1.0])
#: Ankle joint centre above the sole as a fraction of the leg (thigh + shank): the anthropometric
#: table of ``calibration.scale`` (ankle 0.039 of body height, leg 0.491).
ANKLE_HEIGHT_PER_LEG = 0.039 / 0.491


@dataclass(frozen=True)
class Bone:
    """One bone of the rig.

    Attributes:
        name: Unity ``HumanBodyBones`` name.
        parent: index of the parent bone (-1: the root).
        point: ``(a, b, t)``: the bone sits at ``joint_a + t (joint_b - joint_a)`` of the 16 joints.
        rest_direction: direction of its rest offset from its parent (solver frame).
        length_of: ``(joint, fraction)``: the offset length is ``fraction`` x the canonical bone ending at
            ``joint`` (None for ``Hips``, whose offset is the hip height).
    """

    name: str
    parent: int
    point: tuple[int, int, float]
    rest_direction: tuple[float, float, float]
    length_of: tuple[int, float] | None


def _at(joint: str) -> tuple[int, int, float]:
    return (J[joint], J[joint], 0.0)


_U, _D, _L, _R = (0, 1, 0), (0, -1, 0), (1, 0, 0), (-1, 0, 0)
BONES: tuple[Bone, ...] = (
    Bone("Hips", -1, _at("pelvis"), _U, None),
    Bone("Spine", 0, _at("spine"), _U, (J["spine"], 1.0)),
    Bone("Chest", 1, (J["spine"], J["thorax"], 0.5), _U, (J["thorax"], 0.5)),
    Bone("Neck", 2, _at("thorax"), _U, (J["thorax"], 0.5)),
    Bone("Head", 3, _at("head"), _U, (J["head"], 1.0)),
    Bone("LeftShoulder", 2, _at("thorax"), _U, (J["thorax"], 0.5)),
    Bone("LeftUpperArm", 5, _at("left_shoulder"), _L, (J["left_shoulder"], 1.0)),
    Bone("LeftLowerArm", 6, _at("left_elbow"), _L, (J["left_elbow"], 1.0)),
    Bone("LeftHand", 7, _at("left_wrist"), _L, (J["left_wrist"], 1.0)),
    Bone("RightShoulder", 2, _at("thorax"), _U, (J["thorax"], 0.5)),
    Bone("RightUpperArm", 9, _at("right_shoulder"), _R, (J["right_shoulder"], 1.0)),
    Bone("RightLowerArm", 10, _at("right_elbow"), _R, (J["right_elbow"], 1.0)),
    Bone("RightHand", 11, _at("right_wrist"), _R, (J["right_wrist"], 1.0)),
    Bone("LeftUpperLeg", 0, _at("left_hip"), _L, (J["left_hip"], 1.0)),
    Bone("LeftLowerLeg", 13, _at("left_knee"), _D, (J["left_knee"], 1.0)),
    Bone("LeftFoot", 14, _at("left_ankle"), _D, (J["left_ankle"], 1.0)),
    Bone("RightUpperLeg", 0, _at("right_hip"), _R, (J["right_hip"], 1.0)),
    Bone("RightLowerLeg", 16, _at("right_knee"), _D, (J["right_knee"], 1.0)),
    Bone("RightFoot", 17, _at("right_ankle"), _D, (J["right_ankle"], 1.0)),
)
BONE_NAMES: tuple[str, ...] = tuple(b.name for b in BONES)
BONE_PARENTS: tuple[int, ...] = tuple(b.parent for b in BONES)
BONE_INDEX: dict[str, int] = {name: i for i, name in enumerate(BONE_NAMES)}
NUM_BONES = len(BONES)
#: The rig's identity on the stream and in docs (bone order and rest conventions above).
RIG_NAME = "semgcn.humanoid/1"

#: For each of the 16 canonical joints, the bone that sits on it (Chest is the only extra point).
JOINT_BONE: tuple[int, ...] = tuple(
    next(i for i, b in enumerate(BONES) if b.point == (j, j, 0.0) and b.name not in ("LeftShoulder", "RightShoulder"))
    for j in range(NUM_JOINTS))


@dataclass(frozen=True)
class Hinge:
    """A one-axis joint (knee, elbow): the lower bone turns about ``axis`` (in the upper bone's frame)
    by the flexion angle, positive towards ``axis x rest_direction``; flexion is limited to
    [0, ``max_flexion``] (a knee does not bend forward) and the off-axis angle to ``max_off_axis``."""

    axis: tuple[float, float, float]
    max_flexion: float
    max_off_axis: float


#: The hinges, by lower bone: knees flex backward (about +x), elbows forward (palms down at rest). The
#: flexion limit is loose (joint centres of a folded elbow or knee reach 170 degrees in mocap); what
#: matters is the other end: no flexion below 0, the joint bending the wrong way.
HINGES: dict[str, Hinge] = {
    "LeftLowerLeg": Hinge((1, 0, 0), math.radians(175), math.radians(20)),
    "RightLowerLeg": Hinge((1, 0, 0), math.radians(175), math.radians(20)),
    "LeftLowerArm": Hinge((0, -1, 0), math.radians(175), math.radians(25)),
    "RightLowerArm": Hinge((0, 1, 0), math.radians(175), math.radians(25)),
}
#: Largest twist about the bone's own axis, away from the swing-only (shortest-arc) orientation.
TWIST_LIMITS: dict[str, float] = {
    "LeftUpperArm": math.radians(110), "RightUpperArm": math.radians(110),
    "LeftLowerArm": math.radians(120), "RightLowerArm": math.radians(120),
    "LeftUpperLeg": math.radians(70), "RightUpperLeg": math.radians(70),
    "Neck": math.radians(45),
}
#: Largest total local rotation of the end parts and clavicles (a cone limit).
ANGLE_LIMITS: dict[str, float] = {
    "Head": math.radians(75), "LeftHand": math.radians(85), "RightHand": math.radians(85),
    "LeftFoot": math.radians(60), "RightFoot": math.radians(60),
    "LeftShoulder": math.radians(35), "RightShoulder": math.radians(35),
}


def hip_height(lengths: np.ndarray) -> float:
    """Height of the hips above the floor in the T-pose: the mean leg plus the ankle height.

    Args:
        lengths: ``(16,)`` canonical bone lengths by child joint (index 0 unused).
    """
    leg = 0.5 * (lengths[J["right_knee"]] + lengths[J["right_ankle"]] + lengths[J["left_knee"]]
                 + lengths[J["left_ankle"]])
    return float(leg * (1.0 + ANKLE_HEIGHT_PER_LEG))


def rest_offsets(lengths: np.ndarray) -> np.ndarray:
    """``(19, 3)`` rest offset of every bone in its parent (solver frame, metres).

    Args:
        lengths: ``(16,)`` canonical bone lengths by child joint (index 0 unused), e.g. from
            :func:`joint_lengths`.
    """
    offsets = np.zeros((NUM_BONES, 3))
    for i, bone in enumerate(BONES):
        size = hip_height(lengths) if bone.length_of is None else bone.length_of[1] * lengths[bone.length_of[0]]
        offsets[i] = np.asarray(bone.rest_direction, dtype=np.float64) * size
    return offsets


def lengths_from_offsets(offsets: np.ndarray) -> np.ndarray:
    """The canonical bone lengths ``(16,)`` that :func:`rest_offsets` made ``offsets`` ``(19, 3)`` from."""
    lengths = np.zeros(NUM_JOINTS)
    for bone, offset in zip(BONES, np.asarray(offsets, dtype=np.float64)):
        if bone.length_of is not None:
            lengths[bone.length_of[0]] = float(np.linalg.norm(offset)) / bone.length_of[1]
    return lengths


def joint_lengths(joints: np.ndarray) -> np.ndarray:
    """Canonical bone lengths by child joint, ``(..., 16)`` (index 0 is 0), of joints ``(..., 16, 3)``."""
    joints = np.asarray(joints, dtype=np.float64)
    lengths = np.zeros(joints.shape[:-1])
    for j in range(1, NUM_JOINTS):
        lengths[..., j] = np.linalg.norm(joints[..., j, :] - joints[..., PARENTS[j], :], axis=-1)
    return lengths


def bone_points(joints: np.ndarray) -> np.ndarray:
    """``(..., 19, 3)``: where each bone sits for joints ``(..., 16, 3)``."""
    joints = np.asarray(joints, dtype=np.float64)
    a = joints[..., [b.point[0] for b in BONES], :]
    b = joints[..., [b.point[1] for b in BONES], :]
    t = np.array([b.point[2] for b in BONES])[:, None]
    return a + t * (b - a)


#: Top of the head above its centre (ear level), as a fraction of thorax-to-head: 0.70 makes the
#: T-pose of the canonical proportions exactly as tall as the body (head centre at 0.925 of the height).
HEAD_TOP_PER_NECK = 0.70


def standing_height(lengths: np.ndarray) -> float:
    """Floor to the top of the head in the T-pose, for ``(16,)`` bone lengths by child joint."""
    trunk = lengths[J["spine"]] + lengths[J["thorax"]] + lengths[J["head"]] * (1.0 + HEAD_TOP_PER_NECK)
    return hip_height(lengths) + float(trunk)


def end_sites(lengths: np.ndarray) -> dict[str, np.ndarray]:
    """Rest offsets of the end points of the leaf bones (top of the head, hands, toes), for drawing
    and BVH End Sites: the top of the head ``HEAD_TOP_PER_NECK`` of thorax-to-head above its centre,
    each hand half a forearm, each toe on the floor half a shank in front of the ankle."""
    ankle = hip_height(lengths) - 0.5 * (lengths[J["left_knee"]] + lengths[J["left_ankle"]]
                                         + lengths[J["right_knee"]] + lengths[J["right_ankle"]])
    return {
        "Head": UP * HEAD_TOP_PER_NECK * lengths[J["head"]],
        "LeftHand": LEFT * 0.5 * lengths[J["left_wrist"]],
        "RightHand": RIGHT * 0.5 * lengths[J["right_wrist"]],
        "LeftFoot": DOWN * ankle + FORWARD * 0.5 * lengths[J["left_ankle"]],
        "RightFoot": DOWN * ankle + FORWARD * 0.5 * lengths[J["right_ankle"]],
    }
