"""Eq. 7 loss and the P1 / scale-calibrated P1 / P2 metrics on worked examples."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from semgcn import metrics
from semgcn.losses import bone_vectors, mpjpe_torch, pose_loss
from semgcn.skeleton import BONES


def _pose(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    pose = rng.normal(scale=0.3, size=(16, 3))
    return pose - pose[0]


def test_metrics_module_does_not_need_torch():
    src = open(metrics.__file__).read()
    assert "import torch" not in src


def test_mpjpe_by_hand():
    gt = np.zeros((1, 16, 3))
    pred = np.zeros((1, 16, 3))
    pred[0, 3] = [0.3, 0.4, 0.0]        # one joint 0.5 m off
    assert metrics.mpjpe(pred, gt) == pytest.approx(0.5 / 16)
    # root alignment: a global shift costs nothing in P1, everything without alignment
    shifted = gt + np.array([1.0, 2.0, 2.0])
    assert metrics.mpjpe(shifted, gt) == pytest.approx(0.0)
    assert metrics.mpjpe(shifted, gt, root_align=False) == pytest.approx(3.0)


def test_p2_removes_similarity_transform_exactly():
    gt = np.stack([_pose(0), _pose(1)])
    rot = Rotation.from_euler("xyz", [30, -50, 110], degrees=True).as_matrix()
    pred = 1.7 * gt @ rot.T + np.array([0.5, -1.0, 3.0])
    assert metrics.p_mpjpe(pred, gt) == pytest.approx(0.0, abs=1e-9)
    assert metrics.mpjpe(pred, gt) > 0.1
    np.testing.assert_allclose(metrics.procrustes_align(pred, gt), gt, atol=1e-9)


def test_p2_does_not_undo_a_mirror_image():
    gt = _pose(2)[None]
    mirrored = gt * np.array([-1.0, 1.0, 1.0])
    # a reflection is not a rotation: the fix keeps det(R) = +1, so some error must remain
    aligned = metrics.procrustes_align(mirrored, gt)
    # the map from the centred mirror image to the aligned pose is a scaled proper rotation
    ref = mirrored[0] - mirrored[0].mean(0)
    centred = aligned[0] - aligned[0].mean(0)
    linear, *_ = np.linalg.lstsq(ref, centred, rcond=None)
    assert np.linalg.det(linear) > 0
    assert metrics.p_mpjpe(mirrored, gt) > 0.01


def test_p2_by_hand_for_a_pure_offset_of_one_joint():
    # Two-point "poses": Procrustes aligns perfectly, so P2 = 0 while P1 = half the distance change.
    gt = np.array([[[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]]])
    pred = np.array([[[0.0, 0.0, 0.0], [0.0, 2.0, 0.0]]])
    assert metrics.p_mpjpe(pred, gt) == pytest.approx(0.0, abs=1e-12)
    assert metrics.mpjpe(pred, gt) == pytest.approx(np.sqrt(5) / 2)


def test_scale_calibration_matches_bone_length_sum():
    gt = _pose(3)[None]
    pred = 0.8 * gt
    assert metrics.mpjpe(pred, gt) > 0.01
    assert metrics.mpjpe_true_bone_lengths(pred, gt) == pytest.approx(0.0, abs=1e-12)
    scaled = metrics.scale_to_bone_length_sum(pred, 4.2)
    assert metrics.bone_length_sum(scaled)[0] == pytest.approx(4.2)
    lengths = [np.linalg.norm(gt[0, c] - gt[0, p]) for c, p in BONES]
    assert metrics.bone_length_sum(gt)[0] == pytest.approx(sum(lengths))


def test_pose_errors_mm_reports_millimetres_three_ways():
    gt = _pose(4)[None]
    pred = gt.copy()
    pred[0, 5] += [0.016, 0.0, 0.0]      # 16 mm on one of 16 joints -> 1 mm MPJPE
    out = metrics.pose_errors_mm(pred, gt)
    assert out["mpjpe_mm"] == pytest.approx(1.0)
    assert set(out) == {"mpjpe_mm", "mpjpe_true_bones_mm", "pmpjpe_mm", "bone_angle_deg", "n"} and out["n"] == 1
    # Procrustes minimises the squared residual, not the mean distance: with one outlier it spreads
    # the error over all joints, so P2 may exceed P1 here, but the squared residual must shrink.
    aligned = metrics.procrustes_align(pred, gt)
    assert ((aligned - gt) ** 2).sum() < ((pred - gt) ** 2).sum()
    assert out["pmpjpe_mm"] == pytest.approx(1000 * np.linalg.norm(aligned - gt, axis=-1).mean())


def test_metric_shape_errors():
    with pytest.raises(ValueError, match="differ in shape"):
        metrics.mpjpe(np.zeros((2, 16, 3)), np.zeros((3, 16, 3)))
    with pytest.raises(ValueError):
        metrics.mpjpe(np.zeros(5), np.zeros(5))


def test_loss_eq7_by_hand():
    target = torch.zeros(2, 16, 3)
    pred = torch.zeros(2, 16, 3)
    pred[0, 3, 0] = 2.0                  # squared error 4 on sample 0, 0 on sample 1
    assert pose_loss(pred, target).item() == pytest.approx(2.0)
    # joint 3 (right ankle) is the child of one bone (2->3) and parent of none: bone error 4 too
    assert pose_loss(pred, target, bone_weight=1.0).item() == pytest.approx(4.0)
    assert pose_loss(pred, target, bone_weight=0.5).item() == pytest.approx(3.0)
    assert mpjpe_torch(pred, target).item() == pytest.approx(2.0 / 32)


def test_bone_vectors_point_from_child_to_parent_eq8():
    joints = torch.from_numpy(_pose(5)).float()[None]
    b = bone_vectors(joints)
    assert b.shape == (1, 15, 3)
    c, p = BONES[0]
    torch.testing.assert_close(b[0, 0], joints[0, p] - joints[0, c])


def test_loss_shape_mismatch():
    with pytest.raises(ValueError):
        pose_loss(torch.zeros(1, 16, 3), torch.zeros(2, 16, 3))
