"""Detector model runners on ONNX Runtime: the CPU (default) or CUDA where onnxruntime-gpu works."""
from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

CPU, CUDA = "CPUExecutionProvider", "CUDAExecutionProvider"


class OrtModel:
    """One ONNX model in an ``onnxruntime.InferenceSession``; called with the input array.

    Args:
        model_path: the .onnx file (one input).
        device: "cpu" or "cuda". For "cuda" without a usable CUDA provider it warns once and runs on
            the CPU.
        threads: intra-op threads (0: ONNX Runtime's default, all cores).
    """

    def __init__(self, model_path, device: str = "cpu", threads: int = 0):
        import onnxruntime as ort

        self.model_path = Path(model_path)
        if not self.model_path.is_file():
            raise FileNotFoundError(f"detector model not found: {self.model_path}")
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = int(threads)
            options.inter_op_num_threads = 1
        options.log_severity_level = 3  # our own warning below says what matters
        # Busy-waiting worker threads steal the CPU from the capture and lifter threads of the live
        # pipeline (and collapse on a shared machine); sleeping costs little at ~20 ms per run.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        wanted = [CUDA, CPU] if device == "cuda" else [CPU]
        available = ort.get_available_providers()
        self.session = ort.InferenceSession(str(self.model_path), sess_options=options,
                                            providers=[p for p in wanted if p in available] or [CPU])
        self.providers = self.session.get_providers()
        if device == "cuda" and CUDA not in self.providers:
            msg = (f"ONNX Runtime cannot use CUDA here (available providers: {available}); the "
                   f"detector runs on the CPU. For CUDA install onnxruntime-gpu matching your CUDA / "
                   f"cuDNN, or use backend='tensorrt'.")
            warnings.warn(msg, RuntimeWarning, stacklevel=3)
            log.warning(msg)
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
