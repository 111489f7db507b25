"""Benchmark: frames per second of the 2D detector backends on the same video, in the same run.

Frames are decoded into memory first (decoding is not timed), each backend/mode pair gets a few
warm-up frames, then every frame is timed. Modes: "image" (detect_image: the person detector runs
on every frame) and "tracking" (__call__: the detector runs only when the pose is lost).

    python -m tools.bench_detector                                  # pose_1.mp4, ours vs mediapipe
    python -m tools.bench_detector --video clip.mp4 --backends onnxruntime,tensorrt --frames 300
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from engines.detector import PoseDetector
from tools.parity_blazepose import SHARED_MEDIA, read_frames

DEFAULT_VIDEO = SHARED_MEDIA / "tfjs_models" / "pose_1.mp4"


def load_frames(path: Path, max_frames: int) -> list[np.ndarray]:
    """Decode up to ``max_frames`` BGR frames of ``path`` into memory."""
    try:
        frames = list(read_frames(path, max_frames=max_frames))
    except ValueError as exc:  # the file cannot be opened
        raise SystemExit(str(exc)) from None
    if not frames:
        raise SystemExit(f"no frames in {path}")
    return frames


def bench(detector: PoseDetector, frames: list[np.ndarray], mode: str, warmup: int) -> dict:
    """Time one backend in one mode over ``frames``.

    Args:
        detector: the detector (reset before the run).
        frames: BGR frames.
        mode: "image" or "tracking".
        warmup: untimed frames run first.

    Returns:
        frames, found (frames with a person), fps, mean / median / p90 milliseconds per frame.
    """
    run = detector.detect_image if mode == "image" else detector
    for frame in frames[:warmup]:
        run(frame)
    detector.reset()
    times, found = [], 0
    for frame in tqdm(frames, desc=f"{detector.options.backend} {mode}", leave=False):
        start = time.perf_counter()
        found += run(frame) is not None
        times.append((time.perf_counter() - start) * 1e3)
    ms = np.asarray(times)
    return {"frames": len(frames), "found": found, "fps": 1e3 * len(ms) / ms.sum(),
            "mean": ms.mean(), "median": float(np.median(ms)), "p90": float(np.percentile(ms, 90))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench_detector", description=__doc__.split("\n")[0])
    parser.add_argument("--video", default=str(DEFAULT_VIDEO), help=f"video file (default {DEFAULT_VIDEO})")
    parser.add_argument("--frames", type=int, default=120, help="frames to time per run (default 120)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed warm-up frames (default 5)")
    parser.add_argument("--backends", default="onnxruntime,mediapipe",
                        help="comma-separated: onnxruntime, onnxruntime-cuda, tensorrt, mediapipe "
                             "(default onnxruntime,mediapipe)")
    parser.add_argument("--modes", default="image,tracking", help="comma-separated: image, tracking")
    parser.add_argument("--threads", type=int, default=0,
                        help="ONNX Runtime intra-op threads (0: its default, all cores)")
    args = parser.parse_args(argv)

    frames = load_frames(Path(args.video), args.frames)
    h, w = frames[0].shape[:2]
    print(f"video {args.video}: {len(frames)} frames of {w}x{h}; ONNX Runtime threads: "
          f"{args.threads or 'default'}")
    header = f"{'backend':18s} {'mode':9s} {'frames':>6s} {'found':>5s} {'FPS':>7s} {'mean ms':>8s} " \
             f"{'median ms':>9s} {'p90 ms':>7s}"
    rows = []
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        try:
            detector = PoseDetector(backend=backend, threads=args.threads)
        except Exception as exc:  # a backend that is not installed here: say so, go on
            rows.append(f"{backend:18s} unavailable: {exc}".splitlines()[0])
            continue
        for mode in [m.strip() for m in args.modes.split(",") if m.strip()]:
            r = bench(detector, frames, mode, args.warmup)
            rows.append(f"{backend:18s} {mode:9s} {r['frames']:6d} {r['found']:5d} {r['fps']:7.1f} "
                        f"{r['mean']:8.2f} {r['median']:9.2f} {r['p90']:7.2f}")
        detector.close()
    print(header)
    print("-" * len(header))
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
