"""The command line of offline processing, ``python -m tools.process`` (docs/offline.md).

    python -m tools.process clips/*.mp4 --out out/ --to bvh,csv,json
    python -m tools.process clips/ shots/ --out out/ --calibration cam.json --height 1.78
    python -m tools.process 'clips/**/*.mp4' --out /shared/out --ray local --workers 2
    python -m tools.process /shared/clips --out /shared/out --ray 10.0.0.5:6379

Per input: ``NAME.mcap`` (the recorder's session) and the exports asked for (``NAME.bvh``,
``NAME.csv``, ``NAME.json``, ``NAME_ros2bag/``), named after the input. Finished inputs are skipped
when the command runs again; a summary table ends the run. Exit status: 0 every input done (or done
before), 1 some input failed, 2 the run could not start (a bad option, calibration file or cluster).
"""
from __future__ import annotations

import argparse
import json
import signal
import sys
from dataclasses import asdict, replace
from pathlib import Path

from engines.backends import DETECTOR_BACKENDS, LIFTER_BACKENDS
from engines.detector import MAX_PEOPLE
from realtime.app.build import SetupError, one_line
from realtime.batch.redetect import RedetectOptions
from realtime.batch.settings import FORMATS, OfflineSettings, SmoothingSettings
from realtime.core.cli import MAX_THREADS, OneLineParser, bounded, configure_logging, new_file, output_dir

EXIT_OK, EXIT_FAILED, EXIT_SETUP = 0, 1, 2
DESCRIPTION = ("Offline: recorded videos and image folders to 3D sessions (MCAP) and exports, in this process "
               "or on a Ray cluster, looking both ways in time (docs/offline.md).")


