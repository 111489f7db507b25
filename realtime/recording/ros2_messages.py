"""The ROS 2 messages of the skeleton: ``geometry_msgs/PoseArray`` and ``visualization_msgs/MarkerArray``
(and ``tf2_msgs/TFMessage`` for bags), one builder for every ROS type system.

The live bridge (``realtime.bridges.ros2``) builds rclpy messages and the bag export
(``realtime.recording.ros2bag``) builds rosbags messages, from the same ``SkeletonScene`` and the
same functions here: each takes ``make(type_name, **fields)``, which constructs a message of that ROS
type in the caller's type system, so both outputs carry the same fields by construction.

Per frame:

* ``/semgcn/joints`` (PoseArray): the 16 joints of one person in skeleton order (shared/SKELETON.md),
  the person chosen by ``realtime.core.person_choice`` (``first``: tracked the longest), so that a
  single-person robot reads the same 16 poses whatever the number of people; none when that person
  is not in view. Orientations from ``realtime.core.skeleton_scene.joint_orientations``. Header: the
  capture time and the scene's frame (``camera_optical``, or ``world`` / ``world_y_up``).
* ``/semgcn/person_<id>/joints`` (PoseArray), multi-person streams only: each person's own 16 joints
  on a topic named by their track id (PoseArray has no field for an id), as long as they are in
  view, then empty PoseArrays while their markers are being deleted; then the topic goes.
* ``/semgcn/markers`` (MarkerArray): per person, namespace ``person_<id>``: id 0 a ``SPHERE_LIST`` of
  the joints, id 1 a ``LINE_LIST`` of the 15 bones coloured by side (in the person's own hue with
  several people); lifetime 1 s, so a stalled stream never leaves a frozen skeleton. A person who left gets ``DELETE`` for both ids (repeated
  for a second of frames, so one lost message cannot keep a skeleton standing).
"""
from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from realtime.core.skeleton_scene import (BONE_PAIRS, BONE_WIDTH_M, JOINT_COLOUR, JOINT_DIAMETER_M,
                                          LIFETIME_S, PersonInScene, SkeletonScene, Transform, person_name)

JOINTS_TOPIC = "/semgcn/joints"
MARKERS_TOPIC = "/semgcn/markers"
TF_TOPIC, TF_STATIC_TOPIC = "/tf", "/tf_static"
POSE_ARRAY = "geometry_msgs/msg/PoseArray"
MARKER_ARRAY = "visualization_msgs/msg/MarkerArray"
TF_MESSAGE = "tf2_msgs/msg/TFMessage"
# visualization_msgs/Marker constants (Marker.msg)
SPHERE_LIST, LINE_LIST = 7, 5
ADD, DELETE = 0, 2
JOINTS_MARKER_ID, BONES_MARKER_ID = 0, 1

#: ``make(ros_type_name, **fields) -> message``: unnamed fields take their ROS defaults.
Make = Callable[..., Any]


def person_topic(person_id: int) -> str:
    """One person's joints topic in a multi-person stream: ``/semgcn/person_<id>/joints``."""
    return f"/semgcn/{person_name(person_id)}/joints"


def pose_array(make: Make, scene: SkeletonScene, people: list[PersonInScene] | None = None):
    """The PoseArray of ``people`` (default: every person of the scene), their joints in order."""
    poses = [make("geometry_msgs/msg/Pose", position=_point(make, p), orientation=_quaternion(make, q))
             for person in (scene.people if people is None else people)
             for p, q in zip(person.positions.tolist(), person.orientations.tolist())]
    return make(POSE_ARRAY, header=header(make, scene.stamp_ns, scene.frame_id), poses=poses)


def chosen_pose_array(make: Make, scene: SkeletonScene, chosen_id: int | None):
    """``/semgcn/joints``: the chosen person's 16 joints, or no pose when they are not drawn."""
    return pose_array(make, scene, [p for p in scene.people if chosen_id is not None and p.id == chosen_id])


def person_pose_arrays(make: Make, scene: SkeletonScene) -> dict[int, Any]:
    """Per person id, the PoseArray of their own topic (``person_topic``): their joints while drawn, an
    empty one while they are in ``scene.departed``. An id missing here has no topic any more."""
    arrays = {person.id: pose_array(make, scene, [person]) for person in scene.people}
    arrays.update((person_id, pose_array(make, scene, [])) for person_id in scene.departed_ids)
    return arrays


