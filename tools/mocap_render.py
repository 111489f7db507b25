"""Render motion-capture clips with the demo figure and run the real 2D detector on them.

Shared by ``tools.fit_detector_errors`` (BlazePose's errors, on training people) and
``tools.temporal_check`` (the live stages on held-out people): each *chunk* is a stretch of one clip
played at 30 fps through its own random camera, detected by ``engines.detector.PoseDetector`` in video
(tracking) mode, reset between chunks, as a live session would see it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from realtime.demo.mocap_scene import MocapScene, random_camera
from semgcn.datasets.mocap import find_clips, floor_height, frame_rate_override, person_id
from semgcn.rigs import load_canonical

FPS = 30.0


@dataclass
class Chunk:
    """Where a chunk comes from: the clip, its first frame at 30 fps and its length in frames."""

    path: Path
    start: int
    frames: int


def clips_of(roots: list[Path], people: set[str] | None = None, exclude: set[str] = frozenset()) -> list[Path]:
    """Clips under ``roots`` performed by ``people`` (None: anyone) and not by ``exclude``."""
    return [p for p in find_clips(roots) if (people is None or person_id(p) in people)
            and person_id(p) not in exclude and not person_id(p).startswith(tuple(exclude))]


def clip_at_30fps(path: Path) -> np.ndarray:
    """The clip's ``(F, 16, 3)`` world joints resampled to 30 fps (nearest frames), floor at y = 0."""
    clip = load_canonical(path, fps=frame_rate_override(path))
    step = clip.fps / FPS
    joints = clip.joints[np.round(np.arange(0, len(clip.joints) - 1, step)).astype(int)].astype(np.float64)
    joints[..., 1] -= floor_height(clip.joints)
    return joints


def plan_chunks(rng: np.random.Generator, clips: list[Path], count: int, frames: int) -> list[Chunk]:
    """``count`` chunks of up to ``frames`` frames from random clips at random starts."""
    lengths = {}
    chunks = []
    for _ in range(count):
        path = clips[rng.integers(len(clips))]
        if path not in lengths:
            lengths[path] = len(clip_at_30fps(path))
        start = int(rng.integers(0, max(1, lengths[path] - frames)))
        chunks.append(Chunk(path, start, min(frames, lengths[path] - start)))
    return chunks


def render_and_detect(chunks: list[Chunk], seed: int, detector_threads: int = 1, progress: bool = True) -> dict:
    """Render every chunk, detect, and return per-frame arrays (see the keys below)."""
    from engines.detector import PoseDetector

    rng = np.random.default_rng(seed)
    detector = PoseDetector(threads=detector_threads)
    out = {k: [] for k in ("true_2d", "detected_2d", "visibility", "joints_3d", "found", "chunk", "person",
                           "focal", "center", "image_size")}
    bar = tqdm(total=sum(c.frames for c in chunks), desc="render+detect", unit="frame", disable=not progress)
    for index, chunk in enumerate(chunks):
        joints = clip_at_30fps(chunk.path)[chunk.start:chunk.start + chunk.frames]
        scene = MocapScene(joints, random_camera(rng), palette=index)
        detector.reset()
        k = scene.camera.matrix
        for i in range(len(scene)):
            frame = scene.render(i)
            result = detector(frame.image, timestamp=i / FPS)
            found = result is not None
            out["true_2d"].append(frame.keypoints_2d)
            out["joints_3d"].append(frame.joints_3d)
            out["detected_2d"].append(result.keypoints_2d if found else np.full((16, 2), np.nan, np.float32))
            out["visibility"].append(result.confidence if found else np.zeros(16, np.float32))
            out["found"].append(found)
            out["chunk"].append(index)
            out["person"].append(person_id(chunk.path))
            out["focal"].append(k[0, 0])
            out["center"].append(k[:2, 2])
            out["image_size"].append(scene.camera.size)
            bar.update()
    bar.close()
    return {k: np.asarray(v) for k, v in out.items()}


def cached(path: Path, make) -> dict:
    """``make()``'s arrays, stored in (and read back from) the npz file ``path``."""
    if path.is_file():
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    arrays = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)
    return arrays
