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
from semgcn.skeleton import JOINT_NAMES

TOPIC = b"pose"
SCHEMA = "semgcn.pose/1"
SCHEMA_NAME, SCHEMA_MAJOR = SCHEMA.split("/")
UNITS = "m"
FRAME_OF_REFERENCE = "camera, OpenCV axes (x right, y down, z forward), pelvis at origin"
_DTYPE = "<f4"
_MAX_HEADER_BYTES = 1 << 16
#: Header fields that ``FrameResult`` names; every other field is kept in ``FrameResult.header``.
_PERSON_HEADER_FIELDS = ("scale", "position")

#: The old name of the decoded frame type: a decoded message is a ``FrameResult``.
Frame = FrameResult


class WireError(ValueError):
    """A message that is not a valid ``semgcn.pose`` frame (malformed, foreign or a newer major)."""


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

    The result keeps the whole header in ``header`` and its message in ``encoded``, so that encoding it
    again (the recorder, a bridge republishing) gives back the very message received.

    Raises:
        WireError: with a one-line reason, for anything that is not a valid frame of this schema.
    """
    if not isinstance(parts, (list, tuple)) or len(parts) < 2:
        raise WireError(f"expected a multipart message of at least 2 parts, got {type(parts).__name__} "
                        f"of {len(parts) if isinstance(parts, (list, tuple)) else '?'}")
    parts = [bytes(p) for p in parts]
    if parts[0] != TOPIC:
        raise WireError(f"foreign topic {parts[0][:32]!r} (expected {TOPIC!r})")
    if len(parts[1]) > _MAX_HEADER_BYTES:
        raise WireError(f"header of {len(parts[1])} bytes is too large")
    try:
        header = json.loads(parts[1].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WireError(f"header is not UTF-8 JSON: {exc}") from None
    if not isinstance(header, dict):
        raise WireError("header is not a JSON object")
    schema = str(header.get("schema", ""))
    name, _, major = schema.partition("/")
    if name != SCHEMA_NAME:
        raise WireError(f"foreign schema {schema!r} (expected {SCHEMA!r})")
    if major != SCHEMA_MAJOR:
        raise WireError(f"schema {schema!r} has another major version than this reader ({SCHEMA})")
    try:
        arrays = _decode_arrays(header.get("arrays", []), parts[2:])
        result = _result_from(header, arrays)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise WireError(f"malformed header field: {exc!r}") from None
    if bool(header.get("has_person", "joints_3d" in arrays)) != ("joints_3d" in arrays):
        raise WireError("header has_person disagrees with the arrays sent")
    result.encoded = WireMessage(header, arrays, parts)
    return result


def _result_from(header: dict, arrays: dict[str, np.ndarray]) -> FrameResult:
    dropped = header.get("dropped")
    result = FrameResult(
        frame_index=int(header["frame_index"]),
        t_capture=float(header["t_capture"]),
        t_publish=float(header.get("t_publish", 0.0)),
        image_size=(int(header["image_size"][0]), int(header["image_size"][1])),
        source=str(header.get("source", "")),
        seq=header.get("seq"),
        timings_ms=dict(header.get("timings_ms") or {}),
        dropped_at_source=dropped.get("at_source") if isinstance(dropped, dict) else None,
        backends=header.get("backends"),
        smoothing=header.get("smoothing"),
        error=header.get("error"),
        latency_ms=header.get("latency_ms"),
        camera=header.get("camera"),
        world_frame=header.get("world_frame"),
        header=header,
    )
    if "joints_3d" not in arrays:
        result.extra_arrays = arrays
        return result
    person = PersonPose(**{name: arrays[name] for name in PERSON_ARRAY_FIELDS if name in arrays},
                        scale=header.get("scale"), position=header.get("position"),
                        extra_arrays={k: v for k, v in arrays.items() if k not in PERSON_ARRAY_FIELDS})
    result.people.append(person)
    return result


def _decode_arrays(specs: list[dict], blobs: list[bytes]) -> dict[str, np.ndarray]:
    if not isinstance(specs, list) or len(specs) != len(blobs):
        raise WireError(f"header lists {len(specs) if isinstance(specs, list) else '?'} arrays "
                        f"but the message carries {len(blobs)}")
    arrays = {}
    for spec, blob in zip(specs, blobs):
        name, shape = str(spec["name"]), tuple(int(s) for s in spec["shape"])
        if spec.get("dtype") != _DTYPE:
            raise WireError(f"array {name!r} has dtype {spec.get('dtype')!r}, expected {_DTYPE!r}")
        if name in PERSON_ARRAY_FIELDS and shape != PERSON_ARRAY_FIELDS[name]:
            raise WireError(f"array {name!r} has shape {shape}, expected {PERSON_ARRAY_FIELDS[name]}")
        expected = 4 * int(np.prod(shape, dtype=np.int64))
        if len(blob) != expected:
            raise WireError(f"array {name!r} has {len(blob)} bytes, expected {expected} for shape {shape}")
        arrays[name] = np.frombuffer(blob, dtype=_DTYPE).reshape(shape).astype(np.float32)
    return arrays
