#!/usr/bin/env python
"""Real-time 3D human pose: camera -> 2D detector -> SemGCN lifter -> ZeroMQ stream.

Examples:
  python run_live.py --source demo                      # built-in animated figure, no camera needed
  python run_live.py                                    # webcam 0, overlay window where a display exists
  python run_live.py --source clip.mp4 --headless --max-frames 300
  python run_live.py --source demo --viewer             # and the Open3D 3D viewer in its own window
  python run_live.py --source replay:runs/session1 --speed 2
  python -m realtime.subscriber --connect tcp://127.0.0.1:5555   # watch the stream from elsewhere

The stream (schema semgcn.pose/1, docs/stream_format.md) is published on 127.0.0.1 only unless
--publish names another interface. Ctrl-C or SIGTERM stops cleanly: the recording is flushed, the
sockets closed and a summary printed. Exit status: 0 done, 1 the run failed, 2 it could not start.
"""
from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from realtime.sources import DemoSource, SourceError, SourceOptions, open_source

EXIT_OK, EXIT_FAILED, EXIT_SETUP = 0, 1, 2
DETECTOR_BACKENDS = ("onnxruntime", "onnxruntime-cuda", "tensorrt", "mediapipe")
LIFTER_BACKENDS = ("onnxruntime", "tensorrt", "torch")


class SetupError(RuntimeError):
    """Something the user can fix before the run starts; printed as one line, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_argument_group("source")
    src.add_argument("--source", default="0", help="what to capture: a webcam index (default: 0), 'demo' (built-in "
                     "animated figure with ground truth), a video file, a folder of images, an image, a stream URL "
                     "(rtsp://, http://...), or replay:DIR_OR_FILE for a recorded session")
    src.add_argument("--width", type=int, help="requested webcam / demo frame width in pixels")
    src.add_argument("--height-px", dest="height_px", type=int, help="requested webcam / demo frame height in pixels")
    src.add_argument("--fps", type=float, help="requested webcam frame rate; pace of image folders and the demo (default 30)")
    src.add_argument("--realtime", action=argparse.BooleanOptionalAction, default=True,
                     help="play files and the demo at their frame rate, dropping frames the pipeline cannot keep up "
                     "with, like a camera (default); --no-realtime processes every frame as fast as possible")
    src.add_argument("--loop", action="store_true", help="start a video file or image folder again at its end")
    src.add_argument("--speed", type=float, default=1.0,
                     help="replay speed for replay: sources (1 = as recorded, 0 = as fast as possible)")
    eng = p.add_argument_group("engines")
    eng.add_argument("--detector", default="onnxruntime", choices=DETECTOR_BACKENDS, help="2D detector backend (default: %(default)s)")
    eng.add_argument("--detector-threads", type=int, default=1, metavar="N",
                     help="ONNX Runtime threads of the CPU detector (default: %(default)s; 0: the runtime's choice, all "
                     "cores). One thread leaves the other cores to capture, ZeroMQ and the viewer; on 2 cores it "
                     "detected 2.6x faster than the runtime's choice (tools/bench_live.py)")
    eng.add_argument("--lifter", default="onnxruntime", choices=LIFTER_BACKENDS, help="SemGCN lifter backend (default: %(default)s)")
    eng.add_argument("--lifter-model", help="lifter model file (default: the shipped engines/models/semgcn_lifter.onnx)")
    eng.add_argument("--smooth", action=argparse.BooleanOptionalAction, default=True,
                     help="One Euro smoothing of the 3D joints (default: on); --no-smooth streams raw lifter output")
    eng.add_argument("--lost-below", type=float, default=0.0, metavar="C",
                     help="treat limb joints and the head whose detector confidence is under C as lost: each is "
                          "moved onto its nearest kept joint before lifting, as the lifter was trained, and "
                          "streamed with confidence 0 (default 0: only joints the detector did not give)")
    cal = p.add_argument_group("calibration")
    cal.add_argument("--calibration", metavar="FILE", help="camera calibration JSON (python -m calibration intrinsics); "
                     "default: assumed intrinsics (the demo uses its exact camera)")
    cal.add_argument("--height", type=float, metavar="M", help="the subject's height in metres, for metric scale")
    cal.add_argument("--scale", choices=("none", "height", "canonical", "floor"), default=None,
                     help="metric scale of the 3D pose: 'height' (the paper's bone-length calibration to "
                          "--height), 'canonical' (an average adult), 'floor' (estimated from a floor board "
                          "in the calibration file), 'none' (the lifter's own metres); default: 'height' "
                          "when --height is given, else 'none'")
    cal.add_argument("--world", choices=("auto", "board", "foot_contacts", "none"), default="auto",
                     help="world frame for joints_world: the floor board of the calibration file, the floor "
                          "estimated from foot contacts over time, 'auto' (board if the file has one, else "
                          "foot contacts; default) or 'none'")
    cal.add_argument("--up", choices=("y", "z"), default="y",
                     help="up axis of the world frame: y (game engines such as Unity; default) or z (ROS, Blender)")
    out = p.add_argument_group("output")
    out.add_argument("--publish", default="tcp://127.0.0.1:5555", metavar="ADDR",
                     help="ZeroMQ endpoint to publish on (default: %(default)s; tcp://0.0.0.0:PORT exposes the stream "
                     "to the network and prints a warning)")
    out.add_argument("--wait-subscribers", type=int, default=0, metavar="N",
                     help="before the first frame, wait until N subscribers have joined (so none misses the start)")
    out.add_argument("--wait-timeout", type=float, default=10.0, metavar="S",
                     help="give up waiting for subscribers after S seconds and start anyway (default: %(default)s)")
    out.add_argument("--record", metavar="DIR", help="also record the session into DIR (realtime.recorder)")
    out.add_argument("--record-video", action="store_true", help="with --record, store the camera images too")
    out.add_argument("--viewer", action="store_true", help="open the Open3D 3D viewer as a separate process "
                     "(closing it does not stop the pipeline)")
    out.add_argument("--headless", action="store_true", help="no overlay window (automatic when there is no display)")
    out.add_argument("--max-frames", type=int, metavar="N", help="stop after N processed frames")
    out.add_argument("--status-every", type=float, default=5.0, metavar="S",
                     help="print a status line every S seconds (0: never; default: %(default)s)")
    out.add_argument("--summary-json", metavar="FILE", help="also write the final summary as JSON to FILE")
    return p


def one_line(exc: BaseException) -> str:
    """``Type: message`` on a single line (library messages sometimes span several)."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# -- building the parts -----------------------------------------------------------------------------
