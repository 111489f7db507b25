"""Capture sources: webcam, video file, folder of images, network stream, demo; each in its own thread.

Every source runs a capture thread that reads frames and puts them into a one-slot buffer. In *live*
mode (webcams, network streams, and files or the demo paced at their frame rate) a new frame replaces
one the pipeline has not taken yet, which is then counted in ``dropped``: the pipeline always works on
the newest frame and falls behind by dropping frames, never by queueing them. In *unpaced* mode
(``realtime=False``, files and the demo only) the thread waits until the pipeline has taken the frame,
so that every frame is processed once, as fast as possible (benchmarks, tests, offline runs).

``open_source(spec, options)`` picks the source from a string: ``"demo"``, a webcam index (``"0"`` or
``"webcam:0"``), a URL (``rtsp://``, ``http://``...), a folder of images, an image file or a video file.
Recorded sessions (``replay:FILE``) are played by ``realtime.replay``, not here.
"""
from __future__ import annotations

import contextlib
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
URL_SCHEMES = ("rtsp://", "rtsps://", "rtmp://", "http://", "https://", "udp://", "tcp://", "srt://")
_STREAM_TIMEOUT_MS = 5000
_MAX_LIVE_READ_FAILURES = 30


class SourceError(RuntimeError):
    """A source that cannot be opened or read; the message is one line, meant for the user."""


class EndOfStream(Exception):
    """Raised by ``CaptureSource.get`` when the source has no more frames."""


@dataclass
class CapturedFrame:
    """One frame as the capture thread handed it over.

    Attributes:
        image: ``(H, W, 3)`` uint8 BGR image.
        index: index of the frame at the source (0, 1, 2, ...; gaps mean frames were dropped).
        t_capture: wall-clock time (``time.time()``) when the frame was read.
        source: short description of the source ("webcam:0", "demo", a file name...).
        ground_truth: for the demo source, the true ``keypoints_2d`` (16, 2), ``joints_3d`` (16, 3),
            ``root_translation`` (3,) and ``camera_matrix`` (3, 3); None for real sources.
        media_time: the frame's time in the stream in seconds, increasing (``index / fps`` for files,
            folders and the demo, so that temporal filters behave the same paced or unpaced); None for
            live sources, whose clock is ``t_capture``.
    """

    image: np.ndarray
    index: int
    t_capture: float
    source: str
    ground_truth: dict[str, Any] | None = None
    media_time: float | None = None

    @property
    def timestamp(self) -> float:
        """Seconds for temporal filters: ``media_time`` when the source has one, else ``t_capture``."""
        return self.t_capture if self.media_time is None else self.media_time


@dataclass
class SourceOptions:
    """Options of ``open_source``.

    Attributes:
        width: requested capture width in pixels (webcam; demo image width). None: the device default.
        height: requested capture height in pixels (webcam; demo image height).
        fps: requested frame rate (webcam), pacing rate for image folders, demo frame rate.
        realtime: pace files and the demo at their frame rate and drop frames the pipeline cannot keep
            up with (True), or hand over every frame as fast as the pipeline takes them (False).
            Webcams and network streams are always live.
        loop: start a video file, image folder or image again at its end.
        demo_seed: random seed of the demo's motion.
    """

    width: int | None = None
    height: int | None = None
    fps: float | None = None
    realtime: bool = True
    loop: bool = False
    demo_seed: int = 0


@contextlib.contextmanager
def quiet_native_stderr():
    """Silence OpenCV's and FFmpeg's own log lines (written straight to fd 2) while opening a device.

    We replace them by one clear message of our own; they would otherwise bury it.
    """
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_WARNING)


