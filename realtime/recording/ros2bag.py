"""A recorded session as a ROS 2 bag: ``python -m tools.export_session SESSION --to ros2bag``.

The bag is what ``ros2 bag record -s mcap`` writes: a folder with ``metadata.yaml`` and one MCAP file
(profile ``ros2``, schemas ``ros2msg``, messages ``cdr``, the ``rosbag2`` metadata record, each
channel's ``offered_qos_profiles``), written with rosbags (``rosbags.rosbag2.Writer``, bag format
version 9 of Jazzy and later) and its ROS 2 Jazzy message definitions (PoseArray and MarkerArray are
the same on the wire in Humble, which lacks only the ARROW_STRIP constant). Topics:

* ``/semgcn/joints`` (PoseArray) and ``/semgcn/markers`` (MarkerArray): the live bridge's messages
  (``realtime.recording.ros2_messages``), one per recorded frame, at its capture time; ``/semgcn/joints``
  holds the chosen person (``person``, as ``--ros2-person``);
* ``/semgcn/person_<id>/joints`` (PoseArray), for a multi-person session: each person's own joints
  while in view, then empty PoseArrays while their markers are deleted, as the live bridge publishes
  them (a bag keeps a topic for good: it just has no more messages after that);
* ``/tf_static``: ``camera -> camera_optical``; ``/tf``: ``world -> camera`` for the frames that had a
  world frame, so RViz can show the skeleton in any of the frames.

Orientations come from the skeleton the session carries (recorded with a rotation consumer) or are
solved here from the recorded joints, as ``python -m realtime.bridges.ros2 --session`` does.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from realtime.core.person_choice import FIRST, PersonSelector
from realtime.core.skeleton_scene import SceneBuilder
from realtime.core.skeleton_stage import SkeletonSource
from realtime.recording.ros2_messages import (JOINTS_TOPIC, MARKER_ARRAY, MARKERS_TOPIC, POSE_ARRAY, TF_MESSAGE,
                                              TF_STATIC_TOPIC, TF_TOPIC, chosen_pose_array, marker_array,
                                              person_pose_arrays, person_topic, tf_message)
from realtime.recording.session_reader import Session

BAG_VERSION = 9
INSTALL_HINT = "pip install rosbags (in requirements.txt)"


def export_ros2bag(session: Session, out: Path, frame: str = "auto", person: str | int = FIRST) -> Path:
    """Write ``session`` as a ROS 2 bag folder ``out`` (it must not exist yet); returns ``out``.
    ``person``: whose joints ``/semgcn/joints`` holds when several people are in view.

    Raises:
        ImportError: without rosbags (the message says what to install).
        ValueError: ``out`` exists (rosbags never overwrites a bag).
    """
    try:
        from rosbags.rosbag2 import StoragePlugin, Writer, WriterError
        from rosbags.typesys import Stores, get_typestore
    except ImportError as exc:
        raise ImportError(f"--to ros2bag needs rosbags: {INSTALL_HINT} ({exc})") from None
    typestore = get_typestore(Stores.ROS2_JAZZY)
    try:
        writer = Writer(out, version=BAG_VERSION, storage_plugin=StoragePlugin.MCAP)
    except WriterError as exc:
        raise ValueError(str(exc)) from None
    writer.open()
    try:
        _write_frames(session, _Topics(writer, typestore), _maker(typestore), SceneBuilder(frame),
                      PersonSelector(person))
    finally:
        writer.close()
    return out


class _Topics:
    """The bag's connections: the fixed topics from the start, a person's joints topic when they
    first appear (a bag keeps it to the end)."""

    def __init__(self, writer, typestore):
        live, static, tf = _qos(typestore)
        self._writer, self._typestore, self._live = writer, typestore, live
        self._types = {JOINTS_TOPIC: (POSE_ARRAY, live), MARKERS_TOPIC: (MARKER_ARRAY, live),
                       TF_STATIC_TOPIC: (TF_MESSAGE, static), TF_TOPIC: (TF_MESSAGE, tf)}
        self._connections = {}
        for topic in list(self._types):
            self._connect(topic)

    def _connect(self, topic: str) -> None:
        msgtype, qos = self._types.setdefault(topic, (POSE_ARRAY, self._live))  # new: a person's joints
        self._connections[topic] = self._writer.add_connection(topic, msgtype, typestore=self._typestore,
                                                               offered_qos_profiles=[qos])

    def write(self, topic: str, message, stamp_ns: int) -> None:
        if topic not in self._connections:
            self._connect(topic)
        data = self._typestore.serialize_cdr(message, self._types[topic][0])
        self._writer.write(self._connections[topic], stamp_ns, data)


def _write_frames(session: Session, topics: _Topics, make, builder: SceneBuilder, selector: PersonSelector) -> None:
    """Every recorded frame's messages, as the live bridge publishes them."""
    skeletons = SkeletonSource()  # the recorded skeleton of each person, else one solved from the joints
    for index, frame_result in enumerate(session.frames):
        skeletons.people(frame_result)
        scene = builder.build(frame_result)
        stamp = scene.stamp_ns
        static_tf, moving_tf = scene.transforms[:1], scene.transforms[1:]
        if index == 0:
            topics.write(TF_STATIC_TOPIC, tf_message(make, static_tf, stamp), stamp)
        if moving_tf:
            topics.write(TF_TOPIC, tf_message(make, moving_tf, stamp), stamp)
        chosen = selector.choose(frame_result)
        topics.write(JOINTS_TOPIC, chosen_pose_array(make, scene, None if chosen is None else chosen.id), stamp)
        topics.write(MARKERS_TOPIC, marker_array(make, scene), stamp)
        if frame_result.several_people:
            for person_id, message in person_pose_arrays(make, scene).items():
                topics.write(person_topic(person_id), message, stamp)


