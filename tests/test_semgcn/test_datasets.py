"""Virtual cameras, augmentations, person splits and the evaluation npz format."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from semgcn import codec
from semgcn import skeleton as S
from semgcn.codec import fill_dropped
from semgcn.datasets.augment import AugmentOptions, mirror_world, scale_bones
from semgcn.datasets.builder import load_samples_npz, make_samples, validation_sets
from semgcn.datasets.cameras import CameraOptions, look_at, sample_cameras
from semgcn.datasets.mocap import PoseSet, person_id, split_by_person


def _standing(n: int = 50, seed: int = 0) -> np.ndarray:
    """A plausible standing body (metres, Y up, floor 0) at random places and headings."""
    base = np.array([[0, .95, 0], [-.1, .95, 0], [-.1, .5, 0], [-.1, .08, 0], [.1, .95, 0], [.1, .5, 0],
                     [.1, .08, 0], [0, 1.2, 0], [0, 1.45, 0], [0, 1.62, 0], [.18, 1.45, 0], [.2, 1.18, 0],
                     [.22, .93, 0], [-.18, 1.45, 0], [-.2, 1.18, .05], [-.22, .93, .1]])
    rng = np.random.default_rng(seed)
    yaw = rng.uniform(0, 2 * np.pi, n)
    c, s = np.cos(yaw), np.sin(yaw)
    rot = np.stack([np.stack([c, 0 * c, s], -1), np.tile([0, 1, 0], (n, 1)), np.stack([-s, 0 * c, c], -1)], 1)
    poses = np.einsum("nab,jb->nja", rot, base)
    poses[..., 0] += rng.uniform(-2, 2, (n, 1))
    poses[..., 2] += rng.uniform(-2, 2, (n, 1))
    return poses


def _poseset(n=50, seed=0, people=("a", "b")) -> PoseSet:
    person = np.array([people[i % len(people)] for i in range(n)])
    return PoseSet(_standing(n, seed).astype(np.float32), person, np.array([f"clip_{p}" for p in person]))


def test_look_at_is_a_rotation_that_centres_the_target():
    pos = np.array([[3.0, 1.5, 2.0], [-4.0, 0.6, 0.5]])
    target = np.array([[0.0, 1.0, 0.0], [0.5, 0.9, -1.0]])
    rot = look_at(pos, target, np.radians([0.0, 4.0]))
    np.testing.assert_allclose(rot @ rot.transpose(0, 2, 1), np.broadcast_to(np.eye(3), (2, 3, 3)), atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(rot), 1.0, atol=1e-12)
    cam = np.einsum("nab,nb->na", rot, target - pos)
    np.testing.assert_allclose(cam[:, :2], 0.0, atol=1e-12)  # on the optical axis
    assert (cam[:, 2] > 0).all()                              # in front (z forward)
    # Without roll, world up is image up (y down): a point above the target has smaller y.
    above = np.einsum("ab,b->a", rot[0], target[0] + [0, 0.5, 0] - pos[0])
    assert above[1] < 0


def test_cameras_see_the_whole_body_within_the_ranges():
    poses = _standing(300)
    opt = CameraOptions()
    cams = sample_cameras(np.random.default_rng(1), poses, opt)
    cam_pts = cams.world_to_camera(poses)
    px = cams.project(cam_pts)
    assert (cam_pts[..., 2] > 0.3).all()
    assert (px >= 0).all() and (px[..., 0] <= cams.image_size[:, :1]).all() and (px[..., 1] <= cams.image_size[:, 1:]).all()
    hfov = np.degrees(2 * np.arctan(cams.image_size[:, 0] / (2 * cams.focal)))
    assert hfov.min() >= 49.9 and hfov.max() <= 90.1
    assert {tuple(s) for s in cams.image_size.astype(int).tolist()} <= {(640, 480), (1280, 720), (1920, 1080)}
    horizontal = np.linalg.norm((cams.position - poses[:, 0])[:, [0, 2]], axis=-1)
    assert horizontal.min() >= 1.99 and horizontal.max() <= 6.01
    assert cams.position[:, 1].min() >= 0.5 and cams.position[:, 1].max() <= 2.2


def test_samples_are_consistent_views_of_the_bodies():
    poses = _poseset(40)
    s = make_samples(poses, seed=3)
    np.testing.assert_allclose(s.joints_3d[:, S.ROOT], 0.0, atol=1e-6)
    # Exact samples: a rigid view, so bone lengths are those of the world poses.
    np.testing.assert_allclose(S.bone_lengths(s.joints_3d), S.bone_lengths(poses.joints), atol=1e-5)
    np.testing.assert_allclose(s.inputs(), codec.normalize_2d(s.keypoints_2d, s.image_size, s.focal, s.center))
    # Same seed, same samples; another seed, other cameras.
    np.testing.assert_array_equal(make_samples(poses, seed=3).keypoints_2d, s.keypoints_2d)
    assert not np.allclose(make_samples(poses, seed=4).keypoints_2d, s.keypoints_2d)
    # The 2D is the pinhole projection of the 3D placed at some root depth Tz: with a = (u - cx) / f,
    # a_j (Z_j + Tz) = X_j + a_0 Tz for every joint. Solve Tz by least squares; the fit must be exact.
    a = (s.keypoints_2d[..., 0] - s.center[:, None, 0]) / s.focal[:, None]
    lhs = a - a[:, :1]
    rhs = s.joints_3d[..., 0] - a * s.joints_3d[..., 2]
    tz = (lhs * rhs).sum(1) / (lhs * lhs).sum(1)
    np.testing.assert_allclose(lhs * tz[:, None], rhs, atol=2e-4)
    assert tz.min() > 1.5 and tz.max() < 7.0  # 2-6 m away horizontally, plus the height difference


def test_mirror_swaps_sides_and_is_an_involution():
    poses = _standing(5)
    m = mirror_world(poses)
    np.testing.assert_allclose(mirror_world(m), poses)
    j = S.JOINT_INDEX
    np.testing.assert_allclose(m[:, j["left_hip"], 0], -poses[:, j["right_hip"], 0])
    np.testing.assert_allclose(S.bone_lengths(m), S.bone_lengths(S.flip_labels(poses)), atol=1e-12)
    np.testing.assert_allclose(m[:, :, 1:], S.flip_labels(poses)[:, :, 1:])


def test_bone_scaling_keeps_derived_joints_and_symmetry():
    poses = _standing(200)
    opt = AugmentOptions(asymmetry=0.0)
    out = scale_bones(np.random.default_rng(0), poses, opt)
    j = S.JOINT_INDEX
    np.testing.assert_allclose(out[:, j["pelvis"]], poses[:, j["pelvis"]])
    np.testing.assert_allclose(out[:, j["thorax"]], (out[:, j["left_shoulder"]] + out[:, j["right_shoulder"]]) / 2, atol=1e-9)
    np.testing.assert_allclose(out[:, j["pelvis"]], (out[:, j["left_hip"]] + out[:, j["right_hip"]]) / 2, atol=1e-9)
    np.testing.assert_allclose(out[:, j["spine"]], (out[:, j["pelvis"]] + out[:, j["thorax"]]) / 2, atol=1e-9)
    ratio = S.bone_lengths(out) / S.bone_lengths(poses)
    bones = [c for c, _ in S.BONES]
    shin_l, shin_r = bones.index(j["left_ankle"]), bones.index(j["right_ankle"])
    np.testing.assert_allclose(ratio[:, shin_l], ratio[:, shin_r])  # symmetric without asymmetry
    lo = opt.body_scale[0] * opt.bone_scale[0]
    hi = opt.body_scale[1] * opt.bone_scale[1]
    assert ratio[:, shin_l].min() >= lo - 1e-9 and ratio[:, shin_l].max() <= hi + 1e-9
    assert ratio[:, shin_l].std() > 0.03  # it really varies


def test_dropped_joints_take_their_nearest_kept_ancestor():
    px = np.arange(16 * 2, dtype=float).reshape(1, 16, 2)
    dropped = np.zeros((1, 16), bool)
    j = S.JOINT_INDEX
    dropped[0, [j["left_elbow"], j["left_wrist"], j["head"]]] = True
    out = fill_dropped(px, dropped)
    np.testing.assert_array_equal(out[0, j["left_wrist"]], px[0, j["left_shoulder"]])
    np.testing.assert_array_equal(out[0, j["left_elbow"]], px[0, j["left_shoulder"]])
    np.testing.assert_array_equal(out[0, j["head"]], px[0, j["thorax"]])
    keep = ~dropped[0]
    np.testing.assert_array_equal(out[0, keep], px[0, keep])


def test_noisy_validation_differs_only_in_2d():
    """The noisy set is the fitted BlazePose error model on the same poses and cameras: its systematic
    part (hips and shoulders drawn narrower than the mocap's joint centres) shows on average, its random
    part stays small, and no joint is dropped (BlazePose always returns every landmark)."""
    sets = validation_sets(_poseset(60), seed=7)
    exact, noisy = sets["exact"], sets["noisy"]
    np.testing.assert_array_equal(exact.joints_3d, noisy.joints_3d)
    assert not exact.dropped.any() and not noisy.dropped.any()
    err = np.linalg.norm(noisy.keypoints_2d - exact.keypoints_2d, axis=-1)
    height = np.ptp(exact.keypoints_2d[..., 1], axis=1).mean()
    assert 0 < np.median(err) < 0.05 * height
    hips = S.JOINT_INDEX["left_hip"], S.JOINT_INDEX["right_hip"]
    width = lambda kp: np.linalg.norm(kp[:, hips[0]] - kp[:, hips[1]], axis=-1)  # noqa: E731
    assert np.median(width(noisy.keypoints_2d) / width(exact.keypoints_2d)) < 0.98
    assert np.isfinite(noisy.inputs()).all()


def test_split_by_person_never_shares_people():
    poses = _poseset(30, people=("cmu:001", "cmu:007", "reactidle:003"))
    split = split_by_person(poses, ("cmu:007", "reactidle:003"))
    assert set(split.train.person) == {"cmu:001"}
    assert set(split.val.person) == {"cmu:007", "reactidle:003"}
    assert len(split.train) + len(split.val) == len(poses)
    with pytest.raises(ValueError, match="empty split"):
        split_by_person(poses, ("nobody",))


def test_person_ids():
    assert person_id(Path("/x/mocap/cmu/All_BVH/subjects/007/007_03.bvh")) == "cmu:007"
    assert person_id(Path("/x/mocap/reactidle/acted/008_acted.bvh")) == "reactidle:008"
    assert person_id(Path("/x/mocap/reactidle/genuine/008_genuine.bvh")) == "reactidle:008"
    assert person_id(Path("/data/actor_anna/take1.bvh")) == "actor_anna"


def test_npz_round_trip_and_errors(tmp_path):
    s = make_samples(_poseset(20), seed=0)
    path = s.save_npz(tmp_path / "val.npz")
    back = load_samples_npz(path)
    np.testing.assert_allclose(back.keypoints_2d, s.keypoints_2d)
    np.testing.assert_allclose(back.joints_3d, s.joints_3d, atol=1e-7)
    np.testing.assert_allclose(back.focal, s.focal)
    # Minimal file: one image size for all, no intrinsics -> the codec's defaults.
    np.savez(tmp_path / "min.npz", keypoints_2d=s.keypoints_2d, joints_3d=s.joints_3d + 1.0,
             image_size=np.array([1280, 720]))
    mini = load_samples_npz(tmp_path / "min.npz")
    f, c = codec.default_intrinsics((1280, 720))
    np.testing.assert_allclose(mini.focal, f)
    np.testing.assert_allclose(mini.center, np.broadcast_to(c, (20, 2)))
    np.testing.assert_allclose(mini.joints_3d[:, 0], 0.0)  # made root-relative
    np.savez(tmp_path / "bad.npz", keypoints_2d=s.keypoints_2d)
    with pytest.raises(ValueError, match="missing array 'joints_3d'"):
        load_samples_npz(tmp_path / "bad.npz")
    (tmp_path / "junk.npz").write_text("not a zip")
    with pytest.raises(ValueError, match="cannot read"):
        load_samples_npz(tmp_path / "junk.npz")
