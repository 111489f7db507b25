"""Checkpoint files: one dict that rebuilds the model without knowing its class.

Format (``torch.save``)::

    {"format": "semgcn-checkpoint/1", "model": name, "config": {...},
     "state_dict": {...}, "meta": {...}}

``meta`` is free-form (epoch, optimiser state, metrics, data description) and is owned by the
training code.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from semgcn.models import build_model

FORMAT = "semgcn-checkpoint/1"


def save_checkpoint(path, model: nn.Module, meta: dict | None = None, name: str | None = None,
                    config: dict | None = None) -> Path:
    """Write ``model`` to ``path`` (parent folders are created).

    Args:
        path: destination file.
        model: a model from ``semgcn.models.build_model`` (its ``model_name`` / ``model_config``
            are used unless ``name`` / ``config`` are given).
        meta: extra information stored as is (must be picklable by ``torch.save``).
        name: model name, overriding ``model.model_name``.
        config: model config, overriding ``model.model_config``.
    Returns:
        The path written.
    """
    name = name or getattr(model, "model_name", None)
    config = dict(config if config is not None else getattr(model, "model_config", {}))
    if name is None:
        raise ValueError("model has no model_name: build it with semgcn.models.build_model or pass name=")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    torch.save({"format": FORMAT, "model": name, "config": config, "state_dict": state,
                "meta": dict(meta or {})}, path)
    return path


def load_checkpoint(path, map_location="cpu", strict: bool = True) -> tuple[nn.Module, dict]:
    """Rebuild a model from a checkpoint written by :func:`save_checkpoint`.

    Args:
        path: checkpoint file.
        map_location: device for the tensors (``torch.load``'s argument).
        strict: require the state dict to match the model exactly.
    Returns:
        ``(model in eval mode, checkpoint dict)``.
    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the file is not a checkpoint of this format.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises several types for corrupt / foreign files
        raise ValueError(f"{path} is not a readable PyTorch checkpoint: {exc}") from exc
    if not isinstance(ckpt, dict) or not {"model", "config", "state_dict"} <= set(ckpt):
        raise ValueError(f"{path} is not a SemGCN checkpoint (needs keys model, config, state_dict)")
    model = build_model(ckpt["model"], **ckpt["config"])
    model.load_state_dict(ckpt["state_dict"], strict=strict)
    model.eval()
    return model, ckpt
