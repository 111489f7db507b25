"""The command line of ``run_live.py``: every option, its default and its checks."""
from __future__ import annotations

import argparse
import importlib

from engines.backends import DETECTOR_BACKENDS, LIFTER_BACKENDS
from engines.detector import MAX_PEOPLE
from realtime.core.cli import MAX_THREADS, OneLineParser, bounded, new_file, output_dir, zmq_endpoint

#: The largest frame a camera or the demo may be asked for (8K UHD), and the frame rates a camera gives.
MAX_WIDTH, MAX_HEIGHT, MAX_FPS = 7680, 4320, 240

DESCRIPTION = "Real-time 3D human pose: camera -> 2D detector -> SemGCN lifter -> ZeroMQ stream."
EPILOG = """Examples:
  python run_live.py --source demo                      # built-in animated figure, no camera needed
  python run_live.py                                    # webcam 0, overlay window where a display exists
  python run_live.py --source clip.mp4 --headless --max-frames 300
  python run_live.py --source demo --viewer             # and the Open3D 3D viewer in its own window
  python run_live.py --source replay:runs/session1 --speed 2
  python -m realtime.subscriber --connect tcp://127.0.0.1:5555   # watch the stream from elsewhere

The stream (schema semgcn.pose/1, docs/stream_format.md) is published on 127.0.0.1 only unless
--publish names another interface. Ctrl-C or SIGTERM stops cleanly: the recording is flushed, the
sockets closed and a summary printed. Exit status: 0 done, 1 the run failed, 2 it could not start."""


def build_parser() -> argparse.ArgumentParser:
    p = OneLineParser(prog="run_live.py", description=DESCRIPTION, epilog=EPILOG,
                      formatter_class=argparse.RawDescriptionHelpFormatter)
    _source_options(p.add_argument_group("source"))
    _engine_options(p.add_argument_group("engines"))
    _calibration_options(p.add_argument_group("calibration"))
    _output_options(p.add_argument_group("output"))
    for name, module in bridge_modules():
        module.add_arguments(p.add_argument_group(f"bridge: {name}"))
    return p


def bridge_modules() -> list[tuple[str, object]]:
    """The bridge modules ``run_live.py`` offers (``realtime.bridges.BRIDGES``), imported."""
    from realtime.bridges import BRIDGES
    return [(name, importlib.import_module(f"realtime.bridges.{name}")) for name in BRIDGES]


def _source_options(src) -> None:
    src.add_argument("--source", default="0", help="what to capture: a webcam index (default: 0), 'demo' (built-in "
                     "animated figure with ground truth), a video file, a folder of images, an image, a stream URL "
                     "(rtsp://, http://...), or replay:DIR_OR_FILE for a recorded session")
    src.add_argument("--width", type=bounded(int, 16, MAX_WIDTH),
                     help=f"requested webcam / demo frame width in pixels (16 to {MAX_WIDTH})")
    src.add_argument("--height-px", dest="height_px", type=bounded(int, 16, MAX_HEIGHT),
                     help=f"requested webcam / demo frame height in pixels (16 to {MAX_HEIGHT})")
    src.add_argument("--fps", type=bounded(float, 1, MAX_FPS),
                     help=f"requested webcam frame rate; pace of image folders and the demo (1 to {MAX_FPS}; default 30)")
    src.add_argument("--realtime", action=argparse.BooleanOptionalAction, default=True,
                     help="play files and the demo at their frame rate, dropping frames the pipeline cannot keep up "
                     "with, like a camera (default); --no-realtime processes every frame as fast as possible")
    src.add_argument("--loop", action="store_true", help="start a video file or image folder again at its end")
    src.add_argument("--demo-people", type=bounded(int, 1, 3), default=1, metavar="N",
                     help="figures in the demo source, 1 to 3, walking paths that cross (default: %(default)s)")
    src.add_argument("--speed", type=bounded(float, 0, 100), default=1.0,
                     help="replay speed for replay: sources (1 = as recorded, 0 = as fast as possible; at most 100)")


