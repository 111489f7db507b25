"""Pose synthesis from the motion capture's own joint rotations, in the spirit of PoseAug (CVPR 2021).

A pose is taken apart into the rotations of its limbs relative to the body, then put together again
in new combinations:

* **body frames**: the pelvis frame (x: right hip to left hip, y: the world's up made square to it;
  the 16 joints have no other pelvis landmark) and the chest frame (x: right to left shoulder, y: spine
  to thorax) of each pose;
* **joint rotations**: every bone's direction in the frame it hangs from (legs in the pelvis frame;
  head and arms in the chest frame) and the chest frame's rotation relative to the pelvis frame
  (how the torso bends and twists);
* **mixing**: a pose takes the upper body (torso bend, head and arms) of another clip's pose, or one
  limb (an arm or a leg) of it;
* **perturbing within the data's range**: each limb's local direction moves part of the way
  towards that of another random pose (a blend of two observed joint rotations is inside the range
  the data shows, unlike a rotation by an arbitrary angle);
* **global orientation**: some poses are tilted as a whole about a horizontal axis through the
  pelvis, up to lying down (PoseAug's rotation augmentation), and put back on the floor.

Bone lengths are kept from the base pose here; ``semgcn.datasets.augment.scale_bones`` varies them
afterwards. Pure numpy, vectorised over poses; world poses are ``(N, 16, 3)`` metres, Y up.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from semgcn import skeleton as S

_J = S.JOINT_INDEX
_PELVIS_BONES = {"left_leg": ("left_knee", "left_ankle"), "right_leg": ("right_knee", "right_ankle"),
                 "torso": ("spine", "thorax")}
_CHEST_BONES = {"head": ("head",), "left_arm": ("left_elbow", "left_wrist"),
                "right_arm": ("right_elbow", "right_wrist")}
_LIMBS = ("left_leg", "right_leg", "left_arm", "right_arm")
#: Bones (``S.BONES`` indices) whose direction is kept in the chest frame: those leaving the thorax
#: (to the head and the shoulders) and the arms below the shoulders; the others hang on the pelvis frame.
_CHEST_HUNG = tuple(k for k, (c, p) in enumerate(S.BONES) if p == _J["thorax"] or c in
                    (_J["left_elbow"], _J["left_wrist"], _J["right_elbow"], _J["right_wrist"]))


@dataclass
class SynthesisOptions:
    """How many poses are synthesised and how.

    Attributes:
        prob: share of the poses replaced by a synthesised one each epoch.
        upper_body_prob: of those, the share that takes another pose's whole upper body (else one limb).
        blend: a limb's local direction moves up to this fraction towards another pose's.
        tilt_prob: share of all poses tilted as a whole; max_tilt_deg: up to this angle.
    """

    prob: float = 0.5
    upper_body_prob: float = 0.5
    blend: float = 0.3
    tilt_prob: float = 0.1
    max_tilt_deg: float = 90.0


NO_SYNTHESIS = SynthesisOptions(prob=0.0, tilt_prob=0.0)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def _frames(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``(N, 3, 3)`` rotations with columns (x, y, z): x kept, y orthogonalised, z = x cross y."""
    x = _unit(x)
    y = _unit(y - (x * y).sum(-1, keepdims=True) * x)
    return np.stack([x, y, np.cross(x, y)], axis=-1)


