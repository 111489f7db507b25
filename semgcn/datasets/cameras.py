"""Randomised virtual webcams that look at a mocap subject, and OpenCV-convention projection.

Each pose gets its own camera: horizontal field of view, image size, distance, height, azimuth and
a little roll are drawn at random, the camera is aimed near the subject's pelvis, and cameras that
do not see the whole body are drawn again. Camera frame: x right, y down, z forward (OpenCV).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from semgcn import skeleton as S

IMAGE_SIZES: tuple[tuple[int, int], ...] = ((640, 480), (1280, 720), (1920, 1080))


@dataclass
class CameraOptions:
    """Ranges of the virtual cameras.

    Attributes:
        hfov_deg: horizontal field of view range, degrees.
        image_sizes: image sizes (w, h) drawn uniformly.
        distance_m: horizontal distance from the subject's pelvis, metres.
        height_m: camera height above the floor, metres.
        roll_deg: maximum absolute roll, degrees.
        aim_jitter_m: the aim point is the pelvis plus up to this much in each axis (off-centre framing).
        principal_jitter: principal point offset from the image centre, fraction of the size.
        margin: joints must lie this fraction of the image height inside the borders (the head joint
            is at ear level and the ankles above the soles: the margin keeps the real body in view).
        max_tries: redraws before falling back to a wide, far camera that always sees the body.
    """

    hfov_deg: tuple[float, float] = (50.0, 90.0)
    image_sizes: tuple[tuple[int, int], ...] = IMAGE_SIZES
    distance_m: tuple[float, float] = (2.0, 6.0)
    height_m: tuple[float, float] = (0.5, 2.2)
    roll_deg: float = 5.0
    aim_jitter_m: float = 0.25
    principal_jitter: float = 0.02
    margin: float = 0.04
    max_tries: int = 30


@dataclass
class Cameras:
    """A batch of N pinhole cameras.

    Attributes:
        rotation: ``(N, 3, 3)`` world -> camera rotation.
        position: ``(N, 3)`` camera centres in the world, metres.
        focal: ``(N,)`` focal length, pixels.
        center: ``(N, 2)`` principal point, pixels.
        image_size: ``(N, 2)`` (w, h) pixels.
    """

    rotation: np.ndarray
    position: np.ndarray
    focal: np.ndarray
    center: np.ndarray
    image_size: np.ndarray

    def world_to_camera(self, points: np.ndarray) -> np.ndarray:
        """``(N, J, 3)`` world points -> camera frame, metres."""
        return np.einsum("nab,njb->nja", self.rotation, points - self.position[:, None, :])

    def project(self, points_cam: np.ndarray) -> np.ndarray:
        """``(N, J, 3)`` camera-frame points -> ``(N, J, 2)`` pixels."""
        z = np.maximum(points_cam[..., 2:3], 1e-6)
        return points_cam[..., :2] / z * self.focal[:, None, None] + self.center[:, None, :]


def look_at(position: np.ndarray, target: np.ndarray, roll_rad: np.ndarray) -> np.ndarray:
    """World -> camera rotations (rows x, y, z of the camera) for cameras at ``position`` aimed at
    ``target`` with Y up in the world, then rolled about the optical axis."""
    forward = target - position
    forward /= np.linalg.norm(forward, axis=-1, keepdims=True)
    down = np.array([0.0, -1.0, 0.0])
    y = down - (forward @ down)[:, None] * forward
    y /= np.linalg.norm(y, axis=-1, keepdims=True)
    x = np.cross(y, forward)
    c, s = np.cos(roll_rad)[:, None], np.sin(roll_rad)[:, None]
    x, y = c * x + s * y, -s * x + c * y
    return np.stack([x, y, forward], axis=1)


def _draw(rng: np.random.Generator, pelvis: np.ndarray, opt: CameraOptions) -> Cameras:
    n = pelvis.shape[0]
    sizes = np.array(opt.image_sizes, dtype=np.float64)[rng.integers(len(opt.image_sizes), size=n)]
    hfov = np.radians(rng.uniform(*opt.hfov_deg, size=n))
    focal = sizes[:, 0] / (2.0 * np.tan(hfov / 2.0))
    center = sizes / 2.0 + rng.uniform(-1, 1, size=(n, 2)) * opt.principal_jitter * sizes
    azimuth = rng.uniform(0.0, 2.0 * np.pi, size=n)
    distance = rng.uniform(*opt.distance_m, size=n)
    position = pelvis.copy()
    position[:, 0] += distance * np.sin(azimuth)
    position[:, 2] += distance * np.cos(azimuth)
    position[:, 1] = rng.uniform(*opt.height_m, size=n)
    target = pelvis + rng.uniform(-1, 1, size=(n, 3)) * opt.aim_jitter_m
    roll = np.radians(rng.uniform(-opt.roll_deg, opt.roll_deg, size=n))
    return Cameras(look_at(position, target, roll), position, focal, center, sizes)


def _fallback(pelvis: np.ndarray) -> Cameras:
    n = pelvis.shape[0]
    sizes = np.tile([1280.0, 720.0], (n, 1))
    position = pelvis + np.array([0.0, 0.0, 6.0])
    position[:, 1] = 1.2
    return Cameras(look_at(position, pelvis.copy(), np.zeros(n)), position, sizes[:, 0] / 2.0,
                   sizes / 2.0, sizes)


def in_frame(pixels: np.ndarray, points_cam: np.ndarray, image_size: np.ndarray, margin: float) -> np.ndarray:
    """``(N,)`` True where every joint is in front of the camera and ``margin`` inside the image."""
    pad = margin * image_size[:, 1:2]
    inside = ((pixels[..., 0] >= pad) & (pixels[..., 0] <= image_size[:, 0:1] - pad)
              & (pixels[..., 1] >= pad) & (pixels[..., 1] <= image_size[:, 1:2] - pad))
    return inside.all(axis=1) & (points_cam[..., 2] > 0.3).all(axis=1)


def sample_cameras(rng: np.random.Generator, joints_world: np.ndarray,
                   options: CameraOptions | None = None) -> Cameras:
    """One random camera per pose that sees the whole body.

    Args:
        rng: the random generator (seeded by the caller).
        joints_world: ``(N, 16, 3)`` world poses, metres, Y up, floor at 0.
        options: camera ranges.
    Returns:
        :class:`Cameras` for the N poses.
    """
    opt = options or CameraOptions()
    pelvis = joints_world[:, S.ROOT].astype(np.float64)
    cams = _draw(rng, pelvis, opt)
    todo = np.arange(len(pelvis))
    for _ in range(opt.max_tries + 1):
        sub = _subset(cams, todo)
        cam_pts = sub.world_to_camera(joints_world[todo])
        ok = in_frame(sub.project(cam_pts), cam_pts, sub.image_size, opt.margin)
        todo = todo[~ok]
        if todo.size == 0:
            return cams
        _assign(cams, todo, _draw(rng, pelvis[todo], opt))
    _assign(cams, todo, _fallback(pelvis[todo]))
    return cams


def _subset(cams: Cameras, idx: np.ndarray) -> Cameras:
    return Cameras(cams.rotation[idx], cams.position[idx], cams.focal[idx], cams.center[idx],
                   cams.image_size[idx])


def _assign(cams: Cameras, idx: np.ndarray, new: Cameras) -> None:
    cams.rotation[idx], cams.position[idx], cams.focal[idx] = new.rotation, new.position, new.focal
    cams.center[idx], cams.image_size[idx] = new.center, new.image_size
