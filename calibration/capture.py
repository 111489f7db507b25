"""Board views from a folder of images, a video, or a live camera (interactive when a display exists).

Each source returns a ``Collected``: the detections, which image each came from, what was skipped and
why, and the ``Coverage`` reached. Video and camera keep only views that differ from those already
kept (and, live, only when the board is held still, to avoid motion blur).
"""
from __future__ import annotations

import logging
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from calibration.boards import BoardDetector, Detection
from calibration.intrinsics import Coverage

log = logging.getLogger(__name__)
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
_STILL_PX = 2.0  # mean corner motion between frames under which the board counts as held still


@dataclass
class Collected:
    """Board views gathered from one source.

    Attributes:
        detections: one per kept view.
        names: where each view came from (file name, "frame 120", ...).
        image_size: ``(w, h)`` of the source.
        skipped: "name: reason" for each image not used.
        coverage: the ``Coverage`` of the kept views.
    """

    detections: list[Detection] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    image_size: tuple[int, int] | None = None
    skipped: list[str] = field(default_factory=list)
    coverage: Coverage | None = None

    def add(self, det: Detection, name: str) -> None:
        self.detections.append(det)
        self.names.append(name)
        self.coverage.add(det)


def from_images(folder, detector: BoardDetector, progress: bool = True) -> Collected:
    """Detect the board in every image of ``folder`` (sorted by name).

    Raises:
        ValueError: the folder is missing, holds no images, or the images differ in size.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"image folder {folder} does not exist")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)
    if not files:
        raise ValueError(f"no images ({', '.join(IMAGE_EXTENSIONS)}) in {folder}")
    out = Collected()
    for path in tqdm(files, desc="detecting board", unit="img", disable=not progress):
        image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        if image is None:
            out.skipped.append(f"{path.name}: not a readable image")
            continue
        size = (image.shape[1], image.shape[0])
        if out.image_size is None:
            out.image_size, out.coverage = size, Coverage(size)
        elif size != out.image_size:
            raise ValueError(f"{path.name} is {size[0]}x{size[1]} but the first image was "
                             f"{out.image_size[0]}x{out.image_size[1]}; use images from one camera at one resolution")
        det = detector.detect(image)
        if det is None:
            out.skipped.append(f"{path.name}: board not found")
        else:
            out.add(det, path.name)
    return out


def from_video(path, detector: BoardDetector, every: int = 5, max_views: int = 40, progress: bool = True) -> Collected:
    """Detect the board in every ``every``-th frame of a video, keeping up to ``max_views`` distinct views.

    Raises:
        ValueError: the video cannot be opened or has no frames.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"video {path} does not exist")
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise ValueError(f"video {path} could not be opened (unsupported or corrupted file)")
    total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) or None
    out = Collected()
    index = 0
    with tqdm(total=total, desc="scanning video", unit="frame", disable=not progress) as bar:
        while len(out.detections) < max_views:
            ok, frame = cap.read()
            if not ok:
                break
            bar.update(1)
            if out.image_size is None:
                out.image_size = (frame.shape[1], frame.shape[0])
                out.coverage = Coverage(out.image_size)
            if index % every == 0:
                det = detector.detect(frame)
                if det is not None and out.coverage.is_new(det):
                    out.add(det, f"frame {index}")
            index += 1
    cap.release()
    if index == 0:
        raise ValueError(f"video {path} has no readable frames")
    return out


def has_display() -> bool:
    """Whether an OpenCV window can be shown (a display server is set)."""
    return sys.platform in ("win32", "darwin") or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def from_camera(index: int | str, detector: BoardDetector, display: bool | None = None, max_seconds: float = 180.0,
                size: tuple[int, int] | None = None) -> Collected:
    """Capture views live. New, still views are kept automatically; the user sees what is missing.

    With a display: a window shows the corners, the covered cells and the status; SPACE keeps the
    current view anyway, C (or ENTER) finishes, Q / ESC aborts. Without: status lines are printed and
    capture stops when coverage is enough or after ``max_seconds``.

    Args:
        index: OpenCV camera index (or a stream URL / file, which ``cv2.VideoCapture`` also opens).
        detector: board detector.
        display: show a window; None: when a display exists.
        max_seconds: give up after this long.
        size: requested ``(w, h)``, or None for the camera's default.
    Raises:
        ValueError: the camera cannot be opened or gives no frames; the user aborted.
    """
    display = has_display() if display is None else display
    cap = cv2.VideoCapture(index)
    if not cap.isOpened():
        raise ValueError(f"camera {index} could not be opened (not connected, or used by another program?)")
    if size:
        cap.set(cv2.CAP_PROP_FRAME_WIDTH, size[0])
        cap.set(cv2.CAP_PROP_FRAME_HEIGHT, size[1])
    out, previous, start = Collected(), None, time.monotonic()
    try:
        while time.monotonic() - start < max_seconds:
            ok, frame = cap.read()
            if not ok:
                raise ValueError(f"camera {index} stopped giving frames")
            if out.image_size is None:
                out.image_size = (frame.shape[1], frame.shape[0])
                out.coverage = Coverage(out.image_size)
            det = detector.detect(frame)
            still = det is not None and previous is not None and _same_corners(det, previous) and \
                float(np.mean(np.linalg.norm(det.image_points - previous.image_points, axis=1))) < _STILL_PX
            previous = det
            if still and out.coverage.is_new(det):
                out.add(det, f"view {len(out.detections) + 1}")
                log.info(out.coverage.status())
            if not display:
                if out.coverage.enough:
                    break
                continue
            key = _show(frame, det, out.coverage)
            if key == ord(" ") and det is not None:
                out.add(det, f"view {len(out.detections) + 1}")
            elif key in (ord("c"), 13):
                break
            elif key in (ord("q"), 27):
                raise ValueError("calibration aborted by the user")
    finally:
        cap.release()
        if display:
            cv2.destroyAllWindows()
    if out.image_size is None:
        raise ValueError(f"camera {index} gave no frames")
    return out


def _same_corners(a: Detection, b: Detection) -> bool:
    return a.image_points.shape == b.image_points.shape and np.array_equal(a.object_points, b.object_points)


def _show(frame: np.ndarray, det: Detection | None, coverage: Coverage) -> int:
    view = frame.copy()
    h, w = view.shape[:2]
    cols, rows = coverage.grid
    for r in range(rows):
        for c in range(cols):
            if coverage.cells[r, c]:
                x0, y0, x1, y1 = c * w // cols, r * h // rows, (c + 1) * w // cols, (r + 1) * h // rows
                view[y0:y1, x0:x1] = (0.7 * view[y0:y1, x0:x1] + 0.3 * np.array([0, 160, 0])).astype(np.uint8)
    if det is not None:
        for p in det.image_points.astype(int):
            cv2.circle(view, tuple(int(v) for v in p), 3, (0, 0, 255), -1)
    status = coverage.status()
    colour = (0, 200, 0) if coverage.enough else (0, 200, 255)
    for i, line in enumerate([status[:90], status[90:180], "SPACE keep view  C calibrate  Q quit"]):
        cv2.putText(view, line, (10, 25 + 25 * i), cv2.FONT_HERSHEY_SIMPLEX, 0.6, colour, 2, cv2.LINE_AA)
    cv2.imshow("calibration", view)
    return cv2.waitKey(1) & 0xFF
