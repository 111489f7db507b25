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
#: Gain of the Xavier-uniform initialisation of the graph convolutions' weights (the official code's).
XAVIER_GAIN = 1.414


def xavier_bound(shape: tuple[int, ...], gain: float = XAVIER_GAIN) -> float:
    """The bound of ``nn.init.xavier_uniform_`` on a tensor of ``shape`` (PyTorch's fan rule:
    fan_in = shape[1] * prod(shape[2:]), fan_out = shape[0] * prod(shape[2:]))."""
    field = math.prod(shape[2:])
    return gain * math.sqrt(6.0 / (shape[1] * field + shape[0] * field))


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
        modulated: the two modulations of Modulated GCN (Zou and Tang, ICCV 2021) on top of SemGConv:
            *weight modulation*, a learnable vector per node that scales the transformed features
            ``X W`` channel by channel before they are mixed (the nodes share ``W`` but need not
            share its use), and *affinity modulation*, a learnable symmetric ``(K, K)`` matrix added
            to ``softmax(M ⊙ A)``, so that joints with no bone between them (a wrist and a hip)
            can exchange features. Both start neutral (ones; 1e-6). Adds ``K C_out + K^2`` parameters.
    """

    def __init__(self, in_features: int, out_features: int, adj, channel_wise: bool = False,
                 bias: bool = True, modulated: bool = False):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.channel_wise = channel_wise
        mask = _as_mask(adj)
        self.register_buffer("mask", mask, persistent=False)
        num_edges = int(mask.sum())
        # W[0]: the node itself, W[1]: its neighbours (Appendix A.2). Initialised as the official code
        # does: xavier_uniform_(gain=1.414) on the whole (2, in, out) tensor, for which PyTorch takes
        # fan_in = in * out and fan_out = 2 * out, so the bound is 1.414 * sqrt(6 / (in*out + 2*out))
        # (0.027 for 128 -> 128), far below Xavier's 1.414 * sqrt(6 / (in + out)) for one (in, out)
        # matrix (0.217): a small start that batch norm rescales. ``xavier_bound`` states it.
        self.W = nn.Parameter(torch.empty(2, in_features, out_features))
        nn.init.xavier_uniform_(self.W, gain=XAVIER_GAIN)
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
        self.modulated = modulated
        k = mask.shape[0]
        if modulated:
            self.node_modulation = nn.Parameter(torch.ones(k, out_features))
            self.affinity_modulation = nn.Parameter(torch.full((k, k), 1e-6))
        else:
            self.register_parameter("node_modulation", None)
            self.register_parameter("affinity_modulation", None)
        # Folded softmax(M ⊙ A) for export, split into its diagonal and off-diagonal parts;
        # (non-persistent) buffers so that .to(device) moves them.
        self.register_buffer("frozen_adj", None, persistent=False)
        self.register_buffer("frozen_self", None, persistent=False)
        self.register_buffer("frozen_neighbours", None, persistent=False)

    def adjacency_weights(self) -> torch.Tensor:
        """``softmax_rows(M ⊙ A)``: ``(K, K)`` for Eq. 2, ``(C_out, K, K)`` for Eq. 3.

        Row ``i`` holds how much each neighbour ``j`` (and ``i`` itself) contributes to node ``i``;
        entries of non-edges are exactly 0 and every row sums to 1 (with ``modulated``, plus the
        learned symmetric affinity matrix, which may reach any pair).
        """
        k = self.mask.shape[0]
        logits = torch.full((self.e.shape[0], k, k), NON_EDGE_LOGIT, dtype=self.e.dtype,
                            device=self.e.device)
        logits = logits.masked_scatter(self.mask.expand_as(logits), self.e)
        weights = torch.softmax(logits, dim=-1)
        if self.affinity_modulation is not None:
            weights = weights + (self.affinity_modulation + self.affinity_modulation.t()) / 2
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
        # I ⊙ S is diagonal: kept as a per-node factor, (K, 1) or (K, C) with Eq. 3 or the weight
        # modulation folded in, instead of a (K x K) matmul.
        diagonal = torch.diagonal(adj, dim1=-2, dim2=-1)
        factor = diagonal.t() if self.channel_wise else diagonal[:, None]
        if self.node_modulation is not None:
            factor = factor * self.node_modulation
        return factor, adj * (1.0 - self.eye)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.frozen_self is not None:
            self_factor, neighbour_part = self.frozen_self, self.frozen_neighbours
        else:
            self_factor, neighbour_part = self._split(self.adjacency_weights())
        h0 = x @ self.W[0]
        h1 = x @ self.W[1]
        if self.node_modulation is not None:  # (its effect on h0 is inside self_factor)
            h1 = h1 * self.node_modulation
        if self.channel_wise:
            # adj: (C, K, K); h: (B, K, C) -> out[b, i, c] = sum_j adj[c, i, j] * h[b, j, c]
            out = self_factor * h0 + torch.einsum("cij,bjc->bic", neighbour_part, h1)
        else:
            out = self_factor * h0 + neighbour_part @ h1
        if self.bias is not None:
            out = out + self.bias
        return out

    def extra_repr(self) -> str:
        return (f"{self.in_features}, {self.out_features}, nodes={self.mask.shape[0]}, "
                f"edges={self.e.shape[1]}, channel_wise={self.channel_wise}, modulated={self.modulated}")


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
        nn.init.xavier_uniform_(self.W, gain=XAVIER_GAIN)  # on the 3-D tensor: see SemGraphConv
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