def make_detector(backend: str, threads: int = 0):
    try:
        from engines.detector import PoseDetector
        return PoseDetector(backend=backend, threads=threads)
    except Exception as exc:  # noqa: BLE001 - ImportError, missing model, provider not installed...
        raise SetupError(f"detector backend {backend!r} is not available: {one_line(exc)}") from None


def make_lifter(backend: str, model_path: str | None):
    try:
        from engines.lifter import Lifter
        # One CPU thread: the network is tiny, and a thread pool only competes with the detector for
        # the cores (torch with its default threads took 300 ms per pose here instead of 2.5 ms).
        options = {"threads": 1} if backend in ("onnxruntime", "torch") else {}
        return Lifter(backend=backend, model_path=model_path, **options)
    except Exception as exc:  # noqa: BLE001
        raise SetupError(f"lifter backend {backend!r} is not available: {one_line(exc)}") from None


def make_calibration(args, source):
    """A callable ``image_size -> CalibrationStage``; checked once now so a bad file fails at start."""
    try:
        from calibration.stage import CalibrationOptions, CalibrationStage
    except ImportError:
        if args.calibration or args.height or args.scale:
            raise SetupError("--calibration / --height need the calibration package, which is missing") from None
        return None
    options = CalibrationOptions(subject_height_m=args.height, scale_mode=args.scale,
                                 world=args.world, up_axis=args.up)

    def factory(image_size):
        if args.calibration:
            return CalibrationStage.from_file(args.calibration, image_size, options)
        if isinstance(source, DemoSource):
            return CalibrationStage(source.camera_matrix, None, image_size, True, options,
                                    info={"file": "demo camera (exact intrinsics)"})
        return CalibrationStage.uncalibrated(image_size, options=options)

    if source is not None and source.frame_size is not None:
        try:
            factory(source.frame_size)
        except (OSError, ValueError) as exc:
            raise SetupError(f"calibration: {one_line(exc)}") from None
    return factory


def describe_engines(args, lifter) -> dict[str, str]:
    """Backends and lifter weights, for the stream header and the recording's metadata."""
    names = {"detector": args.detector, "lifter": args.lifter}
    info = getattr(lifter, "info", None)
    if info is not None:
        names.update(lifter_model=Path(info.model_path).name, lifter_sha256=info.model_sha256[:16])
    return names


