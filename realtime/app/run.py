"""Running ``run_live.py``: the live pipeline or a replay, signals, status lines and the summary."""
from __future__ import annotations

import json
import signal
import sys
import threading
import time
from pathlib import Path

from realtime.app.build import (SetupError, describe_engines, make_calibration, make_detector, make_lifter,
                                make_outputs, make_skeleton_stage, one_line, start_viewer)
from realtime.app.options import build_parser, check_args
from realtime.core.cli import configure_logging
from realtime.core.sources import SourceError, SourceOptions, open_source

EXIT_OK, EXIT_FAILED, EXIT_SETUP = 0, 1, 2


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


def run_replay(args, stop: threading.Event) -> int:
    from realtime.recording.replay import replay_session
    from realtime.recording.session_reader import SessionError, read_session
    path = args.source.removeprefix("replay:")
    if not Path(path).exists():
        raise SetupError(f"no such recording: {path}")
    try:
        session = read_session(path)
    except SessionError as exc:
        raise SetupError(str(exc)) from None
    if not session.complete:  # replay what is there, and say exactly what is not
        print(f"warning: {session.loss_report()}", file=sys.stderr)
    consumers = make_outputs(args, burst=not args.speed)
    wait_for_subscribers(args, consumers[0], stop)
    started = time.perf_counter()
    try:
        sent = replay_session(session, consumers, speed=args.speed or None, max_frames=args.max_frames, stop_event=stop)
    except (OSError, ValueError) as exc:
        print(f"run_live: error: cannot replay {path}: {one_line(exc)}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        for consumer in consumers:
            consumer.close()
    elapsed = time.perf_counter() - started
    print(f"replayed {sent} frames from {path} in {elapsed:.1f} s ({sent / max(elapsed, 1e-9):.1f} fps)")
    return EXIT_OK


def make_status_printer(pipeline, source, every_s: float):
    """An ``on_frame`` callback printing frames, rate, latency and drops every ``every_s`` seconds."""
    from realtime.core.stats import RateMeter
    rate, last = RateMeter(), [time.monotonic()]

    def on_frame(result) -> None:
        rate.tick()
        if every_s and time.monotonic() - last[0] >= every_s:
            last[0] = time.monotonic()
            lat = pipeline.stats.latency.summary()
            print(f"frames {pipeline.stats.frames}  {rate.rate():.1f} fps  latency p50 {lat.p50_ms:.1f} ms  "
                  f"p99 {lat.p99_ms:.1f} ms  dropped {source.dropped}", flush=True)
    return on_frame


def summary_lines(result, stream_stats: dict, accuracy: dict) -> list[str]:
    s = result.stats.as_dict()
    lat = s["latency_ms"]
    lines = [f"stopped by: {result.stopped_by}" + (f" ({result.error})" if result.error else ""),
             f"frames: {s['frames']} processed, {s['frames_with_person']} with a person, {s['errors']} with errors, "
             f"{result.source_stats.get('dropped_at_source', 0)} dropped at the source, "
             f"{result.source_stats.get('captured', 0)} captured",
             *_skipped_inputs(result.source_stats),
             f"throughput: {s['fps']:.1f} fps",
             f"latency capture->publish: p50 {lat['p50_ms']:.1f} ms  p99 {lat['p99_ms']:.1f} ms  max {lat['max_ms']:.1f} ms"]
    for name, st in s["stages_ms"].items():
        lines.append(f"  stage {name:10s} p50 {st['p50_ms']:7.2f} ms  p99 {st['p99_ms']:7.2f} ms  mean {st['mean_ms']:7.2f} ms")
    for name, st in accuracy.items():
        unit = "deg" if name.endswith("_deg") else "mm"
        lines.append(f"3D error vs demo ground truth, {name}: mean {st['mean_ms']:.1f} {unit}  median "
                     f"{st['p50_ms']:.1f} {unit} over {st['count']} frames")
    if stream_stats:
        lines.append("stream: " + ", ".join(f"{k} {v}" for k, v in stream_stats.items()))
    lines += [f"warning: {line}" for line in result.consumer_errors]
    return lines


def people_lines(people: dict) -> list[str]:
    """Per demo figure: how often found while fully visible, identity switches, 3D error."""
    return [f"figure {figure}: found in {p['found_when_visible']} of {p['visible']} fully visible frames "
            f"({p['found_pct']:.1f} %), {p['id_switches']} identity switches ({p['id_switches_outside_crossings']} "
            f"outside crossings), track ids {p['track_ids']}, MPJPE {p.get('mpjpe_mm', float('nan')):.1f} mm, "
            f"PA-MPJPE {p.get('pmpjpe_mm', float('nan')):.1f} mm" for figure, p in people.items()]


def _skipped_inputs(source_stats: dict) -> list[str]:
    """A line for the images of a folder that could not be read, when there were any."""
    count = source_stats.get("unreadable_images", 0)
    if not count:
        return []
    examples = ", ".join(source_stats.get("unreadable_examples", []))
    return [f"warning: skipped {count} unreadable images ({examples}{', ...' if count > 5 else ''})"]


def run_pipeline(args, stop: threading.Event) -> int:
    from realtime.core.evaluation import Evaluator
    from realtime.core.overlay import OverlayWindow, display_available
    from realtime.core.pipeline import Pipeline, PipelineOptions
    from realtime.core.smoothing import SmoothingStage
    from realtime.core.temporal import TemporalStage
    options = SourceOptions(width=args.width, height=args.height_px, fps=args.fps, realtime=args.realtime, loop=args.loop,
                            demo_people=args.demo_people)
    try:
        source = open_source(args.source, options)
    except SourceError as exc:
        raise SetupError(str(exc)) from None
    try:
        detector = make_detector(args.detector, args.detector_threads, args.max_people)
        lifter = make_lifter(args.lifter, args.lifter_model, args.flip_test)
        calibration = make_calibration(args, source)
        engines = describe_engines(args, lifter)
        consumers = make_outputs(args, engines)
    except BaseException:
        source.stop()
        raise
    publisher = consumers[0]
    if not args.headless:
        if display_available():
            consumers.append(OverlayWindow(stop))
        else:
            print("no display found: running headless (the stream is published as usual)", file=sys.stderr)
    evaluator = Evaluator.for_source(source)  # the demo: 3D error against its ground truth
    if evaluator is not None:
        consumers.append(evaluator)
    stages = [evaluator.truth_stage] if evaluator is not None else []
    skeleton = make_skeleton_stage(consumers)  # VMC, Live Link, ROS 2: a rig with bone rotations
    if skeleton is not None:
        stages.append(skeleton)
    smoother = (TemporalStage() if args.smoother == "temporal" else SmoothingStage()) if args.smooth else None
    pipeline = Pipeline(detector, lifter, consumers, calibration=calibration, smoother=smoother, stages=stages,
                        backends=engines, options=PipelineOptions(max_frames=args.max_frames, lost_below=args.lost_below,
                                                                  max_people=args.max_people))
    viewer = start_viewer(publisher.address) if args.viewer else None
    asked = (args.width or source.frame_size[0], args.height_px or source.frame_size[1])
    if tuple(asked) != tuple(source.frame_size) and getattr(source, "kind", "") == "webcam":
        print(f"note: {source.name} delivers {source.frame_size[0]}x{source.frame_size[1]} "
              f"(asked for {asked[0]}x{asked[1]})", file=sys.stderr)
    print(f"source {source.name} {source.frame_size[0]}x{source.frame_size[1]}, detector {args.detector}, "
          f"lifter {args.lifter}, publishing on {publisher.address}", flush=True)
    pipeline.warm_up(source.frame_size)
    wait_for_subscribers(args, publisher, stop)
    try:
        result = pipeline.run(source, stop, on_frame=make_status_printer(pipeline, source, args.status_every))
    finally:
        if viewer is not None and viewer.poll() is None:
            viewer.terminate()
    accuracy = evaluator.summary() if evaluator is not None else {}
    people = evaluator.people.summary() if evaluator is not None and args.demo_people > 1 else {}
    print("\n".join(summary_lines(result, publisher.stats(), accuracy) + people_lines(people)), flush=True)
    if args.summary_json:
        Path(args.summary_json).write_text(json.dumps(
            {"stopped_by": result.stopped_by, "error": result.error, "source": result.source_stats,
             "stream": publisher.stats(), **result.stats.as_dict(), "accuracy_mm": accuracy,
             "people": {str(k): v for k, v in people.items()}}, indent=2))
    if result.stopped_by == "error" or (result.stopped_by == "end_of_stream" and result.error):
        print(f"error: {result.error}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    check_args(parser, args)
    configure_logging()
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
