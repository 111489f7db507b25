"""Session export: BVH whose forward kinematics gives back the recorded joints, CSV, JSON, CLI errors."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from realtime.recorder import Recorder
from realtime.recording.exports import csv_columns
from semgcn.bvh import bone_length_spread, forward_kinematics, read_bvh
from semgcn.bvh.write import camera_to_bvh, joints_to_bvh
from semgcn.skeleton import JOINT_NAMES, NUM_JOINTS, PARENTS, bone_lengths
from tests.test_realtime.test_recording.session_fixtures import encoded, synthetic_frames
from tools.export_session import main


def record(directory, messages):
    rec = Recorder(directory / "s.mcap", {"source": "synthetic"})
    for parts in messages:
        rec.write(parts)
    rec.close()
    return rec.path


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    frames = synthetic_frames(240)  # 8 s, a rigid body that walks, turns and waves; some empty frames
    return record(tmp_path_factory.mktemp("s"), encoded(frames)), frames


def bvh_joint_positions(path):
    """FK of a BVH file through semgcn.bvh (a general reader), at the 16 joints, in metres."""
    clip = read_bvh(path)
    positions = forward_kinematics(clip)
    return clip, positions[:, [clip.skeleton.index(name) for name in JOINT_NAMES]]


def test_bvh_forward_kinematics_reproduces_recorded_joints_within_1mm(session, tmp_path):
    path, frames = session
    out = tmp_path / "clip.bvh"
    assert main([str(path), "--to", "bvh", "--out", str(out)]) == 0
    clip, fk = bvh_joint_positions(out)
    assert clip.num_frames == len(frames) and clip.frame_time == pytest.approx(1 / 30, rel=1e-4)
    valid = np.array([f.has_person for f in frames])
    recorded = camera_to_bvh(np.stack([f.joints_3d if f.has_person else np.zeros((16, 3)) for f in frames]))
    error = np.linalg.norm(fk - recorded, axis=-1)[valid]
    assert error.max() < 1e-3, f"max FK error {error.max() * 1000:.3f} mm"
    # a frame without anybody holds the previous pose
    empty = int(np.flatnonzero(~valid)[0])
    np.testing.assert_allclose(fk[empty], fk[empty - 1], atol=1e-9)
    # the skeleton is the subject's: OFFSET lengths are the median recorded bone lengths
    median = np.median(bone_lengths(recorded[valid]), axis=0)
    sk = clip.skeleton
    offsets = np.array([np.linalg.norm(sk.offsets[sk.index(JOINT_NAMES[j])]) for j in range(1, NUM_JOINTS)])
    np.testing.assert_allclose(offsets, median, atol=2e-6)
    assert bone_length_spread(fk, list(PARENTS)).max() < 1e-5  # a rigid skeleton
    # y up: the head is above the pelvis, the ankles below it
    assert (fk[valid, 9, 1] > 0).all() and (fk[valid, 3, 1] < 0).all()


def test_bvh_with_varying_bone_lengths_keeps_every_bone_direction(tmp_path):
    rng = np.random.default_rng(3)
    joints = np.stack([f.joints_3d for f in synthetic_frames(90, empty_every=0)]).astype(np.float64)
    # lifter-like output: every joint jitters by a few mm, so bone lengths change from frame to frame
    noisy = joints + rng.normal(0, 0.004, joints.shape)
    noisy -= noisy[:, :1]
    out = tmp_path / "noisy.bvh"
    out.write_text(joints_to_bvh(noisy, np.ones(90, bool), 1 / 30))
    _, fk = bvh_joint_positions(out)
    want = camera_to_bvh(noisy)
    for child, parent in ((j, p) for j, p in enumerate(PARENTS) if p >= 0):
        a, b = fk[:, child] - fk[:, parent], want[:, child] - want[:, parent]
        cos = np.sum(a * b, -1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)
        assert np.degrees(np.arccos(np.clip(cos, -1, 1))).max() < 1e-3, JOINT_NAMES[child]
    # the joints move only by the bones' length deviations from the median
    deviation = np.abs(bone_lengths(want) - np.median(bone_lengths(want), axis=0)).sum(-1)
    assert np.all(np.linalg.norm(fk - want, axis=-1).max(-1) <= deviation + 1e-5)


def test_bvh_with_per_frame_lengths_reproduces_lifter_like_joints_within_1mm(tmp_path):
    rng = np.random.default_rng(4)
    frames = synthetic_frames(90)
    for frame in frames:  # lifter-like output: 5 mm jitter on every joint, bone lengths vary
        if frame.has_person:
            noisy = frame.joints_3d + rng.normal(0, 0.005, (16, 3)).astype(np.float32)
            frame.person.joints_3d = noisy - noisy[:1]
    path = record(tmp_path, encoded(frames))
    out = tmp_path / "exact.bvh"
    assert main([str(path), "--to", "bvh", "--out", str(out), "--bone-lengths", "per-frame"]) == 0
    _, fk = bvh_joint_positions(out)  # semgcn.bvh detects the "replace" position convention
    valid = np.array([f.has_person for f in frames])
    want = camera_to_bvh(np.stack([f.joints_3d if f.has_person else np.zeros((16, 3)) for f in frames]))
    error = np.linalg.norm(fk - want, axis=-1)[valid]
    assert error.max() < 1e-3, f"max FK error {error.max() * 1000:.3f} mm"
    # without the position channels the same data would be off by the length jitter
    rigid = tmp_path / "rigid.bvh"
    assert main([str(path), "--to", "bvh", "--out", str(rigid)]) == 0
    assert np.linalg.norm(bvh_joint_positions(rigid)[1] - want, axis=-1)[valid].max() > 5e-3


def test_bvh_holds_poses_over_dropped_frames_to_keep_the_recorded_speed(tmp_path):
    frames = synthetic_frames(40, empty_every=0)
    kept = [f for f in frames if f.frame_index not in (10, 11, 12, 30)]  # the pipeline dropped four
    path = record(tmp_path, encoded(kept))
    uniform, per_frame = tmp_path / "u.bvh", tmp_path / "f.bvh"
    assert main([str(path), "--to", "bvh", "--out", str(uniform)]) == 0
    assert main([str(path), "--to", "bvh", "--out", str(per_frame), "--timeline", "frames"]) == 0
    _, fk = bvh_joint_positions(uniform)
    assert len(fk) == 40 and len(bvh_joint_positions(per_frame)[1]) == 36
    want = camera_to_bvh(np.stack([f.joints_3d for f in frames]))
    shown = [9, 9, 9, 9] + list(range(13, 30)) + [29] + list(range(31, 40))  # held over each gap
    np.testing.assert_allclose(fk[:9], want[:9], atol=1e-3)
    np.testing.assert_allclose(fk[9:], want[shown], atol=1e-3)


def test_bvh_root_follows_root_translation(tmp_path):
    frames = synthetic_frames(60, empty_every=0)
    for i, frame in enumerate(frames):
        frame.person.root_translation = np.array([0.01 * i, -0.9, 3.0 + 0.02 * i], np.float32)
    path = record(tmp_path, encoded(frames))
    out = tmp_path / "walk.bvh"
    assert main([str(path), "--to", "bvh", "--out", str(out), "--unit", "cm"]) == 0
    _, fk = bvh_joint_positions(out)
    want = camera_to_bvh(np.stack([f.joints_3d + f.person.root_translation for f in frames])) * 100
    assert np.abs(fk - want).max() < 0.1  # 1 mm, in centimetres


def test_csv_has_one_row_per_frame_with_exact_values(session, tmp_path):
    path, frames = session
    out = tmp_path / "t.csv"
    assert main([str(path), "--to", "csv", "--out", str(out)]) == 0
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == csv_columns(False) and len(csv_columns(False)) == 4 + 16 * 6
    assert len(rows) == len(frames)
    for row, frame in zip(rows, frames):
        assert int(row["frame_index"]) == frame.frame_index and row["has_person"] == str(int(frame.has_person))
        assert float(row["t_capture"]) == pytest.approx(frame.t_capture, abs=1e-6)
        if frame.has_person:
            got = np.array([[float(row[f"{n}_{a}"]) for a in "xyz"] for n in JOINT_NAMES], np.float32)
            np.testing.assert_array_equal(got, frame.joints_3d)
            assert np.float32(row["left_wrist_u"]) == frame.keypoints_2d[12, 0]
            assert np.float32(row["head_conf"]) == frame.confidence[9]
        else:
            assert row["head_x"] == "" and row["head_conf"] == ""


def test_json_holds_metadata_and_frames(session, tmp_path):
    path, frames = session
    out = tmp_path / "t.json"
    assert main([str(path), "--to", "json", "--out", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["metadata"]["source"] == "synthetic" and doc["joint_names"] == list(JOINT_NAMES)
    assert doc["parents"] == list(PARENTS) and doc["truncated"] is False and len(doc["frames"]) == len(frames)
    for entry, frame in zip(doc["frames"], frames):
        assert entry["has_person"] == frame.has_person
        if frame.has_person:
            np.testing.assert_array_equal(np.array(entry["joints_3d"], np.float32), frame.joints_3d)
        else:
            assert "joints_3d" not in entry


def test_cli_reports_bad_input_on_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.mcap"
    bad.write_bytes(b"\x00" * 100)
    assert main([str(bad), "--to", "bvh"]) == 1
    assert "not an MCAP session" in capsys.readouterr().err
    nobody = record(tmp_path, encoded(synthetic_frames(13, empty_every=1)))
    assert main([str(nobody), "--to", "bvh", "--out", str(tmp_path / "x.bvh")]) == 1
    assert "no frame with a person" in capsys.readouterr().err
