"""SSD anchors of MediaPipe's pose detector (SsdAnchorsCalculator semantics).

The options are those of the PoseDetectionCpu graph in mediapipe 0.10.14: 5 layers, strides
8/16/32/32/32 on a 224x224 input, one aspect ratio 1.0 plus the interpolated-scale anchor, fixed
anchor size. That gives 28*28*2 + 14*14*2 + 7*7*6 = 2254 anchors, the detector's 2254 outputs.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class AnchorOptions:
    """SsdAnchorsCalculatorOptions (only the fields the pose detector uses).

    Attributes:
        input_size: (width, height) of the detector input in pixels.
        strides: stride of each layer; consecutive layers with the same stride share one grid.
        min_scale, max_scale: anchor scales of the first and last layer.
        anchor_offset: offset of the anchor centre inside its grid cell (0.5 = the cell centre).
        aspect_ratios: aspect ratios of the anchors at each location.
        interpolated_scale_aspect_ratio: aspect ratio of the extra anchor at the interpolated scale.
        fixed_anchor_size: anchors of width and height 1 (the boxes are then decoded in units of
            the input size).
    """

    input_size: tuple[int, int] = (224, 224)
    strides: tuple[int, ...] = (8, 16, 32, 32, 32)
    min_scale: float = 0.1484375
    max_scale: float = 0.75
    anchor_offset: tuple[float, float] = (0.5, 0.5)
    aspect_ratios: tuple[float, ...] = (1.0,)
    interpolated_scale_aspect_ratio: float = 1.0
    fixed_anchor_size: bool = True


POSE_DETECTION_ANCHORS = AnchorOptions()


def _scale(min_scale: float, max_scale: float, index: int, count: int) -> float:
    if count == 1:
        return (min_scale + max_scale) * 0.5
    return min_scale + (max_scale - min_scale) * index / (count - 1.0)


def generate_anchors(options: AnchorOptions = POSE_DETECTION_ANCHORS) -> np.ndarray:
    """Anchors as an (N, 4) float32 array of (x_center, y_center, width, height), normalised.

    Args:
        options: the anchor specification (default: MediaPipe's pose detector).

    Order: layer groups, then rows (y), columns (x), then the anchors of one location, as in
    MediaPipe, so anchor i belongs to the detector's output row i.
    """
    strides, count = options.strides, len(options.strides)
    anchors: list[tuple[float, float, float, float]] = []
    layer = 0
    while layer < count:
        widths: list[float] = []
        heights: list[float] = []
        last = layer
        # Layers that share a stride share one grid; their anchors are interleaved per location.
        while last < count and strides[last] == strides[layer]:
            scale = _scale(options.min_scale, options.max_scale, last, count)
            for ratio in options.aspect_ratios:
                widths.append(scale * np.sqrt(ratio))
                heights.append(scale / np.sqrt(ratio))
            if options.interpolated_scale_aspect_ratio > 0:
                next_scale = 1.0 if last == count - 1 else _scale(
                    options.min_scale, options.max_scale, last + 1, count)
                interpolated = np.sqrt(scale * next_scale)
                ratio = options.interpolated_scale_aspect_ratio
                widths.append(interpolated * np.sqrt(ratio))
                heights.append(interpolated / np.sqrt(ratio))
            last += 1
        grid_w = int(np.ceil(options.input_size[0] / strides[layer]))
        grid_h = int(np.ceil(options.input_size[1] / strides[layer]))
        for y in range(grid_h):
            for x in range(grid_w):
                cx = (x + options.anchor_offset[0]) / grid_w
                cy = (y + options.anchor_offset[1]) / grid_h
                for w, h in zip(widths, heights):
                    anchors.append((cx, cy, 1.0, 1.0) if options.fixed_anchor_size else (cx, cy, w, h))
        layer = last
    return np.asarray(anchors, dtype=np.float32)
