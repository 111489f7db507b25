"""Synthetic board photos taken with a known camera, for the calibration tests.

The board texture (``BoardSpec.image``) is mapped through the exact camera model: every output pixel is
undistorted (iteratively, to 1e-10) into an ideal ray, the ray meets the board plane through the
inverse of the plane's homography ``[r1 r2 t]``, and ``cv2.remap`` samples the texture there. Rendering
at twice the resolution and averaging down (INTER_AREA) anti-aliases the edges, then mild blur and
sensor noise make the corners realistic.
"""
from __future__ import annotations

import functools

import cv2
import numpy as np

from calibration.boards import BoardSpec

SIZE = (960, 720)
K_TRUE = np.array([[820.0, 0.0, 487.0], [0.0, 818.0, 352.0], [0.0, 0.0, 1.0]])
DIST_TRUE = np.array([-0.28, 0.09, 0.0008, -0.0005, 0.0])
_SUPER = 2
_PPS = 64  # texture pixels per board square


@functools.lru_cache(maxsize=4)
def _ideal_rays(size=SIZE, K_bytes=K_TRUE.tobytes(), dist_bytes=DIST_TRUE.tobytes()) -> np.ndarray:
    """(H*S, W*S, 2) normalised ideal coordinates of the supersampled pixel centres."""
    K = np.frombuffer(K_bytes).reshape(3, 3)
    dist = np.frombuffer(dist_bytes)
    w, h = size
    us = (np.arange(w * _SUPER) + 0.5) / _SUPER - 0.5
    vs = (np.arange(h * _SUPER) + 0.5) / _SUPER - 0.5
    grid = np.stack(np.meshgrid(us, vs), axis=-1).reshape(-1, 1, 2)
    crit = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 50, 1e-10)
    ideal = cv2.undistortPoints(grid, K, dist, R=None, P=None, criteria=crit)
    return ideal.reshape(h * _SUPER, w * _SUPER, 2)


def board_texture(board: BoardSpec) -> tuple[np.ndarray, np.ndarray, float]:
    """(texture, origin_px, px_per_m): the board image and where object point (0, 0) lies in it."""
    tex = board.image(pixels_per_square=_PPS, margin_squares=0.5)
    margin = 0.5 * _PPS
    origin = np.array([margin + _PPS, margin + _PPS]) if board.kind == "chessboard" else np.array([margin, margin])
    return tex, origin, _PPS / board.square_m


def render_view(board: BoardSpec, rvec, tvec, seed: int = 0, K=K_TRUE, dist=DIST_TRUE, size=SIZE) -> np.ndarray:
    """A grayscale photo (h, w) uint8 of ``board`` at pose ``rvec, tvec`` (board -> camera)."""
    rays = _ideal_rays(tuple(size), np.asarray(K, float).tobytes(), np.asarray(dist, float).tobytes())
    tex, origin, px_per_m = board_texture(board)
    R, _ = cv2.Rodrigues(np.asarray(rvec, dtype=np.float64))
    H = np.column_stack([R[:, 0], R[:, 1], np.asarray(tvec, dtype=np.float64).ravel()])
    Hinv = np.linalg.inv(H)
    homog = rays @ Hinv[:, :2].T + Hinv[:, 2]
    plane = homog[..., :2] / homog[..., 2:3]
    map_xy = (plane * px_per_m + origin).astype(np.float32)
    img = cv2.remap(tex, map_xy[..., 0], map_xy[..., 1], cv2.INTER_LINEAR,
                    borderMode=cv2.BORDER_CONSTANT, borderValue=150)
    img = cv2.resize(img, tuple(size), interpolation=cv2.INTER_AREA)
    img = cv2.GaussianBlur(img, (0, 0), 0.6)
    noise = np.random.default_rng(seed).normal(0.0, 2.0, img.shape)
    return np.clip(img.astype(np.float64) * 0.8 + 25 + noise, 0, 255).astype(np.uint8)


