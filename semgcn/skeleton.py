"""The canonical 16-joint skeleton: the single source of joint names, order and parents.

Every part of the product (training data, the 2D detector's output, the lifter, the stream,
recordings, exports) speaks this skeleton. It follows ``shared/SKELETON.md``: the 16-joint
Human3.6M subset that SemGCN uses, in SemGCN's order.

This module is pure Python + numpy (no torch), so the production engines may import it.

Coordinate frames (see docs/skeleton.md):
  * 2D keypoints: pixels, origin top-left, x right, y down.
  * 3D camera frame: metres, OpenCV convention (x right, y down, z forward), pelvis at the origin.
"""
from __future__ import annotations

import numpy as np

NUM_JOINTS = 16

JOINT_NAMES: tuple[str, ...] = (
    "pelvis",          # 0
    "right_hip",       # 1
    "right_knee",      # 2
    "right_ankle",     # 3
    "left_hip",        # 4
    "left_knee",       # 5
    "left_ankle",      # 6
    "spine",           # 7
    "thorax",          # 8
    "head",            # 9
    "left_shoulder",   # 10
    "left_elbow",      # 11
    "left_wrist",      # 12
    "right_shoulder",  # 13
    "right_elbow",     # 14
    "right_wrist",     # 15
)
JOINT_INDEX: dict[str, int] = {name: i for i, name in enumerate(JOINT_NAMES)}

#: Parent of each joint; -1 for the root (pelvis).
PARENTS: tuple[int, ...] = (-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 8, 10, 11, 8, 13, 14)
ROOT = 0

#: Bones as (child, parent) pairs, one per non-root joint, in joint order (15 bones).
BONES: tuple[tuple[int, int], ...] = tuple((j, p) for j, p in enumerate(PARENTS) if p >= 0)
#: Undirected edges of the skeleton graph (parent, child).
EDGES: tuple[tuple[int, int], ...] = tuple((p, j) for j, p in BONES)

#: Left-right pairs (the subject's own left and right).
FLIP_PAIRS: tuple[tuple[int, int], ...] = ((1, 4), (2, 5), (3, 6), (10, 13), (11, 14), (12, 15))
LEFT_JOINTS: tuple[int, ...] = (4, 5, 6, 10, 11, 12)
RIGHT_JOINTS: tuple[int, ...] = (1, 2, 3, 13, 14, 15)
CENTRE_JOINTS: tuple[int, ...] = (0, 7, 8, 9)

#: Permutation that swaps left and right: ``pose[..., FLIP_PERMUTATION, :]`` mirrors the labels.
FLIP_PERMUTATION: tuple[int, ...] = tuple(
    next((b if a == j else a for a, b in FLIP_PAIRS if j in (a, b)), j) for j in range(NUM_JOINTS)
)

#: Non-local grouping of the 16 joints into 8 pairs of neighbouring joints (Sect. 3.3 / A.3 of the
#: paper, as in the official code's ``joints_group``): the non-local layer max-pools each pair.
NONLOCAL_GROUPS: tuple[tuple[int, int], ...] = (
    (2, 3), (5, 6), (1, 4), (0, 7), (8, 9), (14, 15), (11, 12), (10, 13),
)


def bone_side(child: int) -> str:
    """'left', 'right' or 'centre' for the bone that ends at joint ``child`` (for colouring)."""
    if child in LEFT_JOINTS:
        return "left"
    if child in RIGHT_JOINTS:
        return "right"
    return "centre"


def adjacency_matrix(self_loops: bool = True) -> np.ndarray:
    """The (16, 16) 0/1 adjacency matrix A of the skeleton graph.

    Args:
        self_loops: put ones on the diagonal (``a_ii = 1`` as in Eq. 1 of the paper).
    """
    adj = np.zeros((NUM_JOINTS, NUM_JOINTS), dtype=np.float32)
    for child, parent in BONES:
        adj[child, parent] = adj[parent, child] = 1.0
    if self_loops:
        adj += np.eye(NUM_JOINTS, dtype=np.float32)
    return adj


def bone_vectors(joints: np.ndarray) -> np.ndarray:
    """Bone vectors child - parent, shape (..., 15, D), in ``BONES`` order."""
    child = [c for c, _ in BONES]
    parent = [p for _, p in BONES]
    return joints[..., child, :] - joints[..., parent, :]


def bone_lengths(joints: np.ndarray) -> np.ndarray:
    """Bone lengths, shape (..., 15), in ``BONES`` order."""
    return np.linalg.norm(bone_vectors(joints), axis=-1)


def flip_labels(pose: np.ndarray) -> np.ndarray:
    """Swap left and right joint labels of ``pose`` (..., 16, D) without moving any point."""
    return pose[..., list(FLIP_PERMUTATION), :]


def _check() -> None:
    # Cheap import-time consistency check: a wrong edit here would silently break every consumer.
    assert len(JOINT_NAMES) == len(PARENTS) == NUM_JOINTS
    assert sorted(j for g in NONLOCAL_GROUPS for j in g) == list(range(NUM_JOINTS))
    assert all(PARENTS[j] < j for j in range(1, NUM_JOINTS))


_check()
