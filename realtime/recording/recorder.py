"""Record the pose stream to an MCAP session file (docs/recording.md).

In the pipeline the :class:`Recorder` is a consumer like the ZeroMQ publisher: ``rec.consume(result)``
records each frame's wire message (``realtime.stream.wire.message``, built once and shared with the
publisher) and, with ``video=True``, its camera image. Standalone, ``rec.write(parts)`` records a
message received from a stream, byte for byte::

    python -m realtime.recorder --connect tcp://127.0.0.1:5555 --out recordings/

Crash safety: messages go into small zstd chunks that are written out and flushed to the operating
system at least every ``flush_interval_s`` (0.5 s), so a recorder killed with SIGKILL loses at most the
last half second or so; the file it leaves has no summary/footer but reads up to that point
(``read_session`` says ``truncated``). A write error (disk full) stops the recording with one clear
message in ``Recorder.error``; what was written before stays readable.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from mcap.writer import CompressionType, Writer

from realtime.core.records import FrameResult
from realtime.recording.session_format import (CHECKSUM_KEY, POSE_JSON_SCHEMA, POSE_TOPIC, SESSION_END_METADATA, SESSION_FORMAT,
                                               SESSION_METADATA, SESSION_SUFFIX, VIDEO_JSON_SCHEMA, VIDEO_TOPIC,
                                               encode_metadata, pose_message, software_version)
from realtime.stream.wire import SCHEMA, WireError, decode, message

__all__ = ["Recorder", "RecorderOptions", "RecordingError"]
log = logging.getLogger(__name__)
_COMPRESSION = {"zstd": CompressionType.ZSTD, "lz4": CompressionType.LZ4, "none": CompressionType.NONE}


@dataclass
class RecorderOptions:
    """Settings of a :class:`Recorder`.

    Attributes:
        chunk_size: MCAP chunk size in bytes; a chunk is also closed every ``flush_interval_s``.
        flush_interval_s: longest time a received message stays in memory before it reaches the file.
        compression: ``"zstd"``, ``"lz4"`` or ``"none"`` (per chunk).
        video_fourcc: FourCC of the video beside the session (``cv2.VideoWriter``).
        video_suffix: file suffix of that video. Matroska (``.mkv``) because it has no index that is
            written only at close: a killed recorder's video plays up to the encoder's last write
            (MP4 keeps its index in the ``moov`` atom at the end, and a killed MP4 does not open).
        video_fps: nominal frame rate written into the video (the true timing is in ``/video_frames``).
        foxglove: also write the skeleton as ``foxglove.SceneUpdate`` / ``foxglove.FrameTransform``
            channels (``/semgcn/scene``, ``/semgcn/tf``; ``realtime.recording.foxglove_scene``), which
            the Foxglove app draws in 3D with no plugin. Skipped, with a warning, without foxglove-sdk.
    """

    chunk_size: int = 64 * 1024
    flush_interval_s: float = 0.5
    compression: str = "zstd"
    video_fourcc: str = "mp4v"
    video_suffix: str = ".mkv"
    video_fps: float = 30.0
    foxglove: bool = True


class RecordingError(OSError):
    """Raised once by ``consume`` / ``write`` when a write error (disk full) stopped the recording."""


class Recorder:
    """Writes frames into one MCAP session file (a pipeline consumer).

    Args:
        out_dir: folder for the session (created if needed; the file is ``session_<UTC time>.mcap``),
            or a path ending in ``.mcap`` to use as the file itself.
        metadata: session metadata (source, camera calibration, models and versions...); JSON-able values.
            The recorder adds ``software_version``, ``start_time`` and the formats.
        video: also write each consumed frame's camera image to a video beside the session.
        options: :class:`RecorderOptions`.
    Attributes:
        path: the session file. video_path: the video file (None without video).
        frames_written (taken by the recorder), frames_on_disk (of those, flushed to the file),
        rejected (messages that were not valid frames), error (None while all is well).
    """

    name = "record"

    def __init__(self, out_dir: str | Path, metadata: dict[str, Any] | None = None, video: bool = False,
                 options: RecorderOptions | None = None):
        self.options = options or RecorderOptions()
        self.path = _session_path(Path(out_dir))
        self.video_path = self.path.with_suffix(self.options.video_suffix) if video else None
        self.frames_written = self.frames_on_disk = self.video_frames_written = self.rejected = 0
        self._pose_added = 0
        self.error: str | None = None
        self._raised = False
        self.closed = False
        self._lock = threading.Lock()
        self._video = None
        self._unflushed = 0
        self._last_flush = time.monotonic()
        self.metadata = dict(metadata or {})
        self.metadata.update(software_version=software_version(), start_time=time.time(),
                             start_time_utc=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                             session_format=SESSION_FORMAT, wire_schema=SCHEMA,
                             video=self.video_path.name if video else None)
        self._file = open(self.path, "xb")
        self._writer = Writer(self._file, chunk_size=self.options.chunk_size,
                              compression=_COMPRESSION[self.options.compression])
        self._writer.start(profile="", library=f"semgcn realtime.recorder ({SESSION_FORMAT})")
        self._pose_channel = self._register(POSE_TOPIC, "semgcn.pose", POSE_JSON_SCHEMA)
        self._video_channel = self._register(VIDEO_TOPIC, "semgcn.video_frame", VIDEO_JSON_SCHEMA) if video else 0
        self._foxglove, self._foxglove_channels = self._start_foxglove() if self.options.foxglove else (None, {})
        encoded = encode_metadata(self.metadata)
        self._metadata_sha256 = encoded[CHECKSUM_KEY]  # repeated in the end record: a second check
        self._writer.add_metadata(SESSION_METADATA, encoded)
        self._writer.flush()  # the header and the metadata are on disk before the first frame
        # A stream that goes quiet (frozen camera) must not keep frames in memory: flush on a timer too.
        self._stop_flusher = threading.Event()
        self._flusher = threading.Thread(target=self._flush_loop, name="recorder-flush", daemon=True)
        self._flusher.start()

    def _flush_loop(self) -> None:
        while not self._stop_flusher.wait(self.options.flush_interval_s / 4 or 0.05):
            self.flush_if_due()

    def _start_foxglove(self):
        """The Foxglove scene encoder and its channels, or (None, {}) without foxglove-sdk."""
        try:
            from realtime.recording.foxglove_scene import ENCODING, FoxgloveScene, schemas
            channels = {}
            for topic, (name, encoding, data) in schemas().items():
                schema_id = self._writer.register_schema(name, encoding, data)
                channels[topic] = self._writer.register_channel(topic, ENCODING, schema_id)
            return FoxgloveScene(), channels
        except ImportError as exc:
            log.warning("recorder: no Foxglove channels (%s); pip install foxglove-sdk", exc)
            return None, {}

    def _register(self, topic: str, name: str, schema: dict) -> int:
        schema_id = self._writer.register_schema(name, "jsonschema", json.dumps(schema).encode())
        return self._writer.register_channel(topic, "json", schema_id, {"wire_schema": SCHEMA})

    @property
    def ok(self) -> bool:
        """False once a write error stopped the recording."""
        return self.error is None

    def consume(self, result: FrameResult) -> None:
        """Record one frame of the pipeline (and its image, with ``video=True``).

        Raises:
            RecordingError: once, when a write error (disk full) stops the recording; the file is
                closed and readable up to the last flush, and later calls do nothing.
        """
        if self.error:
            self._raise_once()  # a background flush may have met the error
        if self.closed:
            return
        self._write_pose(result)
        if self.video_path is not None and result.image is not None:
            self._write_image(result.image, result.frame_index, result.t_capture)

    def write(self, parts: list[bytes]) -> None:
        """Record one multipart message received from a stream, exactly as it came; a message that is
        not a valid frame is counted in ``rejected`` and skipped.

        Raises:
            RecordingError: as :meth:`consume`.
        """
        if self.error:
            self._raise_once()
        if self.closed:
            return
        try:
            result = decode(parts)
        except WireError as exc:
            self.rejected += 1
            if self.rejected <= 3 or self.rejected % 100 == 0:
                log.warning("recorder: skipped a message that is not a pose frame (%d so far): %s",
                            self.rejected, exc)
            return
        self._write_pose(result)

    def _write_pose(self, result: FrameResult) -> None:
        data = pose_message(message(result))
        if self._add(self._pose_channel, result.t_capture, result.t_publish, data, self.frames_written):
            self.frames_written += 1
        else:
            self._raise_once()
        if self._foxglove is not None:
            self._write_foxglove(result)

    def _write_foxglove(self, result: FrameResult) -> None:
        try:
            messages = self._foxglove.encode(result)
        except Exception as exc:  # noqa: BLE001 - the drawing is extra: the poses go on being recorded
            log.error("recorder: stopped writing the Foxglove channels: %s: %s", type(exc).__name__, exc)
            self._foxglove = None
            return
        for m in messages:  # logged at the capture time, like the frame's /pose message
            if not self._add(self._foxglove_channels[m.topic], result.t_capture, result.t_publish, m.data,
                             self.frames_written - 1):  # the frame's own sequence number
                self._raise_once()

    def _write_image(self, image_bgr: np.ndarray, frame_index: int, t_capture: float) -> None:
        """Append one image to the video beside the session; all images have the first one's size."""
        import cv2  # only the video needs OpenCV

        if self._video is None:
            h, w = image_bgr.shape[:2]
            fourcc = cv2.VideoWriter_fourcc(*self.options.video_fourcc)
            self._video = cv2.VideoWriter(str(self.video_path), fourcc, self.options.video_fps, (w, h))
            if not self._video.isOpened():  # no video, but the poses go on being recorded
                log.error("recorder: cannot open a %s video writer for %s; recording poses only",
                          self.options.video_fourcc, self.video_path)
                self._video, self.video_path = None, None
                return
        self._video.write(np.ascontiguousarray(image_bgr))
        data = json.dumps({"video_frame": self.video_frames_written, "frame_index": int(frame_index),
                           "t_capture": float(t_capture)}).encode()
        if self._add(self._video_channel, t_capture, t_capture, data, self.video_frames_written):
            self.video_frames_written += 1
        else:
            self._raise_once()

    def _add(self, channel: int, log_time: float, publish_time: float, data: bytes, sequence: int) -> bool:
        """Add one message; False when a write error stopped the recording (then nothing more is written)."""
        with self._lock:
            if self.closed:
                return False
            try:
                self._writer.add_message(channel, _ns(log_time), data, _ns(publish_time), sequence)
                self._unflushed += 1
                self._pose_added += channel == self._pose_channel
                self._flush_if_due_locked()
            except OSError as exc:
                self._fail(exc)
                return False
            return True

    def flush_if_due(self) -> None:
        """Write out the messages held in memory when the last flush is ``flush_interval_s`` old.

        Every message added calls it, and so does a background thread every ``flush_interval_s / 4``.
        """
        with self._lock:
            if self.closed or self.error:
                return
            try:
                self._flush_if_due_locked()
            except OSError as exc:
                self._fail(exc)

    def _flush_if_due_locked(self) -> None:
        if self._unflushed and time.monotonic() - self._last_flush >= self.options.flush_interval_s:
            self._writer.flush()  # closes the chunk in progress and flushes the file object
            self._unflushed = 0
            self.frames_on_disk = self._pose_added
            self._last_flush = time.monotonic()

    def _raise_once(self) -> None:
        if self.error and not self._raised:
            self._raised = True
            raise RecordingError(self.error)

    def _fail(self, exc: BaseException) -> None:
        # Keep what is on disk: no summary is written (it would fail too); the reader handles the cut.
        self.error = (f"recording stopped: {exc}. {self.path} stays readable with the "
                      f"{self.frames_on_disk} frames flushed before (of {self._pose_added} received).")
        log.error("recorder: %s", self.error)
        self._release_files()

    def _release_files(self) -> None:
        self.closed = True
        self._stop_flusher.set()
        if self._video is not None:
            self._video.release()
        try:
            self._file.close()
        except OSError:
            pass  # the failed bytes stay unwritten; the prefix is intact

    def close(self) -> None:
        """Write the end record and the MCAP summary, and close the files (idempotent)."""
        with self._lock:
            if self.closed:
                return
            try:
                end = {"end_time": time.time(), "frames": self.frames_written, "rejected": self.rejected,
                       "video_frames": self.video_frames_written, "metadata_sha256": self._metadata_sha256}
                self._writer.add_metadata(SESSION_END_METADATA, encode_metadata(end))
                self._writer.finish()
            except OSError as exc:
                self._fail(exc)
                return
            self._release_files()

    def __enter__(self) -> "Recorder":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _ns(t: float) -> int:
    # Times come validated (finite, 1970 to 2286); the guard keeps a bad one from ending a recording.
    return max(0, int(round(t * 1e9))) if math.isfinite(t) else 0


def _session_path(out: Path) -> Path:
    if out.suffix == SESSION_SUFFIX:
        out.parent.mkdir(parents=True, exist_ok=True)
        return out
    out.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d_%H%M%S")
    path, n = out / f"session_{stamp}{SESSION_SUFFIX}", 1
    while path.exists():
        n += 1
        path = out / f"session_{stamp}_{n}{SESSION_SUFFIX}"
    return path

