"""Session export: BVH whose forward kinematics gives back the recorded joints, CSV, JSON, CLI errors."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from realtime.recorder import Recorder
from realtime.recording.exports import csv_columns
from semgcn.bvh import bone_length_spread, forward_kinematics, read_bvh
from semgcn.bvh.write import camera_to_bvh, solve_recording
from semgcn.skeleton import JOINT_NAMES, PARENTS, bone_lengths
from semgcn.solver.rig import BONE_NAMES, BONE_PARENTS, JOINT_BONE
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


def bvh_positions(path):
    """FK of a BVH file through semgcn.bvh (a general reader), at the 19 bones, in file units."""
    clip = read_bvh(path)
    positions = forward_kinematics(clip)
    return clip, positions[:, [clip.skeleton.index(name) for name in BONE_NAMES]]


def recorded_joints(frames):
    return camera_to_bvh(np.stack([f.joints_3d if f.has_person else np.zeros((16, 3)) for f in frames]))


def test_bvh_is_the_solvers_constant_skeleton_and_its_fk_gives_the_solved_pose_within_1mm(session, tmp_path):
    path, frames = session
    out = tmp_path / "clip.bvh"
    assert main([str(path), "--to", "bvh", "--out", str(out)]) == 0
    clip, fk = bvh_positions(out)
    assert clip.num_frames == len(frames) and clip.frame_time == pytest.approx(1 / 30, rel=1e-4)
    assert [n for n, end in zip(clip.skeleton.names, clip.skeleton.is_end_site) if not end] == list(BONE_NAMES)
    valid = np.array([f.has_person for f in frames])
    solved = solve_recording(np.stack([f.joints_3d if f.has_person else np.zeros((16, 3)) for f in frames]), valid)
    error = np.linalg.norm(fk - solved.positions, axis=-1)
    assert error.max() < 1e-3, f"max FK error {error.max() * 1000:.3f} mm"
    assert bone_length_spread(fk, list(BONE_PARENTS)).max() < 1e-5  # a rigid skeleton
    # the offsets are the clip's robust bone lengths: the median of this rigid body's own
    sk = clip.skeleton
    thigh = np.linalg.norm(sk.offsets[sk.index("LeftLowerLeg")])
    assert thigh == pytest.approx(np.median(bone_lengths(recorded_joints(frames)[valid]), axis=0)[4], abs=2e-6)
    # the solved joints follow the recording (this synthetic body turns every bone at random, so it
    # also bends knees and elbows the wrong way, which the joint limits refuse: tens of cm there)
    joint_error = np.linalg.norm(fk[:, list(JOINT_BONE)] - (recorded_joints(frames) - recorded_joints(frames)[:, :1]
                                                             + fk[:, :1]), axis=-1)[valid]
    assert np.median(joint_error) < 0.01 and np.percentile(joint_error, 90) < 0.1
    empty = int(np.flatnonzero(~valid)[0])  # a frame without anybody holds the previous pose
    np.testing.assert_allclose(fk[empty], fk[empty - 1], atol=1e-9)
    head, ankle = BONE_NAMES.index("Head"), BONE_NAMES.index("LeftFoot")
    assert (fk[valid, head, 1] > fk[valid, 0, 1]).all() and (fk[valid, ankle, 1] < fk[valid, 0, 1]).all()  # y up


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
    _, fk = bvh_positions(out)  # semgcn.bvh detects the "replace" position convention
    valid = np.array([f.has_person for f in frames])
    want = recorded_joints(frames)
    joints = fk[:, list(JOINT_BONE)]
    error = np.linalg.norm(joints - joints[:, :1] - want, axis=-1)[valid]
    assert error.max() < 1e-3, f"max FK error {error.max() * 1000:.3f} mm"
    # without the position channels the same data would be off by the length jitter (and the limits)
    rigid = tmp_path / "rigid.bvh"
    assert main([str(path), "--to", "bvh", "--out", str(rigid)]) == 0
    joints = bvh_positions(rigid)[1][:, list(JOINT_BONE)]
    assert np.linalg.norm(joints - joints[:, :1] - want, axis=-1)[valid].max() > 5e-3


def test_bvh_holds_poses_over_dropped_frames_to_keep_the_recorded_speed(tmp_path):
    frames = synthetic_frames(40, empty_every=0)
    kept = [f for f in frames if f.frame_index not in (10, 11, 12, 30)]  # the pipeline dropped four
    path = record(tmp_path, encoded(kept))
    uniform, per_frame = tmp_path / "u.bvh", tmp_path / "f.bvh"
    assert main([str(path), "--to", "bvh", "--out", str(uniform), "--bone-lengths", "per-frame"]) == 0
    assert main([str(path), "--to", "bvh", "--out", str(per_frame), "--timeline", "frames"]) == 0
    _, fk = bvh_positions(uniform)
    assert len(fk) == 40 and len(bvh_positions(per_frame)[1]) == 36
    joints = fk[:, list(JOINT_BONE)]
    got = joints - joints[:, :1]
    want = recorded_joints(frames)
    shown = [9, 9, 9, 9] + list(range(13, 30)) + [29] + list(range(31, 40))  # held over each gap
    np.testing.assert_allclose(got[:9], want[:9], atol=1e-3)
    np.testing.assert_allclose(got[9:], want[shown], atol=1e-3)


def test_bvh_root_follows_root_translation(tmp_path):
    frames = synthetic_frames(60, empty_every=0)
    for i, frame in enumerate(frames):
        frame.person.root_translation = np.array([0.01 * i, -0.9, 3.0 + 0.02 * i], np.float32)
    path = record(tmp_path, encoded(frames))
    out = tmp_path / "walk.bvh"
    assert main([str(path), "--to", "bvh", "--out", str(out), "--unit", "cm"]) == 0
    _, fk = bvh_positions(out)
    want = camera_to_bvh(np.stack([f.person.root_translation for f in frames])) * 100
    assert np.abs(fk[:, 0] - want).max() < 0.1  # the hips at the pelvis: 1 mm, in centimetres


def test_csv_has_one_row_per_frame_with_exact_values(session, tmp_path):
    path, frames = session
    out = tmp_path / "t.csv"
    assert main([str(path), "--to", "csv", "--out", str(out)]) == 0
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == csv_columns(False) and len(csv_columns(False)) == 5 + 16 * 6
    assert len(rows) == len(frames)
    for row, frame in zip(rows, frames):
        assert int(row["frame_index"]) == frame.frame_index and row["has_person"] == str(int(frame.has_person))
        assert row["person_id"] == ("0" if frame.has_person else "")  # a single-person stream's person is 0
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
