"""Exports of a recorded session: CSV, JSON and BVH (``python -m tools.export_session`` is their command line).

Every export handles sessions of one person (schema ``semgcn.pose/1``, whose person has id 0) and of
several (``semgcn.pose/2``, each person with their track id):

* ``csv``: one row per person per frame (one row with an empty ``person_id`` for a frame with nobody):
  ``frame_index, t_capture, t_publish, has_person, person_id``, then per joint ``<joint>_x/_y/_z``
  (metres, camera frame, pelvis at the origin), ``<joint>_u/_v`` (pixels) and ``<joint>_conf``;
  ``root_x/_y/_z`` when the stream carried ``root_translation``. Empty cells where nobody was in the frame.
* ``json``: ``{"metadata", "joint_names", "parents", "units", "frame_of_reference", "truncated",
  "frames": [{"frame_index", "t_capture", "t_publish", "has_person", "people": [{"id", "keypoints_2d",
  "confidence", "joints_3d", ...}], "keypoints_2d", "confidence", "joints_3d", ...}]}``: ``people`` holds
  everybody; the arrays beside it are the first person's (as ``FrameResult.arrays`` gives them), so that
  a reader written for one person reads on unchanged.
* ``bvh``: the skeleton solver's constant-bone humanoid (Unity bone names, T-pose rest) and its joint
  rotations (``semgcn.bvh.write``, docs/recording.md), one clip per person id: ``<out stem>_person<ID>.bvh``
  when the session has several people, ``out`` itself when it has one. Every clip spans the whole session
  on the same timeline (so the clips line up when imported together); a person's clip holds their
  previous pose where they are absent (their first pose before they appear), as the single-person clip
  does for frames with nobody. The frame time is the session's median frame interval;
  ``per_frame_lengths`` adds position channels that put every joint where it was recorded.
"""
from __future__ import annotations

import csv
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from realtime.core.records import PersonPose, person_arrays
from realtime.core.skeleton_stage import landmark_points
from realtime.recording.session_format import float_lists
from realtime.recording.session_reader import Session
from realtime.stream.wire import FRAME_OF_REFERENCE, UNITS
from semgcn.bvh.write import BvhExportOptions, clip_to_bvh, solve_recording, write_bvh
from semgcn.solver.clip import ClipSolution
from semgcn.skeleton import JOINT_NAMES, NUM_JOINTS, PARENTS

FORMATS = ("csv", "json", "bvh")
log = logging.getLogger(__name__)


def csv_columns(with_root: bool) -> list[str]:
    """Column names of the CSV export."""
    cols = ["frame_index", "t_capture", "t_publish", "has_person", "person_id"]
    for name in JOINT_NAMES:
        cols += [f"{name}_x", f"{name}_y", f"{name}_z", f"{name}_u", f"{name}_v", f"{name}_conf"]
    return cols + (["root_x", "root_y", "root_z"] if with_root else [])


def export_csv(session: Session, out: Path) -> Path:
    """Write the CSV table of ``session`` to ``out``: one row per person per frame."""
    with_root = any(p.root_translation is not None for f in session.frames for p in f.people)
    with open(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(csv_columns(with_root))
        for f in session.frames:
            for person in f.people or [None]:
                writer.writerow(_csv_row(f, person, with_root))
    return out


def _csv_row(frame, person: PersonPose | None, with_root: bool) -> list[Any]:
    """One row: the frame's times, then the person's id and arrays (empty cells for nobody)."""
    row: list[Any] = [frame.frame_index, f"{frame.t_capture:.6f}", f"{frame.t_publish:.6f}", int(frame.has_person),
                      "" if person is None else int(person.id)]
    joints, keypoints, confidence = ((None, None, None) if person is None
                                     else (person.joints_3d, person.keypoints_2d, person.confidence))
    for j in range(NUM_JOINTS):
        row += _cells(joints, j, 3) + _cells(keypoints, j, 2) + _cells(confidence, j, 1)
    if with_root:
        root = None if person is None else person.root_translation
        row += [_num(v) for v in root] if root is not None else ["", "", ""]
    return row


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
                                 "t_publish": f.t_publish, "has_person": f.has_person,
                                 "people": [_json_person(p) for p in f.people]}
        for name, array in f.arrays.items():  # the frame's own arrays and the first person's
            entry[name] = float_lists(np.atleast_1d(array))
        frames.append(entry)
    doc = {"metadata": session.metadata, "joint_names": list(JOINT_NAMES), "parents": list(PARENTS),
           "units": UNITS, "frame_of_reference": FRAME_OF_REFERENCE,
           "fps": session.fps, "truncated": session.truncated, "problems": session.problems,
           "missing": [list(r) for r in session.missing], "frames": frames}
    out.write_text(json.dumps(doc, separators=(",", ":")), encoding="utf-8")
    return out


def _json_person(person: PersonPose) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": int(person.id)}
    entry.update({k: v for k, v in (("scale", person.scale), ("position", person.position)) if v is not None})
    entry.update({name: float_lists(np.atleast_1d(array)) for name, array in person_arrays(person).items()})
    return entry


