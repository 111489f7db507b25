"""Capture sources: webcam, video file, folder of images, network stream, demo; each in its own thread.

Each source is a ``realtime.core.capture.CaptureSource``: a capture thread feeding a one-slot, newest-wins
buffer that counts the frames it drops (see that module for live and unpaced modes).

``open_source(spec, options)`` picks the source from a string: ``"demo"``, a webcam index (``"0"`` or
``"webcam:0"``), a URL (``rtsp://``, ``http://``...), a folder of images, an image file or a video file.
Recorded sessions (``replay:FILE``) are played by ``realtime.recording.replay``, not here.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from realtime.core.capture import (CapturedFrame, CaptureSource, EndOfStream, SourceError, SourceOptions,
                                   quiet_native_stderr)
from realtime.core.evaluation import GroundTruth

__all__ = ["CapturedFrame", "CaptureSource", "DemoSource", "EndOfStream", "ImageFolderSource", "SourceError",
           "SourceOptions", "VideoCaptureSource", "open_source", "quiet_native_stderr"]

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
URL_SCHEMES = ("rtsp://", "rtsps://", "rtmp://", "http://", "https://", "udp://", "tcp://", "srt://")
_STREAM_TIMEOUT_MS = 5000
_MAX_LIVE_READ_FAILURES = 30

class VideoCaptureSource(CaptureSource):
    """A webcam, a video file or a network stream read with ``cv2.VideoCapture``.

    Args:
        target: webcam index (int), file path or URL.
        name: description for the stream.
        kind: "webcam", "file" or "url" (chooses the error messages and the end-of-stream rule).
        options: ``SourceOptions``.
    """

    def __init__(self, target: int | str, name: str, kind: str, options: SourceOptions):
        self.kind, self.target, self.loop = kind, target, options.loop and kind == "file"
        self.name = name
        with quiet_native_stderr():
            if kind == "url":
                params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, _STREAM_TIMEOUT_MS,
                          cv2.CAP_PROP_READ_TIMEOUT_MSEC, _STREAM_TIMEOUT_MS]
                self.cap = cv2.VideoCapture(str(target), cv2.CAP_ANY, params)
            else:
                self.cap = cv2.VideoCapture(target)
            if kind == "webcam" and self.cap.isOpened():
                self._request_format(options)
            ok, first = self.cap.read() if self.cap.isOpened() else (False, None)
        if not ok or first is None:
            self.cap.release()
            raise SourceError(self._open_error())
        self._pending: np.ndarray | None = first
        self.frame_size = (int(first.shape[1]), int(first.shape[0]))
        file_fps = self.cap.get(cv2.CAP_PROP_FPS) or 0.0
        self.native_fps = float(file_fps) if 1.0 <= file_fps <= 240.0 else 30.0
        paced = kind == "file" and options.realtime
        super().__init__(name, live=kind != "file" or options.realtime, pace_fps=self.native_fps if paced else None)
        self._failures = 0

    def _request_format(self, options: SourceOptions) -> None:
        if options.width:
            self.cap.set(cv2.CAP_PROP_FRAME_WIDTH, options.width)
        if options.height:
            self.cap.set(cv2.CAP_PROP_FRAME_HEIGHT, options.height)
        if options.fps:
            self.cap.set(cv2.CAP_PROP_FPS, options.fps)

    def _open_error(self) -> str:
        if self.kind == "webcam":
            return (f"cannot open webcam {self.target}: no camera at that index or it is in use "
                    "(try another --source index, a video file, or --source demo)")
        if self.kind == "url":
            return f"cannot open network stream {self.name} (unreachable, wrong URL, or no frame in {_STREAM_TIMEOUT_MS} ms)"
        return f"cannot read video file {self.target}: not a video OpenCV can decode, or empty"

    def _read(self) -> np.ndarray | None:
        if self._pending is not None:
            frame, self._pending = self._pending, None
            return frame
        while not self._stop.is_set():
            ok, frame = self.cap.read()
            if ok and frame is not None:
                self._failures = 0
                return frame
            if self.kind == "file":
                if not self.loop:
                    return None
                self.cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
                continue
            self._failures += 1
            if self._failures >= _MAX_LIVE_READ_FAILURES:
                raise SourceError(f"{self.name} stopped delivering frames (disconnected?)")
            time.sleep(0.01)
        return None

    def _release(self) -> None:
        self.cap.release()

    def _media_time(self, index: int) -> float | None:
        return index / self.native_fps if self.kind == "file" else None


class ImageFolderSource(CaptureSource):
    """Images from a folder (sorted by name) or a single image file.

    Unreadable images are skipped and counted in ``skipped``; a folder without a readable image is an
    error at open time.

    Args:
        path: a folder or an image file.
        options: ``SourceOptions`` (``fps`` paces the images in realtime mode, default 30).
    """

    def __init__(self, path: Path, options: SourceOptions):
        if path.is_dir():
            self.paths = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)
            if not self.paths:
                raise SourceError(f"no images ({', '.join(IMAGE_EXTENSIONS)}) in folder {path}")
        else:
            self.paths = [path]
        self.loop = options.loop
        self.skipped = 0
        self.skipped_names: list[str] = []  # the first few, for the summary
        self._position = 0
        self._first = self._next_image()
        if self._first is None:
            raise SourceError(f"cannot read any image from {path}")
        self.frame_size = (int(self._first.shape[1]), int(self._first.shape[0]))
        fps = self.fps = options.fps or 30.0
        super().__init__(path.name, live=options.realtime, pace_fps=fps if options.realtime else None)

    def _next_image(self) -> np.ndarray | None:
        tried = 0
        while tried < len(self.paths):
            if self._position >= len(self.paths):
                if not self.loop:
                    return None
                self._position = 0
            image = cv2.imread(str(self.paths[self._position]), cv2.IMREAD_COLOR)
            self._position += 1
            tried += 1
            if image is not None:
                return image
            self.skipped += 1
            if len(self.skipped_names) < 5:
                self.skipped_names.append(self.paths[self._position - 1].name)
        return None

    def _read(self) -> np.ndarray | None:
        if self._first is not None:
            image, self._first = self._first, None
            return image
        return self._next_image()

    def stats(self) -> dict[str, Any]:
        return {**super().stats(), "unreadable_images": self.skipped, "unreadable_examples": list(self.skipped_names)}

    def _media_time(self, index: int) -> float:
        return index / self.fps


class DemoSource(CaptureSource):
    """The built-in animated figure (``realtime.demo.DemoScene``) with its ground truth.

    Rendering costs as much CPU as detection, so in realtime mode the demo renders on demand: when the
    pipeline takes a frame, the next one is rendered for the current time (the animation runs in real
    time) and the frame indices skipped meanwhile are counted as dropped, just as a camera's frames
    would be. Frames that would be thrown away are never rendered.

    The true pose of each rendered frame is kept (for the last ``TRUTH_FRAMES`` frames) and given by
    ``ground_truth(frame_index)``: the source is a ``realtime.core.evaluation.GroundTruthSource``.

    Args:
        options: ``SourceOptions`` (width, height, fps, realtime, demo_seed, demo_people).
    """

    #: How many recent frames' truths are kept: far more than can wait between capture and evaluation.
    TRUTH_FRAMES = 256

    def __init__(self, options: SourceOptions):
        try:
            from realtime.demo import DemoScene
        except ImportError as exc:
            raise SourceError(f"the demo source is not available: {exc}") from None
        fps = options.fps or 30.0
        self.scene = DemoScene(width=options.width or 640, height=options.height or 480, fps=fps,
                               seed=options.demo_seed, people=options.demo_people)
        try:
            first = self.scene.render(0)
        except Exception as exc:  # noqa: BLE001 - report a broken demo in one line
            raise SourceError(f"the demo source failed to render: {type(exc).__name__}: {exc}") from None
        self.frame_size = (int(first.image.shape[1]), int(first.image.shape[0]))
        self.camera_matrix = np.asarray(first.camera_matrix, dtype=np.float64)
        self.fps = fps
        self._next = 0
        self._t0: float | None = None
        self._truths: OrderedDict[int, list[GroundTruth]] = OrderedDict()
        self.realtime = options.realtime
        # Realtime: render on demand, pacing and drop counting happen in _read. Unpaced: render the
        # next frame while the pipeline works on this one, hand over every frame.
        super().__init__("demo", live=False, on_demand=options.realtime)

    def _read(self) -> tuple[np.ndarray, int]:
        index = self._next
        if self.realtime:
            now = time.perf_counter()
            if self._t0 is None:
                self._t0 = now
            due = int((now - self._t0) * self.fps)
            if due < index:  # ahead of the clock: wait for this frame's time
                self._stop.wait(self._t0 + index / self.fps - now)
            else:
                self.dropped += due - index
                index = due
        frame = self.scene.render(index)
        self._next = index + 1
        # Stored before the hand-over, so the truth is there when the pipeline evaluates the frame.
        self._truths[index] = [GroundTruth(f.keypoints_2d, f.joints_3d, f.root_translation, figure=i, visible=f.visible)
                               for i, f in enumerate(frame.figures)]
        while len(self._truths) > self.TRUTH_FRAMES:
            self._truths.popitem(last=False)
        return frame.image, index

    def ground_truth(self, frame_index: int) -> list[GroundTruth] | None:
        """The figure's true pose in frame ``frame_index`` (None when it is not among the recent frames)."""
        return self._truths.get(frame_index)

    def _media_time(self, index: int) -> float:
        return index / self.fps


