"""VMC protocol sender: the skeleton's bone rotations as OSC over UDP, for VSeeFace, VMagicMirror,
Warudo, EVMC4U (Unity), VMC4UE (Unreal) and the Blender receivers.

    run_live.py --source demo --vmc                        # to 127.0.0.1:39539, the protocol's usual port
    run_live.py --vmc 192.168.1.20:39539                   # another machine (a warning says so)
    python -m realtime.bridges.vmc --connect tcp://127.0.0.1:5555 --to 127.0.0.1:39539
    python -m realtime.bridges.vmc --session recordings/session_....mcap --to 39539
    run_live.py --vmc --vmc-person 3                       # several people in view: follow person 3

One OSC bundle per frame (the VMC "Performer" role, protocol.vmc.info), built with python-osc:

* ``/VMC/Ext/OK`` (int loaded, int calibration state, int calibration mode, int tracking status)
  (v2.7): loaded 1 once a skeleton exists; calibration state 2 (calibrating) while the bone lengths
  are being estimated, 3 (calibrated) once they are held; mode 0 (normal); tracking 1, or 0 for a
  frame without the chosen person (which then carries no bones: receivers hold the last pose);
* ``/VMC/Ext/T`` (float): seconds since the first frame, on the capture clock;
* ``/VMC/Ext/Root/Pos`` ("root", position, rotation): where the skeleton stands;
* ``/VMC/Ext/Bone/Pos`` (name, local position, local rotation) for each of the 19 bones, Unity
  ``HumanBodyBones`` names, the local position being the constant rest offset (receivers that
  synchronise bone positions break on zeros) and the rotation (x, y, z, w) relative to the T-pose.

Axes: Unity's (left-handed, y up, metres; ``semgcn.solver.axes.SOLVER_TO_UNITY``): the person facing
the camera is an avatar facing Unity's +z, its left hand at -x. Sends never block: a datagram that
cannot leave is dropped and counted.

Several people: VMC drives one avatar, so one person is sent, chosen by ``realtime.core.person_choice``
(``--vmc-person first|ID``; ``first``: the person tracked the longest, until they leave). While the
chosen person is missing the bundles say tracking 0 and carry no bones; when another person is
chosen, the bones, rest offsets and calibration state are that person's own (every person in view
is solved all along, each with their own bone lengths, so a newly chosen person arrives calibrated).
"""
from __future__ import annotations

import argparse
import importlib
import logging
import sys

import numpy as np

from realtime.bridges.feed import add_feed_arguments
from realtime.core.person_choice import FIRST, PersonSelector, add_person_argument
from realtime.bridges.skeletons import SkeletonSource, add_skeleton_arguments, skeleton_options_from
from realtime.bridges.udp import LOOPBACK, UdpSender, feed_udp_bridge, parse_destination
from realtime.core.cli import OneLineParser
from realtime.core.records import FrameResult
from semgcn.solver.axes import SOLVER_TO_UNITY, convert_points, convert_quaternions
from semgcn.solver.pose import SkeletonPose

log = logging.getLogger(__name__)

DEFAULT_PORT = 39539
#: /VMC/Ext/OK calibration states and tracking status (protocol v2.5 / v2.7).
UNCALIBRATED, CALIBRATING, CALIBRATED = 0, 2, 3
TRACKING_LOST, TRACKING_OK = 0, 1


def add_arguments(group) -> None:
    """``run_live.py`` / ``bench_live`` options of this bridge."""
    group.add_argument("--vmc", nargs="?", const=f"{LOOPBACK}:{DEFAULT_PORT}", default=None, metavar="[HOST:]PORT",
                       help=f"send the skeleton's bone rotations over the VMC protocol (OSC/UDP) to HOST:PORT "
                            f"(default when given alone: {LOOPBACK}:{DEFAULT_PORT}); VSeeFace, Warudo, EVMC4U...")
    add_person_argument(group, "--vmc-person", "the VMC avatar")


def consumer_from_args(args: argparse.Namespace) -> "VmcSender | None":
    """The sender ``--vmc`` asks for, or None."""
    if not getattr(args, "vmc", None):
        return None
    host, port = parse_destination(args.vmc, DEFAULT_PORT)
    return VmcSender(host, port, person=getattr(args, "vmc_person", FIRST))


