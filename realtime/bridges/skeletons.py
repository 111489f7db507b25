"""The skeleton of every person in a frame, for the rotation bridges, wherever the frame came from.

In ``run_live.py`` the ``solve`` stage has already set ``person.skeleton``. A frame decoded from a
stream or a recording carries the skeleton as arrays when the producer ran the stage
(``realtime.core.skeleton_stage.skeleton_from_arrays``); otherwise the bridge solves it itself on the
decoded joints with its own ``SkeletonStage`` (swing-only where the stream carries no landmarks),
which keeps each person's bone lengths and continuity by person id, as in ``run_live.py``: with
several people in view, everybody is solved, each on their own state. That rule is
``realtime.core.skeleton_stage.SkeletonSource`` (the ROS 2 bag export uses it too), named here for the
bridges; this module adds the solver options of their command lines.
"""
from __future__ import annotations

import argparse

from realtime.core.cli import bounded
from realtime.core.skeleton_stage import SkeletonOptions, SkeletonSource
from semgcn.solver.lengths import LengthOptions

__all__ = ["SkeletonSource", "add_skeleton_arguments", "skeleton_options_from"]


def add_skeleton_arguments(parser: argparse.ArgumentParser) -> None:
    """Solver options of a bridge's own command line (``run_live.py`` scales through calibration)."""
    group = parser.add_argument_group("skeleton")
    group.add_argument("--height", type=bounded(float, 0.5, 2.6), metavar="M",
                       help="scale the skeleton so that its T-pose is M metres tall (default: the stream's own "
                            "scale, metric when the producer had --height or a calibration)")
    group.add_argument("--warmup-frames", type=bounded(int, 1, 100_000), default=LengthOptions.warmup_frames,
                       metavar="N",
                       help="frames with a person over which the bone lengths are estimated before they are held "
                            "(default: %(default)s)")


def skeleton_options_from(args: argparse.Namespace) -> SkeletonOptions:
    """``SkeletonOptions`` of the options above (absent ones: defaults)."""
    lengths = LengthOptions(target_height=getattr(args, "height", None),
                            warmup_frames=getattr(args, "warmup_frames", LengthOptions.warmup_frames))
    return SkeletonOptions(lengths=lengths, publish=False)