def formats(text: str) -> tuple[str, ...]:
    """``--to``: a comma-separated subset of ``FORMATS`` (``none`` for the session alone)."""
    names = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    if names == ("none",):
        return ()
    unknown = [n for n in names if n not in FORMATS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list of {', '.join(FORMATS)} (or none), got {text!r}")
    return names


def build_parser() -> argparse.ArgumentParser:
    p = OneLineParser(prog="python -m tools.process", description=DESCRIPTION,
                      epilog=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="video files, image folders, images, folders of "
                   "videos, or glob patterns (quote them to let this command expand '**')")
    p.add_argument("--out", required=True, type=output_dir, metavar="DIR", help="folder for the outputs (made if missing)")
    p.add_argument("--to", type=formats, default=("bvh", "csv"), metavar="FORMATS",
                   help=f"exports besides the session: a comma-separated list of {', '.join(FORMATS)}, or none "
                        "(default: bvh,csv)")
    p.add_argument("--overwrite", action="store_true", help="process inputs that an earlier run finished, too")
    cam = p.add_argument_group("camera and scale")
    cam.add_argument("--calibration", metavar="FILE", help="camera calibration JSON (python -m calibration "
                     "intrinsics); default: assumed intrinsics, stated in each session's metadata")
    cam.add_argument("--height", type=bounded(float, 0.5, 2.6), metavar="M", help="the subject's height in metres (0.5 to 2.6)")
    cam.add_argument("--scale", choices=("none", "height", "canonical", "floor"), help="as run_live.py --scale")
    cam.add_argument("--world", choices=("auto", "board", "foot_contacts", "none"), default="auto",
                     help="world frame, as run_live.py --world (default: %(default)s)")
    cam.add_argument("--up", choices=("y", "z"), default="y", help="up axis of the world frame (default: %(default)s)")
    cam.add_argument("--fps", type=bounded(float, 1, 240), default=30.0, help="frame rate of image folders (1 to 240; "
                     "default: %(default)s; videos use their own)")
    eng = p.add_argument_group("engines")
    eng.add_argument("--detector", choices=DETECTOR_BACKENDS, default="onnxruntime", help="default: %(default)s")
    eng.add_argument("--detector-threads", type=bounded(int, 0, MAX_THREADS), default=1, metavar="N",
                     help=f"ONNX Runtime threads per process (0 to {MAX_THREADS}; 0: all cores; default: %(default)s)")
    eng.add_argument("--lifter", choices=LIFTER_BACKENDS, default="onnxruntime", help="default: %(default)s")
    eng.add_argument("--lifter-model", metavar="FILE", help="lifter weights (default: the shipped model)")
    eng.add_argument("--max-people", type=bounded(int, 1, MAX_PEOPLE), default=1, metavar="N",
                     help=f"people the detector follows at once (1 to {MAX_PEOPLE}; default: %(default)s)")
    eng.add_argument("--lost-below", type=bounded(float, 0.0, 0.99), default=0.0, metavar="C",
                     help="as run_live.py --lost-below (0 to 0.99)")
    off = p.add_argument_group("offline quality")
    off.add_argument("--redetect", action=argparse.BooleanOptionalAction, default=True,
                     help="run the person detector again where tracking is unsure (default: on)")
    off.add_argument("--redetect-below", type=bounded(float, 0.0, 1.0), default=RedetectOptions.min_confidence,
                     metavar="C", help="mean joint confidence under which a tracked pose is re-checked (0 to 1; "
                     "default: %(default)s)")
    off.add_argument("--tracking", action=argparse.BooleanOptionalAction, default=True,
                     help="BlazePose's tracking from frame to frame (default: on); --no-tracking runs the person "
                          "detector on every frame: slower, but chunks then give exactly what one pass gives")
    off.add_argument("--detector-smoothing", action=argparse.BooleanOptionalAction, default=False,
                     help="keep BlazePose's own causal landmark smoothing (default: off; the zero-phase smoothing replaces it)")
    off.add_argument("--smooth", action=argparse.BooleanOptionalAction, default=True,
                     help="zero-phase smoothing of every track (default: on)")
    off.add_argument("--cutoff", type=bounded(float, 0.1, 30), default=SmoothingSettings.cutoff_hz, metavar="HZ",
                     help="its cut-off for 2D and 3D x, y (0.1 to 30 Hz; default: %(default)s)")
    off.add_argument("--depth-cutoff", type=bounded(float, 0.1, 30), default=SmoothingSettings.depth_cutoff_hz,
                     metavar="HZ", help="its cut-off for depth (0.1 to 30 Hz; default: %(default)s)")
    off.add_argument("--chunk-frames", type=bounded(int, 0, 10**7), default=OfflineSettings.chunk_frames, metavar="N",
                     help="frames per task of a long video (0: one task per input; 0 to 1e7; default: %(default)s)")
    off.add_argument("--overlap", type=bounded(int, 0, 10**4), default=OfflineSettings.overlap, metavar="N",
                     help="frames read before each chunk for the tracking to settle (0 to 10000; default: %(default)s)")
    ray = p.add_argument_group("Ray")
    ray.add_argument("--ray", nargs="?", const="local", metavar="ADDRESS",
                     help="run on Ray: the cluster at ADDRESS (HOST:PORT, auto, ray://HOST:PORT), or 'local' (also "
                          "--ray alone) for a Ray started on this machine for the run")
    ray.add_argument("--workers", type=bounded(int, 1, 1024), metavar="N",
                     help="CPUs of a local Ray, one worker each (1 to 1024; default: all cores)")
    ray.add_argument("--ship-code", action="store_true",
                     help="send this checkout to the workers (Ray's working_dir), for nodes that have the packages "
                          "but not this project")
    ray.add_argument("--retries", type=bounded(int, 0, 100), default=3, metavar="N",
                     help="times Ray runs a task again when its worker dies (0 to 100; default: %(default)s)")
    out = p.add_argument_group("output")
    out.add_argument("--no-progress", action="store_true", help="no progress bars")
    out.add_argument("--summary-json", type=new_file, metavar="FILE", help="also write the outcomes as JSON")
    return p


def settings_from(args: argparse.Namespace) -> OfflineSettings:
    smoothing = replace(SmoothingSettings(), enabled=args.smooth, cutoff_hz=args.cutoff, depth_cutoff_hz=args.depth_cutoff)
    redetect = RedetectOptions(enabled=args.redetect, min_confidence=args.redetect_below)
    return OfflineSettings(detector=args.detector, detector_threads=args.detector_threads,
                           detector_smoothing=args.detector_smoothing, detector_tracking=args.tracking,
                           max_people=args.max_people, redetect=redetect, lifter=args.lifter,
                           lifter_model=_absolute(args.lifter_model), calibration=_absolute(args.calibration),
                           height=args.height,
                           scale=args.scale, world=args.world, up=args.up, lost_below=args.lost_below,
                           image_fps=args.fps, chunk_frames=args.chunk_frames, overlap=args.overlap,
                           smoothing=smoothing, formats=args.to)


def _absolute(path: str | None) -> str | None:
    """Files the workers open: absolute, since a Ray worker's working folder is not ours."""
    return None if path is None else str(Path(path).expanduser().resolve())


def check_setup(args: argparse.Namespace, settings: OfflineSettings) -> None:
    """What would fail every input, checked once before any (SetupError: one line, exit 2)."""
    if args.workers and args.ray != "local":
        raise SetupError("--workers sets the size of a local Ray: use it with --ray local")
    if args.ship_code and args.ray is None:
        raise SetupError("--ship-code sends the code to Ray workers: use it with --ray")
    if settings.calibration:
        from calibration import camera_file
        try:
            camera_file.load(settings.calibration)
        except (OSError, ValueError) as exc:
            raise SetupError(f"calibration: {one_line(exc)}") from None
    if args.ray is None:  # here the engines load now; on Ray each worker loads its own
        from realtime.batch.engines import engines_for
        try:
            engines_for(settings)
        except SetupError:
            raise
        except Exception as exc:  # noqa: BLE001 - a missing model file, a broken backend
            raise SetupError(one_line(exc)) from None


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging()
    settings = settings_from(args)
    signal.signal(signal.SIGTERM, _interrupt)  # SIGTERM as Ctrl-C: a local Ray is shut down, not left behind
    try:
        from realtime.batch.run import run_batch
        check_setup(args, settings)
        command = "python -m tools.process " + " ".join(sys.argv[1:] if argv is None else argv)
        outcomes = run_batch(args.inputs, args.out, settings, ray=args.ray, workers=args.workers, retries=args.retries,
                             overwrite=args.overwrite, show_progress=not args.no_progress, command=command,
                             ship_code=args.ship_code)
    except SetupError as exc:
        print(f"process: error: {exc}", file=sys.stderr)
        return EXIT_SETUP
    except KeyboardInterrupt:
        print("process: interrupted; finished inputs are kept, the others start again on the next run", file=sys.stderr)
        return EXIT_FAILED
    from realtime.batch.jobs import summary_table
    print(summary_table(outcomes), flush=True)
    if args.summary_json:
        with open(args.summary_json, "w", encoding="utf-8") as handle:
            json.dump([asdict(o) for o in outcomes], handle, indent=2)
    return EXIT_FAILED if any(o.status == "failed" for o in outcomes) else EXIT_OK