def make_sinks(args, engines: dict[str, str] | None = None, burst: bool = False) -> list:
    """The publisher (and the recorder with --record). ``burst``: messages come faster than real time
    (replay at --speed 0), so queue more per subscriber and linger longer rather than drop frames."""
    from realtime.publisher import Publisher, PublisherError, PublisherOptions
    options = PublisherOptions(address=args.publish)
    if burst:
        options.sndhwm, options.linger_ms = 10_000, 5000
    try:
        sinks = [Publisher(options)]
    except PublisherError as exc:
        raise SetupError(str(exc)) from None
    if args.record:
        try:
            from realtime.recorder import Recorder
            metadata = {"source": args.source, **(engines or {"detector": args.detector, "lifter": args.lifter}),
                        "calibration": args.calibration, "subject_height_m": args.height,
                        "smoothing": args.smooth, "command": " ".join(sys.argv)}
            sinks.append(Recorder(args.record, metadata, video=args.record_video))
        except Exception as exc:  # noqa: BLE001
            sinks[0].close()
            raise SetupError(f"cannot record into {args.record}: {one_line(exc)}") from None
    return sinks


def start_viewer(address: str) -> subprocess.Popen | None:
    """The Open3D viewer in its own process (a crash or close there never touches the pipeline)."""
    connect = address.replace("0.0.0.0", "127.0.0.1").replace("//*:", "//127.0.0.1:")
    try:
        return subprocess.Popen([sys.executable, "-m", "realtime.viewer", "--connect", connect])
    except OSError as exc:
        print(f"warning: cannot start the viewer: {exc}", file=sys.stderr)
        return None


def install_signal_handlers(stop: threading.Event) -> None:
    """First Ctrl-C / SIGTERM: stop after the current frame and clean up; a second one: interrupt now."""
    def handler(signum, _frame):
        if stop.is_set():
            raise KeyboardInterrupt
        print(f"\n{signal.Signals(signum).name}: stopping (again to interrupt)", file=sys.stderr, flush=True)
        stop.set()
    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


def wait_for_subscribers(args, publisher, stop: threading.Event) -> None:
    """Hold the first frame back until ``--wait-subscribers`` subscribers joined (PUB/SUB slow joiner)."""
    if args.wait_subscribers <= 0:
        return
    deadline = time.monotonic() + args.wait_timeout
    while not stop.is_set() and time.monotonic() < deadline:
        if publisher.wait_for_subscribers(args.wait_subscribers, min(0.2, max(0.0, deadline - time.monotonic()))):
            return
    if not stop.is_set():
        print(f"warning: {publisher.subscriptions} of {args.wait_subscribers} subscribers joined within "
              f"{args.wait_timeout:g} s; starting anyway", file=sys.stderr)


