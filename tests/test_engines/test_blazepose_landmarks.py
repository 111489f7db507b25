"""Landmark decoding: scaling, sigmoid, heatmap refinement, world landmarks."""
import math

import numpy as np

from engines.blazepose.landmarks import decode_landmarks, decode_world_landmarks, refine_from_heatmap
from engines.blazepose.roi import Roi


def test_decode_scales_and_activates():
    raw = np.zeros((39, 5), np.float32)
    raw[0] = [128, 64, -32, 0.0, 100.0]
    lm = decode_landmarks(raw.reshape(-1), None)
    np.testing.assert_allclose(lm[0], [0.5, 0.25, -0.125, 0.5, 1.0], atol=1e-6)


def test_heatmap_refinement_moves_to_the_weighted_peak():
    heatmap = np.full((64, 64, 39), -20.0, np.float32)
    heatmap[30, 40, 0] = 5.0                  # confident peak for landmark 0
    heatmap[10, 10, 1] = -1.0                 # below 0.5 after the sigmoid: no refinement
    lm = np.zeros((39, 5), np.float32)
    lm[0, :2] = [41.5 / 64, 31.2 / 64]        # within the 9x9 window of the peak
    lm[1, :2] = [10.2 / 64, 10.2 / 64]
    lm[2, :2] = [-0.5, 0.5]                   # outside the crop: untouched
    before = lm.copy()
    refine_from_heatmap(lm, heatmap)
    np.testing.assert_allclose(lm[0, :2], [40 / 64, 30 / 64], atol=1e-4)
    np.testing.assert_array_equal(lm[1:], before[1:])


def test_world_landmarks_are_rotated_back():
    raw = np.zeros((39, 3), np.float32)
    raw[0] = [1.0, 0.0, 0.3]
    world = decode_world_landmarks(raw.reshape(-1), Roi(0, 0, 1, 1, math.pi / 2))
    assert world.shape == (33, 3)
    np.testing.assert_allclose(world[0], [0.0, 1.0, 0.3], atol=1e-6)
