"""The capture thread every source runs: a one-slot, newest-wins buffer with drop counting.

In *live* mode (webcams, network streams, and files or the demo paced at their frame rate) a new frame
replaces one the pipeline has not taken yet, which is then counted in ``dropped``: the pipeline always
works on the newest frame and falls behind by dropping frames, never by queueing them. In *unpaced* mode
(``realtime=False``, files and the demo only) the thread waits until the pipeline has taken the frame,
so that every frame is processed once, as fast as possible (benchmarks, tests, offline runs).
The concrete sources are in ``realtime.core.sources``.
"""
from __future__ import annotations

import contextlib
import os
import threading
import time
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np


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
        media_time: the frame's time in the stream in seconds, increasing (``index / fps`` for files,
            folders and the demo, so that temporal filters behave the same paced or unpaced); None for
            live sources, whose clock is ``t_capture``.
    """

    image: np.ndarray
    index: int
    t_capture: float
    source: str
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
        demo_people: figures in the demo (1 to 3), walking paths that cross.
    """

    width: int | None = None
    height: int | None = None
    fps: float | None = None
    realtime: bool = True
    loop: bool = False
    demo_seed: int = 0
    demo_people: int = 1


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
    #: The camera's exact ``(3, 3)`` intrinsics when the source knows them (the demo), else None.
    camera_matrix: np.ndarray | None = None

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
        """The next ``image`` or ``(image, index)`` (sources that skip indices), or None at the end."""
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
                image, index = item if isinstance(item, tuple) else (item, self.captured)
                self._hand_over(CapturedFrame(image, index, time.time(), self.name, self._media_time(index)))
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
