"""Foxglove messages of the skeleton: ``foxglove.SceneUpdate`` and ``foxglove.FrameTransform``.

The Foxglove app draws these schemas in its 3D panel with no plugin. Built and encoded with
``foxglove-sdk`` (``foxglove.messages``: Foxglove's own typed schemas and their protobuf encoding,
the schema is the SDK's FileDescriptorSet), from the protocol-free ``realtime.core.skeleton_scene``:

* ``/semgcn/scene`` (``foxglove.SceneUpdate``): one ``SceneEntity`` per person (id ``person_<id>``,
  frame ``camera_optical``): a sphere per joint and one line list of the 15 bones, coloured by side (one person) or in
  the person's own hue (several, ``realtime.core.palette``);
  a person who left gets a ``SceneEntityDeletion`` (matching id), repeated for a second.
* ``/semgcn/tf`` (``foxglove.FrameTransform``): ``camera -> camera_optical`` every frame, and
  ``world -> camera`` once the calibration knows the floor.

Used by the recorder (extra MCAP channels beside ``/pose``) and the live WebSocket server
(``realtime.bridges.foxglove_ws``).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from realtime.core.records import FrameResult
from realtime.core.skeleton_scene import (BONE_PAIRS, BONE_WIDTH_M, JOINT_COLOUR, JOINT_DIAMETER_M,
                                          LIFETIME_S, SceneBuilder, SkeletonScene, Transform)

SCENE_TOPIC = "/semgcn/scene"
TF_TOPIC = "/semgcn/tf"
ENCODING = "protobuf"  # message encoding of both channels (the SDK's encode())


def _fox():
    """``foxglove.messages``, imported when first needed (the SDK is a compiled wheel)."""
    from foxglove import messages
    return messages


@dataclass
class EncodedMessage:
    """One message for a Foxglove channel: its topic, log time (ns) and protobuf bytes."""

    topic: str
    log_time_ns: int
    data: bytes


def schemas() -> dict[str, tuple[str, str, bytes]]:
    """Per topic: ``(schema name, schema encoding, schema data)`` as the SDK defines them."""
    fox = _fox()
    out = {}
    for topic, cls in ((SCENE_TOPIC, fox.SceneUpdate), (TF_TOPIC, fox.FrameTransform)):
        schema = cls.get_schema()
        out[topic] = (schema.name, schema.encoding, bytes(schema.data))
    return out


class FoxgloveScene:
    """Per frame: the ``SceneUpdate`` and ``FrameTransform`` messages of the skeleton (encoded).

    A frame is encoded once however many consumers ask (``result.encodings["foxglove"]``): with
    ``--record`` and ``--foxglove`` the recorder and the server share the bytes (0.1 ms a frame for one
    person, 0.2 for three, on the pipeline thread).
    """

    def __init__(self):
        self.builder = SceneBuilder(frame="camera")  # joints in camera_optical; the transforms do the rest

    def encode(self, result: FrameResult) -> list[EncodedMessage]:
        cached = result.encodings.get("foxglove")
        if cached is None:
            cached = result.encodings["foxglove"] = self._encode(result)
        return cached

    def _encode(self, result: FrameResult) -> list[EncodedMessage]:
        scene = self.builder.build(result)
        messages = [EncodedMessage(SCENE_TOPIC, scene.stamp_ns, scene_update(scene).encode())]
        messages += [EncodedMessage(TF_TOPIC, scene.stamp_ns, frame_transform(t, scene.stamp_ns).encode())
                     for t in scene.transforms]
        return messages


def scene_update(scene: SkeletonScene):
    """The ``foxglove.SceneUpdate`` of one scene: an entity per person, a deletion per departed one."""
    fox = _fox()
    stamp = _timestamp(scene.stamp_ns)
    entities = [_entity(fox, person, scene.frame_id, stamp) for person in scene.people]
    deletions = [fox.SceneEntityDeletion(timestamp=stamp, type=fox.SceneEntityDeletionType.MatchingId, id=name)
                 for name in scene.departed]
    return fox.SceneUpdate(deletions=deletions, entities=entities)


def _entity(fox, person, frame_id: str, stamp):
    positions = person.positions.tolist()
    size, white = _vector(fox, (JOINT_DIAMETER_M,) * 3), _colour(fox, JOINT_COLOUR)  # shared: the SDK copies them
    spheres = [fox.SpherePrimitive(pose=fox.Pose(position=fox.Vector3(x=x, y=y, z=z), orientation=_quaternion(fox, q)),
                                   size=size, color=white)
               for (x, y, z), q in zip(positions, person.orientations.tolist())]
    # One LINE_LIST: two points per bone (parent, child), each coloured by the bone's side.
    points = [fox.Point3(x=x, y=y, z=z) for x, y, z in positions]
    bones = fox.LinePrimitive(type=fox.LinePrimitiveLineType.LineList, pose=_pose(fox, (0.0, 0.0, 0.0)),
                              thickness=BONE_WIDTH_M, scale_invariant=False,
                              points=[points[i] for pair in BONE_PAIRS for i in pair], color=white,
                              colors=_bone_colours(fox, person.bone_colours), indices=[])
    return fox.SceneEntity(timestamp=stamp, frame_id=frame_id, id=person.name,
                           lifetime=fox.Duration.from_secs(LIFETIME_S), frame_locked=False,
                           metadata=[fox.KeyValuePair(key="person_id", value=str(person.id))],
                           spheres=spheres, lines=[bones])


@lru_cache(maxsize=64)
def _bone_colours(fox, colours: tuple) -> list:
    """Per line point (both ends of each bone), the bone's colour; built once per palette."""
    return [c for c in (_colour(fox, rgb) for rgb in colours) for _ in range(2)]


def frame_transform(transform: Transform, stamp_ns: int):
    """The ``foxglove.FrameTransform`` of one transform."""
    fox = _fox()
    x, y, z = (float(v) for v in transform.translation)
    qx, qy, qz, qw = (float(v) for v in transform.rotation)
    return fox.FrameTransform(timestamp=_timestamp(stamp_ns), parent_frame_id=transform.parent,
                              child_frame_id=transform.child, translation=fox.Vector3(x=x, y=y, z=z),
                              rotation=fox.Quaternion(x=qx, y=qy, z=qz, w=qw))


def _timestamp(ns: int):
    sec, nsec = divmod(int(ns), 1_000_000_000)
    return _fox().Timestamp(sec, nsec)


def _pose(fox, position, orientation=(0.0, 0.0, 0.0, 1.0)):
    return fox.Pose(position=_vector(fox, position), orientation=_quaternion(fox, orientation))


def _quaternion(fox, q):
    return fox.Quaternion(x=q[0], y=q[1], z=q[2], w=q[3])


def _vector(fox, v):
    return fox.Vector3(x=float(v[0]), y=float(v[1]), z=float(v[2]))


def _colour(fox, rgb, alpha: float = 1.0):
    return fox.Color(r=rgb[0], g=rgb[1], b=rgb[2], a=alpha)
