"""The live pipeline: capture -> 2D detector -> (undistort) -> SemGCN lifter -> stages -> every consumer.

Per frame the pipeline fills one ``realtime.core.records.FrameResult``: the detector's people, lifted
in one batched call; then the stages annotate it in order (smoothing, calibration, then any others,
such as the evaluator); then every consumer receives it (the publisher, the recorder, the overlay,
the bridges). Consumers only read the record; the first one that needs the wire message encodes it
(``realtime.stream.wire``), once for all.

Nothing that goes wrong with one frame stops the loop: nobody in the frame is still handed on (with
no people); a detector that failed, a pose with lost torso joints or a failing lifter give a frame
with no people and an ``error``; a failing consumer is reported once and left out from then on. A
detector or lifter that keeps failing is logged every ``warn_every_errors`` frames in a row; it ends
the run only when ``max_consecutive_errors`` is set.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from realtime.core.capture import CapturedFrame, CaptureSource, EndOfStream
from realtime.core.records import FrameResult, PersonPose
from realtime.core.stats import PipelineStats, StageClock
from semgcn.codec import prepare_keypoints

log = logging.getLogger(__name__)


class Consumer(Protocol):
    """What receives every frame: ``realtime.stream.Publisher``, ``realtime.recording.Recorder``, the
    overlay window, the bridges. ``name`` labels its time in the per-stage timings."""

    name: str

    def consume(self, result: FrameResult) -> Any: ...

    def close(self) -> Any: ...


class Stage(Protocol):
    """A step that annotates the record in place before the consumers see it (smoothing, the evaluator)."""

    name: str

    def process(self, result: FrameResult) -> None: ...


@dataclass
class PipelineOptions:
    """Options of ``Pipeline``.

    Attributes:
        max_frames: stop after this many processed frames (None: until the source ends or a stop).
        get_timeout_s: how long one wait for a frame may block before the stop flag is checked again.
        max_consecutive_errors: end the run when the detector or lifter failed this many frames in a
            row (None: never; a live stream keeps going and says what is wrong).
        warn_every_errors: log a warning each time this many frames in a row have failed.
        lost_below: detector confidence under which a joint counts as lost (0: only non-finite ones);
            see ``semgcn.codec.prepare_keypoints``.
        max_people: how many people the detector follows: above 1 the frames travel in the stream's
            schema ``semgcn.pose/2`` (a list of people), at 1 in ``semgcn.pose/1`` as always.
    """

    max_frames: int | None = None
    get_timeout_s: float = 0.25
    max_consecutive_errors: int | None = None
    warn_every_errors: int = 50
    lost_below: float = 0.0
    max_people: int = 1


@dataclass
class PipelineResult:
    """The outcome of ``Pipeline.run``.

    Attributes:
        stats: timings, latency and counts.
        stopped_by: "max_frames", "end_of_stream", "stop" (Ctrl-C, SIGTERM, window closed) or "error".
        error: the reason when ``stopped_by`` is "error", or when the source ended on an error.
        source_stats: the source's counters (captured, dropped_at_source...).
        consumer_errors: one line per consumer that failed and was left out.
    """

    stats: PipelineStats
    stopped_by: str
    error: str | None = None
    source_stats: dict[str, Any] = field(default_factory=dict)
    consumer_errors: list[str] = field(default_factory=list)


class Pipeline:
    """Runs frames through detector, lifter and stages and hands each record to the consumers.

    Args:
        detector: object with ``track(image_bgr, timestamp=seconds) -> list[detection]``, each with
            ``keypoints_2d`` (16, 2), ``confidence`` (16,) and ``track_id`` (``engines.detector.PoseDetector``;
            the timestamp drives its temporal smoothing).
        lifter: object with ``predict(kp (N, 16, 2), image_size, focal, center) -> (N, 16, 3)``
            (``engines.lifter.Lifter``).
        consumers: objects with ``name``, ``consume(result)`` and ``close()``.
        calibration: callable ``image_size -> stage`` building a ``calibration.stage.CalibrationStage``
            for the first frame's size (and again if the size changes), or None for none. Its
            ``undistort``, ``focal`` and ``center`` feed the lifter; its ``annotate`` runs after smoothing.
        smoother: the smoothing stage (``realtime.core.smoothing.SmoothingStage``), or None.
        stages: more stages, run in order after calibration (``realtime.core.evaluation.Evaluator``...).
        backends: names shown in the stream, e.g. ``{"detector": "onnxruntime", "lifter": "onnxruntime"}``.
        options: ``PipelineOptions``.
    """

    def __init__(self, detector, lifter, consumers: list[Consumer],
                 calibration: Callable[[tuple[int, int]], Any] | None = None, smoother: Stage | None = None,
                 stages: list[Stage] = (), backends: dict[str, str] | None = None,
                 options: PipelineOptions | None = None):
        self.detector, self.lifter = detector, lifter
        self.consumers = list(consumers)
        self.calibration_factory = calibration
        self.smoother = smoother
        self.stages = list(stages)
        self.backends = dict(backends or {})
        self.options = options or PipelineOptions()
        self.stats = PipelineStats()
        self.consumer_errors: list[str] = []
        self._calibration = None
        self._calibration_size: tuple[int, int] | None = None
        self._consecutive_errors = 0

    # -- one frame ----------------------------------------------------------------------------------
    def process(self, captured: CapturedFrame, dropped_at_source: int = 0) -> FrameResult:
        """Detect, lift, run the stages and hand the frame's record to every consumer."""
        t_start = time.time()
        h, w = captured.image.shape[:2]
        result = FrameResult(frame_index=captured.index, t_capture=captured.t_capture, image_size=(w, h),
                             source=captured.source, media_time=captured.media_time, image=captured.image,
                             seq=self.stats.frames, dropped_at_source=int(dropped_at_source),
                             backends=self.backends, smoothing=self.smoother is not None,
                             wire_major=2 if self.options.max_people > 1 else 1,
                             timings_ms={"wait": max(0.0, (t_start - captured.t_capture) * 1e3)})
        calibration = self._calibration_for((w, h))  # built on the first frame (and on a size change) only
        clock = StageClock(result.timings_ms)
        result.error = self._detect_and_lift(result, clock, calibration)
        if self.smoother is not None:
            self.smoother.process(result)
            clock.lap(self.smoother.name)
        if calibration is not None:
            calibration.annotate(result)
            clock.lap("calibrate")
        for stage in self.stages:
            stage.process(result)
            clock.lap(stage.name)
        result.t_publish = time.time()
        result.latency_ms = round((result.t_publish - captured.t_capture) * 1e3, 3)
        self._consume(result, clock)
        self._record(result, (time.time() - captured.t_capture) * 1e3)
        return result

    def _detect_and_lift(self, result: FrameResult, clock: StageClock, calibration) -> str | None:
        """Fill ``result.people``; returns an error line (None: people found, or nobody there)."""
        try:
            detections = self.detector.track(result.image, timestamp=result.timestamp)
        except Exception as exc:  # noqa: BLE001 - one bad frame must not end a live run
            clock.lap("detect")
            return self._failed(f"detector failed: {type(exc).__name__}: {exc}")
        clock.lap("detect")
        if not detections:
            self._consecutive_errors = 0
        people, error = [], None
        for det in detections:
            try:  # lost limb joints sit on their nearest kept ancestor, as in training
                keypoints, confidence = prepare_keypoints(det.keypoints_2d, det.confidence, self.options.lost_below)
            except ValueError as exc:  # misshaped, or a lost hip or shoulder: no body to lift
                error = f"no pose this frame: {exc}"
                continue
            people.append(PersonPose(id=int(getattr(det, "track_id", len(people))), keypoints_2d=keypoints,
                                     confidence=confidence,
                                     landmarks=getattr(det, "landmarks", None),
                                     world_landmarks=getattr(det, "world_landmarks", None)))
        if not people:
            return error
        try:
            self._lift(people, result.image_size, calibration)
        except Exception as exc:  # noqa: BLE001 - NaN input, lifter failure: report, keep streaming
            clock.lap("lift")
            return self._failed(f"lifter failed: {type(exc).__name__}: {exc}")
        clock.lap("lift")
        self._consecutive_errors = 0
        result.people = people
        return error

    def _lift(self, people: list[PersonPose], image_size: tuple[int, int], calibration) -> None:
        """Every person in one batched lifter call, in the calibration's ideal (undistorted) camera."""
        for person in people:
            person.lift_input = (calibration.undistort(person.keypoints_2d) if calibration is not None
                                 else person.keypoints_2d).astype(np.float32)
        focal = calibration.focal if calibration is not None else None
        center = calibration.center if calibration is not None else None
        joints = np.asarray(self.lifter.predict(np.stack([p.lift_input for p in people]), image_size=image_size,
                                                focal=focal, center=center), dtype=np.float32)
        joints = joints.reshape(len(people), -1, 3)
        if not np.all(np.isfinite(joints)):
            raise ValueError("lifter returned non-finite joints")
        for person, pose in zip(people, joints):
            person.joints_3d = pose

    def _failed(self, message: str) -> str:
        self._consecutive_errors += 1
        return message

    def _calibration_for(self, image_size: tuple[int, int]):
        if self.calibration_factory is None:
            return None
        if self._calibration is None or self._calibration_size != tuple(image_size):
            self._calibration = self.calibration_factory(tuple(image_size))
            self._calibration_size = tuple(image_size)
        return self._calibration

    def _consume(self, result: FrameResult, clock: StageClock) -> None:
        for consumer in list(self.consumers):
            try:
                consumer.consume(result)
            except Exception as exc:  # noqa: BLE001 - a full disk must not stop the stream
                line = f"{consumer.name} ({type(consumer).__name__}) failed and was left out: {type(exc).__name__}: {exc}"
                self.consumer_errors.append(line)
                log.warning(line)
                self.consumers.remove(consumer)
            clock.lap(consumer.name)

    def _record(self, result: FrameResult, latency_ms: float) -> None:
        stats = self.stats
        stats.mark_frame()
        stats.latency.add(latency_ms)
        for name, value in result.timings_ms.items():
            stats.add_stage(name, value)
        stats.errors += result.error is not None
        stats.frames_with_person += result.has_person

    def warm_up(self, image_size: tuple[int, int]) -> None:
        """Run the detector and the lifter once on dummy input, so that the first real frame does not
        pay for lazy initialisation (memory allocation, kernel selection) in its latency."""
        w, h = image_size
        try:
            self.detector.track(np.zeros((h, w, 3), np.uint8))
            ys = np.linspace(0.3 * h, 0.8 * h, 16, dtype=np.float32)
            xs = w / 2 + 0.05 * w * np.sin(np.arange(16, dtype=np.float32))
            self.lifter.predict(np.stack([xs, ys], axis=1)[None], image_size=(w, h))
        except Exception as exc:  # noqa: BLE001 - warm-up is an optimisation, the run reports real errors
            log.warning("warm-up failed: %s: %s", type(exc).__name__, exc)
        for stage in (self.smoother, *self.stages):
            if stage is not None and hasattr(stage, "reset"):
                stage.reset()

    # -- the loop -----------------------------------------------------------------------------------
    def run(self, source: CaptureSource, stop_event: threading.Event | None = None,
            on_frame: Callable[[FrameResult], bool | None] | None = None) -> PipelineResult:
        """Process frames from ``source`` until it ends, ``max_frames``, ``stop_event`` or an error.

        The source is started here and stopped, and every consumer closed, before this returns,
        whatever ends the run (so a recording is always flushed).

        Args:
            source: a ``realtime.core.capture.CaptureSource``.
            stop_event: set it (signal handler, another thread, a closed window) to stop after the
                current frame.
            on_frame: called with each ``FrameResult`` after the consumers; returning False stops the run.
        """
        stop_event = stop_event or threading.Event()
        stopped_by, error = "stop", None
        source.start()
        try:
            while not stop_event.is_set():
                if self.options.max_frames is not None and self.stats.frames >= self.options.max_frames:
                    stopped_by = "max_frames"
                    break
                try:
                    captured = source.get(timeout=self.options.get_timeout_s)
                except EndOfStream:
                    stopped_by, error = "end_of_stream", source.error
                    break
                if captured is None:
                    continue
                result = self.process(captured, source.dropped)
                failed = self._consecutive_errors
                if failed and failed % self.options.warn_every_errors == 0:
                    log.warning("%d frames in a row failed: %s", failed, result.error)
                if self.options.max_consecutive_errors and failed >= self.options.max_consecutive_errors:
                    stopped_by, error = "error", f"{failed} frames failed in a row: {result.error}"
                    break
                if on_frame is not None and on_frame(result) is False:
                    break
        finally:
            source.stop()
            self.close()
        return PipelineResult(self.stats, stopped_by, error, source.stats(), list(self.consumer_errors))

    def close(self) -> None:
        """Close every consumer (idempotent), reporting failures instead of raising."""
        for consumer in self.consumers:
            try:
                consumer.close()
            except Exception as exc:  # noqa: BLE001 - keep closing the others
                log.warning("closing %s failed: %s", type(consumer).__name__, exc)
        self.consumers = []
