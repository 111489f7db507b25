"""Unreal Live Link sender: the skeleton as the JSON-over-UDP format of the open-source JSONLiveLink plugin.

    run_live.py --source demo --livelink                  # to 127.0.0.1:54321, the plugin's default port
    python -m realtime.bridges.livelink --connect tcp://127.0.0.1:5555 --to 127.0.0.1:54321
    python -m realtime.bridges.livelink --session recordings/session_....mcap --subject Performer

One datagram per frame, a JSON object (ASCII; the plugin reads its bytes as characters) with one entry
per subject (a person), holding its bones in order:

    {"SemGCN": [{"Name": "Root", "Parent": -1, "Location": [x, y, z], "Rotation": [x, y, z, w],
                 "Scale": [1, 1, 1]},
                {"Name": "Hips", "Parent": 0, ...}, ...]}

``Root`` (index 0) carries where the skeleton stands; the 19 bones follow with Unity's
``HumanBodyBones`` names, ``Parent`` the index of the parent in this list, ``Location`` the constant
rest offset and ``Rotation`` the local rotation from the T-pose (Live Link transforms are
parent-relative). The plugin makes the subject's skeleton from the first datagram it sees, so names
and parents never change. Axes and units are Unreal's: left-handed, x forward, y right, z up,
centimetres (``semgcn.solver.axes.SOLVER_TO_UNREAL``). Sends never block.

Several people: the subject ``<subject>`` (``SemGCN``) is one person, chosen by
``realtime.core.person_choice`` (``--livelink-person first|ID``; ``first``: the person tracked the
longest, until they leave), because a Live Link Pose node binds a subject name fixed in the editor
while track ids exist only at run time: the one stable name must follow one person, as VMC's avatar
does, and never switch between two bodies from frame to frame. A multi-person stream
(``semgcn.pose/2``) also sends every person in view as ``<subject>_<id>`` (the chosen one too), for
scenes with one character per person: Live Link is a multi-subject protocol and lists each as a
subject of its own. Each subject carries its own person's bone lengths. A frame without the chosen
person sends no ``<subject>``, a frame with nobody sends nothing (Live Link keeps the last pose). A
datagram larger than UDP allows (many people, long names) goes as one datagram per subject.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys

import numpy as np

from realtime.bridges.feed import add_feed_arguments
from realtime.core.person_choice import FIRST, PersonSelector, add_person_argument
from realtime.bridges.skeletons import SkeletonSource, add_skeleton_arguments, skeleton_options_from
from realtime.bridges.udp import LOOPBACK, UdpSender, feed_udp_bridge, parse_destination
from realtime.core.cli import OneLineParser
from realtime.core.records import FrameResult
from semgcn.solver.axes import SOLVER_TO_UNREAL, UNREAL_SCALE, convert_points, convert_quaternions
from semgcn.solver.pose import SkeletonPose

log = logging.getLogger(__name__)

DEFAULT_PORT = 54321
DEFAULT_SUBJECT = "SemGCN"
ROOT_BONE = "Root"
#: Largest UDP payload over IPv4 (65535 minus the IP and UDP headers).
MAX_DATAGRAM = 65507


def add_arguments(group) -> None:
    """``run_live.py`` / ``bench_live`` options of this bridge."""
    group.add_argument("--livelink", nargs="?", const=f"{LOOPBACK}:{DEFAULT_PORT}", default=None,
                       metavar="[HOST:]PORT",
                       help=f"send the skeleton to Unreal's Live Link as the JSONLiveLink plugin's JSON over UDP "
                            f"(default when given alone: {LOOPBACK}:{DEFAULT_PORT})")
    group.add_argument("--livelink-subject", default=DEFAULT_SUBJECT, metavar="NAME",
                       help="Live Link subject name (default: %(default)s)")
    add_person_argument(group, "--livelink-person", "the Live Link subject")


def consumer_from_args(args: argparse.Namespace) -> "LiveLinkSender | None":
    """The sender ``--livelink`` asks for, or None."""
    if not getattr(args, "livelink", None):
        return None
    host, port = parse_destination(args.livelink, DEFAULT_PORT)
    return LiveLinkSender(host, port, subject=getattr(args, "livelink_subject", DEFAULT_SUBJECT),
                          person=getattr(args, "livelink_person", FIRST))


def subject_bones(skeleton: SkeletonPose) -> list[dict]:
    """The subject's bone list: ``Root`` then the rig's bones, Unreal axes and centimetres."""
    root = convert_points(skeleton.root_position, SOLVER_TO_UNREAL, UNREAL_SCALE)
    bones = [_bone(ROOT_BONE, -1, root, np.array([0.0, 0.0, 0.0, 1.0]))]
    offsets = convert_points(skeleton.rest_offsets, SOLVER_TO_UNREAL, UNREAL_SCALE)
    rotations = convert_quaternions(skeleton.local_rotations, SOLVER_TO_UNREAL)
    for name, parent, offset, rotation in zip(skeleton.bone_names, skeleton.parents, offsets, rotations):
        bones.append(_bone(name, parent + 1, offset, rotation))  # +1: Root is index 0
    return bones


def _bone(name: str, parent: int, location: np.ndarray, rotation: np.ndarray) -> dict:
    return {"Name": name, "Parent": int(parent), "Location": [round(float(v), 4) for v in location],
            "Rotation": [round(float(v), 7) for v in rotation], "Scale": [1.0, 1.0, 1.0]}


def datagram(subjects: dict[str, SkeletonPose]) -> bytes:
    """One frame's JSON datagram for ``subject name -> skeleton``."""
    doc = {name: subject_bones(skeleton) for name, skeleton in subjects.items()}
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def datagrams(subjects: dict[str, SkeletonPose]) -> list[bytes]:
    """One datagram with every subject, or one per subject when that would exceed ``MAX_DATAGRAM``
    (the plugin reads each datagram's subjects alike, so splitting changes nothing for it)."""
    whole = datagram(subjects)
    if len(whole) <= MAX_DATAGRAM or len(subjects) == 1:
        return [whole]
    return [datagram({name: skeleton}) for name, skeleton in subjects.items()]