def open_source(spec: str, options: SourceOptions | None = None) -> CaptureSource:
    """Open the source that ``spec`` names (not started: call ``.start()``).

    Args:
        spec: ``"demo"``; a webcam index ``"0"`` or ``"webcam:0"``; a URL; a folder of images; an image
            file; a video file.
        options: ``SourceOptions``; defaults when None.
    Raises:
        SourceError: with one line saying what is wrong (missing camera, unreadable file...).
    """
    options = options or SourceOptions()
    spec = str(spec).strip()
    if spec == "demo":
        return DemoSource(options)
    if spec.startswith("replay:"):
        raise SourceError("replay sources are played by realtime.recording.replay (run_live.py --source replay:FILE)")
    webcam = spec.removeprefix("webcam:")
    if webcam.isdigit():
        return VideoCaptureSource(int(webcam), f"webcam:{webcam}", "webcam", options)
    if spec.lower().startswith(URL_SCHEMES):
        return VideoCaptureSource(spec, _redact(spec), "url", options)
    path = Path(spec).expanduser()
    if not path.exists():
        raise SourceError(f"no such file or folder: {spec} (or use a webcam index, a URL or 'demo')")
    if path.is_dir() or path.suffix.lower() in IMAGE_EXTENSIONS:
        return ImageFolderSource(path, options)
    return VideoCaptureSource(str(path), path.name, "file", options)


def _redact(url: str) -> str:
    """The URL without a password, for logs and the stream header."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest.split("/", 1)[0]:
        rest = "***@" + rest.split("@", 1)[1]
    return scheme + sep + rest
