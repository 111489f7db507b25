"""The per-frame solve: constant bones, local rotations from a T-pose, twist, limits and continuity.

Given one frame's 16 joints (solver frame), the bone lengths to hold and optionally the measured head,
hand and foot frames (``semgcn.solver.parts``), :meth:`SkeletonSolver.solve` walks the rig from the
hips outwards. Each bone starts where forward kinematics of the bones above it put it, not where the
input put it, and is aimed from there at its child's input point, so a compromise made high up (the
hips, a joint limit) never drags the rest of the limb along: a joint's error is bounded by its own
bone's error.

* Hips: up along the spine, exactly; x (the person's left) from the hip line, made perpendicular.
* Spine and Chest: aimed up the trunk; their x axes take half and all of the turn from the hip line to
  the shoulder line, so the trunk twist is spread over the spine.
* Neck: aimed at the head, twisted by half the head's measured turn; Head: the face's frame.
* Clavicles (``*Shoulder``): the smallest rotation from the chest that reaches each shoulder joint.
* Arms and legs: the upper bone is aimed at the elbow / knee and twisted so that the elbow / knee
  bends about its hinge axis, positively (flexion only). A nearly straight limb does not say where its
  hinge is: the twist then blends (between 8 and 25 degrees of bend) towards a prior: the foot's heading
  for a leg, half the hand's turn for an arm, or else the previous frame's twist. The lower bone turns
  about the hinge (flexion limited to [0, 175] degrees: a knee does not bend forward) with a small
  off-axis allowance, and the forearm additionally twists with the hand (pronation). A limb whose
  hinge twist lies beyond the upper bone's twist limit is bent the wrong way (a knee forward): its
  twist stays at the prior and the joint is left straight, rather than the limb being turned round.
* Hands, feet, head: the measured part frame, cone-limited, blended by its visibility weight; without
  landmarks they keep their parent's orientation (swing-only).

Continuity: quaternions keep the sign of the previous frame's, twists are measured relative to the
previous frame's where a limb is straight, and every twist and angle is limited, so that no bone turns
half a revolution from one frame to the next.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from semgcn.solver.geometry import (axis_angle, clamp, cross, frame_from, limit_angle, quaternions, rotation_between,
                                    same_hemisphere, slerp_matrix, smoothstep, twist_angle, unit, wrap)
from semgcn.solver.parts import PartOrientation
from semgcn.solver.rig import (ANGLE_LIMITS, BONE_INDEX as B, BONE_NAMES, BONE_PARENTS, HINGES, LEFT, NUM_BONES,
                               TWIST_LIMITS, UP, bone_points, rest_offsets)

#: Bend angles (radians) between which a limb's twist moves from its prior to its hinge.
STRAIGHT, BENT = math.radians(8), math.radians(25)
#: How far past its twist limit a hinge twist fades out (the joint is then taken as bent the wrong way).
WRONG_WAY = math.radians(30)
_LIMBS = (  # (upper, lower, end, part-prior share of the end part's turn given to the upper bone)
    ("LeftUpperArm", "LeftLowerArm", "LeftHand", 0.5), ("RightUpperArm", "RightLowerArm", "RightHand", 0.5),
    ("LeftUpperLeg", "LeftLowerLeg", "LeftFoot", 1.0), ("RightUpperLeg", "RightLowerLeg", "RightFoot", 1.0),
)


@dataclass
class SolvedPose:
    """One solved frame, solver frame.

    Attributes:
        local_rotations: ``(19, 4)`` (x, y, z, w) of each bone relative to its parent (Hips: to the root).
        global_rotations: ``(19, 3, 3)`` each bone's rotation from the T-pose.
        positions: ``(19, 3)`` where forward kinematics puts each bone.
        rest_offsets: ``(19, 3)`` the constant rest offsets used.
        root_position: ``(3,)`` the root (floor point below the hips at rest); its rotation is the identity.
        sources: how the twist of the limbs and the end parts was found ("hinge", "prior", "previous",
            "landmarks", "swing"), by bone name.
    """

    local_rotations: np.ndarray
    global_rotations: np.ndarray
    positions: np.ndarray
    rest_offsets: np.ndarray
    root_position: np.ndarray
    sources: dict[str, str] = field(default_factory=dict)


class SkeletonSolver:
    """Solves one person's frames in order, keeping what continuity needs (the previous frame)."""

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        """Forget the previous frame (a new person, or a long gap)."""
        self._twist: dict[str, float] = {}
        self._quats: np.ndarray | None = None

    def solve(self, joints: np.ndarray, lengths: np.ndarray, root: np.ndarray | None = None,
              parts: dict[str, PartOrientation] | None = None) -> SolvedPose:
        """Solve one frame.

        Args:
            joints: ``(16, 3)`` joints in the solver frame (absolute, or pelvis at the origin).
            lengths: ``(16,)`` bone lengths to hold, by child joint (``semgcn.solver.rig.joint_lengths``).
            root: ``(3,)`` where the pelvis is (None: ``joints`` as given, pelvis at the hip height above
                the origin when it is at the origin).
            parts: measured head / hand / foot frames (``semgcn.solver.parts.part_orientations``).
        """
        rest = rest_offsets(lengths)
        points = bone_points(np.asarray(joints, dtype=np.float64))
        pelvis = points[B["Hips"]].copy() if root is None else np.asarray(root, dtype=np.float64)
        if root is None and not np.any(pelvis):
            pelvis = rest[B["Hips"]].copy()
        points += pelvis - points[B["Hips"]]
        run = _Frame(points, rest, parts or {}, self._twist)
        run.torso(points[B["Hips"]])
        for upper, lower, end, share in _LIMBS:
            run.limb(upper, lower, end, share)
        self._twist = run.twists
        local = np.empty((NUM_BONES, 3, 3))
        for i, parent in enumerate(BONE_PARENTS):
            local[i] = run.g[i] if parent < 0 else run.g[parent].T @ run.g[i]
        quats = same_hemisphere(quaternions(local), self._quats)
        self._quats = quats
        return SolvedPose(quats, run.g, run.x, rest, run.x[B["Hips"]] - rest[B["Hips"]], run.sources)


