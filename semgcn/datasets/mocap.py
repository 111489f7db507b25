"""Mocap collections on the canonical skeleton, split by person (never by frame), with an npz cache.

A *person id* names who performed a clip: ``cmu:007`` for a CMU subject folder, ``reactidle:008`` for
ReActIdle's ``008_acted.bvh`` and ``008_genuine.bvh`` (same person), and for any other BVH collection
the clip's parent folder name. Splits hold whole people out, so a validation figure measures a
stranger, as the live app will see.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from semgcn import skeleton as S
from semgcn.rigs import load_canonical

#: Default held-out people: one CMU subject and four ReActIdle people of different sizes
#: (003 small, 013 and 015 medium, 008 tall).
DEFAULT_VAL_PEOPLE: tuple[str, ...] = ("cmu:007", "reactidle:003", "reactidle:008", "reactidle:013",
                                       "reactidle:015")


@dataclass
class MocapOptions:
    """How clips become poses.

    Attributes:
        target_fps: poses per second kept from each collection (mocap at 60 fps is very redundant).
        target_fps_idle: the same for ReActIdle's idle standing, which changes even more slowly.
    """

    target_fps: float = 20.0
    target_fps_idle: float = 4.0


@dataclass
class PoseSet:
    """World-frame poses on the canonical skeleton.

    Attributes:
        joints: ``(N, 16, 3)`` float32 metres, Y up, floor at y = 0.
        person: ``(N,)`` person id of each pose.
        clip: ``(N,)`` clip name of each pose.
    """

    joints: np.ndarray
    person: np.ndarray
    clip: np.ndarray

    def select(self, mask: np.ndarray) -> "PoseSet":
        """The poses where ``mask`` is True."""
        return PoseSet(self.joints[mask], self.person[mask], self.clip[mask])

    def __len__(self) -> int:
        return int(self.joints.shape[0])


def person_id(path: Path) -> str:
    """Who performed the clip at ``path`` (see the module docstring)."""
    parts = [p.lower() for p in path.parts]
    if "reactidle" in parts:
        m = re.match(r"(\d+)_", path.name)
        return f"reactidle:{m.group(1) if m else path.stem}"
    if "cmu" in parts:
        return f"cmu:{path.parent.name}"
    return f"{path.parent.name}"


def find_clips(roots: list[Path]) -> list[Path]:
    """Every ``.bvh`` under the given folders (or the files themselves), sorted."""
    clips: list[Path] = []
    for root in roots:
        root = Path(root)
        if root.is_file():
            clips.append(root)
        elif root.is_dir():
            clips.extend(sorted(root.rglob("*.bvh")))
        else:
            raise FileNotFoundError(f"mocap path {root} does not exist")
    if not clips:
        raise FileNotFoundError(f"no .bvh files under {', '.join(map(str, roots))}")
    return clips


def floor_height(joints: np.ndarray) -> float:
    """Floor y of a clip: a low percentile of the ankle heights minus a typical ankle height (8 cm)."""
    ankles = joints[:, [S.JOINT_INDEX["left_ankle"], S.JOINT_INDEX["right_ankle"]], 1]
    return float(np.percentile(ankles.min(axis=1), 5.0)) - 0.08


def load_poses(clips: list[Path], options: MocapOptions, progress: bool = True) -> PoseSet:
    """Read clips, subsample them in time and put each clip's floor at y = 0.

    Args:
        clips: BVH files.
        options: sampling options.
        progress: show a tqdm bar.
    """
    joints, person, names = [], [], []
    for path in tqdm(clips, desc="reading mocap", unit="clip", disable=not progress):
        clip = load_canonical(path)
        fps = options.target_fps_idle if clip.rig == "reactidle" else options.target_fps
        step = max(1, int(round(clip.fps / fps)))
        j = clip.joints[::step].copy()
        j[..., 1] -= floor_height(clip.joints)
        joints.append(j)
        person += [person_id(path)] * len(j)
        names += [path.stem] * len(j)
    return PoseSet(np.concatenate(joints).astype(np.float32), np.array(person), np.array(names))


def load_poses_cached(clips: list[Path], options: MocapOptions, cache_dir: Path | None,
                      progress: bool = True) -> PoseSet:
    """:func:`load_poses` with an npz cache keyed by the files (path, size, mtime) and options."""
    if cache_dir is None:
        return load_poses(clips, options, progress)
    key = hashlib.sha1(repr(([(str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in clips],
                             options.target_fps, options.target_fps_idle)).encode()).hexdigest()[:16]
    cache = Path(cache_dir) / f"poses_{key}.npz"
    if cache.exists():
        with np.load(cache) as z:
            return PoseSet(z["joints"], z["person"], z["clip"])
    poses = load_poses(clips, options, progress)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp.npz")
    np.savez(tmp, joints=poses.joints, person=poses.person, clip=poses.clip)
    tmp.replace(cache)
    return poses


@dataclass
class Split:
    """Training and validation poses, split by person."""

    train: PoseSet
    val: PoseSet
    val_people: list[str] = field(default_factory=list)


def split_by_person(poses: PoseSet, val_people: tuple[str, ...]) -> Split:
    """Hold the listed people out; raises ValueError when that leaves either side empty."""
    held = np.isin(poses.person, list(val_people))
    if not held.any() or held.all():
        raise ValueError(f"validation people {list(val_people)} leave an empty split "
                         f"(people present: {sorted(set(poses.person.tolist()))})")
    return Split(poses.select(~held), poses.select(held), sorted(set(poses.person[held].tolist())))
