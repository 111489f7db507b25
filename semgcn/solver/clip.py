"""A whole recording solved at once (BVH export, evaluation): one constant skeleton for the clip.

Offline the whole clip is known, so the bone lengths are the robust estimate over all its frames
(``semgcn.solver.lengths.robust_lengths``: the median of each bone after discarding outliers, left and
right averaged) rather than the live warm-up's, or lengths given by the caller (a mocap rig's own).
Frames are then solved in order with one ``SkeletonSolver`` (continuity as live); a frame without a
person, or with non-finite joints, holds the previous pose (the first pose before the first person).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from semgcn.solver.lengths import robust_lengths
from semgcn.solver.parts import PartOptions, part_orientations
from semgcn.solver.rig import bone_points, joint_lengths
from semgcn.solver.solve import SkeletonSolver


@dataclass
class ClipSolution:
    """A solved clip, solver frame.

    Attributes:
        lengths: ``(16,)`` the bone lengths held, by child joint.
        rest_offsets: ``(19, 3)`` constant rest offsets.
        local_rotations: ``(F, 19, 4)`` (x, y, z, w).
        global_rotations: ``(F, 19, 3, 3)``.
        positions: ``(F, 19, 3)`` bone positions by forward kinematics.
        root_positions: ``(F, 3)``.
        targets: ``(F, 19, 3)`` where the input put each bone (held over frames without a person).
        valid: ``(F,)`` frames that had a person.
    """

    lengths: np.ndarray
    rest_offsets: np.ndarray
    local_rotations: np.ndarray
    global_rotations: np.ndarray
    positions: np.ndarray
    root_positions: np.ndarray
    targets: np.ndarray
    valid: np.ndarray


def hold_missing(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Copy of ``values`` (F, ...) where invalid frames hold the last valid one (the first before it)."""
    if not valid.any():
        raise ValueError("no frame with a person: nothing to solve")
    idx = np.maximum.accumulate(np.where(valid, np.arange(len(valid)), -1))
    idx[idx < 0] = int(np.argmax(valid))
    return values[idx]


def solve_clip(joints: np.ndarray, valid: np.ndarray | None = None, roots: np.ndarray | None = None,
               landmarks: list | None = None, lengths: np.ndarray | None = None,
               part_options: PartOptions | None = None) -> ClipSolution:
    """Solve every frame of a clip.

    Args:
        joints: ``(F, 16, 3)`` joints in the solver frame (pelvis at the origin, or absolute).
        valid: ``(F,)`` frames with a person (default: all); frames with non-finite joints count as invalid.
        roots: ``(F, 3)`` pelvis positions in the solver frame, or None.
        landmarks: per frame ``(points (33, 3), visibility (33,) | None)`` or None, for the head, hand
            and foot orientations; None for none at all.
        lengths: ``(16,)`` bone lengths to hold (default: the robust estimate over the clip).
    Raises:
        ValueError: when no frame is valid.
    """
    joints = np.asarray(joints, dtype=np.float64)
    valid = np.ones(len(joints), bool) if valid is None else np.asarray(valid, dtype=bool).copy()
    valid &= np.isfinite(joints).all(axis=(1, 2))
    if roots is not None:
        roots = np.asarray(roots, dtype=np.float64)
        valid &= np.isfinite(roots).all(axis=1)
    joints = hold_missing(joints, valid)
    roots = hold_missing(roots, valid) if roots is not None else None
    if lengths is None:
        lengths = robust_lengths(joint_lengths(joints[valid]))
        if lengths is None:
            raise ValueError("cannot estimate the bone lengths of this clip")
    order = hold_missing(np.arange(len(joints)), valid)  # the frame whose landmarks each frame shows
    solver, solved = SkeletonSolver(), []
    for i in range(len(joints)):
        parts = None
        if landmarks is not None and landmarks[order[i]] is not None:
            points, visibility = landmarks[order[i]]
            parts = part_orientations(points, visibility, joints[i], part_options)
        solved.append(solver.solve(joints[i], lengths, None if roots is None else roots[i], parts))
    points = bone_points(joints)  # placed as the solver placed them: the hips where it put them
    targets = points - points[:, :1] + np.stack([s.positions[0] for s in solved])[:, None]
    return ClipSolution(lengths, solved[0].rest_offsets, np.stack([s.local_rotations for s in solved]),
                        np.stack([s.global_rotations for s in solved]), np.stack([s.positions for s in solved]),
                        np.stack([s.root_position for s in solved]), targets, valid)
