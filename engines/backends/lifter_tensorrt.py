"""Lifter backend on TensorRT (FP16 engine built from the lifter's ONNX file and cached).

Not run on the development machines (no GPU): see ``engines/trt_engine.py``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from engines.backends.lifter_onnxruntime import INPUT_NAME, OUTPUT_NAME
from engines.trt_engine import TrtEngine
from semgcn.skeleton import NUM_JOINTS
#: Batch range of the optimisation profile; larger batches are split into chunks of ``MAX_BATCH``.
MIN_BATCH, OPT_BATCH, MAX_BATCH = 1, 1, 256


def lifter_profile(max_batch: int = MAX_BATCH, opt_batch: int = OPT_BATCH) -> dict:
    """Optimisation profile of the lifter input: batch 1..max_batch, 16 joints, 2 coordinates."""
    return {INPUT_NAME: tuple((b, NUM_JOINTS, 2) for b in (MIN_BATCH, opt_batch, max_batch))}


class TensorRTLifterBackend:
    """Runs the lifter ONNX graph as a TensorRT FP16 engine.

    Args:
        model_path: the ``.onnx`` file.
        cache_dir: folder for built plans (see ``TrtEngine``).
        max_batch: largest batch of one engine call; bigger inputs are chunked.
        fp16: allow FP16 kernels.
    """

    name = "tensorrt"

    def __init__(self, model_path, cache_dir=None, max_batch: int = MAX_BATCH, fp16: bool = True):
        self.model_path = Path(model_path)
        self.max_batch = int(max_batch)
        self.engine = TrtEngine(self.model_path, fp16=fp16, cache_dir=cache_dir,
                                input_shapes=lifter_profile(self.max_batch))

    def run(self, x: np.ndarray) -> np.ndarray:
        """``(B, 16, 2)`` float32 normalised keypoints -> ``(B, 16, 3)`` float32 metres."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        chunks = [self.engine(**{INPUT_NAME: x[i : i + self.max_batch]})[OUTPUT_NAME]
                  for i in range(0, len(x), self.max_batch)]
        return np.concatenate(chunks).astype(np.float32, copy=False)

    def describe(self) -> dict:
        return self.engine.describe()
