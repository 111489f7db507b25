"""How low could HDM05's P2 go with that lab's own data? A measurement of the target, never a shipped model.

    python -m tools.hdm05_reference --hold-out bd bk dg mm tr --epochs 10 --out runs/hdm05_reference \
        --doc docs/hdm05_reference.md

The model card's HDM05 figures come from a lifter that never saw HDM05 (the issue excludes training on
it). This tool asks what the same network reaches when it *has* seen the other lab: for each held-out
actor it fine-tunes the shipped lifter on the other four HDM05 actors (their poses through fresh virtual
webcams each epoch, the recipe's augmentations and pose synthesis), then measures the held-out actor
exactly as the model card's HDM05 rows are measured (the same poses, cameras and seed, exact 2D, with
test-time flip), beside the shipped lifter on the same poses.

The weights stay in ``--out`` (under runs/: never committed, never shipped): HDM05 is CC BY-SA, and
weights trained on it could be a derived work. Only the figures are reported. A fold whose run
already finished its epochs in ``--out`` is measured again without training (so that folds run in
parallel processes can be gathered into one page).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

from semgcn.checkpoint import load_checkpoint
from semgcn.datasets.builder import LiftingSamples
from semgcn.datasets.lifting import DataOptions, MocapData, epoch_generator, prepare_mocap
from semgcn.datasets.mocap import MocapOptions, PoseSet, find_clips, load_poses_cached, never_train, person_id
from semgcn.metrics import pose_errors_mm
from semgcn.train_loop import TrainOptions, predict, train

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "engines" / "models" / "semgcn_lifter.pt"
ACTORS = ("bd", "bk", "dg", "mm", "tr")
TARGET_MM = 30.0  # issue 13: HDM05 P2 from exact 2D at or below this


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tools.hdm05_reference", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--hold-out", nargs="+", default=["bk"], choices=ACTORS,
                   help="HDM05 actors measured, each in its own fold (default bk)")
    p.add_argument("--init", type=Path, default=SHIPPED, help=f"weights fine-tuned (default {SHIPPED})")
    p.add_argument("--epochs", type=int, default=10, help="fine-tuning epochs per fold (default 10)")
    p.add_argument("--lr", type=float, default=3e-4, help="Adam initial learning rate (default 3e-4)")
    p.add_argument("--target-fps", type=float, default=20.0,
                   help="HDM05 training poses kept per second (default 20, as for CMU)")
    p.add_argument("--max-train-poses", type=int, default=None, help="cap per fold (smoke tests)")
    p.add_argument("--steps-per-epoch", type=int, default=None, help="cap optimiser steps (smoke tests)")
    p.add_argument("--mocap", type=Path, nargs="+", default=None, help="mocap folders (default ../shared/mocap)")
    p.add_argument("--cache-dir", type=Path, default=None, help="parsed-mocap cache (default runs/cache)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    p.add_argument("--out", type=Path, required=True, help="folder for the fold runs and reference.json")
    p.add_argument("--doc", type=Path, default=None, help="write the generated page here (e.g. docs/hdm05_reference.md)")
    p.add_argument("--no-progress", action="store_true")
    return p


def _data_options(args) -> DataOptions:
    opt = DataOptions()
    if args.mocap is not None:
        opt.mocap = list(args.mocap)
    if args.cache_dir is not None:
        opt.cache_dir = args.cache_dir
    return opt


def hdm05_training_poses(opt: DataOptions, target_fps: float, progress: bool) -> PoseSet:
    """Every HDM05 pose at ``target_fps`` (only the HDM05 clips are read: the other sets play no part)."""
    clips = [c for c in find_clips(opt.mocap) if never_train(np.array([person_id(c)]))[0]]
    return load_poses_cached(clips, MocapOptions(target_fps_test=target_fps), opt.cache_dir, progress)


def _figures(model: torch.nn.Module, samples: LiftingSamples) -> dict:
    return pose_errors_mm(predict(model, samples.inputs(), flip=True), samples.joints_3d)


def run_fold(actor: str, args, card: MocapData, hdm05: PoseSet) -> dict:
    """Fine-tune on the four other actors, measure ``actor`` as the card does; the shipped model beside it."""
    person = f"hdm05:{actor}"
    test = card.val["hdm05_exact"].select(card.val["hdm05_exact"].person == person)
    poses = hdm05.select(hdm05.person != person)
    if not len(test) or not len(poses):
        raise ValueError(f"fold {person}: {len(test)} test and {len(poses)} training poses "
                         "(the mocap needs that actor and at least one other HDM05 actor)")
    if args.max_train_poses is not None and len(poses) > args.max_train_poses:
        poses = poses.select(np.linspace(0, len(poses) - 1, args.max_train_poses).astype(int))
    run = args.out / f"without_{actor}"
    history = _finished(run, args.epochs)
    if history is None:
        opt = TrainOptions(epochs=args.epochs, lr=args.lr, seed=args.seed, init_checkpoint=str(args.init),
                           steps_per_epoch=args.steps_per_epoch)
        history = train(opt, epoch_generator(poses, args.seed, _data_options(args)),
                        {"held_out_actor": (test.inputs(), test.joints_3d)}, run,
                        meta={"note": "HDM05 reference fold: measurement only, never shipped"},
                        progress=not args.no_progress).history
    tuned, _ = load_checkpoint(run / "last.pt")
    shipped, _ = load_checkpoint(args.init)
    return {"actor": person, "train_poses": len(poses), "train_people": sorted(set(poses.person.tolist())),
            "test_poses": len(test), "epochs": len(history), "seconds": round(history[-1]["seconds"], 1),
            "p2_no_flip_per_epoch": [round(h["val"]["held_out_actor"]["pmpjpe_mm"], 2) for h in history],
            "shipped": _figures(shipped, test), "fine_tuned_on_hdm05": _figures(tuned, test)}


def _finished(run: Path, epochs: int) -> list[dict] | None:
    """The history of a fold run in ``run`` that already has ``epochs`` epochs, else None."""
    try:
        history = json.loads((run / "history.json").read_text())
    except (OSError, ValueError):
        return None
    return history if len(history) == epochs and (run / "last.pt").is_file() else None


def _pooled(folds: list[dict], model: str, key: str) -> float:
    """A figure over every measured pose (the folds weighted by their poses), as one test set reports it."""
    return sum(f[model][key] * f["test_poses"] for f in folds) / sum(f["test_poses"] for f in folds)


def _verdict(tuned_p2: float) -> str:
    if tuned_p2 > TARGET_MM:
        return (f"Trained on the same lab's other actors, the network reaches {tuned_p2:.1f} mm on the held-out ones: "
                f"{tuned_p2 - TARGET_MM:.1f} mm above the issue's {TARGET_MM:.0f} mm target, which a lifter that has "
                "never seen HDM05 would have to beat.")
    return (f"Trained on the same lab's other actors, the network reaches {tuned_p2:.1f} mm on the held-out ones, "
            f"within the {TARGET_MM:.0f} mm target: what the other lab's data adds is what the shipped lifter lacks.")


def _flatness(folds: list[dict]) -> str:
    """How much the held-out P2 still moved at the end of the fine-tuning (is 'epochs' enough?)."""
    tails = [f["p2_no_flip_per_epoch"][-3:] for f in folds if len(f["p2_no_flip_per_epoch"]) >= 3]
    if not tails:
        return "Too few epochs to say whether the held-out P2 had stopped improving."
    moved = max(max(t) - min(t) for t in tails)
    gap = _pooled(folds, "fine_tuned_on_hdm05", "pmpjpe_mm") - TARGET_MM
    return (f"Over the last three epochs the held-out actor's P2 (without flip, per epoch) moved by at most "
            f"{moved:.1f} mm in any fold" + (f", against {gap:.1f} mm between the pooled figure and the target."
                                             if gap > 0 else "."))


def write_page(path: Path, folds: list[dict], command: str) -> None:
    """The generated page: per held-out actor, the shipped lifter and the one fine-tuned on the others."""
    rows = [f"| {f['actor']} | {f['test_poses']} | {', '.join(p.split(':')[1] for p in f['train_people'])} "
            f"({f['train_poses']} poses) | {f['shipped']['pmpjpe_mm']:.1f} | {f['shipped']['bone_angle_deg']:.1f} "
            f"| {f['fine_tuned_on_hdm05']['pmpjpe_mm']:.1f} | {f['fine_tuned_on_hdm05']['bone_angle_deg']:.1f} |"
            for f in folds]
    pooled = (f"| all measured | {sum(f['test_poses'] for f in folds)} | | "
              f"{_pooled(folds, 'shipped', 'pmpjpe_mm'):.1f} | {_pooled(folds, 'shipped', 'bone_angle_deg'):.1f} | "
              f"**{_pooled(folds, 'fine_tuned_on_hdm05', 'pmpjpe_mm'):.1f}** | "
              f"{_pooled(folds, 'fine_tuned_on_hdm05', 'bone_angle_deg'):.1f} |")
    epochs = sorted({f["epochs"] for f in folds})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([
        "# HDM05 with the other lab's own data: a reference for the 30 mm target",
        "",
        f"Generated by `{command}`; do not edit by hand.",
        "",
        "The shipped lifter never saw HDM05 (CC BY-SA: measured on, never trained on). To see how far its",
        "P2 on HDM05 is from what the same network reaches *with* that lab's data, each fold fine-tunes the",
        f"shipped weights for {'/'.join(map(str, epochs))} epochs on the other HDM05 actors (fresh virtual webcams each",
        "epoch, the recipe's augmentations and pose synthesis) and measures the held-out actor exactly as",
        "the model card's HDM05 rows are measured: the same poses, the same fixed cameras, exact 2D, test-time",
        "flip. These weights are a measurement: they stay under runs/ and are never shipped.",
        "",
        "P2 (P-MPJPE) in mm, bone direction in degrees:",
        "",
        "| held-out actor | poses | fine-tuned on | shipped P2 | shipped bone dir | fine-tuned P2 | fine-tuned bone dir |",
        "|---|---|---|---|---|---|---|",
        *rows, pooled,
        "",
        _verdict(_pooled(folds, "fine_tuned_on_hdm05", "pmpjpe_mm")),
        "",
        _flatness(folds),
        "",
    ]))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    torch.set_num_threads(max(1, args.threads))
    if not args.init.is_file():
        print(f"error: --init {args.init}: no such checkpoint", file=sys.stderr)
        return 2
    try:
        opt = _data_options(args)
        card = prepare_mocap(opt, progress=not args.no_progress)
        hdm05 = hdm05_training_poses(opt, args.target_fps, progress=not args.no_progress)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if "hdm05_exact" not in card.val or not len(hdm05):
        print("error: no HDM05 clips in the mocap folders", file=sys.stderr)
        return 2
    try:
        folds = [run_fold(actor, args, card, hdm05) for actor in args.hold_out]
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "reference.json").write_text(json.dumps(folds, indent=1))
    if args.doc is not None:
        command = "python -m tools.hdm05_reference " + " ".join(argv if argv is not None else sys.argv[1:])
        write_page(args.doc, folds, command)
    print("actor      poses  shipped P2 / bone dir   fine-tuned on the other 4 actors: P2 / bone dir")
    for f in folds:
        s, t = f["shipped"], f["fine_tuned_on_hdm05"]
        print(f"{f['actor']:10s} {f['test_poses']:5d}  {s['pmpjpe_mm']:6.1f} / {s['bone_angle_deg']:4.1f}"
              f"            {t['pmpjpe_mm']:6.1f} / {t['bone_angle_deg']:4.1f}")
    print(json.dumps(folds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
