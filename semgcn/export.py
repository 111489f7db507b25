"""Export a lifter model to ONNX (opset 17, dynamic batch) and check it against PyTorch.

The ONNX graph has one input ``keypoints`` ``(B, 16, 2)`` float32 (``semgcn.codec.normalize_2d``
output) and one output ``joints_3d`` ``(B, 16, 3)`` float32 metres. Before export each SemGConv's
``softmax(M ⊙ A)`` is folded into a constant (:func:`export_mode`), so the graph has no softmax or
masking op: the adjacency weights are fixed after training and recomputing them per call is waste.
Batch norms are folded into the layer before them (:func:`fold_batchnorm`). The check compares ONNX
Runtime with the original, unfolded PyTorch model.

The file carries metadata (``onnx.ModelProto.metadata_props``): model name, config, parameter count,
source checkpoint hash, input normalisation; ``engines.lifter.Lifter.info`` reports them.
"""
from __future__ import annotations

import contextlib
import copy
import json
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from semgcn.checksums import file_sha256
from semgcn.layers import GraphConv, SemGraphConv
from semgcn.models import _ConvBNReLU, count_parameters
from semgcn.nonlocal_layer import GraphNonLocal
from semgcn.skeleton import NUM_JOINTS

INPUT_NAME = "keypoints"
OUTPUT_NAME = "joints_3d"
OPSET = 17


@dataclass
class ExportResult:
    """What :func:`export_onnx` wrote and how well it agrees with PyTorch.

    Attributes:
        path: the ONNX file.
        max_abs_diff: largest |ONNX Runtime - PyTorch| over the check batches (metres), or None
            when not verified.
        op_types: sorted operator types in the graph.
        sha256: hash of the file.
    """

    path: Path
    max_abs_diff: float | None
    op_types: list[str]
    sha256: str


@contextlib.contextmanager
def export_mode(model: nn.Module):
    """Put ``model`` in eval mode with every SemGConv adjacency folded; restore both on exit."""
    layers = [m for m in model.modules() if isinstance(m, SemGraphConv)]
    was_training = model.training
    model.eval()
    for layer in layers:
        layer.freeze_adjacency(True)
    try:
        yield model
    finally:
        for layer in layers:
            layer.freeze_adjacency(False)
        model.train(was_training)


@contextlib.contextmanager
def _quiet_exporter():
    """Silence the exporter's chatter (deprecations, opset 18 -> 17 conversion notes, torchvision)."""
    loggers = [logging.getLogger(name) for name in ("torch.onnx", "onnxscript", "torch.export")]
    levels = [lg.level for lg in loggers]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for lg in loggers:
            lg.setLevel(logging.ERROR)
        try:
            yield
        finally:
            for lg, level in zip(loggers, levels):
                lg.setLevel(level)