def bundle(skeleton: SkeletonPose | None, seconds: float, tracking: bool):
    """The OSC bundle of one frame (module docstring); ``skeleton`` None: nothing known yet."""
    from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder

    builder = OscBundleBuilder(IMMEDIATELY)
    if skeleton is None:
        state = UNCALIBRATED
    else:
        state = CALIBRATED if skeleton.calibrated else CALIBRATING
    loaded = int(skeleton is not None)
    builder.add_content(_message("/VMC/Ext/OK", loaded, state, 0, TRACKING_OK if tracking else TRACKING_LOST))
    builder.add_content(_message("/VMC/Ext/T", float(seconds)))
    if skeleton is not None and tracking:
        root = convert_points(skeleton.root_position, SOLVER_TO_UNITY)
        builder.add_content(_message("/VMC/Ext/Root/Pos", "root", *_floats(root), 0.0, 0.0, 0.0, 1.0))
        offsets = convert_points(skeleton.rest_offsets, SOLVER_TO_UNITY)
        rotations = convert_quaternions(skeleton.local_rotations, SOLVER_TO_UNITY)
        for name, offset, rotation in zip(skeleton.bone_names, offsets, rotations):
            builder.add_content(_message("/VMC/Ext/Bone/Pos", name, *_floats(offset), *_floats(rotation)))
    return builder.build()


def _message(address: str, *args):
    from pythonosc.osc_message_builder import OscMessageBuilder

    message = OscMessageBuilder(address)
    for value in args:
        message.add_arg(value)  # python int -> 'i', float -> 'f' (32-bit), str -> 's'
    return message.build()


def _floats(values: np.ndarray) -> list[float]:
    return [float(v) for v in values]


class VmcSender:
    """The VMC consumer (module docstring): ``consume`` sends one bundle per frame.

    Args:
        host, port: the receiver (a VMC "Marionette").
        source: where skeletons come from (default: the frame's, else solved here).
        person: who is sent when several people are in view (``realtime.core.person_choice``).
    """

    name = "vmc"
    needs_skeleton = True  # the app adds the solve stage for it

    def __init__(self, host: str = LOOPBACK, port: int = DEFAULT_PORT, source: SkeletonSource | None = None,
                 person: str | int = FIRST):
        try:
            importlib.import_module("pythonosc")  # fail now, with the fix, rather than on the first frame
        except ImportError:
            raise RuntimeError("the VMC sender needs python-osc: pip install python-osc") from None
        self.sender = UdpSender(host, port, label="vmc")
        self.source = source or SkeletonSource()
        self.selector = PersonSelector(person)
        self._t0: float | None = None
        self._last: SkeletonPose | None = None

    def consume(self, result: FrameResult) -> None:
        self.source.people(result)  # everybody, each with their own bone lengths: the next chosen is ready
        chosen = self.selector.choose(result)
        skeleton = chosen.skeleton if chosen is not None else None
        if self._t0 is None:
            self._t0 = result.timestamp
        if skeleton is not None:
            self._last = skeleton
        self.sender.send(bundle(skeleton or self._last, result.timestamp - self._t0,
                                tracking=skeleton is not None).dgram)

    def close(self) -> None:
        self.sender.close()
        log.info("vmc: %d bundles sent, %d dropped", self.sender.sent, self.sender.dropped)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m realtime.bridges.vmc", description=__doc__.split("\n\n")[0],
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    add_feed_arguments(parser)
    parser.add_argument("--to", default=f"{LOOPBACK}:{DEFAULT_PORT}", metavar="[HOST:]PORT",
                        help="the VMC receiver (default: %(default)s)")
    add_person_argument(parser, "--person", "the VMC avatar")
    add_skeleton_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        host, port = parse_destination(args.to, DEFAULT_PORT)
        sender = VmcSender(host, port, SkeletonSource(skeleton_options_from(args)), person=args.person)
    except (ValueError, OSError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return feed_udp_bridge(sender, args, f"{host}:{port}", "bundles")


if __name__ == "__main__":
    sys.exit(main())
