"""Timing statistics for the live pipeline: per-stage durations, latency percentiles and frame rate.

Samples are kept in bounded ring buffers (``collections.deque(maxlen=...)``) so that a pipeline that
runs for days does not grow its memory; percentiles are computed over the most recent samples.
"""
from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

import numpy as np

#: Default number of recent samples kept per series.
DEFAULT_WINDOW = 10_000


@dataclass
class SeriesSummary:
    """Summary of one series of durations in milliseconds.

    Attributes:
        count: number of samples summarised.
        mean_ms: arithmetic mean.
        p50_ms: median.
        p99_ms: 99th percentile.
        max_ms: largest sample.
    """

    count: int
    mean_ms: float
    p50_ms: float
    p99_ms: float
    max_ms: float

    def as_dict(self) -> dict[str, float]:
        return {"count": self.count, "mean_ms": round(self.mean_ms, 3), "p50_ms": round(self.p50_ms, 3),
                "p99_ms": round(self.p99_ms, 3), "max_ms": round(self.max_ms, 3)}


def summarize(samples_ms) -> SeriesSummary:
    """Mean, p50, p99 and max of ``samples_ms`` (NaN for an empty series).

    Args:
        samples_ms: an iterable of durations in milliseconds.
    """
    values = np.asarray(list(samples_ms), dtype=np.float64)
    if values.size == 0:
        nan = float("nan")
        return SeriesSummary(0, nan, nan, nan, nan)
    p50, p99 = np.percentile(values, [50.0, 99.0])
    return SeriesSummary(int(values.size), float(values.mean()), float(p50), float(p99), float(values.max()))


class Series:
    """A bounded series of samples (milliseconds) with its summary.

    Args:
        window: how many recent samples to keep.
    """

    def __init__(self, window: int = DEFAULT_WINDOW):
        self._samples: deque[float] = deque(maxlen=window)
        self.total_count = 0

    def add(self, value_ms: float) -> None:
        self._samples.append(float(value_ms))
        self.total_count += 1

    def samples(self) -> list[float]:
        """The recent samples kept (oldest first)."""
        return list(self._samples)

    def summary(self) -> SeriesSummary:
        return summarize(self._samples)


def add_sample(table: dict[str, Series], name: str, value_ms: float) -> None:
    """Add ``value_ms`` to the series ``name`` of ``table``, made on its first sample (not with
    ``setdefault``, which would build a ``Series`` on every call, once per frame, to throw it away)."""
    series = table.get(name)
    if series is None:
        series = table[name] = Series()
    series.add(value_ms)


class RateMeter:
    """Frames per second over a sliding window of recent event times (for the on-screen overlay).

    Args:
        window: number of recent events the rate is measured over.
    """

    def __init__(self, window: int = 30):
        self._times: deque[float] = deque(maxlen=window)

    def tick(self, now: float | None = None) -> None:
        self._times.append(time.perf_counter() if now is None else now)

    def rate(self) -> float:
        if len(self._times) < 2 or self._times[-1] <= self._times[0]:
            return 0.0
        return (len(self._times) - 1) / (self._times[-1] - self._times[0])


@dataclass
class PipelineStats:
    """Everything the pipeline measures while it runs.

    Attributes:
        stages: per-stage duration series by stage name, in the order the stages first ran.
        latency: end-to-end latency series, capture to publish (ms).
        frames: frames processed and handed to the sinks.
        frames_with_person: of those, frames where a person was found and lifted.
        errors: frames published with an ``error`` field (NaN keypoints, lifter failure...).
        started_at: ``time.perf_counter()`` at the first processed frame.
        finished_at: ``time.perf_counter()`` at the last processed frame.

    Accuracy against ground truth is the evaluator's (``realtime.core.evaluation``), not kept here.
    """

    stages: dict[str, Series] = field(default_factory=dict)
    latency: Series = field(default_factory=Series)
    frames: int = 0
    frames_with_person: int = 0
    errors: int = 0
    started_at: float | None = None
    finished_at: float | None = None

    def add_stage(self, name: str, duration_ms: float) -> None:
        add_sample(self.stages, name, duration_ms)

    def mark_frame(self, now: float | None = None) -> None:
        now = time.perf_counter() if now is None else now
        if self.started_at is None:
            self.started_at = now
        self.finished_at = now
        self.frames += 1

    def fps(self) -> float:
        """Processed frames per second between the first and the last frame."""
        if self.frames < 2 or self.started_at is None or self.finished_at <= self.started_at:
            return float("nan")
        return (self.frames - 1) / (self.finished_at - self.started_at)

    def as_dict(self) -> dict:
        """A JSON-ready summary (used by the printed summary and tools/bench_live.py)."""
        return {
            "frames": self.frames,
            "frames_with_person": self.frames_with_person,
            "errors": self.errors,
            "fps": round(self.fps(), 3),
            "latency_ms": self.latency.summary().as_dict(),
            "stages_ms": {name: s.summary().as_dict() for name, s in self.stages.items()},
        }


class StageClock:
    """Times consecutive stages of one frame: ``clock.lap("detect")`` records the time since the last lap.

    Args:
        timings: dict the lap durations (ms) are written into, by stage name.
    """

    def __init__(self, timings: dict[str, float]):
        self.timings = timings
        self._last = time.perf_counter()

    def lap(self, stage: str) -> float:
        now = time.perf_counter()
        duration = (now - self._last) * 1e3
        self.timings[stage] = self.timings.get(stage, 0.0) + duration
        self._last = now
        return duration