def _bn_affine(bn: nn.BatchNorm1d) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel ``(scale, shift)`` of an eval-mode batch norm: ``y = x * scale + shift``."""
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    return scale, bn.bias - bn.running_mean * scale


def _fold_into_graph_conv(conv: nn.Module, bn: nn.BatchNorm1d) -> None:
    scale, shift = _bn_affine(bn)
    conv.W.mul_(scale)                                   # W: (n, in, out), scale per output channel
    if conv.bias is None:
        conv.bias = nn.Parameter(torch.zeros_like(shift))
    conv.bias.copy_(conv.bias * scale + shift)


def _fold_into_linear(linear: nn.Linear, bn: nn.BatchNorm1d) -> None:
    scale, shift = _bn_affine(bn)
    linear.weight.mul_(scale[:, None])                   # weight: (out, in)
    linear.bias.copy_(linear.bias * scale + shift)


@torch.no_grad()
def fold_batchnorm(model: nn.Module) -> nn.Module:
    """An eval-mode copy of ``model`` with every batch norm merged into the linear map before it.

    In eval mode a batch norm is a fixed per-channel affine map, so it folds exactly into the
    preceding graph convolution / linear layer. This removes the BN and the two transposes around
    it (about a quarter of the CPU time at batch 256). ``model`` itself is not changed.
    """
    folded = copy.deepcopy(model).eval()
    for module in folded.modules():
        if isinstance(module, _ConvBNReLU) and module.bn is not None and \
                isinstance(module.conv, (SemGraphConv, GraphConv)):
            _fold_into_graph_conv(module.conv, module.bn)
            module.bn = None
        elif isinstance(module, GraphNonLocal) and module.W_bn is not None:
            _fold_into_linear(module.W, module.W_bn)
            module.W_bn = None
        elif isinstance(module, nn.Sequential):          # the FC baseline: Linear, BN, ReLU, ...
            children = list(module.children())
            for i in range(1, len(children)):
                if isinstance(children[i], nn.BatchNorm1d) and isinstance(children[i - 1], nn.Linear):
                    _fold_into_linear(children[i - 1], children[i])
                    module[i] = nn.Identity()
    return folded


def _export_graph(model: nn.Module, path: Path, opset: int, dynamo: bool) -> None:
    example = (torch.randn(2, NUM_JOINTS, 2),)
    with _quiet_exporter():
        if dynamo:
            torch.onnx.export(model, example, str(path), opset_version=opset, input_names=[INPUT_NAME],
                              output_names=[OUTPUT_NAME], dynamo=True, external_data=False,
                              dynamic_shapes=({0: torch.export.Dim("batch")},), verbose=False)
        else:
            torch.onnx.export(model, example, str(path), opset_version=opset, input_names=[INPUT_NAME],
                              output_names=[OUTPUT_NAME], dynamo=False, do_constant_folding=True,
                              dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}})


def _write_metadata(path: Path, metadata: dict[str, str]) -> None:
    import onnx

    proto = onnx.load(str(path))
    del proto.metadata_props[:]
    for key, value in metadata.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, str(value)
    onnx.checker.check_model(proto)
    onnx.save(proto, str(path))


def verify_onnx(model: nn.Module, onnx_path, batch_sizes=(1, 5, 64), seed: int = 0) -> float:
    """Largest |ONNX Runtime - PyTorch| on random inputs shaped like normalised keypoints.

    Args:
        model: the PyTorch model (evaluated in export mode).
        onnx_path: the exported file.
        batch_sizes: batches to try (different sizes exercise the dynamic batch axis).
        seed: random seed of the inputs.
    """
    import onnxruntime as ort

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(seed)
    worst = 0.0
    with export_mode(model), torch.no_grad():
        for b in batch_sizes:
            x = rng.normal(size=(b, NUM_JOINTS, 2)).astype(np.float32)
            ref = model(torch.from_numpy(x)).numpy()
            got = session.run([OUTPUT_NAME], {INPUT_NAME: x})[0]
            if got.shape != ref.shape:
                raise RuntimeError(f"ONNX output shape {got.shape} != PyTorch {ref.shape} at batch {b}")
            worst = max(worst, float(np.abs(got - ref).max()))
    return worst


def export_onnx(model: nn.Module, path, opset: int = OPSET, verify: bool = True, atol: float = 1e-4,
                metadata: dict | None = None, dynamo: bool = True) -> ExportResult:
    """Export ``model`` to ONNX with folded adjacencies and (optionally) check it.

    Args:
        model: a model from ``semgcn.models.build_model`` (any of the five).
        path: output ``.onnx`` file; parent folders are created.
        opset: ONNX opset (17).
        verify: compare ONNX Runtime with PyTorch on random batches.
        atol: largest allowed difference when verifying; a bigger one raises ``RuntimeError``.
        metadata: extra ``key -> value`` strings stored in the file.
        dynamo: use the ``torch.export`` exporter (default); False uses the TorchScript one.
    Returns:
        :class:`ExportResult`.
    """
    import onnx

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    folded = fold_batchnorm(model)
    with export_mode(folded):
        _export_graph(folded, path, opset, dynamo)
    info = {
        "semgcn.model": getattr(model, "model_name", type(model).__name__),
        "semgcn.config": json.dumps(getattr(model, "model_config", {}), sort_keys=True),
        "semgcn.num_params": str(count_parameters(model)),
        "semgcn.input": "semgcn.codec.normalize_2d (B,16,2) float32",
        "semgcn.output": "(B,16,3) float32 metres, camera frame, root-relative",
    }
    info.update({str(k): str(v) for k, v in (metadata or {}).items()})
    _write_metadata(path, info)
    diff = verify_onnx(model, path) if verify else None
    if diff is not None and diff > atol:
        raise RuntimeError(f"ONNX and PyTorch differ by {diff:.3g} > {atol:g} for {path}")
    ops = sorted({node.op_type for node in onnx.load(str(path)).graph.node})
    return ExportResult(path=path, max_abs_diff=diff, op_types=ops, sha256=file_sha256(path))
