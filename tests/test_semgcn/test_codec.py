"""The 2D codec: camera normalisation, root-centring, scale normalisation, input validation."""
import numpy as np
import pytest

from semgcn.codec import check_keypoints, default_intrinsics, normalize_2d


def _project(points, focal, center):
    return points[..., :2] / points[..., 2:3] * focal + center


def test_same_body_same_input_on_any_camera():
    rng = np.random.default_rng(0)
    body = rng.normal(scale=0.4, size=(16, 3)) + [0.2, -0.1, 3.0]
    small = normalize_2d(_project(body, 500.0, np.array([320.0, 240.0]))[None], (640, 480), 500.0, [320, 240])
    big = normalize_2d(_project(body, 1500.0, np.array([960.0, 540.0]))[None], (1920, 1080), 1500.0, [960, 540])
    assert np.allclose(small, big, atol=1e-5)


def test_distance_does_not_change_input_but_pose_does():
    rng = np.random.default_rng(1)
    body = rng.normal(scale=0.4, size=(16, 3))
    near = normalize_2d(_project(body + [0, 0, 20.0], 800.0, 0.0)[None], (640, 480), 800.0, [0, 0])
    far = normalize_2d(_project(body + [0, 0, 40.0], 800.0, 0.0)[None], (640, 480), 800.0, [0, 0])
    assert np.allclose(near, far, atol=2e-2)  # weak perspective: nearly equal
    other = normalize_2d(_project(body[::-1] + [0, 0, 20.0], 800.0, 0.0)[None], (640, 480), 800.0, [0, 0])
    assert not np.allclose(near, other, atol=1e-1)


def test_output_is_root_centred_and_unit_rms():
    kp = np.random.default_rng(2).uniform(0, 600, size=(5, 16, 2))
    out = normalize_2d(kp, (640, 480))
    assert out.dtype == np.float32 and out.shape == (5, 16, 2)
    assert np.allclose(out[:, 0], 0.0)
    assert np.allclose(np.sqrt(np.mean(np.sum(out**2, -1), -1)), 1.0, atol=1e-5)


def test_default_intrinsics_from_field_of_view():
    focal, center = default_intrinsics((640, 480), hfov_deg=90.0)
    assert focal == pytest.approx(320.0)
    assert np.allclose(center, [320, 240])


@pytest.mark.parametrize("bad", [np.zeros((15, 2)), np.zeros((2, 16, 3)), "x", np.full((16, 2), np.nan)])
def test_bad_keypoints_get_a_clear_value_error(bad):
    with pytest.raises(ValueError):
        check_keypoints(bad)


def test_lost_limbs_sit_on_their_nearest_kept_ancestor_with_confidence_zero():
    from semgcn.codec import prepare_keypoints

    kp = np.arange(32, dtype=np.float64).reshape(16, 2)
    kp[11] = kp[12] = np.nan  # left elbow and wrist lost: both take the left shoulder (10)
    conf = np.full(16, 0.9)
    conf[15] = 0.05           # right wrist barely seen: lost only under a threshold
    out, out_conf = prepare_keypoints(kp, conf)
    assert out.shape == (16, 2) and out.dtype == np.float32 and np.all(np.isfinite(out))
    assert np.array_equal(out[11], kp[10]) and np.array_equal(out[12], kp[10])
    assert np.array_equal(np.delete(out, [11, 12], 0), np.delete(kp, [11, 12], 0))
    assert out_conf[11] == out_conf[12] == 0 and out_conf[15] == np.float32(0.05)
    out, out_conf = prepare_keypoints(kp, conf, lost_below=0.1)
    assert np.array_equal(out[15], kp[14]) and out_conf[15] == 0  # onto the right elbow


def test_a_lost_torso_joint_cannot_be_filled():
    from semgcn.codec import prepare_keypoints

    kp = np.zeros((16, 2))
    kp[13] = np.nan  # right shoulder
    with pytest.raises(ValueError, match="right_shoulder"):
        prepare_keypoints(kp, np.ones(16))
    with pytest.raises(ValueError, match="shape"):
        prepare_keypoints(np.zeros((16, 3)), np.ones(16))
    with pytest.raises(ValueError, match="one pose"):
        prepare_keypoints(np.zeros((16, 2)), np.ones(15))


def test_flip_augmentation_mirrors_and_averages_back():
    from semgcn.codec import flip_average, flip_inputs
    from semgcn.skeleton import FLIP_PAIRS

    x = normalize_2d(np.random.default_rng(0).uniform(100, 500, (4, 16, 2)), (640, 480))
    flipped = flip_inputs(x)
    np.testing.assert_allclose(flip_inputs(flipped), x)                     # an involution
    left, right = FLIP_PAIRS[0]
    np.testing.assert_allclose(flipped[:, left], x[:, right] * [-1, 1])     # mirrored and relabelled
    # A "model" that is exactly mirror-equivariant gives the same pose from both halves.
    lift = lambda inp: np.concatenate([inp, np.zeros(inp.shape[:2] + (1,))], -1)  # noqa: E731
    y = lift(np.concatenate([x, flipped]))
    np.testing.assert_allclose(flip_average(y), lift(x), atol=1e-6)
    # ...and the average of two different predictions is their mean after mirroring back.
    y[:4] += 0.01
    np.testing.assert_allclose(flip_average(y), lift(x) + 0.005, atol=1e-6)
