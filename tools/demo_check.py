"""Check the built-in demo source against BlazePose: render speed, detection rate, 2D error vs ground truth.

    python -m tools.demo_check                          # 10 s at 30 fps, mediapipe's own Pose
    python -m tools.demo_check --seconds 36 --detectors mediapipe onnxruntime --lift onnxruntime
    python -m tools.demo_check --save-frame docs/figures/demo_frame.png --frame-index 330 --seconds 0

Prints, per detector: the share of frames where a person was found, the median / p90 2D error of the
16 canonical joints against the demo's projected ground truth (pixels), the median per joint, and the
same split by view (front, three-quarter, side, back) and by action; with ``--lift``, the 3D error of
the lifter fed the true and the detected 2D joints. BlazePose's hip landmarks are not a skeleton's
hip joint centres (on the demo figure they sit about 5 px lower), so the hip rows measure that
convention gap as much as the detector; the mean signed offset per joint shows it.
"""
from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict

import cv2
import numpy as np
from tqdm import tqdm

from realtime.demo import DemoScene
from semgcn.skeleton import JOINT_NAMES

VIEWS = ((30.0, "front"), (70.0, "three-quarter"), (115.0, "side"), (150.0, "back-three-quarter"),
         (181.0, "back"))


def view_name(view_yaw_deg: float) -> str:
    """Bucket of a figure's yaw relative to the camera (0 = facing it, 180 = back to it)."""
    yaw = abs(view_yaw_deg)
    return next(name for limit, name in VIEWS if yaw < limit)


class MediapipePose:
    """The mediapipe package's own Pose (video mode), mapped to the canonical 16 joints."""

    name = "mediapipe"

    def __init__(self, model_complexity: int = 1) -> None:
        import mediapipe as mp  # optional dependency of this tool only

        from engines.blazepose.mapping import blazepose_to_canonical

        self._to16 = blazepose_to_canonical
        self._pose = mp.solutions.pose.Pose(static_image_mode=False, model_complexity=model_complexity)

    def __call__(self, image_bgr: np.ndarray, t: float | None = None) -> np.ndarray | None:
        # ``t`` is unused: mediapipe's solutions API stamps frames itself at a simulated 30 fps.
        result = self._pose.process(cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB))
        if result.pose_landmarks is None:
            return None
        h, w = image_bgr.shape[:2]
        landmarks = np.array([[p.x * w, p.y * h] for p in result.pose_landmarks.landmark], np.float32)
        return self._to16(landmarks)[0]


class ProjectDetector:
    """The project's own BlazePose engines (``engines.detector.PoseDetector``)."""

    def __init__(self, backend: str) -> None:
        from engines.detector import PoseDetector

        self.name = f"engines.detector[{backend}]"
        self._det = PoseDetector(backend=backend)

    def __call__(self, image_bgr: np.ndarray, t: float | None = None) -> np.ndarray | None:
        # The frame's own time drives the landmark smoothing, so that the figures do not depend on
        # how fast this machine happens to run.
        result = self._det(image_bgr, timestamp=t)
        return None if result is None else np.asarray(result.keypoints_2d, np.float32)


def make_detector(name: str, model_complexity: int):
    if name == "mediapipe":
        return MediapipePose(model_complexity)
    return ProjectDetector(name)


def benchmark_render(scene: DemoScene, frames: int) -> tuple[np.ndarray, np.ndarray]:
    """Wall-clock and process-CPU milliseconds per ``scene.render`` call over ``frames`` frames."""
    wall, cpu = [], []
    for index in range(frames):
        w0, c0 = time.perf_counter(), time.process_time()
        scene.render(index)
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return np.array(wall) * 1e3, np.array(cpu) * 1e3


def evaluate(scene: DemoScene, indices: range, detectors: list) -> tuple[dict, dict[str, dict]]:
    """Run every detector on frames ``indices`` (rendered once each, streamed, not kept).

    Returns ``(truth, results)``: ``truth`` holds the frames' ``keypoints_2d`` and ``joints_3d`` and
    their ``views`` / ``actions`` labels; ``results``, per detector name, ``found`` (N,) bool,
    ``offsets`` (N, 16, 2) detector minus truth and ``errors`` (N, 16) pixels (NaN where nobody was found).
    """
    results = {d.name: {"found": [], "offsets": []} for d in detectors}
    truth = {"keypoints_2d": [], "joints_3d": [], "views": [], "actions": []}
    for index in tqdm(indices, desc="render+detect", unit="frame"):
        frame = scene.render(index)
        truth["keypoints_2d"].append(frame.keypoints_2d)
        truth["joints_3d"].append(frame.joints_3d)
        truth["views"].append(view_name(frame.view_yaw_deg))
        truth["actions"].append(frame.action)
        for detector in detectors:
            keypoints = detector(frame.image, frame.t)
            res = results[detector.name]
            res["found"].append(keypoints is not None)
            res["offsets"].append(np.full((len(JOINT_NAMES), 2), np.nan) if keypoints is None
                                  else keypoints - frame.keypoints_2d)
    for key in ("keypoints_2d", "joints_3d"):
        truth[key] = np.array(truth[key])
    for res in results.values():
        res["found"] = np.array(res["found"], dtype=bool)
        res["offsets"] = np.array(res["offsets"]).reshape(-1, len(JOINT_NAMES), 2)
        res["errors"] = np.linalg.norm(res["offsets"], axis=-1)
    return truth, results


