"""The live pipeline: capture -> 2D detector -> (undistort) -> SemGCN lifter -> smoothing -> calibration
-> encode once -> every sink (publisher, recorder).

Each frame is encoded once with ``realtime.wire.encode``; its header carries the per-stage timings,
the capture-to-publish latency, the dropped-frame counts, the backends and the camera calibration.
Nothing that goes wrong with one frame stops the loop: nobody in the frame is published with
``has_person: false``; non-finite keypoints or a failing lifter are published the same way with an
``error`` field; a failing sink is reported once and left out from then on. A detector or lifter that
keeps failing is reported on stderr every ``warn_every_errors`` frames in a row; it ends the run only
when ``max_consecutive_errors`` is set.
"""
from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from realtime.filters import PoseSmoother
from realtime.sources import CapturedFrame, CaptureSource, EndOfStream
from realtime.stats import PipelineStats, StageClock
from realtime.wire import Frame, encode
from semgcn.codec import fill_lost_limbs
from semgcn.metrics import pose_errors_mm


class Sink(Protocol):
    """Anything that takes encoded frames: ``realtime.publisher.Publisher``, ``realtime.recorder.Recorder``."""

    def write(self, parts: list[bytes]) -> Any: ...

    def close(self) -> Any: ...


@dataclass
class PipelineOptions:
    """Options of ``Pipeline``.

    Attributes:
        max_frames: stop after this many processed frames (None: until the source ends or a stop).
        include_ground_truth: add the demo's ground truth to the stream as arrays ``gt_joints_3d``
            (16, 3) m root-relative, ``gt_keypoints_2d`` (16, 2) px and ``gt_root_translation`` (3,) m.
        get_timeout_s: how long one wait for a frame may block before the stop flag is checked again.
        max_consecutive_errors: end the run when the detector or lifter failed this many frames in a
            row (None: never; a live stream keeps going and says what is wrong).
        warn_every_errors: print a warning each time this many frames in a row have failed.
        lost_below: detector confidence under which a joint counts as lost (0: only non-finite ones).
            A lost limb joint or head is moved onto its nearest kept ancestor before lifting (the
            lifter's training convention, docs/normalisation.md) and published with confidence 0; a
            lost hip or shoulder means no pose for that frame.
    """

    max_frames: int | None = None
    include_ground_truth: bool = True
    get_timeout_s: float = 0.25
    max_consecutive_errors: int | None = None
    warn_every_errors: int = 50
    lost_below: float = 0.0


@dataclass
class FrameResult:
    """What the pipeline made of one captured frame (handed to the ``on_frame`` callback).

    Attributes:
        captured: the source's frame (with its image, for the overlay).
        frame: the stream frame as encoded.
        parts: the encoded multipart message.
        timings_ms: per-stage durations of this frame.
        latency_ms: capture-to-publish latency (after every sink took the message).
        error: why no pose was published although a person was seen, or None.
    """

    captured: CapturedFrame
    frame: Frame
    parts: list[bytes]
    timings_ms: dict[str, float]
    latency_ms: float
    error: str | None = None


@dataclass
class PipelineResult:
    """The outcome of ``Pipeline.run``.

    Attributes:
        stats: timings, latency, accuracy (demo) and counts.
        stopped_by: "max_frames", "end_of_stream", "stop" (Ctrl-C, SIGTERM, window closed) or "error".
        error: the reason when ``stopped_by`` is "error", or when the source ended on an error.
        source_stats: the source's counters (captured, dropped_at_source...).
        sink_errors: one line per sink that failed and was left out.
    """

    stats: PipelineStats
    stopped_by: str
    error: str | None = None
    source_stats: dict[str, Any] = field(default_factory=dict)
    sink_errors: list[str] = field(default_factory=list)


