"""A batch run: inputs in, a session and exports per input out, in this process or on Ray.

    outcomes = run_batch(["clips/*.mp4", "shots/"], "out/", OfflineSettings(formats=("bvh", "csv")))
    outcomes = run_batch(inputs, "out/", settings, ray="local", workers=2)     # or ray="HOST:6379"

Each input is probed here (an unreadable one fails at once, with its line), skipped when an earlier
run finished it, else cut into chunks (``realtime.batch.frames.plan_chunks``); the chunks go through
pass 1 (``realtime.batch.chunk.run_chunk``) and the input through pass 2 (``realtime.batch.finish``),
either one after the other here (``run_local``) or as Ray tasks (``realtime.batch.ray_runner``).
Both run the very same functions on the very same chunks, so they give the same outputs.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from realtime.app.build import one_line
from realtime.batch.chunk import run_chunk
from realtime.batch.finish import finish
from realtime.batch.frames import Chunk, InputError, InputInfo, plan_chunks, probe
from realtime.batch.jobs import Job, Outcome, expand_inputs
from realtime.batch.progress import Progress
from realtime.batch.settings import OfflineSettings

log = logging.getLogger(__name__)


@dataclass
class Planned:
    """An input to process: its job, what ``probe`` found, and its chunks."""

    job: Job
    info: InputInfo
    chunks: list[Chunk]

    @property
    def frames_to_read(self) -> int | None:
        """Frames pass 1 reads (the overlaps included), None when the container does not say."""
        if not self.info.frame_count:
            return None
        return self.info.frame_count + sum(c.start - c.read_from for c in self.chunks)


def plan(jobs: list[Job], settings: OfflineSettings, overwrite: bool = False) -> tuple[list[Planned], list[Outcome]]:
    """The jobs to run, and the outcomes already known (skipped: done before; failed: unreadable)."""
    planned, known = [], []
    for job in jobs:
        job.clear_incomplete()  # what a killed run left, even of a job it finished just before
        if not overwrite and job.done(settings.formats):
            known.append(Outcome(job.input, job.name, "skipped", outputs=[str(p) for p in job.outputs(settings.formats).values()]))
            continue
        try:
            info = probe(job.input, settings.image_fps)
        except InputError as exc:
            known.append(Outcome(job.input, job.name, "failed", error=str(exc)))
            continue
        planned.append(Planned(job, info, plan_chunks(info.frame_count, settings.chunk_frames, settings.overlap)))
    return planned, known


def run_local(planned: list[Planned], settings: OfflineSettings, progress: Progress, run_info: dict | None = None) -> list[Outcome]:
    """Every planned input in this process, one chunk after the other."""
    outcomes = []
    for item in planned:
        progress.start(item.job.name, item.frames_to_read)
        try:
            results = [run_chunk(item.info, chunk, settings, report=lambda n, name=item.job.name: progress.advance(name, n))
                       for chunk in item.chunks]
            outcome = finish(item.job, item.info, settings, results, run_info)
        except Exception as exc:  # noqa: BLE001 - a bug met by one input fails that input, as a Ray task would
            log.warning("%s failed: %s", item.job.input, one_line(exc))
            outcome = Outcome(item.job.input, item.job.name, "failed", chunks=len(item.chunks), error=one_line(exc))
        progress.end(item.job.name, outcome.status)
        outcomes.append(outcome)
    return outcomes


def run_batch(arguments: list[str], out_dir: str, settings: OfflineSettings, ray: str | None = None,
              workers: int | None = None, retries: int = 3, overwrite: bool = False, show_progress: bool = True,
              command: str = "", ship_code: bool = False) -> list[Outcome]:
    """Process every input the arguments name (module docstring); one outcome per input, in order.

    Args:
        arguments: files, folders and glob patterns.
        out_dir: where the outputs go (shared storage on a cluster).
        settings: ``OfflineSettings``.
        ray: None: in this process; "local": a Ray started for this run with ``workers`` CPUs; else
            the address of a running Ray cluster.
        workers: CPUs of the local Ray (default: all of this machine's).
        retries: how often Ray runs a task again whose worker died.
        overwrite: process inputs that an earlier run finished, too.
        show_progress: tqdm bars on stderr.
        command: the command line, for the sessions' metadata (with this checkout's version: a worker
            running shipped code has no git history to tell it).
        ship_code: on Ray, send this checkout to the workers (``realtime.batch.ray_runner``).
    """
    from realtime.recording.session_format import software_version
    run_info = {"command": command, "code_version": software_version()}
    jobs, missing = expand_inputs(arguments, out_dir)
    planned, known = plan(jobs, settings, overwrite)
    progress = Progress(len(jobs) + len(missing), enabled=show_progress)
    try:
        for outcome in missing + known:
            progress.end(outcome.name, outcome.status)
        if ray is None:
            ran = run_local(planned, settings, progress, run_info)
        else:
            from realtime.batch.ray_runner import run_on_ray
            ran = run_on_ray(planned, settings, progress, ray, workers, retries, run_info, ship_code)
    finally:
        progress.close()
    by_input = {o.input: o for o in known + ran}
    return missing + [by_input[job.input] for job in jobs]
