"""The training loop: Adam on the loss of Eq. 7, validation P1 / scaled P1 / P2 per epoch, checkpoints
each epoch, resume.

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
        val_key: validation set whose P1 picks ``best.pt``.
        device: torch device ("cpu", "cuda", ...); checkpoints are always written for the CPU.
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
    val_key: str = "exact"
    device: str = "cpu"


@dataclass
class TrainResult:
    """What a run produced: the history (one dict per epoch) and the checkpoint paths."""

    history: list[dict]
    last_checkpoint: Path
    best_checkpoint: Path
    parameters: int
    seconds: float


def predict(model: torch.nn.Module, inputs: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Run ``model`` in eval mode on ``(N, 16, 2)`` inputs; returns ``(N, 16, 3)`` float32."""
    model.eval()
    device = next(model.parameters()).device
    out = []
    with torch.no_grad():
        for start in range(0, len(inputs), batch_size):
            x = torch.from_numpy(np.ascontiguousarray(inputs[start:start + batch_size], dtype=np.float32))
            out.append(model(x.to(device)).cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, 16, 3), np.float32)


def evaluate_sets(model: torch.nn.Module, val_sets: dict[str, Arrays]) -> dict[str, dict]:
    """The three figures (P1, scale-calibrated P1, P2, in mm) on each validation set."""
    return {name: pose_errors_mm(predict(model, x), y) for name, (x, y) in val_sets.items()}


def _lr_at(opt: TrainOptions, step: int, total: int) -> float:
    return opt.lr * math.exp(math.log(opt.lr_final) * min(step / max(total, 1), 1.0))


def train(opt: TrainOptions, epoch_data: Callable[[int], Arrays], val_sets: dict[str, Arrays],
          out_dir: str | Path, resume: bool = False, meta: dict | None = None,
          on_epoch: Callable[[torch.nn.Module, list[dict], Path], None] | None = None,
          progress: bool = True) -> TrainResult:
    """Train a model and write ``last.pt``, ``best.pt`` and ``history.json`` into ``out_dir``.

    Args:
        opt: hyper-parameters.
        epoch_data: returns this epoch's ``(inputs, targets)``.
        val_sets: validation sets by name; ``opt.val_key`` selects the best checkpoint.
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
    model = build_model(opt.model, **opt.model_config).to(device)
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
        best = min([h["val"][opt.val_key]["mpjpe_mm"] for h in history] or [math.inf])
        torch.set_rng_state(ckpt["meta"]["torch_rng"])
    # Every epoch has as many samples as the first one run here, which is drawn once and used below.
    first = epoch_data(start_epoch) if start_epoch < opt.epochs else None
    steps_per_epoch = math.ceil((len(first[0]) if first is not None else 0) / opt.batch_size)
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
        for b in bar:
            idx = order[b * opt.batch_size:(b + 1) * opt.batch_size]
            for group in optimiser.param_groups:
                group["lr"] = _lr_at(opt, step, total_steps)
            x = torch.from_numpy(x_all[idx]).to(device)
            y = torch.from_numpy(y_all[idx]).to(device)
            loss = pose_loss(model(x), y, opt.bone_weight)
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
        if val and val[opt.val_key]["mpjpe_mm"] < best:
            best = val[opt.val_key]["mpjpe_mm"]
            save_checkpoint(out / "best.pt", model, slim_meta(ckpt_meta))
        (out / "history.json").write_text(json.dumps(history, indent=1))
        if on_epoch is not None:
            on_epoch(model, history, out)
    if not (out / "best.pt").exists():
        save_checkpoint(out / "best.pt", model, slim_meta(dict(meta or {}, history=history, options=asdict(opt))))
    return TrainResult(history, out / "last.pt", out / "best.pt", count_parameters(model), time.time() - t0)


def slim_meta(meta: dict) -> dict:
    """Checkpoint meta without the optimiser and RNG state (for shipped / best weights)."""
    return {k: v for k, v in meta.items() if k not in ("optimizer", "torch_rng")}
