"""Pass 2's look both ways in time: each person's tracks smoothed with zero phase, on constant bones.

Live mode may only look back (``realtime.core.temporal``, One Euro): its filters lag. Offline the
whole clip is known, so each person's poses are filtered forwards and backwards:

1. **Tracks**: per person id (``PersonPose.id``), consecutive frames form a track until the person is
   unseen for more than ``max_gap_s`` or their 2D joints jump faster than ``jump_speed`` body sizes per
   second (``realtime.core.temporal.body_speed_2d``: a re-detection, somebody else). Frames with nobody
   are left as they are.
2. **Zero-phase low-pass**: every coordinate of a track (3D joints, 2D keypoints, the lifter's input,
   BlazePose's landmarks) goes through a Butterworth filter run forwards and backwards
   (``scipy.signal.sosfiltfilt``): no lag at all, and at each frame the past and the future weigh the
   same. Depth (camera z), which one view measures worst, gets a lower cut-off than x and y. Frames
   missing inside a track (shorter gaps than ``max_gap_s``) are bridged linearly for the filter only.
3. **Constant bones**: a track's bone lengths are the skeleton solver's robust estimate over all of its
   frames (``semgcn.solver.lengths.robust_lengths``: per-bone median after outliers, left and right
   averaged, bones the detector saw with confidence >= 0.3), and each pose is rebuilt from the pelvis
   along its smoothed bone directions with them (``realtime.core.temporal.with_bone_lengths``). The
   solver downstream (the ``solve`` stage, the BVH export) then measures exactly these lengths.

The cut-offs were chosen on rendered sequences of training people, not the held-out ones that
docs/offline.md reports.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.signal import butter, sosfiltfilt

from realtime.batch.settings import SmoothingSettings
from realtime.core.records import FrameResult, PersonPose
from realtime.core.temporal import body_speed_2d, with_bone_lengths
from semgcn.solver.lengths import LengthOptions, robust_lengths
from semgcn.solver.rig import joint_lengths
from semgcn.skeleton import PARENTS

_PARENT = np.array(PARENTS[1:])
_CHILD = np.arange(1, len(PARENTS))


@dataclass
class Track:
    """One person's consecutive frames: their positions in the clip and the person in each."""

    person_id: int
    frames: list[int] = field(default_factory=list)
    people: list[PersonPose] = field(default_factory=list)
    lengths: np.ndarray | None = None

    def summary(self, records: list[FrameResult]) -> dict:
        return {"id": self.person_id, "first_frame": records[self.frames[0]].frame_index,
                "last_frame": records[self.frames[-1]].frame_index, "frames": len(self.frames),
                "bone_lengths_m": None if self.lengths is None else [round(float(v), 5) for v in self.lengths[1:]]}


def find_tracks(records: list[FrameResult], settings: SmoothingSettings) -> list[Track]:
    """The tracks of every person in ``records`` (module docstring, step 1), in order of their start."""
    open_tracks: dict[int, tuple[Track, float]] = {}
    done: list[Track] = []
    for position, record in enumerate(records):
        t = record.timestamp
        for person in record.people:
            track, last_t = open_tracks.get(person.id, (None, None))
            if track is not None and not _continues(track.people[-1], person, t - last_t, settings):
                done.append(track)
                track = None
            if track is None:
                track = Track(person.id)
            track.frames.append(position)
            track.people.append(person)
            open_tracks[person.id] = (track, t)
    done += [track for track, _ in open_tracks.values()]
    return sorted(done, key=lambda tr: (tr.frames[0], tr.person_id))


def _continues(previous: PersonPose, person: PersonPose, dt: float, settings: SmoothingSettings) -> bool:
    if not 0.0 < dt <= settings.max_gap_s:
        return False
    return body_speed_2d(previous.keypoints_2d, person.keypoints_2d, dt) <= settings.jump_speed


def refine(records: list[FrameResult], fps: float, settings: SmoothingSettings) -> list[Track]:
    """Smooth and rebuild every person of ``records`` in place (module docstring); the tracks."""
    tracks = find_tracks(records, settings)
    for track in tracks:
        indices = np.array([records[p].frame_index for p in track.frames])
        if settings.enabled:
            _smooth_track(track, indices, fps, settings)
        if settings.constant_bones:
            track.lengths = track_lengths(track)
            if track.lengths is not None:
                for person in track.people:
                    person.joints_3d = with_bone_lengths(np.asarray(person.joints_3d, np.float64),
                                                         track.lengths[1:]).astype(np.float32)
    return tracks


def track_lengths(track: Track) -> np.ndarray | None:
    """``(16,)`` robust bone lengths by child joint over the track (None: a bone never measured)."""
    joints = np.stack([p.joints_3d for p in track.people]).astype(np.float64)
    samples = joint_lengths(joints)
    confidence = np.stack([p.confidence for p in track.people]).astype(np.float64)
    unseen = np.minimum(confidence[:, _CHILD], confidence[:, _PARENT]) < LengthOptions.min_confidence
    masked = samples.copy()
    masked[:, _CHILD] = np.where(unseen, np.nan, samples[:, _CHILD])
    masked[masked <= 1e-6] = np.nan
    lengths = robust_lengths(masked)
    return lengths if lengths is not None else robust_lengths(samples)  # a bone never seen: all frames


def _smooth_track(track: Track, indices: np.ndarray, fps: float, settings: SmoothingSettings) -> None:
    people = track.people
    joints = np.stack([p.joints_3d for p in people]).astype(np.float64)
    joints[..., :2] = _filtered(joints[..., :2], indices, fps, settings.cutoff_hz, settings.order)
    joints[..., 2:] = _filtered(joints[..., 2:], indices, fps, settings.depth_cutoff_hz, settings.order)
    joints -= joints[:, :1]  # the pelvis stays at the origin (it is there in every input pose)
    for person, pose in zip(people, joints):
        person.joints_3d = pose.astype(np.float32)
    for name in ("keypoints_2d", "lift_input", "world_landmarks"):
        values = [getattr(p, name) for p in people]
        if all(v is not None for v in values):
            for person, v in zip(people, _filtered(np.stack(values), indices, fps, settings.cutoff_hz, settings.order)):
                setattr(person, name, v.astype(np.float32))
    if all(p.landmarks is not None for p in people):
        xyz = _filtered(np.stack([p.landmarks[:, :3] for p in people]), indices, fps, settings.cutoff_hz, settings.order)
        for person, v in zip(people, xyz):
            person.landmarks = np.concatenate([v, person.landmarks[:, 3:]], axis=1).astype(np.float32)


def _filtered(values: np.ndarray, indices: np.ndarray, fps: float, cutoff_hz: float, order: int) -> np.ndarray:
    """``values`` (T, ...) at frame ``indices`` low-passed with zero phase; missing frames bridged linearly."""
    values = np.asarray(values, np.float64)
    grid = np.arange(indices[0], indices[-1] + 1)
    if len(grid) < 3:
        return values
    flat = values.reshape(len(values), -1)
    dense = np.stack([np.interp(grid, indices, column) for column in flat.T], axis=1) \
        if len(grid) != len(indices) else flat
    # A cut-off at or above Nyquist would not smooth; a low frame rate gets the highest one it allows.
    sos = butter(order, min(cutoff_hz / (fps / 2.0), 0.9), output="sos")
    smooth = sosfiltfilt(sos, dense, axis=0, padlen=min(3 * (2 * len(sos) + 1), len(grid) - 1))
    return smooth[indices - indices[0]].reshape(values.shape)
