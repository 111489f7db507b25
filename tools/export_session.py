"""Export a recorded session (.mcap) to CSV, JSON or BVH.

    python -m tools.export_session recordings/session_20250101_120000.mcap --to bvh
    python -m tools.export_session SESSION.mcap --to csv --out table.csv

* ``csv``: one row per frame: ``frame_index, t_capture, t_publish, has_person``, then per joint
  ``<joint>_x/_y/_z`` (metres, camera frame, pelvis at the origin), ``<joint>_u/_v`` (pixels) and
  ``<joint>_conf``; ``root_x/_y/_z`` when the stream carried ``root_translation``. Empty cells where
  nobody was in the frame.
* ``json``: ``{"metadata", "joint_names", "parents", "units", "frame_of_reference", "truncated",
  "frames": [{"frame_index", "t_capture", "t_publish", "has_person", "keypoints_2d", "confidence",
  "joints_3d", ...}]}``.
* ``bvh``: a y-up skeleton with the subject's median bone lengths and per-frame joint rotations
  (realtime/bvh_export.py, docs/recording.md); the frame time is the session's median frame interval.
  ``--bone-lengths per-frame`` adds position channels carrying each frame's bone lengths.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from realtime.bvh_export import BvhExportOptions, joints_to_bvh, write_bvh
from realtime.session_format import float_lists
from realtime.session_reader import Session, SessionError, read_session
from semgcn.skeleton import JOINT_NAMES, NUM_JOINTS, PARENTS

FORMATS = ("csv", "json", "bvh")


def csv_columns(with_root: bool) -> list[str]:
    """Column names of the CSV export."""
    cols = ["frame_index", "t_capture", "t_publish", "has_person"]
    for name in JOINT_NAMES:
        cols += [f"{name}_x", f"{name}_y", f"{name}_z", f"{name}_u", f"{name}_v", f"{name}_conf"]
    return cols + (["root_x", "root_y", "root_z"] if with_root else [])


def export_csv(session: Session, out: Path) -> Path:
    """Write the CSV table of ``session`` to ``out``."""
    with_root = any("root_translation" in f.arrays for f in session.frames)
    with open(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(csv_columns(with_root))
        for f in session.frames:
            row: list[Any] = [f.frame_index, f"{f.t_capture:.6f}", f"{f.t_publish:.6f}", int(f.has_person)]
            for j in range(NUM_JOINTS):
                row += _cells(f.joints_3d, j, 3) + _cells(f.keypoints_2d, j, 2) + _cells(f.confidence, j, 1)
            if with_root:
                root = f.arrays.get("root_translation")
                row += [_num(v) for v in root] if root is not None else ["", "", ""]
            writer.writerow(row)
    return out


def _cells(array: np.ndarray | None, joint: int, width: int) -> list[str]:
    if array is None:
        return [""] * width
    return [_num(v) for v in np.atleast_1d(array[joint])]


def _num(value: float) -> str:
    return str(np.float32(value)) if np.isfinite(value) else ""  # shortest exact float32 text


def export_json(session: Session, out: Path) -> Path:
    """Write the JSON document of ``session`` to ``out``."""
    frames = []
    for f in session.frames:
        entry: dict[str, Any] = {"frame_index": f.frame_index, "t_capture": f.t_capture,
                                 "t_publish": f.t_publish, "has_person": f.has_person}
        for name, array in f.arrays.items():
            entry[name] = float_lists(np.atleast_1d(array))
        frames.append(entry)
    doc = {"metadata": session.metadata, "joint_names": list(JOINT_NAMES), "parents": list(PARENTS),
           "units": "m", "frame_of_reference": "camera, OpenCV axes (x right, y down, z forward), pelvis at origin",
           "fps": session.fps, "truncated": session.truncated, "problems": session.problems, "frames": frames}
    out.write_text(json.dumps(doc, separators=(",", ":")), encoding="utf-8")
    return out


def uniform_timeline(t_capture: np.ndarray, frame_time: float) -> np.ndarray:
    """For each slot of a uniform ``frame_time`` grid from the first capture to the last, the index of
    the last recorded frame captured at or before it: frames the pipeline dropped are held, so the clip
    plays at the recorded speed. Without drops it is ``arange(len(t_capture))``."""
    slots = np.rint((t_capture - t_capture[0]) / frame_time).astype(np.int64)
    slots = np.maximum.accumulate(slots)
    grid = np.arange(int(slots[-1]) + 1)
    return np.searchsorted(slots, grid, side="right") - 1


def export_bvh(session: Session, out: Path, unit: str = "m", per_frame_lengths: bool = False,
               timeline: str = "uniform") -> Path:
    """Write the BVH clip of ``session`` to ``out``.

    Args:
        session: the recorded session.
        out: the ``.bvh`` file.
        unit: ``"m"``, ``"cm"`` or ``"mm"``.
        per_frame_lengths: add position channels that carry each frame's bone lengths (exact joints
            even where the lifter's bone lengths vary; see ``realtime.bvh_export.BvhExportOptions``).
        timeline: ``"uniform"``: one BVH frame per frame interval of the capture clock, holding the
            previous frame over dropped ones (plays at the recorded speed); ``"frames"``: one BVH frame
            per recorded frame.
    Raises:
        ValueError: when no frame has a person, or for an unknown ``timeline``.
    """
    if timeline not in ("uniform", "frames"):
        raise ValueError(f"timeline must be 'uniform' or 'frames', got {timeline!r}")
    frames = session.frames
    if timeline == "uniform" and frames:
        t_capture = np.array([f.t_capture for f in frames])
        frames = [frames[i] for i in uniform_timeline(t_capture, 1.0 / session.fps)]
    joints, valid, roots = _bvh_inputs(frames)
    text = joints_to_bvh(joints, valid, 1.0 / session.fps, roots,
                         BvhExportOptions(unit=unit, per_frame_lengths=per_frame_lengths))
    return write_bvh(out, text)


def _bvh_inputs(frames: list) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    valid = np.array([f.has_person for f in frames], dtype=bool)
    joints = np.zeros((len(frames), NUM_JOINTS, 3))
    roots = np.zeros((len(frames), 3))
    have_root = True
    for i, f in enumerate(frames):
        if f.has_person:
            joints[i] = f.joints_3d
            root = f.arrays.get("root_translation")
            have_root &= root is not None
            roots[i] = root if root is not None else 0.0
    return joints, valid, roots if have_root and valid.any() else None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tools.export_session",
                                     description="Export a recorded session (.mcap) to CSV, JSON or BVH.")
    parser.add_argument("session", help="session file written by realtime.recorder / run_live.py --record")
    parser.add_argument("--to", required=True, choices=FORMATS, help="output format")
    parser.add_argument("--out", default=None, help="output file (default: the session path with the format's suffix)")
    parser.add_argument("--unit", default="m", choices=("m", "cm", "mm"),
                        help="BVH length unit (default: %(default)s; Blender's BVH import expects metres at scale 1)")
    parser.add_argument("--bone-lengths", default="median", choices=("median", "per-frame"),
                        help="BVH bones: 'median' = a rigid skeleton with the subject's median bone lengths "
                             "(rotations only; joints exact when the recorded lengths are constant); "
                             "'per-frame' = also position channels with each frame's lengths, so the "
                             "joints are reproduced exactly (default: %(default)s)")
    parser.add_argument("--timeline", default="uniform", choices=("uniform", "frames"),
                        help="BVH frames: 'uniform' = one per frame interval of the capture clock, holding "
                             "the previous pose over frames the pipeline dropped, so the clip plays at the "
                             "recorded speed; 'frames' = one per recorded frame (default: %(default)s)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns the exit code."""
    args = build_parser().parse_args(argv)
    out = Path(args.out) if args.out else Path(args.session).with_suffix("." + args.to)
    try:
        session = read_session(args.session)
        if session.truncated:
            print(f"note: {session.problems[0] if session.problems else 'the session is incomplete'}",
                  file=sys.stderr)
        out.parent.mkdir(parents=True, exist_ok=True)
        if args.to == "csv":
            export_csv(session, out)
        elif args.to == "json":
            export_json(session, out)
        else:
            export_bvh(session, out, args.unit, per_frame_lengths=args.bone_lengths == "per-frame",
                       timeline=args.timeline)
    except (SessionError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    people = sum(f.has_person for f in session.frames)
    print(f"wrote {out} ({len(session.frames)} frames, {people} with a person, {session.fps:.1f} fps)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
