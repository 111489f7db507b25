"""Session export of several people (schema semgcn.pose/2): a BVH file per person whose forward
kinematics is that person's solved pose (held where they are absent), a CSV row and a JSON entry per
person per frame."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from realtime.recorder import Recorder
from semgcn.bvh import forward_kinematics, read_bvh
from semgcn.bvh.write import camera_to_bvh, solve_recording
from semgcn.skeleton import JOINT_NAMES
from semgcn.solver.rig import BONE_NAMES
from tests.test_realtime.test_recording.session_fixtures import (PEOPLE_SPANS, encoded, synthetic_frames,
                                                                 synthetic_people_frames)
from tools.export_session import main


@pytest.fixture(scope="module")
def people_session(tmp_path_factory):
    frames = synthetic_people_frames()
    rec = Recorder(tmp_path_factory.mktemp("people") / "people.mcap", {"source": "synthetic"})
    for parts in encoded(frames):
        rec.write(parts)
    rec.close()
    return rec.path, frames


def _person_track(frames, person_id):
    """That person's joints, pelvis positions and presence over the frames (zeros where absent)."""
    present = np.array([any(p.id == person_id for p in f.people) for f in frames])
    joints, roots = np.zeros((len(frames), 16, 3)), np.zeros((len(frames), 3))
    for i, f in enumerate(frames):
        for p in f.people:
            if p.id == person_id:
                joints[i], roots[i] = p.joints_3d, p.root_translation
    return joints, roots, present


def test_bvh_writes_one_file_per_person_each_their_own_solved_motion(people_session, tmp_path, capsys):
    path, frames = people_session
    out = tmp_path / "clip.bvh"
    assert main([str(path), "--to", "bvh", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert not out.exists()
    for person_id, spans in PEOPLE_SPANS.items():
        file = tmp_path / f"clip_person{person_id}.bvh"
        assert f"wrote {file} (person {person_id}: in {sum(e - s for s, e in spans)} of 90 frames)" in printed
        clip = read_bvh(file)
        fk = forward_kinematics(clip)[:, [clip.skeleton.index(name) for name in BONE_NAMES]]
        assert clip.num_frames == len(frames)  # every clip spans the session: they line up
        joints, roots, present = _person_track(frames, person_id)
        solved = solve_recording(joints, present, roots)
        error = np.linalg.norm(fk - solved.positions, axis=-1)
        assert error.max() < 1e-3, f"person {person_id}: max FK error {error.max() * 1000:.3f} mm"
        # the hips are this person's own pelvis wherever they are in view (nobody else's)
        hips = camera_to_bvh(roots)
        assert np.abs(fk[present, 0] - hips[present]).max() < 1e-3
        # absent: the previous pose held; before they first appear: their first pose
        first = int(np.argmax(present))
        for i in np.flatnonzero(~present):
            held = i - 1 if i > first else first
            while not present[held]:
                held -= 1
            np.testing.assert_allclose(fk[i], fk[held], atol=1e-9)


def test_a_session_of_one_person_keeps_the_plain_bvh_name(tmp_path):
    rec = Recorder(tmp_path / "one.mcap", {"source": "synthetic"})
    for parts in encoded(synthetic_frames(30)):
        rec.write(parts)
    rec.close()
    out = tmp_path / "one.bvh"
    assert main([str(rec.path), "--to", "bvh", "--out", str(out)]) == 0
    assert out.exists() and not list(tmp_path.glob("one_person*.bvh"))


def test_csv_has_a_row_per_person_per_frame(people_session, tmp_path):
    path, frames = people_session
    out = tmp_path / "people.csv"
    assert main([str(path), "--to", "csv", "--out", str(out)]) == 0
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    want = [(f, p) for f in frames for p in f.people]
    assert len(rows) == len(want) == sum(e - s for spans in PEOPLE_SPANS.values() for s, e in spans)
    for row, (frame, person) in zip(rows, want):
        assert int(row["frame_index"]) == frame.frame_index and int(row["person_id"]) == person.id
        got = np.array([[float(row[f"{n}_{a}"]) for a in "xyz"] for n in JOINT_NAMES], np.float32)
        np.testing.assert_array_equal(got, person.joints_3d)
        assert np.float32(row["root_x"]) == person.root_translation[0]
        assert np.float32(row["head_u"]) == person.keypoints_2d[9, 0]


def test_json_lists_each_frames_people_with_their_ids(people_session, tmp_path):
    path, frames = people_session
    out = tmp_path / "people.json"
    assert main([str(path), "--to", "json", "--out", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert len(doc["frames"]) == len(frames)
    for entry, frame in zip(doc["frames"], frames):
        assert [p["id"] for p in entry["people"]] == [p.id for p in frame.people]
        for got, person in zip(entry["people"], frame.people):
            np.testing.assert_array_equal(np.array(got["joints_3d"], np.float32), person.joints_3d)
            np.testing.assert_array_equal(np.array(got["root_translation"], np.float32), person.root_translation)
        np.testing.assert_array_equal(np.array(entry["joints_3d"], np.float32), frame.people[0].joints_3d)
