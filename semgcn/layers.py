"""Graph convolution layers of the paper: SemGConv (Eq. 2 and 3) and the vanilla GCN (Eq. 1 / Eq. 9).

All layers take node features shaped ``(B, K, C_in)`` (batch, nodes, channels) and return
``(B, K, C_out)``, as the official SemGCN code does.

SemGConv uses the two-matrix form of Appendix A.2: ``W0`` transforms each node itself and ``W1``
its neighbours, mixed by ``rho_i(M ⊙ A)``:

    out = (I ⊙ S) @ (X W0) + ((1 - I) ⊙ S) @ (X W1) + b,   S = softmax_rows(M ⊙ A)

where ``M ⊙ A`` keeps the learnable weight of each edge (self loops included) and puts a large
negative number on non-edges, so that they are exactly zero after the softmax.

For export, :meth:`SemGraphConv.freeze_adjacency` stores ``S`` as a constant buffer so the ONNX graph
has no softmax or masking op (see :mod:`semgcn.export`).
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

#: Value put on non-edges before the softmax (the official code's -9e15): exp() underflows to 0.
NON_EDGE_LOGIT = -9e15


def _as_mask(adj) -> torch.Tensor:
    adj = torch.as_tensor(np.asarray(adj), dtype=torch.float32)
    if adj.ndim != 2 or adj.shape[0] != adj.shape[1]:
        raise ValueError(f"adjacency must be a square (K, K) matrix, got {tuple(adj.shape)}")
    return adj > 0


class SemGraphConv(nn.Module):
    """Semantic graph convolution, Eq. 2 (one weight per edge) or Eq. 3 (one per edge and channel).

    Args:
        in_features: input channels per node.
        out_features: output channels per node.
        adj: ``(K, K)`` 0/1 adjacency with self loops (``semgcn.skeleton.adjacency_matrix()``).
        channel_wise: learn ``M_d`` for every output channel (Eq. 3) instead of one ``M`` (Eq. 2).
        bias: add a learnable bias per output channel.
    """

    def __init__(self, in_features: int, out_features: int, adj, channel_wise: bool = False,
                 bias: bool = True):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.channel_wise = channel_wise
        mask = _as_mask(adj)
        self.register_buffer("mask", mask, persistent=False)
        num_edges = int(mask.sum())
        # W[0]: the node itself, W[1]: its neighbours (Appendix A.2). Xavier as in the paper [16].
        self.W = nn.Parameter(torch.empty(2, in_features, out_features))
        nn.init.xavier_uniform_(self.W, gain=1.414)
        # One logit per edge of the mask (row-major order of mask.nonzero()); ones = uniform start.
        rows = out_features if channel_wise else 1
        self.e = nn.Parameter(torch.ones(rows, num_edges))
        if bias:
            self.bias = nn.Parameter(torch.empty(out_features))
            bound = 1.0 / math.sqrt(out_features)
            nn.init.uniform_(self.bias, -bound, bound)
        else:
            self.register_parameter("bias", None)
        self.register_buffer("eye", torch.eye(mask.shape[0]), persistent=False)
        # Folded softmax(M ⊙ A) for export, split into its diagonal and off-diagonal parts;
        # (non-persistent) buffers so that .to(device) moves them.
        self.register_buffer("frozen_adj", None, persistent=False)
        self.register_buffer("frozen_self", None, persistent=False)
        self.register_buffer("frozen_neighbours", None, persistent=False)

    def adjacency_weights(self) -> torch.Tensor:
        """``softmax_rows(M ⊙ A)``: ``(K, K)`` for Eq. 2, ``(C_out, K, K)`` for Eq. 3.

        Row ``i`` holds how much each neighbour ``j`` (and ``i`` itself) contributes to node ``i``;
        entries of non-edges are exactly 0 and every row sums to 1.
        """
        k = self.mask.shape[0]
        logits = torch.full((self.e.shape[0], k, k), NON_EDGE_LOGIT, dtype=self.e.dtype,
                            device=self.e.device)
        logits = logits.masked_scatter(self.mask.expand_as(logits), self.e)
        weights = torch.softmax(logits, dim=-1)
        return weights if self.channel_wise else weights[0]

    def freeze_adjacency(self, frozen: bool = True) -> None:
        """Fold ``softmax(M ⊙ A)`` into a constant (for export / inference) or unfold it again."""
        if not frozen:
            self.frozen_adj = self.frozen_self = self.frozen_neighbours = None
            return
        with torch.no_grad():
            self.frozen_adj = self.adjacency_weights().detach().clone()
            self.frozen_self, self.frozen_neighbours = self._split(self.frozen_adj)

    def _split(self, adj: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # I ⊙ S is diagonal: kept as per-node scales (K,) / (C, K) instead of a (K x K) matmul.
        return torch.diagonal(adj, dim1=-2, dim2=-1), adj * (1.0 - self.eye)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.frozen_self is not None:
            self_weight, neighbour_part = self.frozen_self, self.frozen_neighbours
        else:
            self_weight, neighbour_part = self._split(self.adjacency_weights())
        h0 = x @ self.W[0]
        h1 = x @ self.W[1]
        if self.channel_wise:
            # adj: (C, K, K); h: (B, K, C) -> out[b, i, c] = sum_j adj[c, i, j] * h[b, j, c]
            out = self_weight.t() * h0 + torch.einsum("cij,bjc->bic", neighbour_part, h1)
        else:
            out = self_weight[:, None] * h0 + neighbour_part @ h1
        if self.bias is not None:
            out = out + self.bias
        return out

    def extra_repr(self) -> str:
        return (f"{self.in_features}, {self.out_features}, nodes={self.mask.shape[0]}, "
                f"edges={self.e.shape[1]}, channel_wise={self.channel_wise}")


def normalized_adjacency(adj) -> np.ndarray:
    """Symmetric normalisation ``D^-1/2 A D^-1/2`` of a (K, K) adjacency with self loops (Eq. 1)."""
    adj = np.asarray(adj, dtype=np.float64)
    deg = adj.sum(axis=1)
    if np.any(deg <= 0):
        raise ValueError("every node needs at least a self loop to normalise the adjacency")
    inv_sqrt = 1.0 / np.sqrt(deg)
    return (adj * inv_sqrt[:, None] * inv_sqrt[None, :]).astype(np.float32)


class GraphConv(nn.Module):
    """Vanilla graph convolution of Eq. 1 (``out = Ã X W + b``), or Eq. 9 with two matrices.

    Args:
        in_features: input channels per node.
        out_features: output channels per node.
        adj: ``(K, K)`` 0/1 adjacency with self loops; normalised symmetrically here.
        two_matrix: Eq. 9 (``W0`` for the node itself, ``W1`` for its neighbours) instead of one
            shared ``W`` (Eq. 1). The paper's ResGCN parameter count (0.14M) is the one-matrix form.
        bias: add a learnable bias per output channel.
    """

    def __init__(self, in_features: int, out_features: int, adj, two_matrix: bool = False,
                 bias: bool = True):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.two_matrix = two_matrix
        norm = torch.from_numpy(normalized_adjacency(adj))
        eye = torch.eye(norm.shape[0])
        self.register_buffer("adj_self", norm * eye, persistent=False)
        self.register_buffer("adj_neighbours", norm * (1 - eye), persistent=False)
        self.W = nn.Parameter(torch.empty(2 if two_matrix else 1, in_features, out_features))
        nn.init.xavier_uniform_(self.W, gain=1.414)
        if bias:
            self.bias = nn.Parameter(torch.empty(out_features))
            bound = 1.0 / math.sqrt(out_features)
            nn.init.uniform_(self.bias, -bound, bound)
        else:
            self.register_parameter("bias", None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h0 = x @ self.W[0]
        if self.two_matrix:
            out = self.adj_self @ h0 + self.adj_neighbours @ (x @ self.W[1])
        else:
            out = (self.adj_self + self.adj_neighbours) @ h0
        if self.bias is not None:
            out = out + self.bias
        return out

    def extra_repr(self) -> str:
        return (f"{self.in_features}, {self.out_features}, nodes={self.adj_self.shape[0]}, "
                f"two_matrix={self.two_matrix}")
