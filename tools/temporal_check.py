"""Measure the live temporal stages against ground truth: none, One Euro, and the temporal stage.

    python -m tools.temporal_check                        # writes docs/temporal.md

1. **Rendered held-out sequences**: stretches of the held-out people's clips (and of HDM05's) played
   at 30 fps on the demo figure through random webcams, detected by our BlazePose engines in video mode
   (``tools.mocap_render``), lifted by the shipped lifter with the cameras' intrinsics, then passed
   frame by frame through each stage, causally, as the live pipeline does.
2. **The live demo**: the ``demo`` source through the real ``realtime.core.pipeline.Pipeline`` (detector,
   lifter, the stage, calibration), unpaced so that every configuration sees the same frames.

Figures: P1 and P2 (mm), bone-direction error (degrees), acceleration error (jitter, mm per frame²),
lag behind the truth (frames; ``semgcn.metrics.lag_frames``), the coefficient of variation of the bone
lengths over a sequence (%), and the depth jitter (mm per frame²: the acceleration error of z alone).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from realtime.core.smoothing import JointSmoother
from realtime.core.temporal import TemporalFilter
from semgcn.datasets.lifting import DEFAULT_MOCAP
from semgcn.datasets.mocap import DEFAULT_VAL_PEOPLE
from semgcn.metrics import acceleration_error_mm, bone_angles_deg, lag_frames, mpjpe, p_mpjpe
from semgcn.skeleton import bone_lengths
from tools.mocap_render import FPS, cached, clips_of, plan_chunks, render_and_detect

REPO = Path(__file__).resolve().parents[1]
STAGES = {"none": lambda: None, "One Euro": JointSmoother, "temporal": TemporalFilter}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tools.temporal_check", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mocap", type=Path, nargs="+", default=[DEFAULT_MOCAP], help="mocap folders")
    p.add_argument("--chunks", type=int, default=16, help="held-out stretches per test set (default 16)")
    p.add_argument("--frames", type=int, default=150, help="frames per stretch at 30 fps (default 150)")
    p.add_argument("--demo-frames", type=int, default=600, help="live demo frames (0: skip; default 600)")
    p.add_argument("--lifter-model", type=Path, default=None, help="lifter .onnx (default: the shipped one)")
    p.add_argument("--seed", type=int, default=11, help="seed of the stretches and cameras")
    p.add_argument("--cache", type=Path, default=REPO / "runs" / "temporal_check", help="rendered detections folder")
    p.add_argument("--report", type=Path, default=REPO / "docs" / "temporal.md", help="markdown report to write")
    p.add_argument("--no-progress", action="store_true", help="no tqdm bars")
    return p


def sequence_figures(pred: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """The figures of one person's consecutive frames ``(T, 16, 3)`` (metres, root-relative)."""
    lengths = bone_lengths(pred)
    return {"mpjpe_mm": 1e3 * mpjpe(pred, truth), "pmpjpe_mm": 1e3 * p_mpjpe(pred, truth),
            "bone_angle_deg": float(bone_angles_deg(pred, truth).mean()),
            "accel_mm": acceleration_error_mm(pred, truth), "lag_frames": lag_frames(pred, truth),
            "bone_cv_pct": 100 * float(np.median(lengths.std(0) / np.maximum(lengths.mean(0), 1e-9))),
            "depth_accel_mm": acceleration_error_mm(pred[..., 2:], truth[..., 2:])}


def run_stage(make, lifted: np.ndarray, keypoints: np.ndarray, found: np.ndarray) -> np.ndarray:
    """One chunk's lifted poses through a fresh stage, frame by frame (None where nobody was found)."""
    stage, out = make(), lifted.copy()
    if stage is None:  # "none": the poses as lifted
        return out
    for i in range(len(lifted)):
        if isinstance(stage, TemporalFilter):
            y = stage(lifted[i] if found[i] else None, keypoints[i], i / FPS)
        else:
            y = stage(lifted[i] if found[i] else None, i / FPS)
        if y is not None:
            out[i] = y
    return out


