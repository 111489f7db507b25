"""Camera intrinsics from board views: coverage tracking and ``cv2.calibrateCamera``.

A good calibration needs the board all over the image (the distortion lives at the edges) and seen
tilted about both axes (a frontal board cannot tell focal length from distance). ``Coverage`` measures
both and says what is still missing; ``calibrate`` runs OpenCV, drops outlier views once and reports
the RMS reprojection error.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field

import cv2
import numpy as np

from calibration.boards import BoardSpec, Detection
from calibration.camera_file import CameraFile

_TILT_MIN = 0.03         # relative edge-length difference that counts as "tilted" (~15 deg at arm's length)


class CalibrationError(ValueError):
    """Calibration is impossible with these inputs (too few views, board never found, ...)."""


@dataclass
class IntrinsicsOptions:
    """Options of ``calibrate``.

    Attributes:
        min_views: fewest usable board views; fewer is an error.
        fix_k3: keep the 6th-order radial term at zero (stabler with few or central views).
        rational_model: use OpenCV's 8-coefficient rational model (wide-angle lenses).
        outlier_factor: views with an RMS above this many times the median are dropped and the
            calibration re-run once (0 disables).
    """

    min_views: int = 8
    fix_k3: bool = False
    rational_model: bool = False
    outlier_factor: float = 3.0


@dataclass
class IntrinsicsResult:
    """Result of ``calibrate``.

    Attributes:
        camera: the calibration file contents.
        per_view_rms_px: RMS reprojection error of each view kept.
        dropped_views: indices (into the input list) of outlier views left out.
    """

    camera: CameraFile
    per_view_rms_px: list[float] = field(default_factory=list)
    dropped_views: list[int] = field(default_factory=list)


def calibrate(detections: list[Detection], image_size, board: BoardSpec,
              options: IntrinsicsOptions | None = None) -> IntrinsicsResult:
    """Calibrate a camera from board detections.

    Args:
        detections: one ``Detection`` per view (all from images of ``image_size``).
        image_size: ``(w, h)``.
        board: the board, recorded in the file.
        options: ``IntrinsicsOptions``.
    Raises:
        CalibrationError: too few views, or OpenCV failed.
    """
    options = options or IntrinsicsOptions()
    if len(detections) < options.min_views:
        raise CalibrationError(f"only {len(detections)} usable board views, need at least {options.min_views} "
                               "(show the board in more positions and tilts)")
    keep = list(range(len(detections)))
    rms, K, dist, per_view = _run(detections, image_size, options)
    dropped: list[int] = []
    if options.outlier_factor > 0:
        limit = options.outlier_factor * max(float(np.median(per_view)), 0.05)
        bad = [i for i, e in enumerate(per_view) if e > limit]
        if bad and len(detections) - len(bad) >= options.min_views:
            keep = [i for i in keep if i not in bad]
            dropped = bad
            rms, K, dist, per_view = _run([detections[i] for i in keep], image_size, options)
    camera = CameraFile(K, dist.ravel(), (int(image_size[0]), int(image_size[1])), float(rms), board.to_json(),
                        len(keep), _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
    return IntrinsicsResult(camera, [float(e) for e in per_view], dropped)


def _run(detections: list[Detection], image_size, options: IntrinsicsOptions):
    flags = (cv2.CALIB_FIX_K3 if options.fix_k3 else 0) | (cv2.CALIB_RATIONAL_MODEL if options.rational_model else 0)
    obj = [d.object_points.reshape(-1, 1, 3).astype(np.float32) for d in detections]
    img = [d.image_points.reshape(-1, 1, 2).astype(np.float32) for d in detections]
    size = (int(image_size[0]), int(image_size[1]))
    try:
        # The extended call also returns each view's RMS reprojection error (its last result).
        rms, K, dist, *_, per_view = cv2.calibrateCameraExtended(obj, img, size, None, None, flags=flags)
    except cv2.error as exc:
        raise CalibrationError(f"OpenCV could not calibrate: {str(exc).strip().splitlines()[-1]}") from None
    return rms, K, dist, per_view.ravel().tolist()


@dataclass
class ViewSummary:
    """Where a view put the board: centre and size (fractions of the image) and tilt about two axes."""

    centre: np.ndarray
    size: float
    tilt_h: float
    tilt_v: float

    def distance(self, other: "ViewSummary") -> float:
        return float(np.linalg.norm(np.r_[self.centre - other.centre, self.size - other.size,
                                          self.tilt_h - other.tilt_h, self.tilt_v - other.tilt_v]))


def summarise_view(det: Detection, image_size) -> ViewSummary | None:
    """Board placement of a detection: the board's outline through a homography (works for partial boards)."""
    obj = det.object_points[:, :2].astype(np.float64)
    H, _ = cv2.findHomography(obj, det.image_points.astype(np.float64))
    if H is None:
        return None
    lo, hi = obj.min(axis=0), obj.max(axis=0)
    quad = np.array([[lo[0], lo[1]], [hi[0], lo[1]], [hi[0], hi[1]], [lo[0], hi[1]]])
    q = cv2.perspectiveTransform(quad.reshape(-1, 1, 2), H).reshape(4, 2)
    top, right, bottom, left = (np.linalg.norm(q[(i + 1) % 4] - q[i]) for i in range(4))
    w, h = float(image_size[0]), float(image_size[1])
    return ViewSummary(centre=q.mean(axis=0) / [w, h], size=float(np.sqrt(cv2.contourArea(q.astype(np.float32)) / (w * h))),
                       tilt_h=float((left - right) / (left + right)), tilt_v=float((top - bottom) / (top + bottom)))


