"""Synthetic but realistic stream frames for the recorder / replay / export tests.

A rigid 16-joint body (fixed bone lengths, like a real person) walks and waves: every bone gets its
own smooth rotation relative to its parent bone, so the three bones that leave the pelvis and the
thorax move independently, as the lifter's output does.
"""
from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from realtime.core.records import FrameResult, PersonPose
from realtime.stream.wire import encode
from semgcn.skeleton import NUM_JOINTS, PARENTS

# Rest offsets (metres) of each joint from its parent, camera frame (x right, y down, z forward),
# subject facing the camera (its right side at -x).
REST_OFFSETS = np.array([
    [0, 0, 0],            # pelvis
    [-0.13, 0.02, 0],     # right_hip
    [0, 0.45, 0.01],      # right_knee
    [0, 0.43, -0.02],     # right_ankle
    [0.13, 0.02, 0],      # left_hip
    [0, 0.45, 0.01],      # left_knee
    [0, 0.43, -0.02],     # left_ankle
    [0, -0.24, 0.01],     # spine
    [0, -0.25, -0.02],    # thorax
    [0, -0.21, -0.03],    # head
    [0.17, 0.01, 0],      # left_shoulder
    [0.05, 0.28, 0],      # left_elbow
    [0.02, 0.26, -0.03],  # left_wrist
    [-0.17, 0.01, 0],     # right_shoulder
    [-0.05, 0.28, 0],     # right_elbow
    [-0.02, 0.26, -0.03], # right_wrist
])
FPS = 30.0


def synthetic_poses(n: int, seed: int = 0) -> np.ndarray:
    """``(n, 16, 3)`` float32 root-relative joints of a rigid body in motion, camera frame."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / FPS
    amp = rng.uniform(0.1, 0.6, (NUM_JOINTS, 3))
    freq = rng.uniform(0.3, 1.5, (NUM_JOINTS, 3))
    phase = rng.uniform(0, 2 * np.pi, (NUM_JOINTS, 3))
    rotvecs = amp * np.sin(2 * np.pi * freq * t[:, None, None] + phase)  # (n, 16, 3)
    rotvecs[:, 0, 1] += 0.8 * np.sin(0.4 * t)  # the body turns left and right
    poses = np.zeros((n, NUM_JOINTS, 3))
    glob = [None] * NUM_JOINTS
    glob[0] = Rotation.from_rotvec(rotvecs[:, 0])
    for j in range(1, NUM_JOINTS):
        p = PARENTS[j]
        # each bone has its own rotation relative to its parent's bone frame
        glob[j] = glob[p] * Rotation.from_rotvec(rotvecs[:, j])
        poses[:, j] = poses[:, p] + glob[j].apply(REST_OFFSETS[j])
    return poses.astype(np.float32)


def synthetic_frames(n: int, seed: int = 0, t0: float = 1.7e9, empty_every: int = 13) -> list[FrameResult]:
    """Frame records with 2D, confidences and 3D; every ``empty_every``-th frame has nobody in it."""
    poses = synthetic_poses(n, seed)
    rng = np.random.default_rng(seed + 1)
    frames = []
    for i, joints in enumerate(poses):
        t_capture = t0 + i / FPS
        frame = FrameResult(frame_index=i, t_capture=t_capture, image_size=(640, 480), source="synthetic")
        frames.append(frame)
        if empty_every and i % empty_every == empty_every - 1:
            continue
        cam = joints.astype(np.float64) + [0.0, 0.0, 3.0]
        frame.people.append(PersonPose(
            keypoints_2d=(600.0 * cam[:, :2] / cam[:, 2:] + [320.0, 240.0]).astype(np.float32),
            confidence=rng.uniform(0.5, 1.0, NUM_JOINTS).astype(np.float32), joints_3d=joints))
    return frames


def encoded(frames: list[FrameResult], latency: float = 0.02) -> list[list[bytes]]:
    """The multipart messages of ``frames``, published ``latency`` s after capture (stamped on the frames)."""
    for f in frames:
        f.t_publish, f.timings_ms, f.encoded = f.t_capture + latency, {"detector": 9.5, "lifter": 1.25}, None
    return [encode(f) for f in frames]


#: Who is in view in ``synthetic_people_frames``: id -> (first frame, end frame) spans, and where.
PEOPLE_SPANS = {2: [(0, 90)], 5: [(0, 40), (70, 90)], 8: [(20, 90)]}
PEOPLE_ROOTS = {2: (-1.2, -0.1, 3.4), 5: (0.0, 0.0, 4.0), 8: (1.3, 0.1, 3.1)}


def synthetic_people_frames(n: int = 90, t0: float = 1.7e9) -> list[FrameResult]:
    """Frames of a several-people stream (schema semgcn.pose/2): three rigid bodies with their own
    motion, each at their own place, coming and going as ``PEOPLE_SPANS`` says (person 5 leaves for
    30 frames, person 8 arrives at frame 20)."""
    poses = {person_id: synthetic_poses(n, seed=person_id) for person_id in PEOPLE_SPANS}
    rng = np.random.default_rng(7)
    frames = []
    for i in range(n):
        frame = FrameResult(frame_index=i, t_capture=t0 + i / FPS, image_size=(640, 480), source="synthetic",
                            wire_major=2)
        for person_id, spans in PEOPLE_SPANS.items():
            if not any(start <= i < end for start, end in spans):
                continue
            root = np.array(PEOPLE_ROOTS[person_id]) + [0.005 * i, 0.0, 0.0]  # everybody drifts right
            cam = poses[person_id][i].astype(np.float64) + root
            frame.people.append(PersonPose(
                id=person_id, keypoints_2d=(600.0 * cam[:, :2] / cam[:, 2:] + [320.0, 240.0]).astype(np.float32),
                confidence=rng.uniform(0.5, 1.0, NUM_JOINTS).astype(np.float32), joints_3d=poses[person_id][i],
                root_translation=root.astype(np.float32)))
        frames.append(frame)
    return frames
