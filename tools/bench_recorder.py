"""Measure what recording costs: time per frame in ``Recorder.write``, bytes per frame on disk, read
speed of ``read_session`` and export speed of the BVH writer, on synthetic 30 fps frames.

    python -m tools.bench_recorder --frames 9000
    python -m tools.bench_recorder --frames 9000 --no-foxglove   # without the Foxglove scene channels
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from realtime.core.records import FrameResult, PersonPose
from realtime.recording.recorder import Recorder, RecorderOptions
from realtime.recording.session_reader import read_session
from semgcn.bvh.write import joints_to_bvh
from semgcn.skeleton import NUM_JOINTS


def synthetic_frames(n: int, seed: int = 0) -> list[FrameResult]:
    """Frame records with random-walk joints (a person in every frame), 30 fps timestamps."""
    rng = np.random.default_rng(seed)
    joints = np.cumsum(rng.normal(0, 0.002, (n, NUM_JOINTS, 3)), axis=0) + rng.normal(0, 0.3, (NUM_JOINTS, 3))
    joints -= joints[:, :1]
    frames = []
    for i in range(n):
        person = PersonPose(keypoints_2d=rng.uniform(0, 720, (16, 2)).astype(np.float32),
                            confidence=rng.uniform(0, 1, 16).astype(np.float32), joints_3d=joints[i].astype(np.float32))
        frames.append(FrameResult(i, 1.7e9 + i / 30, (1280, 720), "bench", people=[person],
                                  t_publish=1.7e9 + i / 30 + 0.03, seq=i,
                                  timings_ms={"detector": 8.1, "lifter": 0.9}))
    return frames


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench_recorder", description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=9000, help="frames to record (default: %(default)s = 5 min)")
    parser.add_argument("--foxglove", action=argparse.BooleanOptionalAction, default=True,
                        help="also write the Foxglove scene channels, as the recorder does by default (default: on)")
    args = parser.parse_args(argv)
    frames = synthetic_frames(args.frames)
    with tempfile.TemporaryDirectory() as tmp:
        rec = Recorder(Path(tmp), {"source": "bench"}, options=RecorderOptions(foxglove=args.foxglove))
        start = time.perf_counter()
        for frame in frames:
            rec.consume(frame)  # encodes each frame's wire message, as the first consumer of a live frame does
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
    print(f"frames: {args.frames} ({minutes:.1f} min at 30 fps), Foxglove channels {'on' if args.foxglove else 'off'}")
    print(f"Recorder.consume: {write_s / args.frames * 1e6:.0f} us/frame ({write_s:.2f} s in all, incl. encoding "
          f"and close)")
    print(f"file: {size / 1e6:.2f} MB = {size / args.frames:.0f} B/frame = {size / 1e6 / minutes:.2f} MB/min at 30 fps")
    print(f"read_session: {read_s:.2f} s ({args.frames / read_s:.0f} frames/s)")
    print(f"BVH solve + format: {bvh_s:.2f} s ({args.frames / bvh_s:.0f} frames/s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
