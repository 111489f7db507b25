"""Building the parts of a run from the command line: engines, calibration, stages and consumers.

Everything here fails early with a ``SetupError``: one line for the user, exit status 2, before any
frame is processed.
"""
from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

log = logging.getLogger(__name__)


class SetupError(RuntimeError):
    """Something the user can fix before the run starts; printed as one line, exit status 2."""


def one_line(exc: BaseException) -> str:
    """``Type: message`` on a single line (library messages sometimes span several)."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def make_detector(backend: str, threads: int = 0, max_people: int = 1):
    try:
        from engines.detector import PoseDetector
        return PoseDetector(backend=backend, threads=threads, max_people=max_people)
    except Exception as exc:  # noqa: BLE001 - ImportError, missing model, provider not installed...
        raise SetupError(f"detector backend {backend!r} is not available: {one_line(exc)}") from None


def make_lifter(backend: str, model_path: str | None, flip_test: bool = True):
    try:
        from engines.lifter import Lifter, LifterOptions
        # One CPU thread: the network is tiny, and a thread pool only competes with the detector for
        # the cores (torch with its default threads took 300 ms per pose here instead of 2.5 ms).
        return Lifter(options=LifterOptions(backend=backend, model_path=model_path, threads=1, flip_test=flip_test))
    except Exception as exc:  # noqa: BLE001
        raise SetupError(f"lifter backend {backend!r} is not available: {one_line(exc)}") from None


def make_calibration(args, source):
    """A callable ``image_size -> CalibrationStage``; checked once now so a bad file fails at start.

    Without a calibration file a source that knows its camera (the demo) gives its exact intrinsics;
    any other gets the assumed ones.
    """
    try:
        from calibration.stage import CalibrationOptions, CalibrationStage
    except ImportError:
        if args.calibration or args.height or args.scale:
            raise SetupError("--calibration / --height need the calibration package, which is missing") from None
        return None
    options = CalibrationOptions(subject_height_m=args.height, scale_mode=args.scale,
                                 world=args.world, up_axis=args.up)
    known_camera = getattr(source, "camera_matrix", None)

    def factory(image_size):
        if args.calibration:
            return CalibrationStage.from_file(args.calibration, image_size, options)
        if known_camera is not None:
            return CalibrationStage(known_camera, None, image_size, True, options,
                                    info={"file": f"{source.name} camera (exact intrinsics)"})
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


def make_consumers(args, engines: dict[str, str] | None = None, burst: bool = False) -> list:
    """The publisher first (and the recorder with --record). ``burst``: frames come faster than real
    time (replay at --speed 0), so queue more per subscriber and linger longer rather than drop frames."""
    from realtime.stream.publisher import Publisher, PublisherError, PublisherOptions
    options = PublisherOptions(address=args.publish)
    if burst:
        options.sndhwm, options.linger_ms = 10_000, 5000
    try:
        consumers = [Publisher(options)]
    except PublisherError as exc:
        raise SetupError(str(exc)) from None
    if args.record:
        try:
            from realtime.recording.recorder import Recorder
            metadata = {"source": args.source, **(engines or {"detector": args.detector, "lifter": args.lifter}),
                        "calibration": args.calibration, "subject_height_m": args.height,
                        "smoothing": args.smooth, "command": " ".join(sys.argv)}
            consumers.append(Recorder(args.record, metadata, video=args.record_video))
        except Exception as exc:  # noqa: BLE001
            consumers[0].close()
            raise SetupError(f"cannot record into {args.record}: {one_line(exc)}") from None
    return consumers


def make_bridges(args) -> list:
    """The bridges the user asked for (``realtime.bridges``), after the publisher and the recorder."""
    from realtime.app.options import bridge_modules

    bridges = []
    for name, module in bridge_modules():
        try:
            consumer = module.consumer_from_args(args)
        except Exception as exc:  # noqa: BLE001 - a missing library, a bad address: one line, exit 2
            for bridge in bridges:
                bridge.close()
            raise SetupError(f"{name}: {one_line(exc)}") from None
        if consumer is not None:
            bridges.append(consumer)
    return bridges


def make_outputs(args, engines: dict[str, str] | None = None, burst: bool = False) -> list:
    """``make_consumers`` then ``make_bridges``: the publisher first, the recorder, the bridges; when a
    bridge cannot start, the consumers made before it are closed again."""
    consumers = make_consumers(args, engines, burst)
    try:
        return consumers + make_bridges(args)
    except SetupError:
        for consumer in consumers:
            consumer.close()
        raise


def make_skeleton_stage(consumers: list):
    """The ``solve`` stage (``realtime.core.skeleton_stage``) when a consumer drives a rig with bone
    rotations (it says so with ``needs_skeleton = True``: VMC, Live Link, ROS 2), else None. Metric
    scale comes from calibration (``--height``, a floor board), which has scaled the joints already."""
    if not any(getattr(consumer, "needs_skeleton", False) for consumer in consumers):
        return None
    from realtime.core.skeleton_stage import SkeletonStage
    return SkeletonStage()


def start_viewer(address: str) -> subprocess.Popen | None:
    """The Open3D viewer in its own process (a crash or close there never touches the pipeline)."""
    connect = address.replace("0.0.0.0", "127.0.0.1").replace("//*:", "//127.0.0.1:")
    try:
        return subprocess.Popen([sys.executable, "-m", "realtime.viewer", "--connect", connect])
    except OSError as exc:
        log.warning("cannot start the viewer: %s", exc)
        return None