class Coverage:
    """How well a set of views covers the image and the tilts, and whether it is enough.

    Args:
        image_size: ``(w, h)``.
        grid: ``(cols, rows)`` cells the image is divided into.
        target_views: views wanted before "enough".
        target_fraction: fraction of grid cells that must have seen a corner.
    """

    def __init__(self, image_size, grid=(4, 3), target_views: int = 12, target_fraction: float = 0.75):
        self.image_size = (int(image_size[0]), int(image_size[1]))
        self.grid = grid
        self.cells = np.zeros((grid[1], grid[0]), dtype=bool)
        self.views: list[ViewSummary] = []
        self.target_views, self.target_fraction = target_views, target_fraction

    def is_new(self, det: Detection, min_distance: float = 0.08) -> bool:
        """True when the view differs enough from every kept one (to skip near-duplicate video frames)."""
        view = summarise_view(det, self.image_size)
        return view is not None and all(view.distance(v) > min_distance for v in self.views)

    def add(self, det: Detection) -> None:
        view = summarise_view(det, self.image_size)
        if view is not None:
            self.views.append(view)
        w, h = self.image_size
        cols = np.clip((det.image_points[:, 0] / w * self.grid[0]).astype(int), 0, self.grid[0] - 1)
        rows = np.clip((det.image_points[:, 1] / h * self.grid[1]).astype(int), 0, self.grid[1] - 1)
        self.cells[rows, cols] = True

    @property
    def fraction(self) -> float:
        return float(self.cells.mean())

    def tilts(self) -> set[str]:
        """Which tilts were seen: subsets of {"left", "right", "up", "down"}."""
        seen = set()
        for v in self.views:
            if abs(v.tilt_h) > _TILT_MIN:
                seen.add("left" if v.tilt_h > 0 else "right")
            if abs(v.tilt_v) > _TILT_MIN:
                seen.add("up" if v.tilt_v > 0 else "down")
        return seen

    def missing(self) -> list[str]:
        """What is still needed, in words (empty when enough)."""
        todo = []
        if len(self.views) < self.target_views:
            todo.append(f"{self.target_views - len(self.views)} more views")
        if self.fraction < self.target_fraction:
            empty = np.argwhere(~self.cells)
            names = sorted({_cell_name(r, c, self.grid) for r, c in empty})
            todo.append(f"board near the {', '.join(names)} of the image")
        tilts = self.tilts()
        if not tilts & {"left", "right"}:
            todo.append("board turned left or right")
        if not tilts & {"up", "down"}:
            todo.append("board tilted up or down")
        return todo

    @property
    def enough(self) -> bool:
        return not self.missing()

    def status(self) -> str:
        """One line for the user: views, coverage, tilts, and what is missing."""
        text = (f"views {len(self.views)}/{self.target_views}, coverage {self.fraction:.0%}, "
                f"tilts {'/'.join(sorted(self.tilts())) or '-'}")
        missing = self.missing()
        return text + (" -> ENOUGH, ready to calibrate" if not missing else " -> need: " + "; ".join(missing))


def _cell_name(row: int, col: int, grid) -> str:
    vert = "top" if row == 0 else "bottom" if row == grid[1] - 1 else "middle"
    horiz = "left" if col == 0 else "right" if col == grid[0] - 1 else "centre"
    return f"{vert}-{horiz}"
