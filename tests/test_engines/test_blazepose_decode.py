"""Decoding of detector outputs, weighted NMS and letterbox removal."""
import numpy as np

from engines.blazepose.anchors import generate_anchors
from engines.blazepose.decode import (Detections, decode_detections, iou, remove_letterbox, sigmoid,
                                      weighted_nms)


def _raw_for(anchors, index, box, keypoints):
    """Raw regressors that decode to ``box`` (cx, cy, w, h) and ``keypoints`` at anchor ``index``."""
    ax, ay = anchors[index, :2]
    raw = np.zeros(12, np.float32)
    raw[0:2] = (box[0] - ax) * 224, (box[1] - ay) * 224
    raw[2:4] = box[2] * 224, box[3] * 224
    for k, (x, y) in enumerate(keypoints):
        raw[4 + 2 * k:6 + 2 * k] = (x - ax) * 224, (y - ay) * 224
    return raw


def test_decode_box_and_keypoints_relative_to_anchor():
    anchors = generate_anchors()
    raw = np.zeros((2254, 12), np.float32)
    logits = np.full(2254, -10.0, np.float32)
    kps = [(0.5, 0.6), (0.5, 0.3), (0.52, 0.4), (0.5, 0.2)]
    raw[700] = _raw_for(anchors, 700, (0.5, 0.45, 0.2, 0.5), kps)
    logits[700] = 2.0
    det = decode_detections(raw, logits[:, None], anchors, min_score=0.5)
    assert len(det) == 1
    np.testing.assert_allclose(det.boxes[0], [0.4, 0.2, 0.6, 0.7], atol=1e-5)
    np.testing.assert_allclose(det.keypoints[0], kps, atol=1e-5)
    np.testing.assert_allclose(det.scores[0], 1 / (1 + np.exp(-2.0)), rtol=1e-6)


def test_score_threshold_clipping_and_negative_boxes():
    anchors = generate_anchors()
    raw = np.zeros((2254, 12), np.float32)
    raw[:, 2:4] = 10.0
    logits = np.full(2254, -1.0, np.float32)
    logits[5] = 1e6     # clipped to 100 before the sigmoid: no overflow, score 1
    logits[6] = 0.0     # exactly 0.5: kept at min_score 0.5
    logits[7] = 3.0
    raw[7, 2] = -10.0   # negative width: dropped
    det = decode_detections(raw, logits, anchors, min_score=0.5)
    assert sorted(det.scores.tolist()) == [0.5, 1.0]
    assert np.isfinite(sigmoid(np.array([-1e9, 1e9]))).all()


def test_iou():
    box = np.array([0, 0, 2, 2], np.float32)
    others = np.array([[1, 1, 3, 3], [2, 2, 3, 3], [0, 0, 2, 2]], np.float32)
    np.testing.assert_allclose(iou(box, others), [1 / 7, 0.0, 1.0], atol=1e-6)


def test_weighted_nms_merges_overlaps_weighted_by_score():
    boxes = np.array([[0.0, 0.0, 1.0, 1.0],     # best
                      [0.1, 0.1, 1.1, 1.1],     # IoU ~0.68 with the best: merged
                      [3.0, 3.0, 4.0, 4.0]],    # separate person
                     np.float32)
    kps = np.array([[[0.5, 0.5]], [[0.7, 0.7]], [[3.5, 3.5]]], np.float32)
    scores = np.array([0.9, 0.6, 0.7], np.float32)
    out = weighted_nms(Detections(boxes, kps, scores), 0.3)
    assert len(out) == 2
    np.testing.assert_allclose(out.scores, [0.9, 0.7])  # best score kept, best first
    np.testing.assert_allclose(out.boxes[0], (0.9 * boxes[0] + 0.6 * boxes[1]) / 1.5, atol=1e-6)
    np.testing.assert_allclose(out.keypoints[0, 0], [(0.9 * 0.5 + 0.6 * 0.7) / 1.5] * 2, atol=1e-6)
    np.testing.assert_allclose(out.boxes[1], boxes[2])


def test_weighted_nms_keeps_low_overlap_and_handles_empty():
    boxes = np.array([[0, 0, 1, 1], [0.8, 0, 1.8, 1]], np.float32)  # IoU 0.2/1.8 = 0.11 < 0.3
    out = weighted_nms(Detections(boxes, np.zeros((2, 4, 2), np.float32), np.array([0.6, 0.8], np.float32)))
    assert len(out) == 2 and out.scores[0] == np.float32(0.8)
    empty = weighted_nms(Detections(np.zeros((0, 4), np.float32), np.zeros((0, 4, 2), np.float32),
                                    np.zeros(0, np.float32)))
    assert len(empty) == 0 and empty.keypoints.shape == (0, 4, 2)


def test_remove_letterbox():
    det = Detections(np.array([[0.0, 0.25, 1.0, 0.75]], np.float32),
                     np.array([[[0.5, 0.25], [0.25, 0.5]]], np.float32), np.array([0.9], np.float32))
    out = remove_letterbox(det, (0.0, 0.25, 0.0, 0.25))  # wide image: bands top and bottom
    np.testing.assert_allclose(out.boxes[0], [0, 0, 1, 1], atol=1e-6)
    np.testing.assert_allclose(out.keypoints[0], [[0.5, 0.0], [0.25, 0.5]], atol=1e-6)
