"""The ZeroMQ wire format of the live stream, schemas ``semgcn.pose/1`` and ``semgcn.pose/2``
(docs/stream_format.md).

One multipart message per processed frame:

  part 0  topic, ASCII: ``b"pose"`` (subscribers filter on it)
  part 1  header, UTF-8 JSON object (the fields below and ``realtime.core.records.FrameResult``)
  part 2+ one part per entry of ``header["arrays"]``, in that order: the raw little-endian bytes of
          a C-contiguous array with that entry's ``name``, ``dtype`` (``"<f4"``) and ``shape``.

Version 1 (a pipeline that follows one person, the default) carries at most one person: its arrays
are the message's arrays (``keypoints_2d`` (16, 2) px, ``confidence`` (16,), ``joints_3d`` (16, 3) m,
camera frame, pelvis at the origin; optional ``root_translation``, ``joints_world`` and more), and
its ``scale`` / ``position`` are header fields. Version 2 (``--max-people`` above 1) carries a list of
people: ``header["people"]`` = ``[{"id", "scale", "position"}, ...]`` and every person's arrays name
their person by index (``{"name": "joints_3d", "person": 0, ...}``); an array without ``person``
belongs to the frame. A frame with nobody in it is published all the same (``has_person: false``), so
that a consumer can tell "nobody there" from "stream stalled". Unknown arrays and header fields are
kept: consumers ignore what they do not know. A v1 reader refuses v2 messages by their major version
instead of misreading them.

``encode(result)`` builds the message of a ``FrameResult`` once (``result.encoded`` keeps it, so that
the publisher and the recorder share it); ``decode(parts)`` gives a ``FrameResult`` back (either version).
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
SCHEMA_NAME = "semgcn.pose"
SCHEMA = f"{SCHEMA_NAME}/1"
SCHEMA_V2 = f"{SCHEMA_NAME}/2"
MAJORS = ("1", "2")
UNITS = "m"
FRAME_OF_REFERENCE = "camera, OpenCV axes (x right, y down, z forward), pelvis at origin"
_PERSON_HEADER_FIELDS = ("scale", "position")
#: Arrays a version 2 person must have.
_REQUIRED_PERSON_ARRAYS = ("keypoints_2d", "confidence", "joints_3d")

#: The old name of the decoded frame type: a decoded message is a ``FrameResult``.
Frame = FrameResult


@dataclass
class WireMessage:
    """A frame's message in both forms: the header, the arrays in the order of ``header["arrays"]``
    (for the recorder), and the parts."""

    header: dict[str, Any]
    arrays: list[np.ndarray]
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
    specs, arrays = [], []

    def add(name: str, value, person: int | None = None) -> None:
        arr = np.ascontiguousarray(value, dtype=_DTYPE)
        specs.append({"name": name, "dtype": _DTYPE, "shape": list(arr.shape),
                      **({} if person is None else {"person": person})})
        arrays.append(arr)

    header = dict(result.header)
    header.pop("people", None)  # a v1 frame decoded from v2 (or the other way) gets its own layout
    v2 = result.wire_major == 2
    for name, value in result.extra_arrays.items():
        add(name, value)
    if v2:
        header["people"] = [_person_header(p) for p in result.people]
        for index, person in enumerate(result.people):
            for name, value in person_arrays(person).items():
                add(name, value, index)
    elif result.people:
        person = result.people[0]
        for name, value in person_arrays(person).items():
            add(name, value)
        header.update({k: getattr(person, k) for k in _PERSON_HEADER_FIELDS if getattr(person, k) is not None})
    _frame_fields(result, header)
    header.update(schema=SCHEMA_V2 if v2 else SCHEMA, has_person=bool(result.people), arrays=specs)
    parts = [TOPIC, json.dumps(header, separators=(",", ":")).encode("utf-8"), *(a.tobytes() for a in arrays)]
    return WireMessage(header, arrays, parts)


def _person_header(person: PersonPose) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": int(person.id)}
    entry.update({k: getattr(person, k) for k in _PERSON_HEADER_FIELDS if getattr(person, k) is not None})
    return entry


def _frame_fields(result: FrameResult, header: dict[str, Any]) -> None:
    for name, value in (("seq", result.seq), ("backends", result.backends), ("smoothing", result.smoothing),
                        ("error", result.error), ("latency_ms", result.latency_ms), ("camera", result.camera),
                        ("world_frame", result.world_frame)):
        if value is not None:
            header[name] = value
    if result.timings_ms:
        header["timings_ms"] = {k: round(v, 3) for k, v in result.timings_ms.items()}
    if result.dropped_at_source is not None:
        header["dropped"] = {"at_source": int(result.dropped_at_source)}
    header.update(frame_index=int(result.frame_index), t_capture=float(result.t_capture),
                  t_publish=float(result.t_publish or time.time()),
                  image_size=[int(result.image_size[0]), int(result.image_size[1])], source=str(result.source),
                  joint_names=list(JOINT_NAMES), units=UNITS, frame_of_reference=FRAME_OF_REFERENCE)


def decode(parts: list[bytes]) -> FrameResult:
    """Parse the parts of one multipart message (version 1 or 2) into a ``FrameResult``.

    Everything is checked against ``realtime.stream.limits`` (types, ranges, sizes, nesting, finite
    joints), so that what comes back is safe to use. The result keeps the whole header in ``header``
    and its message in ``encoded``, so that encoding it again (the recorder, a bridge republishing)
    gives back the very message received.

    Raises:
        WireError: with a one-line reason, for anything that is not a valid frame of these schemas;
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
        raise WireError(f"foreign schema {limits.shown(schema)} (expected {SCHEMA_NAME}/1 or /2)")
    if major not in MAJORS:
        raise WireError(f"schema {schema!r} has another major version than this reader ({SCHEMA}, {SCHEMA_V2})")
    specs, arrays = limits.arrays(header.get("arrays", []), parts[2:], people=_people_count(header, major))
    result = _frame_from(header)
    result.wire_major = int(major)
    if major == "2":
        result.people, result.extra_arrays = _people_v2(header, specs, arrays)
    else:
        result.people = _person_v1(header, specs, arrays, result)
    has_person = limits.optional(header, "has_person", bool)
    if has_person is not None and has_person != bool(result.people):
        raise WireError("header has_person disagrees with the arrays sent")
    result.encoded = WireMessage(header, arrays, parts)
    return result


