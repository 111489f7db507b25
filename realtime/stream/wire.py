"""The ZeroMQ wire format of the live stream, schema ``semgcn.pose/1`` (docs/stream_format.md).

One multipart message per processed frame:

  part 0  topic, ASCII: ``b"pose"`` (subscribers filter on it)
  part 1  header, UTF-8 JSON object (the fields below and ``realtime.core.records.FrameResult``)
  part 2+ one part per entry of ``header["arrays"]``, in that order: the raw little-endian bytes of
          a C-contiguous array with that entry's ``name``, ``dtype`` (``"<f4"``) and ``shape``.

A frame with nobody in it has ``has_person: false`` and no 2D / 3D arrays: it is published all the
same, so that a consumer can tell "nobody there" from "stream stalled".

Standard arrays: ``keypoints_2d`` (16, 2) pixels, ``confidence`` (16,), ``joints_3d`` (16, 3) metres,
camera frame (OpenCV axes), pelvis at the origin. Optional arrays added by later stages (calibration):
``root_translation`` (3,) metres, camera frame; ``joints_world`` (16, 3) metres in the world frame that
``header["world_frame"]`` names. Version 1 carries one person: its arrays are the message's arrays.
Unknown arrays and header fields are kept: consumers ignore what they do not know, so the schema grows
without breaking them. The major version in ``schema`` changes only when a consumer of the old one
would misread the new one.

``encode(result)`` builds the message of a ``FrameResult`` once (``result.encoded`` keeps it, so that
the publisher and the recorder share it); ``decode(parts)`` gives a ``FrameResult`` back.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from realtime.core.records import PERSON_ARRAY_FIELDS, FrameResult, PersonPose, person_arrays
from realtime.stream import limits
from realtime.stream.limits import DTYPE as _DTYPE, WireError
from semgcn.skeleton import JOINT_NAMES

TOPIC = b"pose"
SCHEMA = "semgcn.pose/1"
SCHEMA_NAME, SCHEMA_MAJOR = SCHEMA.split("/")
UNITS = "m"
FRAME_OF_REFERENCE = "camera, OpenCV axes (x right, y down, z forward), pelvis at origin"
#: Header fields that ``FrameResult`` names; every other field is kept in ``FrameResult.header``.
_PERSON_HEADER_FIELDS = ("scale", "position")

#: The old name of the decoded frame type: a decoded message is a ``FrameResult``.
Frame = FrameResult


@dataclass
class WireMessage:
    """A frame's message in both forms: the header and arrays (for the recorder) and the parts."""

    header: dict[str, Any]
    arrays: dict[str, np.ndarray]
    parts: list[bytes]


def message(result: FrameResult) -> WireMessage:
    """The wire message of ``result``, built on the first call and kept in ``result.encoded``."""
    if result.encoded is None:
        result.encoded = _build(result)
    return result.encoded


def encode(result: FrameResult) -> list[bytes]:
    """The parts of the ZeroMQ multipart message of ``result`` (built once per frame)."""
    return message(result).parts


def _build(result: FrameResult) -> WireMessage:
    person = result.people[0] if result.people else None
    arrays = dict(result.extra_arrays)
    if person is not None:
        arrays.update(person_arrays(person))
    arrays = {name: np.ascontiguousarray(value, dtype=_DTYPE) for name, value in arrays.items()}
    header = dict(result.header)
    for name, value in (("seq", result.seq), ("backends", result.backends), ("smoothing", result.smoothing),
                        ("error", result.error), ("latency_ms", result.latency_ms), ("camera", result.camera),
                        ("world_frame", result.world_frame)):
        if value is not None:
            header[name] = value
    if result.timings_ms:
        header["timings_ms"] = {k: round(v, 3) for k, v in result.timings_ms.items()}
    if result.dropped_at_source is not None:
        header["dropped"] = {"at_source": int(result.dropped_at_source)}
    for name in _PERSON_HEADER_FIELDS:
        if person is not None and getattr(person, name) is not None:
            header[name] = getattr(person, name)
    header.update(
        schema=SCHEMA,
        frame_index=int(result.frame_index),
        t_capture=float(result.t_capture),
        t_publish=float(result.t_publish or time.time()),
        image_size=[int(result.image_size[0]), int(result.image_size[1])],
        source=str(result.source),
        has_person=person is not None,
        joint_names=list(JOINT_NAMES),
        units=UNITS,
        frame_of_reference=FRAME_OF_REFERENCE,
        arrays=[{"name": name, "dtype": _DTYPE, "shape": list(arr.shape)} for name, arr in arrays.items()],
    )
    parts = [TOPIC, json.dumps(header, separators=(",", ":")).encode("utf-8"),
             *(arr.tobytes() for arr in arrays.values())]
    return WireMessage(header, arrays, parts)


