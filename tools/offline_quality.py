"""Offline quality against live mode, on rendered motion-capture sequences with exact ground truth.

    python -m tools.offline_quality                 # held-out people and HDM05: live vs offline variants
    python -m tools.offline_quality --tune          # training people: the zero-phase cut-offs, a grid

Each sequence is a stretch of a motion-capture clip played at 30 fps on the demo figure through its own
random webcam (``tools.mocap_render``: the renderer of ``tools.temporal_check``), with the camera's
exact intrinsics given to both modes as a calibration file. **Live** is run_live's pipeline: the
tracking detector with BlazePose's smoothing, the lifter, then the causal temporal stage (its default),
One Euro, or nothing. **Offline** is ``realtime.batch``: pass 1 on ``Pipeline.process`` and pass 2 by
``realtime.batch.finish.finish`` (the session it writes is read back), with one ingredient changed at a
time. Figures on the frames every variant found: P1 and P2 (mm), acceleration error (mm/frame²), lag
(frames) and bone-length CV (%), as ``tools.temporal_check``; "found" is the share of frames with a pose.

``--tune`` runs pass 1 once per sequence of *training* people and pass 2's smoothing on a grid of
cut-offs, so that the defaults of ``realtime.batch.settings.SmoothingSettings`` are not chosen on the
people they are measured on.
"""
from __future__ import annotations

import argparse
import copy
import json
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from calibration.camera_file import CameraFile, save
from realtime.batch.chunk import ChunkResult, canonical_ids, detect_and_lift
from realtime.batch.finish import finish
from realtime.batch.frames import Chunk, InputInfo, plan_chunks as plan_batch_chunks
from realtime.batch.jobs import Job
from realtime.batch.redetect import RedetectOptions
from realtime.batch.refine import refine
from realtime.batch.settings import OfflineSettings, SmoothingSettings
from realtime.core.capture import CapturedFrame
from realtime.core.cli import OneLineParser, bounded
from realtime.demo.mocap_scene import MocapScene, random_camera
from semgcn.datasets.lifting import DEFAULT_MOCAP
from semgcn.datasets.mocap import DEFAULT_VAL_PEOPLE
from tools.mocap_render import FPS, clip_at_30fps, clips_of, plan_chunks
from tools.temporal_check import sequence_figures

CLOCK = 1.8e9  # capture times of the rendered frames (any fixed origin; 0 would read as "unset")
GRID_CUTOFF = (2.0, 3.0, 4.0, 6.0, 8.0)
GRID_DEPTH = (1.0, 1.5, 2.0, 3.0, 4.0)


def build_parser() -> argparse.ArgumentParser:
    p = OneLineParser(prog="python -m tools.offline_quality", description=__doc__.split("\n\n")[0])
    p.add_argument("--mocap", type=Path, nargs="+", default=[DEFAULT_MOCAP], help="mocap folders")
    p.add_argument("--sequences", type=bounded(int, 1, 1000), default=12, help="sequences per test set (default 12)")
    p.add_argument("--frames", type=bounded(int, 10, 10000), default=150, help="frames per sequence (default 150)")
    p.add_argument("--seed", type=bounded(int, 0, 2**31), default=21, help="seed of the stretches and cameras")
    p.add_argument("--tune", action="store_true", help="training people: a grid of cut-offs instead")
    p.add_argument("--no-hdm05", action="store_true", help="only the held-out CMU and ReActIdle people")
    p.add_argument("--chunks", type=bounded(int, 2, 10000), nargs=2, metavar=("FRAMES", "OVERLAP"),
                   help="also offline in chunks of FRAMES frames read with OVERLAP frames before each, stitched")
    p.add_argument("--only-offline-default", action="store_true",
                   help="of the variants, only live's default and offline's default (with --chunks: and chunked)")
    return p


