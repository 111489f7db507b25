"""Benchmark the live pipeline against the 2D detector alone, on the same frames, in one run.

    python -m tools.bench_live                                   # shared/media/tfjs_models/pose_1.mp4
    python -m tools.bench_live --source demo --frames 150
    python -m tools.bench_live --source clip.mp4 --detector onnxruntime-cuda --lifter tensorrt
    python -m tools.bench_live --vmc 127.0.0.1:39539      # any bridge of run_live.py, with its own options

Every frame of the source goes through two paths, one right after the other (alternating which goes
first): "detector alone" runs only the 2D detector; "full pipeline" runs detector -> SemGCN lifter ->
smoothing -> calibration -> encode -> ZeroMQ publish, to a subscriber in another process. Each path has
its own detector instance (the detector tracks the person from frame to frame). Interleaving frame by
frame means both paths see the same machine load at the same moment, so their ratio holds even on a
busy machine where the absolute figures drift.

Printed: frames per second (1 / mean time per frame of each path: frames are read by the capture
thread meanwhile, as in an unpaced run), latency p50 / p99 per stage and end to end (from the moment
a frame is taken to its publication, and to its receipt by the subscriber), and the ratios.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from realtime.app.build import make_bridges, make_skeleton_stage
from realtime.app.options import bridge_modules
from realtime.core.evaluation import Evaluator
from realtime.core.pipeline import Pipeline, PipelineOptions
from realtime.core.smoothing import SmoothingStage
from realtime.core.sources import DemoSource, EndOfStream, SourceError, SourceOptions, open_source
from realtime.core.stats import summarize
from realtime.stream.publisher import Publisher, PublisherOptions
from tools.bridge_peers import start_peers, stop_peers

DEFAULT_VIDEO = Path(__file__).resolve().parents[2] / "shared" / "media" / "tfjs_models" / "pose_1.mp4"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tools.bench_live", description=__doc__.split("\n\n")[0],
                                epilog=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--source", default=str(DEFAULT_VIDEO) if DEFAULT_VIDEO.exists() else "demo",
                   help="video file, image folder, 'demo' or webcam index (default: %(default)s)")
    p.add_argument("--frames", type=int, default=None,
                   help="frames to time (default: the whole file; 150 for the demo, a webcam or a URL)")
    p.add_argument("--loops", type=int, default=2, help="times a file is played (default: %(default)s)")
    p.add_argument("--detector", default="onnxruntime", help="detector backend (default: %(default)s)")
    p.add_argument("--detector-threads", type=int, default=1,
                   help="ONNX Runtime threads of the detector, as run_live.py (default: %(default)s; 0: the runtime's choice)")
    p.add_argument("--lifter", default="onnxruntime", help="lifter backend (default: %(default)s)")
    p.add_argument("--lifter-model", help="lifter model file (default: the shipped one)")
    p.add_argument("--no-smooth", action="store_true", help="leave out the One Euro smoothing stage")
    p.add_argument("--warmup", type=int, default=5, help="frames run through both paths untimed first (default: %(default)s)")
    p.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    for name, module in bridge_modules():  # the bridges of run_live.py, timed as stages of the full path
        module.add_arguments(p.add_argument_group(f"bridge: {name}"))
    return p


def _receive_latencies(address: str, connection, done) -> None:
    """Subscriber process: capture-to-receipt latency (ms) of every frame, sent back when ``done`` is set."""
    from realtime.stream.subscriber import Subscriber
    latencies = []
    with Subscriber(address) as subscriber:
        while not done.is_set():
            frame = subscriber.recv(timeout_ms=100)
            if frame is not None:
                latencies.append((time.time() - frame.t_capture) * 1e3)
    connection.send(latencies)
    connection.close()


def _make_detector(args):
    from engines.detector import PoseDetector
    return PoseDetector(backend=args.detector, threads=args.detector_threads)


def _frames(args, source):
    """Captured frames, the file played ``--loops`` times, ``--frames`` at most (warm-up included)."""
    budget = args.frames or (150 if isinstance(source, DemoSource) or getattr(source, "kind", "") in ("webcam", "url")
                             else 10**9)
    budget += args.warmup
    source.start()
    try:
        n = 0
        while n < budget:
            try:
                frame = source.get(timeout=5.0)
            except EndOfStream:
                return
            if frame is not None:
                n += 1
                yield frame
    finally:
        source.stop()


def run(args) -> dict:
    from calibration.stage import CalibrationStage
    from engines.lifter import Lifter, LifterOptions

    source = open_source(args.source, SourceOptions(realtime=False, loop=args.loops > 1))
    if args.loops > 1 and not args.frames and getattr(source, "kind", "") == "file":
        count = int(source.cap.get(cv2.CAP_PROP_FRAME_COUNT)) or 0
        args.frames = count * args.loops if count > 0 else None
    detector_alone, detector_full = _make_detector(args), _make_detector(args)
    lifter = Lifter(options=LifterOptions(backend=args.lifter, model_path=args.lifter_model, threads=1))  # as run_live.py
    publisher = Publisher(PublisherOptions(address="tcp://127.0.0.1:*"))
    context = multiprocessing.get_context("spawn")
    receiving, sending = context.Pipe(duplex=False)
    done = context.Event()
    # The subscriber is another process, as a game engine or a robot would be: in a thread of this one
    # it would compete with the pipeline for the GIL and distort the publish timings.
    receiver = context.Process(target=_receive_latencies, args=(publisher.address, sending, done), daemon=True)
    receiver.start()
    if not publisher.wait_for_subscribers(1, 60.0):
        print("warning: the subscriber process did not connect; no receipt latency", file=sys.stderr)

    def calibration(size):
        if source.camera_matrix is not None:
            return CalibrationStage(source.camera_matrix, None, size, True)
        return CalibrationStage.uncalibrated(size)

    evaluator = Evaluator.for_source(source)
    bridges = make_bridges(args)
    peers = start_peers(bridges)  # a receiving client per bridge, in its own process (tools.bridge_peers)
    consumers, stages = [publisher, *bridges], []
    if evaluator is not None:
        consumers.append(evaluator)
        stages.append(evaluator.truth_stage)
    skeleton = make_skeleton_stage(consumers)  # as run_live.py: the solve stage, for VMC, Live Link, ROS 2
    if skeleton is not None:
        stages.append(skeleton)
    pipeline = Pipeline(detector_full, lifter, consumers, calibration=calibration,
                        smoother=None if args.no_smooth else SmoothingStage(), stages=stages,
                        backends={"detector": args.detector, "lifter": args.lifter}, options=PipelineOptions())
    alone_ms, full_ms, found_alone = [], [], 0
    stage_ms: dict[str, list[float]] = {}
    for i, frame in enumerate(_frames(args, source)):
        timed = i >= args.warmup
        for path in (("alone", "full") if i % 2 == 0 else ("full", "alone")):
            if path == "alone":
                t0 = time.perf_counter()
                result = detector_alone(frame.image, timestamp=frame.timestamp)
                if timed:
                    alone_ms.append((time.perf_counter() - t0) * 1e3)
                    found_alone += result is not None
            else:
                frame.t_capture = time.time()  # taken now: latency = this path's processing
                out = pipeline.process(frame, source.dropped)
                if timed:
                    full_ms.append((time.time() - frame.t_capture) * 1e3)
                    for name, value in out.timings_ms.items():
                        stage_ms.setdefault(name, []).append(value)
        if i + 1 == args.warmup:
            pipeline.stats = type(pipeline.stats)()  # warm-up frames do not count
            if evaluator is not None:
                evaluator.reset()
    time.sleep(0.3)  # let the last messages arrive
    done.set()
    receipt = receiving.recv() if receiving.poll(10.0) else []
    receiver.join(5.0)
    publisher.close()
    stop_peers(peers)
    for bridge in bridges:
        bridge.close()
    receipt = receipt[-len(full_ms):] if full_ms else []
    stats = pipeline.stats.as_dict()
    return {
        "source": args.source, "frames": len(full_ms), "frames_with_person": {"alone": found_alone, "full": stats["frames_with_person"]},
        "detector_alone": {"fps": 1e3 / float(np.mean(alone_ms)), "latency_ms": summarize(alone_ms).as_dict()},
        "full_pipeline": {"fps": 1e3 / float(np.mean(full_ms)), "latency_ms": summarize(full_ms).as_dict(),
                          "latency_to_subscriber_ms": summarize(receipt).as_dict(),
                          "stages_ms": {k: summarize(v).as_dict() for k, v in stage_ms.items()}},
        "accuracy_mm": evaluator.summary() if evaluator is not None else {},
    }


def report(res: dict, args) -> list[str]:
    det, full = res["detector_alone"], res["full_pipeline"]
    lines = [f"source: {args.source}, {res['frames']} frames (person found: detector alone {res['frames_with_person']['alone']}, "
             f"full pipeline {res['frames_with_person']['full']})",
             f"detector: {args.detector} ({args.detector_threads or 'default'} threads), lifter: {args.lifter}, "
             f"smoothing: {'off' if args.no_smooth else 'on'}; paths interleaved frame by frame",
             f"{'':34s}{'fps':>8s}{'p50 ms':>10s}{'p99 ms':>10s}{'mean ms':>10s}{'x detector':>12s}"]

    def row(name, fps, summary):
        fps_text = f"{fps:8.2f}" if fps is not None else f"{'':8s}"
        ratio = summary["mean_ms"] / det["latency_ms"]["mean_ms"]  # of the detector's own time per frame
        lines.append(f"{name:34s}{fps_text}{summary['p50_ms']:10.2f}{summary['p99_ms']:10.2f}"
                     f"{summary['mean_ms']:10.2f}{ratio:12.4f}")
    row("detector alone, end to end", det["fps"], det["latency_ms"])
    row("full pipeline, end to end", full["fps"], full["latency_ms"])
    row("full pipeline, to subscriber", None, full["latency_to_subscriber_ms"])
    for name, stage in full["stages_ms"].items():
        if name != "wait":
            row(f"  stage {name}", None, stage)
    added = full["latency_ms"]["p50_ms"] - det["latency_ms"]["p50_ms"]
    lines.append(f"ratio full pipeline / detector alone: fps {full['fps'] / det['fps']:.3f}, "
                 f"p50 latency {full['latency_ms']['p50_ms'] / det['latency_ms']['p50_ms']:.3f}, "
                 f"p99 latency {full['latency_ms']['p99_ms'] / det['latency_ms']['p99_ms']:.3f}; "
                 f"lifting + streaming add {added:+.2f} ms at p50")
    lines.append("(stage means add up to the end-to-end mean; p50s do not add up, and on a shared machine the tails "
                 "come from other processes taking the CPU; 'x detector': mean time / the detector alone's mean time)")
    for name, acc in res["accuracy_mm"].items():
        lines.append(f"3D error vs demo ground truth, {name}: mean {acc['mean_ms']:.1f} mm over {acc['count']} frames")
    return lines


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        res = run(args)
    except SourceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (ImportError, FileNotFoundError, ValueError, RuntimeError) as exc:  # a backend or model missing
        print(f"error: {type(exc).__name__}: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    print("\n".join(report(res, args)))
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), **res}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
