"""Evaluate a lifter on an npz file of 2D keypoints and 3D joints, or write the held-out set to one.

Examples::

    python -m tools.evaluate --data val.npz                        # the shipped lifter (ONNX)
    python -m tools.evaluate --data val.npz --model runs/x/best.pt # a checkpoint (PyTorch)
    python -m tools.evaluate --write-val val.npz                   # held-out mocap, exact 2D
    python -m tools.evaluate --write-val val_noisy.npz --noisy     # ... with detector-like 2D error

The npz needs ``keypoints_2d (N,16,2)`` pixels, ``joints_3d (N,16,3)`` camera-frame metres and
``image_size (2,)`` or ``(N,2)``; ``focal`` (scalar or (N,)), ``center`` ((2,) or (N,2)) and ``clip``
are optional (without intrinsics, ``semgcn.codec.default_intrinsics`` is assumed). Prints ONE JSON
line: ``mpjpe_mm`` (P1), ``mpjpe_true_bones_mm`` (P1 after scaling to the true bone lengths), ``pmpjpe_mm``
(P2), ``n``, and with ``--per-clip`` a ``per_clip`` dict of the same figures.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from semgcn.datasets.builder import LiftingSamples, load_samples_npz
from semgcn.metrics import pose_errors_mm

SHIPPED = Path(__file__).resolve().parents[1] / "engines" / "models" / "semgcn_lifter.onnx"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tools.evaluate", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    act = p.add_mutually_exclusive_group(required=True)
    act.add_argument("--data", type=Path, help="npz file to evaluate on")
    act.add_argument("--write-val", type=Path, metavar="FILE.npz",
                     help="write the held-out mocap validation set (virtual cameras, seeded) to FILE.npz")
    p.add_argument("--model", type=Path, default=SHIPPED,
                   help=f"a .onnx file (ONNX Runtime, CPU) or a .pt checkpoint (PyTorch); default {SHIPPED}")
    p.add_argument("--per-clip", action="store_true", help="add the figures of every clip")
    p.add_argument("--noisy", action="store_true", help="with --write-val: detector-like 2D noise and drops")
    p.add_argument("--mocap", type=Path, nargs="+", default=None,
                   help="with --write-val: BVH folders or files (default ../shared/mocap)")
    p.add_argument("--val-people", nargs="+", default=None,
                   help="with --write-val: held-out person ids (default: the standard split of tools.train)")
    p.add_argument("--cache-dir", type=Path, default=None,
                   help="with --write-val: parsed-mocap cache folder (default runs/cache)")
    p.add_argument("--threads", type=int, default=1, help="CPU threads for inference (default 1)")
    return p


def load_predictor(path: Path, threads: int = 1):
    """``inputs (N,16,2) normalised -> (N,16,3) metres`` for a .onnx or .pt model file."""
    if not path.is_file():
        raise FileNotFoundError(f"model file not found: {path}")
    if path.suffix == ".onnx":
        from engines.backends.lifter_onnxruntime import OnnxRuntimeLifterBackend

        return OnnxRuntimeLifterBackend(path, threads=threads).run
    import torch

    from semgcn.checkpoint import load_checkpoint
    from semgcn.train_loop import predict

    torch.set_num_threads(threads)
    model, _ = load_checkpoint(path)
    return lambda x: predict(model, x)


def evaluate(samples: LiftingSamples, predictor, per_clip: bool = False) -> dict:
    """The three figures (mm) of ``predictor`` on ``samples``."""
    pred = np.asarray(predictor(samples.inputs()), dtype=np.float64)
    result = pose_errors_mm(pred, samples.joints_3d)
    if per_clip:
        result["per_clip"] = {str(c): pose_errors_mm(pred[samples.clip == c], samples.joints_3d[samples.clip == c])
                              for c in np.unique(samples.clip)}
    return result


def write_val(path: Path, noisy: bool, mocap=None, val_people=None, cache_dir=None) -> dict:
    """Write the held-out people, seen by the fixed validation cameras, to ``path``."""
    from semgcn.datasets.lifting import DataOptions, prepare_mocap

    opt = DataOptions()
    if mocap:
        opt.mocap = list(mocap)
    if val_people:
        opt.val_people = tuple(val_people)
    if cache_dir:
        opt.cache_dir = cache_dir
    data = prepare_mocap(opt, progress=False)
    samples = data.val["noisy" if noisy else "exact"]
    samples.save_npz(path)
    return {"written": str(path), "n": len(samples), "people": data.description["val_people"],
            "noisy": noisy}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.write_val is not None:
            print(json.dumps(write_val(args.write_val, args.noisy, args.mocap, args.val_people,
                                       args.cache_dir)))
            return 0
        samples = load_samples_npz(args.data)
        result = evaluate(samples, load_predictor(args.model, args.threads), args.per_clip)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result["model"] = str(args.model)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
