"""Read a recorded session (an MCAP file, realtime/recording/session_format.py) back into frames, and
say exactly what, if anything, was lost.

``read_session(path)`` never hangs and never lets a parser error escape: a file that is not a session
gets one :class:`SessionError` (a ``ValueError``) with a one-line reason. A session that was cut short
(recorder killed, disk full) or damaged is read as far as it can be: sequentially first, then, where
the stream broke, chunk by chunk through the file's own index (its summary section, when that
survived). What it read is then checked against the file's own records: every frame carries its
sequence number (0, 1, 2... in recording order), the end record and the summary know how many
frames were written, and the metadata carries a checksum. ``Session.missing`` lists exactly which
frames are not there, ``Session.problems`` says why, and ``Session.complete`` is True only when
every recorded frame was returned.
"""
from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from mcap.records import Channel, Chunk, Footer, Message, Metadata
from mcap.stream_reader import StreamReader, breakup_chunk

from realtime.core.records import FrameResult
from realtime.recording.session_format import (POSE_TOPIC, SESSION_END_METADATA, SESSION_METADATA, SESSION_SUFFIX,
                                               VIDEO_TOPIC, decode_metadata, message_to_parts)
from realtime.recording.session_index import read_summary
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
        frames: the recorded frames that could be read (``FrameResult``), in recording order.
        truncated: True when the file was cut short or damaged in any way.
        problems: one line per thing that went wrong while reading.
        missing: the frames that are not in ``frames``, as inclusive ranges of their sequence numbers
            ``(first, last)``; ``last`` is None for "and every frame after it" (a file cut short before
            its end record: how many frames followed the cut is not written anywhere before it).
        expected_frames: how many frames the recorder wrote (end record or summary), None if unknown.
        end: the end record (frame counts, end time) of a session closed cleanly, else None.
        video_path: the video beside the session, when one was recorded and is there.
        video_frames: per video image: ``{"video_frame", "frame_index", "t_capture"}``.
    """

    path: Path
    metadata: dict[str, Any]
    frames: list[FrameResult] = field(default_factory=list)
    truncated: bool = False
    problems: list[str] = field(default_factory=list)
    missing: list[tuple[int, int | None]] = field(default_factory=list)
    expected_frames: int | None = None
    end: dict[str, Any] | None = None
    video_path: Path | None = None
    video_frames: list[dict[str, Any]] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Every frame the recorder wrote is in ``frames``, and nothing in the file was damaged."""
        return not self.truncated and not self.missing

    def loss_report(self) -> str:
        """One line: what was lost, or that nothing was."""
        if self.complete:
            return f"{self.path.name}: complete, {len(self.frames)} frames"
        ranges = ", ".join(f"{a}-{b}" if b is not None and b != a else f"{a}" if b is not None else f"{a} onwards"
                           for a, b in self.missing)
        known = f" of {self.expected_frames}" if self.expected_frames is not None else ""
        lost = f"; missing frames (by sequence) {ranges}" if ranges else ""
        why = f" ({self.problems[0]})" if self.problems else ""
        return f"{self.path.name}: read {len(self.frames)}{known} frames{lost}{why}"

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
        fps = self.metadata.get("fps")
        return float(fps) if isinstance(fps, (int, float)) and 0 < fps < 1000 else 30.0


