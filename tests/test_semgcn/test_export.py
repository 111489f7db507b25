"""ONNX export: folded adjacencies (no softmax in the graph), dynamic batch, agreement with PyTorch."""
from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from semgcn.export import INPUT_NAME, OUTPUT_NAME, export_mode, export_onnx, verify_onnx
from semgcn.layers import SemGraphConv
from semgcn.models import build_model


@pytest.fixture(scope="module")
def trained_like_model():
    """A full SemGCN with non-uniform edge weights and BN statistics, as after training."""
    torch.manual_seed(0)
    model = build_model("semgcn")
    with torch.no_grad():
        for layer in model.modules():
            if isinstance(layer, SemGraphConv):
                layer.e.normal_(0.0, 2.0)
            if isinstance(layer, torch.nn.BatchNorm1d):
                layer.weight.uniform_(0.5, 1.5)
                layer.bias.normal_(0.0, 0.1)
                layer.running_mean.normal_(0.0, 0.1)
                layer.running_var.uniform_(0.5, 2.0)
    return model.eval()


@pytest.fixture(scope="module")
def exported(trained_like_model, tmp_path_factory):
    path = tmp_path_factory.mktemp("onnx") / "semgcn.onnx"
    return export_onnx(trained_like_model, path, metadata={"test": "yes"})


def test_graph_is_opset17_with_named_dynamic_io_and_no_softmax(exported):
    proto = onnx.load(str(exported.path))
    assert {o.domain: o.version for o in proto.opset_import}.get("", None) == 17
    ops = {n.op_type for n in proto.graph.node}
    assert "Softmax" not in ops and "Where" not in ops and "ScatterND" not in ops
    assert [i.name for i in proto.graph.input] == [INPUT_NAME]
    assert [o.name for o in proto.graph.output] == [OUTPUT_NAME]
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param and [d.dim_value for d in dims[1:]] == [16, 2]
    meta = {p.key: p.value for p in proto.metadata_props}
    assert meta["semgcn.model"] == "semgcn" and meta["test"] == "yes"


def test_onnxruntime_matches_pytorch_to_1e4(trained_like_model, exported):
    assert exported.max_abs_diff is not None and exported.max_abs_diff < 1e-4
    session = ort.InferenceSession(str(exported.path), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(3).normal(size=(33, 16, 2)).astype(np.float32)
    with torch.no_grad():
        ref = trained_like_model(torch.from_numpy(x)).numpy()   # unfolded softmax path
    got = session.run([OUTPUT_NAME], {INPUT_NAME: x})[0]
    assert got.shape == (33, 16, 3)
    np.testing.assert_allclose(got, ref, atol=1e-4)
    assert np.abs(ref).max() > 1e-2                              # not a trivially zero model


def test_export_mode_restores_training_state(trained_like_model):
    trained_like_model.train()
    with export_mode(trained_like_model):
        assert not trained_like_model.training
        assert all(m.frozen_adj is not None for m in trained_like_model.modules() if isinstance(m, SemGraphConv))
    assert trained_like_model.training
    assert all(m.frozen_adj is None for m in trained_like_model.modules() if isinstance(m, SemGraphConv))
    trained_like_model.eval()


def test_verify_detects_a_different_model(trained_like_model, exported):
    other = build_model("semgcn").eval()
    assert verify_onnx(other, exported.path) > 1e-3


@pytest.mark.parametrize("name", ["resgcn", "fc"])
def test_other_architectures_export_too(name, tmp_path):
    torch.manual_seed(1)
    result = export_onnx(build_model(name, num_blocks=1), tmp_path / f"{name}.onnx", dynamo=False)
    assert result.max_abs_diff < 1e-4


def test_fold_batchnorm_is_exact_and_leaves_the_model_alone(trained_like_model):
    from semgcn.export import fold_batchnorm

    folded = fold_batchnorm(trained_like_model)
    assert not any(isinstance(m, torch.nn.BatchNorm1d) for m in folded.modules())
    assert sum(isinstance(m, torch.nn.BatchNorm1d) for m in trained_like_model.modules()) == 14
    x = torch.randn(9, 16, 2)
    with torch.no_grad():
        torch.testing.assert_close(folded(x), trained_like_model(x), atol=1e-5, rtol=1e-5)
    fc = build_model("fc", num_blocks=1).eval()
    with torch.no_grad():
        fc.input[1].running_mean.normal_()
        torch.testing.assert_close(fold_batchnorm(fc)(x), fc(x), atol=1e-4, rtol=1e-4)
