"""The Acclaim ASF/AMC reader: forward kinematics by hand on a tiny skeleton, then the real HDM05 files;
the cgspeed BVH rig and the person ids across CMU folders."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from semgcn import acclaim
from semgcn import skeleton as S
from semgcn.datasets.mocap import find_clips, frame_rate_override, person_id, split_by_person, PoseSet
from semgcn.rigs import load_canonical, proportions

ASF = """:version 1.10
:units
  length 0.5
  angle deg
:root
   order TX TY TZ RX RY RZ
   axis XYZ
:bonedata
  begin
     id 1
     name upper
     direction 1 0 0
     length 2
     axis 0 0 90 XYZ
    dof rx
  end
  begin
     id 2
     name lower
     direction 0 -1 0
     length 1
     axis 0 0 0 XYZ
    dof rz
  end
:hierarchy
  begin
    root upper
    upper lower
  end
"""
AMC = """:FULLY-SPECIFIED
:DEGREES
1
root 1 0 0 0 0 0
upper 0
lower 0
2
root 0 0 0 0 90 0
upper 90
lower 90
"""


def test_forward_kinematics_by_hand(tmp_path):
    (tmp_path / "s.asf").write_text(ASF)
    (tmp_path / "s.amc").write_text(AMC)
    sk = acclaim.read_asf(tmp_path / "s.asf")
    assert sk.order == ["root", "upper", "lower"] and sk.metres_per_unit == pytest.approx(0.0254 / 0.5)
    pos, names = acclaim.forward_kinematics(sk, acclaim.read_amc(tmp_path / "s.amc", sk))
    unit = sk.metres_per_unit
    assert names == ["root", "upper", "lower"] and pos.shape == (2, 3, 3)
    # Frame 1, rest: upper starts at the root (1, 0, 0), runs 2 along +x, lower starts at its end.
    np.testing.assert_allclose(pos[0] / unit, [[1, 0, 0], [1, 0, 0], [3, 0, 0]], atol=1e-9)
    # Frame 2: upper's rx = 90 acts about its local x axis, which its axis line (90 deg about z) turns
    # onto world y: C Rx C^-1 is 90 deg about y and takes the bone's direction x to -z; the root's own
    # 90 deg about y then takes -z to -x. So upper ends (= lower starts) at (-2, 0, 0).
    np.testing.assert_allclose(pos[1, 2] / unit, [-2, 0, 0], atol=1e-9)


def test_malformed_files_are_named(tmp_path):
    (tmp_path / "bad.asf").write_text("nothing here")
    with pytest.raises(acclaim.AcclaimError, match="bad.asf"):
        acclaim.read_asf(tmp_path / "bad.asf")
    (tmp_path / "s.asf").write_text(ASF)
    (tmp_path / "s.amc").write_text(":FULLY-SPECIFIED\n1\nroot 0 0 0 0 0 0\nupper 0\n")
    with pytest.raises(acclaim.AcclaimError, match="lower"):
        acclaim.read_amc(tmp_path / "s.amc", acclaim.read_asf(tmp_path / "s.asf"))


def _clip(shared_dir: Path, rel: str) -> Path:
    path = shared_dir / "mocap" / rel
    if not path.exists():
        pytest.skip(f"{path} absent")
    return path


def test_hdm05_actors_come_out_human_sized_with_rigid_limbs(shared_dir):
    folder = _clip(shared_dir, "hdm05/bk")
    clip = load_canonical(sorted(folder.glob("*.amc"))[0])
    j = clip.joints
    assert clip.rig == "acclaim" and clip.fps == 120.0 and j.shape[1:] == (16, 3)
    limbs = [k for k, (c, _) in enumerate(S.BONES) if S.JOINT_NAMES[c] not in ("spine", "thorax", "head")]
    lengths = S.bone_lengths(j)[:, limbs]
    assert np.ptp(lengths, axis=0).max() < 1e-4          # limbs are rigid: the units and kinematics agree
    ankle_to_head = np.percentile(j[:, 9, 1] - j[:, [3, 6], 1].min(axis=1), 95)
    assert 1.35 < ankle_to_head < 1.75                    # a 1.6-1.9 m tall actor
    assert 0.15 < proportions(j)["thorax_head_m"] < 0.23


def test_cgspeed_rig_drops_the_t_pose_and_is_retargeted(shared_dir):
    clip = load_canonical(_clip(shared_dir, "cmu_walk/07/07_01.bvh"))
    j = clip.joints
    assert clip.rig == "cgspeed"
    # No T-pose left: the wrists hang below the shoulders from the first frame on.
    assert (j[0, [12, 15], 1] < j[0, [10, 13], 1] - 0.1).all()
    assert np.abs(np.diff(j - j[:, :1], axis=0)).max() < 0.2   # no blend-in jump from a T-pose
    assert 0.30 < proportions(j)["shoulder_width_m"] < 0.37


def test_people_are_the_same_across_cmu_folders(shared_dir):
    root = shared_dir / "mocap"
    assert person_id(root / "cmu_walk" / "07" / "07_01.bvh") == person_id(
        root / "cmu" / "All_BVH" / "subjects" / "007" / "007_01.bvh") == "cmu:007"
    assert person_id(root / "cmu_dance" / "salsa" / "15.bvh") == "cmu:060"
    assert person_id(root / "cmu_dance" / "salsa" / "16.bvh") == "cmu:061"
    assert person_id(root / "hdm05" / "tr" / "HDM_tr_x_120.amc") == "hdm05:tr"
    assert frame_rate_override(_clip(shared_dir, "cmu_dance/salsa/01.bvh")) == 60.0
    assert frame_rate_override(_clip(shared_dir, "cmu_walk/07/07_01.bvh")) is None
    assert any(p.suffix == ".amc" for p in find_clips([_clip(shared_dir, "hdm05/mm")]))


def test_hdm05_never_enters_training():
    people = np.array(["cmu:001", "cmu:007", "hdm05:bd", "hdm05:tr"])
    poses = PoseSet(np.zeros((4, 16, 3), np.float32), people, people)
    split = split_by_person(poses, ("cmu:007",))
    assert split.train.person.tolist() == ["cmu:001"] and split.val.person.tolist() == ["cmu:007"]
    assert split.test.person.tolist() == ["hdm05:bd", "hdm05:tr"]