def read_session(path: str | Path) -> Session:
    """Read a session file.

    Args:
        path: the ``.mcap`` file written by ``realtime.recorder``, or a folder of them (its newest).
    Returns:
        the :class:`Session` (check ``complete``, ``missing`` and ``problems``).
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
    if state.damaged or not state.footer:
        with open(path, "rb") as handle:  # afresh: a reader that failed mid-record leaves its file unusable
            _read_indexed_chunks(handle, size, state)
    if state.metadata is None:
        if not state.frames:
            where = "; " + state.problems[0] if state.problems else ""
            raise SessionError(f"{path} is MCAP but holds no semgcn session (no '{SESSION_METADATA}' "
                               f"metadata{where})")
        state.problem(f"the session metadata ('{SESSION_METADATA}') is missing or unreadable")
        state.metadata = {}
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
    summary_count: int | None = None
    metadata_digest: str | None = None
    topics: dict[int, str] = field(default_factory=dict)
    frames: dict[int, FrameResult] = field(default_factory=dict)
    video_frames: dict[int, dict[str, Any]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def problem(self, line: str, damage: bool = True) -> None:
        self.damaged |= damage
        if line[:300] not in self.problems:
            self.problems.append(line[:300])

    def to_session(self) -> Session:
        recorded_digest = self.end.get("metadata_sha256") if isinstance(self.end, dict) else None
        if recorded_digest is not None and self.metadata_digest is not None and recorded_digest != self.metadata_digest:
            self.problem(f"{SESSION_METADATA}: the metadata differs from what the end record says was written: "
                         "it was damaged")
        expected = self.end.get("frames") if isinstance(self.end, dict) else None
        if not isinstance(expected, int) or isinstance(expected, bool) or expected < 0:
            expected = self.summary_count
        seen = sorted(self.frames)
        missing = _missing_ranges(seen, expected)
        if expected is None and not self.footer:
            self.problems.insert(0, f"the file was cut short (no MCAP footer): the recorder did not close it; "
                                    f"{len(seen)} frames could be read")
            missing.append((seen[-1] + 1 if seen else 0, None))
        if missing:
            self.problem(f"{_count(missing)} frames are missing", damage=False)
        truncated = self.damaged or not self.footer or self.end is None or bool(missing)
        video = self.path.parent / str(self.metadata.get("video")) if self.metadata.get("video") else None
        return Session(self.path, self.metadata, [self.frames[s] for s in seen], truncated, self.problems,
                       missing, expected, self.end, video if video is not None and video.is_file() else None,
                       [self.video_frames[s] for s in sorted(self.video_frames)])


def _missing_ranges(seen: list[int], expected: int | None) -> list[tuple[int, int | None]]:
    """Inclusive ranges of the sequence numbers in ``range(expected)`` (or up to the last seen) not in ``seen``."""
    top = expected if expected is not None else (seen[-1] + 1 if seen else 0)
    have = np.zeros(max(top, 0), dtype=bool)
    have[[s for s in seen if 0 <= s < top]] = True
    gaps = np.flatnonzero(~have)
    if not gaps.size:
        return []
    breaks = np.flatnonzero(np.diff(gaps) > 1)
    starts = np.concatenate([[gaps[0]], gaps[breaks + 1]])
    ends = np.concatenate([gaps[breaks], [gaps[-1]]])
    return [(int(a), int(b)) for a, b in zip(starts, ends)]


def _count(missing: list[tuple[int, int | None]]) -> str:
    if any(b is None for _, b in missing):
        return "some"
    return str(sum(b - a + 1 for a, b in missing))


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
        state.problem(f"unreadable from byte {handle.tell()} on ({type(exc).__name__}: {exc})")


def _read_indexed_chunks(handle, size: int, state: _State) -> None:
    """Where the sequential read stopped early, read every chunk the summary indexes (frames already
    read are kept once: they are keyed by sequence number)."""
    summary = read_summary(handle, size)
    if summary is None:
        return
    state.footer = True
    for channel in summary.channels.values():
        state.topics.setdefault(channel.id, channel.topic)
    pose_ids = [cid for cid, topic in state.topics.items() if topic == POSE_TOPIC]
    if summary.statistics is not None and pose_ids:
        state.summary_count = sum(summary.statistics.channel_message_counts.get(cid, 0) for cid in pose_ids)
    for index in summary.chunk_indexes:
        try:
            handle.seek(index.chunk_start_offset)
            chunk = next(StreamReader(io.BytesIO(handle.read(index.chunk_length)), skip_magic=True, emit_chunks=True,
                                      record_size_limit=size).records)
        except Exception as exc:  # noqa: BLE001 - the index itself may point into damage
            state.problem(f"the chunk at byte {index.chunk_start_offset} is unreadable ({type(exc).__name__})")
            continue
        if isinstance(chunk, Chunk):
            _read_chunk(chunk, state)
    for meta in summary.metadata_indexes:
        if (meta.name == SESSION_METADATA and state.metadata is None) or \
                (meta.name == SESSION_END_METADATA and state.end is None):
            try:
                handle.seek(meta.offset)
                _handle(next(StreamReader(io.BytesIO(handle.read(meta.length)), skip_magic=True).records), state)
            except Exception:  # noqa: BLE001 - reported below as missing metadata
                state.problem(f"the {meta.name} metadata record is unreadable")


def _read_chunk(chunk: Chunk, state: _State) -> None:
    try:
        if chunk.uncompressed_size > _MAX_CHUNK_BYTES:  # a damaged size field: don't let zstd allocate it
            raise ValueError(f"implausible uncompressed size {chunk.uncompressed_size}")
        records = breakup_chunk(chunk, validate_crc=True)
    except Exception as exc:  # noqa: BLE001 - CRC mismatch, bad compression, garbage inside: skip the chunk
        state.problem(f"skipped a damaged chunk of frames captured {chunk.message_start_time / 1e9:.3f}"
                      f"-{chunk.message_end_time / 1e9:.3f} ({type(exc).__name__}: {exc})")
        return
    for record in records:
        _handle(record, state)


def _handle(record: Any, state: _State) -> None:
    if isinstance(record, Channel):
        state.topics[record.id] = record.topic
    elif isinstance(record, Message):
        _handle_message(record, state)
    elif isinstance(record, Metadata) and record.name in (SESSION_METADATA, SESSION_END_METADATA):
        values, problems, digest = decode_metadata(record.metadata)
        for line in problems:
            state.problem(f"{record.name}: {line}")
        if record.name == SESSION_METADATA:
            state.metadata, state.metadata_digest = values, digest
        else:
            state.end = values
    elif isinstance(record, Footer):
        state.footer = True


def _handle_message(message: Message, state: _State) -> None:
    topic = state.topics.get(message.channel_id)
    if topic == VIDEO_TOPIC:
        try:
            state.video_frames[message.sequence] = json.loads(message.data)
        except (json.JSONDecodeError, UnicodeDecodeError):
            state.problem(f"skipped an unreadable video index entry (sequence {message.sequence})")
        return
    if topic not in (POSE_TOPIC, None):
        return  # a channel some other tool added: not ours to read
    try:
        state.frames[message.sequence] = decode(message_to_parts(message.data))
    except WireError as exc:
        state.problem(f"skipped frame message {message.sequence}: {exc}")
