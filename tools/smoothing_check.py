"""Why the live pipeline smooths twice: BlazePose's 2D landmark smoothing and the 3D One Euro stage,
each on and off, on the demo source against its ground truth.

    python -m tools.smoothing_check --frames 300

Per configuration: MPJPE and PA-MPJPE (mm), the acceleration error (mm per frame squared: the mean
distance between the second differences of the predicted and the true joints, the usual jitter
measure), and the coefficient of variation of the bone lengths over the run (how much bones wander).
The demo is played unpaced, so every configuration sees the same frames.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np

from calibration.stage import CalibrationStage
from engines.detector import PoseDetector
from realtime.app.build import make_lifter
from realtime.core.pipeline import Pipeline
from realtime.core.smoothing import SmoothingStage
from realtime.core.sources import DemoSource, SourceOptions
from semgcn.metrics import acceleration_error_mm, mpjpe, p_mpjpe
from semgcn.skeleton import bone_lengths


class Collect:
    """A consumer keeping each frame's first person and the truth of that frame."""

    name = "collect"

    def __init__(self, source: DemoSource):
        self.source, self.pred, self.truth = source, [], []

    def consume(self, result) -> None:
        truth = self.source.ground_truth(result.frame_index)
        if result.people and truth:
            self.pred.append(result.people[0].joints_3d)
            self.truth.append(truth[0].joints_3d)

    def close(self) -> None:
        pass


def demo_poses(frames: int, smoother=None, smooth_2d: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The demo source unpaced through the real pipeline (known camera): the first person's 3D joints
    of every frame that has one and the truth of those frames, ``(T, 16, 3)`` float64 each."""
    source = DemoSource(SourceOptions(realtime=False))
    collect = Collect(source)
    pipeline = Pipeline(PoseDetector(threads=1, smoothing=smooth_2d), make_lifter("onnxruntime", None), [collect],
                        calibration=lambda size: CalibrationStage(source.camera_matrix, None, size, True),
                        smoother=smoother, stages=[])
    pipeline.options.max_frames = frames
    pipeline.run(source)
    return np.stack(collect.pred).astype(np.float64), np.stack(collect.truth).astype(np.float64)


def run(frames: int, smooth_2d: bool, smooth_3d: bool) -> dict[str, float]:
    pred, truth = demo_poses(frames, SmoothingStage() if smooth_3d else None, smooth_2d)
    lengths = bone_lengths(pred)[:, 1:]
    return {"frames": len(pred), "mpjpe_mm": 1e3 * mpjpe(pred, truth), "pmpjpe_mm": 1e3 * p_mpjpe(pred, truth),
            "accel_error_mm": acceleration_error_mm(pred - pred[:, :1], truth - truth[:, :1]),  # root-relative
            "bone_cv": float(np.median(lengths.std(axis=0) / lengths.mean(axis=0)))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.smoothing_check", description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=300, help="demo frames per configuration (default: %(default)s)")
    args = parser.parse_args(argv)
    print(f"demo source, {args.frames} frames unpaced per configuration; errors in mm, bone CV = median "
          "coefficient of variation of the 15 bone lengths")
    print(f"{'2D smoothing':>13s} {'3D smoothing':>13s} {'MPJPE':>7s} {'PA-MPJPE':>9s} {'accel err':>10s} {'bone CV':>8s}")
    for smooth_2d in (True, False):
        for smooth_3d in (True, False):
            r = run(args.frames, smooth_2d, smooth_3d)
            print(f"{'on' if smooth_2d else 'off':>13s} {'on' if smooth_3d else 'off':>13s} {r['mpjpe_mm']:7.1f} "
                  f"{r['pmpjpe_mm']:9.1f} {r['accel_error_mm']:10.2f} {r['bone_cv']:8.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
