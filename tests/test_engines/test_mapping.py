"""BlazePose-33 -> canonical 16 joints."""
import numpy as np
import pytest

from engines.blazepose.mapping import blazepose_to_canonical
from semgcn.skeleton import JOINT_INDEX, NUM_JOINTS


def _landmarks():
    lm = np.zeros((33, 5), np.float32)
    lm[:, 0] = np.arange(33) * 10.0
    lm[:, 1] = np.arange(33) * -3.0
    lm[:, 3] = np.linspace(0.2, 0.99, 33)   # visibility
    lm[:, 4] = 0.95                          # presence
    return lm


def test_single_landmark_joints():
    kp, conf = blazepose_to_canonical(_landmarks())
    assert kp.shape == (NUM_JOINTS, 2) and conf.shape == (NUM_JOINTS,)
    assert kp.dtype == np.float32 and conf.dtype == np.float32
    for name, idx in [("right_hip", 24), ("left_hip", 23), ("right_knee", 26), ("left_ankle", 27),
                      ("left_shoulder", 11), ("right_elbow", 14), ("left_wrist", 15)]:
        np.testing.assert_allclose(kp[JOINT_INDEX[name]], [idx * 10.0, idx * -3.0])


def test_derived_joints_and_min_confidence():
    lm = _landmarks()
    kp, conf = blazepose_to_canonical(lm)
    pelvis = (lm[23, :2] + lm[24, :2]) / 2
    thorax = (lm[11, :2] + lm[12, :2]) / 2
    np.testing.assert_allclose(kp[JOINT_INDEX["pelvis"]], pelvis, rtol=1e-6)
    np.testing.assert_allclose(kp[JOINT_INDEX["thorax"]], thorax, rtol=1e-6)
    np.testing.assert_allclose(kp[JOINT_INDEX["spine"]], (pelvis + thorax) / 2, rtol=1e-6)
    np.testing.assert_allclose(kp[JOINT_INDEX["head"]], (lm[7, :2] + lm[8, :2]) / 2, rtol=1e-6)
    assert conf[JOINT_INDEX["pelvis"]] == min(lm[23, 3], lm[24, 3])
    assert conf[JOINT_INDEX["spine"]] == min(lm[[11, 12, 23, 24], 3])
    lm[12, 4] = 0.05  # right shoulder not present: thorax, spine, right shoulder drop
    _, conf = blazepose_to_canonical(lm)
    for name in ("thorax", "spine", "right_shoulder"):
        assert conf[JOINT_INDEX[name]] == np.float32(0.05)


def test_positions_only_and_bad_shape():
    _, conf = blazepose_to_canonical(_landmarks()[:, :2])
    assert np.all(conf == 1.0)
    with pytest.raises(ValueError):
        blazepose_to_canonical(np.zeros((17, 3)))
