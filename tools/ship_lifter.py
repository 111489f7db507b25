"""Ship a trained lifter: checkpoint + ONNX into engines/models/, measured metrics into the model card.

    python -m tools.ship_lifter --run runs/semgcn_final

Steps (all measured, nothing typed by hand):
 1. ``RUN/last.pt`` (the final epoch) -> ``engines/models/semgcn_lifter.pt`` without optimiser state;
 2. ONNX export (``semgcn.export.export_onnx``: opset 17, dynamic batch, folded adjacencies, checked
    against PyTorch with ONNX Runtime) -> ``engines/models/semgcn_lifter.onnx``;
 3. the shipped ONNX file, through the public ``engines.lifter.Lifter`` (with and without test-time
    flip), on the held-out people and on HDM05, with exact and with BlazePose-like 2D: P1, P1 with the
    true bone lengths, P2, bone-direction error; with ``--baseline``, an earlier file the same way;
 4. ``docs/model_card_lifter.md`` (``tools.model_card``) from those figures and the run's history, and
    the run's figures copied into ``docs/figures/``.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import torch

from semgcn.checkpoint import load_checkpoint, save_checkpoint
from semgcn.datasets.detector_errors import DetectorErrorModel
from semgcn.datasets.lifting import DataOptions, MocapData, prepare_mocap
from semgcn.metrics import p_mpjpe, per_joint_errors, pose_errors_mm
from semgcn.models import count_parameters
from semgcn.rigs import retarget_bone_lengths
from semgcn.train_loop import slim_meta
from tools.model_card import write_model_card

REPO = Path(__file__).resolve().parents[1]
MODELS = REPO / "engines" / "models"
DOCS = REPO / "docs"
KEYS = ("mpjpe_mm", "mpjpe_true_bones_mm", "pmpjpe_mm", "bone_angle_deg", "n")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tools.ship_lifter", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", type=Path, required=True, help="training run folder (with best.pt, history.json)")
    p.add_argument("--checkpoint", default="last.pt",
                   help="checkpoint file in the run (default last.pt: the final epoch, so that no choice was made "
                        "by looking at the held-out people the card reports on)")
    p.add_argument("--models-dir", type=Path, default=MODELS, help=f"where to write the weights ({MODELS})")
    p.add_argument("--docs-dir", type=Path, default=DOCS, help=f"where the model card and figures go ({DOCS})")
    p.add_argument("--note", default="", help="a sentence added to the model card's training section "
                   "(e.g. how this run was chosen among others)")
    p.add_argument("--baseline", type=Path, default=None,
                   help="an earlier lifter .onnx measured the same way, for the card's before/after table")
    p.add_argument("--threads", type=int, default=1, help="CPU threads (default 1)")
    return p


def _per(groups: np.ndarray, pred: np.ndarray, truth: np.ndarray) -> dict:
    return {g: pose_errors_mm(pred[groups == g], truth[groups == g]) for g in sorted(set(groups.tolist()))}


def evaluate_shipped(onnx_path: Path, threads: int, data: MocapData) -> dict:
    """The figures of the shipped ONNX file via ``engines.lifter.Lifter`` (with and without test-time flip)
    on ``data``'s held-out people and HDM05, exact and BlazePose-like 2D."""
    from engines.lifter import Lifter

    # The P2 of the truth itself rebuilt with the CMU body's bone lengths: what a model that got every bone
    # direction right but knew only that body's proportions would score (the proportion floor).
    out = {"description": data.description,
           "proportion_floor_mm": {name: 1000.0 * p_mpjpe(retarget_bone_lengths(s.joints_3d.astype(np.float64)),
                                                          s.joints_3d) for name, s in data.val.items()}}
    for flip in (True, False):
        lifter = Lifter(model_path=onnx_path, threads=threads, flip_test=flip)
        figures = {}
        for name, s in data.val.items():
            pred = lifter.predict(s.keypoints_2d, image_size=s.image_size, focal=s.focal, center=s.center)
            figures[name] = pose_errors_mm(pred, s.joints_3d)
            if flip:
                motion = np.array([c.split("_")[2] if c.count("_") >= 3 else c for c in s.clip])
                figures[name].update(per_person=_per(s.person, pred, s.joints_3d),
                                     per_motion=_per(motion, pred, s.joints_3d),
                                     per_joint_mm=(1000.0 * per_joint_errors(pred, s.joints_3d).mean(axis=0)).tolist())
        out["flip" if flip else "no_flip"] = figures
    return out


def evaluate_baseline(onnx_path: Path, threads: int, data: MocapData) -> dict:
    """Where we started: an earlier ONNX file on the same sets, without flip (it was shipped without)."""
    from engines.lifter import Lifter

    lifter = Lifter(model_path=onnx_path, threads=threads, flip_test=False)
    return {name: pose_errors_mm(lifter.predict(s.keypoints_2d, image_size=s.image_size, focal=s.focal,
                                                center=s.center), s.joints_3d) for name, s in data.val.items()}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    torch.set_num_threads(max(1, args.threads))
    from semgcn.export import export_onnx

    src = args.run / args.checkpoint
    try:
        model, ckpt = load_checkpoint(src)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    meta = slim_meta(ckpt.get("meta", {}))
    args.models_dir.mkdir(parents=True, exist_ok=True)
    pt_path = save_checkpoint(args.models_dir / "semgcn_lifter.pt", model, meta)
    onnx_path = args.models_dir / "semgcn_lifter.onnx"
    result = export_onnx(model, onnx_path, metadata={"semgcn.training_command": meta.get("command", ""),
                                                     "semgcn.licence_data": "CMU mocap (see NOTICE); ReActIdle MIT",
                                                     "semgcn.flip_test": "engines.lifter.Lifter flip_test=True"})
    data = prepare_mocap(DataOptions(), progress=False)  # the test sets, drawn once for both models
    metrics = evaluate_shipped(onnx_path, args.threads, data)
    summary = {"checkpoint": str(pt_path), "onnx": str(onnx_path), "onnx_max_abs_diff_m": result.max_abs_diff,
               "onnx_sha256": result.sha256, "parameters": count_parameters(model),
               "pt_bytes": pt_path.stat().st_size, "onnx_bytes": onnx_path.stat().st_size,
               "metrics": {f"{k}_{flip}": {m: v[m] for m in KEYS} for flip in ("flip", "no_flip")
                           for k, v in metrics[flip].items()}}
    if args.baseline is not None:
        summary["baseline"] = evaluate_baseline(args.baseline, args.threads, data)
    figures = args.docs_dir / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    for name in ("curves.png", "semgconv_weights.png"):
        if (args.run / name).exists():
            shutil.copy(args.run / name, figures / f"lifter_{name}")
    write_model_card(args.docs_dir / "model_card_lifter.md", model, meta, metrics, dict(summary, note=args.note),
                     DetectorErrorModel.load())
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
