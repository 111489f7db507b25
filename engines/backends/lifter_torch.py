"""Lifter backend on PyTorch eager (loads a ``semgcn`` checkpoint; imports torch lazily)."""
from __future__ import annotations

from pathlib import Path

import numpy as np


class TorchLifterBackend:
    """Runs a SemGCN checkpoint (``.pt`` from ``semgcn.checkpoint.save_checkpoint``) in PyTorch.

    The SemGConv adjacency weights and the batch norms are folded once (as in the ONNX export), so
    a call runs the same graph as the exported model.

    Args:
        model_path: the ``.pt`` checkpoint.
        device: torch device ("cpu", "cuda", ...); None for CUDA when available, else CPU.
        threads: torch intra-op threads (None: leave torch's setting).
    """

    name = "torch"

    def __init__(self, model_path, device: str | None = None, threads: int | None = None):
        import torch

        from semgcn.export import fold_batchnorm
        from semgcn.layers import SemGraphConv
        from semgcn.models import load_checkpoint

        self._torch = torch
        self.model_path = Path(model_path)
        if threads:
            torch.set_num_threads(int(threads))
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
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
