"""Pass 1 of an offline input: detect and lift every frame of one chunk, on the live pipeline.

Each frame goes through ``realtime.core.pipeline.Pipeline.process`` with run_live's detector (wrapped
by ``realtime.batch.redetect``), its lifter and its calibration's camera (undistortion, focal length
and principal point feed the lifter), so every person the pipeline finds, with its id, comes out as in
live mode. What must see the whole clip waits for pass 2 (``realtime.batch.finish``): the smoothing,
the bone lengths, the calibration's per-frame work (scale, position, world frame) and the skeleton.

``run_chunk`` is what one task runs (locally or as a Ray task): it never raises for a bad input,
it returns a ``ChunkResult`` whose ``error`` says in one line what went wrong.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import SimpleNamespace

from realtime.batch.engines import engines_for, load_count
from realtime.batch.frames import Chunk, InputError, InputInfo, read_frames
from realtime.batch.redetect import EveryFrameDetector, RedetectingDetector
from realtime.batch.settings import OfflineSettings
from realtime.core.capture import CapturedFrame
from realtime.core.pipeline import Pipeline, PipelineOptions
from realtime.core.records import FrameResult

#: Progress is reported every this many frames (a Ray task sends each report as a message).
REPORT_EVERY = 25


@dataclass
class ChunkResult:
    """What pass 1 made of one chunk.

    Attributes:
        chunk: the chunk.
        frames: one record per frame read (the overlap included), images dropped, in frame order.
        redetections: ``RedetectCounts.as_dict()`` of the chunk.
        seconds: wall time of the chunk.
        worker: ``{"pid", "loads"}``: the process that ran it and how often it had loaded the models.
        error: one line when the chunk could not be processed (then ``frames`` is empty).
    """

    chunk: Chunk
    frames: list[FrameResult] = field(default_factory=list)
    redetections: dict = field(default_factory=dict)
    seconds: float = 0.0
    worker: dict = field(default_factory=dict)
    error: str | None = None


class LensOnly:
    """The calibration stage's camera for the lifter; its per-frame work is left to pass 2."""

    def __init__(self, stage):
        self.undistort, self.focal, self.center = stage.undistort, stage.focal, stage.center

    def annotate(self, result: FrameResult) -> None:
        """Nothing yet: scale, position and world frame need the smoothed poses (pass 2)."""


def calibration_factory(settings: OfflineSettings):
    """``image_size -> CalibrationStage`` for the settings' camera (a file, or assumed intrinsics)."""
    from realtime.app.build import make_calibration
    args = SimpleNamespace(calibration=settings.calibration, height=settings.height, scale=settings.scale,
                           world=settings.world, up=settings.up)
    return make_calibration(args, None)


def detect_and_lift(frames: Iterable[CapturedFrame], settings: OfflineSettings,
                    report: Callable[[int], None] | None = None) -> tuple[list[FrameResult], dict]:
    """Every frame of ``frames`` through ``Pipeline.process`` (module docstring); the records, without
    their images, and the re-detection counts."""
    engines = engines_for(settings)
    detector = RedetectingDetector(engines.detector, settings.redetect) if settings.detector_tracking \
        else EveryFrameDetector(engines.detector)
    detector.reset()  # a chunk never inherits the tracking of the worker's previous task
    factory = calibration_factory(settings)
    options = PipelineOptions(lost_below=settings.lost_below, max_people=settings.max_people)
    pipeline = Pipeline(detector, engines.lifter, [], calibration=(lambda size: LensOnly(factory(size))) if factory else None,
                        backends=engines.names, options=options)
    records, pending = [], 0
    for frame in frames:
        result = pipeline.process(frame)
        result.image = None
        records.append(result)
        pending += 1
        if report is not None and pending >= REPORT_EVERY:
            report(pending)
            pending = 0
    if report is not None and pending:
        report(pending)
    return records, detector.counts.as_dict()


def canonical_ids(records: list[FrameResult]) -> None:
    """Number a chunk's person ids 0, 1, 2... in order of first appearance, in place."""
    mapping: dict[int, int] = {}
    for record in records:
        for person in record.people:
            person.id = mapping.setdefault(person.id, len(mapping))


def run_chunk(info: InputInfo, chunk: Chunk, settings: OfflineSettings,
              report: Callable[[int], None] | None = None) -> ChunkResult:
    """Pass 1 of one chunk (one task). Bad input is an ``error`` line, never an exception."""
    started = time.perf_counter()
    out = ChunkResult(chunk)
    try:
        out.frames, out.redetections = detect_and_lift(read_frames(info, chunk), settings, report)
        canonical_ids(out.frames)
    except (InputError, ValueError, OSError) as exc:  # a calibration for another aspect ratio, a read error
        out.error = " ".join(str(exc).split()) or type(exc).__name__
    out.seconds = time.perf_counter() - started
    out.worker = {"pid": os.getpid(), "loads": load_count()}
    return out
