"""Progress of a batch run: one tqdm bar for all inputs, and one per input being processed.

The per-input bar counts frames through pass 1 (the slow part: detection) and closes when the input's
outputs are written; the overall bar counts inputs and shows the frame rate of the whole run. Locally
the chunks report straight to it; on Ray they send their counts to a small actor
(``realtime.batch.ray_runner.ProgressBoard``) that the driver reads a few times a second.
"""
from __future__ import annotations

import time

from tqdm import tqdm


class Progress:
    """The bars of one run (``enabled=False``: no output at all, e.g. in tests or when piped)."""

    def __init__(self, inputs: int, enabled: bool = True):
        self.enabled = enabled
        self._overall = tqdm(total=inputs, desc="inputs", unit="input", position=0, disable=not enabled,
                             dynamic_ncols=True)
        self._bars: dict[str, tqdm] = {}
        self._frames = 0
        self._started = time.perf_counter()

    def start(self, name: str, frames: int | None) -> None:
        """An input's bar; ``frames``: how many pass 1 will read (None: unknown)."""
        if name not in self._bars:
            self._bars[name] = tqdm(total=frames or None, desc=name[:40], unit="frame", leave=False,
                                    disable=not self.enabled, dynamic_ncols=True)

    def advance(self, name: str, frames: int) -> None:
        """``frames`` more frames of ``name`` went through pass 1."""
        self._frames += frames
        bar = self._bars.get(name)
        if bar is not None:
            bar.update(frames)

    def end(self, name: str, status: str) -> None:
        """``name`` is finished (done, skipped or failed)."""
        bar = self._bars.pop(name, None)
        if bar is not None:
            bar.close()
        elapsed = max(time.perf_counter() - self._started, 1e-9)
        self._overall.set_postfix_str(f"{self._frames / elapsed:.1f} frames/s, last {name[:30]}: {status}")
        self._overall.update(1)

    def close(self) -> None:
        for bar in self._bars.values():
            bar.close()
        self._bars.clear()
        self._overall.close()
