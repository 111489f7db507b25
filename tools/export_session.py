"""Export a recorded session (.mcap) to CSV, JSON, BVH (the formats: ``realtime.recording.exports``) or a
ROS 2 bag (``realtime.recording.ros2bag``). A session of several people gives one BVH file per person
(``SESSION_person<ID>.bvh``), a CSV row and a JSON entry per person per frame.

    python -m tools.export_session recordings/session_20250101_120000.mcap --to bvh
    python -m tools.export_session SESSION.mcap --to csv --out table.csv
    python -m tools.export_session SESSION.mcap --to ros2bag      # a bag folder: ros2 bag play SESSION_ros2bag
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from realtime.core.person_choice import FIRST, person_choice
from realtime.recording.exports import FORMATS, export_bvh_people, export_csv, export_json
from realtime.recording.session_reader import SessionError, read_session

ROS2BAG = "ros2bag"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tools.export_session",
                                     description="Export a recorded session (.mcap) to CSV, JSON or BVH.")
    parser.add_argument("session", help="session file written by realtime.recorder / run_live.py --record")
    parser.add_argument("--to", required=True, choices=(*FORMATS, ROS2BAG),
                        help="output format (ros2bag: a ROS 2 bag folder, MCAP storage, PoseArray and MarkerArray)")
    parser.add_argument("--out", default=None, help="output file (default: the session path with the format's suffix; "
                                                    "for ros2bag the folder SESSION_ros2bag; for the BVH of a "
                                                    "session of several people, OUT_person<ID>.bvh per person)")
    parser.add_argument("--ros2-frame", default="auto", choices=("auto", "camera", "world"),
                        help="ros2bag: frame of the joints, as run_live.py --ros2-frame (default: %(default)s)")
    parser.add_argument("--ros2-person", type=person_choice, default=FIRST, metavar="first|ID",
                        help="ros2bag: whose joints /semgcn/joints holds when several people are in view, as "
                             "run_live.py --ros2-person: 'first' = tracked the longest, until they leave (default), "
                             "or a person id; every person also has /semgcn/person_<id>/joints")
    parser.add_argument("--unit", default="m", choices=("m", "cm", "mm"),
                        help="BVH length unit (default: %(default)s; Blender's BVH import expects metres at scale 1)")
    parser.add_argument("--bone-lengths", default="median", choices=("median", "per-frame"),
                        help="BVH bones: 'median' = the skeleton solver's rigid humanoid, bones of the clip's "
                             "robust (median) lengths, rotations only (for retargeting); 'per-frame' = also "
                             "position channels that put every joint where it was recorded (default: %(default)s)")
    parser.add_argument("--timeline", default="uniform", choices=("uniform", "frames"),
                        help="BVH frames: 'uniform' = one per frame interval of the capture clock, holding "
                             "the previous pose over frames the pipeline dropped, so the clip plays at the "
                             "recorded speed; 'frames' = one per recorded frame (default: %(default)s)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns the exit code."""
    args = build_parser().parse_args(argv)
    out = Path(args.out) if args.out else _default_out(Path(args.session), args.to)
    written: dict[int, Path] = {}  # the BVH files, by person
    try:
        session = read_session(args.session)
        if not session.complete:
            print(f"warning: {session.loss_report()}",
                  file=sys.stderr)
        out.parent.mkdir(parents=True, exist_ok=True)
        if args.to == "csv":
            export_csv(session, out)
        elif args.to == "json":
            export_json(session, out)
        elif args.to == ROS2BAG:
            from realtime.recording.ros2bag import export_ros2bag
            export_ros2bag(session, out, frame=args.ros2_frame, person=args.ros2_person)
        else:
            written = export_bvh_people(session, out, args.unit, per_frame_lengths=args.bone_lengths == "per-frame",
                                        timeline=args.timeline)
    except (SessionError, ValueError, OSError, ImportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    people = sum(f.has_person for f in session.frames)
    if args.to == "bvh" and len(written) > 1:
        for person_id, path in written.items():
            seen = sum(any(p.id == person_id for p in f.people) for f in session.frames)
            print(f"wrote {path} (person {person_id}: in {seen} of {len(session.frames)} frames)")
        return 0
    print(f"wrote {out} ({len(session.frames)} frames, {people} with a person, {session.fps:.1f} fps)")
    return 0


def _default_out(session: Path, fmt: str) -> Path:
    if fmt == ROS2BAG:  # a folder, as ros2 bag record makes
        return session.with_name(session.stem + "_ros2bag")
    return session.with_suffix("." + fmt)


if __name__ == "__main__":
    sys.exit(main())
