"""Accuracy metrics of the paper, numpy only (no torch: the evaluation and the app may use them).

All functions take poses shaped ``(N, J, 3)`` (or ``(J, 3)``) in any unit and return the same unit;
:func:`pose_errors_mm` takes metres and reports millimetres (and degrees), the ways every figure is given:

* ``mpjpe_mm`` (P1): mean per-joint position error after aligning the root joints (MPJPE, the metric
  of the paper's Protocol #1).
* ``mpjpe_true_bones_mm`` (P1 with true bone lengths): MPJPE after scaling each predicted pose about
  its root so that its bone lengths sum to those of *its own ground truth*. This uses the subject's
  true size, which a monocular lifter cannot know; the live app approximates it with the user's
  height (``run_live.py --height``). It is not the paper's scale calibration of Sect. 5.2.
* ``pmpjpe_mm`` (P2): P-MPJPE, the error after a similarity alignment (Procrustes: scale, rotation with
  the reflection fix, translation) of each predicted pose onto the ground truth. The paper's
  "Protocol #2" is this metric on Human3.6M's Protocol #1 split; here it is computed on whatever
  split is evaluated. It is not always below P1: Procrustes minimises the squared error, not the mean
  distance, and aligns centroids, not roots; only the root-aligned *squared* error bounds it.
* ``bone_angle_deg``: mean angle between predicted and true bone vectors (15 bones), in degrees:
  how well the limbs point, whatever the size.
"""
from __future__ import annotations

import numpy as np

from semgcn.skeleton import ROOT, bone_lengths, bone_vectors


def _batched(pose) -> np.ndarray:
    a = np.asarray(pose, dtype=np.float64)
    if a.ndim == 2:
        a = a[None]
    if a.ndim != 3:
        raise ValueError(f"poses must be (J, D) or (N, J, D), got shape {np.shape(pose)}")
    return a


def _check_pair(pred, target) -> tuple[np.ndarray, np.ndarray]:
    p, t = _batched(pred), _batched(target)
    if p.shape != t.shape:
        raise ValueError(f"prediction {p.shape} and ground truth {t.shape} differ in shape")
    return p, t


def root_relative(poses, root: int = ROOT) -> np.ndarray:
    """Poses with joint ``root`` moved to the origin, ``(N, J, D)``."""
    p = _batched(poses)
    return p - p[:, root : root + 1]


def per_joint_errors(pred, target, root_align: bool = True) -> np.ndarray:
    """Euclidean error of every joint, ``(N, J)``.

    Args:
        pred: predicted poses ``(N, J, D)`` or ``(J, D)``.
        target: ground-truth poses, same shape.
        root_align: subtract each pose's root joint first (Protocol #1).
    """
    p, t = _check_pair(pred, target)
    if root_align:
        p, t = root_relative(p), root_relative(t)
    return np.linalg.norm(p - t, axis=-1)


def mpjpe(pred, target, root_align: bool = True) -> float:
    """Mean per-joint position error (P1: MPJPE after root alignment), in the unit of the inputs."""
    return float(per_joint_errors(pred, target, root_align).mean())


def procrustes_align(pred, target) -> np.ndarray:
    """Align each predicted pose onto its ground truth by a similarity transform.

    Finds per pose the scale ``s``, rotation ``R`` (a proper rotation: a reflection that SVD may
    return is flipped back) and translation ``t`` minimising ``||s * pred R + t - target||``.

    Args:
        pred: ``(N, J, D)`` or ``(J, D)``.
        target: same shape.
    Returns:
        The aligned predictions, ``(N, J, D)``.
    """
    p, t = _check_pair(pred, target)
    mu_p, mu_t = p.mean(axis=1, keepdims=True), t.mean(axis=1, keepdims=True)
    p0, t0 = p - mu_p, t - mu_t
    norm_p = np.maximum(np.linalg.norm(p0, axis=(1, 2), keepdims=True), 1e-12)
    norm_t = np.linalg.norm(t0, axis=(1, 2), keepdims=True)
    p0, t0 = p0 / norm_p, t0 / np.maximum(norm_t, 1e-12)
    h = np.swapaxes(p0, 1, 2) @ t0                      # (N, D, D) cross-covariance
    u, sig, vt = np.linalg.svd(h)
    # Reflection fix (Umeyama): flip the weakest direction when det(U V^T) < 0.
    d = np.sign(np.linalg.det(u @ vt))
    d[d == 0] = 1.0
    u[:, :, -1] *= d[:, None]
    sig[:, -1] *= d
    rot = u @ vt                                        # pred_row @ rot ~ target_row
    scale = (sig.sum(axis=1)[:, None, None]) * norm_t / norm_p
    return scale * ((p - mu_p) @ rot) + mu_t


