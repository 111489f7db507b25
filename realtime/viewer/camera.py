"""The viewer's camera: a pinhole ``CameraView``, the starting three-quarter view, and getting / setting
the camera of an Open3D legacy Visualizer exactly (``ViewControl`` pinhole conversion).

Display coordinates are y up (see ``viewer_scene``); a ``CameraView``'s extrinsic maps them to camera
coordinates with OpenCV axes (x right, y down, z forward), which is what Open3D's
``PinholeCameraParameters`` use.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

_Z_NEAR_M, _Z_FAR_M = 0.05, 200.0  # fixed, so that the HUD text 0.2 m ahead is never clipped


@dataclass
class CameraView:
    """A pinhole camera for the viewer: ``intrinsic`` (3, 3) pixels and ``extrinsic`` (4, 4) mapping
    display coordinates to camera coordinates with OpenCV axes (x right, y down, z forward)."""

    intrinsic: np.ndarray
    extrinsic: np.ndarray
    width: int
    height: int

    def project(self, points: np.ndarray) -> np.ndarray:
        """Pixel coordinates ``(N, 2)`` of display-space ``points`` (N, 3) (pixel centres are integers)."""
        cam = np.asarray(points, dtype=np.float64) @ self.extrinsic[:3, :3].T + self.extrinsic[:3, 3]
        uvw = cam @ self.intrinsic.T
        return uvw[:, :2] / uvw[:, 2:3]


def look_at_view(eye, target, width: int, height: int, fov_deg: float = 50.0) -> CameraView:
    """A y-up camera at ``eye`` looking at ``target`` with a vertical field of view ``fov_deg``.

    The principal point is the image centre in Open3D's convention (``(w - 1) / 2``), as its
    ``ViewControl`` requires.
    """
    eye, target = np.asarray(eye, dtype=np.float64), np.asarray(target, dtype=np.float64)
    z = target - eye
    z /= np.linalg.norm(z)
    x = np.cross(z, [0.0, 1.0, 0.0])
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    extrinsic = np.eye(4)
    extrinsic[:3, :3] = np.stack([x, y, z])
    extrinsic[:3, 3] = -extrinsic[:3, :3] @ eye
    f = (height / 2.0) / math.tan(math.radians(fov_deg) / 2.0)
    k = np.array([[f, 0.0, (width - 1) / 2.0], [0.0, f, (height - 1) / 2.0], [0.0, 0.0, 1.0]])
    return CameraView(k, extrinsic, int(width), int(height))


def default_view(target, width: int, height: int, distance: float = 4.5, azimuth_deg: float = 30.0,
                 elevation_deg: float = 15.0) -> CameraView:
    """The viewer's starting camera: a three-quarter view of ``target`` from the real camera's side.

    Args:
        target: display-space point looked at (the subject's pelvis).
        width, height: image size in pixels.
        distance: metres from the target.
        azimuth_deg: turn from the real camera's line of sight towards +x.
        elevation_deg: height of the eye above the target, as an angle.
    """
    az, el = math.radians(azimuth_deg), math.radians(elevation_deg)
    offset = distance * np.array([math.sin(az) * math.cos(el), math.sin(el), math.cos(az) * math.cos(el)])
    return look_at_view(np.asarray(target, dtype=np.float64) + offset, target, width, height)


def apply_view(vis, view: CameraView) -> None:
    """Point the Visualizer's camera exactly at ``view`` (fixed near / far planes)."""
    import open3d as o3d

    control = vis.get_view_control()
    params = o3d.camera.PinholeCameraParameters()
    k = view.intrinsic
    params.intrinsic = o3d.camera.PinholeCameraIntrinsic(view.width, view.height, k[0, 0], k[1, 1], k[0, 2], k[1, 2])
    params.extrinsic = view.extrinsic
    control.set_constant_z_near(_Z_NEAR_M)
    control.set_constant_z_far(_Z_FAR_M)
    control.convert_from_pinhole_camera_parameters(params, allow_arbitrary=True)


def current_view(vis) -> CameraView:
    """The Visualizer's camera now (after the user's orbit and zoom)."""
    params = vis.get_view_control().convert_to_pinhole_camera_parameters()
    intr = params.intrinsic
    return CameraView(np.asarray(intr.intrinsic_matrix), np.asarray(params.extrinsic), intr.width, intr.height)
