"""Figure: frames of a real video beside the skeleton solver's rig (constant bones, a small frame of axes
on every bone showing its rotation), with the lifter's own joints (dashed) for comparison.

The detector (video mode), the lifter, One Euro smoothing and the ``solve`` stage run over every frame
up to the last one shown, as in ``run_live.py --vmc``; the rig is drawn from the stage's result.

    python -m tools.figure_skeleton ../shared/media/tfjs_models/pose_1.mp4 --frames 40 75 110 \
        --out docs/figures/skeleton_solver.png
"""
from __future__ import annotations

import argparse
import sys

import cv2
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from engines.detector import PoseDetector  # noqa: E402
from engines.lifter import Lifter  # noqa: E402
from realtime.core.overlay import draw_skeleton  # noqa: E402
from realtime.core.records import FrameResult, PersonPose  # noqa: E402
from realtime.core.skeleton_stage import SkeletonStage  # noqa: E402
from realtime.core.smoothing import SmoothingStage  # noqa: E402
from semgcn.skeleton import PARENTS, bone_lengths  # noqa: E402
from semgcn.solver.axes import CAMERA_TO_SOLVER, SOLVER_TO_BLENDER  # noqa: E402
from semgcn.solver.rig import BONE_INDEX, BONE_PARENTS, end_sites, lengths_from_offsets  # noqa: E402

AXIS_COLOURS = ("#d62728", "#2ca02c", "#1f77b4")  # the bone's x (the person's left at rest), y (along), z


def solved_frames(video: str, wanted: list[int]) -> tuple[dict, list[float], float]:
    """Images and solved frames at ``wanted``; each frame's bone-length change from the first held one;
    and the lifter's median coefficient of variation of the bone lengths over those frames."""
    cap = cv2.VideoCapture(video)
    if not cap.isOpened():
        raise SystemExit(f"figure_skeleton: cannot read video {video!r}")
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    detector, lifter = PoseDetector(backend="onnxruntime", threads=1), Lifter()
    smoother, stage = SmoothingStage(), SkeletonStage()
    found, held, changes, lifted = {}, None, [], []
    for index in range(max(wanted) + 1):
        ok, image = cap.read()
        if not ok:
            raise SystemExit(f"figure_skeleton: {video!r} has only {index} frames")
        h, w = image.shape[:2]
        frame = FrameResult(frame_index=index, t_capture=index / fps, image_size=(w, h), source=video)
        detection = detector(image, timestamp=index / fps)
        if detection is not None:
            joints = lifter.predict(detection.keypoints_2d, image_size=(w, h)).astype(np.float32)
            frame.people.append(PersonPose(keypoints_2d=detection.keypoints_2d, confidence=detection.confidence,
                                           joints_3d=joints, landmarks=detection.landmarks,
                                           world_landmarks=detection.world_landmarks))
        smoother.process(frame)
        if frame.people:
            lifted.append(frame.person.joints_3d.copy())
        stage.process(frame)
        skeleton = frame.person.skeleton if frame.people else None
        if skeleton is not None and skeleton.calibrated:
            held = skeleton.rest_offsets if held is None else held
            changes.append(float(np.abs(np.linalg.norm(skeleton.rest_offsets, axis=1)
                                        - np.linalg.norm(held, axis=1)).max()))
        if index in wanted:
            found[index] = (image, frame)
    lengths = bone_lengths(np.stack(lifted).astype(np.float64))
    variation = float(np.median(lengths.std(axis=0) / lengths.mean(axis=0)))
    return found, changes, variation


def draw_rig(ax, frame: FrameResult, title: str) -> None:
    """The solved rig (bones, end sites, per-bone axes) and the lifter's joints, z up (Blender's view)."""
    skeleton = frame.person.skeleton
    m = SOLVER_TO_BLENDER
    pos = skeleton.positions @ m.T
    rot = m @ skeleton.global_rotations() @ m.T
    base = pos[0]
    pos = pos - base
    lifted = (frame.person.joints_3d.astype(np.float64) @ CAMERA_TO_SOLVER.T) @ m.T
    lifted += pos[0] - lifted[0]
    for j, p in enumerate(PARENTS):
        if p >= 0:
            ax.plot(*np.stack([lifted[p], lifted[j]]).T, color="#aaaaaa", lw=1.0, ls="--")
    for i, parent in enumerate(BONE_PARENTS):
        if parent >= 0:
            ax.plot(*np.stack([pos[parent], pos[i]]).T, color="#333333", lw=2.5)
    ends = end_sites(lengths_from_offsets(skeleton.rest_offsets))
    for name, offset in ends.items():
        i = BONE_INDEX[name]
        tip = pos[i] + rot[i] @ (m @ offset)
        ax.plot(*np.stack([pos[i], tip]).T, color="#333333", lw=2.5)
    for i in range(len(pos)):
        for k in range(3):
            ax.plot(*np.stack([pos[i], pos[i] + 0.07 * rot[i][:, k]]).T, color=AXIS_COLOURS[k], lw=1.4)
    ax.set_title(title, fontsize=9)
    _equal_axes(ax, np.concatenate([pos, lifted]))
    ax.view_init(elev=10, azim=-70)  # 20 degrees to the side of the camera


def _equal_axes(ax, points: np.ndarray) -> None:
    centre = (points.max(axis=0) + points.min(axis=0)) / 2
    radius = 0.5 * float(np.ptp(points, axis=0).max())
    for setter, c in zip((ax.set_xlim, ax.set_ylim, ax.set_zlim), centre):
        setter(c - radius, c + radius)
    ax.set_box_aspect((1, 1, 1), zoom=1.25)
    ax.set_xticklabels([]), ax.set_yticklabels([]), ax.set_zticklabels([])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("video", help="a video file")
    parser.add_argument("--frames", type=int, nargs="+", default=[40, 75, 110], help="frame indices to show "
                        "(after the first 30 frames, which estimate the bone lengths)")
    parser.add_argument("--out", default="skeleton_solver.png", help="output PNG")
    args = parser.parse_args(argv)
    frames, changes, variation = solved_frames(args.video, sorted(set(args.frames)))
    shown = [(i, image, frame) for i, (image, frame) in sorted(frames.items()) if frame.people]
    if not shown:
        print("figure_skeleton: nobody found in the chosen frames", file=sys.stderr)
        return 1
    fig = plt.figure(figsize=(7.5, 3.6 * len(shown)))
    grid = fig.add_gridspec(len(shown), 2, width_ratios=(1.0, 1.15))
    for row, (index, image, frame) in enumerate(shown):
        ax = fig.add_subplot(grid[row, 0])
        drawn = draw_skeleton(image.copy(), frame.keypoints_2d, frame.confidence)
        ax.imshow(cv2.cvtColor(drawn, cv2.COLOR_BGR2RGB))
        ax.set_axis_off()
        ax.set_title(f"frame {index}: the video and the detector's joints", fontsize=9)
        draw_rig(fig.add_subplot(grid[row, 1], projection="3d"), frame,
                 "solver rig, bone axes x/y/z red/green/blue;\nthe lifter's joints dashed (mostly hidden under it)")
    fig.suptitle(f"the lifter's bone lengths vary (median coefficient of variation {variation:.3f} over frames "
                 f"0-{max(args.frames)});\nthe rig's are held: largest change over frames 30-{max(args.frames)} "
                 f"{max(changes) * 1000:.3f} mm", fontsize=9)
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out} ({len(shown)} frames; bone lengths held over {len(changes)} frames, "
          f"largest change {max(changes) * 1000:.3f} mm; lifter's median bone-length CV {variation:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