def board_poses(board: BoardSpec, n_views: int = 13, seed: int = 0, K=K_TRUE, dist=DIST_TRUE,
                size=SIZE, margin_px: float = 15.0) -> list[tuple[np.ndarray, np.ndarray]]:
    """``n_views`` board poses spread over the image with tilts up to about 35 degrees, board fully visible."""
    rng = np.random.default_rng(seed)
    w, h = size
    if board.kind == "chessboard":
        extent = np.array([(board.cols - 1) * board.square_m, (board.rows - 1) * board.square_m])
    else:
        extent = np.array([board.cols * board.square_m, board.rows * board.square_m])
    corners = np.array([[0, 0, 0], [extent[0], 0, 0], [extent[0], extent[1], 0], [0, extent[1], 0]], float)
    targets = [(0.5, 0.5), (0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75), (0.5, 0.22), (0.5, 0.78),
               (0.22, 0.5), (0.78, 0.5)]
    poses = []
    attempt = 0
    while len(poses) < n_views:
        attempt += 1
        if attempt > 5000:
            raise RuntimeError("could not place the board; is it too large for the image?")
        tu, tv = targets[len(poses) % len(targets)]
        angles = np.radians(rng.uniform(-35, 35, 3)) * np.array([1, 1, 0.5])
        R, _ = cv2.Rodrigues(angles)
        depth = rng.uniform(1.6, 2.6) * extent.max()
        ray = np.array([(tu * w - K[0, 2]) / K[0, 0], (tv * h - K[1, 2]) / K[1, 1], 1.0])
        tvec = ray * depth - R @ np.r_[extent / 2, 0]
        proj, _ = cv2.projectPoints(corners, cv2.Rodrigues(R)[0], tvec, K, dist)
        p = proj.reshape(-1, 2)
        if p.min() < margin_px or np.any(p.max(axis=0) > np.array([w, h]) - margin_px):
            continue
        poses.append((cv2.Rodrigues(R)[0].ravel(), tvec))
    return poses


def _descendants(joint: int) -> list[int]:
    from semgcn.skeleton import PARENTS
    out = [joint]
    for j, p in enumerate(PARENTS):
        if p in out and j not in out:
            out.append(j)
    return out


def realistic_pose(seed: int = 0, height_m: float = 1.75) -> np.ndarray:
    """A walking / gesturing pose, (16, 3) metres, camera axes, pelvis at origin.

    The canonical standing skeleton with random joint rotations (hips, knees, shoulders, elbows, a
    bent trunk) and a random turn of the whole body about the vertical axis.
    """
    from calibration.scale import canonical_pose
    from semgcn.skeleton import JOINT_INDEX as J

    rng = np.random.default_rng(seed)
    pose = canonical_pose(height_m)
    bends = {  # joint: (axis, angle range in degrees); camera y is down, x right
        "right_hip": ((1, 0, 0), (-35, 35)), "left_hip": ((1, 0, 0), (-35, 35)),
        "right_knee": ((1, 0, 0), (-60, 0)), "left_knee": ((1, 0, 0), (-60, 0)),
        "left_shoulder": ((0, 0, 1), (-80, 10)), "right_shoulder": ((0, 0, 1), (-10, 80)),
        "left_elbow": ((1, 0, 0), (0, 100)), "right_elbow": ((1, 0, 0), (0, 100)),
        "spine": ((1, 0, 0), (-20, 20)),
    }
    for name, (axis, (lo, hi)) in bends.items():
        R, _ = cv2.Rodrigues(np.asarray(axis, float) * np.radians(rng.uniform(lo, hi)))
        idx = _descendants(J[name])[1:]
        pose[idx] = (pose[idx] - pose[J[name]]) @ R.T + pose[J[name]]
    yaw, _ = cv2.Rodrigues(np.array([0.0, 1.0, 0.0]) * np.radians(rng.uniform(-90, 90)))
    return pose @ yaw.T


def project(points: np.ndarray, K=K_TRUE, dist=DIST_TRUE) -> np.ndarray:
    """Camera-frame points (N, 3) -> distorted pixels (N, 2)."""
    uv, _ = cv2.projectPoints(np.asarray(points, np.float64), np.zeros(3), np.zeros(3), K, dist)
    return uv.reshape(-1, 2)
