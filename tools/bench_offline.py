"""Offline benchmarks: throughput in one process and on Ray, and how well chunks stitch.

    python -m tools.bench_offline throughput [--clips 6 --frames 150] [--workers 2]
    python -m tools.bench_offline stitch VIDEO [--chunk-frames 300 --overlap 60]

``throughput`` renders ``--clips`` clips of held-out motion capture on the demo figure into MP4 files
(or takes ``--inputs``), then times ``python -m tools.process`` on them, a fresh process each time:
locally (one process) and with ``--ray local --workers N``; it prints clips per minute and frames per
second of the whole command (start-up, Ray's included) and checks that both gave the same joints.

``stitch`` runs pass 1 of VIDEO in one pass and in chunks, stitches, runs pass 2 on both, and prints
how far the chunked joints are from the single pass (mm; 2D in pixels), overall and at the borders, and
how much the borders show: the joints' acceleration in the frames around a border against elsewhere.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from realtime.batch.chunk import run_chunk
from realtime.batch.frames import plan_chunks, probe
from realtime.batch.refine import refine
from realtime.batch.settings import OfflineSettings
from realtime.batch.stitch import stitch
from realtime.core.cli import OneLineParser, bounded

REPO = Path(__file__).resolve().parents[1]


def build_parser() -> argparse.ArgumentParser:
    p = OneLineParser(prog="python -m tools.bench_offline", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="part", required=True)
    t = sub.add_parser("throughput", help="clips per minute, one process against Ray")
    t.add_argument("--inputs", nargs="+", help="videos to use instead of rendered clips")
    t.add_argument("--clips", type=bounded(int, 1, 1000), default=6, help="rendered clips (default 6)")
    t.add_argument("--frames", type=bounded(int, 10, 10000), default=150, help="frames per rendered clip (default 150)")
    t.add_argument("--workers", type=bounded(int, 1, 1024), default=2, help="Ray workers (default 2)")
    s = sub.add_parser("stitch", help="chunked against one pass")
    s.add_argument("video")
    s.add_argument("--chunk-frames", type=bounded(int, 2, 10**7), default=300)
    s.add_argument("--overlap", type=bounded(int, 0, 10**4), default=60)
    s.add_argument("--no-tracking", action="store_true", help="pass 1 with the person detector on every frame")
    return p


def render_clips(folder: Path, count: int, frames: int, seed: int = 5) -> list[str]:
    """``count`` MP4 clips of held-out motion capture on the demo figure (640x480, 30 fps)."""
    from realtime.demo.mocap_scene import MocapScene, random_camera
    from semgcn.datasets.lifting import DEFAULT_MOCAP
    from semgcn.datasets.mocap import DEFAULT_VAL_PEOPLE
    from tools.mocap_render import clip_at_30fps, clips_of, plan_chunks as plan_stretches

    rng = np.random.default_rng(seed)
    paths = []
    for index, stretch in enumerate(plan_stretches(rng, clips_of([DEFAULT_MOCAP], people=set(DEFAULT_VAL_PEOPLE)), count, frames)):
        scene = MocapScene(clip_at_30fps(stretch.path)[stretch.start:stretch.start + stretch.frames], random_camera(rng),
                           palette=index)
        path = folder / f"clip{index:02d}_{stretch.path.stem}.mp4"
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, tuple(scene.camera.size))
        for i in range(len(scene)):
            writer.write(scene.render(i).image)
        writer.release()
        paths.append(str(path))
    return paths


def timed_run(inputs: list[str], out: Path, *extra: str) -> tuple[float, list[dict], float]:
    """Wall seconds of one ``tools.process`` command, its outcomes, and the load average meanwhile."""
    summary = out.with_suffix(".json")
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "tools.process", *inputs, "--out", str(out), "--to", "none",
                           "--no-progress", "--summary-json", str(summary), *extra], cwd=REPO, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"tools.process failed ({proc.returncode}): {proc.stderr[-1500:]}")
    return elapsed, json.loads(summary.read_text()), (load_before + os.getloadavg()[0]) / 2


def ray_overhead(workers: int) -> float:
    """Seconds to start a local Ray as ``--ray local`` does, run one trivial task and stop it."""
    code = ("import os, time; os.environ['RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER'] = '0'; t = time.perf_counter(); "
            "import ray; ray.init(num_cpus=%d, include_dashboard=False, logging_level='ERROR'); "
            "ray.get(ray.remote(lambda: 1).remote()); ray.shutdown(); print(time.perf_counter() - t)" % workers)
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()[-1])


def throughput(args) -> None:
    from realtime.recording.session_reader import read_session

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        inputs = args.inputs or render_clips(tmp, args.clips, args.frames)
        runs = {"one process": timed_run(inputs, tmp / "local"),
                f"Ray, {args.workers} workers (--ray local)": timed_run(inputs, tmp / "ray", "--ray", "local", "--workers",
                                                                        str(args.workers)),
                "one process, --no-tracking": timed_run(inputs, tmp / "every", "--no-tracking")}
        frames = sum(o["frames"] for o in runs["one process"][1])
        print(f"{len(inputs)} clips, {frames} frames, {os.cpu_count()} CPUs\n\n"
              "| run | wall s | clips / min | frames / s | task seconds summed | load average meanwhile |\n"
              "|---|---|---|---|---|---|")
        for name, (elapsed, outcomes, load) in runs.items():
            busy = sum(o["seconds"] for o in outcomes)
            print(f"| {name} | {elapsed:.1f} | {60 * len(inputs) / elapsed:.1f} | {frames / elapsed:.1f} | {busy:.1f} | {load:.1f} |")
        print(f"\nRay's own start and stop (ray.init with {args.workers} CPUs, one task, ray.shutdown): "
              f"{ray_overhead(args.workers):.1f} s")
        worst = 0.0
        for outcome in runs["one process"][1]:
            a = [f.joints_3d for f in read_session(tmp / "local" / f"{outcome['name']}.mcap").frames if f.has_person]
            b = [f.joints_3d for f in read_session(tmp / "ray" / f"{outcome['name']}.mcap").frames if f.has_person]
            worst = max(worst, float(np.abs(np.stack(a) - np.stack(b)).max()))
        print(f"\nlargest joint difference, one process against Ray: {worst * 1e3:.6f} mm")


def _pass(info, settings: OfflineSettings, chunks) -> tuple[np.ndarray, np.ndarray]:
    records = stitch([run_chunk(info, chunk, settings) for chunk in chunks])
    keypoints = _first(records, "keypoints_2d", 2)
    refine(records, info.fps, settings.smoothing)
    return keypoints, _first(records, "joints_3d", 3)


def _first(records, name: str, width: int) -> np.ndarray:
    return np.stack([getattr(r.people[0], name) if r.people else np.full((16, width), np.nan) for r in records]).astype(np.float64)


def stitch_report(args) -> None:
    info = probe(args.video)
    settings = replace(OfflineSettings(), detector_tracking=not args.no_tracking)
    chunks = plan_chunks(info.frame_count, args.chunk_frames, args.overlap)
    single = _pass(info, settings, plan_chunks(info.frame_count, 0, 0))
    chunked = _pass(info, settings, chunks)
    both = np.isfinite(single[1]).all(axis=(1, 2)) & np.isfinite(chunked[1]).all(axis=(1, 2))
    differ = int((np.isfinite(single[1]).all(axis=(1, 2)) != np.isfinite(chunked[1]).all(axis=(1, 2))).sum())
    d2 = np.linalg.norm(chunked[0] - single[0], axis=-1)[both]
    d3 = 1e3 * np.linalg.norm(chunked[1] - single[1], axis=-1)[both]
    print(f"{Path(args.video).name}: {info.frame_count} frames at {info.fps:g} fps, {len(chunks)} chunks of "
          f"{args.chunk_frames} with {args.overlap} frames of overlap, tracking {'off' if args.no_tracking else 'on'}")
    print(f"frames with a person in one run only: {differ}")
    for label, d, unit in (("2D keypoints", d2, "px"), ("3D joints", d3, "mm")):
        print(f"{label}: mean {d.mean():.3f} {unit}, median {np.median(d):.3f}, p95 {np.percentile(d, 95):.3f}, "
              f"max {d.max():.3f}; frames differing at all {int((d.max(axis=1) > 0).sum())} of {len(d)}")
    borders = [c.start for c in chunks[1:]]
    print("at the borders (frames start-1, start):", ", ".join(
        f"{b}: {np.nanmax(1e3 * np.linalg.norm(chunked[1][b - 1:b + 1] - single[1][b - 1:b + 1], axis=-1)):.2f} mm"
        for b in borders))
    near = np.zeros(len(single[1]) - 2, bool)
    for b in borders:
        near[max(0, b - 3):b + 1] = True  # second differences centred on frames b-2 .. b+1
    for label, joints in (("chunked", chunked[1]), ("one pass", single[1])):
        accel = 1e3 * np.linalg.norm(joints[2:] - 2 * joints[1:-1] + joints[:-2], axis=-1).mean(axis=1)
        print(f"joint acceleration, {label} (mm/frame², mean over joints): around the borders {np.nanmean(accel[near]):.2f}, "
              f"elsewhere {np.nanmean(accel[~near]):.2f} (p95 elsewhere {np.nanpercentile(accel[~near], 95):.2f})")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.part == "throughput":
        throughput(args)
    else:
        stitch_report(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