def uniform_timeline(t_capture: np.ndarray, frame_time: float) -> np.ndarray:
    """For each slot of a uniform ``frame_time`` grid from the first capture to the last, the index of
    the last recorded frame captured at or before it: frames the pipeline dropped are held, so the clip
    plays at the recorded speed. Without drops it is ``arange(len(t_capture))``."""
    slots = np.rint((t_capture - t_capture[0]) / frame_time).astype(np.int64)
    slots = np.maximum.accumulate(slots)
    grid = np.arange(int(slots[-1]) + 1)
    return np.searchsorted(slots, grid, side="right") - 1


def person_ids(session: Session) -> list[int]:
    """The track ids of everybody in ``session``, in order (``[0]`` for a single-person session)."""
    return sorted({int(p.id) for f in session.frames for p in f.people if p.joints_3d is not None})


def person_bvh_path(out: Path, person_id: int) -> Path:
    """The BVH file of one person of a session of several: ``<out stem>_person<ID>.bvh``."""
    return out.with_name(f"{out.stem}_person{person_id}{out.suffix or '.bvh'}")


def export_bvh(session: Session, out: Path, unit: str = "m", per_frame_lengths: bool = False,
               timeline: str = "uniform", person_id: int | None = None) -> Path:
    """Write one person's BVH clip of ``session`` to ``out``: the skeleton solver's humanoid and
    rotations (``semgcn.bvh.write``; with the session's BlazePose landmarks, when it carries them, for
    the head, hands and feet).

    Args:
        session: the recorded session.
        out: the ``.bvh`` file.
        unit: ``"m"``, ``"cm"`` or ``"mm"``.
        per_frame_lengths: add position channels that put every joint where the recording had it
            (see ``semgcn.bvh.write.BvhExportOptions``).
        timeline: ``"uniform"``: one BVH frame per frame interval of the capture clock, holding the
            previous frame over dropped ones (plays at the recorded speed); ``"frames"``: one BVH frame
            per recorded frame.
        person_id: whose clip (frames without them hold their previous pose); None: each frame's
            first person, which is the one person of a single-person session.
    Raises:
        ValueError: when no frame has that person, or for an unknown ``timeline``.
    """
    clip = solve_session(bvh_frames(session, timeline), person_id)
    text = clip_to_bvh(clip, 1.0 / session.fps, BvhExportOptions(unit=unit, per_frame_lengths=per_frame_lengths))
    return write_bvh(out, text)


def export_bvh_people(session: Session, out: Path, unit: str = "m", per_frame_lengths: bool = False,
                      timeline: str = "uniform") -> dict[int, Path]:
    """Write one BVH clip per person of ``session`` (see :func:`export_bvh` for the options): ``out``
    itself for a session of one person, else ``<out stem>_person<ID>.bvh`` for each id. A person whose
    clip cannot be solved (seen too briefly to estimate their bones) is left out with a warning.

    Returns:
        The files written, by person id.
    Raises:
        ValueError: when nobody could be exported (no frame with a person), or for an unknown ``timeline``.
    """
    ids = person_ids(session)
    if len(ids) <= 1:
        return {ids[0] if ids else 0: export_bvh(session, out, unit, per_frame_lengths, timeline)}
    written, failures = {}, []
    for person_id in ids:
        try:
            written[person_id] = export_bvh(session, person_bvh_path(out, person_id), unit, per_frame_lengths,
                                            timeline, person_id)
        except ValueError as exc:
            log.warning("BVH export: person %d left out: %s", person_id, exc)
            failures.append(f"person {person_id}: {exc}")
    if not written:
        raise ValueError("no person could be exported as BVH (" + "; ".join(failures) + ")")
    return written


def bvh_frames(session: Session, timeline: str = "uniform") -> list:
    """The session's frames as the BVH clip shows them (``timeline``: see :func:`export_bvh`)."""
    if timeline not in ("uniform", "frames"):
        raise ValueError(f"timeline must be 'uniform' or 'frames', got {timeline!r}")
    frames = session.frames
    if timeline == "uniform" and frames:
        t_capture = np.array([f.t_capture for f in frames])
        frames = [frames[i] for i in uniform_timeline(t_capture, 1.0 / session.fps)]
    return frames


def _find_person(frame, person_id: int | None) -> PersonPose | None:
    """The frame's person of that id (None: its first person), if lifted; else None."""
    person = frame.person if person_id is None else next((p for p in frame.people if p.id == person_id), None)
    return person if person is not None and person.joints_3d is not None else None


def solve_session(frames: list, person_id: int | None = None) -> ClipSolution:
    """The skeleton solver's clip of one person of recorded frames (solver frame = BVH axes); frames
    without that person count as frames with nobody (``person_id`` None: each frame's first person)."""
    people = [_find_person(f, person_id) for f in frames]
    joints, valid, roots = _bvh_inputs(people)
    landmarks = [None if p is None else landmark_points(p) for p in people]
    return solve_recording(joints, valid, roots, landmarks if any(lm is not None for lm in landmarks) else None)


def _bvh_inputs(people: list) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    valid = np.array([p is not None for p in people], dtype=bool)
    joints = np.zeros((len(people), NUM_JOINTS, 3))
    roots = np.zeros((len(people), 3))
    have_root = True
    for i, person in enumerate(people):
        if person is not None:
            joints[i] = person.joints_3d
            have_root &= person.root_translation is not None
            roots[i] = person.root_translation if person.root_translation is not None else 0.0
    return joints, valid, roots if have_root and valid.any() else None