# -- running ----------------------------------------------------------------------------------------
def run_replay(args, stop: threading.Event) -> int:
    try:
        from realtime.replay import replay_session
    except ImportError as exc:
        raise SetupError(f"replay is not available: {exc}") from None
    path = args.source.removeprefix("replay:")
    if not Path(path).exists():
        raise SetupError(f"no such recording: {path}")
    sinks = make_sinks(args, burst=not args.speed)
    wait_for_subscribers(args, sinks[0], stop)
    started = time.perf_counter()
    try:
        sent = replay_session(path, sinks, speed=args.speed or None, max_frames=args.max_frames, stop_event=stop)
    except (OSError, ValueError) as exc:
        print(f"run_live: error: cannot replay {path}: {one_line(exc)}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        for sink in sinks:
            sink.close()
    elapsed = time.perf_counter() - started
    print(f"replayed {sent} frames from {path} in {elapsed:.1f} s ({sent / max(elapsed, 1e-9):.1f} fps)")
    return EXIT_OK


def make_status_printer(pipeline, source, every_s: float):
    from realtime.overlay import OverlayInfo, render_overlay
    from realtime.stats import RateMeter
    rate, last = RateMeter(), [time.monotonic()]

    def on_frame(result, window=None) -> bool:
        rate.tick()
        if window is not None:
            status = "person" if result.frame.has_person else (result.error or "nobody")
            info = OverlayInfo(rate.rate(), result.latency_ms, source.dropped, status,
                               f"{pipeline.backends.get('detector')} / {pipeline.backends.get('lifter')}")
            if not window.show(render_overlay(result.captured.image, result.frame.keypoints_2d,
                                              result.frame.confidence, info)):
                return False
        if every_s and time.monotonic() - last[0] >= every_s:
            last[0] = time.monotonic()
            lat = pipeline.stats.latency.summary()
            print(f"frames {pipeline.stats.frames}  {rate.rate():.1f} fps  latency p50 {lat.p50_ms:.1f} ms  "
                  f"p99 {lat.p99_ms:.1f} ms  dropped {source.dropped}", flush=True)
        return True
    return on_frame


def summary_lines(result, sinks_stats: dict) -> list[str]:
    s = result.stats.as_dict()
    lat = s["latency_ms"]
    lines = [f"stopped by: {result.stopped_by}" + (f" ({result.error})" if result.error else ""),
             f"frames: {s['frames']} processed, {s['frames_with_person']} with a person, {s['errors']} with errors, "
             f"{result.source_stats.get('dropped_at_source', 0)} dropped at the source, "
             f"{result.source_stats.get('captured', 0)} captured",
             f"throughput: {s['fps']:.1f} fps",
             f"latency capture->publish: p50 {lat['p50_ms']:.1f} ms  p99 {lat['p99_ms']:.1f} ms  max {lat['max_ms']:.1f} ms"]
    for name, st in s["stages_ms"].items():
        lines.append(f"  stage {name:10s} p50 {st['p50_ms']:7.2f} ms  p99 {st['p99_ms']:7.2f} ms  mean {st['mean_ms']:7.2f} ms")
    for name, st in s["accuracy_mm"].items():
        lines.append(f"3D error vs demo ground truth, {name}: mean {st['mean_ms']:.1f} mm  median {st['p50_ms']:.1f} mm "
                     f"over {st['count']} frames")
    if sinks_stats:
        lines.append("stream: " + ", ".join(f"{k} {v}" for k, v in sinks_stats.items()))
    lines += [f"warning: {line}" for line in result.sink_errors]
    return lines


def run_pipeline(args, stop: threading.Event) -> int:
    from realtime.filters import PoseSmoother
    from realtime.overlay import OverlayWindow, display_available
    from realtime.pipeline import Pipeline, PipelineOptions
    options = SourceOptions(width=args.width, height=args.height_px, fps=args.fps, realtime=args.realtime, loop=args.loop)
    try:
        source = open_source(args.source, options)
    except SourceError as exc:
        raise SetupError(str(exc)) from None
    try:
        detector = make_detector(args.detector, args.detector_threads)
        lifter = make_lifter(args.lifter, args.lifter_model)
        calibration = make_calibration(args, source)
        engines = describe_engines(args, lifter)
        sinks = make_sinks(args, engines)
    except BaseException:
        source.stop()
        raise
    publisher = sinks[0]
    pipeline = Pipeline(detector, lifter, sinks, calibration=calibration, smoother=PoseSmoother() if args.smooth else None,
                        backends=engines,
                        options=PipelineOptions(max_frames=args.max_frames, lost_below=args.lost_below))
    window = None
    if not args.headless:
        if display_available():
            window = OverlayWindow()
        else:
            print("no display found: running headless (the stream is published as usual)", file=sys.stderr)
    viewer = start_viewer(publisher.address) if args.viewer else None
    asked = (args.width or source.frame_size[0], args.height_px or source.frame_size[1])
    if tuple(asked) != tuple(source.frame_size) and getattr(source, "kind", "") == "webcam":
        print(f"note: {source.name} delivers {source.frame_size[0]}x{source.frame_size[1]} "
              f"(asked for {asked[0]}x{asked[1]})", file=sys.stderr)
    print(f"source {source.name} {source.frame_size[0]}x{source.frame_size[1]}, detector {args.detector}, "
          f"lifter {args.lifter}, publishing on {publisher.address}", flush=True)
    pipeline.warm_up(source.frame_size)
    wait_for_subscribers(args, publisher, stop)
    printer = make_status_printer(pipeline, source, args.status_every)
    try:
        result = pipeline.run(source, stop, on_frame=lambda r: printer(r, window))
    finally:
        if window is not None:
            window.close()
        if viewer is not None and viewer.poll() is None:
            viewer.terminate()
    summary = summary_lines(result, publisher.stats())
    print("\n".join(summary), flush=True)
    if args.summary_json:
        Path(args.summary_json).write_text(json.dumps(
            {"stopped_by": result.stopped_by, "error": result.error, "source": result.source_stats,
             "stream": publisher.stats(), **result.stats.as_dict()}, indent=2))
    if result.stopped_by == "error" or (result.stopped_by == "end_of_stream" and result.error):
        print(f"error: {result.error}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.speed < 0 or (args.max_frames is not None and args.max_frames < 1) or args.wait_subscribers < 0 \
            or args.detector_threads < 0:
        parser.error("--speed, --wait-subscribers and --detector-threads must be >= 0, --max-frames >= 1")
    if args.height is not None and not 0.5 < args.height < 2.6:
        parser.error(f"--height is the subject's height in metres (0.5 to 2.6), got {args.height}")
    if not 0.0 <= args.lost_below < 1.0:
        parser.error(f"--lost-below is a confidence in [0, 1), got {args.lost_below}")
    stop = threading.Event()
    install_signal_handlers(stop)
    try:
        if args.source.startswith("replay:"):
            return run_replay(args, stop)
        return run_pipeline(args, stop)
    except SetupError as exc:
        print(f"run_live: error: {exc}", file=sys.stderr)
        return EXIT_SETUP
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
