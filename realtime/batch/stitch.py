"""Chunks of one input put back together: each frame once, each person under one id across borders.

Chunk ``k`` read ``overlap`` frames before its own first frame (``realtime.batch.frames.Chunk``), so
that the detector's tracking had settled by then. Those warm-up frames are dropped, and they are what
carries the person ids across the border: a chunk's detector starts its tracks afresh, so each of its
ids is matched to the id the previous chunks gave the same person over the overlap, by the mean
distance between their 2D joints (``scipy.optimize.linear_sum_assignment``). A person of the new chunk
whom nobody matches is a new track, with an id never used before in the clip. Within each chunk the
ids are first numbered 0, 1, 2... in order of appearance (``realtime.batch.chunk.canonical_ids``), so that they never depend
on what the worker's detector ran before.

Two trackers that started at different frames do not agree to the last pixel (tracking carries its
history along for good), so switching from one to the other would leave a small step at the border.
Instead, over the second half of the overlap each person's arrays fade linearly from the previous
chunk's to the new chunk's, whose tracker has had the first half to settle. What smooths across the
border afterwards (the zero-phase filter, the bone lengths) runs on the whole stitched clip
(``realtime.batch.refine``). docs/offline.md measures how close the result is to one pass.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from realtime.batch.chunk import ChunkResult
from realtime.core.records import FrameResult

#: Two tracks are the same person when their 2D joints are this close on average, as a fraction of
#: the image diagonal, over the frames both saw.
MATCH_DISTANCE = 0.05
#: The per-person arrays that fade from one chunk to the next (landmarks: their x, y, z only).
FADED = ("keypoints_2d", "confidence", "lift_input", "joints_3d", "world_landmarks", "landmarks")


def stitch(chunks: list[ChunkResult]) -> list[FrameResult]:
    """One record per frame, in order, with consistent person ids (module docstring)."""
    chunks = sorted(chunks, key=lambda c: c.chunk.index)
    out: list[FrameResult] = []
    for part in chunks:
        start = part.chunk.start
        warm = {f.frame_index: f for f in part.frames if f.frame_index < start}
        own = [f for f in part.frames if f.frame_index >= start]
        if out and own:
            matched = _matched_ids(out, warm)
            _crossfade(out, warm, matched, start)
            _relabel(own, matched, {p.id for f in out for p in f.people})
        out.extend(own)
    for seq, frame in enumerate(out):
        frame.seq = seq
    return out


def _matched_ids(previous: list[FrameResult], warm: dict[int, FrameResult]) -> dict[int, int]:
    """New-chunk id -> the id the stitched output gave the same person, for the people seen on both sides."""
    earlier = [f for f in previous if f.frame_index in warm]
    new_ids = sorted({p.id for f in warm.values() for p in f.people})
    old_ids = sorted({p.id for f in earlier for p in f.people})
    if not (old_ids and new_ids):
        return {}
    cost = np.array([[_distance(earlier, warm, a, b) for b in new_ids] for a in old_ids])
    rows, cols = linear_sum_assignment(np.nan_to_num(cost, nan=1e9))
    return {new_ids[j]: old_ids[i] for i, j in zip(rows, cols) if cost[i, j] <= MATCH_DISTANCE}


def _crossfade(previous: list[FrameResult], warm: dict[int, FrameResult], matched: dict[int, int], start: int) -> None:
    """Fade each matched person from the previous chunk's arrays to the new chunk's over the second half
    of the overlap (module docstring), in the stitched output's frames."""
    fade = [f for f in previous if f.frame_index in warm and f.frame_index >= start - len(warm) // 2]
    for step, frame in enumerate(fade, start=1):
        weight = step / (len(fade) + 1)  # towards 1 at the border, where the new chunk takes over
        for new in warm[frame.frame_index].people:
            old = next((p for p in frame.people if matched.get(new.id) == p.id), None)
            if old is None:
                continue
            for name in FADED:
                a, b = getattr(old, name), getattr(new, name)
                if a is not None and b is not None and np.shape(a) == np.shape(b):
                    mixed = (1.0 - weight) * np.asarray(a, np.float64) + weight * np.asarray(b, np.float64)
                    if name == "landmarks":  # visibility and presence stay the previous chunk's
                        mixed[:, 3:] = a[:, 3:]
                    setattr(old, name, mixed.astype(np.float32))


def _distance(earlier: list[FrameResult], warm: dict[int, FrameResult], old_id: int, new_id: int) -> float:
    """Mean 2D joint distance (fraction of the image diagonal) of two tracks over their common frames."""
    values = []
    for frame in earlier:
        a = next((p for p in frame.people if p.id == old_id), None)
        b = next((p for p in warm[frame.frame_index].people if p.id == new_id), None)
        if a is not None and b is not None:
            diagonal = float(np.hypot(*frame.image_size))
            values.append(np.linalg.norm(a.keypoints_2d - b.keypoints_2d, axis=-1).mean() / diagonal)
    return float(np.mean(values)) if values else np.nan


def _relabel(frames: list[FrameResult], mapping: dict[int, int], used: set[int]) -> None:
    """Give the chunk's people their stitched ids: a matched person keeps the earlier id, anyone else is
    a new track with an id never used before (as the detector's own tracker numbers a new track)."""
    mapping, used = dict(mapping), set(used) | set(mapping.values())
    for new_id in sorted({p.id for f in frames for p in f.people} - set(mapping)):
        mapping[new_id] = max(used, default=-1) + 1
        used.add(mapping[new_id])
    for frame in frames:
        for person in frame.people:
            person.id = mapping[person.id]
