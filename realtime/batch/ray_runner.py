"""The batch on Ray: one task per input, or per chunk of a long video plus one that stitches them.

    run_on_ray(planned, settings, progress, "local", workers=2, retries=3)    # a Ray started for the run
    run_on_ray(planned, settings, progress, "10.0.0.5:6379")                  # a running cluster

* **Tasks**: an input of one chunk is one task (``_input_task``: pass 1 and pass 2 in the same worker,
  nothing crosses the object store); a longer one is a task per chunk (``_chunk_task``) and a task that
  stitches them and writes the outputs (``_finish_task``), which Ray starts when all its chunks are
  done, handing it their results. They are the same functions ``run_local`` calls, on the same chunks.
* **Models once per worker**: a Ray worker process runs task after task; ``realtime.batch.engines``
  keeps the loaded detector and lifter in the process, so each worker loads them on its first task.
* **Retries**: a worker that dies (killed, out of memory, its machine lost) fails its task with a
  system error, which Ray retries up to ``retries`` times on another worker (``max_retries``); a bad
  input is no exception (the task returns its one-line outcome), so it is not retried. A task that
  still fails gives its input a failed line; the other inputs go on.
* **Progress**: tasks send frame counts to a ``ProgressBoard`` actor (no CPU of its own), which the
  driver reads a few times a second into the tqdm bars.
* **A local Ray** (``"local"``) listens on 127.0.0.1 only, with no dashboard, and is shut down at the
  end of the run, whatever ends it.
* **The code**: workers import ``realtime.batch`` like the driver. On a cluster either every node has
  this project at hand (a shared checkout, an installed package), or ``ship_code`` sends this checkout
  (without ``.git``, ``runs/``, virtual environments and figures) as Ray's ``working_dir``.
"""
from __future__ import annotations

import logging
import os
import signal
import threading
from pathlib import Path

from realtime.app.build import SetupError, one_line
from realtime.batch.chunk import ChunkResult, run_chunk
from realtime.batch.finish import finish
from realtime.batch.jobs import Outcome
from realtime.batch.progress import Progress
from realtime.batch.settings import OfflineSettings

log = logging.getLogger(__name__)
REPO = Path(__file__).resolve().parents[2]
SHIPPED_EXCLUDES = [".git", "runs", ".venv", "venv", ".trt_cache", "docs/figures", "__pycache__", "*.mcap", "*.mkv"]
INSTALL_HINT = "pip install -r requirements-ray.txt"
POLL_S = 0.3


class ProgressBoard:
    """Frame counts per input, added by the tasks and taken by the driver (a Ray actor)."""

    def __init__(self):
        self.counts: dict[str, int] = {}

    def add(self, name: str, frames: int) -> None:
        self.counts[name] = self.counts.get(name, 0) + frames

    def take(self) -> dict[str, int]:
        counts, self.counts = self.counts, {}
        return counts


def _reporter(board, name: str):
    return None if board is None else (lambda frames: board.add.remote(name, frames))


def _input_task(item, settings: OfflineSettings, board, run_info: dict | None) -> Outcome:
    results = [run_chunk(item.info, chunk, settings, _reporter(board, item.job.name)) for chunk in item.chunks]
    return finish(item.job, item.info, settings, results, run_info)


def _chunk_task(info, chunk, settings: OfflineSettings, board, name: str) -> ChunkResult:
    return run_chunk(info, chunk, settings, _reporter(board, name))


def _finish_task(job, info, settings: OfflineSettings, run_info: dict | None, *chunks: ChunkResult) -> Outcome:
    return finish(job, info, settings, list(chunks), run_info)