def decode(parts: list[bytes]) -> FrameResult:
    """Parse the parts of one multipart message into a ``FrameResult``.

    Everything is checked against ``realtime.stream.limits`` (types, ranges, sizes, nesting, finite
    joints), so that what comes back is safe to use. The result keeps the whole header in ``header``
    and its message in ``encoded``, so that encoding it again (the recorder, a bridge republishing)
    gives back the very message received.

    Raises:
        WireError: with a one-line reason, for anything that is not a valid frame of this schema;
            no other exception escapes.
    """
    try:
        return _decode(parts)
    except WireError:
        raise
    except Exception as exc:  # noqa: BLE001 - the promise: a bad message is a WireError, whatever it is
        raise WireError(f"malformed message: {type(exc).__name__}: {str(exc)[:120]}") from None


def _decode(parts: list[bytes]) -> FrameResult:
    if not isinstance(parts, (list, tuple)) or not 2 <= len(parts) <= 2 + limits.MAX_ARRAYS:
        count = len(parts) if isinstance(parts, (list, tuple)) else "?"
        raise WireError(f"expected a multipart message of 2 to {2 + limits.MAX_ARRAYS} parts, got "
                        f"{type(parts).__name__} of {count}")
    parts = [bytes(p) for p in parts]
    if parts[0] != TOPIC:
        raise WireError(f"foreign topic {parts[0][:32]!r} (expected {TOPIC!r})")
    header = limits.parse_header(parts[1])
    schema = header.get("schema")
    name, _, major = schema.partition("/") if isinstance(schema, str) else ("", "", "")
    if name != SCHEMA_NAME:
        raise WireError(f"foreign schema {limits.shown(schema)} (expected {SCHEMA!r})")
    if major != SCHEMA_MAJOR:
        raise WireError(f"schema {schema!r} has another major version than this reader ({SCHEMA})")
    arrays = limits.arrays(header.get("arrays", []), parts[2:])
    has_person = limits.optional(header, "has_person", bool)
    if (has_person if has_person is not None else "joints_3d" in arrays) != ("joints_3d" in arrays):
        raise WireError("header has_person disagrees with the arrays sent")
    result = _result_from(header, arrays)
    result.encoded = WireMessage(header, arrays, parts)
    return result


def _result_from(header: dict, arrays: dict[str, np.ndarray]) -> FrameResult:
    low, high = limits.TIME_RANGE_S
    dropped = limits.optional(header, "dropped", dict)
    result = FrameResult(
        frame_index=limits.integer(header, "frame_index"),
        t_capture=limits.number(header, "t_capture", low, high),
        t_publish=limits.number(header, "t_publish", low, high, required=False) or 0.0,
        image_size=limits.image_size(header),
        source=limits.optional(header, "source", str) or "",
        seq=limits.integer(header, "seq", required=False),
        timings_ms=limits.timings(header),
        dropped_at_source=limits.integer(dropped, "at_source", required=False) if dropped else None,
        backends=limits.optional(header, "backends", dict),
        smoothing=limits.optional(header, "smoothing", bool),
        error=limits.optional(header, "error", str),
        latency_ms=limits.number(header, "latency_ms", -1e6, 1e9, required=False),
        camera=limits.optional(header, "camera", dict),
        world_frame=limits.optional(header, "world_frame", dict),
        header=header,
    )
    if "joints_3d" not in arrays:
        result.extra_arrays = arrays
        return result
    person = PersonPose(**{name: arrays[name] for name in PERSON_ARRAY_FIELDS if name in arrays},
                        scale=limits.optional(header, "scale", dict),
                        position=limits.optional(header, "position", dict),
                        extra_arrays={k: v for k, v in arrays.items() if k not in PERSON_ARRAY_FIELDS})
    result.people.append(person)
    return result