class _Frame:
    """The walk over one frame: global rotations ``g`` and positions ``x`` filled parents first."""

    def __init__(self, points: np.ndarray, rest: np.ndarray, parts: dict[str, PartOrientation],
                 previous_twist: dict[str, float]):
        self.p, self.rest, self.parts, self.previous = points, rest, parts, previous_twist
        self.g = np.tile(np.eye(3), (NUM_BONES, 1, 1))
        self.x = np.zeros((NUM_BONES, 3))
        self.twists: dict[str, float] = {}
        self.sources: dict[str, str] = {}

    def place(self, bone: str) -> np.ndarray:
        """Forward kinematics of ``bone``'s position from its (already solved) parent."""
        i = B[bone]
        parent = BONE_PARENTS[i]
        self.x[i] = self.x[parent] + self.g[parent] @ self.rest[i]
        return self.x[i]

    def aim(self, bone: str, child: str) -> np.ndarray:
        """Direction from ``bone``'s solved position to ``child``'s input point."""
        return self.p[B[child]] - self.x[B[bone]]

    def torso(self, pelvis: np.ndarray) -> None:
        x_hips = self.p[B["LeftUpperLeg"]] - self.p[B["RightUpperLeg"]]
        x_shoulders = self.p[B["LeftUpperArm"]] - self.p[B["RightUpperArm"]]
        self.x[B["Hips"]] = pelvis
        self.g[B["Hips"]] = _frame_or(self.aim("Hips", "Spine"), x_hips, np.eye(3))
        self.place("Spine")
        mid_twist = unit(unit(self.g[B["Hips"]][:, 0]) + unit(x_shoulders))
        self.g[B["Spine"]] = _frame_or(self.aim("Spine", "Chest"), mid_twist, self.g[B["Hips"]])
        self.place("Chest")
        self.g[B["Chest"]] = _frame_or(self.aim("Chest", "Neck"), x_shoulders, self.g[B["Spine"]])
        self.place("Neck")
        self.neck_and_head()
        for side in ("Left", "Right"):
            self.place(f"{side}Shoulder")
            chest = self.g[B["Chest"]]
            rest_dir = unit(self.rest[B[f"{side}UpperArm"]])
            swing = chest.T @ rotation_between(chest @ rest_dir, self.aim(f"{side}Shoulder", f"{side}UpperArm")) @ chest
            self.g[B[f"{side}Shoulder"]] = chest @ limit_angle(swing, ANGLE_LIMITS[f"{side}Shoulder"])

    def neck_and_head(self) -> None:
        chest, head = self.g[B["Chest"]], self.parts.get("Head")
        swing = rotation_between(chest @ UP, self.aim("Neck", "Head")) @ chest
        twist = 0.0
        if head is not None:
            twist = 0.5 * twist_angle(swing.T @ head.frame, UP) * head.weight
        twist = clamp(float(twist), -TWIST_LIMITS["Neck"], TWIST_LIMITS["Neck"])
        self.g[B["Neck"]] = swing @ axis_angle(UP, twist)
        self.place("Head")
        self.end_part("Head", "Neck")

    def end_part(self, bone: str, parent: str) -> None:
        """A head / hand / foot: its measured frame, limited and weighted; else its parent's (swing only)."""
        base, part = self.g[B[parent]], self.parts.get(bone)
        if part is None:
            self.g[B[bone]], self.sources[bone] = base, "swing"
            return
        local = limit_angle(base.T @ part.frame, ANGLE_LIMITS[bone])
        self.g[B[bone]] = base @ slerp_matrix(np.eye(3), local, part.weight)
        self.sources[bone] = "landmarks"

    def limb(self, upper: str, lower: str, end: str, share: float) -> None:
        parent = self.g[BONE_PARENTS[B[upper]]]
        self.place(upper)
        r = unit(self.rest[B[lower]])  # the limb's rest direction (also the lower bone's)
        swing = rotation_between(parent @ r, self.aim(upper, lower)) @ parent
        hinge = HINGES[lower]
        h = np.asarray(hinge.axis, dtype=np.float64)
        k = cross(h, r)  # the way the lower bone flexes
        lower_in_swing = swing.T @ unit(self.p[B[end]] - (self.x[B[upper]] + swing @ self.rest[B[lower]]))
        bend = math.acos(clamp(float(lower_in_swing @ r), -1.0, 1.0))
        across = lower_in_swing - (lower_in_swing @ r) * r
        hinge_twist = math.atan2(float(cross(k, across) @ r), float(k @ across))
        prior, prior_source = self._limb_prior(upper, end, swing, r, share)
        limit = TWIST_LIMITS[upper]
        # A hinge twist beyond the limit means the joint bends the wrong way (a knee forward): do not
        # turn the limb round to make it bend; fade to the prior, which leaves the joint straight.
        weight = smoothstep(bend, STRAIGHT, BENT) * (1.0 - smoothstep(abs(hinge_twist), limit, limit + WRONG_WAY))
        twist = wrap(prior + weight * wrap(hinge_twist - prior))
        self.twists[upper] = clamp(float(twist), -limit, limit)
        self.sources[upper] = "hinge" if weight >= 1.0 else prior_source
        self.g[B[upper]] = swing @ axis_angle(r, self.twists[upper])
        self.place(lower)
        self.g[B[lower]] = self.g[B[upper]] @ _hinge_rotation(self.g[B[upper]].T @ self.aim(lower, end), r, h, k, hinge)
        self._lower_twist(lower, end, r)
        self.place(end)
        self.end_part(end, lower)

    def _limb_prior(self, upper: str, end: str, swing: np.ndarray, r: np.ndarray, share: float) -> tuple[float, str]:
        part = self.parts.get(end)
        if part is not None:
            return share * twist_angle(swing.T @ part.frame, r) * part.weight, "landmarks"
        if upper in self.previous:
            return self.previous[upper], "previous"
        return 0.0, "swing"

    def _lower_twist(self, lower: str, end: str, r: np.ndarray) -> None:
        """The forearm turns with the hand (pronation, limited); a shank does not twist."""
        part = self.parts.get(end)
        if lower not in TWIST_LIMITS or part is None:
            return
        base = self.g[B[lower]]
        twist = twist_angle(base.T @ part.frame, r) * part.weight
        limit = TWIST_LIMITS[lower]
        self.g[B[lower]] = base @ axis_angle(r, clamp(float(twist), -limit, limit))


def _frame_or(up: np.ndarray, lateral: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """A frame whose y axis is exactly ``up`` and whose x axis follows ``lateral``; when they are
    parallel, the smallest rotation of ``fallback`` that points its y axis up ``up``."""
    frame = frame_from(up, UP, lateral, LEFT)
    if frame is None:
        return rotation_between(fallback @ UP, up) @ fallback
    return frame


def _hinge_rotation(d: np.ndarray, r: np.ndarray, h: np.ndarray, k: np.ndarray, hinge) -> np.ndarray:
    """Local rotation of a lower bone towards direction ``d`` (upper bone's frame): flexion about the
    hinge ``h`` then a small turn off its plane, ``R_h(flexion) R_k(off)``, both limited."""
    d = unit(d)
    off = -math.asin(clamp(float(d @ h), -1.0, 1.0))
    flexion = math.atan2(float(d @ k), float(d @ r))
    flexion = clamp(float(flexion), 0.0, hinge.max_flexion)
    off = clamp(float(off), -hinge.max_off_axis, hinge.max_off_axis)
    return axis_angle(h, flexion) @ axis_angle(k, off)


__all__ = ["BONE_NAMES", "SkeletonSolver", "SolvedPose"]
