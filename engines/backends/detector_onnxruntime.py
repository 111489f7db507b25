"""Detector model runners on ONNX Runtime: the CPU (default) or CUDA where onnxruntime-gpu works."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from engines.backends.ort_session import CPU, CUDA, create_session


class OrtModel:
    """One ONNX model in an ``onnxruntime.InferenceSession``; called with the input array.

    Args:
        model_path: the .onnx file (one input).
        device: "cpu" or "cuda". For "cuda" without a usable CUDA provider it warns once and runs on
            the CPU.
        threads: intra-op threads (0: ONNX Runtime's default, all cores).
    """

    def __init__(self, model_path, device: str = "cpu", threads: int = 0):
        self.model_path = Path(model_path)
        if not self.model_path.is_file():
            raise FileNotFoundError(f"detector model not found: {self.model_path}")
        # Busy-waiting worker threads steal the CPU from the capture and lifter threads of the live
        # pipeline (and collapse on a shared machine); sleeping costs little at ~20 ms per run.
        self.session = create_session(self.model_path, [CUDA, CPU] if device == "cuda" else [CPU], threads,
                                      "detector", hint=", or use backend='tensorrt'", spinning=False)
        self.providers = self.session.get_providers()
        self.input_name = self.session.get_inputs()[0].name
        self.output_names = [o.name for o in self.session.get_outputs()]

    def __call__(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Run on one NHWC float32 batch; returns outputs by name."""
        values = self.session.run(None, {self.input_name: x})
        return dict(zip(self.output_names, values))

    def describe(self) -> dict:
        """Model file and the providers in use."""
        return {"model": str(self.model_path), "providers": list(self.providers)}


def make_models(detector_path, landmark_path, device: str = "cpu", threads: int = 0):
    """(detector runner, landmark runner) on ONNX Runtime; arguments as in :class:`OrtModel`."""
    return OrtModel(detector_path, device, threads), OrtModel(landmark_path, device, threads)
