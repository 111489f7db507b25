"""Benchmark the live pipeline against the 2D detector alone, on the same frames, in one run.

    python -m tools.bench_live                                   # shared/media/tfjs_models/pose_1.mp4
    python -m tools.bench_live --source demo --frames 150
    python -m tools.bench_live --source clip.mp4 --detector onnxruntime-cuda --lifter tensorrt

Two passes over the same frames: "detector alone" runs only the 2D detector on each frame; "full
pipeline" runs detector -> SemGCN lifter -> smoothing -> calibration -> encode -> ZeroMQ publish, with
a subscriber receiving the stream in another thread. The passes alternate in ABBA order over
``--rounds`` rounds so that a change of machine load during the run affects both alike; samples are
pooled. Both are unpaced (every frame, as fast as possible; ``--realtime`` paces them like a camera).
Printed: frames per second, latency p50 / p99 per stage and end to end (capture to publish, capture to
receipt by the subscriber), and the ratios full / detector alone: the cost of lifting and streaming.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from realtime.filters import PoseSmoother
from realtime.pipeline import Pipeline, PipelineOptions
from realtime.publisher import Publisher, PublisherOptions
from realtime.sources import DemoSource, EndOfStream, SourceError, SourceOptions, open_source
from realtime.stats import summarize

DEFAULT_VIDEO = Path(__file__).resolve().parents[2] / "shared" / "media" / "tfjs_models" / "pose_1.mp4"


@dataclass
class PassSamples:
    """Pooled measurements of one kind of pass.

    Attributes:
        frames: frames timed; busy_s: time from first to last frame, summed over rounds; intervals:
        frame intervals in that time (frames - 1 per round); latency_ms / receipt_ms / stages_ms /
        accuracy_mm: per-frame samples; found: frames with a person; dropped: frames dropped at the source.
    """

    frames: int = 0
    busy_s: float = 0.0
    intervals: int = 0
    found: int = 0
    dropped: int = 0
    latency_ms: list[float] = field(default_factory=list)
    receipt_ms: list[float] = field(default_factory=list)
    stages_ms: dict[str, list[float]] = field(default_factory=dict)
    accuracy_mm: dict[str, list[float]] = field(default_factory=dict)

    def fps(self) -> float:
        return self.intervals / self.busy_s if self.busy_s > 0 else float("nan")

    def as_dict(self) -> dict:
        return {"frames": self.frames, "fps": round(self.fps(), 3), "frames_with_person": self.found,
                "dropped_at_source": self.dropped, "latency_ms": summarize(self.latency_ms).as_dict(),
                "latency_to_subscriber_ms": summarize(self.receipt_ms).as_dict(),
                "stages_ms": {k: summarize(v).as_dict() for k, v in self.stages_ms.items()},
                "accuracy_mm": {k: summarize(v).as_dict() for k, v in self.accuracy_mm.items()}}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tools.bench_live", description=__doc__.split("\n\n")[0],
                                epilog=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--source", default=str(DEFAULT_VIDEO) if DEFAULT_VIDEO.exists() else "demo",
                   help="video file, image folder, 'demo' or webcam index (default: %(default)s)")
    p.add_argument("--frames", type=int, default=None,
                   help="frames per pass (default: the whole file; 150 for the demo, a webcam or a URL)")
    p.add_argument("--rounds", type=int, default=2, help="ABBA rounds; each round runs both passes (default: %(default)s)")
    p.add_argument("--detector", default="onnxruntime", help="detector backend (default: %(default)s)")
    p.add_argument("--lifter", default="onnxruntime", help="lifter backend (default: %(default)s)")
    p.add_argument("--lifter-model", help="lifter model file (default: the shipped one)")
    p.add_argument("--no-smooth", action="store_true", help="leave out the One Euro smoothing stage")
    p.add_argument("--realtime", action="store_true", help="pace files / the demo at their frame rate (drops frames)")
    p.add_argument("--warmup", type=int, default=5, help="frames run through both engines before timing (default: %(default)s)")
    p.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    return p


def _open(args, paced: bool):
    return open_source(args.source, SourceOptions(realtime=paced))


def _frame_budget(args, source) -> int:
    if args.frames:
        return args.frames
    endless = isinstance(source, DemoSource) or getattr(source, "kind", "") in ("webcam", "url")
    return 150 if endless else 10**9


def detector_only(detector, args, out: PassSamples) -> None:
    """One pass of capture -> detector and nothing else; latency is capture to detection result."""
    source = _open(args, args.realtime).start()
    budget, n, first, last = _frame_budget(args, source), 0, None, None
    detect = out.stages_ms.setdefault("detect", [])
    try:
        while n < budget:
            try:
                frame = source.get(timeout=5.0)
            except EndOfStream:
                break
            if frame is None:
                continue
            t0 = time.perf_counter()
            result = detector(frame.image, timestamp=frame.timestamp)
            t1 = time.perf_counter()
            detect.append((t1 - t0) * 1e3)
            out.latency_ms.append((time.time() - frame.t_capture) * 1e3)
            out.found += result is not None
            first, last, n = first or t1, t1, n + 1
    finally:
        source.stop()
    out.frames += n
    out.intervals += max(0, n - 1)
    out.busy_s += (last - first) if n > 1 else 0.0
    out.dropped += source.dropped


def full_pipeline(detector, lifter, args, out: PassSamples) -> None:
    """One pass of the whole pipeline, publishing to a subscriber that measures capture-to-receipt latency."""
    from calibration.stage import CalibrationStage

    source = _open(args, args.realtime)
    publisher = Publisher(PublisherOptions(address="tcp://127.0.0.1:*"))
    # The subscriber is another process, as a game engine or robot would be: in a thread of this
    # one it would compete with the pipeline for the GIL and distort the publish timings.
    context = multiprocessing.get_context("spawn")
    receiving, sending = context.Pipe(duplex=False)
    done = context.Event()
    receiver = context.Process(target=_receive_latencies, args=(publisher.address, sending, done), daemon=True)
    receiver.start()
    if not publisher.wait_for_subscribers(1, 60.0):
        print("warning: the subscriber process did not connect; receipt latency is missing", file=sys.stderr)

    def calibration(size):
        if isinstance(source, DemoSource):
            return CalibrationStage(source.camera_matrix, None, size, True)
        return CalibrationStage.uncalibrated(size)

    pipeline = Pipeline(detector, lifter, [publisher], calibration=calibration,
                        smoother=None if args.no_smooth else PoseSmoother(),
                        backends={"detector": args.detector, "lifter": args.lifter},
                        options=PipelineOptions(max_frames=_frame_budget(args, source)))
    result = pipeline.run(source)
    time.sleep(0.3)  # let the last messages arrive
    done.set()
    if receiving.poll(10.0):
        out.receipt_ms += receiving.recv()
    receiver.join(5.0)
    stats = result.stats
    out.frames += stats.frames
    out.intervals += max(0, stats.frames - 1)
    out.busy_s += (stats.finished_at - stats.started_at) if stats.frames > 1 else 0.0
    out.found += stats.frames_with_person
    out.dropped += result.source_stats.get("dropped_at_source", 0)
    out.latency_ms += stats.latency.samples()
    for name, series in stats.stages.items():
        out.stages_ms.setdefault(name, []).extend(series.samples())
    for name, series in stats.accuracy.items():
        out.accuracy_mm.setdefault(name, []).extend(series.samples())


def _receive_latencies(address: str, connection, done) -> None:
    """Subscriber process: capture-to-receipt latency (ms) of every frame, sent back when ``done`` is set."""
    from realtime.subscriber import Subscriber
    latencies = []
    with Subscriber(address) as subscriber:
        while not done.is_set():
            frame = subscriber.recv(timeout_ms=100)
            if frame is not None:
                latencies.append((time.time() - frame.t_capture) * 1e3)
    connection.send(latencies)
    connection.close()


def warm_up(detector, lifter, args) -> None:
    """Run a few frames through both engines so that neither pass pays for lazy initialisation."""
    source = _open(args, paced=False).start()
    try:
        for _ in range(args.warmup):
            frame = source.get(timeout=5.0)
            if frame is None:
                break
            result = detector(frame.image, timestamp=frame.timestamp)
            if result is not None:
                lifter.predict(result.keypoints_2d, image_size=frame.image.shape[1::-1])
    except EndOfStream:
        pass
    finally:
        source.stop()


def report(det: dict, full: dict, args) -> list[str]:
    lines = [f"source: {args.source}  detector: {args.detector}  lifter: {args.lifter}  "
             f"smoothing: {'off' if args.no_smooth else 'on'}  paced: {args.realtime}  rounds: {args.rounds} (ABBA)",
             f"{'':30s}{'frames':>8s}{'fps':>9s}{'p50 ms':>10s}{'p99 ms':>10s}"]

    def row(name, frames, fps, summary):
        fps_text = f"{fps:9.2f}" if fps is not None else f"{'':9s}"
        lines.append(f"{name:30s}{frames:8d}{fps_text}{summary['p50_ms']:10.2f}{summary['p99_ms']:10.2f}")
    row("detector alone, end to end", det["frames"], det["fps"], det["latency_ms"])
    row("  stage detect", det["frames"], None, det["stages_ms"]["detect"])
    row("full pipeline, to publish", full["frames"], full["fps"], full["latency_ms"])
    row("full pipeline, to subscriber", full["latency_to_subscriber_ms"]["count"], None, full["latency_to_subscriber_ms"])
    for name, stage in full["stages_ms"].items():
        row(f"  stage {name}", stage["count"], None, stage)
    extra = full["latency_ms"]["p50_ms"] - det["latency_ms"]["p50_ms"]
    lines.append(f"ratio full pipeline / detector alone: fps {full['fps'] / det['fps']:.3f}, "
                 f"p50 latency {full['latency_ms']['p50_ms'] / det['latency_ms']['p50_ms']:.3f}, "
                 f"p99 latency {full['latency_ms']['p99_ms'] / det['latency_ms']['p99_ms']:.3f} "
                 f"(lifting + streaming add {extra:+.2f} ms at p50)")
    after_detect = sum(s["p50_ms"] for k, s in full["stages_ms"].items() if k not in ("wait", "detect"))
    lines.append(f"stages after the detector (lift, smooth, calibrate, encode, publish): {after_detect:.2f} ms "
                 f"summed p50 = {after_detect / full['stages_ms']['detect']['p50_ms']:.3f} x the detector's p50")
    for name, acc in full.get("accuracy_mm", {}).items():
        lines.append(f"3D error vs demo ground truth, {name}: mean {acc['mean_ms']:.1f} mm over {acc['count']} frames")
    return lines


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        _open(args, paced=False).stop()  # fail early and clearly on a bad source
        from engines.detector import PoseDetector
        from engines.lifter import Lifter
        detector = PoseDetector(backend=args.detector)
        lifter = Lifter(backend=args.lifter, model_path=args.lifter_model)
    except SourceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - a backend that is not installed
        print(f"error: {type(exc).__name__}: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    warm_up(detector, lifter, args)
    det, full = PassSamples(), PassSamples()
    order = [("D", "F") if r % 2 == 0 else ("F", "D") for r in range(max(1, args.rounds))]
    for step in (s for pair in order for s in pair):
        detector.reset()  # every pass starts untracked, like a new video
        if step == "D":
            detector_only(detector, args, det)
        else:
            full_pipeline(detector, lifter, args, full)
        print(f"pass {'detector alone' if step == 'D' else 'full pipeline'} done", file=sys.stderr, flush=True)
    det_d, full_d = det.as_dict(), full.as_dict()
    print("\n".join(report(det_d, full_d, args)))
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "detector_only": det_d, "full_pipeline": full_d},
                                              indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
