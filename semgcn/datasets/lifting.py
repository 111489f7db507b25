"""Ready-to-train data: mocap folders -> a per-epoch sample generator and fixed validation sets.

Used by ``tools.train``, ``tools.evaluate`` and ``tools.ablation`` so that all three see exactly the
same people, cameras and seeds.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from semgcn.datasets.augment import NO_AUGMENT, RECIPE_AUGMENT, AugmentOptions
from semgcn.datasets.builder import LiftingSamples, make_samples, validation_sets
from semgcn.datasets.cameras import CameraOptions
from semgcn.datasets.synthesis import NO_SYNTHESIS, SynthesisOptions
from semgcn.datasets.mocap import (DEFAULT_VAL_PEOPLE, MocapOptions, PoseSet, find_clips,
                                   load_poses_cached, split_by_person)

#: ``../shared/mocap`` beside the checkout: the default training data.
DEFAULT_MOCAP = Path(__file__).resolve().parents[3] / "shared" / "mocap"
DEFAULT_CACHE = Path(__file__).resolve().parents[2] / "runs" / "cache"
VAL_SEED = 12345


@dataclass
class DataOptions:
    """Where the mocap is and how it is turned into samples.

    Attributes:
        mocap: BVH folders or files.
        val_people: person ids held out (see ``semgcn.datasets.mocap.person_id``).
        target_fps: poses per second kept (general motion).
        target_fps_idle: poses per second kept from ReActIdle's idle standing.
        target_fps_test: poses per second kept from the never-trained test people (HDM05).
        cache_dir: npz cache of the parsed mocap (None: no cache).
        augment: training augmentations (``NO_AUGMENT`` to switch them off; default: the recipe,
            with the fitted BlazePose error model on half of the poses).
        synthesis: pose synthesis (``NO_SYNTHESIS`` to switch it off).
        cameras: virtual camera ranges.
        max_train_poses: keep at most this many training poses (evenly spaced; for smoke tests).
        max_val_poses: the same for validation.
        max_poses_per_person: at most this many poses of each held-out or test person (evenly spaced), so
            that every person weighs about the same in a figure (cmu:061's salsa alone would be 60 %).
    """

    mocap: list[Path] = field(default_factory=lambda: [DEFAULT_MOCAP])
    val_people: tuple[str, ...] = DEFAULT_VAL_PEOPLE
    target_fps: float = 20.0
    target_fps_idle: float = 4.0
    target_fps_test: float = 10.0
    cache_dir: Path | None = DEFAULT_CACHE
    augment: AugmentOptions = field(default_factory=lambda: RECIPE_AUGMENT)
    synthesis: SynthesisOptions = field(default_factory=SynthesisOptions)
    cameras: CameraOptions = field(default_factory=CameraOptions)
    max_train_poses: int | None = None
    max_val_poses: int | None = None
    max_poses_per_person: int | None = 1500


@dataclass
class MocapData:
    """Training poses, held-out samples and a description for checkpoints / model cards.

    ``val`` holds ``exact`` / ``noisy`` for the held-out people and, when the mocap has them,
    ``hdm05_exact`` / ``hdm05_noisy`` for the other lab's actors (never trained on).
    """

    train: PoseSet
    val: dict[str, LiftingSamples]
    description: dict
    val_poses: PoseSet | None = None
    test_poses: PoseSet | None = None


def _thin(poses: PoseSet, limit: int | None) -> PoseSet:
    if limit is None or len(poses) <= limit:
        return poses
    keep = np.zeros(len(poses), dtype=bool)
    keep[np.linspace(0, len(poses) - 1, limit).astype(int)] = True
    return poses.select(keep)


def _per_person(poses: PoseSet, limit: int | None) -> PoseSet:
    if limit is None:
        return poses
    keep = np.zeros(len(poses), dtype=bool)
    for person in np.unique(poses.person):
        rows = np.flatnonzero(poses.person == person)
        keep[rows[np.linspace(0, len(rows) - 1, min(limit, len(rows))).astype(int)]] = True
    return poses.select(keep)


def prepare_mocap(opt: DataOptions, progress: bool = True) -> MocapData:
    """Read, split (by person) and describe the mocap; draw the fixed validation views."""
    clips = find_clips([Path(p) for p in opt.mocap])
    poses = load_poses_cached(clips, MocapOptions(opt.target_fps, opt.target_fps_idle, opt.target_fps_test),
                              opt.cache_dir, progress)
    split = split_by_person(poses, opt.val_people)
    train = _thin(split.train, opt.max_train_poses)
    val = _thin(_per_person(split.val, opt.max_poses_per_person), opt.max_val_poses)
    description = {
        "mocap": [str(p) for p in opt.mocap], "clips": len(clips),
        "train_poses": len(train), "val_poses": len(val),
        "train_people": sorted(set(train.person.tolist())), "val_people": split.val_people,
        "target_fps": opt.target_fps, "target_fps_idle": opt.target_fps_idle,
        "cameras": vars(opt.cameras), "augment": vars(opt.augment), "synthesis": vars(opt.synthesis),
        "val_seed": VAL_SEED,
        "normalisation": "semgcn.codec.normalize_2d with the virtual camera's focal and centre",
        "test_people": sorted(set(split.test.person.tolist())) if split.test is not None else [],
        "test_poses": len(_per_person(split.test, opt.max_poses_per_person)) if split.test is not None else 0,
        "max_poses_per_person": opt.max_poses_per_person,
        "target_fps_test": opt.target_fps_test,
    }
    sets = validation_sets(val, VAL_SEED, opt.cameras)
    if split.test is not None:
        test = _thin(_per_person(split.test, opt.max_poses_per_person), opt.max_val_poses)
        sets.update({f"hdm05_{k}": v for k, v in validation_sets(test, VAL_SEED, opt.cameras).items()})
    return MocapData(train, sets, description, val, split.test)  # (test: all its poses, uncapped)


def epoch_generator(train: PoseSet, seed: int, opt: DataOptions) -> Callable[[int], tuple[np.ndarray, np.ndarray]]:
    """``epoch -> (inputs, targets)``: fresh cameras and augmentations every epoch, seeded."""
    def draw(epoch: int) -> tuple[np.ndarray, np.ndarray]:
        samples = make_samples(train, seed * 100003 + epoch, opt.cameras, opt.augment, opt.synthesis)
        return samples.inputs(), samples.joints_3d
    return draw


def as_arrays(sets: dict[str, LiftingSamples]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Validation samples -> ``name -> (inputs, targets)`` for the training loop."""
    return {k: (v.inputs(), v.joints_3d) for k, v in sets.items()}


__all__ = ["DataOptions", "MocapData", "prepare_mocap", "epoch_generator", "as_arrays", "NO_AUGMENT",
           "NO_SYNTHESIS"]
