"""Several people: found, kept apart, measured, on the demo with up to three figures that cross.

    python -m tools.people_check --seconds 30                 # who is found, identity switches, 3D error
    python -m tools.people_check --bench 150                  # fps and latency with 1, 2 and 3 people

The first mode runs the whole pipeline (BlazePose for up to 3 people, SemGCN, smoothing, calibration
with the demo's exact camera) on ``--seconds`` of the 3-figure demo and prints, per figure: how many
of the frames where it is fully visible (inside the image, not hidden by a nearer figure) it was found
in, its identity switches (all, and outside the moments it was hidden or crossing: within 1 s of a
frame where it was not fully visible), the track ids it had, and its 3D error. The second renders
up to ``--bench`` frames with 1, 2 and 3 figures, all fully visible (the longest such stretch of each
demo), first (so that rendering does not compete with the pipeline) and times the pipeline on them,
interleaved, in one run: fps, capture-to-publish latency p50 / p99, and the cost per extra person as
a ratio of the one-person frame time.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from calibration.stage import CalibrationStage
from engines.detector import PoseDetector
from realtime.app.build import make_lifter
from realtime.core.capture import CapturedFrame
from realtime.core.evaluation import Evaluator
from realtime.core.pipeline import Pipeline, PipelineOptions
from realtime.core.smoothing import SmoothingStage
from realtime.core.sources import DemoSource, SourceOptions
from realtime.core.stats import summarize
from realtime.demo import DemoScene


def _pipeline(camera_matrix, people: int, consumers=(), stages=()) -> Pipeline:
    return Pipeline(PoseDetector(threads=1, max_people=people), make_lifter("onnxruntime", None), list(consumers),
                    calibration=lambda size: CalibrationStage(camera_matrix, None, size, True),
                    smoother=SmoothingStage(), stages=list(stages), options=PipelineOptions(max_people=people))


def identity_check(seconds: float, people: int = 3) -> dict:
    """Per figure: found when visible, identity switches, 3D error (``Evaluator.people.summary``)."""
    source = DemoSource(SourceOptions(realtime=False, demo_people=people))
    evaluator = Evaluator.for_source(source)
    pipeline = _pipeline(source.camera_matrix, people, [evaluator], [evaluator.truth_stage])
    pipeline.options.max_frames = int(round(seconds * source.fps))
    started = time.perf_counter()
    result = pipeline.run(source)
    return {"frames": result.stats.frames, "seconds": round(time.perf_counter() - started, 1),
            "people": evaluator.people.summary(), "accuracy_mm": evaluator.summary()}


def visible_run(scene: DemoScene, search_frames: int = 900) -> tuple[int, int]:
    """``(start, length)`` of the longest run of frames where every figure of ``scene`` is fully visible."""
    best, start = (0, 0), None
    for i in range(search_frames + 1):
        every = i < search_frames and all(f.visible for f in scene.figures_at(i))
        if every and start is None:
            start = i
        elif not every and start is not None:
            best, start = max(best, (start, i - start), key=lambda run: run[1]), None
    return best


def bench(frames: int, counts=(1, 2, 3), warm_frames: int = 30) -> dict:
    """fps and latency per number of people in view, the pipelines interleaved frame by frame.

    For each count, the frames are the longest stretch of the demo where every figure is fully visible
    (at most ``frames``), after ``warm_frames`` untimed frames that find the people."""
    scenes = {n: DemoScene(people=n) for n in counts}
    runs = {n: visible_run(scenes[n]) for n in counts}
    timed = min([frames] + [length for _, length in runs.values()])
    rendered = {n: [scenes[n].render(i).image for i in range(max(0, start - warm_frames), start + timed)]
                for n, (start, _) in runs.items()}
    pipelines = {n: _pipeline(scenes[n].camera_matrix, max(counts)) for n in counts}
    times: dict[int, list[float]] = {n: [] for n in counts}
    found: dict[int, list[int]] = {n: [] for n in counts}
    for i in range(max(len(images) for images in rendered.values())):
        for n in (counts if i % 2 == 0 else counts[::-1]):
            if i >= len(rendered[n]):
                continue
            frame = CapturedFrame(rendered[n][i], i, time.time(), f"demo x{n}", media_time=i / 30.0)
            result = pipelines[n].process(frame)
            if i >= len(rendered[n]) - timed:
                times[n].append((time.time() - frame.t_capture) * 1e3)
                found[n].append(len(result.people))
    out = {}
    for n in counts:
        lat = summarize(times[n])
        out[n] = {"frames": len(times[n]), "first_frame": runs[n][0], "people_found_median": float(np.median(found[n])),
                  "fps": 1e3 / lat.mean_ms, "latency_ms": lat.as_dict()}
    one = out[counts[0]]["latency_ms"]["mean_ms"]
    for n in counts[1:]:
        out[n]["extra_person_ratio"] = (out[n]["latency_ms"]["mean_ms"] - one) / (n - counts[0]) / one
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.people_check", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="demo seconds for the identity check (0: skip)")
    parser.add_argument("--people", type=int, default=3, choices=(2, 3), help="figures in the identity check")
    parser.add_argument("--bench", type=int, default=0, metavar="FRAMES", help="also time 1, 2, 3 people on FRAMES each")
    parser.add_argument("--json", metavar="FILE", help="write the figures as JSON")
    args = parser.parse_args(argv)
    report = {}
    if args.seconds > 0:
        report["identity"] = check = identity_check(args.seconds, args.people)
        print(f"demo, {args.people} figures, {check['frames']} frames ({args.seconds:g} s at 30 fps), "
              f"{check['seconds']} s of processing")
        for figure, p in check["people"].items():
            print(f"  figure {figure}: found in {p['found_when_visible']}/{p['visible']} fully visible frames "
                  f"({p['found_pct']:.1f} %); identity switches {p['id_switches']} "
                  f"({p['id_switches_outside_crossings']} outside crossings) at frames {p['switch_frames']}; "
                  f"track ids {p['track_ids']}; MPJPE {p.get('mpjpe_mm', float('nan')):.1f} mm, "
                  f"PA-MPJPE {p.get('pmpjpe_mm', float('nan')):.1f} mm")
    if args.bench > 0:
        report["bench"] = timing = bench(args.bench)
        frames = min(t["frames"] for t in timing.values())
        print(f"pipeline on pre-rendered demo frames where every figure is fully visible, {frames} per count "
              f"(asked {args.bench}), interleaved, detector threads 1, max_people 3")
        print(f"{'people':>7s}{'found':>7s}{'fps':>8s}{'p50 ms':>9s}{'p99 ms':>9s}{'extra person / one':>21s}")
        for n, t in timing.items():
            ratio = f"{t['extra_person_ratio']:.3f}" if "extra_person_ratio" in t else "-"
            print(f"{n:7d}{t['people_found_median']:7.0f}{t['fps']:8.1f}{t['latency_ms']['p50_ms']:9.2f}"
                  f"{t['latency_ms']['p99_ms']:9.2f}{ratio:>21s}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(report, handle, indent=2, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
