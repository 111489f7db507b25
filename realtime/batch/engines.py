"""The detector and the lifter, loaded once per process and reused by every task it runs.

A Ray worker is a long-lived process that runs one task after another; loading the ONNX models for
each task would cost more than a short clip's detection. ``engines_for`` keeps the engines of the
last settings in this process (``functools.lru_cache``), so a worker loads them on its first task and
never again; a worker that dies takes its engines with it, and the one that replaces it loads its own.
``load_count()`` says how many times this process loaded them (the tests check it is once per worker).
State between tasks is only the detector's tracking, which every chunk resets first.
"""
from __future__ import annotations

import functools
import logging
import os
from dataclasses import dataclass
from types import SimpleNamespace

from realtime.batch.settings import OfflineSettings

log = logging.getLogger(__name__)
_loads = 0


@dataclass
class Engines:
    """A process's detector and lifter, and the names that describe them in the session."""

    detector: object
    lifter: object
    names: dict[str, str]


def engines_for(settings: OfflineSettings) -> Engines:
    """This process's engines for ``settings`` (loaded on the first call only)."""
    return _load(settings.detector, settings.detector_threads, settings.detector_smoothing, settings.max_people,
                 settings.lifter, settings.lifter_model)


def load_count() -> int:
    """How many times this process has loaded the models."""
    return _loads


@functools.lru_cache(maxsize=1)
def _load(detector: str, threads: int, smoothing: bool, max_people: int, lifter: str,
          lifter_model: str | None) -> Engines:
    from engines.detector import PoseDetector
    from realtime.app.build import describe_engines, make_lifter

    global _loads
    _loads += 1
    log.info("process %d loads the detector (%s) and the lifter (%s)", os.getpid(), detector, lifter)
    pose = PoseDetector(backend=detector, threads=threads, smoothing=smoothing, max_people=max_people)
    lift = make_lifter(lifter, lifter_model)
    return Engines(pose, lift, describe_engines(SimpleNamespace(detector=detector, lifter=lifter), lift))
