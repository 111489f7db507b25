"""Axis conventions: camera / world frames into the solver frame, and the solver frame out to Unity,
Unreal and Blender (docs/skeleton_solver.md writes each matrix down).

A change of axes is a 3x3 matrix ``M`` with ``p_out = M p_solver``. A rotation ``R`` becomes
``M R M^T``. For a quaternion (v, w) that is ``(M v, w)`` when ``M`` is a proper rotation
(det +1), and ``(-M v, w)`` when ``M`` also mirrors (det -1: right-handed to left-handed), because
then ``M R M^T = P R P^T`` with the proper rotation ``P = -M``.
"""
from __future__ import annotations

import numpy as np

#: Camera (OpenCV: x right, y down, z forward) -> solver: x right, y up, z towards the camera (180 deg about x).
CAMERA_TO_SOLVER = np.diag([1.0, -1.0, -1.0])
#: z-up world (x forward, y left, z up) -> y-up world (x right, y up, z towards the camera), calibration.world.
Z_UP_TO_Y_UP = np.array([[0.0, -1.0, 0.0], [0.0, 0.0, 1.0], [-1.0, 0.0, 0.0]])
#: Solver -> Unity (left-handed, y up, z forward, x right): the T-pose avatar faces Unity's +z with its
#: right hand at +x, so the solver's +x (the person's left) becomes -x. A mirror (det -1).
SOLVER_TO_UNITY = np.diag([-1.0, 1.0, 1.0])
#: Solver -> Unreal (left-handed, z up, x forward, y right; centimetres: UNREAL_SCALE). A mirror.
SOLVER_TO_UNREAL = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
UNREAL_SCALE = 100.0
#: Solver -> Blender (right-handed, z up; a character faces -y with its left at +x). A proper rotation.
SOLVER_TO_BLENDER = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])


def convert_points(points: np.ndarray, m: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """Points or offsets ``(..., 3)`` in the axes of ``m`` (and units times ``scale``)."""
    return scale * (np.asarray(points, dtype=np.float64) @ np.asarray(m).T)


def convert_quaternions(quats: np.ndarray, m: np.ndarray) -> np.ndarray:
    """(x, y, z, w) quaternions ``(..., 4)`` of rotations in the axes of ``m`` (module docstring)."""
    q = np.asarray(quats, dtype=np.float64)
    sign = 1.0 if np.linalg.det(m) > 0 else -1.0
    out = np.empty_like(q)
    out[..., :3] = sign * (q[..., :3] @ np.asarray(m).T)
    out[..., 3] = q[..., 3]
    return out


def world_to_solver(up: str) -> np.ndarray:
    """The matrix from the calibration's world frame (``up`` "y" or "z") into the solver frame."""
    if up == "y":
        return np.eye(3)
    if up == "z":
        return Z_UP_TO_Y_UP
    raise ValueError(f"world frame up axis must be 'y' or 'z', got {up!r}")
