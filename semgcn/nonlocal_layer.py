"""The non-local layer of Sect. 3.3 / Appendix A.3 (Eq. 4 and Eq. 10), on graph node features.

    z_i = x_i + W( 1/N * sum_j f(x_i, x_j) g(x_j) ),   f(x_i, x_j) = ReLU(w_f [theta(x_i) || phi(x_j)])

* theta, phi, g: 1x1 convolutions (per-node linear maps) from C to C/2 channels.
* Node grouping: phi and g see the joints gathered by ``semgcn.skeleton.NONLOCAL_GROUPS`` so that
  each group is contiguous, and are max-pooled over each group (16 -> 8 nodes). theta keeps all 16
  nodes in their own order, so every joint attends over the 8 pooled groups (as in the official code,
  where ``sub_sample`` pools phi and g), and the output needs no reordering.
* W: a 1x1 convolution back to C channels followed by batch norm whose scale and shift start at 0,
  so the block starts as the identity (the paper's "W_x is initialized as zero").

The concatenation form ``w_f [theta_i || phi_j]`` is computed as ``w_theta . theta_i + w_phi . phi_j``
with ``w_f = [w_theta || w_phi]``: the same number, parameters and gradients as concatenating the
(K x N x C) tensor, without materialising it.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from semgcn.skeleton import NONLOCAL_GROUPS


def group_orders(groups=NONLOCAL_GROUPS) -> tuple[list[int], list[int], int]:
    """Node order that makes each group contiguous, its inverse, and the group size.

    Args:
        groups: sequence of equally sized tuples of node indices covering every node once.
    Returns:
        ``(grouped_order, restored_order, group_size)`` with
        ``x[grouped_order][restored_order] == x``.
    """
    sizes = {len(g) for g in groups}
    if len(sizes) != 1:
        raise ValueError(f"all non-local groups must have the same size, got sizes {sorted(sizes)}")
    grouped = [int(j) for g in groups for j in g]
    if sorted(grouped) != list(range(len(grouped))):
        raise ValueError("non-local groups must cover every node exactly once")
    restored = np.argsort(grouped).tolist()
    return grouped, restored, sizes.pop()


class GraphNonLocal(nn.Module):
    """Non-local block over graph nodes with max-pool grouping.

    Args:
        channels: node feature channels C (128 in the paper).
        groups: node groups pooled together (default: the 16 -> 8 grouping of Fig. 6, right).
        inter_channels: channels of theta / phi / g (default C // 2, i.e. 128 -> 64).
    """

    def __init__(self, channels: int, groups=NONLOCAL_GROUPS, inter_channels: int | None = None):
        super().__init__()
        self.channels = channels
        self.inter_channels = inter_channels or max(channels // 2, 1)
        grouped, _, self.group_size = group_orders(groups)  # (the output keeps the joint order: no restore)
        self.register_buffer("grouped_order", torch.tensor(grouped), persistent=False)
        ci = self.inter_channels
        self.theta = nn.Linear(channels, ci)
        self.phi = nn.Linear(channels, ci)
        self.g = nn.Linear(channels, ci)
        # w_f of Eq. 10: projects [theta_i || phi_j] (2 * C/2 values) to one scalar, no bias.
        self.concat_project = nn.Linear(2 * ci, 1, bias=False)
        self.W = nn.Linear(ci, channels)
        self.W_bn = nn.BatchNorm1d(channels)
        nn.init.zeros_(self.W_bn.weight)
        nn.init.zeros_(self.W_bn.bias)

    def _pool(self, h: torch.Tensor) -> torch.Tensor:
        # (B, K, C) in grouped order -> (B, K / group_size, C): max over each contiguous group.
        b, k, c = h.shape
        return h.reshape(b, k // self.group_size, self.group_size, c).amax(dim=2)

    def affinity(self, x: torch.Tensor, xg: torch.Tensor | None = None) -> torch.Tensor:
        """``f(x_i, x_j)`` of Eq. 10: ``(B, K, K / group_size)``, every node ``i`` (original order) against
        every pooled group ``j`` (``NONLOCAL_GROUPS`` order); ``xg``: ``x`` already gathered by groups."""
        ci = self.inter_channels
        w = self.concat_project.weight                     # (1, C)
        # theta's linear map and its half of w_f fold into one (C, 1) vector: (x Wt^T + bt) wt = x (Wt^T wt) + bt wt
        a = x @ (self.theta.weight.t() @ w[:, :ci].t()) + self.theta.bias @ w[:, :ci].t()   # (B, K, 1)
        xg = self._grouped(x) if xg is None else xg
        b = self._pool(self.phi(xg)) @ w[:, ci:].t()      # (B, N, 1)
        return torch.relu(a + b.transpose(1, 2))

    def _grouped(self, x: torch.Tensor) -> torch.Tensor:
        # phi and g act on each node alone, so the groups are gathered once for both.
        return torch.index_select(x, 1, self.grouped_order)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # theta and the residual stay in the original joint order: only phi and g are grouped, so there is
        # nothing to put back (one gather instead of a reorder and a restore, the same numbers).
        xg = self._grouped(x)
        f = self.affinity(x, xg)
        f = f / f.shape[-1]                                # 1/N with N the pooled node count
        # W after the aggregation: (f P) W^T + b = f (P W^T) + b, and P has N = K / group_size rows, not K.
        pooled = self._pool(self.g(xg))                   # (B, N, C/2)
        wy = f @ (pooled @ self.W.weight.t()) + self.W.bias
        if self.W_bn is not None:  # None once folded into W for inference (semgcn.export)
            wy = self.W_bn(wy.transpose(1, 2)).transpose(1, 2)
        return x + wy

    def extra_repr(self) -> str:
        return f"channels={self.channels}, inter={self.inter_channels}, group_size={self.group_size}"