def marker_array(make: Make, scene: SkeletonScene):
    """The MarkerArray of a scene: joints and bones of each person, deletions for those who left."""
    head = header(make, scene.stamp_ns, scene.frame_id)
    fixed = _constant_fields(make)
    markers = []
    for name in scene.departed:
        markers += [make("visualization_msgs/msg/Marker", header=head, ns=name, id=marker_id, action=DELETE)
                    for marker_id in (JOINTS_MARKER_ID, BONES_MARKER_ID)]
    for person in scene.people:
        points = [_point(make, p) for p in person.positions.tolist()]
        common = dict(header=head, ns=person.name, action=ADD, pose=fixed["pose"], color=fixed["white"],
                      lifetime=fixed["lifetime"], frame_locked=False)
        markers.append(make("visualization_msgs/msg/Marker", id=JOINTS_MARKER_ID, type=SPHERE_LIST,
                            scale=fixed["joint_scale"], points=points, **common))
        markers.append(make("visualization_msgs/msg/Marker", id=BONES_MARKER_ID, type=LINE_LIST,
                            scale=fixed["bone_scale"], points=[points[i] for pair in BONE_PAIRS for i in pair],
                            colors=_bone_colours(make, person.bone_colours), **common))
    return make(MARKER_ARRAY, markers=markers)


@lru_cache(maxsize=4)
def _constant_fields(make: Make) -> dict[str, Any]:
    """The fields every marker shares, built once per type system (messages are never modified after
    they are built, so sharing them between messages is safe and saves a third of the time)."""
    return {"pose": _identity_pose(make), "white": _colour(make, JOINT_COLOUR),
            "lifetime": _duration(make, LIFETIME_S), "joint_scale": _vector(make, (JOINT_DIAMETER_M,) * 3),
            "bone_scale": _vector(make, (BONE_WIDTH_M, 0.0, 0.0))}  # LINE_LIST: scale.x is the line width


@lru_cache(maxsize=64)
def _bone_colours(make: Make, colours: tuple) -> list:
    """Per line point (both ends of each bone), the bone's colour: by side, or the person's own hue."""
    return [c for c in (_colour(make, rgb) for rgb in colours) for _ in range(2)]


def tf_message(make: Make, transforms: list[Transform], stamp_ns: int):
    """A TFMessage of ``transforms``, stamped ``stamp_ns``."""
    stamped = []
    for t in transforms:
        transform = make("geometry_msgs/msg/Transform", translation=_vector(make, t.translation.tolist()),
                         rotation=_quaternion(make, t.rotation.tolist()))
        stamped.append(make("geometry_msgs/msg/TransformStamped", header=header(make, stamp_ns, t.parent),
                            child_frame_id=t.child, transform=transform))
    return make(TF_MESSAGE, transforms=stamped)


def header(make: Make, stamp_ns: int, frame_id: str):
    sec, nanosec = divmod(int(stamp_ns), 1_000_000_000)
    return make("std_msgs/msg/Header", stamp=make("builtin_interfaces/msg/Time", sec=sec, nanosec=nanosec),
                frame_id=frame_id)


def _duration(make: Make, seconds: float):
    sec, nanosec = divmod(int(round(seconds * 1e9)), 1_000_000_000)
    return make("builtin_interfaces/msg/Duration", sec=sec, nanosec=nanosec)


def _point(make: Make, p):
    return make("geometry_msgs/msg/Point", x=float(p[0]), y=float(p[1]), z=float(p[2]))


def _vector(make: Make, v):
    return make("geometry_msgs/msg/Vector3", x=float(v[0]), y=float(v[1]), z=float(v[2]))


def _quaternion(make: Make, q):
    return make("geometry_msgs/msg/Quaternion", x=float(q[0]), y=float(q[1]), z=float(q[2]), w=float(q[3]))


def _identity_pose(make: Make):
    return make("geometry_msgs/msg/Pose", position=_point(make, (0.0, 0.0, 0.0)),
                orientation=_quaternion(make, (0.0, 0.0, 0.0, 1.0)))


def _colour(make: Make, rgb, alpha: float = 1.0):
    return make("std_msgs/msg/ColorRGBA", r=float(rgb[0]), g=float(rgb[1]), b=float(rgb[2]), a=float(alpha))
