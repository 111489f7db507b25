"""A world frame on the floor: the floor plane from foot contacts, and y-up / z-up world axes.

World frames (both right-handed, metres, origin on the floor straight below the camera):
  * ``up="y"`` (OpenGL, three.js, Open3D, Unity after flipping z): x to the camera's right along the
    floor, y up, z along the floor back toward the camera (the camera looks along -z).
  * ``up="z"`` (ROS REP-103, Blender, Unreal after flipping y): x forward along the floor (the camera's
    viewing direction), y to the camera's left, z up.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import cv2
import numpy as np

from calibration.camera_file import FloorPlane
from calibration.scale import ANKLES, ankle_height_for

_AXES_TEXT = {
    "y": "right-handed; x right along the floor, y up, z along the floor toward the camera",
    "z": "right-handed; x forward along the floor (camera's view), y left, z up",
}


@dataclass
class WorldFrame:
    """A rigid transform camera -> world: ``p_world = rotation @ (p_cam - origin_cam)``.

    Attributes:
        rotation: (3, 3) rows are the world axes expressed in camera coordinates.
        origin_cam: (3,) the world origin in camera coordinates (on the floor below the camera).
        up: "y" or "z".
        floor: the floor plane it was built from.
    """

    rotation: np.ndarray
    origin_cam: np.ndarray
    up: str
    floor: FloorPlane

    def to_world(self, points_cam: np.ndarray) -> np.ndarray:
        """Camera-frame points (..., 3) -> world-frame points (..., 3)."""
        return (np.asarray(points_cam) - self.origin_cam) @ self.rotation.T

    def header(self) -> dict:
        """The ``world_frame`` header entry of the stream."""
        return {
            "name": "floor",
            "up": self.up,
            "axes": _AXES_TEXT[self.up],
            "origin": "on the floor, straight below the camera",
            "source": self.floor.source,
            "camera_height_m": float(self.floor.offset_m),
            "rotation_world_from_camera": np.round(self.rotation, 6).tolist(),
            "origin_in_camera_m": np.round(self.origin_cam, 6).tolist(),
        }


def world_frame_from_floor(floor: FloorPlane, up: str = "y") -> WorldFrame:
    """Build the world frame of ``up`` ("y" or "z") on ``floor`` (see the module docstring)."""
    if up not in _AXES_TEXT:
        raise ValueError(f"up must be 'y' or 'z', got {up!r}")
    n = floor.normal / np.linalg.norm(floor.normal)
    forward = np.array([0.0, 0.0, 1.0]) - n[2] * n
    if np.linalg.norm(forward) < 1e-3:  # camera looking straight down: use image "up" as forward
        forward = np.array([0.0, -1.0, 0.0]) - (-n[1]) * n
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, n)
    right /= np.linalg.norm(right)
    forward = np.cross(n, right)
    rows = (right, n, -forward) if up == "y" else (forward, -right, n)
    return WorldFrame(np.stack(rows), -floor.offset_m * n, up, floor)


def fit_plane_ransac(points: np.ndarray, threshold_m: float = 0.03, iterations: int = 200,
                     seed: int = 0) -> tuple[np.ndarray, float, np.ndarray]:
    """Robust plane through 3D points: RANSAC on triples, then least squares (SVD) on the inliers.

    Args:
        points: (N, 3), N >= 3.
        threshold_m: inlier distance.
        iterations: RANSAC samples.
        seed: random seed (deterministic results).
    Returns:
        ``(normal, offset, inlier_mask)`` with ``normal . p + offset = 0`` (normal not yet oriented).
    """
    pts = np.asarray(points, dtype=np.float64)
    if len(pts) < 3:
        raise ValueError(f"need at least 3 points for a plane, got {len(pts)}")
    rng = np.random.default_rng(seed)
    # all hypotheses at once (vectorised: a few hundred planes x a few hundred points is cheap)
    triples = pts[rng.integers(0, len(pts), (iterations, 3))]  # repeated indices give invalid planes
    normals = np.cross(triples[:, 1] - triples[:, 0], triples[:, 2] - triples[:, 0])
    lengths = np.linalg.norm(normals, axis=1)
    valid = lengths > 1e-9
    normals = normals[valid] / lengths[valid, None]
    distances = np.abs(np.einsum("hk,nk->hn", normals, pts) - np.sum(normals * triples[valid, 0], axis=1)[:, None])
    counts = (distances < threshold_m).sum(axis=1)
    best = distances[int(np.argmax(counts))] < threshold_m if len(counts) else np.zeros(len(pts), bool)
    centre = pts[best].mean(axis=0)
    normal = np.linalg.svd(pts[best] - centre, full_matrices=False)[2][-1]  # not the N x N U
    return normal, float(-normal @ centre), best


class FootContactFloor:
    """Floor plane from foot contacts over time (ankle positions in the camera frame).

    Each frame adds the lower ankle (the one farther along the body's down direction). With contacts
    spread over an area (the person walked around), a RANSAC plane fit gives the floor; while they are
    not (someone standing still) the floor is the plane through the contacts perpendicular to the
    body's mean up direction (pelvis - mid-ankles). Either way the plane is moved down by the ankle
    height, since the ankle joint is above the sole.

    Args:
        window: contacts kept (oldest dropped).
        min_contacts: contacts needed before any floor is given.
        min_spread_m: second principal spread of contacts (metres) needed for a fitted plane.
        refit_every: ``estimate`` refits only after this many new contacts (the floor does not move;
            this keeps the per-frame cost low), returning the last plane in between.
    """

    def __init__(self, window: int = 600, min_contacts: int = 30, min_spread_m: float = 0.3, refit_every: int = 15):
        self._contacts: deque[np.ndarray] = deque(maxlen=window)
        self._ups: deque[np.ndarray] = deque(maxlen=window)
        self._ankle_heights: deque[float] = deque(maxlen=window)
        self.min_contacts, self.min_spread_m, self.refit_every = min_contacts, min_spread_m, refit_every
        self._plane: FloorPlane | None = None
        self._since_fit = 0

    def add(self, joints_cam: np.ndarray) -> None:
        """Add one frame's absolute joints (16, 3), camera frame, metres (pose + root translation)."""
        joints_cam = np.asarray(joints_cam, dtype=np.float64)
        ankles = joints_cam[ANKLES]
        up = joints_cam[0] - ankles.mean(axis=0)
        if not np.all(np.isfinite(joints_cam)) or np.linalg.norm(up) < 1e-6:
            return
        up /= np.linalg.norm(up)
        self._contacts.append(ankles[np.argmin(ankles @ up)])
        self._ups.append(up)
        self._ankle_heights.append(ankle_height_for(joints_cam))
        self._since_fit += 1

    @property
    def n_contacts(self) -> int:
        return len(self._contacts)

    def estimate(self) -> FloorPlane | None:
        """The current floor plane (normal oriented toward the camera side), or None if too few contacts."""
        if len(self._contacts) < self.min_contacts:
            return None
        if self._plane is not None and self._since_fit < self.refit_every:
            return self._plane
        self._since_fit = 0
        self._plane = self._fit()
        return self._plane

    def _fit(self) -> FloorPlane | None:
        pts = np.array(self._contacts)
        mean_up = np.mean(self._ups, axis=0)
        mean_up /= np.linalg.norm(mean_up)
        spread = np.linalg.svd(pts - pts.mean(axis=0), compute_uv=False)[1] / np.sqrt(len(pts))
        if spread >= self.min_spread_m:
            normal, offset, _ = fit_plane_ransac(pts)
            source = "foot_contacts"
            if normal @ mean_up < 0:
                normal, offset = -normal, -offset
        else:
            normal = mean_up
            offset = float(-np.median(pts @ normal))
            source = "body_up"
        offset += float(np.median(self._ankle_heights))  # the sole is one ankle height lower
        if offset <= 0:  # the camera would be below the floor: not a usable estimate
            return None
        return FloorPlane(normal, offset, source)

    def reset(self) -> None:
        self._plane, self._since_fit = None, 0
        self._contacts.clear()
        self._ups.clear()
        self._ankle_heights.clear()


def floor_from_board(image_points, object_points, camera_matrix, dist_coeffs) -> FloorPlane:
    """Floor plane (camera frame, metric) from one view of a board lying flat on the floor.

    ``cv2.solvePnP`` gives the board's pose; the board's z axis is the floor normal, oriented toward the
    camera, and the board's origin lies on the floor.

    Args:
        image_points: (N, 2) detected corners in pixels.
        object_points: (N, 3) their board coordinates in metres (z = 0).
        camera_matrix: (3, 3) intrinsics of the calibrated camera.
        dist_coeffs: its distortion coefficients.
    Raises:
        ValueError: when the pose cannot be solved.
    """
    ok, rvec, tvec = cv2.solvePnP(np.asarray(object_points, np.float64), np.asarray(image_points, np.float64),
                                  np.asarray(camera_matrix, np.float64), np.asarray(dist_coeffs, np.float64))
    if not ok:
        raise ValueError("could not solve the board's pose (solvePnP failed)")
    R, _ = cv2.Rodrigues(rvec)
    normal, t = R[:, 2], tvec.ravel()
    offset = float(-normal @ t)
    if offset < 0:
        normal, offset = -normal, -offset
    return FloorPlane(normal, offset, "board")
