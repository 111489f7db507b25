"""The training loop: Adam on the loss of Eq. 7, validation figures per epoch, checkpoints each epoch,
resume.

No checkpoint is chosen by its error on the sets the run reports: the validation sets here are the
held-out people (mocap) or Human3.6M's test subjects S9 / S11, so a run's result is its final epoch
(``last.pt``). ``select_key`` picks a ``best.pt`` only on a set the caller declares a selection set
(a split of the training people), never by default.

Data come from two callables so that mocap (fresh virtual cameras every epoch) and Human3.6M (fixed
arrays) share the loop: ``epoch_data(epoch) -> (inputs, targets)`` and a dict of validation sets
``name -> (inputs, targets)``; inputs are ``(N, 16, 2)`` normalised 2D, targets ``(N, 16, 3)`` metres.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from tqdm import tqdm

from semgcn.checkpoint import load_checkpoint, save_checkpoint
from semgcn.codec import FLIP_INDEX, MIRROR_2D, MIRROR_3D, flip_average, flip_inputs
from semgcn.losses import pose_loss
from semgcn.metrics import pose_errors_mm
from semgcn.models import build_model, count_parameters

Arrays = tuple[np.ndarray, np.ndarray]


@dataclass
class TrainOptions:
    """Training hyper-parameters.

    Attributes:
        model: a name of ``semgcn.models.MODEL_NAMES``.
        model_config: keyword arguments of ``build_model`` (e.g. ``{"hidden": 256}``).
        epochs: passes over the (re-drawn) training data.
        batch_size: 64 in the paper.
        lr: Adam's initial learning rate (1e-3 in the paper).
        lr_final: learning rate reached at the end by exponential decay, as a fraction of ``lr``.
            (The paper halves it when the validation loss saturates; with a fixed, short budget a
            smooth decay is reproducible and does not depend on a noisy plateau detector.)
        bone_weight: weight of the bone term of Eq. 7 (0: joints only, Configuration #1).
        seed: seeds torch, the shuffling and (through ``epoch_data``) the virtual cameras.
        steps_per_epoch: cap on optimiser steps per epoch (None: the whole epoch); for smoke tests.
        grad_clip: max gradient norm (None: no clipping).
        select_key: a validation set that is *not* a test set (a split of the training people)
            whose P1 picks ``best.pt``; None (default): no selection, the final epoch is the result.
        device: torch device ("cpu", "cuda", ...); checkpoints are always written for the CPU.
        init_checkpoint: start from these weights (fine-tuning); the network is the checkpoint's, and
            ``model`` / ``model_config`` are ignored.
        teacher_checkpoint: a frozen teacher for flip distillation: its test-time flip prediction (the
            mean of its prediction and that of the mirrored input, mirrored back) becomes a second target,
            so that one pass of the student learns what two passes of the teacher give.
        distill_weight: share of the loss on the teacher's target (the rest on the ground truth).
    """

    model: str = "semgcn"
    model_config: dict = field(default_factory=dict)
    epochs: int = 30
    batch_size: int = 64
    lr: float = 1e-3
    lr_final: float = 0.05
    bone_weight: float = 0.0
    seed: int = 0
    steps_per_epoch: int | None = None
    grad_clip: float | None = 1.0
    select_key: str | None = None
    device: str = "cpu"
    init_checkpoint: str | None = None
    teacher_checkpoint: str | None = None
    distill_weight: float = 0.5


@dataclass
class TrainResult:
    """What a run produced: the history (one dict per epoch) and the checkpoint paths
    (``best_checkpoint`` is None unless ``select_key`` chose one)."""

    history: list[dict]
    last_checkpoint: Path
    best_checkpoint: Path | None
    parameters: int
    seconds: float


def predict(model: torch.nn.Module, inputs: np.ndarray, batch_size: int = 1024, flip: bool = False) -> np.ndarray:
    """Run ``model`` in eval mode on ``(N, 16, 2)`` inputs; returns ``(N, 16, 3)`` float32.

    ``flip``: test-time flip augmentation, the mean of the prediction and that of the mirrored input
    mirrored back (``semgcn.codec.flip_average``), as the live lifter does.
    """
    model.eval()
    device = next(model.parameters()).device
    out = []
    with torch.no_grad():
        for start in range(0, len(inputs), batch_size):
            chunk = np.ascontiguousarray(inputs[start:start + batch_size], dtype=np.float32)
            if flip:
                chunk = np.concatenate([chunk, flip_inputs(chunk)])
            y = model(torch.from_numpy(chunk).to(device)).cpu().numpy()
            out.append(flip_average(y) if flip else y)
    return np.concatenate(out) if out else np.zeros((0, 16, 3), np.float32)


def evaluate_sets(model: torch.nn.Module, val_sets: dict[str, Arrays], flip: bool = False) -> dict[str, dict]:
    """The figures of ``semgcn.metrics.pose_errors_mm`` on each validation set."""
    return {name: pose_errors_mm(predict(model, x, flip=flip), y) for name, (x, y) in val_sets.items()}


def flip_predict_torch(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``model``'s test-time flip prediction of a batch, in torch (the training-time twin of
    ``semgcn.codec.flip_average`` over ``flip_inputs``, which work on numpy arrays)."""
    index = torch.as_tensor(FLIP_INDEX, device=x.device)
    mirror_2d = torch.as_tensor(MIRROR_2D, device=x.device, dtype=x.dtype)
    mirror_3d = torch.as_tensor(MIRROR_3D, device=x.device, dtype=x.dtype)
    y = model(torch.cat([x, x[:, index] * mirror_2d]))
    n = len(x)
    return 0.5 * (y[:n] + y[n:, index] * mirror_3d)


def _teacher(opt: TrainOptions, device: torch.device) -> torch.nn.Module | None:
    if opt.teacher_checkpoint is None:
        return None
    teacher, _ = load_checkpoint(opt.teacher_checkpoint)
    for param in teacher.parameters():
        param.requires_grad_(False)
    return teacher.to(device).eval()


def _batch_loss(opt: TrainOptions, model: torch.nn.Module, teacher: torch.nn.Module | None,
                x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    pred = model(x)
    loss = pose_loss(pred, y, opt.bone_weight)
    if teacher is None:
        return loss
    with torch.no_grad():
        target = flip_predict_torch(teacher, x)
    return (1.0 - opt.distill_weight) * loss + opt.distill_weight * pose_loss(pred, target, opt.bone_weight)


def batch_starts(n: int, batch_size: int) -> list[int]:
    """Start index of each mini-batch of ``n`` samples; a last batch of one sample is dropped (batch
    norm cannot normalise over one sample: the FC baseline raised on it)."""
    return [s for s in range(0, n, batch_size) if min(batch_size, n - s) >= 2]


def _lr_at(opt: TrainOptions, step: int, total: int) -> float:
    return opt.lr * math.exp(math.log(opt.lr_final) * min(step / max(total, 1), 1.0))


def train(opt: TrainOptions, epoch_data: Callable[[int], Arrays], val_sets: dict[str, Arrays],
          out_dir: str | Path, resume: bool = False, meta: dict | None = None,
          on_epoch: Callable[[torch.nn.Module, list[dict], Path], None] | None = None,
          progress: bool = True) -> TrainResult:
    """Train a model and write ``last.pt`` (and with ``select_key`` ``best.pt``) and ``history.json``.

    Args:
        opt: hyper-parameters.
        epoch_data: returns this epoch's ``(inputs, targets)``.
        val_sets: validation sets by name (``opt.select_key``, if set, names the selection set).
        out_dir: run folder (created).
        resume: continue from ``out_dir/last.pt`` (same options expected).
        meta: extra information stored in every checkpoint (data description, command line).
        on_epoch: called after each epoch with (model, history, out_dir), e.g. to draw figures.
        progress: show tqdm bars.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(opt.seed)
    device = torch.device(opt.device)
    if opt.init_checkpoint is not None:
        model = load_checkpoint(opt.init_checkpoint)[0].to(device)
    else:
        model = build_model(opt.model, **opt.model_config).to(device)
    teacher = _teacher(opt, device)
    optimiser = torch.optim.Adam(model.parameters(), lr=opt.lr)
    history: list[dict] = []
    start_epoch, step, best = 0, 0, math.inf
    if resume and (out / "last.pt").exists():
        model, ckpt = load_checkpoint(out / "last.pt")
        model = model.to(device)
        optimiser = torch.optim.Adam(model.parameters(), lr=opt.lr)
        optimiser.load_state_dict(ckpt["meta"]["optimizer"])
        history = list(ckpt["meta"]["history"])
        start_epoch, step = ckpt["meta"]["epoch"] + 1, ckpt["meta"]["step"]
        best = min([h["val"][opt.select_key]["mpjpe_mm"] for h in history if opt.select_key] or [math.inf])
        torch.set_rng_state(ckpt["meta"]["torch_rng"])
    # Every epoch has as many samples as the first one run here, which is drawn once and used below.
    first = epoch_data(start_epoch) if start_epoch < opt.epochs else None
    steps_per_epoch = len(batch_starts(len(first[0]) if first is not None else 0, opt.batch_size))
    if opt.steps_per_epoch:
        steps_per_epoch = min(steps_per_epoch, opt.steps_per_epoch)
    total_steps = steps_per_epoch * opt.epochs
    t0 = time.time()
    for epoch in range(start_epoch, opt.epochs):
        x_all, y_all = first if first is not None else epoch_data(epoch)
        first = None
        order = np.random.default_rng(opt.seed * 1000 + epoch).permutation(len(x_all))
        model.train()
        losses = []
        bar = tqdm(range(steps_per_epoch), desc=f"epoch {epoch + 1}/{opt.epochs}", disable=not progress,
                   leave=False, unit="step")
        starts = batch_starts(len(x_all), opt.batch_size)
        for b in bar:
            idx = order[starts[b]:starts[b] + opt.batch_size]
            for group in optimiser.param_groups:
                group["lr"] = _lr_at(opt, step, total_steps)
            x = torch.from_numpy(x_all[idx]).to(device)
            y = torch.from_numpy(y_all[idx]).to(device)
            loss = _batch_loss(opt, model, teacher, x, y)
            optimiser.zero_grad()
            loss.backward()
            if opt.grad_clip:
                torch.nn.utils.clip_grad_norm_(model.parameters(), opt.grad_clip)
            optimiser.step()
            step += 1
            losses.append(loss.item())
            if b % 20 == 0:
                bar.set_postfix(loss=f"{np.mean(losses[-20:]):.4f}")
        val = evaluate_sets(model, val_sets)
        record = {"epoch": epoch + 1, "step": step, "lr": _lr_at(opt, step, total_steps),
                  "train_loss": float(np.mean(losses)), "seconds": time.time() - t0, "val": val}
        history.append(record)
        summary = " ".join(f"{k}: P1 {v['mpjpe_mm']:.1f} P1-true-bones {v['mpjpe_true_bones_mm']:.1f} P2 {v['pmpjpe_mm']:.1f} bones {v['bone_angle_deg']:.1f} deg"
                           for k, v in val.items())
        tqdm.write(f"epoch {epoch + 1}/{opt.epochs} loss {record['train_loss']:.4f} | {summary} (mm)")
        ckpt_meta = dict(meta or {}, epoch=epoch, step=step, history=history, options=asdict(opt),
                         optimizer=optimiser.state_dict(), torch_rng=torch.get_rng_state())
        save_checkpoint(out / "last.pt", model, ckpt_meta)
        if opt.select_key and val[opt.select_key]["mpjpe_mm"] < best:
            best = val[opt.select_key]["mpjpe_mm"]
            save_checkpoint(out / "best.pt", model, slim_meta(ckpt_meta))
        (out / "history.json").write_text(json.dumps(history, indent=1))
        if on_epoch is not None:
            on_epoch(model, history, out)
    best_path = out / "best.pt" if opt.select_key and (out / "best.pt").exists() else None
    return TrainResult(history, out / "last.pt", best_path, count_parameters(model), time.time() - t0)


def slim_meta(meta: dict) -> dict:
    """Checkpoint meta without the optimiser and RNG state (for shipped / best weights)."""
    return {k: v for k, v in meta.items() if k not in ("optimizer", "torch_rng")}
