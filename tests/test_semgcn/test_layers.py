"""SemGConv (Eq. 2 / 3, two-matrix form), vanilla graph conv (Eq. 1 / 9) and the non-local layer."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from semgcn.layers import GraphConv, SemGraphConv, normalized_adjacency, xavier_bound
from semgcn.nonlocal_layer import GraphNonLocal, group_orders
from semgcn.skeleton import NONLOCAL_GROUPS, NUM_JOINTS, adjacency_matrix

ADJ = adjacency_matrix(self_loops=True)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _randomise_edges(layer: SemGraphConv, scale: float = 3.0) -> None:
    with torch.no_grad():
        layer.e.copy_(torch.randn_like(layer.e) * scale)


@pytest.mark.parametrize("channel_wise", [False, True])
def test_softmax_is_zero_on_non_edges_and_rows_sum_to_one(channel_wise):
    layer = SemGraphConv(4, 5, ADJ, channel_wise=channel_wise)
    _randomise_edges(layer, scale=20.0)
    w = layer.adjacency_weights().detach().numpy()
    w = w if channel_wise else w[None]
    assert w.shape == ((5,) if channel_wise else (1,)) + (NUM_JOINTS, NUM_JOINTS)
    non_edge = np.broadcast_to(ADJ == 0, w.shape)
    assert np.all(w[non_edge] == 0.0)          # exactly zero, not just small
    assert np.all(w[~non_edge] > 0.0)
    np.testing.assert_allclose(w.sum(axis=-1), 1.0, atol=1e-6)


def test_one_learnable_weight_per_edge_including_self_loops():
    layer = SemGraphConv(3, 7, ADJ)
    n_edges = int(ADJ.sum())                    # 15 bones * 2 directions + 16 self loops
    assert n_edges == 46 and layer.e.shape == (1, 46)
    assert SemGraphConv(3, 7, ADJ, channel_wise=True).e.shape == (7, 46)


def test_semgconv_matches_appendix_a2_formula():
    layer = SemGraphConv(4, 6, ADJ)
    _randomise_edges(layer)
    x = torch.randn(3, NUM_JOINTS, 4)
    s = layer.adjacency_weights().detach()
    w0, w1, b = layer.W[0].detach(), layer.W[1].detach(), layer.bias.detach()
    expected = torch.zeros(3, NUM_JOINTS, 6)
    for i in range(NUM_JOINTS):
        for j in range(NUM_JOINTS):
            w = w0 if i == j else w1
            expected[:, i] += s[i, j] * (x[:, j] @ w)
    expected += b
    torch.testing.assert_close(layer(x), expected, atol=1e-5, rtol=1e-5)


def test_channel_wise_semgconv_matches_eq3_per_channel():
    layer = SemGraphConv(4, 3, ADJ, channel_wise=True)
    _randomise_edges(layer)
    x = torch.randn(2, NUM_JOINTS, 4)
    s = layer.adjacency_weights().detach()            # (3, K, K)
    assert not torch.allclose(s[0], s[1])             # a different M_d per channel
    out = layer(x)
    for d in range(3):
        h0 = x @ layer.W[0, :, d].detach()
        h1 = x @ layer.W[1, :, d].detach()
        eye = torch.eye(NUM_JOINTS)
        col = (s[d] * eye) @ h0.unsqueeze(-1) + (s[d] * (1 - eye)) @ h1.unsqueeze(-1)
        torch.testing.assert_close(out[..., d], col[..., 0] + layer.bias[d].detach(), atol=1e-5, rtol=1e-5)


def test_semgconv_ignores_non_neighbours():
    layer = SemGraphConv(2, 8, ADJ)
    _randomise_edges(layer)
    x = torch.randn(1, NUM_JOINTS, 2)
    x2 = x.clone()
    x2[0, 15] += 100.0                                 # right wrist: neighbours are 14 and itself
    changed = (layer(x2) - layer(x)).abs().amax(dim=-1)[0] > 1e-4
    assert changed.nonzero().flatten().tolist() == [14, 15]


def test_frozen_adjacency_gives_same_output_and_follows_the_weights():
    layer = SemGraphConv(4, 5, ADJ)
    _randomise_edges(layer)
    x = torch.randn(2, NUM_JOINTS, 4)
    ref = layer(x)
    layer.freeze_adjacency()
    torch.testing.assert_close(layer(x), ref)
    with torch.no_grad():
        layer.e.add_(1.0 * torch.randn_like(layer.e))
    torch.testing.assert_close(layer(x), ref)          # frozen: the constant is used
    layer.freeze_adjacency(False)
    assert not torch.allclose(layer(x), ref)


def test_normalized_adjacency_is_symmetric_d_half():
    norm = normalized_adjacency(ADJ)
    deg = ADJ.sum(1)
    np.testing.assert_allclose(norm, ADJ / np.sqrt(np.outer(deg, deg)), rtol=1e-6)
    np.testing.assert_allclose(norm, norm.T)
    assert norm[0, 0] == pytest.approx(1 / 4)          # pelvis: 3 children + itself


@pytest.mark.parametrize("two_matrix", [False, True])
def test_graph_conv_matches_eq1_and_eq9(two_matrix):
    layer = GraphConv(3, 4, ADJ, two_matrix=two_matrix)
    x = torch.randn(2, NUM_JOINTS, 3)
    a = torch.from_numpy(normalized_adjacency(ADJ))
    w0 = layer.W[0].detach()
    if two_matrix:
        eye = torch.eye(NUM_JOINTS)
        expected = (a * eye) @ (x @ w0) + (a * (1 - eye)) @ (x @ layer.W[1].detach())
    else:
        expected = a @ (x @ w0)
    torch.testing.assert_close(layer(x), expected + layer.bias.detach(), atol=1e-5, rtol=1e-5)
    assert layer.W.shape[0] == (2 if two_matrix else 1)


def test_group_orders_are_inverse_and_follow_the_skeleton_grouping():
    grouped, restored, size = group_orders()
    assert size == 2
    assert grouped == [j for g in NONLOCAL_GROUPS for j in g]
    x = np.arange(NUM_JOINTS) * 10
    np.testing.assert_array_equal(x[grouped][restored], x)
    with pytest.raises(ValueError):
        group_orders(((0, 1), (2,)))
    with pytest.raises(ValueError):
        group_orders(((0, 1), (1, 2)))


def test_non_local_starts_as_identity():
    block = GraphNonLocal(16)
    x = torch.randn(4, NUM_JOINTS, 16)
    block.train()
    torch.testing.assert_close(block(x), x)
    assert block.inter_channels == 8


def _reference_non_local(block: GraphNonLocal, x: torch.Tensor) -> torch.Tensor:
    """Slow, literal Eq. 4 / 10 with explicit concatenation and explicit group max-pooling."""
    groups = NONLOCAL_GROUPS
    out = torch.empty_like(x)
    wf = block.concat_project.weight[0]
    for b in range(x.shape[0]):
        theta = block.theta(x[b])                                     # (K, C/2), original order
        phi = torch.stack([block.phi(x[b, list(g)]).amax(0) for g in groups])
        g_x = torch.stack([block.g(x[b, list(g)]).amax(0) for g in groups])
        for i in range(NUM_JOINTS):
            f = torch.stack([torch.relu(wf @ torch.cat([theta[i], phi[n]])) for n in range(len(groups))])
            y = (f[:, None] * g_x).sum(0) / len(groups)
            out[b, i] = x[b, i] + block.W_bn(block.W(y)[None])[0]
    return out


def test_non_local_matches_literal_concatenation_form_in_original_joint_order():
    block = GraphNonLocal(8)
    with torch.no_grad():
        block.W_bn.weight.uniform_(0.5, 1.5)
        block.W_bn.bias.uniform_(-0.5, 0.5)
        block.concat_project.weight.normal_()
    block.eval()
    x = torch.randn(2, NUM_JOINTS, 8)
    torch.testing.assert_close(block(x), _reference_non_local(block, x), atol=1e-5, rtol=1e-5)


def test_xavier_bound_is_the_one_pytorch_applies_to_the_3d_weight():
    torch.manual_seed(0)
    layer = SemGraphConv(128, 128, adjacency_matrix())
    bound = xavier_bound(tuple(layer.W.shape))
    assert bound == pytest.approx(1.414 * np.sqrt(6.0 / (128 * 128 + 2 * 128)))   # 0.027, not 0.217
    assert 0.95 * bound < layer.W.detach().abs().max().item() <= bound


def test_modulation_starts_neutral_and_learns_non_bone_affinities():
    torch.manual_seed(0)
    plain = SemGraphConv(8, 6, adjacency_matrix())
    mod = SemGraphConv(8, 6, adjacency_matrix(), modulated=True)
    mod.load_state_dict(plain.state_dict(), strict=False)
    x = torch.randn(3, 16, 8)
    torch.testing.assert_close(mod(x), plain(x), atol=1e-4, rtol=0)   # ones and 1e-6: SemGConv as it was
    with torch.no_grad():
        mod.affinity_modulation[12, 4] = 0.5                           # left wrist <-> left hip: no bone
        mod.node_modulation[3] = 2.0
    adj = mod.adjacency_weights().detach()
    assert adj[12, 4] == pytest.approx(0.25, abs=1e-5) and adj[4, 12] == pytest.approx(0.25, abs=1e-5)
    mod.freeze_adjacency(True)
    frozen = mod(x)
    mod.freeze_adjacency(False)
    torch.testing.assert_close(frozen, mod(x))                         # the export folding is exact
    assert (mod(x) - plain(x)).abs().max() > 1e-2
