"""Exports of a recorded session: CSV, JSON and BVH (``python -m tools.export_session`` is their command line).

* ``csv``: one row per frame: ``frame_index, t_capture, t_publish, has_person``, then per joint
  ``<joint>_x/_y/_z`` (metres, camera frame, pelvis at the origin), ``<joint>_u/_v`` (pixels) and
  ``<joint>_conf``; ``root_x/_y/_z`` when the stream carried ``root_translation``. Empty cells where
  nobody was in the frame.
* ``json``: ``{"metadata", "joint_names", "parents", "units", "frame_of_reference", "truncated",
  "frames": [{"frame_index", "t_capture", "t_publish", "has_person", "keypoints_2d", "confidence",
  "joints_3d", ...}]}``.
* ``bvh``: the skeleton solver's constant-bone humanoid (Unity bone names, T-pose rest) and its joint
  rotations (``semgcn.bvh.write``, docs/recording.md); the frame time is the session's median frame
  interval. ``per_frame_lengths`` adds position channels that put every joint where it was recorded.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np

from realtime.core.skeleton_stage import landmark_arrays
from realtime.recording.session_format import float_lists
from realtime.recording.session_reader import Session
from realtime.stream.wire import FRAME_OF_REFERENCE, UNITS
from semgcn.bvh.write import BvhExportOptions, clip_to_bvh, solve_recording, write_bvh
from semgcn.solver.clip import ClipSolution
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
    with_root = any(p.root_translation is not None for f in session.frames for p in f.people)
    with open(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(csv_columns(with_root))
        for f in session.frames:
            row: list[Any] = [f.frame_index, f"{f.t_capture:.6f}", f"{f.t_publish:.6f}", int(f.has_person)]
            for j in range(NUM_JOINTS):
                row += _cells(f.joints_3d, j, 3) + _cells(f.keypoints_2d, j, 2) + _cells(f.confidence, j, 1)
            if with_root:
                root = f.person.root_translation if f.people else None
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
           "units": UNITS, "frame_of_reference": FRAME_OF_REFERENCE,
           "fps": session.fps, "truncated": session.truncated, "problems": session.problems,
           "missing": [list(r) for r in session.missing], "frames": frames}
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
    """Write the BVH clip of ``session`` to ``out``: the skeleton solver's humanoid and rotations
    (``semgcn.bvh.write``; with the session's BlazePose landmarks, when it carries them, for the head,
    hands and feet).

    Args:
        session: the recorded session.
        out: the ``.bvh`` file.
        unit: ``"m"``, ``"cm"`` or ``"mm"``.
        per_frame_lengths: add position channels that put every joint where the recording had it
            (see ``semgcn.bvh.write.BvhExportOptions``).
        timeline: ``"uniform"``: one BVH frame per frame interval of the capture clock, holding the
            previous frame over dropped ones (plays at the recorded speed); ``"frames"``: one BVH frame
            per recorded frame.
    Raises:
        ValueError: when no frame has a person, or for an unknown ``timeline``.
    """
    clip = solve_session(bvh_frames(session, timeline))
    text = clip_to_bvh(clip, 1.0 / session.fps, BvhExportOptions(unit=unit, per_frame_lengths=per_frame_lengths))
    return write_bvh(out, text)


def bvh_frames(session: Session, timeline: str = "uniform") -> list:
    """The session's frames as the BVH clip shows them (``timeline``: see :func:`export_bvh`)."""
    if timeline not in ("uniform", "frames"):
        raise ValueError(f"timeline must be 'uniform' or 'frames', got {timeline!r}")
    frames = session.frames
    if timeline == "uniform" and frames:
        t_capture = np.array([f.t_capture for f in frames])
        frames = [frames[i] for i in uniform_timeline(t_capture, 1.0 / session.fps)]
    return frames


def solve_session(frames: list) -> ClipSolution:
    """The skeleton solver's clip of recorded frames (solver frame = BVH axes)."""
    joints, valid, roots = _bvh_inputs(frames)
    landmarks = [_landmarks(f) for f in frames]
    return solve_recording(joints, valid, roots, landmarks if any(lm is not None for lm in landmarks) else None)


def _landmarks(frame) -> tuple[np.ndarray, np.ndarray | None] | None:
    if not frame.has_person:
        return None
    image, world = landmark_arrays(frame.person)
    if world is not None:
        return world, None if image is None else image[:, 3]
    return (image[:, :3], image[:, 3]) if image is not None else None


def _bvh_inputs(frames: list) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    valid = np.array([f.has_person for f in frames], dtype=bool)
    joints = np.zeros((len(frames), NUM_JOINTS, 3))
    roots = np.zeros((len(frames), 3))
    have_root = True
    for i, f in enumerate(frames):
        if f.has_person:
            joints[i] = f.joints_3d
            root = f.person.root_translation
            have_root &= root is not None
            roots[i] = root if root is not None else 0.0
    return joints, valid, roots if have_root and valid.any() else None