def _people_count(header: dict, major: str) -> int:
    if major == "1":
        return 0
    people = header.get("people")
    if not isinstance(people, list) or len(people) > limits.MAX_PEOPLE:
        raise WireError(f"header field 'people' must be a list of at most {limits.MAX_PEOPLE} entries")
    return len(people)


def _frame_from(header: dict) -> FrameResult:
    low, high = limits.TIME_RANGE_S
    dropped = limits.optional(header, "dropped", dict)
    return FrameResult(
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


def _person_from(named: dict[str, np.ndarray], entry: dict, person_id: int) -> PersonPose:
    return PersonPose(id=person_id, **{k: named[k] for k in PERSON_ARRAY_FIELDS if k in named},
                      scale=limits.optional(entry, "scale", dict), position=limits.optional(entry, "position", dict),
                      extra_arrays={k: v for k, v in named.items() if k not in PERSON_ARRAY_FIELDS})


def _person_v1(header: dict, specs: list[dict], arrays: list[np.ndarray], result: FrameResult) -> list[PersonPose]:
    named = {spec["name"]: array for spec, array in zip(specs, arrays)}
    if "joints_3d" not in named:
        result.extra_arrays = named
        return []
    return [_person_from(named, header, 0)]


def _people_v2(header: dict, specs: list[dict],
               arrays: list[np.ndarray]) -> tuple[list[PersonPose], dict[str, np.ndarray]]:
    entries = header["people"]
    named: list[dict[str, np.ndarray]] = [{} for _ in entries]
    frame_level = {}
    for spec, array in zip(specs, arrays):
        (frame_level if spec.get("person") is None else named[spec["person"]])[spec["name"]] = array
    people, ids = [], set()
    for entry, arrays_of in zip(entries, named):
        if not isinstance(entry, dict):
            raise WireError(f"a 'people' entry must be an object, got {limits.shown(entry)}")
        person_id = limits.integer(entry, "id", high=2**31)
        if person_id in ids:
            raise WireError(f"person id {person_id} is sent twice")
        missing = [k for k in _REQUIRED_PERSON_ARRAYS if k not in arrays_of]
        if missing:
            raise WireError(f"person {person_id} lacks the arrays {missing}")
        ids.add(person_id)
        people.append(_person_from(arrays_of, entry, person_id))
    return people, frame_level
