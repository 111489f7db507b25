"""Augmentations that matter for a live lifter: body proportions, mirroring, detector-like 2D error.

* :func:`scale_bones`: rigs and people differ (CMU has one body; ReActIdle 14), so each pose's bones
  are rescaled: one overall size, one factor per left/right bone pair (+ a little asymmetry), and a
  wider range for the shoulder and hip widths, which differ most between rigs.
* :func:`mirror_world`: left-right flip of the 3D pose (x -> -x) with the labels swapped, so the
  mirrored body is again a valid, correctly labelled body; the camera then sees a mirrored image.
* :func:`detector_noise`: Gaussian pixel noise scaled by the person's size in the image, plus rare
  large outliers, as a real 2D detector gives.
* :func:`drop_joints` / :func:`semgcn.codec.fill_dropped`: a detector sometimes loses a joint. A dropped joint is
  represented by **its parent's 2D position** (the bone collapses to a point): the input stays finite
  for ``semgcn.codec.normalize_2d``, the geometry says "no evidence here", and the same rule is easy for
  a live app to apply to low-confidence joints before lifting.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from semgcn import skeleton as S

#: Joints a detector may lose. The pelvis, spine and thorax are derived from the hips and shoulders
#: and never dropped on their own.
DROPPABLE: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 9, 10, 11, 12, 13, 14, 15)
_WIDTH_BONES = (1, 4, 10, 13)  # child joints of pelvis->hip and thorax->shoulder bones


@dataclass
class AugmentOptions:
    """Augmentation strengths (0 or False switches one off).

    Attributes:
        flip_prob: probability of a left-right mirror.
        body_scale: overall size factor range.
        bone_scale: per bone-pair factor range (symmetric left/right).
        width_scale: extra factor range for shoulder and hip widths.
        asymmetry: per-bone independent jitter (fraction).
        noise_prob: probability that a pose gets 2D noise at all.
        noise_sigma: max per-pose noise sigma as a fraction of the body's image height.
        outlier_prob: per-joint probability of a large error.
        outlier_sigma: large error sigma, fraction of body height.
        drop_prob: probability that a pose loses joints.
        max_dropped: at most this many joints dropped.
        detector_prob: probability that a pose's 2D comes from the fitted BlazePose error model
            (``semgcn.datasets.detector_errors``) instead of the isotropic noise above.
        detector_strength: scales that model's random part (1: as measured).
    """

    flip_prob: float = 0.5
    body_scale: tuple[float, float] = (0.85, 1.15)
    bone_scale: tuple[float, float] = (0.9, 1.1)
    width_scale: tuple[float, float] = (0.8, 1.2)
    asymmetry: float = 0.03
    noise_prob: float = 0.8
    noise_sigma: float = 0.02
    outlier_prob: float = 0.01
    outlier_sigma: float = 0.08
    drop_prob: float = 0.1
    max_dropped: int = 2
    detector_prob: float = 0.0
    detector_strength: float = 1.0


NO_AUGMENT = AugmentOptions(flip_prob=0.0, body_scale=(1.0, 1.0), bone_scale=(1.0, 1.0),
                            width_scale=(1.0, 1.0), asymmetry=0.0, noise_prob=0.0, drop_prob=0.0)
#: The training augmentation of the shipped lifter: half of the poses see BlazePose-like 2D (fitted
#: error model), a quarter isotropic noise, the rest exact 2D; wider bone-length ranges than the
#: defaults (each bone pair +-20 %, shoulder and hip widths 0.8-1.35), because another lab's skeleton
#: (HDM05: thighs 15 % shorter, torso 9 % longer, shoulder joints 28 % further apart than the CMU body)
#: differs by that much, and a body of the CMU proportions with every bone pointing exactly right would
#: still be 50 mm P2 off HDM05 (docs/model_card_lifter.md); fewer dropped joints (the live default keeps
#: BlazePose's guesses).
RECIPE_AUGMENT = AugmentOptions(bone_scale=(0.8, 1.2), width_scale=(0.8, 1.35), noise_prob=0.5, drop_prob=0.05,
                                detector_prob=0.5)
#: The recipe without the fitted BlazePose error model: isotropic 2D noise on most poses instead
#: (``tools.train --no-detector-model``, the ablation's "no detector model" row).
ISOTROPIC_AUGMENT = replace(RECIPE_AUGMENT, detector_prob=0.0, noise_prob=0.8)


def _pair_of(joint: int) -> int:
    return S.FLIP_PERMUTATION[joint]


def scale_bones(rng: np.random.Generator, joints: np.ndarray, opt: AugmentOptions) -> np.ndarray:
    """Rescale each pose's bones (``(N, 16, 3)`` world metres); the pelvis stays where it was.

    Derived joints stay consistent: hips and shoulders scale symmetrically about the pelvis and
    thorax, so those remain midpoints; the spine joint is re-placed halfway between them.
    """
    n = joints.shape[0]
    factor = np.ones((n, S.NUM_JOINTS))
    for child in range(1, S.NUM_JOINTS):
        partner = _pair_of(child)
        if partner < child:
            factor[:, child] = factor[:, partner]
            continue
        factor[:, child] = rng.uniform(*opt.bone_scale, size=n)
        if child in _WIDTH_BONES:
            factor[:, child] *= rng.uniform(*opt.width_scale, size=n)
    if opt.asymmetry:
        asym = 1.0 + rng.uniform(-opt.asymmetry, opt.asymmetry, size=(n, S.NUM_JOINTS))
        asym[:, list(_WIDTH_BONES)] = 1.0  # keep hips/shoulders symmetric: pelvis/thorax stay midpoints
        factor *= asym
    factor *= rng.uniform(*opt.body_scale, size=(n, 1))
    out = joints.copy()
    for child, parent in S.BONES:  # parents come first, so out[parent] is already final
        out[:, child] = out[:, parent] + factor[:, child, None] * (joints[:, child] - joints[:, parent])
    spine, pelvis, thorax = S.JOINT_INDEX["spine"], S.ROOT, S.JOINT_INDEX["thorax"]
    # the thorax stays the shoulders' midpoint (symmetric factors); the spine is re-placed halfway
    out[:, spine] = (out[:, pelvis] + out[:, thorax]) / 2
    return out


def mirror_world(joints: np.ndarray) -> np.ndarray:
    """Mirror ``(..., 16, 3)`` world poses in x and swap the left/right labels."""
    out = joints.copy()
    out[..., 0] *= -1.0
    return S.flip_labels(out)


def detector_noise(rng: np.random.Generator, pixels: np.ndarray, opt: AugmentOptions) -> np.ndarray:
    """Add detector-like 2D error to ``(N, 16, 2)`` pixels (a new array)."""
    n = pixels.shape[0]
    height = np.ptp(pixels[..., 1], axis=1)[:, None, None]
    sigma = rng.uniform(0.0, opt.noise_sigma, size=(n, 1, 1)) * (rng.random((n, 1, 1)) < opt.noise_prob)
    out = pixels + rng.normal(size=pixels.shape) * sigma * height
    outlier = rng.random((n, S.NUM_JOINTS, 1)) < opt.outlier_prob
    return out + outlier * rng.normal(size=pixels.shape) * opt.outlier_sigma * height


def drop_joints(rng: np.random.Generator, n: int, opt: AugmentOptions) -> np.ndarray:
    """``(n, 16)`` bool mask of dropped joints (at most ``opt.max_dropped`` per pose)."""
    mask = np.zeros((n, S.NUM_JOINTS), dtype=bool)
    lossy = np.flatnonzero(rng.random(n) < opt.drop_prob)
    for i in lossy:
        k = rng.integers(1, opt.max_dropped + 1)
        mask[i, rng.choice(DROPPABLE, size=k, replace=False)] = True
    return mask
