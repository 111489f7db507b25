"""BVH reader and rig maps: both position-channel conventions, rotation orders, units, the shared mocap."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from semgcn import skeleton as S
from semgcn.bvh import (BvhError, bone_length_spread, detect_position_mode, forward_kinematics, guess_unit,
                        read_bvh)
from semgcn.rigs import (check_proportions, detect_rig, load_canonical, proportions)


def _write(path, hierarchy: str, frames: list[list[float]], frame_time: float = 0.04):
    motion = "\n".join(" ".join(f"{v:.6f}" for v in row) for row in frames)
    path.write_text(f"HIERARCHY\n{hierarchy}\nMOTION\nFrames: {len(frames)}\nFrame Time: {frame_time}\n{motion}\n")
    return path


CHAIN_ADD = """ROOT root
{
  OFFSET 1.0 2.0 3.0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Yrotation Xrotation
  JOINT mid
  {
    OFFSET 0.0 1.0 0.0
    CHANNELS 3 Xrotation Yrotation Zrotation
    End Site
    {
      OFFSET 0.0 0.0 2.0
    }
  }
}"""


def test_add_convention_and_rotation_orders(tmp_path):
    frames = [[0.5, 0.0, -1.0, 30.0, 20.0, 10.0, 15.0, -25.0, 40.0], [0, 0, 0, 0, 0, 0, 0, 0, 0]]
    clip = read_bvh(_write(tmp_path / "chain.bvh", CHAIN_ADD, frames))
    assert clip.num_frames == 2 and clip.skeleton.names == ["root", "mid", "mid_end"]
    assert detect_position_mode(clip) == "add"
    pos = forward_kinematics(clip)
    # Hand-computed: intrinsic rotations in the listed channel order (BVH convention).
    r_root = Rotation.from_euler("ZYX", [30, 20, 10], degrees=True)
    r_mid = Rotation.from_euler("XYZ", [15, -25, 40], degrees=True)
    root = np.array([1.5, 2.0, 2.0])  # OFFSET + position channels
    mid = root + r_root.apply([0, 1, 0])
    end = mid + (r_root * r_mid).apply([0, 0, 2])
    np.testing.assert_allclose(pos[0], [root, mid, end], atol=1e-9)
    # The rest frame is the plain offsets.
    np.testing.assert_allclose(pos[1], [[1, 2, 3], [1, 3, 3], [1, 3, 5]], atol=1e-9)
    # A wrong order would give a different end point: the test can fail.
    wrong = mid + (r_root * Rotation.from_euler("ZYX", [15, -25, 40], degrees=True)).apply([0, 0, 2])
    assert np.linalg.norm(wrong - end) > 0.1


CHAIN_REPLACE = """ROOT hips
{
  OFFSET 0.0 0.9 0.0
  CHANNELS 6 Xposition Yposition Zposition Xrotation Yrotation Zrotation
  JOINT shin
  {
    OFFSET 0.0 -0.45 0.0
    CHANNELS 6 Xposition Yposition Zposition Yrotation Xrotation Zrotation
    End Site
    {
      OFFSET 0.0 -0.4 0.0
    }
  }
}"""


def test_replace_convention_detected_and_matters(tmp_path):
    frames = [[0.1, 0.9, 0.0, 0.0, 0.0, t, 0.0, -0.45, 0.0, 0.0, 2 * t, 0.0] for t in range(0, 60, 5)]
    clip = read_bvh(_write(tmp_path / "replace.bvh", CHAIN_REPLACE, frames))
    assert detect_position_mode(clip) == "replace"
    pos = forward_kinematics(clip)
    shin = np.linalg.norm(pos[:, 1] - pos[:, 0], axis=-1)
    np.testing.assert_allclose(shin, 0.45, atol=1e-9)
    # Read with the other convention, the position channels add to the OFFSET: bones double.
    wrong = forward_kinematics(clip, "add")
    np.testing.assert_allclose(np.linalg.norm(wrong[:, 1] - wrong[:, 0], axis=-1), 0.9, atol=1e-9)
    assert bone_length_spread(pos, clip.skeleton.parents).max() < 1e-9


def test_malformed_files_raise_clear_errors(tmp_path):
    with pytest.raises(BvhError, match="cannot read"):
        read_bvh(tmp_path / "missing.bvh")
    (tmp_path / "junk.bvh").write_text("hello")
    with pytest.raises(BvhError, match="not a BVH"):
        read_bvh(tmp_path / "junk.bvh")
    text = _write(tmp_path / "t.bvh", CHAIN_ADD, [[0] * 9, [0] * 9]).read_text()
    (tmp_path / "trunc.bvh").write_text(text.replace("Frames: 2", "Frames: 5"))
    with pytest.raises(BvhError, match="truncated"):
        read_bvh(tmp_path / "trunc.bvh")


COMMON = """ROOT mixamorig:Hips
{
  OFFSET 0 100 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
""" + "".join(
    f"""  JOINT mixamorig:{s}UpLeg
  {{
    OFFSET {x} -5 0
    CHANNELS 3 Zrotation Xrotation Yrotation
    JOINT mixamorig:{s}Leg
    {{
      OFFSET 0 -45 0
      CHANNELS 3 Zrotation Xrotation Yrotation
      JOINT mixamorig:{s}Foot
      {{
        OFFSET 0 -42 0
        CHANNELS 3 Zrotation Xrotation Yrotation
        End Site
        {{
          OFFSET 0 -5 10
        }}
      }}
    }}
  }}
""" for s, x in (("Left", 10), ("Right", -10))) + """  JOINT mixamorig:Spine
  {
    OFFSET 0 10 0
    CHANNELS 3 Zrotation Xrotation Yrotation
    JOINT mixamorig:Neck
    {
      OFFSET 0 45 0
      CHANNELS 3 Zrotation Xrotation Yrotation
      JOINT mixamorig:Head
      {
        OFFSET 0 10 0
        CHANNELS 3 Zrotation Xrotation Yrotation
        End Site
        {
          OFFSET 0 18 0
        }
      }
    }
""" + "".join(
    f"""    JOINT mixamorig:{s}Arm
    {{
      OFFSET {x} 42 0
      CHANNELS 3 Zrotation Xrotation Yrotation
      JOINT mixamorig:{s}ForeArm
      {{
        OFFSET {x * 1.6} 0 0
        CHANNELS 3 Zrotation Xrotation Yrotation
        JOINT mixamorig:{s}Hand
        {{
          OFFSET {x * 1.5} 0 0
          CHANNELS 3 Zrotation Xrotation Yrotation
          End Site
          {{
            OFFSET {x * 0.5} 0 0
          }}
        }}
      }}
    }}
""" for s, x in (("Left", 17), ("Right", -17))) + "  }\n}"


def test_common_rig_detected_in_centimetres_with_head_rule(tmp_path):
    n_channels = 6 + 3 * 15
    clip_path = _write(tmp_path / "mixamo.bvh", COMMON, [[0.0] * n_channels] * 3)
    clip = read_bvh(clip_path)
    assert guess_unit(clip) == "cm"
    assert detect_rig(clip.skeleton.names).name == "common"
    canon = load_canonical(clip_path).joints
    assert canon.shape == (3, 16, 3)
    j = S.JOINT_INDEX
    # Head = Head origin + 5 cm along Neck -> Head (straight up here): 100 + 10 + 45 + 10 + 5 cm.
    np.testing.assert_allclose(canon[0, j["head"]], [0, 1.70, 0], atol=1e-6)
    np.testing.assert_allclose(canon[0, j["left_hip"]], [0.10, 0.95, 0], atol=1e-6)
    np.testing.assert_allclose(canon[0, j["pelvis"]], [0, 0.95, 0], atol=1e-6)
    np.testing.assert_allclose(canon[0, j["thorax"]], [0, 1.52, 0], atol=1e-6)
    assert not check_proportions(canon)


def test_unknown_rig_names_what_is_missing():
    with pytest.raises(ValueError, match="unknown rig"):
        detect_rig(["root", "a", "b"])


# --- the shared mocap: bone lengths constant over a clip and plausible, on both rigs -------------

LIMBS = {"thigh": (2, (0.30, 0.55)), "shin": (3, (0.28, 0.55)), "upper_arm": (11, (0.20, 0.36)),
         "forearm": (12, (0.18, 0.34))}


def _limb_lengths(joints):
    return {name: np.linalg.norm(joints[:, c] - joints[:, S.PARENTS[c]], axis=-1) for name, (c, _) in LIMBS.items()}


def _check_clip(path, rig_name):
    clip = read_bvh(path)
    pos = forward_kinematics(clip)
    # Every rig bone (helper bones included) keeps its length over the clip.
    assert bone_length_spread(pos, clip.skeleton.parents).max() < 1e-4 * (100 if rig_name == "cmu_iclone" else 1)
    canon = load_canonical(path)
    assert canon.rig == rig_name
    for name, lengths in _limb_lengths(canon.joints).items():
        lo, hi = LIMBS[name][1]
        assert np.ptp(lengths) < 1e-3, f"{path.name}: {name} length varies by {np.ptp(lengths):.4f} m"
        assert lo <= lengths.mean() <= hi, f"{path.name}: {name} {lengths.mean():.3f} m not in [{lo}, {hi}]"
    assert not check_proportions(canon.joints, str(path))
    return clip, canon


def test_cmu_clips(shared_dir):
    folder = shared_dir / "mocap" / "cmu" / "All_BVH" / "subjects" / "007"
    clips = sorted(folder.glob("*.bvh"))[:4]
    assert clips, f"no CMU clips in {folder}"
    for path in clips:
        clip, canon = _check_clip(path, "cmu_iclone")
        assert canon.joints.shape[0] == clip.num_frames - 1  # the prepended T-pose is dropped
        assert round(canon.fps) == 60
        p = proportions(canon.joints)
        assert 0.15 <= p["thorax_head_m"] <= 0.20 and 0.30 <= p["shoulder_width_m"] <= 0.37


def test_reactidle_clips(shared_dir):
    folder = shared_dir / "mocap" / "reactidle"
    clips = [folder / "acted" / "008_acted.bvh", folder / "genuine" / "010_genuine.bvh"]
    for path in clips:
        if not path.exists():
            pytest.skip(f"{path} absent")
        clip, canon = _check_clip(path, "reactidle")
        assert detect_position_mode(clip) == "replace"
        assert canon.joints.shape[0] == clip.num_frames
        p = proportions(canon.joints)
        assert 0.15 <= p["thorax_head_m"] <= 0.19 and 0.30 <= p["shoulder_width_m"] <= 0.37
        # The wrong convention gives impossible legs: the reader's choice is what makes them right.
        wrong = forward_kinematics(clip, "add")
        thigh, shin = clip.skeleton.index("thigh.L"), clip.skeleton.index("shin.L")
        assert np.linalg.norm(wrong[0, shin] - wrong[0, thigh]) > 0.55
