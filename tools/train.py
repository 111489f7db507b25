"""Train a lifter on mocap seen by virtual webcams (default) or on Human3.6M (``--h36m DIR``).

Examples::

    python -m tools.train --model semgcn --epochs 30 --out runs/semgcn
    python -m tools.train --model semgcn --epochs 30 --out runs/semgcn --resume
    python -m tools.train --h36m data/h36m --model semgcn --epochs 50 --out runs/h36m   # paper protocol
    python -m tools.train --mocap my_bvh_folder --val-people my_actor --out runs/mine

Writes into ``--out``: ``last.pt`` (every epoch, with the optimiser: ``--resume`` continues from it),
``history.json``, ``curves.png`` (Fig. 4) and ``semgconv_weights.png`` (Fig. 7 / 8). Every epoch
prints P1, P1 with the true bone lengths, P2 (mm) and the bone-direction error on each validation set.
The result is the final epoch: no checkpoint is picked by its error on the held-out people or, with
``--h36m``, on the test subjects S9 / S11 (the paper's code kept the best epoch on them).
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

import torch

from semgcn.datasets.augment import ISOTROPIC_AUGMENT, NO_AUGMENT, RECIPE_AUGMENT
from semgcn.datasets.lifting import (DEFAULT_CACHE, DEFAULT_MOCAP, DataOptions, as_arrays, epoch_generator,
                                     prepare_mocap)
from semgcn.datasets.synthesis import NO_SYNTHESIS, SynthesisOptions
from semgcn.datasets.mocap import DEFAULT_VAL_PEOPLE
from semgcn.figures import plot_curves, plot_semgconv_weights
from semgcn.models import MODEL_NAMES
from semgcn.train_loop import TrainOptions, train


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tools.train", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="semgcn", choices=MODEL_NAMES, help="network (default semgcn)")
    p.add_argument("--hidden", type=int, default=None,
                   help="hidden channels (graph nets: per joint, default 128; fc: units, default 1024)")
    p.add_argument("--dropout", type=float, default=None, help="dropout after hidden layers (default: model's)")
    p.add_argument("--channel-wise", action="store_true", help="graph nets: channel-wise SemGConv (Eq. 3)")
    p.add_argument("--modulated", action="store_true",
                   help="graph nets: Modulated-GCN weight and affinity modulation of SemGConv (ICCV 2021)")
    p.add_argument("--epochs", type=int, default=30, help="epochs (default 30)")
    p.add_argument("--batch-size", type=int, default=64, help="mini-batch size (paper: 64)")
    p.add_argument("--lr", type=float, default=1e-3, help="Adam initial learning rate (paper: 1e-3)")
    p.add_argument("--lr-final", type=float, default=0.05,
                   help="fraction of --lr reached at the end by exponential decay (default 0.05)")
    p.add_argument("--bone-weight", type=float, default=0.0, help="weight of Eq. 7's bone term (default 0)")
    p.add_argument("--seed", type=int, default=0, help="seed of torch, shuffling and virtual cameras")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1: the CPU is shared)")
    p.add_argument("--device", default="cpu", help="torch device, e.g. cuda for Human3.6M-sized runs (default cpu)")
    p.add_argument("--steps-per-epoch", type=int, default=None, help="cap optimiser steps per epoch (smoke tests)")
    p.add_argument("--out", type=Path, required=True, help="run folder for checkpoints, history, figures")
    p.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    p.add_argument("--init", type=Path, default=None,
                   help="fine-tune: start from this checkpoint's network and weights (--model and its options "
                        "are then ignored)")
    p.add_argument("--teacher", type=Path, default=None,
                   help="flip distillation: a frozen checkpoint whose test-time flip prediction is a second "
                        "target (e.g. the run that --init starts from)")
    p.add_argument("--distill-weight", type=float, default=0.5,
                   help="share of the loss on --teacher's target, the rest on the truth (default 0.5)")
    p.add_argument("--mocap", type=Path, nargs="+", default=[DEFAULT_MOCAP],
                   help=f"BVH folders or files (default {DEFAULT_MOCAP})")
    p.add_argument("--val-people", nargs="+", default=list(DEFAULT_VAL_PEOPLE),
                   help="person ids held out for validation (cmu:SUBJECT, reactidle:NNN, or a clip's folder name)")
    p.add_argument("--target-fps", type=float, default=20.0, help="poses kept per second of general mocap")
    p.add_argument("--target-fps-idle", type=float, default=4.0, help="poses kept per second of ReActIdle")
    p.add_argument("--target-fps-test", type=float, default=10.0, help="poses kept per second of HDM05 (test only)")
    p.add_argument("--no-augment", action="store_true", help="no flip / bone scaling / 2D noise / drops")
    p.add_argument("--no-synthesis", action="store_true", help="no pose synthesis (mixing, blending, tilting)")
    p.add_argument("--no-detector-model", action="store_true",
                   help="isotropic 2D noise only, not the fitted BlazePose error model")
    p.add_argument("--max-train-poses", type=int, default=None, help="use at most this many training poses")
    p.add_argument("--max-val-poses", type=int, default=None, help="use at most this many validation poses")
    p.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE, help="parsed-mocap cache folder")
    p.add_argument("--h36m", type=Path, default=None,
                   help="Human3.6M folder with data_3d_h36m.npz and data_2d_h36m_gt.npz: train S1 S5 S6 S7 S8, "
                        "test S9 S11 (the paper's protocol #1) instead of mocap")
    p.add_argument("--no-progress", action="store_true", help="no tqdm bars")
    return p


def model_config(args) -> dict:
    cfg = {k: True for k in ("channel_wise", "modulated") if getattr(args, k, False)}
    if args.hidden is not None:
        cfg["hidden"] = args.hidden
    if args.dropout is not None:
        cfg["dropout"] = args.dropout
    return cfg


def data_options(args) -> DataOptions:
    augment = NO_AUGMENT if args.no_augment else ISOTROPIC_AUGMENT if args.no_detector_model else RECIPE_AUGMENT
    return DataOptions(mocap=args.mocap, val_people=tuple(args.val_people), target_fps=args.target_fps,
                       target_fps_idle=args.target_fps_idle, target_fps_test=args.target_fps_test,
                       cache_dir=args.cache_dir, augment=augment,
                       synthesis=NO_SYNTHESIS if args.no_synthesis else SynthesisOptions(),
                       max_train_poses=args.max_train_poses, max_val_poses=args.max_val_poses)


def load_data(args):
    """``(epoch_data, val_sets, description)`` for mocap or Human3.6M."""
    if args.h36m is not None:
        from semgcn.datasets.h36m import load_h36m_protocol1

        data = load_h36m_protocol1(args.h36m)
        return (lambda epoch: data.train), {"exact": data.test}, data.description
    opt = data_options(args)
    mocap = prepare_mocap(opt, progress=not args.no_progress)
    return epoch_generator(mocap.train, args.seed, opt), as_arrays(mocap.val), mocap.description


def draw_figures(model, history, out: Path) -> None:
    plot_curves({getattr(model, "model_name", "model"): history}, out / "curves.png")
    plot_semgconv_weights(model, out / "semgconv_weights.png")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    torch.set_num_threads(max(1, args.threads))
    for flag, path in (("--init", args.init), ("--teacher", args.teacher)):
        if path is not None and not path.is_file():
            print(f"error: {flag} {path}: no such checkpoint", file=sys.stderr)
            return 2
    if not 0.0 <= args.distill_weight <= 1.0:
        print(f"error: --distill-weight must be in [0, 1], got {args.distill_weight}", file=sys.stderr)
        return 2
    try:
        epoch_data, val_sets, description = load_data(args)
    except (FileNotFoundError, ValueError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    opt = TrainOptions(model=args.model, model_config=model_config(args), epochs=args.epochs,
                       batch_size=args.batch_size, lr=args.lr, lr_final=args.lr_final,
                       bone_weight=args.bone_weight, seed=args.seed, steps_per_epoch=args.steps_per_epoch,
                       device=args.device, init_checkpoint=str(args.init) if args.init else None,
                       teacher_checkpoint=str(args.teacher) if args.teacher else None,
                       distill_weight=args.distill_weight)
    command = "python -m tools.train " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    result = train(opt, epoch_data, val_sets, args.out, resume=args.resume,
                   meta={"data": description, "command": command}, on_epoch=draw_figures,
                   progress=not args.no_progress)
    final = result.history[-1] if result.history else {}
    model = args.model if args.init is None else f"fine-tuned from {args.init}"
    print(json.dumps({"model": model, "parameters": result.parameters, "epochs": len(result.history),
                      "seconds": round(result.seconds, 1), "checkpoint": str(result.last_checkpoint),
                      "val": final.get("val", {})}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
