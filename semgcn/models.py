"""The networks of the paper and the FC baseline, built by name with :func:`build_model`.

Every model maps ``(B, 16, 2)`` float32 normalised 2D keypoints (the output of
``semgcn.codec.normalize_2d``) to ``(B, 16, 3)`` metres (camera frame, root-relative).

Names (Table 1 and 3 of the paper):

================== ================================================== ==================
name               layers                                             params (paper)
================== ================================================== ==================
semgcn             SemGConv + non-local (Fig. 2)                      0.43M
semgcn_no_nonlocal SemGConv only                                      0.27M
semgcn_no_semgconv vanilla graph conv (Eq. 1) + non-local             0.30M
resgcn             vanilla graph conv (Eq. 1), residual blocks        0.14M
fc                 Martinez et al. 2017: 1024 units, 2 residual blocks 4.29M
================== ================================================== ==================

``docs/params.md`` (written by ``python -m tools.param_table``) lists what these give here.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from semgcn.layers import GraphConv, SemGraphConv
from semgcn.nonlocal_layer import GraphNonLocal
from semgcn.skeleton import NONLOCAL_GROUPS, NUM_JOINTS, adjacency_matrix

MODEL_NAMES = ("semgcn", "semgcn_no_nonlocal", "semgcn_no_semgconv", "resgcn", "fc")


@dataclass
class GCNConfig:
    """Options of the graph networks.

    Args:
        hidden: channels per node in the hidden layers (128 in the paper).
        num_blocks: residual blocks of two graph convolutions (4 in the paper).
        dropout: dropout probability after each hidden layer's ReLU; None for none (the paper).
        channel_wise: SemGConv of Eq. 3 (one M per output channel) instead of Eq. 2.
        two_matrix_gconv: vanilla graph conv of Eq. 9 (two matrices) instead of Eq. 1.
        modulated: SemGConv with the weight and affinity modulation of Modulated GCN (ICCV 2021),
            see ``semgcn.layers.SemGraphConv``.
    """

    hidden: int = 128
    num_blocks: int = 4
    dropout: float | None = None
    channel_wise: bool = False
    two_matrix_gconv: bool = False
    modulated: bool = False


@dataclass
class FCConfig:
    """Options of the fully connected baseline (Martinez et al. 2017).

    Args:
        hidden: units per linear layer (1024).
        num_blocks: residual blocks of two linear layers (2).
        dropout: dropout probability after each hidden ReLU (0.5).
    """

    hidden: int = 1024
    num_blocks: int = 2
    dropout: float | None = 0.5


class _ConvBNReLU(nn.Module):
    """Graph convolution, batch norm over channels, ReLU, optional dropout."""

    def __init__(self, conv: nn.Module, channels: int, dropout: float | None):
        super().__init__()
        self.conv = conv
        self.bn = nn.BatchNorm1d(channels)
        self.dropout = nn.Dropout(dropout) if dropout else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        if self.bn is not None:  # None once folded into the conv for inference (semgcn.export)
            x = self.bn(x.transpose(1, 2)).transpose(1, 2)
        x = torch.relu(x)
        return self.dropout(x) if self.dropout is not None else x


class _ResidualBlock(nn.Module):
    """Two graph convolution layers with a skip connection (Fig. 2)."""

    def __init__(self, make_conv, channels: int, dropout: float | None):
        super().__init__()
        self.layer1 = _ConvBNReLU(make_conv(channels, channels), channels, dropout)
        self.layer2 = _ConvBNReLU(make_conv(channels, channels), channels, dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.layer2(self.layer1(x))


class GraphPoseNet(nn.Module):
    """SemGCN / ResGCN family: input conv, residual blocks, optional non-local layers, output conv.

    Args:
        semantic: use SemGConv (Eq. 2 / 3); otherwise the vanilla graph convolution (Eq. 1 / 9).
        non_local: put a non-local layer after the input layer and after each residual block.
        config: :class:`GCNConfig`.
        in_dim: input channels per joint (2).
        out_dim: output channels per joint (3).
    """

    def __init__(self, semantic: bool, non_local: bool, config: GCNConfig, in_dim: int = 2,
                 out_dim: int = 3):
        super().__init__()
        adj = adjacency_matrix(self_loops=True)
        if semantic:
            def make_conv(cin, cout):
                return SemGraphConv(cin, cout, adj, channel_wise=config.channel_wise, modulated=config.modulated)
        else:
            def make_conv(cin, cout):
                return GraphConv(cin, cout, adj, two_matrix=config.two_matrix_gconv)
        h = config.hidden
        layers: list[nn.Module] = [_ConvBNReLU(make_conv(in_dim, h), h, config.dropout)]
        if non_local:
            layers.append(GraphNonLocal(h, NONLOCAL_GROUPS))
        for _ in range(config.num_blocks):
            layers.append(_ResidualBlock(make_conv, h, config.dropout))
            if non_local:
                layers.append(GraphNonLocal(h, NONLOCAL_GROUPS))
        self.body = nn.Sequential(*layers)
        self.output = make_conv(h, out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output(self.body(x))


class _LinearBlock(nn.Module):
    """Martinez et al.: two (linear, BN, ReLU, dropout) layers with a skip connection."""

    def __init__(self, hidden: int, dropout: float | None):
        super().__init__()
        self.net = nn.Sequential(*[m for _ in range(2) for m in _linear_bn_relu(hidden, hidden, dropout)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.net(x)


def _linear_bn_relu(cin: int, cout: int, dropout: float | None) -> list[nn.Module]:
    mods: list[nn.Module] = [nn.Linear(cin, cout), nn.BatchNorm1d(cout), nn.ReLU()]
    if dropout:
        mods.append(nn.Dropout(dropout))
    return mods


class FCPoseNet(nn.Module):
    """The fully connected baseline of Martinez et al. 2017 (Table 3, 'FC [34]').

    Args:
        config: :class:`FCConfig`.
        num_joints: joints (16).
    """

    def __init__(self, config: FCConfig, num_joints: int = NUM_JOINTS):
        super().__init__()
        self.num_joints = num_joints
        self.input = nn.Sequential(*_linear_bn_relu(num_joints * 2, config.hidden, config.dropout))
        self.blocks = nn.Sequential(*[_LinearBlock(config.hidden, config.dropout)
                                      for _ in range(config.num_blocks)])
        self.output = nn.Linear(config.hidden, num_joints * 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = x.shape[0]
        y = self.output(self.blocks(self.input(x.reshape(b, -1))))
        return y.reshape(b, self.num_joints, 3)


_GCN_LAYOUT = {  # name -> (semantic, non_local)
    "semgcn": (True, True),
    "semgcn_no_nonlocal": (True, False),
    "semgcn_no_semgconv": (False, True),
    "resgcn": (False, False),
}


def build_model(name: str, **config) -> nn.Module:
    """Build a model by name.

    Args:
        name: one of :data:`MODEL_NAMES`.
        **config: fields of :class:`GCNConfig` (graph models) or :class:`FCConfig` (``fc``);
            unknown keys raise ``TypeError``.
    Returns:
        The model, with ``model_name`` and ``model_config`` (a dict of the full config) attached
        so that a checkpoint can rebuild it.
    """
    if name == "fc":
        cfg = FCConfig(**config)
        model: nn.Module = FCPoseNet(cfg)
    elif name in _GCN_LAYOUT:
        cfg = GCNConfig(**config)
        semantic, non_local = _GCN_LAYOUT[name]
        model = GraphPoseNet(semantic, non_local, cfg)
    else:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODEL_NAMES)}")
    model.model_name = name
    model.model_config = asdict(cfg)
    return model


def count_parameters(model: nn.Module) -> int:
    """Number of learnable parameters (BN running statistics excluded, as in the paper)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def semgconv_layers(model: nn.Module) -> list[tuple[str, SemGraphConv]]:
    """``(qualified name, layer)`` of every SemGConv in ``model``, in forward order (for Fig. 7)."""
    return [(n, m) for n, m in model.named_modules() if isinstance(m, SemGraphConv)]

