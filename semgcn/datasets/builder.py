"""Mocap poses -> lifter samples: (2D pixels, 3D camera-frame root-relative metres) as virtual webcams
see them, and the npz format that ``tools.evaluate`` reads.

Training draws fresh bone scales, mirrors, cameras, noise and dropped joints every epoch
(:func:`make_samples` with a per-epoch seed), so the network never sees the same view twice;
validation sets are drawn once with a fixed seed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from semgcn import codec
from semgcn import skeleton as S
from semgcn.codec import fill_dropped
from semgcn.datasets.augment import (NO_AUGMENT, AugmentOptions, detector_noise, drop_joints,
                                     mirror_world, scale_bones)
from semgcn.datasets import detector_errors
from semgcn.datasets.cameras import CameraOptions, sample_cameras
from semgcn.datasets.mocap import PoseSet
from semgcn.datasets.synthesis import NO_SYNTHESIS, SynthesisOptions, synthesise


@dataclass
class LiftingSamples:
    """Pairs of 2D keypoints and 3D joints with the cameras that link them.

    Attributes:
        keypoints_2d: ``(N, 16, 2)`` float32 pixels (dropped joints already filled, see augment).
        joints_3d: ``(N, 16, 3)`` float32 camera frame, metres, pelvis at the origin.
        image_size: ``(N, 2)`` (w, h).
        focal: ``(N,)`` pixels.
        center: ``(N, 2)`` pixels.
        dropped: ``(N, 16)`` bool, joints the simulated detector lost.
        person: ``(N,)`` person ids; clip: ``(N,)`` clip names.
    """

    keypoints_2d: np.ndarray
    joints_3d: np.ndarray
    image_size: np.ndarray
    focal: np.ndarray
    center: np.ndarray
    dropped: np.ndarray
    person: np.ndarray = field(default_factory=lambda: np.array([]))
    clip: np.ndarray = field(default_factory=lambda: np.array([]))

    def __len__(self) -> int:
        return int(self.keypoints_2d.shape[0])

    def select(self, mask: np.ndarray) -> "LiftingSamples":
        """The samples where ``mask`` is True (e.g. one person of a test set)."""
        return LiftingSamples(self.keypoints_2d[mask], self.joints_3d[mask], self.image_size[mask],
                              self.focal[mask], self.center[mask], self.dropped[mask], self.person[mask],
                              self.clip[mask])

    def inputs(self) -> np.ndarray:
        """The network input: ``semgcn.codec.normalize_2d`` with the known intrinsics."""
        return codec.normalize_2d(self.keypoints_2d, self.image_size, self.focal, self.center)

    def save_npz(self, path: str | Path) -> Path:
        """Write the evaluation format (keypoints_2d, joints_3d, image_size, focal, center, clip)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, keypoints_2d=self.keypoints_2d, joints_3d=self.joints_3d,
                            image_size=self.image_size.astype(np.float32),
                            focal=self.focal.astype(np.float32), center=self.center.astype(np.float32),
                            clip=self.clip, person=self.person, dropped=self.dropped)
        return path


def make_samples(poses: PoseSet, seed: int, cameras: CameraOptions | None = None,
                 augment: AugmentOptions = NO_AUGMENT, synthesis: SynthesisOptions = NO_SYNTHESIS,
                 detector_model: detector_errors.DetectorErrorModel | None = None) -> LiftingSamples:
    """One virtual-camera view of each pose.

    Args:
        poses: world poses (floor at y = 0).
        seed: seeds everything drawn here.
        cameras: camera ranges (defaults: :class:`CameraOptions`).
        augment: augmentations (default: none, i.e. exact 2D of the real bodies).
        synthesis: pose synthesis before everything else (default: none).
        detector_model: the BlazePose error model for ``augment.detector_prob`` (None: loaded from
            ``detector_errors.BLAZEPOSE_ERRORS`` when needed).
    Returns:
        :class:`LiftingSamples` with one sample per pose, in the same order.
    """
    rng = np.random.default_rng(seed)
    world = poses.joints.astype(np.float64)
    n = world.shape[0]
    if synthesis.prob > 0 or synthesis.tilt_prob > 0:
        world = synthesise(rng, world, synthesis)
    if augment.body_scale != (1.0, 1.0) or augment.bone_scale != (1.0, 1.0) or augment.width_scale != (1.0, 1.0):
        world = scale_bones(rng, world, augment)
    if augment.flip_prob > 0:
        flip = rng.random(n) < augment.flip_prob
        world[flip] = mirror_world(world[flip])
    cams = sample_cameras(rng, world, cameras)
    cam_pts = cams.world_to_camera(world)
    pixels = cams.project(cam_pts)
    exact = pixels
    if augment.noise_prob > 0:
        pixels = detector_noise(rng, pixels, augment)
    if augment.detector_prob > 0:
        model = detector_model or detector_errors.DetectorErrorModel.load()
        like = rng.random(n) < augment.detector_prob
        pixels[like] = detector_errors.apply(rng, exact[like], cam_pts[like], model, augment.detector_strength)
    dropped = drop_joints(rng, n, augment) if augment.drop_prob > 0 else np.zeros((n, S.NUM_JOINTS), bool)
    if dropped.any():
        pixels = fill_dropped(pixels, dropped)
    joints_3d = cam_pts - cam_pts[:, S.ROOT : S.ROOT + 1]
    return LiftingSamples(pixels.astype(np.float32), joints_3d.astype(np.float32),
                          cams.image_size.astype(np.float32), cams.focal.astype(np.float32),
                          cams.center.astype(np.float32), dropped, poses.person, poses.clip)


