"""Pass 2 of an offline input: the whole clip at once, then the session and its exports, atomically.

``finish`` takes the chunks of pass 1 (``realtime.batch.chunk``) of one input and

1. stitches them (``realtime.batch.stitch``) and fails with one line when no frame could be read or
   nobody was found in any frame;
2. smooths each person's tracks with zero phase on constant bones (``realtime.batch.refine``);
3. runs the calibration stage of run_live (``calibration.stage.CalibrationStage``: scale, the
   person's position, the world frame) twice over the clip: once on copies, so that the floor it
   estimates from foot contacts is known from the first frame on, then for real;
4. runs run_live's ``solve`` stage (``realtime.core.skeleton_stage``), which finds each track's
   constant bones from its first frame (pass 2 made them constant) and adds the joint rotations;
5. records every frame with the recorder (``realtime.recording.recorder.Recorder``), then writes the
   exports from the session read back (``realtime.recording.exports``, ``ros2bag``).

Everything is written into ``DIR/.incomplete/NAME-<random>/`` and renamed into ``DIR`` only once
complete (the exports first, the session last), so a run killed at any moment leaves no file under a
final name that is not whole, and a job counts as done only when all its outputs are there.
"""
from __future__ import annotations

import copy
import os
import shutil
import time
import uuid
from pathlib import Path

from realtime.app.build import one_line
from realtime.batch.chunk import ChunkResult, calibration_factory
from realtime.batch.frames import InputInfo
from realtime.batch.jobs import INCOMPLETE, Job, Outcome
from realtime.batch.refine import refine
from realtime.batch.settings import OfflineSettings
from realtime.batch.stitch import stitch
from realtime.core.records import FrameResult
from realtime.core.skeleton_stage import SkeletonStage

SMOOTHING_KIND = "zero-phase Butterworth low-pass per track, forwards and backwards (scipy.signal.sosfiltfilt)"
BONES_KIND = "constant per track: the skeleton solver's robust median over the whole track (semgcn.solver.lengths)"


def finish(job: Job, info: InputInfo, settings: OfflineSettings, chunks: list[ChunkResult],
           run_info: dict | None = None) -> Outcome:
    """Pass 2 and the outputs of one input (module docstring); never raises for a bad input."""
    started = time.perf_counter()
    outcome = Outcome(job.input, job.name, "failed", chunks=len(chunks),
                      workers=[c.worker for c in chunks], seconds=sum(c.seconds for c in chunks))
    errors = [c.error for c in chunks if c.error]
    records = stitch(chunks) if not errors else []
    outcome.frames = len(records)
    outcome.frames_with_person = sum(r.has_person for r in records)
    outcome.redetections = _total([c.redetections for c in chunks])
    if errors:
        outcome.error = errors[0]
    elif not records:
        outcome.error = f"no frame could be read from {job.input}"
    elif not outcome.frames_with_person:
        outcome.error = f"nobody found in {len(records)} frames"
    else:
        try:
            outcome.outputs = _write(job, info, settings, records, outcome, run_info)
            outcome.status = "done"
        except (OSError, ValueError, ImportError) as exc:  # disk full, a failed export, rosbags missing
            outcome.error = f"writing the outputs failed: {one_line(exc)}"
    outcome.seconds += time.perf_counter() - started
    return outcome


def _write(job: Job, info: InputInfo, settings: OfflineSettings, records: list[FrameResult], outcome: Outcome,
           run_info: dict | None) -> list[str]:
    tracks = refine(records, info.fps, settings.smoothing)
    outcome.tracks = len(tracks)
    camera = _calibrate(records, settings)
    skeleton = SkeletonStage()
    for record in records:
        skeleton.process(record)
        # Offline there is no latency: the frame is "published" when it was captured, and its stage
        # timings would only make two runs of the same input differ.
        record.t_publish, record.latency_ms, record.timings_ms = record.t_capture, 0.0, {}
    metadata = _metadata(job, info, settings, outcome, tracks, records, camera, run_info)
    job.clear_incomplete()
    scratch = _scratch(job)
    try:
        finals = job.outputs(settings.formats)
        temporary = {key: scratch / path.name for key, path in finals.items()}
        _record(temporary["session"], records, metadata)
        _export(temporary, settings)
        for key in [k for k in finals if k != "session"] + ["session"]:  # the session last: it marks done
            _replace(temporary[key], finals[key])
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        job.clear_incomplete()  # and .incomplete/ itself, once nothing is left in it
    return [str(p) for p in finals.values()]


