"""The solver's per-person result, ``SkeletonPose``, and forward kinematics of the rig.

``SkeletonPose`` is what every rotation consumer (VMC, Live Link, ROS 2, BVH) reads: the rig's bone
names and parents, the constant rest offsets, each bone's local rotation (x, y, z, w) from the T-pose,
the root, and where forward kinematics puts every bone. All in the solver frame (right-handed, y up,
metres; ``frame`` says whether camera- or world-based: docs/skeleton_solver.md); ``semgcn.solver.axes``
converts to Unity, Unreal or Blender axes.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from semgcn.solver.geometry import matrices
from semgcn.solver.rig import BONE_NAMES, BONE_PARENTS, JOINT_BONE


def forward_kinematics(rest_offsets: np.ndarray, local_rotations: np.ndarray, root_position: np.ndarray,
                       parents: tuple[int, ...] = BONE_PARENTS,
                       root_rotation: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Positions and global rotations of every bone, for one frame or a batch.

    Args:
        rest_offsets: ``(..., B, 3)`` each bone's offset in its parent.
        local_rotations: ``(..., B, 4)`` (x, y, z, w) or ``(..., B, 3, 3)``.
        root_position: ``(..., 3)``.
        parents: parent of each bone (-1: the root), parents before children.
        root_rotation: ``(..., 3, 3)`` or None (identity).
    Returns:
        ``(positions (..., B, 3), global rotations (..., B, 3, 3))``.
    """
    local = np.asarray(local_rotations, dtype=np.float64)
    if local.shape[-1] == 4:
        local = matrices(local)
    rest = np.broadcast_to(np.asarray(rest_offsets, dtype=np.float64), local.shape[:-1])
    positions = np.zeros(local.shape[:-1])
    rotations = np.zeros(local.shape)
    root_rot = np.broadcast_to(np.eye(3), local.shape[:-3] + (3, 3)) if root_rotation is None else root_rotation
    for i, parent in enumerate(parents):
        if parent < 0:
            base_pos, base_rot = np.asarray(root_position, dtype=np.float64), root_rot
        else:
            base_pos, base_rot = positions[..., parent, :], rotations[..., parent, :, :]
        positions[..., i, :] = base_pos + np.einsum("...ab,...b->...a", base_rot, rest[..., i, :])
        rotations[..., i, :, :] = base_rot @ local[..., i, :, :]
    return positions, rotations


@dataclass
class SkeletonPose:
    """One person's skeleton in one frame (module docstring).

    Attributes:
        rest_offsets: ``(19, 3)`` metres, each bone's position in its parent at rest (``Hips``: in the
            root); constant while the bone lengths are held.
        local_rotations: ``(19, 4)`` (x, y, z, w) unit quaternions, each bone relative to its parent.
        root_position: ``(3,)`` the root: the floor point below the hips at rest (rotation: identity).
        positions: ``(19, 3)`` every bone's position by forward kinematics.
        frame: "camera" (x the camera's right, y up, z towards the camera) or "world" (the calibration's
            y-up world frame).
        calibrated: True once the bone lengths are held (False during the first frames' estimate).
        lengths_version: counts changes of the held lengths (a receiver can re-read the skeleton).
        position_known: whether ``root_position`` comes from a measured position (calibration) rather
            than the origin.
        sources: how each limb's and end part's twist was found, by bone ("hinge", "landmarks",
            "previous", "swing").
        bone_names: the rig's bones (Unity ``HumanBodyBones`` names).
        parents: each bone's parent index (-1: the root).
    """

    rest_offsets: np.ndarray
    local_rotations: np.ndarray
    root_position: np.ndarray
    positions: np.ndarray
    frame: str = "camera"
    calibrated: bool = False
    lengths_version: int = 0
    position_known: bool = False
    sources: dict[str, str] = field(default_factory=dict)
    bone_names: tuple[str, ...] = BONE_NAMES
    parents: tuple[int, ...] = BONE_PARENTS

    def global_rotations(self) -> np.ndarray:
        """``(19, 3, 3)`` each bone's rotation from the T-pose, by forward kinematics."""
        return forward_kinematics(self.rest_offsets, self.local_rotations, self.root_position, self.parents)[1]

    def joints(self) -> np.ndarray:
        """``(16, 3)`` the canonical joints where the solved skeleton puts them (solver frame)."""
        return self.positions[list(JOINT_BONE)]
