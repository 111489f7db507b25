"""Open3D viewer of the live 3D pose stream: ``python -m realtime.viewer --connect ADDR``.

A subscriber like any other, in its own process: closing its window never stops the pipeline, and it
survives the publisher restarting. With ``--snapshot OUT.png`` it draws one frame offscreen (no
display needed) from the stream or, with ``--session FILE``, from a recorded session. See
docs/viewer.md.

The other modules of ``realtime.viewer`` draw; this one is the command line.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

from realtime.core.cli import OneLineParser, bounded, configure_logging, new_file, zmq_endpoint
from semgcn.skeleton import JOINT_NAMES

EXIT_OK, EXIT_ERROR, EXIT_NO_FRAME = 0, 1, 2


def _fail(message: str, code: int = EXIT_ERROR) -> int:
    print(f"viewer: {message}", file=sys.stderr, flush=True)
    return code


def _caption(frame, args, state) -> str:
    from realtime.core.palette import legend

    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(frame.t_capture))
    who = "" if frame.has_person else "   nobody in view"
    if state.several and state.people:
        who = "   people: " + ", ".join(f"id {p.id}" for p in state.people)
    trail = f"   trail: {args.trail}" if args.trail else ""
    if trail and state.several and state.trail_id is not None:
        trail += f" of id {state.trail_id}"
    coords = "world frame" if state.world_shown else "camera frame"
    if args.coords == "world" and not state.world_shown:
        coords += " (no joints_world in the stream)"
    return (f"{frame.source or 'stream'}   frame {frame.frame_index}   {stamp}{who}\n"
            f"{coords}   {legend(state.several)}{trail}")


def _write_png(path: str, image_rgb) -> None:
    import cv2

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), image_rgb[..., ::-1]):
        raise OSError(f"could not write {path}")


def _render_and_save(state, frame, args) -> int:
    from realtime.viewer.camera import default_view
    from realtime.viewer.render import render_state_to_image

    state.settle()
    view = default_view(state.look_at, args.width, args.height, distance=args.view_distance,
                        azimuth_deg=args.azimuth, elevation_deg=args.elevation)
    try:
        image = render_state_to_image(state, args.width, args.height, view, hud_text=_caption(frame, args, state),
                                      show_grid=not args.no_grid, show_frustum=not args.no_frustum)
        _write_png(args.snapshot, image)
    except (RuntimeError, OSError) as exc:
        return _fail(str(exc))
    print(f"viewer: wrote {args.snapshot} ({args.width}x{args.height}, frame {frame.frame_index}"
          f"{'' if frame.has_person else ', nobody in view'})", flush=True)
    return EXIT_OK


def snapshot_from_stream(args) -> int:
    """Draw the first frame with a person (after ``--snapshot-delay``) that arrives within ``--timeout``."""
    from realtime.viewer.receiver import StreamReceiver
    from realtime.viewer.scene import SceneState

    try:
        receiver = StreamReceiver(args.connect)
    except ValueError as exc:
        return _fail(str(exc))
    state = SceneState(_scene_options(args))
    last, first_person_at = None, None
    deadline = time.monotonic() + args.timeout
    try:
        while time.monotonic() < deadline:
            for frame in receiver.poll_all(timeout_s=0.05):  # every frame, so that the trail is whole
                state.update(frame)
                last = frame
                if frame.has_person and first_person_at is None:
                    first_person_at = time.monotonic()
            if first_person_at is not None and time.monotonic() - first_person_at >= args.snapshot_delay:
                break
    finally:
        receiver.close()
    if last is None:
        return _fail(f"no frame from {args.connect} within {args.timeout:g} s (is the publisher running?)",
                     EXIT_NO_FRAME)
    if first_person_at is None:
        print("viewer: only frames with nobody in them arrived; drawing the empty scene", file=sys.stderr)
    return _render_and_save(state, last, args)


def snapshot_from_session(args) -> int:
    """Draw frame ``--frame`` (position in the recording; default the first with a person) of ``--session``."""
    from realtime.viewer.scene import SceneState

    from realtime.recording.session_reader import read_session

    try:
        session = read_session(args.session)
    except Exception as exc:  # any reader error (missing, corrupted, foreign file) is one line for the user
        return _fail(f"cannot read session {args.session}: {exc}")
    frames = list(session.frames)
    if not session.complete:
        print(f"viewer: warning: {session.loss_report()}; drawing from the frames that were read", file=sys.stderr)
    if not frames:
        return _fail(f"session {args.session} holds no frames")
    if args.frame is None:
        index = next((i for i, f in enumerate(frames) if f.has_person), 0)
    elif not 0 <= args.frame < len(frames):
        return _fail(f"--frame {args.frame} is outside the session's 0..{len(frames) - 1}")
    else:
        index = args.frame
    options = _scene_options(args)
    state = SceneState(options)
    target = frames[index]
    for frame in frames[: index + 1]:  # the trail needs the frames of the last seconds before it
        if frame is target or frame.t_capture >= target.t_capture - options.trail_seconds:
            state.update(frame)
    return _render_and_save(state, target, args)


def _scene_options(args):
    from realtime.viewer.scene import SceneOptions

    return SceneOptions(coords=args.coords, default_distance=args.distance, trail_joint=args.trail,
                        trail_seconds=args.trail_seconds, trail_person=args.trail_person)


def run_live(args) -> int:
    """Open the window and follow the stream until it is closed (or SIGTERM / Ctrl-C)."""
    from realtime.viewer.window import LiveViewer, WindowOptions

    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        # Open3D would fall back to an offscreen context and draw a window nobody can see.
        return _fail("no display here (DISPLAY / WAYLAND_DISPLAY unset): the live window cannot be shown. "
                     "Use --snapshot OUT.png to draw a frame offscreen.")
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    options = WindowOptions(connect=args.connect, width=args.width, height=args.height,
                            scene=_scene_options(args), show_grid=not args.no_grid, show_frustum=not args.no_frustum)
    viewer = LiveViewer(options)
    try:
        drawn = viewer.run(max_frames=args.max_frames, max_seconds=args.max_seconds, should_stop=lambda: stop["now"])
    except (RuntimeError, ValueError) as exc:  # no window could open; a bad --connect address
        return _fail(str(exc))
    except KeyboardInterrupt:
        viewer.close()
        drawn = viewer.frames_drawn
    print(f"viewer: closed after drawing {drawn} frames", flush=True)
    return EXIT_OK


def _quiet_open3d() -> None:
    """Keep Open3D's INFO / WARNING chatter (EGL fallback, GLFW probing) off the user's terminal."""
    try:
        import open3d as o3d

        o3d.utility.set_verbosity_level(o3d.utility.VerbosityLevel.Error)
    except ImportError:
        pass  # reported where open3d is first needed


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m realtime.viewer", formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Open3D 3D viewer of the live pose stream (semgcn.pose/1 and /2 over ZeroMQ), in its own "
                    "process. One person: the subject's left blue, right orange, centre green; several: a colour "
                    "per person id (left lighter, right darker) and the id above each head.",
        epilog="In the window: left mouse orbits, wheel zooms, ctrl+left mouse pans; F toggles following the "
               "subject, R resets the view, Q or Esc closes the viewer (the pipeline runs on). See docs/viewer.md.")
    parser.add_argument("--connect", type=zmq_endpoint, default="tcp://127.0.0.1:5555", help="ZeroMQ address of the pose publisher")
    parser.add_argument("--coords", choices=("camera", "world"), default="camera",
                        help="draw in the camera frame (y flipped up) or in the stream's world frame "
                             "(needs joints_world from calibration; else falls back to camera)")
    parser.add_argument("--trail", choices=JOINT_NAMES, default=None, metavar="JOINT",
                        help="draw the path of this joint (e.g. right_wrist) over the last --trail-seconds")
    parser.add_argument("--trail-seconds", type=bounded(float, 0.1, 60), default=1.0, help="length of the trail in seconds")
    parser.add_argument("--trail-person", type=bounded(int, 0, 2**53), default=None, metavar="ID",
                        help="with several people: trail the joint of this track id (default: the first person "
                             "in view, kept while they stay)")
    parser.add_argument("--distance", type=bounded(float, 0.1, 100), default=3.0,
                        help="metres in front of the camera to draw a skeleton that has no root_translation")
    parser.add_argument("--width", type=bounded(int, 16, 7680), default=1280, help="window / image width in pixels")
    parser.add_argument("--height", type=bounded(int, 16, 4320), default=720, help="window / image height in pixels")
    parser.add_argument("--no-grid", action="store_true", help="hide the ground grid")
    parser.add_argument("--no-frustum", action="store_true", help="hide the source camera's frustum")
    parser.add_argument("--max-frames", type=bounded(int, 1, 10**9), default=None, help="live: close after drawing this many frames")
    parser.add_argument("--max-seconds", type=bounded(float, 0.01, 10 * 86400), default=None, help="live: close after this many seconds")
    snap = parser.add_argument_group("offscreen snapshot (no display needed)")
    snap.add_argument("--snapshot", type=new_file, metavar="OUT.png", default=None,
                      help="draw one frame to this PNG instead of opening a window")
    snap.add_argument("--timeout", type=bounded(float, 0.01, 3600), default=10.0, help="seconds to wait for a frame from --connect")
    snap.add_argument("--snapshot-delay", type=bounded(float, 0, 3600), default=0.0,
                      help="keep receiving this many seconds after the first person before drawing (fills the trail)")
    snap.add_argument("--session", metavar="FILE", default=None,
                      help="draw from a recorded session file (run_live.py --record, realtime.recorder) instead of --connect")
    snap.add_argument("--frame", type=bounded(int, 0, 10**9), default=None, metavar="N",
                      help="with --session: the N-th frame of the recording, 0-based; when omitted, the first with a person")
    snap.add_argument("--view-distance", type=bounded(float, 0.1, 100), default=4.5, help="snapshot camera: metres from the subject")
    snap.add_argument("--azimuth", type=bounded(float, -360, 360), default=30.0,
                      help="snapshot camera: degrees turned from the source camera's line of sight")
    snap.add_argument("--elevation", type=bounded(float, -89, 89), default=15.0, help="snapshot camera: degrees above the subject")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging()
    _quiet_open3d()
    if args.session and not args.snapshot:
        return _fail("--session draws a snapshot: add --snapshot OUT.png (to replay a session live, "
                     "publish it with run_live.py and connect the viewer)")
    if args.snapshot:
        return snapshot_from_session(args) if args.session else snapshot_from_stream(args)
    return run_live(args)


if __name__ == "__main__":
    sys.exit(main())