def sequences(mocap: list[Path], people, exclude, count: int, frames: int, seed: int):
    """``(name, frames, truth (T, 16, 3), camera matrix)`` of each rendered sequence, one at a time."""
    rng = np.random.default_rng(seed)
    for index, chunk in enumerate(plan_chunks(rng, clips_of(mocap, people=people, exclude=exclude), count, frames)):
        joints = clip_at_30fps(chunk.path)[chunk.start:chunk.start + chunk.frames]
        scene = MocapScene(joints, random_camera(rng), palette=index)
        rendered = [scene.render(i) for i in range(len(scene))]
        images = [CapturedFrame(r.image, i, CLOCK + i / FPS, chunk.path.stem, i / FPS) for i, r in enumerate(rendered)]
        yield f"{chunk.path.stem}@{chunk.start}", images, np.stack([r.joints_3d for r in rendered]), scene.camera


def live_poses(frames: list[CapturedFrame], camera, only_default: bool = False) -> dict[str, np.ndarray]:
    """run_live's pipeline (tracking detector, lifter, calibration) with its 3D stages."""
    from calibration.stage import CalibrationStage
    from engines.detector import PoseDetector
    from realtime.app.build import make_lifter
    from realtime.core.pipeline import Pipeline
    from realtime.core.smoothing import SmoothingStage
    from realtime.core.temporal import TemporalStage

    out = {}
    stages = (("live: temporal stage (run_live's default)", TemporalStage()), ("live: One Euro", SmoothingStage()),
              ("live: no 3D smoothing", None))
    for name, stage in stages[:1] if only_default else stages:
        pipeline = Pipeline(PoseDetector(threads=1), make_lifter("onnxruntime", None), [],
                            calibration=lambda size: CalibrationStage(camera.matrix, None, size, True), smoother=stage)
        out[name] = _first_person([pipeline.process(f) for f in frames])
    return out


def offline_poses(frames: list[CapturedFrame], camera, workdir: Path, chunks=None, only_default=False) -> dict[str, np.ndarray]:
    """``realtime.batch`` with one ingredient changed at a time (module docstring)."""
    calibration = save(CameraFile(camera.matrix, np.zeros(5), tuple(camera.size), 0.0), workdir / "camera.json")
    base = OfflineSettings(calibration=str(calibration), formats=())
    passes = {"default": base, "no re-detection": replace(base, redetect=RedetectOptions(enabled=False)),
              "BlazePose smoothing on": replace(base, detector_smoothing=True),
              "person detector on every frame (no tracking)": replace(base, detector_tracking=False)}
    if only_default:
        passes = {"default": base}
    out = {}
    if chunks:
        parts = []
        for chunk in plan_batch_chunks(len(frames), *chunks):
            records, counts = detect_and_lift(frames[chunk.read_from:chunk.stop], base)
            canonical_ids(records)
            parts.append(ChunkResult(chunk, records, counts))
        out[f"offline: in chunks of {chunks[0]}, overlap {chunks[1]}"] = _finished_chunks(parts, base, camera, workdir)
    for label, settings in passes.items():
        records, counts = detect_and_lift(frames, settings)
        out[f"offline: {label}"] = _finished(copy.deepcopy(records), counts, settings, camera, workdir)
        if label == "default":
            for variant, smoothing in (("no zero-phase smoothing", replace(settings.smoothing, enabled=False)),
                                       ("bones as lifted", replace(settings.smoothing, constant_bones=False))):
                out[f"offline: {variant}"] = _finished(copy.deepcopy(records), counts, replace(settings, smoothing=smoothing),
                                                       camera, workdir)
    return out


def _finished(records, counts, settings: OfflineSettings, camera, workdir: Path) -> np.ndarray:
    return _finished_chunks([ChunkResult(Chunk(0, 0, None, 0), records, counts)], settings, camera, workdir)


def _finished_chunks(parts: list[ChunkResult], settings: OfflineSettings, camera, workdir: Path) -> np.ndarray:
    frames = sum(1 for p in parts for f in p.frames if f.frame_index >= p.chunk.start)
    info = InputInfo("rendered", "video", frames, FPS, tuple(camera.size), CLOCK)
    job = Job("rendered", f"seq{len(list(workdir.iterdir()))}", str(workdir))
    outcome = finish(job, info, settings, parts)
    if outcome.status != "done":
        return np.full((frames, 16, 3), np.nan)
    from realtime.recording.session_reader import read_session
    return _first_person(read_session(job.outputs(())["session"]).frames)


def _first_person(records) -> np.ndarray:
    return np.stack([r.people[0].joints_3d if r.people else np.full((16, 3), np.nan, np.float32) for r in records])


