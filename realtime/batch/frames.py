"""The frames of one offline input (a video file, a folder of images, one image), read by chunk.

Offline every frame is read, in order, with no capture thread and no pacing: ``probe`` opens an
input once to learn its kind, frame count, frame rate and size (an unreadable input raises
``InputError`` with one line), ``plan_chunks`` cuts its frames into chunks, and ``read_frames``
yields the ``CapturedFrame`` of one chunk, seeking straight to its first frame.

Times are the clip's own, not the wall clock of the run: ``media_time = index / fps`` and
``t_capture = start_time + media_time``, where ``start_time`` is the input's modification time in
whole seconds (a clock origin the file carries, read once by ``probe``). The same input then gives
the same session whenever and wherever it is processed, and exports time it at its recorded speed.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from realtime.core.capture import CapturedFrame, quiet_native_stderr
from realtime.core.sources import IMAGE_EXTENSIONS

VIDEO_EXTENSIONS = (".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv", ".ts")
DEFAULT_FPS = 30.0


class InputError(RuntimeError):
    """An input that cannot be processed; the message is one line for the summary table."""


@dataclass(frozen=True)
class InputInfo:
    """What ``probe`` learnt about an input.

    Attributes:
        path: the input (a video file, an image folder or an image file).
        kind: "video" or "images".
        frame_count: frames the container announces (videos: may be off, or 0 when unknown) or
            images in the folder.
        fps: frame rate (the video's own when plausible, else ``DEFAULT_FPS``; images: the caller's).
        frame_size: ``(w, h)`` of the first frame.
        start_time: UNIX seconds of the first frame (the input's modification time, whole seconds).
    """

    path: str
    kind: str
    frame_count: int
    fps: float
    frame_size: tuple[int, int]
    start_time: float = 0.0


@dataclass(frozen=True)
class Chunk:
    """Frames ``[start, stop)`` of an input, read from ``read_from`` so that the detector's tracking
    settles before ``start`` (``stop`` None: to the end of the input)."""

    index: int
    start: int
    stop: int | None
    read_from: int


def image_paths(folder: Path) -> list[Path]:
    """The images of a folder, sorted by name."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)


def probe(path: str | Path, image_fps: float = DEFAULT_FPS) -> InputInfo:
    """Open ``path`` once and say what it is.

    Raises:
        InputError: missing, unreadable, not a video OpenCV decodes, a folder without images, or no frame.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"no such file or folder: {path}")
    if path.is_dir() or path.suffix.lower() in IMAGE_EXTENSIONS:
        paths = image_paths(path) if path.is_dir() else [path]
        if not paths:
            raise InputError(f"no images ({', '.join(IMAGE_EXTENSIONS)}) in folder {path}")
        first = next((img for img in map(_read_image, paths) if img is not None), None)
        if first is None:
            raise InputError(f"none of the {len(paths)} images of {path} can be read")
        return InputInfo(str(path), "images", len(paths), float(image_fps), (first.shape[1], first.shape[0]),
                         _start_time(path))
    with quiet_native_stderr():
        cap = cv2.VideoCapture(str(path))
        try:
            ok, first = cap.read() if cap.isOpened() else (False, None)
            count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
            fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        finally:
            cap.release()
    if not ok or first is None:
        raise InputError(f"cannot read video file {path}: not a video OpenCV can decode, or it has no frame")
    fps = fps if 1.0 <= fps <= 240.0 else DEFAULT_FPS  # the rule of realtime.core.sources
    return InputInfo(str(path), "video", max(count, 0), fps, (first.shape[1], first.shape[0]), _start_time(path))


def _start_time(path: Path) -> float:
    """The clip's clock origin: its modification time in whole seconds (never 0, which means "unset")."""
    return float(max(1, int(path.stat().st_mtime)))


def plan_chunks(frame_count: int, chunk_frames: int, overlap: int) -> list[Chunk]:
    """Chunks of ``chunk_frames`` frames; each after the first starts reading ``overlap`` frames early.

    One chunk when ``chunk_frames`` is 0, when the count is unknown (0), or when the input is no longer
    than 1.5 chunks (a short tail is not worth a task of its own). The last chunk reads to the end of
    the input, so a container that announces too few frames loses none.
    """
    if chunk_frames <= 0 or frame_count <= 0 or frame_count <= 1.5 * chunk_frames:
        return [Chunk(0, 0, None, 0)]
    count = max(1, round(frame_count / chunk_frames))
    edges = [round(i * frame_count / count) for i in range(count)]
    return [Chunk(i, start, edges[i + 1] if i + 1 < count else None, max(0, start - overlap))
            for i, start in enumerate(edges)]


def read_frames(info: InputInfo, chunk: Chunk) -> Iterator[CapturedFrame]:
    """The frames ``chunk.read_from`` to ``chunk.stop`` of the input (unreadable images are skipped)."""
    if info.kind == "images":
        yield from _image_frames(info, chunk)
    else:
        yield from _video_frames(info, chunk)


def _image_frames(info: InputInfo, chunk: Chunk) -> Iterator[CapturedFrame]:
    path = Path(info.path)
    paths = image_paths(path) if path.is_dir() else [path]
    for index in range(chunk.read_from, len(paths) if chunk.stop is None else min(chunk.stop, len(paths))):
        image = _read_image(paths[index])
        if image is not None:
            yield _frame(image, index, info)


def _video_frames(info: InputInfo, chunk: Chunk) -> Iterator[CapturedFrame]:
    with quiet_native_stderr():
        cap = cv2.VideoCapture(info.path)
    try:
        index = _seek(cap, chunk.read_from)
        while chunk.stop is None or index < chunk.stop:
            ok, image = cap.read()
            if not ok or image is None:
                return
            if index >= chunk.read_from:
                yield _frame(image, index, info)
            index += 1
    finally:
        cap.release()


def _seek(cap: cv2.VideoCapture, frame: int) -> int:
    """Seek to ``frame``; the index the next read gives. A container that cannot seek exactly is read
    from its first frame instead (slower, never wrong)."""
    if frame > 0 and cap.set(cv2.CAP_PROP_POS_FRAMES, frame) and int(cap.get(cv2.CAP_PROP_POS_FRAMES)) == frame:
        return frame
    cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
    return 0


def _frame(image: np.ndarray, index: int, info: InputInfo) -> CapturedFrame:
    t = index / info.fps
    return CapturedFrame(image=image, index=index, t_capture=info.start_time + t, source=Path(info.path).name,
                         media_time=t)


def _read_image(path: Path) -> np.ndarray | None:
    with quiet_native_stderr():
        return cv2.imread(str(path), cv2.IMREAD_COLOR)
