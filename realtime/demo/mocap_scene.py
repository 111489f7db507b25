"""The demo figure driven by motion capture: rendered frames of a real clip with exact ground truth.

``skeleton_from_joints`` turns 16 canonical joints (world metres, y up) into the segment frames the
figure's ellipsoids hang on (``kinematics``' conventions: x the subject's left, y up, z forward; limbs
run along their segment's -y). The mocap gives joint positions, not every rotation, so what it does
not fix is chosen: a limb's twist follows the body's left-right axis, the head looks where the chest
faces, and hands and feet continue their forearm and shank. Limb ellipsoids are stretched along the
bone to the clip's bone lengths, so the rendered body has the mocap's proportions.

``MocapScene`` renders such a clip through a fixed pinhole camera, with the root's horizontal
motion removed (a treadmill: the figure turns and bends, but stays in view). Used by
``tools.fit_detector_errors`` (BlazePose's errors against the truth) and ``tools.temporal_check``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from realtime.demo.background import room_background
from realtime.demo.camera import PinholeCamera
from realtime.demo.figure import Figure, Primitives
from realtime.demo.kinematics import BodyShape, Skeleton, lowest_sole_height
from realtime.demo.render import FigureRenderer
from semgcn.skeleton import JOINT_INDEX as J

_LIMBS = {  # segment -> (start joint, end joint, BodyShape length attribute)
    **{f"{s}_thigh": (f"{n}_hip", f"{n}_knee", "thigh") for s, n in (("l", "left"), ("r", "right"))},
    **{f"{s}_shank": (f"{n}_knee", f"{n}_ankle", "shank") for s, n in (("l", "left"), ("r", "right"))},
    **{f"{s}_upper_arm": (f"{n}_shoulder", f"{n}_elbow", "upper_arm") for s, n in (("l", "left"), ("r", "right"))},
    **{f"{s}_forearm": (f"{n}_elbow", f"{n}_wrist", "forearm") for s, n in (("l", "left"), ("r", "right"))},
}


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-9)


def _frame(y_axis: np.ndarray, x_hint: np.ndarray, z_hint: np.ndarray) -> np.ndarray:
    """Rotation with columns (x, y, z): y given, x as close to ``x_hint`` as possible (``z_hint`` when
    ``x_hint`` is nearly parallel to y)."""
    y = _unit(y_axis)
    x = x_hint - (x_hint @ y) * y
    if np.linalg.norm(x) < 0.3:
        z = _unit(z_hint - (z_hint @ y) * y)
        x = np.cross(y, z)
    x = _unit(x)
    return np.stack([x, y, np.cross(x, y)], axis=1)


def skeleton_from_joints(joints: np.ndarray, shape: BodyShape | None = None) -> tuple[Skeleton, dict[str, float]]:
    """Segment frames for one pose of 16 world joints, and each limb's stretch along its bone."""
    shape = shape or BodyShape()
    j = np.asarray(joints, np.float64)
    left = _unit(j[J["left_hip"]] - j[J["right_hip"]])
    torso_up = j[J["thorax"]] - j[J["pelvis"]]
    pelvis_r = _frame(torso_up, left, np.cross(left, torso_up))
    forward = pelvis_r[:, 2]
    shoulder_left = _unit(j[J["left_shoulder"]] - j[J["right_shoulder"]])
    chest_r = _frame(j[J["thorax"]] - j[J["spine"]], shoulder_left, forward)
    neck = j[J["thorax"]] + shape.shoulder_drop * chest_r[:, 1]
    head_r = _frame(j[J["head"]] - neck, chest_r[:, 0], chest_r[:, 2])
    frames = {"pelvis": (j[J["pelvis"]], pelvis_r), "lumbar": (j[J["pelvis"]], _frame(torso_up, left, forward)),
              "chest": (neck - shape.chest * chest_r[:, 1], chest_r), "neck": (neck, head_r),
              "head": (j[J["head"]], head_r)}
    stretch = {}
    for segment, (a, b, attr) in _LIMBS.items():
        hint = (pelvis_r if segment.endswith(("thigh", "shank")) else chest_r)
        rot = _frame(j[J[a]] - j[J[b]], hint[:, 0], hint[:, 2])
        frames[segment] = (j[J[a]], rot)
        stretch[segment] = float(np.linalg.norm(j[J[b]] - j[J[a]]) / getattr(shape, attr))
    for side, name in (("l", "left"), ("r", "right")):
        frames[f"{side}_foot"] = (j[J[f"{name}_ankle"]], frames[f"{side}_shank"][1])
        frames[f"{side}_hand"] = (j[J[f"{name}_wrist"]], frames[f"{side}_forearm"][1])
    return Skeleton(frames=frames, joints=j.copy()), stretch