def evaluate(args, name: str, people, exclude) -> dict[str, dict]:
    per_variant: dict[str, list] = {}
    for _seq, frames, truth, camera in sequences(args.mocap, people, exclude, args.sequences, args.frames, args.seed):
        with tempfile.TemporaryDirectory() as tmp:
            poses = {**live_poses(frames, camera, args.only_offline_default),
                     **offline_poses(frames, camera, Path(tmp), args.chunks, args.only_offline_default)}
        common = np.all([np.isfinite(p).all(axis=(1, 2)) for p in poses.values()], axis=0)
        for variant, pred in poses.items():
            figures = sequence_figures(pred[common].astype(np.float64), truth[common].astype(np.float64)) \
                if common.sum() >= 3 else {}
            figures["found"] = float(np.isfinite(pred).all(axis=(1, 2)).mean())
            per_variant.setdefault(variant, []).append(figures)
        print(f"{name}: {_seq} done", flush=True)
    return {v: {k: float(np.mean([f[k] for f in fs if k in f])) for k in fs[0]} for v, fs in per_variant.items()}


def tune(args) -> dict:
    """Cut-off grid on training people (module docstring): P2 and acceleration error per pair."""
    scores: dict[tuple, list] = {}
    base = OfflineSettings(formats=())
    for _seq, frames, truth, camera in sequences(args.mocap, None, set(DEFAULT_VAL_PEOPLE) | {"hdm05:"},
                                                 args.sequences, args.frames, args.seed + 1):
        with tempfile.TemporaryDirectory() as tmp:
            calibration = save(CameraFile(camera.matrix, np.zeros(5), tuple(camera.size), 0.0), Path(tmp) / "c.json")
            records, _ = detect_and_lift(frames, replace(base, calibration=str(calibration)))
        for cutoff, depth, bones in [(c, d, b) for c in GRID_CUTOFF for d in GRID_DEPTH for b in (True, False)]:
            trial = copy.deepcopy(records)
            refine(trial, FPS, replace(SmoothingSettings(), cutoff_hz=cutoff, depth_cutoff_hz=depth, constant_bones=bones))
            pred = _first_person(trial)
            keep = np.isfinite(pred).all(axis=(1, 2))
            scores.setdefault((cutoff, depth, bones), []).append(sequence_figures(pred[keep].astype(np.float64),
                                                                                  truth[keep].astype(np.float64)))
        print(f"tune: {_seq} done", flush=True)
    return {f"{c:g} Hz / depth {d:g} Hz / {'constant bones' if b else 'bones as lifted'}":
            {k: float(np.mean([f[k] for f in fs])) for k in ("pmpjpe_mm", "mpjpe_mm", "accel_mm")}
            for (c, d, b), fs in scores.items()}


def table(results: dict[str, dict]) -> str:
    rows = ["| variant | found | P1 | P2 | accel error (mm/frame²) | lag (frames) | bone length CV (%) |",
            "|---|---|---|---|---|---|---|"]
    for variant, r in results.items():
        rows.append(f"| {variant} | {100 * r['found']:.1f} % | {r['mpjpe_mm']:.1f} | {r['pmpjpe_mm']:.1f} | "
                    f"{r['accel_mm']:.2f} | {r['lag_frames']:+.1f} | {r['bone_cv_pct']:.1f} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.tune:
        grid = tune(args)
        for key, r in sorted(grid.items(), key=lambda kv: kv[1]["pmpjpe_mm"] + kv[1]["accel_mm"]):
            print(f"{key}: P2 {r['pmpjpe_mm']:.2f}  P1 {r['mpjpe_mm']:.2f}  accel {r['accel_mm']:.3f}")
        print(json.dumps(grid))
        return 0
    sets = {"held-out CMU and ReActIdle people": evaluate(args, "held-out", set(DEFAULT_VAL_PEOPLE), set())}
    if not args.no_hdm05:
        sets["HDM05 (another lab)"] = evaluate(args, "hdm05", None, {"cmu:", "reactidle:"})
    for name, results in sets.items():
        print(f"\n### {name}\n\n{table(results)}")
    print(json.dumps(sets))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
