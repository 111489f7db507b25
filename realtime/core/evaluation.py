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
from scipy.optimize import linear_sum_assignment

from realtime.core.records import FrameResult, PersonPose
from realtime.core.stats import Series, add_sample
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
        figure: which person of the source this is (0, 1, 2... the same in every frame).
        visible: the person is fully in view (not cut by the image border nor hidden by another).
    """

    keypoints_2d: np.ndarray
    joints_3d: np.ndarray
    root_translation: np.ndarray
    figure: int = 0
    visible: bool = True


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

    def __init__(self, truth_of: Callable[[int], list[GroundTruth] | None], fps: float = 30.0):
        self.truth_of = truth_of
        self.fps = fps
        self.accuracy: dict[str, Series] = {}
        self.people = PeopleScore(fps)
        self.truth_stage = TruthStage(self._pairs)

    @classmethod
    def for_source(cls, source) -> "Evaluator | None":
        """An evaluator for ``source`` when it has ground truth, else None."""
        if isinstance(source, GroundTruthSource):
            return cls(source.ground_truth, float(getattr(source, "fps", 30.0) or 30.0))
        return None

    def consume(self, result: FrameResult) -> None:
        """Measure each person's error against the truth, and who was found as whom."""
        pairs = self._pairs(result)
        for person, truth in pairs:
            self._measure(person, truth)
        self.people.add(result.frame_index, self.truth_of(result.frame_index) or [], pairs)

    def close(self) -> None:
        """Nothing to release (a consumer's contract)."""

    def _pairs(self, result: FrameResult) -> list[tuple[PersonPose, GroundTruth]]:
        """Each found person with the true person they are: by their 2D joints (one to one, nearest
        first), within a quarter of the true body's height; the others stay unpaired."""
        return match_people(result.people, self.truth_of(result.frame_index) or [])

    def _measure(self, person: PersonPose, truth: GroundTruth) -> None:
        if person.joints_3d is None:
            return
        errors = pose_errors_mm(person.joints_3d[None], np.asarray(truth.joints_3d)[None])
        self._add(errors)
        self.people.add_errors(truth.figure, errors)
        if person.root_translation is not None:
            # Absolute position of the pelvis (calibration stage), camera frame.
            error = float(np.linalg.norm(person.root_translation - truth.root_translation) * 1e3)
            self._add({"root_position_mm": error})

    def _add(self, errors: dict[str, float]) -> None:
        for name, value in errors.items():
            if name.endswith(METRIC_UNITS):  # the errors, not the counts
                add_sample(self.accuracy, name, value)

    def reset(self) -> None:
        """Forget the errors measured so far (after a warm-up, say)."""
        self.accuracy = {}
        self.people = PeopleScore(self.fps)

    def summary(self) -> dict[str, dict]:
        """Per metric: count, mean, median (p50), p99 and max error, in the metric's unit."""
        return {name: series.summary().as_dict() for name, series in self.accuracy.items()}


def match_people(people: list[PersonPose], truths: list[GroundTruth]) -> list[tuple[PersonPose, GroundTruth]]:
    """Found people paired with true ones by the mean distance of their 2D joints (Hungarian), each pair
    within a quarter of the true body's height."""
    if not people or not truths:
        return []
    cost = np.array([[float(np.linalg.norm(p.keypoints_2d - t.keypoints_2d, axis=1).mean()) for t in truths]
                     for p in people])
    gates = np.array([0.25 * max(float(np.ptp(t.keypoints_2d[:, 1])), 1.0) for t in truths])
    rows, cols = linear_sum_assignment(cost)
    return [(people[r], truths[c]) for r, c in zip(rows, cols) if cost[r, c] <= gates[c]]


class PeopleScore:
    """Who was found as whom, per true person (figure): how often a fully visible person was found,
    and how often their track identity changed (an identity switch), inside and outside crossings: a
    window of ``CROSSING_S`` around frames where they were not fully visible or where their true 2D
    box touched somebody else's (in front of or behind them).

    Args:
        fps: the source's frame rate (frame indices to seconds).
    """

    CROSSING_S = 1.0

    def __init__(self, fps: float = 30.0):
        self.fps = fps
        # figure -> (frame, apart from everybody, fully visible, track id)
        self.frames: dict[int, list[tuple[int, bool, bool, int | None]]] = {}
        self.errors: dict[int, dict[str, Series]] = {}

    def add(self, frame_index: int, truths: list[GroundTruth], pairs: list[tuple[PersonPose, GroundTruth]]) -> None:
        found = {truth.figure: person.id for person, truth in pairs}
        boxes = [_box(truth.keypoints_2d) for truth in truths]
        for i, truth in enumerate(truths):
            # Crossing: hidden, cut by the border, or in front of somebody (boxes touching).
            apart = truth.visible and not any(_touch(boxes[i], box) for j, box in enumerate(boxes) if j != i)
            self.frames.setdefault(truth.figure, []).append((frame_index, apart, truth.visible, found.get(truth.figure)))

    def add_errors(self, figure: int, errors: dict[str, float]) -> None:
        table = self.errors.setdefault(figure, {})
        for name in ("mpjpe_mm", "pmpjpe_mm"):
            add_sample(table, name, errors[name])

    def summary(self) -> dict[int, dict]:
        """Per figure: frames fully visible, found among them (count and %), identity switches (all,
        and outside crossings and hidden moments), the track ids used, and the 3D errors."""
        out = {}
        for figure, rows in sorted(self.frames.items()):
            visible = [r for r in rows if r[2]]
            found = sum(r[3] is not None for r in visible)
            switches = self._switches(rows)
            outside = [s for s in switches if not self._near_hidden(rows, s)]
            errors = {name: round(series.summary().mean_ms, 1) for name, series in self.errors.get(figure, {}).items()}
            out[figure] = {"frames": len(rows), "visible": len(visible), "found_when_visible": found,
                           "found_pct": round(100.0 * found / max(len(visible), 1), 1),
                           "id_switches": len(switches), "id_switches_outside_crossings": len(outside),
                           "switch_frames": switches, "track_ids": sorted({r[3] for r in rows if r[3] is not None}),
                           **errors}
        return out

    @staticmethod
    def _switches(rows) -> list[int]:
        """Frames where the figure's track id differs from the last one it had."""
        last, out = None, []
        for frame, _, _, track in rows:
            if track is not None:
                if last is not None and track != last:
                    out.append(frame)
                last = track
        return out

    def _near_hidden(self, rows, frame: int) -> bool:
        window = self.CROSSING_S * self.fps
        return any(not apart and abs(f - frame) <= window for f, apart, _, _ in rows)


def _box(points: np.ndarray) -> np.ndarray:
    return np.concatenate([points.min(axis=0), points.max(axis=0)])


def _touch(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3])
