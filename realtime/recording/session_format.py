"""How a recorded session is laid out inside its MCAP file (docs/recording.md).

A session file is a standard MCAP file (https://mcap.dev), chunked and zstd-compressed:

* channel ``/pose``: one message per stream frame, ``message_encoding="json"``, schema
  ``semgcn.pose`` (``encoding="jsonschema"``, :data:`POSE_JSON_SCHEMA`). The message is
  ``{"header": <the wire header, as sent>, "arrays": {name: nested lists of floats}}`` for a version 1
  frame, and ``"arrays": [nested lists, ...]`` in the order of ``header["arrays"]`` for version 2 (whose
  array names repeat, once per person). The arrays are
  written with the shortest decimal form that reads back to the same float32, so the stream's message
  is rebuilt bit for bit (:func:`message_to_parts`); a non-finite value is written as ``null``.
  ``log_time`` is the frame's capture time and ``publish_time`` its publish time, in UNIX nanoseconds.
* channel ``/video_frames`` (only with video): ``{"video_frame", "frame_index", "t_capture"}`` per image
  written to the video file beside the session, so that images and poses line up.
* metadata record ``semgcn.session`` (written first): the session metadata, one key per entry, each
  value JSON-encoded (MCAP metadata values are strings), with the SHA-256 of the entries under
  ``_sha256``; ``semgcn.session_end`` (written on close): the frame counts and the end time, with its own
  checksum. A file without ``semgcn.session_end`` was cut short.
"""
from __future__ import annotations

import hashlib
import json
import math
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

from realtime.stream.wire import TOPIC, WireError, WireMessage

SESSION_FORMAT = "semgcn.session/1"
POSE_TOPIC = "/pose"
VIDEO_TOPIC = "/video_frames"
SESSION_METADATA = "semgcn.session"
SESSION_END_METADATA = "semgcn.session_end"
SESSION_SUFFIX = ".mcap"
#: The metadata key holding the SHA-256 of the other entries (key and encoded value).
CHECKSUM_KEY = "_sha256"

POSE_JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "semgcn.pose",
    "description": "One frame of the semgcn.pose/1 stream (docs/stream_format.md): the wire header and "
                   "its arrays as nested lists (metres / pixels, float32 values).",
    "type": "object",
    "required": ["header", "arrays"],
    "properties": {
        "header": {"type": "object", "required": ["schema", "frame_index", "t_capture", "arrays"],
                   "properties": {"schema": {"type": "string"}, "frame_index": {"type": "integer"},
                                  "t_capture": {"type": "number"}, "t_publish": {"type": "number"},
                                  "has_person": {"type": "boolean"}, "arrays": {"type": "array"}}},
        "arrays": {"oneOf": [{"type": "object", "additionalProperties": {"type": "array"}},
                             {"type": "array", "items": {"type": "array"}}]},
    },
}
VIDEO_JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "semgcn.video_frame",
    "description": "Index of one image in the video file beside the session and the stream frame it shows.",
    "type": "object",
    "properties": {"video_frame": {"type": "integer"}, "frame_index": {"type": "integer"},
                   "t_capture": {"type": "number"}},
}


def pose_message(message: WireMessage) -> bytes:
    """The MCAP message data for one stream frame: its wire header and its arrays as float lists.

    Takes the frame's wire message (``realtime.stream.wire.message``), built once per frame and shared
    with the publisher, so the recorder neither encodes nor parses a frame a second time.
    """
    specs = message.header["arrays"]
    if any("person" in spec for spec in specs):  # version 2: names repeat across people, keep the order
        arrays: Any = [float_lists(values) for values in message.arrays]
    else:
        arrays = {spec["name"]: float_lists(values) for spec, values in zip(specs, message.arrays)}
    return json.dumps({"header": message.header, "arrays": arrays}, separators=(",", ":")).encode("utf-8")


def message_to_parts(data: bytes) -> list[bytes]:
    """Rebuild the stream's multipart message from one ``/pose`` message.

    Raises:
        WireError: when the message is not a valid pose message (bad JSON, missing arrays).
    """
    try:
        message = json.loads(data.decode("utf-8"))
        header, arrays = message["header"], message["arrays"]
        specs = header["arrays"]
        if isinstance(arrays, list):  # version 2: in the order of the header's entries
            if len(arrays) != len(specs):
                raise ValueError(f"{len(arrays)} arrays for {len(specs)} entries")
            listed = arrays
        else:
            listed = [arrays[spec["name"]] for spec in specs]
        blobs = [np.array(values, dtype=np.float64).astype("<f4").reshape(spec["shape"]).tobytes()  # None -> nan
                 for spec, values in zip(specs, listed)]
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise WireError(f"not a semgcn.pose session message: {exc!r}") from None
    return [TOPIC, json.dumps(header, separators=(",", ":")).encode("utf-8"), *blobs]


def float_lists(array: np.ndarray) -> Any:
    """``array`` as nested lists of floats (a bare float for a 0-d array) for JSON: each value in the
    shortest decimal form that reads back to the same float32, a non-finite one as None."""
    array = np.asarray(array, dtype=np.float32)
    # str() of a numpy float32 is its shortest repr that reads back to the same float32.
    flat = [float(str(v)) if math.isfinite(v) else None for v in array.ravel()]
    for size in reversed(array.shape[1:]):
        flat = [flat[i:i + size] for i in range(0, len(flat), size)]
    return flat if array.shape else flat[0]


def encode_metadata(metadata: dict[str, Any]) -> dict[str, str]:
    """MCAP metadata (str -> str) from a session metadata dict: each value JSON-encoded, plus a
    checksum of them all under ``CHECKSUM_KEY`` (MCAP protects chunks with CRCs, not metadata)."""
    encoded = {str(k): json.dumps(v, default=_json_default) for k, v in metadata.items()}
    # First: a flip in the record's entry count drops entries from the end, and must not drop this one.
    return {CHECKSUM_KEY: metadata_digest(encoded), **encoded}


def decode_metadata(record: dict[str, str]) -> tuple[dict[str, Any], list[str], str]:
    """Inverse of :func:`encode_metadata`: the metadata, what is wrong with it (a checksum that does not
    match, values that are not JSON: damage), and the checksum of the entries as read (the end record
    repeats the session metadata's, for a second check). A value that is not valid JSON is kept as its
    string. Files written before the checksum existed are read without it."""
    record = dict(record)
    problems = []
    checksum = record.pop(CHECKSUM_KEY, None)
    digest = metadata_digest(record)
    if checksum is not None and checksum != digest:
        problems.append("the metadata does not match its checksum: it was damaged")
    out: dict[str, Any] = {}
    for key, value in record.items():
        try:
            out[key] = json.loads(value)
        except (json.JSONDecodeError, TypeError, RecursionError):
            out[key] = value
            problems.append(f"metadata field {key[:40]!r} is not valid JSON: it was damaged")
    return out, problems, digest


def metadata_digest(encoded: dict[str, str]) -> str:
    """SHA-256 of metadata entries (key and encoded value), independent of their order."""
    text = json.dumps(sorted(encoded.items()), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _json_default(value: Any) -> Any:
    # Calibration and model info often hold numpy arrays / scalars or paths.
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def software_version() -> str:
    """``git describe`` of the checkout this code runs from (``"unknown"`` outside a git checkout)."""
    repo = Path(__file__).resolve().parents[1]
    try:
        out = subprocess.run(["git", "-C", str(repo), "describe", "--always", "--dirty", "--tags"],
                             capture_output=True, text=True, timeout=5, check=True)
        return "git:" + out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
