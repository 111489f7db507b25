"""Read a recorded session (an MCAP file, realtime/session_format.py) back into stream frames.

``read_session(path)`` never hangs and never lets a parser error escape: a file that is not a session
gets one :class:`SessionError` (a ``ValueError``) with a one-line reason; a session that was cut short
(recorder killed, disk full) or has damaged chunks is read as far as it can be, with
``Session.truncated = True`` and the reasons in ``Session.problems``.
"""
from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from mcap.records import Channel, Chunk, Footer, Message, Metadata
from mcap.stream_reader import StreamReader, breakup_chunk

from realtime.core.records import FrameResult
from realtime.recording.session_format import (POSE_TOPIC, SESSION_END_METADATA, SESSION_METADATA, SESSION_SUFFIX,
                                               VIDEO_TOPIC, decode_metadata, message_to_parts)
from realtime.stream.wire import WireError, decode

_MCAP_MAGIC = b"\x89MCAP0\r\n"
_MAX_CHUNK_BYTES = 256 << 20


class SessionError(ValueError):
    """A file that cannot be read as a session at all; the message is one line, meant for the user."""


@dataclass
class Session:
    """A recorded session.

    Attributes:
        path: the session file.
        metadata: the session metadata (source, calibration, models, software version, start time...).
        frames: the recorded frames, decoded like the stream's (``FrameResult``), in file order.
        truncated: True when the file was cut short or damaged (some frames at the end, or in damaged
            chunks, are missing).
        problems: one line per thing that went wrong while reading.
        end: the end record (frame counts, end time) of a session closed cleanly, else None.
        video_path: the video beside the session, when one was recorded and is there.
        video_frames: per video image: ``{"video_frame", "frame_index", "t_capture"}``.
    """

    path: Path
    metadata: dict[str, Any]
    frames: list[FrameResult] = field(default_factory=list)
    truncated: bool = False
    problems: list[str] = field(default_factory=list)
    end: dict[str, Any] | None = None
    video_path: Path | None = None
    video_frames: list[dict[str, Any]] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        """Capture time from the first to the last frame."""
        return self.frames[-1].t_capture - self.frames[0].t_capture if len(self.frames) > 1 else 0.0

    @property
    def fps(self) -> float:
        """Frame rate from the median capture interval (the metadata's ``fps`` when that is absent)."""
        times = np.array([f.t_capture for f in self.frames])
        steps = np.diff(times)
        steps = steps[steps > 0]
        if steps.size:
            return float(1.0 / np.median(steps))
        return float(self.metadata.get("fps") or 30.0)


def read_session(path: str | Path) -> Session:
    """Read a session file.

    Args:
        path: the ``.mcap`` file written by ``realtime.recorder``, or a folder of them (its newest).
    Returns:
        the :class:`Session` (check ``truncated``).
    Raises:
        SessionError: missing, empty, not MCAP, or MCAP that holds no session.
    """
    path = newest_session(path) if Path(path).is_dir() else Path(path)
    try:
        size = path.stat().st_size
        handle = open(path, "rb")
    except OSError as exc:
        raise SessionError(f"cannot open session {path}: {exc.strerror or exc}") from None
    with handle:
        if size == 0:
            raise SessionError(f"{path} is empty (the recorder stopped before writing anything)")
        if handle.read(len(_MCAP_MAGIC)) != _MCAP_MAGIC:
            raise SessionError(f"{path} is not an MCAP session file (wrong magic bytes)")
        handle.seek(0)
        state = _State(path)
        _read_records(handle, size, state)
    if state.metadata is None:
        where = "; " + state.problems[0] if state.problems else ""
        raise SessionError(f"{path} is MCAP but holds no semgcn session (no '{SESSION_METADATA}' "
                           f"metadata{where})")
    return state.to_session()


def newest_session(folder: str | Path) -> Path:
    """The most recently written ``*.mcap`` file in ``folder`` (what ``--record DIR`` made last)."""
    files = sorted(Path(folder).glob("*" + SESSION_SUFFIX), key=lambda p: (p.stat().st_mtime, p.name))
    if not files:
        raise SessionError(f"no session file (*{SESSION_SUFFIX}) in folder {folder}")
    return files[-1]


@dataclass
class _State:
    path: Path
    metadata: dict[str, Any] | None = None
    end: dict[str, Any] | None = None
    footer: bool = False
    damaged: bool = False
    topics: dict[int, str] = field(default_factory=dict)
    frames: list[FrameResult] = field(default_factory=list)
    video_frames: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def to_session(self) -> Session:
        truncated = self.damaged or not self.footer or self.end is None
        if truncated and not self.footer:
            self.problems.insert(0, f"the file was cut short (no MCAP footer): the recorder did not close it; "
                                    f"{len(self.frames)} frames could be read")
        video = self.path.parent / str(self.metadata.get("video")) if self.metadata.get("video") else None
        return Session(self.path, self.metadata, self.frames, truncated, self.problems, self.end,
                       video if video is not None and video.is_file() else None, self.video_frames)


def _read_records(handle, size: int, state: _State) -> None:
    # record_size_limit: a corrupted length field must not make the reader allocate gigabytes.
    reader = StreamReader(handle, emit_chunks=True, record_size_limit=size)
    try:
        for record in reader.records:
            if isinstance(record, Chunk):
                _read_chunk(record, state)
            else:
                _handle(record, state)
    except Exception as exc:  # noqa: BLE001 - any parser error on damaged bytes means "cut short here"
        state.damaged = True
        state.problems.append(f"unreadable from byte {handle.tell()} on ({type(exc).__name__}: {exc})"[:300])


def _read_chunk(chunk: Chunk, state: _State) -> None:
    try:
        if chunk.uncompressed_size > _MAX_CHUNK_BYTES:  # a damaged size field: don't let zstd allocate it
            raise ValueError(f"implausible uncompressed size {chunk.uncompressed_size}")
        records = breakup_chunk(chunk, validate_crc=True)
    except Exception as exc:  # noqa: BLE001 - CRC mismatch, bad compression, garbage inside: skip the chunk
        state.damaged = True
        state.problems.append(f"skipped a damaged chunk of frames captured {chunk.message_start_time / 1e9:.3f}"
                              f"-{chunk.message_end_time / 1e9:.3f} ({type(exc).__name__}: {exc})"[:300])
        return
    for record in records:
        _handle(record, state)


def _handle(record: Any, state: _State) -> None:
    if isinstance(record, Channel):
        state.topics[record.id] = record.topic
    elif isinstance(record, Message):
        _handle_message(record, state)
    elif isinstance(record, Metadata):
        if record.name == SESSION_METADATA:
            state.metadata = decode_metadata(record.metadata)
        elif record.name == SESSION_END_METADATA:
            state.end = decode_metadata(record.metadata)
    elif isinstance(record, Footer):
        state.footer = True


def _handle_message(message: Message, state: _State) -> None:
    topic = state.topics.get(message.channel_id)
    if topic == VIDEO_TOPIC:
        try:
            state.video_frames.append(json.loads(message.data))
        except (json.JSONDecodeError, UnicodeDecodeError):
            state.problems.append(f"skipped an unreadable video index entry (sequence {message.sequence})")
        return
    if topic not in (POSE_TOPIC, None):
        return  # a channel some other tool added: not ours to read
    try:
        state.frames.append(decode(message_to_parts(message.data)))
    except (WireError, struct.error) as exc:
        state.damaged = True
        state.problems.append(f"skipped frame message {message.sequence}: {exc}"[:300])
