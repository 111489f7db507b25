"""The inputs of a batch run, the files each one gives, and what became of each.

``expand_inputs`` turns the command line's INPUT arguments into ``Job`` s: a video file, an image file
or a folder of images is one input; a folder with videos and no images gives one input per video; a
glob pattern (``'clips/*.mp4'``, ``'**'`` allowed) gives what it matches. Each job's outputs are named
after its input (``clip.mp4`` -> ``clip.mcap``, ``clip.bvh``, ``clip.csv``, ``clip.json``,
``clip_ros2bag/``); two inputs with the same name get a short hash of their path added, the same on
every run, so that a resumed run finds what it wrote before.

A job is *done* when every output it is asked for exists under its final name; outputs are written
under ``DIR/.incomplete/`` and renamed into place only when complete (``realtime.batch.finish``), so
a run killed at any moment never leaves a half file under a final name.
"""
from __future__ import annotations

import glob
import hashlib
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from realtime.batch.frames import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, image_paths

INCOMPLETE = ".incomplete"
SESSION_SUFFIX = ".mcap"
SUFFIXES = {"bvh": ".bvh", "csv": ".csv", "json": ".json", "ros2bag": "_ros2bag"}


@dataclass(frozen=True)
class Job:
    """One input and where its outputs go."""

    input: str
    name: str
    out_dir: str

    def outputs(self, formats: tuple[str, ...]) -> dict[str, Path]:
        """Final path of the session and of each export, by format ("session" first)."""
        out = Path(self.out_dir)
        paths = {"session": out / f"{self.name}{SESSION_SUFFIX}"}
        paths.update({fmt: out / f"{self.name}{SUFFIXES[fmt]}" for fmt in formats})
        return paths

    def done(self, formats: tuple[str, ...]) -> bool:
        """Every output exists under its final name (written completely: they are renamed when whole)."""
        return all(p.exists() for p in self.outputs(formats).values())

    def clear_incomplete(self) -> None:
        """Remove what a killed run left of this job under ``.incomplete/`` (and the folder, once empty)."""
        folder = Path(self.out_dir) / INCOMPLETE
        for stale in folder.glob(f"{glob.escape(self.name)}-*"):
            shutil.rmtree(stale, ignore_errors=True)
        try:
            folder.rmdir()
        except OSError:  # absent, or other jobs' leftovers still in it
            pass


@dataclass
class Outcome:
    """What became of one job, one row of the summary table.

    Attributes:
        status: "done", "skipped" (finished by an earlier run) or "failed".
        error: for "failed", the one-line reason.
        workers: per chunk, ``{"pid", "loads"}`` of the process that ran it.
    """

    input: str
    name: str
    status: str
    frames: int = 0
    frames_with_person: int = 0
    tracks: int = 0
    redetections: dict = field(default_factory=dict)
    chunks: int = 0
    seconds: float = 0.0
    outputs: list[str] = field(default_factory=list)
    error: str | None = None
    workers: list[dict] = field(default_factory=list)


def expand_inputs(arguments: list[str], out_dir: str) -> tuple[list[Job], list[Outcome]]:
    """Jobs for the INPUT arguments, in order and without duplicates, and a failed outcome for each
    argument that names nothing."""
    found: list[Path] = []
    missing: list[Outcome] = []
    for argument in arguments:
        paths = _paths_of(argument)
        if not paths:
            what = "no file matches" if glob.has_magic(argument) else "no such file or folder, or a folder with no images or videos"
            missing.append(Outcome(argument, Path(argument).name, "failed", error=f"{what}: {argument}"))
        found += [p for p in paths if p not in found]
    return _named_jobs(found, str(Path(out_dir).expanduser().resolve())), missing  # absolute: workers write there


def _paths_of(argument: str, explicit: bool = True) -> list[Path]:
    """What one argument names. A file named explicitly is tried whatever it is (a bad one gets its
    line in the summary); from a glob or a folder only images and videos are taken."""
    path = Path(argument).expanduser()
    if not path.exists() and glob.has_magic(argument):
        return [p for match in sorted(glob.glob(argument, recursive=True)) for p in _paths_of(match, explicit=False)]
    if path.is_dir():
        if image_paths(path):
            return [path.resolve()]
        return sorted(p.resolve() for p in path.iterdir() if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS)
    if path.is_file() and (explicit or path.suffix.lower() in IMAGE_EXTENSIONS + VIDEO_EXTENSIONS):
        return [path.resolve()]
    return []


def _named_jobs(paths: list[Path], out_dir: str) -> list[Job]:
    stems = [p.stem if p.is_file() else p.name for p in paths]
    jobs = []
    for path, stem in zip(paths, stems):
        name = stem if stems.count(stem) == 1 else f"{stem}-{hashlib.sha1(str(path).encode()).hexdigest()[:8]}"
        jobs.append(Job(str(path), name, str(out_dir)))
    return jobs


def summary_table(outcomes: list[Outcome]) -> str:
    """The table printed at the end of a run: one line per input."""
    rows = [("input", "status", "frames", "with person", "tracks", "re-detected", "seconds", "outputs / reason")]
    for o in outcomes:
        detail = o.error if o.status == "failed" else ", ".join(Path(p).name for p in o.outputs)
        redetected = f"{o.redetections.get('replaced', 0)}/{o.redetections.get('checked', 0)}" if o.redetections else ""
        rows.append((o.name, o.status, str(o.frames or ""), str(o.frames_with_person or ""), str(o.tracks or ""),
                     redetected, f"{o.seconds:.1f}" if o.seconds else "", detail or ""))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r[:-1], widths)) + "  " + r[-1] for r in rows]
    counts = {s: sum(o.status == s for o in outcomes) for s in ("done", "skipped", "failed")}
    lines.append(f"{len(outcomes)} inputs: {counts['done']} done, {counts['skipped']} already done, "
                 f"{counts['failed']} failed")
    return "\n".join(lines)