class LiveLinkSender:
    """The Live Link consumer (module docstring).

    Args:
        host, port: where the JSONLiveLink source listens.
        subject: the chosen person's subject name (others: ``<subject>_<id>``).
        source: where skeletons come from (default: the frame's, else solved here).
        person: who the subject ``subject`` is when several people are in view (``realtime.core.person_choice``).
    """

    name = "livelink"
    needs_skeleton = True  # the app adds the solve stage for it

    def __init__(self, host: str = LOOPBACK, port: int = DEFAULT_PORT, subject: str = DEFAULT_SUBJECT,
                 source: SkeletonSource | None = None, person: str | int = FIRST):
        if not subject or not subject.isascii():
            raise ValueError(f"the Live Link subject name must be non-empty ASCII, got {subject!r}")
        self.sender = UdpSender(host, port, label="livelink")
        self.subject = subject
        self.source = source or SkeletonSource()
        self.selector = PersonSelector(person)

    def consume(self, result: FrameResult) -> None:
        people = self.source.people(result)
        chosen = self.selector.choose(result)
        subjects = {}
        if chosen is not None and chosen.skeleton is not None:
            subjects[self.subject] = chosen.skeleton
        if result.several_people:  # a multi-person stream: everybody under their own id as well
            subjects.update((f"{self.subject}_{person.id}", skeleton) for person, skeleton in people)
        for data in datagrams(subjects) if subjects else ():
            self.sender.send(data)

    def close(self) -> None:
        self.sender.close()
        log.info("livelink: %d datagrams sent, %d dropped", self.sender.sent, self.sender.dropped)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m realtime.bridges.livelink", description=__doc__.split("\n\n")[0],
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    add_feed_arguments(parser)
    parser.add_argument("--to", default=f"{LOOPBACK}:{DEFAULT_PORT}", metavar="[HOST:]PORT",
                        help="where the JSONLiveLink source listens (default: %(default)s)")
    parser.add_argument("--subject", default=DEFAULT_SUBJECT, help="Live Link subject name (default: %(default)s)")
    add_person_argument(parser, "--person", "the Live Link subject")
    add_skeleton_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        host, port = parse_destination(args.to, DEFAULT_PORT)
        sender = LiveLinkSender(host, port, args.subject, SkeletonSource(skeleton_options_from(args)), args.person)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return feed_udp_bridge(sender, args, f"{host}:{port}", "datagrams")


if __name__ == "__main__":
    sys.exit(main())
