"""Parity of our BlazePose ONNX pipeline with the mediapipe package's own Pose (model_complexity=1).

For every image and video it runs both on the same frames and prints, per file: frames, frames
where each found a person, frames where both did, disagreements (one found a person, the other
not), and the median / 90th percentile / max distance in pixels between their 33 landmarks on
the frames where both found one. Images run in single-image mode (no tracking); videos run in
video mode (tracking + smoothing on both sides, 30 fps timestamps as MediaPipe's Python API uses)
and, with --modes, also frame by frame.

    python -m tools.parity_blazepose                       # the files in ../shared/media
    python -m tools.parity_blazepose --stride 5 clip.mp4 photo.jpg
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from engines.detector import PoseDetector

SHARED_MEDIA = Path(__file__).resolve().parents[2] / "shared" / "media"
DEFAULT_FILES = ("tfjs_models/pose.jpg", "mediapipe_samples/pose_test_image.jpg",
                 "tfjs_models/pose_1.mp4", "intel_sample_videos/one-by-one-person-detection.mp4")
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
FRAME_STEP_S = 33333e-6  # MediaPipe's Python API stamps frame k at k * 33333 us (30 fps)


@dataclass
class ParityRow:
    """Agreement of the two pipelines on one file in one mode.

    Attributes:
        name: file name.
        mode: "image" (independent frames) or "video" (tracking + smoothing).
        frames: frames compared.
        ours, reference: frames where our pipeline / mediapipe found a person.
        both: frames where both did.
        disagreements: frames where exactly one did.
        distances: per-landmark pixel distances over the frames where both found a person.
    """

    name: str
    mode: str
    frames: int = 0
    ours: int = 0
    reference: int = 0
    both: int = 0
    disagreements: int = 0
    distances: list = field(default_factory=list)

    def stat(self, q: float) -> float:
        """Percentile ``q`` of the landmark distances in pixels (NaN without any)."""
        return float(np.percentile(np.concatenate(self.distances), q)) if self.distances else float("nan")


def read_frames(path: Path, stride: int = 1, max_frames: int | None = None):
    """Yield BGR frames of an image (one) or a video (every ``stride``-th, at most ``max_frames``).

    Args:
        path: image or video file.
        stride: keep one frame in ``stride`` (videos).
        max_frames: stop after this many kept frames (None: all).
    """
    if path.suffix.lower() in IMAGE_SUFFIXES:
        image = cv2.imread(str(path))
        if image is None:
            raise ValueError(f"cannot read image {path}")
        yield image
        return
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise ValueError(f"cannot open video {path}")
    index = kept = 0
    try:
        while max_frames is None or kept < max_frames:
            ok, frame = capture.read()
            if not ok:
                break
            if index % stride == 0:
                kept += 1
                yield frame
            index += 1
    finally:
        capture.release()


def compare(path: Path, mode: str, ours: PoseDetector, reference: PoseDetector, stride: int = 1,
            max_frames: int | None = None, progress: bool = True) -> ParityRow:
    """Run both detectors on one file and collect the agreement.

    Args:
        path: image or video.
        mode: "image" (detect_image on both) or "video" (tracking + smoothing on both).
        ours: a PoseDetector on our engines.
        reference: a PoseDetector with backend="mediapipe".
        stride, max_frames: frame subsampling (see :func:`read_frames`).
        progress: show a tqdm bar.
    """
    row = ParityRow(path.name, mode)
    ours.reset()
    reference.reset()
    frames = read_frames(path, stride, max_frames)
    for k, frame in enumerate(tqdm(frames, desc=f"{path.name} ({mode})", leave=False, disable=not progress)):
        if mode == "video":
            a, b = ours(frame, timestamp=(k + 1) * FRAME_STEP_S), reference(frame)
        else:
            a, b = ours.detect_image(frame), reference.detect_image(frame)
        row.frames += 1
        row.ours += a is not None
        row.reference += b is not None
        row.disagreements += (a is None) != (b is None)
        if a is not None and b is not None:
            row.both += 1
            row.distances.append(np.linalg.norm(a.landmarks[:, :2] - b.landmarks[:, :2], axis=1))
    return row


def format_table(rows: list[ParityRow]) -> str:
    """The rows as a fixed-width text table."""
    head = (f"{'file':38s} {'mode':5s} {'frames':>6s} {'ours':>5s} {'mp':>5s} {'both':>5s} "
            f"{'disagree':>8s} {'median px':>9s} {'p90 px':>7s} {'max px':>7s}")
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(f"{r.name:38s} {r.mode:5s} {r.frames:6d} {r.ours:5d} {r.reference:5d} {r.both:5d} "
                     f"{r.disagreements:8d} {r.stat(50):9.2f} {r.stat(90):7.2f} {r.stat(100):7.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.parity_blazepose", description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="*", help=f"images / videos (default: {', '.join(DEFAULT_FILES)} "
                                                 f"under {SHARED_MEDIA})")
    parser.add_argument("--backend", default="onnxruntime",
                        help="our backend: onnxruntime, onnxruntime-cuda or tensorrt (default onnxruntime)")
    parser.add_argument("--stride", type=int, default=1, help="keep every N-th video frame (default 1)")
    parser.add_argument("--max-frames", type=int, default=None, help="at most this many frames per video")
    parser.add_argument("--modes", default="video", help="modes for videos, comma-separated: video, image "
                                                         "(default video; images always run as images)")
    parser.add_argument("--threads", type=int, default=0, help="ONNX Runtime threads (0: all cores)")
    parser.add_argument("--max-median", type=float, default=2.0,
                        help="exit 1 if any file's median distance exceeds this many pixels (default 2)")
    args = parser.parse_args(argv)

    files = [Path(f) for f in args.files] or [SHARED_MEDIA / f for f in DEFAULT_FILES]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        print(f"missing files: {missing}", file=sys.stderr)
        return 2
    ours = PoseDetector(backend=args.backend, threads=args.threads)
    reference = PoseDetector(backend="mediapipe")
    rows = []
    for path in files:
        modes = ["image"] if path.suffix.lower() in IMAGE_SUFFIXES else args.modes.split(",")
        for mode in modes:
            rows.append(compare(path, mode.strip(), ours, reference, args.stride, args.max_frames))
    print(format_table(rows))
    failed = [r.name for r in rows if not r.stat(50) <= args.max_median or r.disagreements]
    print("agreement:", "FAILED for " + ", ".join(failed) if failed else
          f"every median <= {args.max_median} px and no disagreement on person presence")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
