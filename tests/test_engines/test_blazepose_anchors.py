"""SSD anchors of the pose detector: count, grid layout, order."""
import numpy as np

from engines.blazepose.anchors import AnchorOptions, generate_anchors


def test_pose_detector_has_2254_fixed_size_anchors():
    anchors = generate_anchors()
    assert anchors.shape == (2254, 4) and anchors.dtype == np.float32
    assert np.all(anchors[:, 2:] == 1.0)  # fixed_anchor_size
    assert np.all((anchors[:, :2] > 0) & (anchors[:, :2] < 1))


def test_anchor_grid_layout_and_order():
    anchors = generate_anchors()
    # stride 8 on 224 -> 28x28 cells, 2 anchors per cell (aspect 1.0 + interpolated scale)
    np.testing.assert_allclose(anchors[0, :2], [0.5 / 28, 0.5 / 28], atol=1e-7)
    np.testing.assert_allclose(anchors[1, :2], anchors[0, :2])
    np.testing.assert_allclose(anchors[2, :2], [1.5 / 28, 0.5 / 28], atol=1e-7)  # x runs fastest
    np.testing.assert_allclose(anchors[2 * 28, :2], [0.5 / 28, 1.5 / 28], atol=1e-7)
    # stride 16 -> 14x14 cells, 2 anchors each, starting after 28*28*2
    np.testing.assert_allclose(anchors[1568, :2], [0.5 / 14, 0.5 / 14], atol=1e-7)
    # the three stride-32 layers share one 7x7 grid with 6 anchors per cell
    start = 1568 + 392
    assert np.allclose(anchors[start:start + 6, :2], [0.5 / 7, 0.5 / 7])
    np.testing.assert_allclose(anchors[-1, :2], [6.5 / 7, 6.5 / 7], atol=1e-7)


def test_anchor_sizes_when_not_fixed():
    opts = AnchorOptions(input_size=(64, 64), strides=(32, 64), min_scale=0.2, max_scale=0.8,
                         fixed_anchor_size=False)
    anchors = generate_anchors(opts)
    assert anchors.shape == (2 * 2 * 2 + 1 * 1 * 2, 4)
    np.testing.assert_allclose(anchors[0, 2:], [0.2, 0.2], atol=1e-6)            # min scale
    np.testing.assert_allclose(anchors[1, 2:], [np.sqrt(0.2 * 0.8)] * 2, atol=1e-6)  # interpolated
    np.testing.assert_allclose(anchors[-2, 2:], [0.8, 0.8], atol=1e-6)           # max scale
    np.testing.assert_allclose(anchors[-1, 2:], [np.sqrt(0.8)] * 2, atol=1e-6)     # last: towards 1.0