def place_stretched(figure: Figure, skeleton: Skeleton, stretch: dict[str, float]) -> Primitives:
    """``figure.place`` with each limb's ellipsoids stretched along its bone (local y) by ``stretch``."""
    scale = np.array([stretch.get(s, 1.0) for s in figure.segments])[figure._segment_of]
    local = figure._local_centres * np.stack([np.ones_like(scale), scale, np.ones_like(scale)], axis=1)
    origins = np.stack([skeleton.frames[s][0] for s in figure.segments])[figure._segment_of]
    rotations = np.stack([skeleton.frames[s][1] for s in figure.segments])[figure._segment_of]
    radii = figure.radii.copy()
    radii[:, 1] *= scale
    return Primitives(origins + np.einsum("pij,pj->pi", rotations, local), rotations @ figure._local_axes,
                      radii, figure.colours, figure.casts_shadow)


@dataclass
class MocapFrame:
    """One rendered mocap frame: the image and the truth (like ``DemoFrame``)."""

    image: np.ndarray
    keypoints_2d: np.ndarray
    joints_3d: np.ndarray
    view_yaw_deg: float


def treadmill(joints: np.ndarray) -> np.ndarray:
    """``(F, 16, 3)`` world joints with the pelvis's horizontal motion removed (x = z = 0)."""
    out = np.asarray(joints, np.float64).copy()
    out[..., [0, 2]] -= out[:, J["pelvis"]][:, None, [0, 2]]
    return out


class MocapScene:
    """Renders ``(F, 16, 3)`` world joints (floor at y = 0) through one camera, with ground truth.

    Args:
        joints: the clip's joints; the root's horizontal motion is removed (``treadmill``).
        camera: the pinhole camera (looking at the origin area).
        palette: clothing palette of the figure.
        supersample: antialiasing rays per pixel along each axis.
    """

    def __init__(self, joints: np.ndarray, camera: PinholeCamera, palette: int = 0, supersample: int = 2):
        self.joints = treadmill(joints)
        self.camera = camera
        self.figure = Figure(palette_index=palette)
        self.renderer = FigureRenderer(camera, room_background(camera), supersample=supersample)

    def __len__(self) -> int:
        return len(self.joints)

    def render(self, index: int) -> MocapFrame:
        skeleton, stretch = skeleton_from_joints(self.joints[index])
        lift = -min(0.0, lowest_sole_height(skeleton))  # keep the shoes above the floor
        if lift:
            skeleton.translate(np.array([0.0, lift, 0.0]))
        image = self.renderer.render(place_stretched(self.figure, skeleton, stretch))
        cam = self.camera.to_camera(skeleton.joints)
        facing = skeleton.frames["pelvis"][1][:, 2]
        to_camera = self.camera.position - skeleton.joints[J["pelvis"]]
        yaw = np.degrees(np.arctan2(facing[0], facing[2]) - np.arctan2(to_camera[0], to_camera[2]))
        return MocapFrame(image, self.camera.project(cam).astype(np.float32),
                          (cam - cam[J["pelvis"]]).astype(np.float32), float((yaw + 180.0) % 360.0 - 180.0))


def random_camera(rng: np.random.Generator, size: tuple[int, int] = (640, 480)) -> PinholeCamera:
    """A webcam-like camera 3.3-4.5 m from the origin, 0.9-1.9 m high, any azimuth, 55-70 degrees wide."""
    azimuth = rng.uniform(0.0, 2.0 * np.pi)
    distance, height = rng.uniform(3.3, 4.5), rng.uniform(0.9, 1.9)
    position = (distance * np.sin(azimuth), height, distance * np.cos(azimuth))
    return PinholeCamera.look_at(position=position, target=(0.0, rng.uniform(0.85, 1.05), 0.0), size=size,
                                 hfov_deg=float(rng.uniform(55.0, 70.0)))