def p_mpjpe(pred, target) -> float:
    """Mean per-joint error after Procrustes alignment (P2: P-MPJPE), in the unit of the inputs."""
    p, t = _check_pair(pred, target)
    return float(np.linalg.norm(procrustes_align(p, t) - t, axis=-1).mean())


def bone_length_sum(poses) -> np.ndarray:
    """Sum of the 15 bone lengths of each pose, ``(N,)``."""
    return bone_lengths(_batched(poses)).sum(axis=-1)


def scale_to_bone_length_sum(pred, target_sum, root: int = ROOT) -> np.ndarray:
    """Scale root-relative poses about the root so their bone lengths sum to ``target_sum``.

    Args:
        pred: predicted poses ``(N, J, 3)`` or ``(J, 3)``.
        target_sum: wanted sum of bone lengths, a scalar or ``(N,)`` (e.g. the subject's).
        root: joint kept fixed.
    Returns:
        ``(N, J, 3)`` root-relative scaled poses.
    """
    p = root_relative(pred, root)
    have = bone_length_sum(p)
    want = np.broadcast_to(np.asarray(target_sum, dtype=np.float64), have.shape)
    return p * (want / np.maximum(have, 1e-12))[:, None, None]


def mpjpe_true_bone_lengths(pred, target) -> float:
    """MPJPE after scaling each prediction to its own ground truth's sum of bone lengths (module docstring)."""
    p, t = _check_pair(pred, target)
    return mpjpe(scale_to_bone_length_sum(p, bone_length_sum(t)), t)


def bone_angles_deg(pred, target) -> np.ndarray:
    """Angle between each predicted and true bone vector, ``(N, 15)`` degrees."""
    p, t = _check_pair(pred, target)
    bp, bt = bone_vectors(p), bone_vectors(t)
    cos = (bp * bt).sum(-1) / np.maximum(np.linalg.norm(bp, axis=-1) * np.linalg.norm(bt, axis=-1), 1e-12)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def pose_errors_mm(pred_m, target_m) -> dict[str, float]:
    """The figures for poses in metres: P1, P1 with true bone lengths and P2 in mm, bone angles in degrees.

    Args:
        pred_m: predicted poses in metres, ``(N, 16, 3)``.
        target_m: ground truth in metres, same shape.
    Returns:
        ``{"mpjpe_mm", "mpjpe_true_bones_mm", "pmpjpe_mm", "bone_angle_deg", "n"}``.
    """
    p, t = _check_pair(pred_m, target_m)
    return {
        "mpjpe_mm": 1000.0 * mpjpe(p, t),
        "mpjpe_true_bones_mm": 1000.0 * mpjpe_true_bone_lengths(p, t),
        "pmpjpe_mm": 1000.0 * p_mpjpe(p, t),
        "bone_angle_deg": float(bone_angles_deg(p, t).mean()),
        "n": int(p.shape[0]),
    }


def acceleration_error_mm(pred_m, target_m) -> float:
    """Jitter: mean distance between the second differences of predicted and true joint tracks.

    Args:
        pred_m: ``(T, J, 3)`` one person's poses in metres, consecutive frames (root-relative).
        target_m: the true poses, same shape.
    Returns:
        millimetres per frame squared (0 for fewer than 3 frames).
    """
    p, t = _check_pair(pred_m, target_m)
    if len(p) < 3:
        return 0.0
    accel = lambda x: x[2:] - 2 * x[1:-1] + x[:-2]  # noqa: E731 - a formula, named once
    return 1000.0 * float(np.linalg.norm(accel(p) - accel(t), axis=-1).mean())


def lag_frames(pred_m, target_m, max_lag: float = 6.0, step: float = 0.1) -> float:
    """How many frames the predicted motion trails the true one (negative: it leads).

    The velocity of the truth, delayed by ``k`` frames (linear interpolation between frames), is
    compared with the predicted velocity for ``k`` from ``-max_lag`` to ``max_lag``; the ``k`` with the
    smallest mean squared difference is the lag. Velocities, not positions, so that a constant offset
    of the pose does not count.
    """
    p, t = _check_pair(pred_m, target_m)
    vp, vt = np.diff(p, axis=0), np.diff(t, axis=0)
    n = len(vp)
    margin = int(np.ceil(max_lag)) + 1
    if n <= 2 * margin:
        return 0.0
    frames = np.arange(margin, n - margin)
    best, best_err = 0.0, np.inf
    for k in np.arange(-max_lag, max_lag + step / 2, step):
        source = frames - k
        lo = np.floor(source).astype(int)
        a = (source - lo)[:, None, None]
        delayed = (1 - a) * vt[lo] + a * vt[lo + 1]
        err = float(((vp[frames] - delayed) ** 2).mean())
        if err < best_err:
            best, best_err = float(k), err
    return best
