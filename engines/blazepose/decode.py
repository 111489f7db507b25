"""Decoding of the pose detector's raw outputs: boxes, keypoints, scores, weighted NMS, letterbox.

Semantics of MediaPipe's TensorsToDetectionsCalculator, NonMaxSuppressionCalculator (WEIGHTED,
IoU) and DetectionLetterboxRemovalCalculator with the PoseDetectionCpu options of mediapipe 0.10.14.
Coordinates are normalised to the detector input ([0, 1] across the 224x224 letterboxed tensor)
until :func:`remove_letterbox` maps them to the original image.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class DecodeOptions:
    """TensorsToDetectionsCalculatorOptions of the pose detector.

    Attributes:
        num_keypoints: keypoints per detection (0 mid-hip, 1 full-body scale/rotation point,
            2 mid-shoulder, 3 upper-body scale/rotation point).
        scale: (x, y, w, h) scales that divide the raw values (the input size, 224).
        score_clipping: raw scores are clipped to +-this before the sigmoid.
        min_suppression_iou: IoU above which the weighted NMS merges two detections.
    """

    num_keypoints: int = 4
    scale: tuple[float, float, float, float] = (224.0, 224.0, 224.0, 224.0)
    score_clipping: float = 100.0
    min_suppression_iou: float = 0.3


@dataclass
class Detections:
    """Detections, all normalised.

    Attributes:
        boxes: (M, 4) float32 (xmin, ymin, xmax, ymax).
        keypoints: (M, K, 2) float32 (x, y).
        scores: (M,) float32 in [0, 1].
    """

    boxes: np.ndarray
    keypoints: np.ndarray
    scores: np.ndarray

    def __len__(self) -> int:
        return int(self.scores.shape[0])

    def take(self, index) -> "Detections":
        """The detections selected by ``index`` (an index array or a boolean mask)."""
        return Detections(self.boxes[index], self.keypoints[index], self.scores[index])


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function, float32."""
    x = np.clip(np.asarray(x, dtype=np.float32), -80.0, 80.0)  # exp overflow beyond, sigmoid is 0 / 1
    return (1.0 / (1.0 + np.exp(-x))).astype(np.float32)


def decode_detections(raw_boxes: np.ndarray, raw_scores: np.ndarray, anchors: np.ndarray,
                      min_score: float, options: DecodeOptions = DecodeOptions()) -> Detections:
    """Decode raw detector outputs into detections whose score is at least ``min_score``.

    Args:
        raw_boxes: (N, 4 + 2K) regressors: x, y, w, h of the box then (x, y) per keypoint, in input
            pixels relative to the anchor (MediaPipe's ``reverse_output_order``: x before y).
        raw_scores: (N,) or (N, 1) logits.
        anchors: (N, 4) anchors (x_center, y_center, width, height) from :mod:`anchors`.
        min_score: score threshold after the sigmoid (``min_detection_confidence``).
        options: decoding constants.
    """
    raw_boxes = np.asarray(raw_boxes, dtype=np.float32).reshape(anchors.shape[0], -1)
    logits = np.clip(np.asarray(raw_scores, np.float32).reshape(-1), -options.score_clipping,
                     options.score_clipping)
    scores = sigmoid(logits)
    keep = scores >= min_score
    raw, anc = raw_boxes[keep], anchors[keep]
    sx, sy, sw, sh = options.scale
    ax, ay, aw, ah = anc[:, 0:1], anc[:, 1:2], anc[:, 2:3], anc[:, 3:4]
    cx = raw[:, 0:1] / sx * aw + ax
    cy = raw[:, 1:2] / sy * ah + ay
    w = raw[:, 2:3] / sw * aw
    h = raw[:, 3:4] / sh * ah
    boxes = np.concatenate([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    kp = raw[:, 4:4 + 2 * options.num_keypoints].reshape(-1, options.num_keypoints, 2)
    kx = kp[..., 0] / sx * aw + ax
    ky = kp[..., 1] / sy * ah + ay
    detections = Detections(boxes.astype(np.float32), np.stack([kx, ky], -1).astype(np.float32),
                            scores[keep])
    # A box of negative size is a bad regression; MediaPipe drops those too.
    valid = (w[:, 0] >= 0) & (h[:, 0] >= 0)
    return detections.take(valid)


def iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Intersection over union of one (4,) box with (M, 4) boxes, (xmin, ymin, xmax, ymax)."""
    ix = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    iy = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    inter = ix * iy
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    union = area + areas - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def weighted_nms(detections: Detections,
                 min_suppression_iou: float = DecodeOptions.min_suppression_iou) -> Detections:
    """Weighted non-maximum suppression (MediaPipe's WEIGHTED algorithm).

    The best remaining detection absorbs every remaining detection that overlaps it by more than
    ``min_suppression_iou`` (itself included); its box and keypoints become the score-weighted
    mean of that cluster, its score stays the best one's. Repeats until none remain.

    Args:
        detections: decoded detections.
        min_suppression_iou: IoU above which two detections are one.
    """
    order = np.argsort(-detections.scores, kind="stable")
    boxes, kps, scores = detections.boxes, detections.keypoints, detections.scores
    out_boxes, out_kps, out_scores = [], [], []
    while order.size:
        best = order[0]
        cluster_mask = iou(boxes[best], boxes[order]) > min_suppression_iou
        cluster = order[cluster_mask]
        weights = scores[cluster][:, None]
        total = float(weights.sum())
        if cluster.size and total > 0:
            out_boxes.append((boxes[cluster] * weights).sum(0) / total)
            out_kps.append((kps[cluster] * weights[:, :, None]).sum(0) / total)
        else:
            out_boxes.append(boxes[best])
            out_kps.append(kps[best])
        out_scores.append(scores[best])
        remaining = order[~cluster_mask]
        if remaining.size == order.size:  # nothing absorbed (degenerate box): stop like MediaPipe
            break
        order = remaining
    k = kps.shape[1] if kps.ndim == 3 else 0
    if not out_scores:
        return Detections(np.zeros((0, 4), np.float32), np.zeros((0, k, 2), np.float32),
                          np.zeros((0,), np.float32))
    return Detections(np.asarray(out_boxes, np.float32), np.asarray(out_kps, np.float32),
                      np.asarray(out_scores, np.float32))


def remove_letterbox(detections: Detections, padding: tuple[float, float, float, float]) -> Detections:
    """Map detections from the letterboxed input to the original image (both normalised).

    float32 arithmetic in MediaPipe's order: ``(x - left) / (1 - (left + right))``.

    Args:
        detections: detections normalised to the letterboxed detector input.
        padding: (left, top, right, bottom) letterbox padding as fractions of the input.
    """
    left, top, right, bottom = (np.float32(p) for p in padding)
    offset = np.array([left, top], np.float32)
    scale = np.array([np.float32(1) - (left + right), np.float32(1) - (top + bottom)], np.float32)
    boxes = ((detections.boxes.reshape(-1, 2, 2) - offset) / scale).reshape(-1, 4)
    keypoints = (detections.keypoints - offset) / scale
    return Detections(boxes.astype(np.float32), keypoints.astype(np.float32), detections.scores)