class CaptureSource:
    """Base class: a capture thread feeding a one-slot, newest-wins buffer.

    Subclasses open their device in ``__init__`` (raising ``SourceError``) and implement ``_read``.

    Args:
        name: short description used in the stream's ``source`` field.
        live: newest-wins hand-over with drop counting (True) or a blocking hand-over (False).
        pace_fps: sleep between reads to keep this rate (paced files, demo); None to read as fast as
            the device delivers (webcams and streams pace themselves).
    """

    #: ``(w, h)`` of the frames, known once the source is open (subclasses set it).
    frame_size: tuple[int, int] | None = None

    def __init__(self, name: str, live: bool, pace_fps: float | None = None, on_demand: bool = False):
        self.name = name
        self.live = live
        self.pace_fps = pace_fps
        #: Read the next frame only once the pipeline has taken the last one (the demo, whose frames
        #: cost a render each): nothing is read to be thrown away.
        self.on_demand = on_demand
        #: Unpaced sources are not real time: a frame's ``t_capture`` is when the pipeline takes it,
        #: so that latency measures processing, not how long the frame queued behind the previous one.
        self.stamp_on_take = not live and not on_demand
        self.captured = 0
        self.dropped = 0
        self.error: str | None = None
        self._slot: CapturedFrame | None = None
        self._finished = False
        self._stop = threading.Event()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    # -- to implement -------------------------------------------------------------------------------
    def _read(self) -> tuple | None:
        """The next ``(image, ground_truth)`` or ``(image, ground_truth, index)``, or None at the end."""
        raise NotImplementedError

    def _release(self) -> None:
        """Free the device (called once, from the capture thread, when it ends)."""

    def _media_time(self, index: int) -> float | None:
        """The stream time of frame ``index`` (files: index / fps); None for live sources."""
        return None

    # -- public -------------------------------------------------------------------------------------
    def start(self) -> "CaptureSource":
        """Start the capture thread (idempotent); returns self."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"capture-{self.name}", daemon=True)
            self._thread.start()
        return self

    def get(self, timeout: float | None = 1.0) -> CapturedFrame | None:
        """Take the newest frame, waiting up to ``timeout`` seconds.

        Returns:
            the frame, or None when none arrived in time.
        Raises:
            EndOfStream: the source ended (``self.error`` says why, when it was not a normal end).
        """
        with self._cond:
            if not self._cond.wait_for(lambda: self._slot is not None or self._finished, timeout):
                return None
            frame, self._slot = self._slot, None
            self._cond.notify_all()
        if frame is None:
            raise EndOfStream(self.error or "end of stream")
        if self.stamp_on_take:
            frame.t_capture = time.time()
        return frame

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the capture thread and release the device."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
        elif not self._finished:
            self._finished = True
            self._release()

    def stats(self) -> dict[str, Any]:
        return {"source": self.name, "captured": self.captured, "dropped_at_source": self.dropped}

    def __enter__(self) -> "CaptureSource":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- capture thread -----------------------------------------------------------------------------
    def _run(self) -> None:
        interval = 1.0 / self.pace_fps if self.pace_fps else 0.0
        next_due = time.perf_counter()
        try:
            while not self._stop.is_set():
                if self.on_demand:
                    with self._cond:
                        self._cond.wait_for(lambda: self._slot is None or self._stop.is_set())
                    if self._stop.is_set():
                        break
                if interval:
                    delay = next_due - time.perf_counter()
                    if delay > 0 and self._stop.wait(delay):
                        break
                    # When behind (slow disk, busy CPU) restart the clock rather than read a burst.
                    next_due = max(next_due + interval, time.perf_counter())
                item = self._read()
                if item is None:
                    break
                image, truth = item[0], item[1]
                index = item[2] if len(item) > 2 else self.captured
                self._hand_over(CapturedFrame(image, index, time.time(), self.name, truth, self._media_time(index)))
                self.captured += 1
        except SourceError as exc:
            self.error = str(exc)
        except Exception as exc:  # noqa: BLE001 - a capture thread must end cleanly and say why
            self.error = f"{self.name}: capture failed: {type(exc).__name__}: {exc}"
        finally:
            with contextlib.suppress(Exception):
                self._release()
            with self._cond:
                self._finished = True
                self._cond.notify_all()

    def _hand_over(self, frame: CapturedFrame) -> None:
        with self._cond:
            if not self.live:
                self._cond.wait_for(lambda: self._slot is None or self._stop.is_set())
            if self._slot is not None:
                self.dropped += 1
            self._slot = frame
            self._cond.notify_all()


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

    def _read(self) -> tuple[np.ndarray, None] | None:
        if self._pending is not None:
            frame, self._pending = self._pending, None
            return frame, None
        while not self._stop.is_set():
            ok, frame = self.cap.read()
            if ok and frame is not None:
                self._failures = 0
                return frame, None
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
        return None

    def _read(self) -> tuple[np.ndarray, None] | None:
        if self._first is not None:
            image, self._first = self._first, None
        else:
            image = self._next_image()
        return None if image is None else (image, None)

    def stats(self) -> dict[str, Any]:
        return {**super().stats(), "unreadable_images": self.skipped}

    def _media_time(self, index: int) -> float:
        return index / self.fps


class DemoSource(CaptureSource):
    """The built-in animated figure (``realtime.demo.DemoScene``) with its ground truth.

    Rendering costs as much CPU as detection, so in realtime mode the demo renders on demand: when the
    pipeline takes a frame, the next one is rendered for the current time (the animation runs in real
    time) and the frame indices skipped meanwhile are counted as dropped, just as a camera's frames
    would be. Frames that would be thrown away are never rendered.

    Args:
        options: ``SourceOptions`` (width, height, fps, realtime, demo_seed).
    """

    def __init__(self, options: SourceOptions):
        try:
            from realtime.demo import DemoScene
        except ImportError as exc:
            raise SourceError(f"the demo source is not available: {exc}") from None
        fps = options.fps or 30.0
        self.scene = DemoScene(width=options.width or 640, height=options.height or 480, fps=fps,
                               seed=options.demo_seed)
        try:
            first = self.scene.render(0)
        except Exception as exc:  # noqa: BLE001 - report a broken demo in one line
            raise SourceError(f"the demo source failed to render: {type(exc).__name__}: {exc}") from None
        self.frame_size = (int(first.image.shape[1]), int(first.image.shape[0]))
        #: The demo camera's exact intrinsics (3, 3): the pipeline may use them as its calibration.
        self.camera_matrix = np.asarray(first.camera_matrix, dtype=np.float64)
        self.fps = fps
        self._next = 0
        self._t0: float | None = None
        self.realtime = options.realtime
        # Realtime: render on demand, pacing and drop counting happen in _read. Unpaced: render the
        # next frame while the pipeline works on this one, hand over every frame.
        super().__init__("demo", live=False, on_demand=options.realtime)

    def _read(self) -> tuple[np.ndarray, dict, int]:
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
        truth = {
            "keypoints_2d": np.asarray(frame.keypoints_2d, np.float32),
            "joints_3d": np.asarray(frame.joints_3d, np.float32),
            "root_translation": np.asarray(frame.root_translation, np.float32),
            "camera_matrix": np.asarray(frame.camera_matrix, np.float64),
            "t": float(frame.t),
        }
        return frame.image, truth, index

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
        raise SourceError("replay sources are played by realtime.replay (run_live.py --source replay:FILE)")
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
