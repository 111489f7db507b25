"""Detector model runners on TensorRT: FP16 engines built from the same ONNX files, plans cached.

Uses the project's generic :class:`engines.trt_engine.TrtEngine` (TensorRT 10 + cuda-python), which
is imported only here, lazily, so machines without a GPU never need TensorRT. Both BlazePose models
have static input shapes (1, 224, 224, 3) and (1, 256, 256, 3), so each plan has one fixed profile.
Not run on the development machines (no GPU there).
"""
from __future__ import annotations

import numpy as np


class TrtModel:
    """One ONNX model as a TensorRT engine; called with the input array like the ORT runner.

    Args:
        model_path: the .onnx file (one input).
        fp16: allow FP16 kernels.
        cache_dir: folder of cached plans (None: TrtEngine's default, ``.trt_cache`` or
            ``$SEMGCN_TRT_CACHE``).
    Raises:
        engines.trt_engine.TensorRTUnavailable: TensorRT or cuda-python missing (the message says
            what to install).
    """

    def __init__(self, model_path, fp16: bool = True, cache_dir=None):
        from engines.trt_engine import TrtEngine

        self.engine = TrtEngine(model_path, fp16=fp16, cache_dir=cache_dir)
        self.input_name = self.engine.input_names[0]

    def __call__(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Run on one NHWC float32 batch; returns outputs by name."""
        return self.engine(**{self.input_name: x})

    def describe(self) -> dict:
        """GPU, TensorRT version, plan path."""
        return self.engine.describe()


def make_models(detector_path, landmark_path, fp16: bool = True, cache_dir=None):
    """(detector runner, landmark runner) on TensorRT; arguments as in :class:`TrtModel`."""
    return TrtModel(detector_path, fp16, cache_dir), TrtModel(landmark_path, fp16, cache_dir)
