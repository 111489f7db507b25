"""What a ``semgcn.pose`` message may contain: the limits ``realtime.stream.wire.decode`` enforces.

Anything a subscriber receives may be hostile: a foreign program on the same port, a truncated
message, a fuzzer. Every check here raises ``WireError`` with a one-line reason, so that a consumer
can count the message, report it and go on; nothing else escapes, and what passes is safe to use:
finite times in a plausible range, integers where integers belong, bounded sizes, nesting and part
counts, and finite joints of plausible magnitude.
"""
from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from realtime.core.records import PERSON_ARRAY_FIELDS
from realtime.core.skeleton_stage import LANDMARK_SHAPES, SKELETON_SHAPES
from semgcn.skeleton import NUM_JOINTS

MAX_HEADER_BYTES = 1 << 16
MAX_ARRAYS = 256                     # parts after the header
MAX_PEOPLE = 16                      # people in one version 2 message
MAX_ARRAY_VALUES = 1 << 16           # float32 values in one array (256 KiB)
MAX_ARRAY_DIMS = 4
MAX_NAME_CHARS = 64
MAX_NESTING = 16                     # JSON objects and lists inside each other in the header
MAX_INDEX = 2**53                    # frame indices and counters: exact in a JSON number (a double)
TIME_RANGE_S = (0.0, 1e10)           # UNIX seconds: 1970 to the year 2286
MAX_IMAGE_SIDE = 1 << 15             # pixels
MAX_METRES = 1e4                     # |coordinate| of any 3D array: 10 km, far beyond any camera's view
MAX_PIXELS = 1e6                     # |coordinate| of 2D keypoints (off-image is fine, absurd is not)
DTYPE = "<f4"
#: The optional arrays the project's own stages add (docs/stream_format.md): checked like the
#: standard ones when present; any other name passes as it is (the schema grows without a new major).
KNOWN_ARRAYS: dict[str, tuple[int, ...]] = {
    **PERSON_ARRAY_FIELDS,
    "gt_joints_3d": (NUM_JOINTS, 3), "gt_keypoints_2d": (NUM_JOINTS, 2), "gt_root_translation": (3,),
    **LANDMARK_SHAPES, **SKELETON_SHAPES,
}


class WireError(ValueError):
    """A message that is not a valid ``semgcn.pose`` frame (malformed, foreign or a newer major)."""


def parse_header(blob: bytes) -> dict[str, Any]:
    """The header part as a JSON object of bounded size and nesting."""
    if len(blob) > MAX_HEADER_BYTES:
        raise WireError(f"header of {len(blob)} bytes is too large (at most {MAX_HEADER_BYTES})")
    try:
        header = json.loads(blob.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        raise WireError(f"header is not UTF-8 JSON: {type(exc).__name__}: {str(exc)[:120]}") from None
    if not isinstance(header, dict):
        raise WireError("header is not a JSON object")
    if _depth(header) > MAX_NESTING:
        raise WireError(f"header nests deeper than {MAX_NESTING} levels")
    return header


def _depth(value: Any, level: int = 1) -> int:
    if level > MAX_NESTING:  # stop early: the answer is "too deep" already
        return level
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return max((_depth(child, level + 1) for child in children), default=level)


def integer(header: dict, key: str, low: int = 0, high: int = MAX_INDEX, required: bool = True) -> int | None:
    value = header.get(key)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise WireError(f"header field {key!r} must be an integer from {low} to {high}, got {shown(value)}")
    return value


def number(header: dict, key: str, low: float, high: float, required: bool = True) -> float | None:
    value = header.get(key)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not low <= value <= high:
        raise WireError(f"header field {key!r} must be a finite number from {low:g} to {high:g}, got {shown(value)}")
    return float(value)


def optional(header: dict, key: str, kind: type) -> Any:
    """``header[key]`` when it is a ``kind`` (``dict``, ``str``, ``bool``), None when absent."""
    value = header.get(key)
    if value is not None and (not isinstance(value, kind) or (kind is not bool and isinstance(value, bool))):
        raise WireError(f"header field {key!r} must be a {kind.__name__}, got {shown(value)}")
    return value


def image_size(header: dict) -> tuple[int, int]:
    size = header.get("image_size")
    if not isinstance(size, list) or len(size) != 2 or \
            any(isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= MAX_IMAGE_SIDE for v in size):
        raise WireError(f"header field 'image_size' must be [w, h], integers from 1 to {MAX_IMAGE_SIDE}, "
                        f"got {shown(size)}")
    return size[0], size[1]


def timings(header: dict) -> dict[str, float]:
    value = optional(header, "timings_ms", dict) or {}
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value.values()):
        raise WireError("header field 'timings_ms' must map stage names to finite numbers")
    return {str(k): float(v) for k, v in value.items()}