def connect(address: str, workers: int | None, ship_code: bool = False):
    """The ``ray`` module, connected (``"local"``: a new Ray on this machine); and whether we started it."""
    if address == "local":
        # Ray's own switch for a single-machine Ray: every server on 127.0.0.1. Read when ray is imported.
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    try:
        import ray
    except ImportError:
        raise SetupError(f"--ray needs the ray package: {INSTALL_HINT}") from None
    if ray.is_initialized():
        return ray, False
    runtime_env = {"working_dir": str(REPO), "excludes": SHIPPED_EXCLUDES} if ship_code else None
    try:
        if address == "local":
            ray.init(num_cpus=workers or os.cpu_count(), include_dashboard=False, logging_level=logging.ERROR,
                     runtime_env=runtime_env)
        else:
            ray.init(address=address, logging_level=logging.ERROR, runtime_env=runtime_env)
    except Exception as exc:  # noqa: BLE001 - unreachable cluster, version mismatch: one line, exit 2
        raise SetupError(f"cannot start or join Ray at {address!r}: {one_line(exc)}") from None
    return ray, True


def run_on_ray(planned: list, settings: OfflineSettings, progress: Progress, address: str, workers: int | None = None,
               retries: int = 3, run_info: dict | None = None, ship_code: bool = False) -> list[Outcome]:
    """Every planned input as Ray tasks (module docstring); the outcomes in the order of ``planned``."""
    ray, started = connect(address, workers, ship_code)
    _stop_on_sigterm()  # ray.init put its own handler in place, which exits without cancelling or shutting down
    pending: list = []
    try:
        board = ray.remote(num_cpus=0)(ProgressBoard).remote()
        refs = _submit(ray, planned, settings, board, retries, run_info)
        pending = list(refs)
        outcomes: dict = {}
        shown: set[str] = set()
        while pending:
            done, pending = ray.wait(pending, num_returns=len(pending), timeout=POLL_S)
            _show(ray.get(board.take.remote()), planned, progress, shown)
            for ref in done:
                item = refs[ref]
                outcomes[item.job.input] = _outcome(ray, ref, item)
                progress.end(item.job.name, outcomes[item.job.input].status)
        return [outcomes[item.job.input] for item in planned]
    except BaseException:
        for ref in pending:  # Ctrl-C, SIGTERM: leave nothing running on a shared cluster
            ray.cancel(ref, recursive=True)
        raise
    finally:
        if started:
            ray.shutdown()


def _stop_on_sigterm() -> None:
    """SIGTERM as Ctrl-C from here on, so that the ``finally`` below cancels the tasks and stops a local Ray."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, interrupt)


def _submit(ray, planned: list, settings: OfflineSettings, board, retries: int, run_info: dict | None) -> dict:
    options = {"max_retries": retries, "retry_exceptions": False, "num_cpus": 1}
    whole = ray.remote(_input_task).options(**options)
    per_chunk = ray.remote(_chunk_task).options(**options)
    stitcher = ray.remote(_finish_task).options(**options)
    refs = {}
    for item in planned:
        if len(item.chunks) == 1:
            refs[whole.remote(item, settings, board, run_info)] = item
        else:
            parts = [per_chunk.remote(item.info, chunk, settings, board, item.job.name) for chunk in item.chunks]
            refs[stitcher.remote(item.job, item.info, settings, run_info, *parts)] = item
    return refs


def _show(counts: dict[str, int], planned: list, progress: Progress, shown: set[str]) -> None:
    sizes = {item.job.name: item.frames_to_read for item in planned}
    for name, frames in counts.items():
        if name not in shown:  # a bar for each input in flight, not for thousands waiting
            progress.start(name, sizes.get(name))
            shown.add(name)
        progress.advance(name, frames)


def _outcome(ray, ref, item) -> Outcome:
    try:
        return ray.get(ref)
    except ray.exceptions.RayError as exc:  # retries exhausted, a bug in a task: this input fails alone
        cause = getattr(exc, "cause", None)  # a task's own exception, wrapped in RayTaskError
        line = one_line(cause) if isinstance(cause, BaseException) else \
            f"{type(exc).__name__}: {next((t.strip() for t in str(exc).splitlines() if t.strip()), '')}"
        log.warning("%s failed on Ray: %s", item.job.input, line)
        return Outcome(item.job.input, item.job.name, "failed", chunks=len(item.chunks), error=line)