def rendered(args, name: str, people: set[str] | None, exclude: set[str]) -> dict[str, dict]:
    """Per stage, the figures averaged over the chunks of one held-out set."""
    from engines.lifter import Lifter

    rng = np.random.default_rng(args.seed)
    clips = clips_of(args.mocap, people=people, exclude=exclude)
    data = cached(args.cache / f"{name}.npz", lambda: render_and_detect(
        plan_chunks(rng, clips, args.chunks, args.frames), args.seed, progress=not args.no_progress))
    lifter = Lifter(model_path=args.lifter_model, threads=1)
    found = data["found"]
    lifted = np.zeros(data["joints_3d"].shape, np.float32)
    lifted[found] = lifter.predict(data["detected_2d"][found], image_size=data["image_size"][found],
                                   focal=data["focal"][found], center=data["center"][found])
    exact = np.zeros_like(lifted)
    exact[found] = lifter.predict(data["true_2d"][found], image_size=data["image_size"][found],
                                  focal=data["focal"][found], center=data["center"][found])
    runs = {f"{stage}": (make, lifted) for stage, make in STAGES.items()}
    runs["none, exact 2D instead of BlazePose's (reference)"] = (STAGES["none"], exact)
    results = {}
    for stage, (make, poses) in runs.items():
        per_chunk = []
        for c in np.unique(data["chunk"]):
            rows = (data["chunk"] == c)
            out = run_stage(make, poses[rows], data["detected_2d"][rows], found[rows])
            keep = found[rows]
            per_chunk.append(sequence_figures(out[keep].astype(np.float64), data["joints_3d"][rows][keep].astype(np.float64)))
        results[stage] = {k: float(np.mean([f[k] for f in per_chunk])) for k in per_chunk[0]}
        results[stage]["frames"] = int(found.sum())
    return results


def live_demo(frames: int) -> dict[str, dict]:
    """Per stage, the figures of the demo source through the real pipeline."""
    from realtime.core.smoothing import SmoothingStage
    from realtime.core.temporal import TemporalStage
    from tools.smoothing_check import demo_poses

    results = {}
    for stage, make in (("none", lambda: None), ("One Euro", SmoothingStage), ("temporal", TemporalStage)):
        pred, truth = demo_poses(frames, make())
        results[stage] = sequence_figures(pred, truth)
        results[stage]["frames"] = len(pred)
    return results


def table(results: dict[str, dict]) -> str:
    rows = ["| stage | frames | P1 | P2 | bone dir (deg) | accel error (mm/frame²) | depth accel | lag (frames) "
            "| bone length CV (%) |", "|---|---|---|---|---|---|---|---|---|"]
    for stage, r in results.items():
        rows.append(f"| {stage} | {r['frames']} | {r['mpjpe_mm']:.1f} | {r['pmpjpe_mm']:.1f} | {r['bone_angle_deg']:.1f} "
                    f"| {r['accel_mm']:.2f} | {r['depth_accel_mm']:.2f} | {r['lag_frames']:+.1f} | {r['bone_cv_pct']:.1f} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    held = set(DEFAULT_VAL_PEOPLE)
    try:
        sets = {"held-out CMU and ReActIdle people": rendered(args, "heldout", held, set()),
                "HDM05 (another lab)": rendered(args, "hdm05", None, {"cmu:", "reactidle:"})}
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.demo_frames:
        sets[f"the live demo (run_live's pipeline, {args.demo_frames} frames)"] = live_demo(args.demo_frames)
    command = "python -m tools.temporal_check " + " ".join(argv if argv is not None else sys.argv[1:])
    body = "\n\n".join(f"### {name}\n\n{table(r)}" for name, r in sets.items())
    args.report.write_text(REPORT.format(command=command.strip(), chunks=args.chunks, frames=args.frames, body=body))
    print(body)
    print(json.dumps(sets))
    return 0


REPORT = """# Temporal stages measured: none, One Euro, the temporal stage

Generated by `{command}`; do not edit by hand.

Rendered sequences: {chunks} stretches of {frames} frames (30 fps) per test set, each from a random clip
of the test people on the demo figure through its own random webcam, detected by our BlazePose engines in
video mode, lifted by the shipped lifter (known intrinsics), then passed causally through each stage
(`realtime.core.smoothing.JointSmoother`, `realtime.core.temporal.TemporalFilter`). The live demo: the
`demo` source through the real pipeline with each stage (unpaced: the same frames for each).

P1 and P2 in mm; bone dir = mean angle between predicted and true bones; accel error = mean distance
between the second differences of the predicted and true joint tracks (jitter), depth accel = the same
for the camera z alone; lag = frames by which the predicted motion trails the truth (velocity matching,
`semgcn.metrics.lag_frames`; it includes BlazePose's own smoothing, so compare a stage with "none");
the reference row lifts the exact projections of the same frames instead of BlazePose's 2D: the
difference to "none" is what the real detector costs;
bone length CV = median coefficient of variation of a bone's length over a sequence.

{body}
"""


if __name__ == "__main__":
    raise SystemExit(main())
