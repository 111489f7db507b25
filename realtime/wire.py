"""The ZeroMQ wire format of the live stream, schema ``semgcn.pose/1`` (docs/stream_format.md).

One multipart message per processed frame:

  part 0  topic, ASCII: ``b"pose"`` (subscribers filter on it)
  part 1  header, UTF-8 JSON object (see ``Frame`` for the fields)
  part 2+ one part per entry of ``header["arrays"]``, in that order: the raw little-endian bytes of
          a C-contiguous array with that entry's ``name``, ``dtype`` (``"<f4"``) and ``shape``.

A frame with nobody in it has ``has_person: false`` and no 2D / 3D arrays: it is published all the
same, so that a consumer can tell "nobody there" from "stream stalled".

Standard arrays: ``keypoints_2d`` (16, 2) pixels, ``confidence`` (16,), ``joints_3d`` (16, 3) metres,
camera frame (OpenCV axes), pelvis at the origin. Optional arrays added by later stages (calibration):
``root_translation`` (3,) metres, camera frame; ``joints_world`` (16, 3) metres in the world frame that
``header["world_frame"]`` names. Unknown arrays are kept in ``Frame.arrays``: consumers ignore what
they do not know, so the schema grows without breaking them. The major version in ``schema`` changes
only when a consumer of the old one would misread the new one.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from semgcn.skeleton import JOINT_NAMES, NUM_JOINTS

TOPIC = b"pose"
SCHEMA = "semgcn.pose/1"
SCHEMA_NAME, SCHEMA_MAJOR = SCHEMA.split("/")
_DTYPE = "<f4"
_MAX_HEADER_BYTES = 1 << 16
_KNOWN_SHAPES = {
    "keypoints_2d": (NUM_JOINTS, 2),
    "confidence": (NUM_JOINTS,),
    "joints_3d": (NUM_JOINTS, 3),
    "root_translation": (3,),
    "joints_world": (NUM_JOINTS, 3),
}


class WireError(ValueError):
    """A message that is not a valid ``semgcn.pose`` frame (malformed, foreign or a newer major)."""


@dataclass
class Frame:
    """One frame of the stream, decoded.

    Attributes:
        frame_index: index of the frame at the source (gaps mean the pipeline dropped frames).
        t_capture: wall-clock time (UNIX seconds) when the frame was captured.
        t_publish: wall-clock time (UNIX seconds) when the message was sent.
        image_size: ``(w, h)`` of the source image in pixels.
        source: a short description of the source ("webcam:0", "demo", a file name, ...).
        keypoints_2d: ``(16, 2)`` float32 pixels, or None when nobody is in the frame.
        confidence: ``(16,)`` float32 in [0, 1], or None.
        joints_3d: ``(16, 3)`` float32 metres, camera frame, pelvis at the origin, or None.
        joint_names: the joint names, in order (SKELETON.md).
        units: length unit of the 3D arrays (always "m").
        frame_of_reference: what ``joints_3d`` is relative to.
        arrays: every array of the message by name, including optional ones.
        header: the whole JSON header, for fields this class does not name (timings, calibration).
    """

    frame_index: int
    t_capture: float
    image_size: tuple[int, int]
    source: str = ""
    keypoints_2d: np.ndarray | None = None
    confidence: np.ndarray | None = None
    joints_3d: np.ndarray | None = None
    t_publish: float = 0.0
    joint_names: tuple[str, ...] = JOINT_NAMES
    units: str = "m"
    frame_of_reference: str = "camera, OpenCV axes (x right, y down, z forward), pelvis at origin"
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    header: dict[str, Any] = field(default_factory=dict)

    @property
    def has_person(self) -> bool:
        return self.joints_3d is not None

    @property
    def latency_s(self) -> float:
        """Capture-to-publish latency in seconds."""
        return self.t_publish - self.t_capture


def encode(frame: Frame, extra_header: dict[str, Any] | None = None, t_publish: float | None = None) -> list[bytes]:
    """Serialise ``frame`` into the parts of one ZeroMQ multipart message.

    Args:
        frame: the frame; its standard arrays and ``frame.arrays`` are sent.
        extra_header: more JSON fields (timings, calibration, dropped-frame counts...).
        t_publish: publish timestamp; now when None.
    """
    arrays: dict[str, np.ndarray] = dict(frame.arrays)
    for name in ("keypoints_2d", "confidence", "joints_3d"):
        value = getattr(frame, name)
        if value is not None:
            arrays[name] = value
        else:
            arrays.pop(name, None)
    specs, blobs = [], []
    for name, value in arrays.items():
        arr = np.ascontiguousarray(value, dtype=_DTYPE)
        specs.append({"name": name, "dtype": _DTYPE, "shape": list(arr.shape)})
        blobs.append(arr.tobytes())
    header = dict(frame.header)
    header.update(extra_header or {})
    header.update(
        schema=SCHEMA,
        frame_index=int(frame.frame_index),
        t_capture=float(frame.t_capture),
        t_publish=float(time.time() if t_publish is None else t_publish),
        image_size=[int(frame.image_size[0]), int(frame.image_size[1])],
        source=str(frame.source),
        has_person=frame.joints_3d is not None,
        joint_names=list(frame.joint_names),
        units=frame.units,
        frame_of_reference=frame.frame_of_reference,
        arrays=specs,
    )
    return [TOPIC, json.dumps(header, separators=(",", ":")).encode("utf-8"), *blobs]


def decode(parts: list[bytes]) -> Frame:
    """Parse the parts of one multipart message into a ``Frame``.

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
        frame = Frame(
            frame_index=int(header["frame_index"]),
            t_capture=float(header["t_capture"]),
            t_publish=float(header.get("t_publish", 0.0)),
            image_size=(int(header["image_size"][0]), int(header["image_size"][1])),
            source=str(header.get("source", "")),
            joint_names=tuple(header.get("joint_names", JOINT_NAMES)),
            units=str(header.get("units", "m")),
            frame_of_reference=str(header.get("frame_of_reference", "")),
            keypoints_2d=arrays.get("keypoints_2d"),
            confidence=arrays.get("confidence"),
            joints_3d=arrays.get("joints_3d"),
            arrays=arrays,
            header=header,
        )
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise WireError(f"malformed header field: {exc!r}") from None
    if bool(header.get("has_person", frame.joints_3d is not None)) != (frame.joints_3d is not None):
        raise WireError("header has_person disagrees with the arrays sent")
    return frame


def _decode_arrays(specs: list[dict], blobs: list[bytes]) -> dict[str, np.ndarray]:
    if not isinstance(specs, list) or len(specs) != len(blobs):
        raise WireError(f"header lists {len(specs) if isinstance(specs, list) else '?'} arrays "
                        f"but the message carries {len(blobs)}")
    arrays = {}
    for spec, blob in zip(specs, blobs):
        name, shape = str(spec["name"]), tuple(int(s) for s in spec["shape"])
        if spec.get("dtype") != _DTYPE:
            raise WireError(f"array {name!r} has dtype {spec.get('dtype')!r}, expected {_DTYPE!r}")
        if name in _KNOWN_SHAPES and shape != _KNOWN_SHAPES[name]:
            raise WireError(f"array {name!r} has shape {shape}, expected {_KNOWN_SHAPES[name]}")
        expected = 4 * int(np.prod(shape, dtype=np.int64))
        if len(blob) != expected:
            raise WireError(f"array {name!r} has {len(blob)} bytes, expected {expected} for shape {shape}")
        arrays[name] = np.frombuffer(blob, dtype=_DTYPE).reshape(shape).astype(np.float32)
    return arrays
