"""ROI geometry: rotation, scale, letterbox, and a point's round trip through the crop."""
import math

import numpy as np

from engines.blazepose.landmarks import project_to_image
from engines.blazepose.roi import (Roi, apply_affine, crop, crop_to_image_matrix, image_to_crop_matrix,
                                   letterbox_roi, normalize_radians, roi_from_alignment)


def test_rotation_and_scale_from_alignment_points():
    # scale point straight above the centre (image y down): the body is upright, no rotation
    roi = roi_from_alignment(np.array([100.0, 200.0]), np.array([100.0, 120.0]))
    assert math.isclose(roi.rotation, 0.0, abs_tol=1e-9)
    assert (roi.cx, roi.cy) == (100.0, 200.0)
    assert math.isclose(roi.width, 2 * 80 * 1.25) and roi.width == roi.height
    # scale point to the right of the centre: the body lies on its side, rotate by +90 degrees
    roi = roi_from_alignment(np.array([0.0, 0.0]), np.array([50.0, 0.0]))
    assert math.isclose(roi.rotation, math.pi / 2, abs_tol=1e-9)
    # scale point below: upside down, +-180 degrees (normalised into [-pi, pi))
    roi = roi_from_alignment(np.array([0.0, 0.0]), np.array([0.0, 50.0]))
    assert math.isclose(abs(roi.rotation), math.pi, abs_tol=1e-9)
    assert math.isclose(normalize_radians(3 * math.pi / 2), -math.pi / 2)


def test_letterbox_roi_pads_the_short_side():
    roi, pad = letterbox_roi(1000, 500, (224, 224))
    assert (roi.cx, roi.cy, roi.width, roi.height) == (500, 250, 1000, 1000)
    assert pad == (0.0, 0.25, 0.0, 0.25)
    roi, pad = letterbox_roi(300, 600, (224, 224))
    assert (roi.width, roi.height) == (600, 600) and pad == (0.25, 0.0, 0.25, 0.0)


def test_point_round_trip_through_the_crop():
    roi = Roi(320.0, 240.0, 300.0, 300.0, math.radians(30))
    points = np.array([[320.0, 240.0], [400.0, 100.0], [10.0, 470.0]])
    to_crop, to_image = image_to_crop_matrix(roi, (256, 256)), crop_to_image_matrix(roi, (256, 256))
    np.testing.assert_allclose(apply_affine(to_image, apply_affine(to_crop, points)), points, atol=1e-9)
    # the ROI centre is the crop centre; the ROI corners are the crop corners
    np.testing.assert_allclose(apply_affine(to_crop, points[:1]), [[128, 128]], atol=1e-9)
    c, s = math.cos(roi.rotation), math.sin(roi.rotation)
    top_left = np.array([roi.cx, roi.cy]) + np.array([[c, -s], [s, c]]) @ np.array([-150, -150])
    np.testing.assert_allclose(apply_affine(to_crop, top_left[None]), [[0, 0]], atol=1e-9)


def test_landmark_projection_matches_the_crop_matrix():
    roi = Roi(200.0, 150.0, 180.0, 180.0, -0.7)
    norm = np.array([[0.1, 0.2, 0.05, 0.9, 0.8], [0.75, 0.5, -0.1, 0.1, 0.2]], np.float32)
    image = project_to_image(norm, roi)
    expected = apply_affine(crop_to_image_matrix(roi, (256, 256)), norm[:, :2] * 256)
    np.testing.assert_allclose(image[:, :2], expected, atol=1e-3)
    np.testing.assert_allclose(image[:, 2], norm[:, 2] * 180, rtol=1e-6)  # z scales like x
    np.testing.assert_allclose(image[:, 3:], norm[:, 3:])


def test_crop_puts_an_image_feature_where_the_matrix_says():
    image = np.zeros((480, 640, 3), np.uint8)
    image[95:106, 395:406] = 255                 # a bright square centred on (400, 100)
    roi = Roi(320.0, 240.0, 400.0, 400.0, math.radians(90))
    out = crop(image, roi, (256, 256), border_zero=True)
    ys, xs = np.nonzero(out[..., 0] > 128)
    expected = apply_affine(image_to_crop_matrix(roi, (256, 256)), np.array([[400.0, 100.0]]))[0]
    assert abs(xs.mean() - expected[0]) < 1.0 and abs(ys.mean() - expected[1]) < 1.0
    # rotated by 90 degrees: the point up-right of the centre lands up-left in the crop
    assert expected[0] < 128 and expected[1] < 128


def test_crop_border_modes():
    image = np.full((10, 10, 3), 200, np.uint8)
    roi = Roi(5.0, 5.0, 40.0, 40.0, 0.0)         # mostly outside the image
    assert crop(image, roi, (32, 32), border_zero=True)[0, 0, 0] == 0
    assert crop(image, roi, (32, 32), border_zero=False)[0, 0, 0] == 200


def test_float32_mediapipe_rects_agree_with_the_pixel_geometry():
    from engines.blazepose.norm_rect import pixel_roi, project_landmarks, rect_from_alignment

    size = (640, 360)
    centre, scale_point = np.array([0.4, 0.6], np.float32), np.array([0.45, 0.3], np.float32)
    rect = rect_from_alignment(centre, scale_point, size)
    expected = roi_from_alignment(centre * size, scale_point * size)
    got = rect.to_roi(*size)
    for a, b in zip((got.cx, got.cy, got.width, got.height, got.rotation),
                    (expected.cx, expected.cy, expected.width, expected.height, expected.rotation)):
        assert abs(a - b) < 1e-3
    roi, padding = pixel_roi(rect, size, (256, 256))
    assert max(padding) < 1e-6 and abs(roi.width - roi.height) < 1e-3   # square in pixels
    norm = np.array([[0.3, 0.7, 0.1, 0.5, 0.5]], np.float32)
    projected = project_landmarks(norm, rect, padding)
    pixels = project_to_image(norm, expected)
    np.testing.assert_allclose(projected[0, :2] * size, pixels[0, :2], atol=2e-3)
