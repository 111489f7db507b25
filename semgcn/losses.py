"""The training loss of Eq. 7: squared joint errors plus an optional bone-vector term.

    L = sum_i ||J~_i - J_i||^2  +  lambda * sum_k ||B~_k - B_k||^2,   B_k = J_parent(k) - J_k (Eq. 8)

summed over joints / bones and averaged over the batch. The paper's Configuration #1 uses the joint
term only (``bone_weight=0``).
"""
from __future__ import annotations

import torch

from semgcn.skeleton import BONES

_CHILD = [c for c, _ in BONES]
_PARENT = [p for _, p in BONES]


def bone_vectors(joints: torch.Tensor) -> torch.Tensor:
    """Bone vectors of Eq. 8, ``J_parent - J_child``: ``(B, 15, 3)`` in ``BONES`` order."""
    return joints[:, _PARENT] - joints[:, _CHILD]


def pose_loss(pred: torch.Tensor, target: torch.Tensor, bone_weight: float = 0.0) -> torch.Tensor:
    """Eq. 7 averaged over the batch.

    Args:
        pred: predicted joints ``(B, 16, 3)``.
        target: ground-truth joints ``(B, 16, 3)``, same units.
        bone_weight: weight of the bone-vector term (0 disables it; 1 is Eq. 7 as written).
    Returns:
        Scalar loss.
    """
    if pred.shape != target.shape:
        raise ValueError(f"prediction {tuple(pred.shape)} and target {tuple(target.shape)} differ in shape")
    loss = ((pred - target) ** 2).sum(dim=(1, 2)).mean()
    if bone_weight:
        diff = bone_vectors(pred) - bone_vectors(target)
        loss = loss + bone_weight * (diff ** 2).sum(dim=(1, 2)).mean()
    return loss


def mpjpe_torch(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean per-joint Euclidean error (no root alignment: inputs are already root-relative)."""
    return torch.linalg.vector_norm(pred - target, dim=-1).mean()
