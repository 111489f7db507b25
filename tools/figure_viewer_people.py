"""The viewer's figure of several people, ``docs/figures/viewer_people.png``, from synthetic people.

    python -m tools.figure_viewer_people --out docs/figures/viewer_people.png

Three people move as the demo's figure does (``realtime.demo.motion``, each at another point of its
loop: one marches, one waves, one raises the arms), side by side 1.3 m apart, about 3.5 m from a camera 1.4 m
above the floor; their exact joints are recorded as a session of several people (schema
``semgcn.pose/2``, track ids 0, 1, 2) and its last frame is drawn by the viewer's own command line::

    python -m realtime.viewer --session SESSION --snapshot OUT --frame 59 --trail right_wrist \
        --trail-person 1 --trail-seconds 2 --azimuth 25 --elevation 12 --view-distance 4.8

No detector or lifter runs: the figure shows what the viewer draws for several people, not how well
they are found. ``--session-out`` keeps the session (for the exports, replay or Foxglove).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

from realtime.core.records import FrameResult, PersonPose
from realtime.demo.camera import PinholeCamera
from realtime.demo.motion import MotionGenerator
from realtime.recording.recorder import Recorder
from realtime.viewer import cli as viewer_cli

FPS = 30.0
SIZE = (640, 480)
PEOPLE_X_M = (-1.3, 0.0, 1.3)  # where each person stands, across the room (world x)
MOTION_SEEDS = (0, 1, 3)  # where in the demo's motion loop each starts: march, wave, arm raises


def people_frames(frames: int = 60, t0: float = 1.8e9) -> list[FrameResult]:
    """``frames`` frames of three people of the demo's motion, seen by a camera like the demo's."""
    camera = PinholeCamera.look_at((0.0, 1.4, 3.5), (0.0, 1.0, 0.0), SIZE, hfov_deg=60.0)
    k = camera.matrix
    intrinsics = {"calibrated": True, "fx": k[0, 0], "fy": k[1, 1], "cx": k[0, 2], "cy": k[1, 2]}
    motions = [MotionGenerator(seed=seed) for seed in MOTION_SEEDS]
    result = []
    for i in range(frames):
        frame = FrameResult(frame_index=i, t_capture=t0 + i / FPS, image_size=SIZE, source="synthetic people",
                            t_publish=t0 + i / FPS + 0.03, camera=dict(intrinsics), wire_major=2)
        for person_id, (motion, x) in enumerate(zip(motions, PEOPLE_X_M)):
            world = motion.state_at(i / FPS).skeleton.joints + [x, 0.0, 0.0]
            cam = camera.to_camera(world)
            frame.people.append(PersonPose(
                id=person_id, keypoints_2d=camera.project(cam).astype(np.float32),
                confidence=np.ones(len(cam), np.float32), joints_3d=(cam - cam[0]).astype(np.float32),
                root_translation=cam[0].astype(np.float32)))
        result.append(frame)
    return result


def record(frames: list[FrameResult], path: Path) -> Path:
    """Record ``frames`` as a session at ``path``."""
    with Recorder(path, {"source": "synthetic people (tools.figure_viewer_people)"}) as recorder:
        for frame in frames:
            recorder.consume(frame)
    return recorder.path


def viewer_arguments(session: Path, out: Path, frame: int, width: int, height: int) -> list[str]:
    """The viewer command line that draws the figure (documented in the module docstring)."""
    return ["--session", str(session), "--snapshot", str(out), "--frame", str(frame), "--trail", "right_wrist",
            "--trail-person", "1", "--trail-seconds", "2", "--azimuth", "25", "--elevation", "12",
            "--view-distance", "4.8", "--width", str(width), "--height", str(height)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.figure_viewer_people", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/figures/viewer_people.png"), help="the PNG to write")
    parser.add_argument("--session-out", type=Path, default=None, help="keep the recorded session here (.mcap)")
    parser.add_argument("--frames", type=int, default=60, help="frames recorded (30 fps); the last one is drawn")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=720)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        session = record(people_frames(args.frames), args.session_out or Path(folder) / "people.mcap")
        viewer_args = viewer_arguments(session, args.out, args.frames - 1, args.width, args.height)
        print("python -m realtime.viewer " + " ".join(viewer_args), flush=True)
        return viewer_cli.main(viewer_args)


if __name__ == "__main__":
    sys.exit(main())
