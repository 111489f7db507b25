"""Figures of a training run: the curves of Fig. 4 and the learned SemGConv weights of Fig. 7 / 8.

Matplotlib with the non-interactive Agg backend (no display needed).
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from semgcn.models import semgconv_layers  # noqa: E402
from semgcn.skeleton import JOINT_NAMES  # noqa: E402


def plot_curves(histories: dict[str, list[dict]], path: str | Path, val_key: str = "exact",
                title: str = "") -> Path:
    """Training loss (left) and validation P1 (right) per epoch for one or more runs (Fig. 4).

    Args:
        histories: run label -> history (``semgcn.train_loop`` records).
        path: PNG file to write.
        val_key: the validation set plotted on the right.
        title: figure title.
    """
    fig, (ax_loss, ax_err) = plt.subplots(1, 2, figsize=(11, 4.2 + 0.22 * ((len(histories) + 2) // 3)))
    styles = ("-", "--", ":", "-.")
    for k, (label, hist) in enumerate(histories.items()):
        epochs = [h["epoch"] for h in hist]
        style = dict(label=label, linestyle=styles[(k // 10) % len(styles)], marker="o", markersize=3)
        ax_loss.plot(epochs, [h["train_loss"] for h in hist], **style)
        ax_err.plot(epochs, [h["val"][val_key]["mpjpe_mm"] for h in hist], **style)
    ax_loss.set(xlabel="epoch", ylabel="training loss (Eq. 7, m²)", yscale="log", title="training loss")
    # Log scale: a diverging early epoch of one run must not flatten every other curve.
    ax_err.set(xlabel="epoch", ylabel="MPJPE (mm, log scale)", yscale="log", title=f"held-out error ({val_key} 2D)")
    for ax in (ax_loss, ax_err):
        ax.grid(alpha=0.3, which="both")
    if len(histories) > 1:  # one legend under both panels: inside, it hides the curves
        handles, labels = ax_loss.get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=8, frameon=False)
    if title:
        fig.suptitle(title)
    rows = (len(histories) + 2) // 3 if len(histories) > 1 else 0
    fig.tight_layout(rect=(0, min(0.4, 0.065 * rows), 1, 1))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_semgconv_weights(model: torch.nn.Module, path: str | Path, title: str = "") -> Path | None:
    """One heat map per SemGConv layer of ``softmax(M ⊙ A)`` (row i: what node i takes from each
    neighbour j), like Fig. 7 / 8 of the paper. Channel-wise layers (Eq. 3) show the channel mean.

    Returns:
        the PNG path, or None when the model has no SemGConv layer.
    """
    layers = semgconv_layers(model)
    if not layers:
        return None
    cols = min(5, len(layers))
    rows = int(np.ceil(len(layers) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols + 1.0, 2.7 * rows + 0.5), squeeze=False,
                             layout="constrained")
    short = [n.replace("right_", "R").replace("left_", "L")[:8] for n in JOINT_NAMES]
    with torch.no_grad():
        for ax, (name, layer) in zip(axes.flat, layers):
            w = layer.adjacency_weights().cpu().numpy()
            if w.ndim == 3:
                w = w.mean(axis=0)
            im = ax.imshow(np.ma.masked_equal(w, 0.0), vmin=0.0, vmax=1.0, cmap="viridis")
            ax.set_title(name, fontsize=7)
            ax.set_xticks(range(len(short)), short, rotation=90, fontsize=5)
            ax.set_yticks(range(len(short)), short, fontsize=5)
    for ax in list(axes.flat)[len(layers):]:
        ax.axis("off")
    fig.colorbar(im, ax=axes.ravel().tolist(), shrink=0.8, label="softmax(M ⊙ A)")
    fig.suptitle(title or "learned SemGConv edge weights (row: receiving joint)")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
