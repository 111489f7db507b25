"""Pass 2's arithmetic on synthetic tracks: zero-phase smoothing, constant bones, tracks, stitching."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from realtime.batch.chunk import ChunkResult, canonical_ids
from realtime.batch.frames import Chunk, plan_chunks
from realtime.batch.refine import find_tracks, refine
from realtime.batch.settings import SmoothingSettings
from realtime.batch.stitch import stitch
from realtime.core.records import FrameResult, PersonPose
from semgcn.solver.lengths import robust_lengths
from semgcn.solver.rig import joint_lengths

FPS = 30.0
BASE = np.random.default_rng(0).normal(0.0, 0.3, (16, 3))
BASE -= BASE[0]


def _person(pid: int, joints: np.ndarray, offset=(300.0, 200.0)) -> PersonPose:
    keypoints = joints[:, :2] * 200.0 + np.asarray(offset)
    return PersonPose(id=pid, keypoints_2d=keypoints.astype(np.float32), confidence=np.ones(16, np.float32),
                      joints_3d=(joints - joints[0]).astype(np.float32), lift_input=keypoints.astype(np.float32))


def _motion(t: np.ndarray) -> np.ndarray:
    """A slow (0.5 Hz) sway of every joint but the pelvis, ``(T, 16, 3)``."""
    sway = 0.1 * np.sin(2 * np.pi * 0.5 * t)[:, None, None] * np.array([1.0, 0.5, 0.3])
    poses = BASE[None] + sway * (np.arange(16) > 0)[None, :, None]
    return poses - poses[:, :1]


def _records(poses: np.ndarray, present=None, pid: int = 0) -> list[FrameResult]:
    out = []
    for i, pose in enumerate(poses):
        people = [_person(pid, pose)] if present is None or present[i] else []
        out.append(FrameResult(frame_index=i, t_capture=i / FPS, image_size=(640, 480), media_time=i / FPS, people=people))
    return out


def _joints(records) -> np.ndarray:
    return np.stack([r.people[0].joints_3d for r in records if r.people]).astype(np.float64)


def test_zero_phase_smoothing_removes_jitter_without_lag():
    t = np.arange(150) / FPS
    clean = _motion(t)
    noisy = clean + np.random.default_rng(1).normal(0, 0.01, clean.shape) * (np.arange(16) > 0)[None, :, None]
    records = _records(noisy)
    refine(records, FPS, replace(SmoothingSettings(), constant_bones=False))
    out = _joints(records)
    inner = slice(10, -10)
    # white noise through a 4 Hz low-pass at 30 fps keeps about sqrt(4 / 15) of its amplitude
    assert np.abs(out - clean)[inner].mean() < 0.6 * np.abs(noisy - clean)[inner].mean()
    # no lag: the smoothed sway lines up with the truth, not a frame later
    errors = [np.abs(np.roll(out[:, 5, 0], shift) - clean[:, 5, 0])[inner].mean() for shift in (-2, -1, 0, 1, 2)]
    assert int(np.argmin(errors)) == 2


def test_constant_bones_are_the_robust_lengths_of_the_whole_track():
    poses = _motion(np.arange(90) / FPS) * np.random.default_rng(2).uniform(0.9, 1.1, (90, 1, 1))
    records = _records(poses)
    records[40].people[0].joints_3d *= 3.0  # one wild lift (the 2D as before): an outlier to ignore
    poses[40] = records[40].people[0].joints_3d
    tracks = refine(records, FPS, replace(SmoothingSettings(), enabled=False))
    lengths = joint_lengths(_joints(records))[:, 1:]
    assert len(tracks) == 1 and np.all(lengths.std(axis=0) < 1e-6)
    assert np.allclose(lengths[0], tracks[0].lengths[1:], atol=1e-6)
    without_outlier = robust_lengths(joint_lengths(np.delete(poses, 40, axis=0)))
    assert np.allclose(tracks[0].lengths[1:], without_outlier[1:], rtol=0.01)


def test_tracks_split_at_long_gaps_and_2d_jumps_and_frames_with_nobody_stay_empty():
    poses = _motion(np.arange(60) / FPS)
    present = np.ones(60, bool)
    present[10] = False          # one frame missing: the track goes on
    present[30:50] = False       # two thirds of a second: a new track
    records = _records(poses, present)
    for record in records[55:]:  # a 2D jump: somebody else from frame 55 on
        record.people[0].keypoints_2d += 400.0
    tracks = find_tracks(records, SmoothingSettings())
    assert [(records[tr.frames[0]].frame_index, len(tr.frames)) for tr in tracks] == [(0, 29), (50, 5), (55, 5)]
    refine(records, FPS, SmoothingSettings())
    assert all(not records[i].people for i in [10, *range(30, 50)])


def test_chunks_of_a_clip_and_their_overlap():
    assert plan_chunks(100, 0, 10) == [Chunk(0, 0, None, 0)]
    assert plan_chunks(140, 100, 10) == [Chunk(0, 0, None, 0)]  # under 1.5 chunks: one task
    chunks = plan_chunks(1000, 300, 60)
    assert [(c.start, c.stop, c.read_from) for c in chunks] == [(0, 333, 0), (333, 667, 273), (667, None, 607)]


def _chunk_result(index: int, start: int, read_from: int, people_of) -> ChunkResult:
    frames = []
    for i in range(read_from, start + 10):
        frames.append(FrameResult(frame_index=i, t_capture=i / FPS, image_size=(640, 480), media_time=i / FPS,
                                  people=people_of(i)))
    canonical_ids(frames)
    return ChunkResult(Chunk(index, start, start + 10, read_from), frames)


def test_stitching_keeps_each_frame_once_and_a_person_under_one_id():
    a, b = _motion(np.arange(20) / FPS), BASE * 0.8
    first = _chunk_result(0, 0, 0, lambda i: [_person(7, a[i])])
    # the second chunk's tracker numbers afresh: the same person (raw id 3) and, from frame 15, a newcomer
    second = _chunk_result(1, 10, 5, lambda i: [_person(3, a[i])] + ([_person(9, b, (50.0, 50.0))] if i >= 15 else []))
    out = stitch([second, first])
    assert [f.frame_index for f in out] == list(range(20)) and [f.seq for f in out] == list(range(20))
    assert {p.id for f in out[:15] for p in f.people} == {0}
    assert sorted(p.id for p in out[16].people) == [0, 1]


def test_stitching_gives_a_new_id_to_a_person_the_overlap_does_not_match():
    a = _motion(np.arange(20) / FPS)
    first = _chunk_result(0, 0, 0, lambda i: [_person(0, a[i])])
    second = _chunk_result(1, 10, 5, lambda i: [_person(0, a[i], offset=(500.0, 400.0))])  # somewhere else
    out = stitch([first, second])
    assert {p.id for f in out[:10] for p in f.people} == {0} and {p.id for f in out[10:] for p in f.people} == {1}