def _scratch(job: Job) -> Path:
    """A new folder under ``.incomplete/`` for this attempt (another job may remove ``.incomplete/``
    itself between our making it and our folder in it: then once more)."""
    scratch = Path(job.out_dir) / INCOMPLETE / f"{job.name}-{uuid.uuid4().hex[:12]}"
    for _ in range(3):
        try:
            scratch.mkdir(parents=True)
            return scratch
        except FileNotFoundError:
            continue
    scratch.mkdir(parents=True)
    return scratch


def _calibrate(records: list[FrameResult], settings: OfflineSettings) -> dict | None:
    """Run the calibration stage over the clip twice (module docstring, step 3); its camera header."""
    factory = calibration_factory(settings)
    if factory is None:
        return None
    stage = factory(records[0].image_size)
    for record in records:  # first on copies: the floor from the foot contacts of the whole clip
        stage.annotate(copy.deepcopy(record))
    for record in records:
        stage.annotate(record)
    return stage.camera_header()


def _record(path: Path, records: list[FrameResult], metadata: dict) -> None:
    from realtime.recording.recorder import Recorder
    recorder = Recorder(path, metadata)
    try:
        for record in records:
            recorder.consume(record)
    finally:
        recorder.close()
    if recorder.error:
        raise OSError(recorder.error)


def _export(paths: dict[str, Path], settings: OfflineSettings) -> None:
    from realtime.recording.exports import export_bvh, export_csv, export_json
    from realtime.recording.session_reader import read_session

    session = read_session(paths["session"])
    if not session.complete:
        raise ValueError(f"the session just written reads back incomplete: {session.loss_report()}")
    writers = {"bvh": export_bvh, "csv": export_csv, "json": export_json}
    for fmt in settings.formats:
        if fmt == "ros2bag":
            from realtime.recording.ros2bag import export_ros2bag
            export_ros2bag(session, paths[fmt])
        else:
            writers[fmt](session, paths[fmt])


def _replace(source: Path, target: Path) -> None:
    if target.is_dir():  # a bag folder from an earlier, unfinished job
        shutil.rmtree(target)
    os.replace(source, target)


def _metadata(job: Job, info: InputInfo, settings: OfflineSettings, outcome: Outcome, tracks: list,
              records: list[FrameResult], camera: dict | None, run_info: dict | None) -> dict:
    """How the session was made: the session's metadata (docs/offline.md)."""
    smoothing = settings.smoothing
    if camera is None:
        intrinsics = {"source": "none (the lifter's default camera)"}
    elif camera.get("calibrated"):
        intrinsics = {"source": "file", "file": camera.get("file"), "camera": camera}
    else:
        intrinsics = {"source": "assumed", "hfov_deg": camera.get("assumed_hfov_deg"), "camera": camera}
    return {"source": job.input, "mode": "offline", "input": {"kind": info.kind, "fps": info.fps,
            "frame_size": list(info.frame_size), "frames": outcome.frames},
            **(records[0].backends or {}), "calibration": settings.calibration, "intrinsics": intrinsics,
            "subject_height_m": settings.height,
            "smoothing": {"kind": SMOOTHING_KIND if smoothing.enabled else "none", "cutoff_hz": smoothing.cutoff_hz,
                          "depth_cutoff_hz": smoothing.depth_cutoff_hz, "order": smoothing.order,
                          "detector_landmark_smoothing": settings.detector_smoothing},
            "bone_lengths": {"kind": BONES_KIND if smoothing.constant_bones else "as lifted (the solver's own estimate)",
                             "tracks": [t.summary(records) for t in tracks]},
            "redetection": {**outcome.redetections, "options": vars(settings.redetect)},
            "chunks": {"count": outcome.chunks, "chunk_frames": settings.chunk_frames, "overlap": settings.overlap},
            "settings": settings.describe(), **(run_info or {})}


def _total(counts: list[dict]) -> dict:
    total: dict = {}
    for c in counts:
        for key, value in c.items():
            total[key] = total.get(key, 0) + value
    return total
