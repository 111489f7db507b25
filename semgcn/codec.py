"""2D normalisation for the lifter: the codec between detector pixels and the network's input.

Decision (documented in docs/normalisation.md):
  1. Pixels -> normalised camera coordinates ``(x - cx) / f, (y - cy) / f`` with the camera's focal
     length ``f`` and principal point ``c`` in pixels. This removes the camera: the same body at the
     same place gives the same input on a 640x480 webcam and on a 1920x1080 one. When the intrinsics
     are unknown, ``f`` comes from the image width and an assumed horizontal field of view
     (``DEFAULT_HFOV_DEG``, typical of webcams) and ``c`` is the image centre.
     (The official SemGCN code maps x to [-1, 1] by the image width, which is this with f = w / 2,
     i.e. a 90 degree field of view, and ties the model to Human3.6M's cameras.)
  2. Root-centring: the pelvis goes to the origin (as in the paper, Sect. 5.1).
  3. Scale normalisation: divided by the RMS distance of the joints from the pelvis, so that the
     input does not depend on how far away the person stands. The lifter then predicts metres for
     the body shape it sees; absolute size is learned as a prior and fixed by scale calibration.

Pure numpy: the production lifter uses it without torch.
"""
from __future__ import annotations

import math

import numpy as np

from semgcn.skeleton import BONES, FLIP_PERMUTATION, JOINT_NAMES, NUM_JOINTS, ROOT

#: Joints a live caller may report as lost (knees, ankles, head, elbows, wrists): each then takes the 2D
#: position of its nearest kept ancestor, the convention the lifter was trained with
#: (docs/normalisation.md). The torso (pelvis, hips, spine, thorax, shoulders) defines the body and the
#: detector derives pelvis and thorax from hips and shoulders, so it cannot be filled in.
FILLABLE_JOINTS: tuple[int, ...] = (2, 3, 5, 6, 9, 11, 12, 14, 15)
#: Assumed horizontal field of view when the camera is not calibrated (degrees).
DEFAULT_HFOV_DEG = 65.0
_EPS = 1e-6


def default_intrinsics(image_size, hfov_deg: float = DEFAULT_HFOV_DEG) -> tuple[np.ndarray, np.ndarray]:
    """Focal length and principal point (pixels) assumed for an uncalibrated camera.

    Args:
        image_size: ``(w, h)`` or an ``(N, 2)`` array of them.
        hfov_deg: assumed horizontal field of view in degrees.
    Returns:
        ``focal`` of shape ``(...,)`` and ``center`` of shape ``(..., 2)``, float64.
    """
    size = np.asarray(image_size, dtype=np.float64)
    focal = size[..., 0] / (2.0 * math.tan(math.radians(hfov_deg) / 2.0))
    return focal, size / 2.0


def normalize_2d(keypoints_px, image_size, focal=None, center=None) -> np.ndarray:
    """Encode pixel keypoints into the lifter's input.

    Args:
        keypoints_px: ``(N, 16, 2)`` pixels.
        image_size: ``(w, h)`` or ``(N, 2)``.
        focal: focal length in pixels, a scalar or ``(N,)``; None for ``default_intrinsics``.
        center: principal point in pixels, ``(2,)`` or ``(N, 2)``; None for the image centre.
    Returns:
        ``(N, 16, 2)`` float32, root-centred and scale-normalised camera coordinates.
    """
    kp = np.asarray(keypoints_px, dtype=np.float64)
    n = kp.shape[0]
    f_default, c_default = default_intrinsics(image_size)
    focal = f_default if focal is None else np.asarray(focal, dtype=np.float64)
    center = c_default if center is None else np.asarray(center, dtype=np.float64)
    focal = np.broadcast_to(focal, (n,))[:, None, None]
    center = np.broadcast_to(center, (n, 2))[:, None, :]
    cam = (kp - center) / focal
    cam = cam - cam[:, ROOT : ROOT + 1, :]
    scale = np.sqrt(np.mean(np.sum(cam**2, axis=-1), axis=-1))[:, None, None]
    return (cam / np.maximum(scale, _EPS)).astype(np.float32)


def check_keypoints(keypoints_px) -> np.ndarray:
    """Validate and batch pixel keypoints: ``(16, 2)`` or ``(N, 16, 2)`` finite numbers.

    Raises:
        ValueError: with a message that says what is wrong (shape, NaN / inf).
    """
    kp, _ = _as_batch(keypoints_px)
    if not np.all(np.isfinite(kp)):
        bad = sorted(set(np.argwhere(~np.isfinite(kp))[:, 1].tolist()))
        raise ValueError(f"keypoints contain NaN or inf (joints {bad}); drop or fill them before lifting")
    return kp