def _engine_options(eng) -> None:
    eng.add_argument("--detector", default="onnxruntime", choices=DETECTOR_BACKENDS,
                     help="2D detector backend (default: %(default)s)")
    eng.add_argument("--detector-threads", type=bounded(int, 0, MAX_THREADS), default=1, metavar="N",
                     help=f"ONNX Runtime threads of the CPU detector, 0 to {MAX_THREADS} (the cores here) (default: "
                     "%(default)s; 0: the runtime's choice, all "
                     "cores). One thread leaves the other cores to capture, ZeroMQ and the viewer; on 2 cores it "
                     "detected 2.6x faster than the runtime's choice (tools/bench_live.py)")
    eng.add_argument("--lifter", default="onnxruntime", choices=LIFTER_BACKENDS,
                     help="SemGCN lifter backend (default: %(default)s)")
    eng.add_argument("--lifter-model", help="lifter model file (default: the shipped engines/models/semgcn_lifter.onnx)")
    eng.add_argument("--flip-test", action=argparse.BooleanOptionalAction, default=True,
                     help="test-time flip: lift each pose with its mirror image and average (default: on; 1.3 mm "
                          "better P2 on held-out people, 2.6 mm on HDM05, docs/model_card_lifter.md); --no-flip-test "
                          "halves the lifter's work (tools.bench_lifter)")
    eng.add_argument("--smooth", action=argparse.BooleanOptionalAction, default=True,
                     help="temporal smoothing of the 3D joints, the kind --smoother names (default: on); --no-smooth "
                          "streams raw lifter output")
    eng.add_argument("--smoother", choices=("temporal", "one-euro"), default="temporal",
                     help="'temporal' (default): a constant-velocity tracker per joint with steady bone lengths, "
                          "causal, no lag on steady motion (realtime.core.temporal); 'one-euro': the light One Euro "
                          "filter. docs/temporal.md measures both against ground truth")
    eng.add_argument("--max-people", type=bounded(int, 1, MAX_PEOPLE), default=1, metavar="N",
                     help=f"follow up to N people (1 to {MAX_PEOPLE}), each with a track id that stays while they "
                     "are in view; above 1 the stream is semgcn.pose/2, a list of people (default: %(default)s: "
                     "one person, semgcn.pose/1, BlazePose's own single-person tracking)")
    eng.add_argument("--lost-below", type=bounded(float, 0.0, 0.99), default=0.0, metavar="C",
                     help="treat limb joints and the head whose detector confidence is under C as lost: each is "
                          "moved onto its nearest kept joint before lifting, as the lifter was trained, and "
                          "streamed with confidence 0 (0 to 0.99; default 0: only joints the detector did not give)")


def _calibration_options(cal) -> None:
    cal.add_argument("--calibration", metavar="FILE", help="camera calibration JSON (python -m calibration intrinsics); "
                     "default: assumed intrinsics (the demo uses its exact camera)")
    cal.add_argument("--height", type=bounded(float, 0.5, 2.6), metavar="M",
                     help="the subject's height in metres, for metric scale (0.5 to 2.6)")
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


def _output_options(out) -> None:
    out.add_argument("--publish", type=zmq_endpoint, default="tcp://127.0.0.1:5555", metavar="ADDR",
                     help="ZeroMQ endpoint to publish on (default: %(default)s; tcp://0.0.0.0:PORT exposes the stream "
                     "to the network and prints a warning)")
    out.add_argument("--wait-subscribers", type=bounded(int, 0, 1000), default=0, metavar="N",
                     help="before the first frame, wait until N subscribers have joined (so none misses the start; "
                     "0 to 1000)")
    out.add_argument("--wait-timeout", type=bounded(float, 0, 3600), default=10.0, metavar="S",
                     help="give up waiting for subscribers after S seconds and start anyway (0 to 3600; default: "
                     "%(default)s)")
    out.add_argument("--record", type=output_dir, metavar="DIR",
                     help="also record the session into DIR (realtime.recorder)")
    out.add_argument("--record-video", action="store_true", help="with --record, store the camera images too")
    out.add_argument("--viewer", action="store_true", help="open the Open3D 3D viewer as a separate process "
                     "(closing it does not stop the pipeline)")
    out.add_argument("--headless", action="store_true", help="no overlay window (automatic when there is no display)")
    out.add_argument("--max-frames", type=bounded(int, 1, 10**9), metavar="N", help="stop after N processed frames")
    out.add_argument("--status-every", type=bounded(float, 0, 86400), default=5.0, metavar="S",
                     help="print a status line every S seconds (0: never; default: %(default)s)")
    out.add_argument("--summary-json", type=new_file, metavar="FILE",
                     help="also write the final summary as JSON to FILE (its folder must exist)")


def check_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Checks that involve several options (``parser.error``: one line, exit status 2). Each option's
    own range is checked by its ``type`` while parsing."""
    if args.record_video and not args.record:
        parser.error("--record-video needs --record DIR")
    if args.max_people > 1 and args.detector == "mediapipe":
        parser.error("--max-people above 1 needs our own engines (--detector onnxruntime, onnxruntime-cuda, tensorrt)")