class Pipeline:
    """Runs frames through detector, lifter, smoother and calibration and hands them to the sinks.

    Args:
        detector: callable ``detector(image_bgr, timestamp=seconds) -> result | None``
            (``engines.detector.PoseDetector``; the timestamp drives its temporal smoothing).
        lifter: object with ``predict(kp (16, 2), image_size, focal, center) -> (16, 3)``
            (``engines.lifter.Lifter``).
        sinks: objects with ``write(parts)`` and ``close()``.
        calibration: callable ``image_size -> stage`` building a ``calibration.stage.CalibrationStage``
            for the first frame's size (and again if the size changes), or None for none.
        smoother: a ``realtime.filters.PoseSmoother``, or None for no smoothing.
        backends: names shown in the header, e.g. ``{"detector": "onnxruntime", "lifter": "onnxruntime"}``.
        options: ``PipelineOptions``.
    """

    def __init__(self, detector, lifter, sinks: list[Sink], calibration: Callable[[tuple[int, int]], Any] | None = None,
                 smoother: PoseSmoother | None = None, backends: dict[str, str] | None = None,
                 options: PipelineOptions | None = None):
        self.detector, self.lifter = detector, lifter
        self.sinks = list(sinks)
        self.calibration_factory = calibration
        self.smoother = smoother
        self.backends = dict(backends or {})
        self.options = options or PipelineOptions()
        self.stats = PipelineStats()
        self.sink_errors: list[str] = []
        self._calibration = None
        self._calibration_size: tuple[int, int] | None = None
        self._consecutive_errors = 0

    # -- one frame ----------------------------------------------------------------------------------
    def process(self, captured: CapturedFrame, dropped_at_source: int = 0) -> FrameResult:
        """Detect, lift, smooth, calibrate, encode and write one frame to every sink."""
        t_start = time.time()
        timings: dict[str, float] = {"wait": max(0.0, (t_start - captured.t_capture) * 1e3)}
        h, w = captured.image.shape[:2]
        stage = self._calibration_for((w, h))  # built on the first frame (and on a size change) only
        clock = StageClock(timings)
        frame = Frame(frame_index=captured.index, t_capture=captured.t_capture, image_size=(w, h),
                      source=captured.source)
        error, undistorted = self._estimate_pose(captured, frame, clock, stage)
        if stage is not None:
            stage.annotate(frame, undistorted)
            clock.lap("calibrate")
        if self.options.include_ground_truth and captured.ground_truth is not None:
            self._add_ground_truth(frame, captured.ground_truth)
        extra = {"seq": self.stats.frames, "timings_ms": {k: round(v, 3) for k, v in timings.items()},
                 "dropped": {"at_source": int(dropped_at_source)}, "backends": self.backends,
                 "smoothing": self.smoother is not None}
        if error:
            extra["error"] = error
        t_publish = time.time()
        extra["latency_ms"] = round((t_publish - captured.t_capture) * 1e3, 3)
        parts = encode(frame, extra, t_publish=t_publish)
        clock.lap("encode")
        self._write(parts, captured)
        clock.lap("publish")
        latency_ms = (time.time() - captured.t_capture) * 1e3
        self._record(frame, captured, timings, latency_ms, error)
        return FrameResult(captured, frame, parts, timings, latency_ms, error)

    def _estimate_pose(self, captured: CapturedFrame, frame: Frame, clock: StageClock,
                       stage) -> tuple[str | None, np.ndarray | None]:
        """Fill ``frame``'s 2D and 3D arrays.

        ``stage`` is the frame's calibration stage (undistortion and intrinsics for the lifter), or None.
        Returns an error line or None (person found or nobody), and the undistorted keypoints given to
        the lifter (None without a pose), which the calibration stage reuses.
        """
        try:
            detection = self.detector(captured.image, timestamp=captured.timestamp)
        except Exception as exc:  # noqa: BLE001 - one bad frame must not end a live run
            clock.lap("detect")
            return self._failed(f"detector failed: {type(exc).__name__}: {exc}"), None
        clock.lap("detect")
        if detection is None:
            self._consecutive_errors = 0
            self._smooth(None, captured.timestamp)
            return None, None
        keypoints = np.asarray(detection.keypoints_2d, dtype=np.float32)
        confidence = np.asarray(detection.confidence, dtype=np.float32)
        if keypoints.shape != (16, 2) or confidence.shape != (16,):
            self._smooth(None, captured.timestamp)
            return "detector returned misshaped keypoints; no pose this frame", None
        lost = self._lost_joints(keypoints, confidence)
        if lost.any():
            try:  # a lost limb joint sits on its nearest kept ancestor, as in training
                keypoints = fill_lost_limbs(keypoints, lost).astype(np.float32)
            except ValueError as exc:  # a lost hip or shoulder: no body to lift
                self._smooth(None, captured.timestamp)
                return f"detector lost a joint (non-finite or under lost_below): {exc}", None
            confidence = np.where(lost, 0.0, confidence).astype(np.float32)
        try:
            lift_input = stage.undistort(keypoints) if stage is not None else keypoints
            focal = stage.focal if stage is not None else None
            center = stage.center if stage is not None else None
            joints = np.asarray(self.lifter.predict(lift_input, image_size=frame.image_size, focal=focal,
                                                    center=center), dtype=np.float32).reshape(16, 3)
            if not np.all(np.isfinite(joints)):
                raise ValueError("lifter returned non-finite joints")
        except Exception as exc:  # noqa: BLE001 - NaN input, lifter failure: report, keep streaming
            clock.lap("lift")
            self._smooth(None, captured.timestamp)
            return self._failed(f"lifter failed: {type(exc).__name__}: {exc}"), None
        clock.lap("lift")
        self._consecutive_errors = 0
        if self.smoother is not None:
            joints = self._smooth(joints, captured.timestamp)
            clock.lap("smooth")
        frame.keypoints_2d, frame.confidence, frame.joints_3d = keypoints, confidence, joints
        return None, lift_input

    def _lost_joints(self, keypoints: np.ndarray, confidence: np.ndarray) -> np.ndarray:
        """Joints the detector lost: non-finite, or below ``options.lost_below`` confidence."""
        lost = ~np.isfinite(keypoints).all(axis=1) | ~np.isfinite(confidence)
        return lost | (confidence < self.options.lost_below)

    def _smooth(self, joints, t: float):
        return self.smoother(joints, t) if self.smoother is not None else joints

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

    @staticmethod
    def _add_ground_truth(frame: Frame, truth: dict) -> None:
        for key in ("joints_3d", "keypoints_2d", "root_translation"):
            if truth.get(key) is not None:
                frame.arrays[f"gt_{key}"] = np.asarray(truth[key], dtype=np.float32)

    def _write(self, parts: list[bytes], captured: CapturedFrame) -> None:
        for sink in list(self.sinks):
            try:
                sink.write(parts)
                if hasattr(sink, "write_image"):  # a recorder keeping the video beside the poses
                    sink.write_image(captured.image, captured.index, captured.t_capture)
            except Exception as exc:  # noqa: BLE001 - a full disk must not stop the stream
                line = f"sink {type(sink).__name__} failed and was left out: {type(exc).__name__}: {exc}"
                self.sink_errors.append(line)
                print(f"warning: {line}", file=sys.stderr, flush=True)
                self.sinks.remove(sink)

    def _record(self, frame: Frame, captured: CapturedFrame, timings: dict, latency_ms: float, error) -> None:
        stats = self.stats
        stats.mark_frame()
        stats.latency.add(latency_ms)
        for name, value in timings.items():
            stats.add_stage(name, value)
        if error:
            stats.errors += 1
        if frame.joints_3d is not None:
            stats.frames_with_person += 1
            truth = captured.ground_truth
            if truth is not None and truth.get("joints_3d") is not None:
                stats.add_accuracy(pose_errors_mm(frame.joints_3d[None], np.asarray(truth["joints_3d"])[None]))
            root = frame.arrays.get("root_translation")
            if truth is not None and root is not None and truth.get("root_translation") is not None:
                # Absolute position of the pelvis (calibration stage), camera frame.
                error = float(np.linalg.norm(root - np.asarray(truth["root_translation"])) * 1e3)
                stats.add_accuracy({"root_position_mm": error})

    def warm_up(self, image_size: tuple[int, int]) -> None:
        """Run the detector and the lifter once on dummy input, so that the first real frame does not
        pay for lazy initialisation (memory allocation, kernel selection) in its latency."""
        w, h = image_size
        try:
            self.detector(np.zeros((h, w, 3), np.uint8))
            ys = np.linspace(0.3 * h, 0.8 * h, 16, dtype=np.float32)
            xs = w / 2 + 0.05 * w * np.sin(np.arange(16, dtype=np.float32))
            self.lifter.predict(np.stack([xs, ys], axis=1), image_size=(w, h))
        except Exception as exc:  # noqa: BLE001 - warm-up is an optimisation, the run reports real errors
            print(f"warning: warm-up failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        if self.smoother is not None:
            self.smoother.reset()

    # -- the loop -----------------------------------------------------------------------------------
    def run(self, source: CaptureSource, stop_event: threading.Event | None = None,
            on_frame: Callable[[FrameResult], bool | None] | None = None) -> PipelineResult:
        """Process frames from ``source`` until it ends, ``max_frames``, ``stop_event`` or an error.

        The source is started here and stopped, and every sink closed, before this returns, whatever
        ends the run (so a recording is always flushed).

        Args:
            source: a ``realtime.sources.CaptureSource``.
            stop_event: set it (signal handler, another thread) to stop after the current frame.
            on_frame: called with each ``FrameResult``; returning False stops the run (overlay closed).
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
                    print(f"warning: {failed} frames in a row failed: {result.error}", file=sys.stderr, flush=True)
                if self.options.max_consecutive_errors and failed >= self.options.max_consecutive_errors:
                    stopped_by, error = "error", f"{failed} frames failed in a row: {result.error}"
                    break
                if on_frame is not None and on_frame(result) is False:
                    break
        finally:
            source.stop()
            self.close()
        return PipelineResult(self.stats, stopped_by, error, source.stats(), list(self.sink_errors))

    def close(self) -> None:
        """Close every sink (idempotent), reporting failures instead of raising."""
        for sink in self.sinks:
            try:
                sink.close()
            except Exception as exc:  # noqa: BLE001 - keep closing the others
                print(f"warning: closing {type(sink).__name__} failed: {exc}", file=sys.stderr)
        self.sinks = []
