"""Measure BlazePose's 2D errors on the demo figure driven by motion capture, and fit the error model.

    python -m tools.fit_detector_errors                     # writes semgcn/datasets/blazepose_errors.json

Chunks of the *training* people's clips (never the held-out ones, never HDM05) are rendered at 30 fps
through random webcams and detected by our BlazePose engines in video mode; the detected 16 joints are
compared with the exact projections of the mocap joints, and ``semgcn.datasets.detector_errors.fit``
turns the differences into the model the lifter is trained with. Prints what it measured: the width
factors of hips and shoulders, the mean offset and spread of each joint per view, the swap rates and
how often BlazePose gave no pose or a joint of low visibility.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from semgcn.datasets import detector_errors as de
from semgcn.datasets.lifting import DEFAULT_MOCAP
from semgcn.datasets.mocap import DEFAULT_VAL_PEOPLE, NEVER_TRAIN
from semgcn.skeleton import JOINT_NAMES
from tools.mocap_render import cached, clips_of, plan_chunks, render_and_detect

REPO = Path(__file__).resolve().parents[1]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tools.fit_detector_errors", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mocap", type=Path, nargs="+", default=[DEFAULT_MOCAP], help="mocap folders")
    p.add_argument("--chunks", type=int, default=40, help="clip stretches, each with its own camera (default 40)")
    p.add_argument("--frames", type=int, default=120, help="frames per chunk at 30 fps (default 120)")
    p.add_argument("--seed", type=int, default=7, help="seed of the chunks and cameras")
    p.add_argument("--out", type=Path, default=de.BLAZEPOSE_ERRORS, help="the model file to write")
    p.add_argument("--cache", type=Path, default=REPO / "runs" / "detector_errors.npz",
                   help="rendered detections are kept here and reused (delete it to measure again)")
    p.add_argument("--no-progress", action="store_true", help="no tqdm bar")
    return p


def absolute_joints(data: dict) -> np.ndarray:
    """Camera-frame joints placed along the pelvis's ray (the depth is irrelevant to the view)."""
    pelvis = data["true_2d"][:, 0].astype(np.float64)
    ray = np.concatenate([(pelvis - data["center"]) / data["focal"][:, None], np.ones((len(pelvis), 1))], 1)
    return data["joints_3d"].astype(np.float64) + 3.5 * ray[:, None, :]


def report(model: de.DetectorErrorModel, data: dict) -> None:
    vis = data["visibility"][data["found"]]
    print(f"frames {len(data['found'])}, no pose in {100 * (1 - data['found'].mean()):.1f} %")
    views = de.view_bucket(absolute_joints(data)[data["found"]])
    for v, view in enumerate(de.VIEWS):
        print(f"{view} ({(views == v).sum()} frames): hip width x{model.hip_width[v]:.3f}, shoulder width "
              f"x{model.shoulder_width[v]:.3f}, full left-right swap {100 * model.full_swap[v]:.1f} %, one limb pair "
              f"{100 * model.limb_swap[v]:.1f} %, outliers {100 * model.outlier_rate[v]:.2f} % of joints")
        print("  offset u,v / spread u,v (x RMS body scale): " + ", ".join(
            f"{n} {o[0]:+.3f},{o[1]:+.3f}/{s[0]:.3f},{s[1]:.3f}"
            for n, o, s in zip(JOINT_NAMES, model.offset_uv[v], model.sigma_uv[v])))
    print("visibility < 0.5 per joint (%): " + ", ".join(
        f"{n} {100 * (vis[:, j] < 0.5).mean():.1f}" for j, n in enumerate(JOINT_NAMES)))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    exclude = set(DEFAULT_VAL_PEOPLE) | set(NEVER_TRAIN)
    try:
        clips = clips_of(args.mocap, exclude=exclude)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    rng = np.random.default_rng(args.seed)

    def make():
        return render_and_detect(plan_chunks(rng, clips, args.chunks, args.frames), args.seed,
                                 progress=not args.no_progress)
    data = cached(args.cache, make)
    found = data["found"]
    source = (f"tools.fit_detector_errors: {int(found.sum())} frames of {args.chunks} chunks of training people's "
              f"clips (held out: none of {', '.join(sorted(exclude))}), demo figure at 30 fps, random webcams, "
              "engines.detector.PoseDetector (onnxruntime, video mode)")
    model = de.fit(data["detected_2d"][found].astype(np.float64), data["true_2d"][found].astype(np.float64),
                   absolute_joints(data)[found], float(1 - found.mean()), source)
    model.save(args.out)
    report(model, data)
    print(json.dumps({"written": str(args.out), "frames": model.frames}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