def arrays(specs: Any, blobs: list[bytes], people: int = 0) -> tuple[list[dict], list[np.ndarray]]:
    """The message's array entries and arrays, in order, each checked against its entry, and the
    project's own arrays for their content. ``people``: how many people a version 2 header lists (an
    entry's ``person`` must index one of them); 0 for version 1, whose entries name no person."""
    if not isinstance(specs, list) or len(specs) != len(blobs):
        raise WireError(f"header lists {len(specs) if isinstance(specs, list) else '?'} arrays "
                        f"but the message carries {len(blobs)}")
    if len(blobs) > MAX_ARRAYS:
        raise WireError(f"message carries {len(blobs)} arrays (at most {MAX_ARRAYS})")
    out, seen = [], set()
    for spec, blob in zip(specs, blobs):
        name, shape, person = _spec(spec, people)
        if (person, name) in seen:
            raise WireError(f"array {name!r} is sent twice" + (f" for person {person}" if person is not None else ""))
        seen.add((person, name))
        expected = 4 * math.prod(shape)
        if len(blob) != expected:
            raise WireError(f"array {name!r} has {len(blob)} bytes, expected {expected} for shape {shape}")
        array = np.frombuffer(blob, dtype=DTYPE).reshape(shape).astype(np.float32)
        if name in KNOWN_ARRAYS:
            _check_values(name, array)
        out.append(array)
    return specs, out


def _spec(spec: Any, people: int) -> tuple[str, tuple[int, ...], int | None]:
    if not isinstance(spec, dict):
        raise WireError(f"array entry must be an object, got {shown(spec)}")
    person = spec.get("person")
    if person is not None and (isinstance(person, bool) or not isinstance(person, int) or not 0 <= person < people):
        raise WireError(f"array entry's person must index the header's {people} people, got {shown(person)}")
    name, shape = spec.get("name"), spec.get("shape")
    if not isinstance(name, str) or not 0 < len(name) <= MAX_NAME_CHARS:
        raise WireError(f"array name must be a string of 1 to {MAX_NAME_CHARS} characters, got {shown(name)}")
    if spec.get("dtype") != DTYPE:
        raise WireError(f"array {name!r} has dtype {shown(spec.get('dtype'))}, expected {DTYPE!r}")
    if not isinstance(shape, list) or len(shape) > MAX_ARRAY_DIMS or \
            any(isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= MAX_ARRAY_VALUES for d in shape):
        raise WireError(f"array {name!r} has shape {shown(shape)}: expected at most {MAX_ARRAY_DIMS} sizes")
    if math.prod(shape) > MAX_ARRAY_VALUES:
        raise WireError(f"array {name!r} of shape {shape} is too large (at most {MAX_ARRAY_VALUES} values)")
    if name in KNOWN_ARRAYS and tuple(shape) != KNOWN_ARRAYS[name]:
        raise WireError(f"array {name!r} has shape {tuple(shape)}, expected {KNOWN_ARRAYS[name]}")
    return name, tuple(shape), person


def _check_values(name: str, array: np.ndarray) -> None:
    if not np.all(np.isfinite(array)):
        raise WireError(f"array {name!r} holds NaN or inf")
    if name == "confidence":
        low, limit = 0.0, 1.0
    elif name == "skeleton_local_rotations":
        low, limit = -1.0 - 1e-3, 1.0 + 1e-3  # quaternion components
    elif name in ("keypoints_2d", "gt_keypoints_2d", "landmarks"):
        low, limit = -MAX_PIXELS, MAX_PIXELS
    else:
        low, limit = -MAX_METRES, MAX_METRES
    if array.size and (array.min() < low or array.max() > limit):
        raise WireError(f"array {name!r} holds values outside [{low:g}, {limit:g}]")


def shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