#: Detector-like error for the "noisy 2D" evaluation: no body changes, BlazePose's fitted error model
#: (``semgcn.datasets.detector_errors``: its offsets, spread, outliers and left-right swaps) on every pose.
EVAL_NOISE = AugmentOptions(flip_prob=0.0, body_scale=(1.0, 1.0), bone_scale=(1.0, 1.0),
                            width_scale=(1.0, 1.0), asymmetry=0.0, noise_prob=0.0, drop_prob=0.0,
                            detector_prob=1.0)


def validation_sets(val: PoseSet, seed: int = 12345,
                    cameras: CameraOptions | None = None) -> dict[str, LiftingSamples]:
    """The held-out people seen by fixed random cameras, with exact 2D and with detector-like 2D.

    The two sets share cameras (same seed), so their difference is the 2D error alone.
    """
    return {"exact": make_samples(val, seed, cameras, NO_AUGMENT),
            "noisy": make_samples(val, seed, cameras, EVAL_NOISE)}


def load_samples_npz(path: str | Path) -> LiftingSamples:
    """Read an evaluation npz (``keypoints_2d``, ``joints_3d``, ``image_size`` (2,) or (N, 2), optional
    ``focal``, ``center``, ``clip``). Missing intrinsics come from ``codec.default_intrinsics``.

    Raises:
        ValueError: with the file name and what is wrong.
    """
    path = Path(path)
    try:
        z = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read {path} as an npz file: {exc}") from exc
    with z:
        for key in ("keypoints_2d", "joints_3d", "image_size"):
            if key not in z:
                raise ValueError(f"{path}: missing array {key!r} (has {sorted(z.files)})")
        kp = np.asarray(z["keypoints_2d"], np.float32)
        j3 = np.asarray(z["joints_3d"], np.float32)
        n = kp.shape[0]
        if kp.shape[1:] != (S.NUM_JOINTS, 2) or j3.shape != (n, S.NUM_JOINTS, 3):
            raise ValueError(f"{path}: keypoints_2d must be (N,16,2) and joints_3d (N,16,3), "
                             f"got {kp.shape} and {j3.shape}")
        size = np.broadcast_to(np.asarray(z["image_size"], np.float32), (n, 2)).copy()
        f_def, c_def = codec.default_intrinsics(size)
        focal = np.broadcast_to(z["focal"], (n,)) if "focal" in z else f_def
        center = np.broadcast_to(z["center"], (n, 2)) if "center" in z else c_def
        clip = np.asarray(z["clip"]) if "clip" in z else np.array(["all"] * n)
        person = np.asarray(z["person"]) if "person" in z else clip
        dropped = np.asarray(z["dropped"], bool) if "dropped" in z else np.zeros((n, S.NUM_JOINTS), bool)
    if not (np.isfinite(kp).all() and np.isfinite(j3).all()):
        raise ValueError(f"{path}: keypoints_2d or joints_3d contain NaN/inf")
    j3 = j3 - j3[:, S.ROOT : S.ROOT + 1]
    return LiftingSamples(kp, j3, size, np.asarray(focal, np.float32), np.asarray(center, np.float32),
                          dropped, person, clip)