def _qos(typestore) -> tuple[Any, Any, Any]:
    """Offered QoS of the topics, which ``ros2 bag play`` republishes with: the live bridge's for the
    pose topics; the tf convention (RELIABLE, TRANSIENT_LOCAL depth 1 for ``/tf_static``, VOLATILE
    depth 100 for ``/tf``)."""
    from rosbags.interfaces import Qos, QosDurability, QosHistory, QosLiveliness, QosReliability, QosTime

    def qos(depth: int, durability):
        never = QosTime(0, 0)  # 0/0: the DDS "infinite" default, as rosbag2 records it
        return Qos(QosHistory.KEEP_LAST, depth, QosReliability.RELIABLE, durability, never, never,
                   QosLiveliness.AUTOMATIC, never, False)
    return qos(1, QosDurability.VOLATILE), qos(1, QosDurability.TRANSIENT_LOCAL), qos(100, QosDurability.VOLATILE)


def _maker(typestore):
    """``make(type_name, **fields)`` for rosbags' message classes: the fields not given take their ROS
    defaults (rosbags' dataclasses want every field, rclpy's fill them in)."""
    classes, fielddefs = typestore.types, typestore.fielddefs

    def make(type_name: str, **fields):
        cls = classes[type_name]
        for name, (node_type, detail) in fielddefs[type_name][1]:
            if name not in fields:
                fields[name] = _default(node_type, detail, make)
        return cls(**fields)
    return make


_BASE_DEFAULTS = {"string": "", "bool": False, "float32": 0.0, "float64": 0.0}


def _default(node_type, detail, make):
    """The ROS default of a field given rosbags' field definition (base type, message, sequence, array)."""
    from rosbags.interfaces import Nodetype

    if node_type == Nodetype.BASE:
        return _BASE_DEFAULTS.get(detail[0], 0)
    if node_type == Nodetype.NAME:
        return make(detail)
    (inner_type, inner_detail), length = detail
    count = length if node_type == Nodetype.ARRAY else 0
    if inner_type == Nodetype.BASE and inner_detail[0] != "string":  # rosbags keeps primitive arrays in numpy
        name = inner_detail[0]
        return np.zeros(count, dtype=np.dtype({"byte": "uint8", "char": "uint8", "octet": "uint8"}.get(name, name)))
    return [_default(inner_type, inner_detail, make) for _ in range(count)]
