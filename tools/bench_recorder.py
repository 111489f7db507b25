"""Measure what recording costs: time per frame in ``Recorder.write``, bytes per frame on disk, read
speed of ``read_session`` and export speed of the BVH writer, on synthetic 30 fps frames.

    python -m tools.bench_recorder --frames 9000
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from realtime.bvh_export import joints_to_bvh
from realtime.recorder import Recorder
from realtime.session_reader import read_session
from realtime.wire import Frame, encode
from semgcn.skeleton import NUM_JOINTS


def synthetic_messages(n: int, seed: int = 0) -> list[list[bytes]]:
    """Stream messages with random-walk joints (a person in every frame), 30 fps timestamps."""
    rng = np.random.default_rng(seed)
    joints = np.cumsum(rng.normal(0, 0.002, (n, NUM_JOINTS, 3)), axis=0) + rng.normal(0, 0.3, (NUM_JOINTS, 3))
    joints -= joints[:, :1]
    messages = []
    for i in range(n):
        frame = Frame(i, 1.7e9 + i / 30, (1280, 720), "bench", keypoints_2d=rng.uniform(0, 720, (16, 2)),
                      confidence=rng.uniform(0, 1, 16), joints_3d=joints[i])
        messages.append(encode(frame, extra_header={"seq": i, "timings_ms": {"detector": 8.1, "lifter": 0.9}},
                               t_publish=frame.t_capture + 0.03))
    return messages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench_recorder", description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=9000, help="frames to record (default: %(default)s = 5 min)")
    args = parser.parse_args(argv)
    messages = synthetic_messages(args.frames)
    with tempfile.TemporaryDirectory() as tmp:
        rec = Recorder(Path(tmp), {"source": "bench"})
        start = time.perf_counter()
        for parts in messages:
            rec.write(parts)
        rec.close()
        write_s = time.perf_counter() - start
        size = rec.path.stat().st_size
        start = time.perf_counter()
        session = read_session(rec.path)
        read_s = time.perf_counter() - start
        joints = np.stack([f.joints_3d for f in session.frames])
        start = time.perf_counter()
        joints_to_bvh(joints, np.ones(len(joints), bool), 1 / 30)
        bvh_s = time.perf_counter() - start
    minutes = args.frames / 30 / 60
    print(f"frames: {args.frames} ({minutes:.1f} min at 30 fps)")
    print(f"Recorder.write: {write_s / args.frames * 1e6:.0f} us/frame ({write_s:.2f} s in all, incl. close)")
    print(f"file: {size / 1e6:.2f} MB = {size / args.frames:.0f} B/frame = {size / 1e6 / minutes:.2f} MB/min at 30 fps")
    print(f"read_session: {read_s:.2f} s ({args.frames / read_s:.0f} frames/s)")
    print(f"BVH solve + format: {bvh_s:.2f} s ({args.frames / bvh_s:.0f} frames/s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
