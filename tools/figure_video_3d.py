"""Figure: frames of a real video beside the 3D pose that the pipeline lifts from them.

For each chosen frame, the left half is the video frame with the detector's 16 joints drawn on it, the
right half the lifted 3D skeleton rendered offscreen by the viewer's own renderer, seen from the side
(so depth, which the 2D image cannot show, is visible). The detector runs in video mode over every frame
up to the last one chosen, as in the live app.

    python -m tools.figure_video_3d ../shared/media/tfjs_models/pose_1.mp4 --frames 20 60 100 \
        --out docs/figures/video_3d.png
"""
from __future__ import annotations

import argparse
import sys

import cv2
import numpy as np

from engines.detector import PoseDetector
from engines.lifter import Lifter
from realtime.core.overlay import draw_skeleton
from realtime.viewer.camera import default_view
from realtime.viewer.render import render_state_to_image
from realtime.viewer.scene import SceneOptions, SceneState
from realtime.core.records import FrameResult, PersonPose


def lifted_frames(video: str, wanted: list[int]) -> dict[int, tuple[np.ndarray, FrameResult | None]]:
    """Run detector (video mode) and lifter over ``video``; return image and stream frame per wanted index."""
    cap = cv2.VideoCapture(video)
    if not cap.isOpened():
        raise SystemExit(f"figure_video_3d: cannot read video {video!r}")
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    detector, lifter = PoseDetector(backend="onnxruntime", threads=1), Lifter()
    found: dict[int, tuple[np.ndarray, FrameResult | None]] = {}
    for index in range(max(wanted) + 1):
        ok, image = cap.read()
        if not ok:
            raise SystemExit(f"figure_video_3d: {video!r} has only {index} frames")
        result = detector(image, timestamp=index / fps)
        if index not in wanted:
            continue
        h, w = image.shape[:2]
        frame = None
        if result is not None:
            joints = lifter.predict(result.keypoints_2d, image_size=(w, h))
            person = PersonPose(keypoints_2d=result.keypoints_2d, confidence=result.confidence, joints_3d=joints)
            frame = FrameResult(frame_index=index, t_capture=index / fps, image_size=(w, h), source=video,
                                people=[person])
        found[index] = (image, frame)
    return found


def panel(image: np.ndarray, frame: FrameResult | None, height: int, azimuth: float, distance: float) -> np.ndarray:
    """One row: the annotated image and the side view of the 3D pose, both ``height`` pixels high."""
    if frame is not None:
        image = draw_skeleton(image.copy(), frame.keypoints_2d, frame.confidence)
    left = cv2.resize(image, (round(image.shape[1] * height / image.shape[0]), height))
    width = round(height * 4 / 3)
    state = SceneState(SceneOptions())
    if frame is not None:
        state.update(frame)
    state.settle()
    view = default_view(state.look_at, width, height, distance=distance, azimuth_deg=azimuth)
    hud = f"frame {frame.frame_index if frame else '-'}: 3D seen {azimuth:.0f} deg from the camera"
    right = render_state_to_image(state, width, height, view, hud_text=hud, show_frustum=False)
    return np.hstack([left, cv2.cvtColor(right, cv2.COLOR_RGB2BGR)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("video", help="a video file")
    parser.add_argument("--frames", type=int, nargs="+", default=[20, 60, 100], help="frame indices to show")
    parser.add_argument("--out", default="video_3d.png", help="output PNG")
    parser.add_argument("--row-height", type=int, default=360, help="pixels per row")
    parser.add_argument("--azimuth", type=float, default=70.0, help="3D view: degrees from the camera's line of sight")
    parser.add_argument("--distance", type=float, default=3.0, help="3D view: metres from the subject")
    args = parser.parse_args(argv)
    import open3d as o3d

    o3d.utility.set_verbosity_level(o3d.utility.VerbosityLevel.Error)  # its INFO lines would bury ours
    frames = lifted_frames(args.video, sorted(set(args.frames)))
    rows = [panel(*frames[i], args.row_height, args.azimuth, args.distance) for i in sorted(frames)]
    if not cv2.imwrite(args.out, np.vstack(rows)):
        print(f"figure_video_3d: cannot write {args.out}", file=sys.stderr)
        return 1
    print(f"wrote {args.out} ({len(rows)} frames; person found in {sum(f is not None for _, f in frames.values())})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