def body_frames(joints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pelvis and chest frames ``(N, 3, 3)`` of world poses."""
    up = np.broadcast_to([0.0, 1.0, 0.0], joints[:, 0].shape)
    pelvis = _frames(joints[:, _J["left_hip"]] - joints[:, _J["right_hip"]], up)
    chest = _frames(joints[:, _J["left_shoulder"]] - joints[:, _J["right_shoulder"]],
                    joints[:, _J["thorax"]] - joints[:, _J["spine"]])
    return pelvis, chest


def local_directions(joints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every bone's unit direction in its hanging frame ``(N, 15, 3)`` and the chest-in-pelvis rotation."""
    pelvis, chest = body_frames(joints)
    world = _unit(S.bone_vectors(joints))
    frame = np.repeat(pelvis[:, None], len(S.BONES), axis=1)
    frame[:, list(_CHEST_HUNG)] = chest[:, None]
    local = np.einsum("nkji,nkj->nki", frame, world)  # R^T d
    return local, np.einsum("nji,njk->nik", pelvis, chest)


def rebuild(base: np.ndarray, local: np.ndarray, chest_rel: np.ndarray) -> np.ndarray:
    """World poses with ``base``'s pelvis, pelvis frame and bone lengths, and the given local rotations."""
    pelvis, _ = body_frames(base)
    chest = pelvis @ chest_rel
    lengths = S.bone_lengths(base)
    out = base.copy()
    for k, (child, parent) in enumerate(S.BONES):
        direction = np.einsum("nij,nj->ni", chest if k in _CHEST_HUNG else pelvis, local[:, k])
        out[:, child] = out[:, parent] + lengths[:, k, None] * direction
    # Feet where the base's were: a donor's straighter legs must not push them through the floor.
    ankles = [_J["left_ankle"], _J["right_ankle"]]
    out[..., 1] += (base[:, ankles, 1].min(1) - out[:, ankles, 1].min(1))[:, None]
    return out


def _bones_of(names: tuple[str, ...]) -> list[int]:
    return [k for k, (c, _) in enumerate(S.BONES) if S.JOINT_NAMES[c] in names]


def _limb_bones(limb: str) -> list[int]:
    return _bones_of(_PELVIS_BONES.get(limb) or _CHEST_BONES[limb])


def tilt(rng: np.random.Generator, joints: np.ndarray, max_deg: float) -> np.ndarray:
    """Rotate each pose about a random horizontal axis through its pelvis, then stand it on the floor."""
    n = len(joints)
    angle = np.radians(rng.uniform(0.0, max_deg, n))
    heading = rng.uniform(0.0, 2 * np.pi, n)
    axis = np.stack([np.cos(heading), np.zeros(n), np.sin(heading)], -1)
    k = np.zeros((n, 3, 3))
    k[:, 0, 1], k[:, 0, 2], k[:, 1, 2] = -axis[:, 2], axis[:, 1], -axis[:, 0]
    k = k - np.transpose(k, (0, 2, 1))
    rot = np.eye(3) + np.sin(angle)[:, None, None] * k + (1 - np.cos(angle))[:, None, None] * (k @ k)
    pelvis = joints[:, S.ROOT:S.ROOT + 1]
    out = np.einsum("nij,nkj->nki", rot, joints - pelvis) + pelvis
    out[..., 1] -= out[..., 1].min(axis=1, keepdims=True) - 0.05  # lowest joint 5 cm above the floor
    return out


def synthesise(rng: np.random.Generator, joints: np.ndarray, opt: SynthesisOptions) -> np.ndarray:
    """A new ``(N, 16, 3)`` array: a share ``opt.prob`` of the poses recombined (module docstring)."""
    n = len(joints)
    out = np.asarray(joints, np.float64).copy()
    chosen = np.flatnonzero(rng.random(n) < opt.prob)
    if chosen.size:
        base = out[chosen]
        local, chest_rel = local_directions(base)
        donor_local, donor_rel = local_directions(out[rng.integers(0, n, chosen.size)])
        upper = rng.random(chosen.size) < opt.upper_body_prob
        chest_rel[upper] = donor_rel[upper]
        for limb in ("torso", "head", "left_arm", "right_arm"):
            local[np.ix_(upper, _limb_bones(limb))] = donor_local[np.ix_(upper, _limb_bones(limb))]
        one = rng.integers(0, len(_LIMBS), chosen.size)
        for i, limb in enumerate(_LIMBS):
            rows = ~upper & (one == i)
            local[np.ix_(rows, _limb_bones(limb))] = donor_local[np.ix_(rows, _limb_bones(limb))]
        other_local, _ = local_directions(out[rng.integers(0, n, chosen.size)])
        t = rng.uniform(0.0, opt.blend, (chosen.size, 1, 1))
        limbs = sum((_limb_bones(limb) for limb in _LIMBS), [])
        local[:, limbs] = _unit((1 - t) * local[:, limbs] + t * other_local[:, limbs])
        out[chosen] = rebuild(base, local, chest_rel)
    tilted = np.flatnonzero(rng.random(n) < opt.tilt_prob)
    if tilted.size:
        out[tilted] = tilt(rng, out[tilted], opt.max_tilt_deg)
    return out
