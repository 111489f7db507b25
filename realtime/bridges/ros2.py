"""ROS 2 output: the joints as ``geometry_msgs/PoseArray`` and the skeleton as ``visualization_msgs/MarkerArray``.

    python run_live.py --source demo --ros2                       # inside the live app
    python -m realtime.bridges.ros2 --connect tcp://127.0.0.1:5555  # or following a running stream
    python -m realtime.bridges.ros2 --session recordings/s.mcap      # or replaying a recording

Topics ``/semgcn/joints`` and ``/semgcn/markers`` (``realtime.recording.ros2_messages`` says what is in
them), published by a real rclpy node (``semgcn_pose``) from the ROS 2 wheels of
``requirements-ros2.txt``; no ROS installation is needed. Frames: see ``realtime.core.skeleton_scene``.

Several people (a ``semgcn.pose/2`` stream): the markers carry everybody, one namespace
``person_<id>`` each; ``/semgcn/joints`` carries the person chosen by ``--ros2-person``
(``realtime.core.person_choice``), so that single-person robot code keeps reading 16 poses; and each
person gets ``/semgcn/person_<id>/joints``, because a PoseArray has no field to say whose joints
they are. Its publisher is made when the person appears and destroyed when their markers' deletion
ends (30 frames after they left, empty PoseArrays until then), so topics do not pile up over a
long run as new ids come.

QoS, for a live stream: RELIABLE, VOLATILE, KEEP_LAST depth 1. Reliable because RViz's displays
subscribe RELIABLE by default (rclcpp ``QoS(5)``) and a best-effort publisher is incompatible with a
reliable subscriber (it would receive nothing); best-effort subscribers (the sensor-data profile)
receive it too. KEEP_LAST 1 because a pose is worthless once the next one exists: with KEEP_LAST the
writer never blocks (a slow subscriber loses old poses instead of stalling the pipeline) and nothing
old is re-sent late. VOLATILE because a late joiner must not get a stale pose.

Discovery is limited to this machine (``ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST``) unless
``--ros2-discovery subnet`` asks for the network, with a warning: DDS traffic is neither encrypted
nor authenticated.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from dataclasses import dataclass

from realtime.bridges.skeletons import SkeletonSource
from realtime.core.cli import OneLineParser, bounded
from realtime.core.person_choice import FIRST, PersonSelector, add_person_argument
from realtime.core.records import FrameResult
from realtime.core.skeleton_scene import FRAME_CHOICES, SceneBuilder, SkeletonScene
from realtime.recording.ros2_messages import (JOINTS_TOPIC, MARKERS_TOPIC, chosen_pose_array, marker_array,
                                              person_pose_arrays, person_topic)

log = logging.getLogger(__name__)
INSTALL_HINT = "pip install -r requirements-ros2.txt (the ROS 2 Python wheels from PyPI; no ROS install needed)"
_OLD_DISTROS = ("foxy", "galactic", "humble", "iron")  # before ROS_AUTOMATIC_DISCOVERY_RANGE (Jazzy)


class Ros2Unavailable(RuntimeError):
    """The ROS 2 wheels are not installed; the message says what to install."""


@dataclass
class Ros2Options:
    """Settings of the ROS 2 bridge.

    Attributes:
        frame: "auto" (the calibrated world frame when the frame has one, else camera_optical),
            "camera" or "world" (``realtime.core.skeleton_scene.SceneBuilder``).
        domain_id: ROS domain (None: ``ROS_DOMAIN_ID`` of the environment, else 0).
        discovery: "localhost" (default: only nodes on this machine) or "subnet" (the network).
        node_name: the rclpy node's name.
        person: whose joints ``/semgcn/joints`` carries when several people are in view ("first" or an id).
    """

    frame: str = "auto"
    domain_id: int | None = None
    discovery: str = "localhost"
    node_name: str = "semgcn_pose"
    person: str | int = FIRST


def live_qos(rclpy_qos):
    """The QoS of both topics (see the module docstring for why)."""
    return rclpy_qos.QoSProfile(history=rclpy_qos.HistoryPolicy.KEEP_LAST, depth=1,
                                reliability=rclpy_qos.ReliabilityPolicy.RELIABLE,
                                durability=rclpy_qos.DurabilityPolicy.VOLATILE)


def configure_discovery(scope: str) -> None:
    """Set the discovery range in the environment, which rcl reads when a context is initialised."""
    if scope == "subnet":
        log.warning("ROS 2 discovery on the network (--ros2-discovery subnet): the pose topics are visible to "
                    "every ROS 2 node there, unencrypted and unauthenticated")
        os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "SUBNET"
        os.environ.pop("ROS_LOCALHOST_ONLY", None)
        return
    os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    if os.environ.get("ROS_DISTRO", "").lower() in _OLD_DISTROS:  # a sourced Humble / Iron rclpy
        os.environ["ROS_LOCALHOST_ONLY"] = "1"


def _rclpy_modules():
    try:
        import rclpy
        import rclpy.qos
        from builtin_interfaces.msg import Duration, Time
        from geometry_msgs.msg import Point, Pose, PoseArray, Quaternion, Vector3
        from std_msgs.msg import ColorRGBA, Header
        from visualization_msgs.msg import Marker, MarkerArray
    except ImportError as exc:
        raise Ros2Unavailable(f"ROS 2 output needs the ROS 2 wheels: {INSTALL_HINT} ({exc})") from None
    classes = {cls.__module__.split(".")[0] + "/msg/" + cls.__name__: cls
               for cls in (Duration, Time, Point, Pose, PoseArray, Quaternion, Vector3, ColorRGBA, Header,
                           Marker, MarkerArray)}
    return rclpy, classes


class Ros2Bridge:
    """A pipeline consumer publishing each frame on ``/semgcn/joints`` (the chosen person) and
    ``/semgcn/markers`` (everybody), and, for a multi-person stream, on each person's
    ``/semgcn/person_<id>/joints`` (module docstring).

    Raises:
        Ros2Unavailable: when the ROS 2 wheels are missing.
    """

    name = "ros2"
    needs_skeleton = True  # the PoseArray orientations: run_live.py adds the solve stage for them

    def __init__(self, options: Ros2Options | None = None):
        self.options = options or Ros2Options()
        self.skeletons = SkeletonSource()  # fed from a stream or a session: skeletons solved here
        self._rclpy, classes = _rclpy_modules()
        self._make = lambda type_name, **fields: classes[type_name](**fields)
        self._pose_array_type = classes["geometry_msgs/msg/PoseArray"]
        self.selector = PersonSelector(self.options.person)
        self._person_publishers: dict[int, object] = {}  # person id -> publisher of person_topic(id)
        self.builder = SceneBuilder(self.options.frame)
        configure_discovery(self.options.discovery)
        from rclpy.context import Context
        self._context = Context()
        init = {} if self.options.domain_id is None else {"domain_id": self.options.domain_id}
        self._rclpy.init(context=self._context, **init)
        self._node = self._rclpy.create_node(self.options.node_name, context=self._context)
        self._qos = live_qos(self._rclpy.qos)
        self._joints = self._node.create_publisher(self._pose_array_type, JOINTS_TOPIC, self._qos)
        self._markers = self._node.create_publisher(classes["visualization_msgs/msg/MarkerArray"], MARKERS_TOPIC,
                                                    self._qos)
        self.frames = 0
        self.closed = False
        log.info("ROS 2: publishing %s and %s (domain %s, discovery %s)", JOINTS_TOPIC, MARKERS_TOPIC,
                 self._context.get_domain_id(), self.options.discovery)

    def consume(self, result: FrameResult) -> None:
        if self.closed:
            return
        self.skeletons.people(result)  # sets person.skeleton where the frame came without one
        scene = self.builder.build(result)
        chosen = self.selector.choose(result)
        self._joints.publish(chosen_pose_array(self._make, scene, None if chosen is None else chosen.id))
        self._markers.publish(marker_array(self._make, scene))
        self._publish_people(scene, multi=result.several_people)
        self.frames += 1

    def _publish_people(self, scene: SkeletonScene, multi: bool) -> None:
        """Each person's own topic (multi-person streams): made when they appear, gone after they left."""
        arrays = person_pose_arrays(self._make, scene) if multi else {}
        for person_id, message in arrays.items():
            publisher = self._person_publishers.get(person_id)
            if publisher is None:
                publisher = self._node.create_publisher(self._pose_array_type, person_topic(person_id), self._qos)
                self._person_publishers[person_id] = publisher
            publisher.publish(message)
        for gone in [person_id for person_id in self._person_publishers if person_id not in arrays]:
            self._node.destroy_publisher(self._person_publishers.pop(gone))

    @property
    def person_topics(self) -> list[str]:
        """The per-person topics published now (``/semgcn/person_<id>/joints``)."""
        return [person_topic(person_id) for person_id in self._person_publishers]

    @property
    def domain_id(self) -> int:
        return self._context.get_domain_id()

    def subscribers(self) -> int:
        """Subscriptions matched on the joints topic (for status lines and tests)."""
        return self._joints.get_subscription_count()

    def wait_for_subscribers(self, count: int, timeout_s: float) -> bool:
        """Until ``count`` subscriptions matched the joints topic (discovery's slow joiner), or ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while self.subscribers() < count:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
        return True

    def close(self) -> None:
        """Destroy the node and shut its context down (idempotent)."""
        if self.closed:
            return
        self.closed = True
        try:
            self._node.destroy_node()
        finally:
            self._rclpy.try_shutdown(context=self._context)


# -- command-line options, for run_live.py (realtime.bridges.BRIDGES) and this module's own command line --
def add_arguments(group) -> None:
    group.add_argument("--ros2", action="store_true",
                       help=f"publish ROS 2 topics {JOINTS_TOPIC} (PoseArray) and {MARKERS_TOPIC} (MarkerArray); "
                            f"needs {INSTALL_HINT}")
    _add_options(group)


def _add_options(group) -> None:
    group.add_argument("--ros2-frame", choices=FRAME_CHOICES, default="auto",
                       help="frame of the ROS 2 joints: camera_optical (x right, y down, z forward), the calibrated "
                            "world (frame 'world' with --up z, 'world_y_up' with --up y), or 'auto': the world "
                            "once calibration gives one (default: %(default)s)")
    group.add_argument("--ros2-domain", type=bounded(int, 0, 232), default=None, metavar="N",
                       help="ROS domain id, 0 to 232 (default: $ROS_DOMAIN_ID, else 0)")
    group.add_argument("--ros2-discovery", choices=("localhost", "subnet"), default="localhost",
                       help="ROS 2 discovery: nodes on this machine only (default) or the network (a warning "
                            "says so: DDS is unencrypted)")
    add_person_argument(group, "--ros2-person", f"{JOINTS_TOPIC}")


def options_from_args(args) -> Ros2Options:
    return Ros2Options(frame=args.ros2_frame, domain_id=args.ros2_domain, discovery=args.ros2_discovery,
                       person=getattr(args, "ros2_person", FIRST))


def consumer_from_args(args) -> Ros2Bridge | None:
    return Ros2Bridge(options_from_args(args)) if getattr(args, "ros2", False) else None


def build_parser() -> argparse.ArgumentParser:
    from realtime.bridges.feed import add_feed_arguments

    parser = OneLineParser(prog="python -m realtime.bridges.ros2", description=__doc__.split("\n\n")[0])
    add_feed_arguments(parser)
    group = parser.add_argument_group("ROS 2")
    _add_options(group)
    group.add_argument("--wait-subscribers", type=bounded(int, 0, 1000), default=0, metavar="N",
                       help="before the first frame, wait until N ROS 2 subscribers matched (a replay into RViz "
                            "then starts when RViz listens)")
    group.add_argument("--wait-timeout", type=bounded(float, 0, 3600), default=10.0, metavar="S",
                       help="give up waiting for subscribers after S seconds and start anyway (default: %(default)s)")
    return parser


def main(argv: list[str] | None = None) -> int:
    from realtime.bridges.feed import run_feed
    from realtime.core.cli import configure_logging

    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging()
    try:
        bridge = Ros2Bridge(options_from_args(args))
    except Ros2Unavailable as exc:
        print(f"ros2 bridge: error: {exc}", file=sys.stderr)
        return 2
    if args.wait_subscribers > 0 and not bridge.wait_for_subscribers(args.wait_subscribers, args.wait_timeout):
        log.warning("%d of %d ROS 2 subscribers matched within %g s; starting anyway", bridge.subscribers(),
                    args.wait_subscribers, args.wait_timeout)
    try:
        result = run_feed(bridge, args)
    except ValueError as exc:  # SessionError: an unreadable session
        print(f"ros2 bridge: error: {exc}", file=sys.stderr)
        return 2
    print(f"published {bridge.frames} frames on {JOINTS_TOPIC} and {MARKERS_TOPIC}"
          + (f" ({result.malformed} malformed messages skipped)" if result.malformed else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
