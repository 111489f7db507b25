"""A 2D error model of BlazePose, fitted to its measured errors, for training and evaluating the lifter.

BlazePose's joints are not motion-capture joint centres, and its errors are not isotropic noise. Run
on the demo figure driven by motion capture (``tools.fit_detector_errors``: rendered images with the
exact 2D truth), its errors have a structure this model keeps:

* **widths**: hips and shoulders placed wider (or narrower) about their midpoint by a factor;
* **offsets**: a mean displacement of each joint (the pelvis sits lower, say), in a frame that turns
  with the body in the image (``u`` along the 2D torso, pelvis to thorax; ``v`` across it, towards the
  subject's left) and scales with it (units: the RMS distance of the 2D joints from the pelvis, the
  codec's normalisation scale);
* **spread**: per joint, per view (front, side, back, from the body's yaw to the camera), the robust
  standard deviation of what remains, along ``u`` and ``v``, and a rate of large outliers;
* **left-right swaps**: of the whole body and of single limbs, per view (BlazePose swaps mostly from
  behind).

Everything is in one JSON file (``BLAZEPOSE_ERRORS``, written by the tool, committed), fitted on
people the lifter is trained on and never on the held-out ones.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from semgcn import skeleton as S

BLAZEPOSE_ERRORS = Path(__file__).resolve().parent / "blazepose_errors.json"
#: View buckets by |yaw| of the body to the camera (0 = facing it): front, side, back.
VIEW_EDGES_DEG = (60.0, 120.0)
VIEWS = ("front", "side", "back")
_J = S.JOINT_INDEX
HIPS, SHOULDERS = (_J["left_hip"], _J["right_hip"]), (_J["left_shoulder"], _J["right_shoulder"])
#: Left-right limb pairs that swap as a unit: the legs, the arms.
LIMB_SWAPS = {"legs": ((1, 4), (2, 5), (3, 6)), "arms": ((10, 13), (11, 14), (12, 15))}


@dataclass
class DetectorErrorModel:
    """Fitted parameters (see the module docstring); lists are per view, then per joint.

    Attributes:
        hip_width: ``[view]`` factor on the 2D hip-to-hip vector; shoulder_width: the same for the shoulders.
        offset_uv: ``[view][joint] = (u, v)`` mean displacement, in units of the 2D scale.
        sigma_uv: ``[view][joint] = (u, v)`` robust standard deviation of the rest.
        outlier_rate: ``[view]`` share of joints with a large error; outlier_sigma: its size.
        full_swap: ``[view]`` probability that the whole body's left and right are swapped.
        limb_swap: ``[view]`` probability that one limb pair (legs or arms) is swapped.
        frames: how many frames the fit used; missed_rate: share of frames without a detection.
        source: how and on what it was measured.
    """

    hip_width: list
    shoulder_width: list
    offset_uv: list
    sigma_uv: list
    outlier_rate: list
    outlier_sigma: float
    full_swap: list
    limb_swap: list
    frames: int = 0
    missed_rate: float = 0.0
    source: str = ""

    def save(self, path: str | Path = BLAZEPOSE_ERRORS) -> Path:
        path = Path(path)
        path.write_text(json.dumps(asdict(self), indent=1))
        return path

    @classmethod
    def load(cls, path: str | Path = BLAZEPOSE_ERRORS) -> "DetectorErrorModel":
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"detector error model {path} not found (python -m tools.fit_detector_errors)")
        return cls(**json.loads(path.read_text()))


def view_bucket(joints_cam: np.ndarray) -> np.ndarray:
    """``(N,)`` 0 / 1 / 2 (front / side / back): the body's yaw to the camera, from camera-frame 3D
    joints (absolute, not root-relative: the direction to the camera is minus the pelvis's)."""
    left = (joints_cam[:, 4] - joints_cam[:, 1]) + (joints_cam[:, 10] - joints_cam[:, 13])
    up = joints_cam[:, 8] - joints_cam[:, 0]
    forward = np.cross(left, up)                      # x left, y up, z forward: z = x cross y
    to_camera = -joints_cam[:, 0]
    f2, c2 = forward[:, [0, 2]], to_camera[:, [0, 2]]
    cos = (f2 * c2).sum(-1) / np.maximum(np.linalg.norm(f2, axis=-1) * np.linalg.norm(c2, axis=-1), 1e-9)
    yaw = np.degrees(np.arccos(np.clip(cos, -1, 1)))
    return np.digitize(yaw, VIEW_EDGES_DEG)


def body_frame_2d(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(scale (N,), u (N, 2), v (N, 2))``: the 2D scale and torso axes of true ``(N, 16, 2)`` pixels."""
    rel = pixels - pixels[:, S.ROOT:S.ROOT + 1]
    scale = np.sqrt((rel ** 2).sum(-1).mean(-1))
    u = pixels[:, _J["thorax"]] - pixels[:, S.ROOT]
    u /= np.maximum(np.linalg.norm(u, axis=-1, keepdims=True), 1e-9)
    v = np.stack([-u[:, 1], u[:, 0]], axis=-1)
    lateral = (pixels[:, 4] - pixels[:, 1]) + (pixels[:, 10] - pixels[:, 13])
    v *= np.where((v * lateral).sum(-1) < 0, -1.0, 1.0)[:, None]
    return np.maximum(scale, 1e-6), u, v


def _widen(pixels: np.ndarray, pair: tuple[int, int], factor) -> np.ndarray:
    """Hips or shoulders moved apart about their midpoint by ``factor`` (a scalar or ``(N,)``)."""
    mid = (pixels[:, pair[0]] + pixels[:, pair[1]]) / 2
    factor = np.broadcast_to(np.asarray(factor, np.float64), (len(pixels),))[:, None]
    out = pixels.copy()
    for j in pair:
        out[:, j] = mid + factor * (pixels[:, j] - mid)
    return out


def systematic(pixels: np.ndarray, model: DetectorErrorModel, views: np.ndarray, frame=None) -> np.ndarray:
    """The truth moved by the model's widths and mean offsets (no randomness); ``frame``: the pixels'
    :func:`body_frame_2d` when the caller has it already."""
    out = _widen(_widen(pixels, HIPS, np.asarray(model.hip_width)[views]), SHOULDERS,
                 np.asarray(model.shoulder_width)[views])
    scale, u, v = body_frame_2d(pixels) if frame is None else frame
    off = np.asarray(model.offset_uv)[views]          # (N, 16, 2)
    return out + scale[:, None, None] * (off[..., :1] * u[:, None] + off[..., 1:] * v[:, None])


def _swap(pixels: np.ndarray, rows: np.ndarray, pairs) -> None:
    for a, b in pairs:
        pixels[rows, a], pixels[rows, b] = pixels[rows, b].copy(), pixels[rows, a].copy()


def apply(rng: np.random.Generator, pixels: np.ndarray, joints_cam: np.ndarray, model: DetectorErrorModel,
          strength: float = 1.0) -> np.ndarray:
    """BlazePose-like 2D from true ``(N, 16, 2)`` pixels and their absolute camera-frame joints (a new array).

    ``strength`` scales the random part (spread, outliers, swap rates); 0 keeps the systematic part only.
    """
    views = view_bucket(joints_cam)
    scale, u, v = frame = body_frame_2d(pixels)
    out = systematic(pixels, model, views, frame)
    sigma = np.asarray(model.sigma_uv)[views] * strength
    noise = rng.normal(size=sigma.shape) * sigma
    outlier = rng.random(pixels.shape[:2]) < np.asarray(model.outlier_rate)[views][:, None] * strength
    noise += outlier[..., None] * rng.normal(size=sigma.shape) * model.outlier_sigma
    out += scale[:, None, None] * (noise[..., :1] * u[:, None] + noise[..., 1:] * v[:, None])
    full = rng.random(len(out)) < np.asarray(model.full_swap)[views] * strength
    _swap(out, full, S.FLIP_PAIRS)
    for pairs in LIMB_SWAPS.values():
        _swap(out, ~full & (rng.random(len(out)) < np.asarray(model.limb_swap)[views] * strength), pairs)
    return out


def _swapped(detected: np.ndarray, truth: np.ndarray, pairs, min_separation: np.ndarray) -> np.ndarray:
    """``(N, len(pairs))`` True where the detector's pair matches the truth better the other way round."""
    out = np.zeros((len(truth), len(pairs)), bool)
    for k, (a, b) in enumerate(pairs):
        straight = np.linalg.norm(detected[:, a] - truth[:, a], axis=-1) + np.linalg.norm(detected[:, b] - truth[:, b], axis=-1)
        crossed = np.linalg.norm(detected[:, a] - truth[:, b], axis=-1) + np.linalg.norm(detected[:, b] - truth[:, a], axis=-1)
        apart = np.linalg.norm(truth[:, a] - truth[:, b], axis=-1) > min_separation
        out[:, k] = apart & (crossed < 0.7 * straight)
    return out


def fit(detected: np.ndarray, truth: np.ndarray, joints_cam: np.ndarray, missed_rate: float = 0.0,
        source: str = "") -> DetectorErrorModel:
    """Fit the model to detected and true ``(N, 16, 2)`` pixels of the same frames (both finite) and
    their absolute camera-frame joints."""
    views = view_bucket(joints_cam)
    scale, u, v = body_frame_2d(truth)
    swaps = _swapped(detected, truth, S.FLIP_PAIRS, 0.15 * scale)
    full = swaps.sum(1) >= 4
    fixed = detected.copy()
    _swap(fixed, full, S.FLIP_PAIRS)
    limb = {name: ~full & _swapped(fixed, truth, pairs, 0.15 * scale).any(1) for name, pairs in LIMB_SWAPS.items()}
    for name, pairs in LIMB_SWAPS.items():
        _swap(fixed, limb[name], pairs)
    widths = {}
    for name, pair in (("hips", HIPS), ("shoulders", SHOULDERS)):
        d, t = fixed[:, pair[0]] - fixed[:, pair[1]], truth[:, pair[0]] - truth[:, pair[1]]
        widths[name] = [float((d[views == v] * t[views == v]).sum() / max((t[views == v] ** 2).sum(), 1e-9))
                        if (views == v).sum() >= 20 else 1.0 for v in range(len(VIEWS))]
    model = DetectorErrorModel(widths["hips"], widths["shoulders"], [], [], [], 0.0, [], [], len(truth),
                               missed_rate, source)
    rest = fixed - _widen(_widen(truth, HIPS, np.asarray(widths["hips"])[views]), SHOULDERS,
                          np.asarray(widths["shoulders"])[views])
    uv = np.stack([(rest * u[:, None]).sum(-1), (rest * v[:, None]).sum(-1)], -1) / scale[:, None, None]
    big = []
    for view in range(len(VIEWS)):
        sel = uv[views == view] if (views == view).sum() >= 20 else uv
        offset = np.median(sel, axis=0)
        sigma = 1.4826 * np.median(np.abs(sel - offset), axis=0)
        large = np.linalg.norm((sel - offset) / np.maximum(sigma, 1e-6), axis=-1) > 4.0
        model.offset_uv.append(offset.tolist())
        model.sigma_uv.append(sigma.tolist())
        model.outlier_rate.append(float(large.mean()))
        big.append((sel - offset)[large])
        in_view = views == view
        model.full_swap.append(float(full[in_view].mean()) if in_view.any() else 0.0)
        model.limb_swap.append(float(np.mean([limb[n][in_view].mean() for n in limb])) if in_view.any() else 0.0)
    big = np.concatenate(big)
    model.outlier_sigma = float(np.sqrt((big ** 2).mean())) if len(big) else 0.0
    return model
