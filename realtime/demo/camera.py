"""A pinhole camera with OpenCV conventions, placed in the demo's world (metres, y up, floor y = 0)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from semgcn.codec import default_intrinsics


@dataclass(frozen=True)
class PinholeCamera:
    """World-to-image camera.

    Attributes:
        matrix: (3, 3) intrinsics K (pixels).
        rotation: (3, 3) world-to-camera rotation; its rows are the camera's x (right), y (down) and
            z (forward) axes in world coordinates (OpenCV convention).
        position: (3,) camera centre in the world.
        size: ``(width, height)`` in pixels.
    """

    matrix: np.ndarray
    rotation: np.ndarray
    position: np.ndarray
    size: tuple[int, int]

    @classmethod
    def look_at(cls, position, target, size: tuple[int, int], hfov_deg: float) -> "PinholeCamera":
        """A level camera (no roll) at ``position`` looking at ``target``.

        Args:
            position: (3,) camera centre, world metres.
            target: (3,) point the optical axis passes through.
            size: ``(width, height)`` in pixels; the principal point is the image centre.
            hfov_deg: horizontal field of view in degrees.
        """
        position = np.asarray(position, dtype=np.float64)
        forward = np.asarray(target, dtype=np.float64) - position
        forward /= np.linalg.norm(forward)
        right = np.cross(forward, [0.0, 1.0, 0.0])
        right /= np.linalg.norm(right)
        down = np.cross(forward, right)
        focal, (cx, cy) = default_intrinsics(size, hfov_deg)
        matrix = np.array([[focal, 0.0, cx], [0.0, focal, cy], [0.0, 0.0, 1.0]])
        return cls(matrix, np.stack([right, down, forward]), position, (int(size[0]), int(size[1])))

    def to_camera(self, points_world: np.ndarray) -> np.ndarray:
        """World points (..., 3) -> camera frame (..., 3), metres, OpenCV axes."""
        return (np.asarray(points_world) - self.position) @ self.rotation.T

    def directions_to_camera(self, vectors_world: np.ndarray) -> np.ndarray:
        """World directions (..., 3) -> camera frame (rotation only)."""
        return np.asarray(vectors_world) @ self.rotation.T

    def project(self, points_camera: np.ndarray) -> np.ndarray:
        """Camera-frame points (..., 3) -> pixels (..., 2) with the pinhole model (no distortion)."""
        p = np.asarray(points_camera, dtype=np.float64)
        uvw = p @ self.matrix.T
        return uvw[..., :2] / uvw[..., 2:3]

    def pixel_rays_world(self) -> np.ndarray:
        """(H, W, 3) world directions (unnormalised, camera z = 1) through every pixel centre."""
        width, height = self.size
        k = self.matrix
        u, v = np.meshgrid(np.arange(width, dtype=np.float64), np.arange(height, dtype=np.float64))
        rays = np.stack([(u - k[0, 2]) / k[0, 0], (v - k[1, 2]) / k[1, 1], np.ones_like(u)], axis=-1)
        return rays @ self.rotation
