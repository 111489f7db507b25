"""Absolute position: the pelvis's camera-frame translation from 2D keypoints and the lifted 3D pose.

The lifter gives joints ``P_j`` relative to the pelvis; the camera sees ``P_j + T``. With undistorted,
normalised image coordinates ``x_j = (u_j - cx) / fx``, ``y_j = (v_j - cy) / fy`` the pinhole model
``x_j = (X_j + Tx) / (Z_j + Tz)`` becomes two equations linear in ``T``:

    Tx - x_j Tz = x_j Z_j - X_j          Ty - y_j Tz = y_j Z_j - Y_j

solved by (confidence-weighted) linear least squares. That minimises an algebraic error that weights
far joints more, so a few Gauss-Newton steps then minimise the true reprojection error in the image.
(This is ``cv2.solvePnP`` with the rotation fixed to identity: the lifted pose already lives in camera
axes, so only the 3 translation unknowns remain and a closed form exists; a full PnP would also fit a
rotation and absorb the lifter's depth errors into it.)

The translation scales with the pose: a pose twice as large puts the person twice as far away, so the
metric scale (``calibration.scale``) must be applied to the pose before this fit.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class RootTranslation:
    """Result of ``solve_root_translation``.

    Attributes:
        translation: (3,) metres, camera frame, the pelvis's position; NaN when ``ok`` is False.
        rms: weighted RMS reprojection residual in normalised image units (multiply by the focal
            length for pixels).
        n_used: number of joints with a non-zero weight.
        ok: False when too few joints were usable or the fit put the body behind the camera.
    """

    translation: np.ndarray
    rms: float
    n_used: int
    ok: bool


def solve_root_translation(points_norm, joints_rel, weights=None, refine_iters: int = 5,
                           min_joints: int = 3, min_depth: float = 0.05) -> RootTranslation:
    """Fit the translation ``T`` that projects ``joints_rel + T`` onto ``points_norm``.

    Args:
        points_norm: (16, 2) undistorted normalised image coordinates ``((u - cx) / fx, (v - cy) / fy)``.
        joints_rel: (16, 3) root-relative joints in metres, camera axes (x right, y down, z forward).
        weights: (16,) non-negative per-joint weights (e.g. detector confidences); None for all ones.
        refine_iters: Gauss-Newton iterations on the reprojection error after the linear solve (0: none).
        min_joints: fewest joints with a positive weight needed to answer.
        min_depth: every joint must end up at least this far (metres) in front of the camera.
    Returns:
        ``RootTranslation``.
    """
    x = np.asarray(points_norm, dtype=np.float64)
    P = np.asarray(joints_rel, dtype=np.float64)
    w = np.ones(len(P)) if weights is None else np.clip(np.asarray(weights, dtype=np.float64), 0.0, None)
    usable = (w > 0) & np.all(np.isfinite(x), axis=1) & np.all(np.isfinite(P), axis=1)
    failed = RootTranslation(np.full(3, np.nan), float("nan"), int(usable.sum()), False)
    if usable.sum() < min_joints:
        return failed
    x, P, w = x[usable], P[usable], w[usable]
    T = _linear_solve(x, P, w)
    if T is None or np.any(P[:, 2] + T[2] < min_depth):
        return failed
    for _ in range(refine_iters):
        step = _gauss_newton_step(x, P, w, T)
        if step is None:
            break
        T = T + step
        if np.any(P[:, 2] + T[2] < min_depth):
            return failed
        if np.linalg.norm(step) < 1e-7:
            break
    resid = _residuals(x, P, T)
    rms = float(np.sqrt(np.sum(w[:, None] * resid**2) / (2.0 * w.sum())))
    return RootTranslation(T, rms, int(len(P)), True)


def _linear_solve(x: np.ndarray, P: np.ndarray, w: np.ndarray) -> np.ndarray | None:
    n = len(P)
    A = np.zeros((2 * n, 3))
    b = np.empty(2 * n)
    A[:n, 0] = 1.0
    A[:n, 2] = -x[:, 0]
    b[:n] = x[:, 0] * P[:, 2] - P[:, 0]
    A[n:, 1] = 1.0
    A[n:, 2] = -x[:, 1]
    b[n:] = x[:, 1] * P[:, 2] - P[:, 1]
    sw = np.sqrt(np.concatenate([w, w]))
    sol, _, rank, _ = np.linalg.lstsq(A * sw[:, None], b * sw, rcond=None)
    return sol if rank == 3 else None


def _residuals(x: np.ndarray, P: np.ndarray, T: np.ndarray) -> np.ndarray:
    C = P + T
    return C[:, :2] / C[:, 2:3] - x


def _gauss_newton_step(x: np.ndarray, P: np.ndarray, w: np.ndarray, T: np.ndarray) -> np.ndarray | None:
    C = P + T
    inv_z = 1.0 / C[:, 2]
    r = (C[:, :2] * inv_z[:, None] - x).T.ravel()            # [rx..., ry...]
    n = len(P)
    J = np.zeros((2 * n, 3))
    J[:n, 0] = inv_z
    J[:n, 2] = -C[:, 0] * inv_z**2
    J[n:, 1] = inv_z
    J[n:, 2] = -C[:, 1] * inv_z**2
    ww = np.concatenate([w, w])
    H = J.T @ (J * ww[:, None])
    g = J.T @ (ww * r)
    try:
        return -np.linalg.solve(H, g)
    except np.linalg.LinAlgError:
        return None
