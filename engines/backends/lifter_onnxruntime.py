"""Lifter backend on ONNX Runtime (CPU by default; CUDA when asked and available)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from engines.backends.ort_session import CPU, create_session

#: Tensor names of the lifter's ONNX graph (as semgcn.export writes them; also used by the TensorRT backend).
INPUT_NAME = "keypoints"
OUTPUT_NAME = "joints_3d"


class OnnxRuntimeLifterBackend:
    """Runs the lifter's ONNX graph with ``onnxruntime.InferenceSession``.

    Args:
        model_path: the ``.onnx`` file (input ``keypoints`` (B,16,2), output ``joints_3d`` (B,16,3)).
        providers: ONNX Runtime execution providers in order of preference, e.g.
            ``["CUDAExecutionProvider", "CPUExecutionProvider"]``; None for the CPU.
        threads: intra-op threads (None: ONNX Runtime's default, all cores).
    """

    name = "onnxruntime"

    def __init__(self, model_path, providers=None, threads: int | None = None):
        import onnxruntime as ort

        self.model_path = Path(model_path)
        try:
            self.session = create_session(self.model_path, list(providers or [CPU]), threads, "lifter")
        except Exception as exc:  # ORT raises its own types for corrupt / foreign files
            raise ValueError(f"{self.model_path} is not a readable ONNX model: {exc}") from exc
        self.providers = self.session.get_providers()
        names_in = [i.name for i in self.session.get_inputs()]
        names_out = [o.name for o in self.session.get_outputs()]
        if names_in != [INPUT_NAME] or OUTPUT_NAME not in names_out:
            raise ValueError(f"{self.model_path} is not a lifter model: inputs {names_in}, outputs {names_out} "
                             f"(expected '{INPUT_NAME}' -> '{OUTPUT_NAME}')")
        self.metadata = dict(self.session.get_modelmeta().custom_metadata_map)
        self.version = ort.__version__

    def run(self, x: np.ndarray) -> np.ndarray:
        """``(B, 16, 2)`` float32 normalised keypoints -> ``(B, 16, 3)`` float32 metres."""
        return self.session.run([OUTPUT_NAME], {INPUT_NAME: np.ascontiguousarray(x, dtype=np.float32)})[0]

    def describe(self) -> dict:
        return {"providers": list(self.providers), "onnxruntime": self.version, "metadata": self.metadata}
