"""Mocap collections on the canonical skeleton, split by person (never by frame), with an npz cache.

A *person id* names who performed a clip, the same across folders: ``cmu:007`` for CMU subject 7 in
``cmu/.../007`` and in ``cmu_walk/07`` (two conversions of the same captures); ``cmu:060`` and
``cmu:061`` for the salsa couple of ``cmu_dance/salsa`` (clips 01-15 and 16-30);
``cmu:martial`` and ``cmu:indian`` for the one performer of each of those folders (their CMU subject
numbers are not given with the files); ``reactidle:008`` for ReActIdle's ``008_acted.bvh`` and
``008_genuine.bvh``; ``hdm05:bd`` for an HDM05 actor; for any other collection the clip's parent
folder name. Splits hold whole people out, so a validation figure measures a stranger, as the live
app will see. HDM05 people never enter training (CC BY-SA: :data:`NEVER_TRAIN`).
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

#: Default held-out people: the earlier split's CMU subject 7 (now also in cmu_walk) and four
#: ReActIdle people of different sizes (003 small, 013 and 015 medium, 008 tall), plus CMU subject 13
#: (cmu_walk) and salsa dancer 61 (cmu_dance), so that every CMU folder has a held-out person.
DEFAULT_VAL_PEOPLE: tuple[str, ...] = ("cmu:007", "cmu:013", "cmu:061", "reactidle:003", "reactidle:008",
                                       "reactidle:013", "reactidle:015")
#: Person-id prefixes that are measured on but never trained on (HDM05 is CC BY-SA 3.0: weights
#: trained on it may count as a derived work).
NEVER_TRAIN: tuple[str, ...] = ("hdm05:",)
#: Bumped when the reading or mapping of clips changes, so that old caches are not reused.
CACHE_VERSION = 3
#: Clip file suffixes :func:`find_clips` collects.
CLIP_SUFFIXES: tuple[str, ...] = (".bvh", ".amc")


@dataclass
class MocapOptions:
    """How clips become poses.

    Attributes:
        target_fps: poses per second kept from each collection (mocap at 60 fps is very redundant).
        target_fps_idle: the same for ReActIdle's idle standing, which changes even more slowly.
        target_fps_test: the same for the people measured on but never trained on (HDM05).
    """

    target_fps: float = 20.0
    target_fps_idle: float = 4.0
    target_fps_test: float = 10.0


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


def _subject(folder: str) -> str:
    return f"cmu:{int(folder):03d}" if folder.isdigit() else f"cmu:{folder}"


def person_id(path: Path) -> str:
    """Who performed the clip at ``path`` (see the module docstring)."""
    parts = [p.lower() for p in path.parts]
    if "reactidle" in parts:
        m = re.match(r"(\d+)_", path.name)
        return f"reactidle:{m.group(1) if m else path.stem}"
    if "hdm05" in parts:
        return f"hdm05:{path.parent.name}"
    if "cmu_dance" in parts:
        if path.parent.name == "salsa":  # clips 01-15: subject 60, 16-30: subject 61 (partners)
            return "cmu:060" if int(path.stem) <= 15 else "cmu:061"
        return f"cmu:{path.parent.name}"
    if "cmu" in parts or "cmu_walk" in parts:
        return _subject(path.parent.name)
    return f"{path.parent.name}"


def frame_rate_override(path: Path) -> float | None:
    """The true frame rate of a clip whose header is wrong, from a ``framerates.txt`` in a folder above
    it (lines ``<folder> framerate <fps>``; cmu_dance's salsa says 120 fps but was captured at 60)."""
    for folder in path.parents:
        table = folder / "framerates.txt"
        if table.is_file():
            rates = dict(re.findall(r"^\s*(\S+)\s+framerate\s+([0-9.]+)", table.read_text(), re.M))
            rate = rates.get(path.parent.name)
            return float(rate) if rate else None
    return None


def find_clips(roots: list[Path], suffixes: tuple[str, ...] = CLIP_SUFFIXES) -> list[Path]:
    """Every clip file (``.bvh``, ``.amc``) under the given folders (or the files themselves), sorted."""
    clips: list[Path] = []
    for root in roots:
        root = Path(root)
        if root.is_file():
            clips.append(root)
        elif root.is_dir():
            clips.extend(sorted(p for p in root.rglob("*") if p.suffix.lower() in suffixes))
        else:
            raise FileNotFoundError(f"mocap path {root} does not exist")
    if not clips:
        raise FileNotFoundError(f"no {' / '.join(suffixes)} files under {', '.join(map(str, roots))}")
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
        clip = load_canonical(path, fps=frame_rate_override(path))
        fps = {"reactidle": options.target_fps_idle, "acclaim": options.target_fps_test}.get(clip.rig, options.target_fps)
        step = max(1, int(round(clip.fps / fps)))
        j = clip.joints[::step].copy()
        j[..., 1] -= floor_height(clip.joints)
        joints.append(j)
        person += [person_id(path)] * len(j)
        names += [f"{path.parent.name}/{path.stem}"] * len(j)
    return PoseSet(np.concatenate(joints).astype(np.float32), np.array(person), np.array(names))


def load_poses_cached(clips: list[Path], options: MocapOptions, cache_dir: Path | None,
                      progress: bool = True) -> PoseSet:
    """:func:`load_poses` with an npz cache keyed by the files (path, size, mtime) and options."""
    if cache_dir is None:
        return load_poses(clips, options, progress)
    key = hashlib.sha1(repr(([(str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in clips],
                             options.target_fps, options.target_fps_idle, options.target_fps_test,
                             CACHE_VERSION)).encode()).hexdigest()[:16]
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
    """Training and validation poses, split by person; ``test``: the :data:`NEVER_TRAIN` people."""

    train: PoseSet
    val: PoseSet
    val_people: list[str] = field(default_factory=list)
    test: PoseSet | None = None


def never_train(person: np.ndarray) -> np.ndarray:
    """``(N,)`` True for the people of :data:`NEVER_TRAIN` (HDM05)."""
    return np.array([p.startswith(NEVER_TRAIN) for p in person.tolist()], dtype=bool)


def split_by_person(poses: PoseSet, val_people: tuple[str, ...]) -> Split:
    """Hold the listed people out, and the :data:`NEVER_TRAIN` people into ``test``.

    Raises:
        ValueError: when that leaves training or validation empty.
    """
    held = np.isin(poses.person, list(val_people))
    barred = never_train(poses.person) & ~held
    if not held.any() or (held | barred).all():
        raise ValueError(f"validation people {list(val_people)} leave an empty split "
                         f"(people present: {sorted(set(poses.person.tolist()))})")
    test = poses.select(barred) if barred.any() else None
    return Split(poses.select(~held & ~barred), poses.select(held), sorted(set(poses.person[held].tolist())), test)
