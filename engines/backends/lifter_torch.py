"""Lifter backend on PyTorch eager (loads a ``semgcn`` checkpoint; imports torch lazily)."""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


class TorchLifterBackend:
    """Runs a SemGCN checkpoint (``.pt`` from ``semgcn.checkpoint.save_checkpoint``) in PyTorch.

    The SemGConv adjacency weights and the batch norms are folded once (as in the ONNX export), so
    a call runs the same graph as the exported model.

    Args:
        model_path: the ``.pt`` checkpoint.
        device: "cpu" or "cuda"; "cuda" falls back to the CPU with a warning when CUDA is not available.
        threads: torch intra-op threads (None: leave torch's setting).
    """

    name = "torch"

    def __init__(self, model_path, device: str = "cpu", threads: int | None = None):
        import torch

        from semgcn.export import fold_batchnorm
        from semgcn.layers import SemGraphConv
        from semgcn.checkpoint import load_checkpoint

        self._torch = torch
        self.model_path = Path(model_path)
        if threads:
            torch.set_num_threads(int(threads))
        if device == "cuda" and not torch.cuda.is_available():
            log.warning("torch has no CUDA device here (build %s); the lifter runs on the CPU", torch.__version__)
            device = "cpu"
        self.device = torch.device(device)
        model, ckpt = load_checkpoint(self.model_path, map_location=self.device)
        model = fold_batchnorm(model)
        for layer in model.modules():
            if isinstance(layer, SemGraphConv):
                layer.freeze_adjacency(True)
        self.model = model.to(self.device).eval()
        self.metadata = {"semgcn.model": ckpt["model"], "semgcn.config": str(ckpt["config"])}

    def run(self, x: np.ndarray) -> np.ndarray:
        """``(B, 16, 2)`` float32 normalised keypoints -> ``(B, 16, 3)`` float32 metres."""
        torch = self._torch
        with torch.inference_mode():
            t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).to(self.device)
            return self.model(t).float().cpu().numpy()

    def describe(self) -> dict:
        return {"device": str(self.device), "torch": self._torch.__version__, "metadata": self.metadata}