def _summary(found: np.ndarray, errors: np.ndarray) -> str:
    ok = errors[found]
    med = f"{np.median(ok):5.1f}" if len(ok) else "  n/a"
    p90 = f"{np.percentile(ok, 90):5.1f}" if len(ok) else "  n/a"
    return f"found {found.sum():4d}/{len(found):4d} ({100.0 * found.mean():5.1f} %)  median {med} px  p90 {p90} px"


def report(name: str, result: dict, truth: dict) -> None:
    found, errors = result["found"], result["errors"]
    print(f"\n== {name}")
    print(f"{'all frames':22s}{_summary(found, errors)}")
    for key in ("views", "actions"):
        groups = defaultdict(list)
        for i, label in enumerate(truth[key]):
            groups[label].append(i)
        for label, idx in groups.items():
            print(f"  {label:20s}{_summary(found[idx], errors[idx])}")
    if found.any():
        per_joint = np.median(errors[found], axis=0)
        print("median error per joint (px): " + ", ".join(
            f"{n} {e:.1f}" for n, e in zip(JOINT_NAMES, per_joint)))
        offset = np.mean(result["offsets"][found], axis=0)
        print("mean offset detector - truth per joint (dx, dy px; y down): " + ", ".join(
            f"{n} ({d[0]:+.1f}, {d[1]:+.1f})" for n, d in zip(JOINT_NAMES, offset)))


def report_lifting(truth: dict, results: dict, scene: DemoScene, backend: str) -> None:
    """Lift the true and each detector's 2D joints with ``engines.lifter`` and print the 3D errors."""
    from engines.lifter import Lifter
    from semgcn.metrics import pose_errors_mm

    lifter = Lifter(backend=backend)
    k = scene.camera_matrix
    inputs = {"true 2D": (truth["keypoints_2d"], np.ones(len(truth["keypoints_2d"]), bool))}
    for name, res in results.items():
        inputs[f"{name} 2D"] = (truth["keypoints_2d"] + res["offsets"], res["found"])
    print(f"\n== lifter engines.lifter[{backend}] vs the demo's 3D truth (camera intrinsics known)")
    for name, (keypoints, found) in inputs.items():
        if not found.any():
            continue
        pred = lifter.predict(keypoints[found], image_size=scene.image_size, focal=k[0, 0], center=k[:2, 2])
        err = pose_errors_mm(pred, truth["joints_3d"][found])
        print(f"{name:32s} frames {err['n']:4d}  MPJPE {err['mpjpe_mm']:5.1f} mm  "
              f"P1 true bone lengths {err['mpjpe_true_bones_mm']:5.1f} mm  P2 (P-MPJPE) {err['pmpjpe_mm']:5.1f} mm")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="length of the demo clip to check, from frame --start (0: no detection check)")
    parser.add_argument("--start", type=int, default=0, help="first frame index")
    parser.add_argument("--fps", type=float, default=30.0, help="demo frame rate")
    parser.add_argument("--seed", type=int, default=0, help="demo seed (camera placement, clothes, start)")
    parser.add_argument("--size", type=int, nargs=2, default=(640, 480), metavar=("W", "H"), help="image size")
    parser.add_argument("--detectors", nargs="+", default=["mediapipe"],
                        help="'mediapipe' (the mediapipe package's Pose) and/or a backend of "
                             "engines.detector.PoseDetector such as 'onnxruntime'")
    parser.add_argument("--model-complexity", type=int, default=1, choices=(0, 1, 2),
                        help="model_complexity of mediapipe's Pose")
    parser.add_argument("--lift", default=None, metavar="BACKEND",
                        help="also lift the true and the detected 2D joints with engines.lifter.Lifter on "
                             "this backend (e.g. onnxruntime) and print the 3D errors against the truth")
    parser.add_argument("--bench", type=int, default=60, help="frames to time the renderer on (0: skip)")
    parser.add_argument("--save-frame", default=None, help="write frame --frame-index to this PNG path")
    parser.add_argument("--frame-index", type=int, default=0, help="frame written by --save-frame")
    args = parser.parse_args(argv)

    scene = DemoScene(width=args.size[0], height=args.size[1], fps=args.fps, seed=args.seed)
    if args.save_frame:
        if not cv2.imwrite(args.save_frame, scene.render(args.frame_index).image):
            print(f"error: could not write {args.save_frame}", file=sys.stderr)
            return 1
        print(f"wrote frame {args.frame_index} (seed {args.seed}) to {args.save_frame}")
    if args.bench > 0:
        wall, cpu = benchmark_render(scene, args.bench)
        print(f"render {args.size[0]}x{args.size[1]}, {args.bench} frames: wall median {np.median(wall):.1f} ms "
              f"p95 {np.percentile(wall, 95):.1f} ms; process CPU median {np.median(cpu):.1f} ms "
              f"p95 {np.percentile(cpu, 95):.1f} ms")
    count = int(round(args.seconds * args.fps))
    if count <= 0:
        return 0
    detectors = []
    for name in args.detectors:
        try:
            detectors.append(make_detector(name, args.model_complexity))
        except (ImportError, ValueError, RuntimeError, FileNotFoundError) as exc:
            print(f"{name}: not available here ({type(exc).__name__}: {exc})")
    if not detectors:
        print("error: no detector available", file=sys.stderr)
        return 1
    truth, results = evaluate(scene, range(args.start, args.start + count), detectors)
    print(f"\ndemo seed {args.seed}, frames {args.start}..{args.start + count - 1} "
          f"({count / args.fps:.1f} s at {args.fps:g} fps), {args.size[0]}x{args.size[1]}")
    for name, result in results.items():
        report(name, result, truth)
    if args.lift:
        report_lifting(truth, results, scene, args.lift)
    return 0


if __name__ == "__main__":
    sys.exit(main())
