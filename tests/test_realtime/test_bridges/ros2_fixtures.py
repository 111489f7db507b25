"""A real rclpy subscriber for the ROS 2 tests, isolated from every other ROS 2 run.

Each test run takes a random ROS domain (1-100) and discovery limited to this machine
(``ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST``, what this rclpy, Kilted's rcl, reads; it no longer
reads ``ROS_LOCALHOST_ONLY``), so that parallel runs and other ROS 2 nodes never see each other.
``Listener`` spins its own context in a thread and is always shut down (``with``), so no node,
thread or context outlives a test.
"""
from __future__ import annotations

import os
import random
import threading
import time

import numpy as np

DOMAIN_ID = random.SystemRandom().randint(1, 100)
ENV = {**os.environ, "ROS_DOMAIN_ID": str(DOMAIN_ID), "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST",
       "PYTHONUNBUFFERED": "1"}


def rviz_default_qos():
    """RViz 2's display QoS (rviz_common RosTopicDisplay: ``rclcpp::QoS(5)``): RELIABLE, VOLATILE,
    KEEP_LAST 5."""
    from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=5, reliability=ReliabilityPolicy.RELIABLE,
                      durability=DurabilityPolicy.VOLATILE)


def sensor_data_qos():
    """rclpy's sensor-data profile (BEST_EFFORT, KEEP_LAST 5), what many robot nodes use."""
    from rclpy.qos import qos_profile_sensor_data
    return qos_profile_sensor_data


class Listener:
    """Subscribes to ``/semgcn/joints`` and ``/semgcn/markers`` with ``qos`` and keeps what arrives; with
    ``person_ids``, also to each ``/semgcn/person_<id>/joints`` (kept in ``people[id]``)."""

    def __init__(self, qos=None, name: str = "test_listener", person_ids: tuple[int, ...] = ()):
        import rclpy
        from geometry_msgs.msg import PoseArray
        from rclpy.context import Context
        from rclpy.executors import SingleThreadedExecutor
        from visualization_msgs.msg import MarkerArray

        os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"  # read by rcl at init
        self.joints, self.markers = [], []
        self._rclpy, self._context = rclpy, Context()
        rclpy.init(context=self._context, domain_id=DOMAIN_ID)
        self.node = rclpy.create_node(name, context=self._context)
        qos = qos or rviz_default_qos()
        self.node.create_subscription(PoseArray, "/semgcn/joints", self.joints.append, qos)
        self.node.create_subscription(MarkerArray, "/semgcn/markers", self.markers.append, qos)
        self.people: dict[int, list] = {pid: [] for pid in person_ids}
        for pid in person_ids:
            self.node.create_subscription(PoseArray, f"/semgcn/person_{pid}/joints", self.people[pid].append, qos)
        self._executor = SingleThreadedExecutor(context=self._context)
        self._executor.add_node(self.node)
        self._thread = threading.Thread(target=self._executor.spin, name=name, daemon=True)
        self._thread.start()

    def wait_for(self, count: int, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if len(self.joints) >= count and len(self.markers) >= count:
                return True
            time.sleep(0.02)
        return False

    def wait_for_publishers(self, timeout_s: float) -> bool:
        """Until this node's graph shows a publisher on both topics (discovery has matched them)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if all(self.node.count_publishers(t) for t in ("/semgcn/joints", "/semgcn/markers")):
                time.sleep(0.2)  # the publisher's side of the match completes right after
                return True
            time.sleep(0.05)
        return False

    def close(self) -> None:
        self._executor.shutdown(timeout_sec=2.0)
        self.node.destroy_node()
        self._rclpy.try_shutdown(context=self._context)
        self._thread.join(5.0)
        assert not self._thread.is_alive(), "the listener's executor thread did not end"

    def __enter__(self) -> "Listener":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def stamp_ns(message) -> int:
    return message.header.stamp.sec * 1_000_000_000 + message.header.stamp.nanosec


def positions(pose_array) -> np.ndarray:
    return np.array([[p.position.x, p.position.y, p.position.z] for p in pose_array.poses]).reshape(-1, 3)


def orientations(pose_array) -> np.ndarray:
    return np.array([[p.orientation.x, p.orientation.y, p.orientation.z, p.orientation.w]
                     for p in pose_array.poses]).reshape(-1, 4)


def expected_positions(frame, frame_id: str) -> np.ndarray:
    """Where a stream frame's joints should be in ``frame_id`` (realtime.core.skeleton_scene's rules)."""
    person = frame.person
    if frame_id.startswith("world"):
        return person.joints_world.astype(np.float64)
    joints = person.joints_3d.astype(np.float64)
    return joints + person.root_translation if person.root_translation is not None else joints


def actions(marker_array) -> list[tuple[str, int, int]]:
    """``(namespace, id, action)`` of every marker of a MarkerArray."""
    return [(m.ns, m.id, m.action) for m in marker_array.markers]
