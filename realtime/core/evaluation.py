"""Measuring the live 3D against ground truth, for sources that have it (the demo).

The pipeline knows nothing of ground truth. A source that has it implements ``GroundTruthSource``
(``ground_truth(frame_index)``), and it plugs in the ``Evaluator`` that ``Evaluator.for_source`` makes
for it, in two places: its ``truth_stage`` (a stage named "ground_truth") attaches the truth to each
person as the stream arrays ``gt_joints_3d``, ``gt_keypoints_2d`` and ``gt_root_translation``, so that a
subscriber can measure its own processing against it; the evaluator itself, a consumer named
"evaluate", compares each published frame's people with the truth and keeps the errors, after the
frame has gone out (no cost to the latency).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from realtime.core.records import FrameResult, PersonPose
from realtime.core.stats import Series
from semgcn.metrics import pose_errors_mm


#: The units an error metric's name ends with.
METRIC_UNITS = ("_mm", "_deg")


@dataclass
class GroundTruth:
    """The true pose of one person in one frame.

    Attributes:
        keypoints_2d: ``(16, 2)`` pixels, the projection of the true joints.
        joints_3d: ``(16, 3)`` metres, camera frame, pelvis at the origin.
        root_translation: ``(3,)`` metres, the true pelvis in the camera frame.
    """

    keypoints_2d: np.ndarray
    joints_3d: np.ndarray
    root_translation: np.ndarray


@runtime_checkable
class GroundTruthSource(Protocol):
    """A capture source that knows the true poses of the frames it made."""

    def ground_truth(self, frame_index: int) -> list[GroundTruth] | None:
        """The true people of frame ``frame_index`` (None: not known, e.g. too old)."""


class TruthStage:
    """The pipeline stage that attaches each person's ground truth as ``gt_*`` stream arrays."""

    name = "ground_truth"

    def __init__(self, pairs: Callable[[FrameResult], list[tuple[PersonPose, GroundTruth]]]):
        self._pairs = pairs

    def process(self, result: FrameResult) -> None:
        for person, truth in self._pairs(result):
            person.extra_arrays.update(gt_joints_3d=truth.joints_3d, gt_keypoints_2d=truth.keypoints_2d,
                                       gt_root_translation=truth.root_translation)


class Evaluator:
    """A consumer measuring each frame's 3D against the ground truth; ``truth_stage`` publishes the truth.

    Args:
        truth_of: ``frame_index -> list[GroundTruth] | None``.
    Attributes:
        accuracy: per metric of ``semgcn.metrics.pose_errors_mm`` and ``root_position_mm`` the series of
            per-frame errors, in the unit its name ends with (``_mm``, ``_deg``).
        truth_stage: the stage that puts the truth on the stream (add it to the pipeline's stages).
    """

    name = "evaluate"

    def __init__(self, truth_of: Callable[[int], list[GroundTruth] | None]):
        self.truth_of = truth_of
        self.accuracy: dict[str, Series] = {}
        self.truth_stage = TruthStage(self._pairs)

    @classmethod
    def for_source(cls, source) -> "Evaluator | None":
        """An evaluator for ``source`` when it has ground truth, else None."""
        if isinstance(source, GroundTruthSource):
            return cls(source.ground_truth)
        return None

    def consume(self, result: FrameResult) -> None:
        """Measure each person's error against the truth."""
        for person, truth in self._pairs(result):
            self._measure(person, truth)

    def close(self) -> None:
        """Nothing to release (a consumer's contract)."""

    def _pairs(self, result: FrameResult) -> list[tuple[PersonPose, GroundTruth]]:
        # One person and one truth today; several people are paired in order (the demo gives its
        # figures in a fixed order) until the multi-person tracker brings matching.
        return list(zip(result.people, self.truth_of(result.frame_index) or ()))

    def _measure(self, person: PersonPose, truth: GroundTruth) -> None:
        if person.joints_3d is None:
            return
        self._add(pose_errors_mm(person.joints_3d[None], np.asarray(truth.joints_3d)[None]))
        if person.root_translation is not None:
            # Absolute position of the pelvis (calibration stage), camera frame.
            error = float(np.linalg.norm(person.root_translation - truth.root_translation) * 1e3)
            self._add({"root_position_mm": error})

    def _add(self, errors: dict[str, float]) -> None:
        for name, value in errors.items():
            if name.endswith(METRIC_UNITS):  # the errors, not the counts
                self.accuracy.setdefault(name, Series()).add(value)

    def reset(self) -> None:
        """Forget the errors measured so far (after a warm-up, say)."""
        self.accuracy = {}

    def summary(self) -> dict[str, dict]:
        """Per metric: count, mean, median (p50), p99 and max error, in the metric's unit."""
        return {name: series.summary().as_dict() for name, series in self.accuracy.items()}