def _as_batch(keypoints_px) -> tuple[np.ndarray, bool]:
    """``(N, 16, 2)`` float64 keypoints and whether one ``(16, 2)`` pose was given (ValueError otherwise)."""
    kp = np.asarray(keypoints_px)
    if kp.dtype == object or not np.issubdtype(kp.dtype, np.number):
        raise ValueError(f"keypoints must be numbers, got dtype {kp.dtype}")
    single = kp.ndim == 2
    if single:
        kp = kp[None]
    if kp.ndim != 3 or kp.shape[1:] != (NUM_JOINTS, 2):
        raise ValueError(f"keypoints must have shape (16, 2) or (N, 16, 2), got {np.shape(keypoints_px)}")
    return kp.astype(np.float64), single


def fill_dropped(pixels, dropped) -> np.ndarray:
    """Replace each dropped joint by its nearest kept ancestor's 2D position (a collapsed bone).

    Args:
        pixels: ``(N, 16, 2)`` keypoints; dropped entries may be anything, NaN included.
        dropped: ``(N, 16)`` bool, True where the joint was lost.
    Returns:
        a new ``(N, 16, 2)`` float64 array without dropped entries (the root is never filled).
    """
    out = np.array(pixels, dtype=np.float64, copy=True)
    dropped = np.asarray(dropped, dtype=bool)
    for child, parent in BONES:  # parents come first: a dropped parent is already filled
        rows = dropped[:, child]
        out[rows, child] = out[rows, parent]
    return out


def prepare_keypoints(keypoints_px, confidence, lost_below: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """One detected pose made ready for lifting, the way the lifter was trained (docs/normalisation.md).

    A joint is lost when its keypoint or its confidence is not finite, or its confidence is under
    ``lost_below``. A lost limb joint or head moves onto its nearest kept ancestor (``fill_dropped``)
    and gets confidence 0; a lost hip or shoulder leaves no body to lift.

    Args:
        keypoints_px: ``(16, 2)`` pixels; lost entries may be NaN.
        confidence: ``(16,)`` per-joint confidences in [0, 1].
        lost_below: confidence under which a joint counts as lost (0: only non-finite ones).
    Returns:
        ``(keypoints, confidence)``: ``(16, 2)`` and ``(16,)`` float32, every entry finite.
    Raises:
        ValueError: misshaped arguments, or a lost torso joint (which cannot be filled in).
    """
    batch, single = _as_batch(keypoints_px)
    conf = np.asarray(confidence, dtype=np.float64)
    if not single or conf.shape != (NUM_JOINTS,):
        raise ValueError(f"expected one pose: keypoints (16, 2) and confidence (16,), got "
                         f"{np.shape(keypoints_px)} and {conf.shape}")
    lost = ~np.isfinite(batch[0]).all(axis=1) | ~np.isfinite(conf) | (conf < lost_below)
    torso = [JOINT_NAMES[j] for j in np.flatnonzero(lost) if j not in FILLABLE_JOINTS]
    if torso:
        raise ValueError(f"torso joints {torso} are lost (not finite, or confidence under {lost_below:g}): "
                         "they cannot be filled in, skip this pose")
    if not lost.any():
        return batch[0].astype(np.float32), conf.astype(np.float32)
    filled = fill_dropped(batch, lost[None])[0]
    return filled.astype(np.float32), np.where(lost, 0.0, conf).astype(np.float32)


def flip_inputs(x: np.ndarray) -> np.ndarray:
    """The mirror image of normalised 2D inputs ``(N, 16, 2)``: x negated, left and right swapped.

    The codec's coordinates are centred on the pelvis, so negating x mirrors the body about the
    vertical through it, which is what a mirrored camera image would give.
    """
    return np.asarray(x)[:, FLIP_INDEX] * MIRROR_2D


def flip_average(y: np.ndarray) -> np.ndarray:
    """Test-time flip augmentation: ``y`` stacks the ``N`` predictions of the inputs and the ``N`` of their
    :func:`flip_inputs` (``(2N, 16, 3)``); returns the mean of the first and the second mirrored back."""
    y = np.asarray(y, dtype=np.float32)
    n = len(y) // 2
    return (y[:n] + y[n:, FLIP_INDEX] * MIRROR_3D) * np.float32(0.5)


# Precomputed once: the flip runs on every live frame (and, in torch, in flip distillation).
FLIP_INDEX = np.array(FLIP_PERMUTATION)
MIRROR_2D = np.array([-1.0, 1.0], dtype=np.float32)
MIRROR_3D = np.array([-1.0, 1.0, 1.0], dtype=np.float32)
