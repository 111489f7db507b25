"""Checking Foxglove messages against Foxglove's schemas, and frames placed in a calibrated world.

``REQUIRED_FIELDS`` is Foxglove's schema reference (docs.foxglove.dev, "Message schemas": every field
of these schemas is required; its JSON schemas list them all under ``required``), written down here
independently of the SDK that encodes our messages. ``decode`` turns protobuf bytes into a dict with
the schema that travelled with them (the FileDescriptorSet in the MCAP file or the WebSocket
advertisement) and ``check_schema`` walks it: every required field present, recursively (proto3 drops
an unset sub-message, so a missing pose or colour is caught), every number finite.
"""
from __future__ import annotations

import math

import numpy as np
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory

from calibration.camera_file import FloorPlane
from calibration.world import world_frame_from_floor
from tests.test_realtime.test_recording.session_fixtures import synthetic_frames

_XYZ, _XYZW, _RGBA = ("x", "y", "z"), ("x", "y", "z", "w"), ("r", "g", "b", "a")
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "foxglove.SceneUpdate": ("deletions", "entities"),
    "foxglove.SceneEntityDeletion": ("timestamp", "type", "id"),
    "foxglove.SceneEntity": ("timestamp", "frame_id", "id", "lifetime", "frame_locked", "metadata", "arrows",
                             "cubes", "spheres", "cylinders", "lines", "triangles", "texts", "models"),
    "foxglove.SpherePrimitive": ("pose", "size", "color"),
    "foxglove.LinePrimitive": ("type", "pose", "thickness", "scale_invariant", "points", "color", "colors",
                               "indices"),
    "foxglove.FrameTransform": ("timestamp", "parent_frame_id", "child_frame_id", "translation", "rotation"),
    "foxglove.KeyValuePair": ("key", "value"),
    "foxglove.Pose": ("position", "orientation"),
    "foxglove.Vector3": _XYZ, "foxglove.Point3": _XYZ, "foxglove.Quaternion": _XYZW, "foxglove.Color": _RGBA,
}
#: The sub-message types inside each schema, by field (to walk the decoded dicts).
_CHILDREN = {
    "foxglove.SceneUpdate": {"deletions": "foxglove.SceneEntityDeletion", "entities": "foxglove.SceneEntity"},
    "foxglove.SceneEntity": {"spheres": "foxglove.SpherePrimitive", "lines": "foxglove.LinePrimitive",
                             "metadata": "foxglove.KeyValuePair"},
    "foxglove.SpherePrimitive": {"pose": "foxglove.Pose", "size": "foxglove.Vector3", "color": "foxglove.Color"},
    "foxglove.LinePrimitive": {"pose": "foxglove.Pose", "points": "foxglove.Point3", "color": "foxglove.Color",
                               "colors": "foxglove.Color"},
    "foxglove.Pose": {"position": "foxglove.Vector3", "orientation": "foxglove.Quaternion"},
    "foxglove.FrameTransform": {"translation": "foxglove.Vector3", "rotation": "foxglove.Quaternion"},
}


def message_class(schema_name: str, schema_data: bytes):
    """The protobuf class of ``schema_name`` from a FileDescriptorSet (how Foxglove ships protobuf schemas)."""
    files = descriptor_pb2.FileDescriptorSet.FromString(bytes(schema_data))
    pool = descriptor_pool.DescriptorPool()
    for f in files.file:
        pool.Add(f)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(schema_name))


def decode(cls, data: bytes) -> dict:
    """Protobuf bytes -> dict with the proto field names; scalars at their defaults are kept, unset
    sub-messages are not (so ``check_schema`` sees them missing)."""
    message = cls.FromString(bytes(data))
    try:
        return json_format.MessageToDict(message, preserving_proto_field_name=True,
                                         including_default_value_fields=True)
    except TypeError:  # protobuf >= 5.26 renamed the option
        return json_format.MessageToDict(message, preserving_proto_field_name=True,
                                         always_print_fields_with_no_presence=True)


def check_schema(value: dict, type_name: str, path: str = "") -> None:
    """Assert that ``value`` has every field Foxglove's ``type_name`` requires, recursively, with finite numbers."""
    missing = [f for f in REQUIRED_FIELDS[type_name] if f not in value]
    assert not missing, f"{path or type_name}: missing required fields {missing}"
    for name, child_type in _CHILDREN.get(type_name, {}).items():
        items = value[name] if isinstance(value[name], list) else [value[name]]
        for i, item in enumerate(items):
            check_schema(item, child_type, f"{path}{name}[{i}].")
    for name, item in value.items():
        if isinstance(item, float):
            assert math.isfinite(item), f"{path}{name} = {item}"


def seconds(timestamp: str) -> float:
    """A protobuf JSON timestamp (RFC 3339, ``...Z``) -> UNIX seconds (to the microsecond)."""
    from datetime import datetime
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


def calibrated_frames(n: int, up: str = "z", world_from: int = 5):
    """``synthetic_frames`` placed 3 m in front of a camera 1.4 m above a tilted floor: each person
    gets ``root_translation`` and, from frame ``world_from`` on (a floor found after a while, as
    from foot contacts), ``joints_world`` and the frame's ``world_frame`` header."""
    normal = np.array([0.0, -1.0, -0.25]) / np.linalg.norm([0.0, -1.0, -0.25])
    world = world_frame_from_floor(FloorPlane(normal, 1.4, "board"), up)
    frames = synthetic_frames(n)
    for i, frame in enumerate(frames):
        frame.t_publish = frame.t_capture + 0.02
        frame.world_frame = world.header() if i >= world_from else {"name": None, "up": up, "status": "estimating"}
        for person in frame.people:
            person.root_translation = np.array([0.2, 0.3, 3.0], np.float32)
            if i >= world_from:
                absolute = person.joints_3d.astype(np.float64) + person.root_translation
                person.joints_world = world.to_world(absolute).astype(np.float32)
    return frames


def compose(translation, rotation_xyzw, points):
    """Points of a child frame in its parent, given the child's pose ``(translation, rotation)``."""
    from scipy.spatial.transform import Rotation
    return Rotation.from_quat(rotation_xyzw).apply(np.asarray(points, np.float64)) + np.asarray(translation)
