"""Geometry of the viewer's scene, in display coordinates (metres, y up), with no window and no I/O.

The skeleton is one triangle mesh of cylinders (bones) and spheres (joints). Its topology never
changes, so the live window keeps one Open3D mesh and only rewrites its vertices each frame: the
vertices come from unit templates moved by numpy, which is far cheaper than building 31 Open3D
primitives per frame. The trail is a thin tube made the same way (lines are 1 px wide in most
OpenGL drivers); the ground grid and the camera frustum are Open3D LineSets.

Colours come from ``realtime.core.palette``: for one person by ``semgcn.skeleton.bone_side`` (the
subject's left in blue, right in orange, centre in green: the usual convention of pose viewers, and
distinguishable by hue under any shading); for several people a hue per id, lighter on the left and
darker on the right. Each person is one mesh of their own.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from realtime.core import palette
from semgcn.skeleton import BONES, NUM_JOINTS

#: The single-person colours by side (``realtime.core.palette.SIDE_COLOURS``), as a dict.
SIDE_COLOURS: dict[str, tuple[float, float, float]] = {side: palette.SIDE_COLOURS.side(side)
                                                       for side in ("left", "right", "centre")}
JOINT_COLOUR = (0.95, 0.95, 0.95)
BACKGROUND_COLOUR = (0.08, 0.08, 0.10)
GRID_COLOUR = (0.38, 0.38, 0.42)
FRUSTUM_COLOUR = (0.95, 0.85, 0.20)
TRAIL_COLOUR = (1.00, 0.30, 0.90)


@dataclass
class SkeletonStyle:
    """Sizes of the drawn skeleton.

    Attributes:
        bone_radius: cylinder radius in metres.
        joint_radius: sphere radius in metres.
        cylinder_resolution: segments around a cylinder.
        sphere_resolution: Open3D sphere resolution (latitude / longitude steps).
    """

    bone_radius: float = 0.022
    joint_radius: float = 0.035
    cylinder_resolution: int = 12
    sphere_resolution: int = 8


def bone_colours(colours: palette.SkeletonColours = palette.SIDE_COLOURS) -> np.ndarray:
    """``(15, 3)`` RGB in [0, 1] of each bone of ``BONES``, by the side of its child joint."""
    return np.array(colours.bone_rgb(), dtype=np.float64)


@lru_cache(maxsize=8)
def _cylinder_template(resolution: int):
    """Unit cylinder (radius 1, from z=0 to z=1) as (vertices, triangles)."""
    import open3d as o3d

    cyl = o3d.geometry.TriangleMesh.create_cylinder(radius=1.0, height=1.0, resolution=resolution, split=1)
    return np.asarray(cyl.vertices) + np.array([0.0, 0.0, 0.5]), np.asarray(cyl.triangles).copy()  # was centred


@lru_cache(maxsize=8)
def _sphere_template(resolution: int):
    """Unit sphere at the origin as (vertices, triangles)."""
    import open3d as o3d

    sph = o3d.geometry.TriangleMesh.create_sphere(radius=1.0, resolution=resolution)
    return np.asarray(sph.vertices).copy(), np.asarray(sph.triangles).copy()


def _frames_along(directions: np.ndarray) -> np.ndarray:
    """Rotation matrices ``(N, 3, 3)`` whose third column is each unit direction (z -> direction)."""
    z = directions
    helper = np.where(np.abs(z[:, 2:3]) < 0.9, [[0.0, 0.0, 1.0]], [[1.0, 0.0, 0.0]])
    x = np.cross(helper, z)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    y = np.cross(z, x)
    return np.stack([x, y, z], axis=2)


def cylinders(starts: np.ndarray, ends: np.ndarray, radius: float, resolution: int = 12):
    """Vertices ``(N * V, 3)`` and triangles of N cylinders of ``radius`` from ``starts`` to ``ends``.

    Every cylinder has the same V vertices (one unit template), so the topology depends only on N.
    """
    starts, ends = np.asarray(starts, dtype=np.float64).reshape(-1, 3), np.asarray(ends, dtype=np.float64).reshape(-1, 3)
    cyl_v, cyl_t = _cylinder_template(resolution)
    vec = ends - starts
    length = np.linalg.norm(vec, axis=1)
    direction = vec / np.maximum(length, 1e-9)[:, None]
    direction[length < 1e-9] = (0.0, 0.0, 1.0)  # a zero-length segment: any axis, it has no height
    scale = np.stack([np.full_like(length, radius), np.full_like(length, radius), length], axis=1)
    vertices = np.einsum("bij,bvj->bvi", _frames_along(direction), cyl_v[None] * scale[:, None, :]) + starts[:, None, :]
    triangles = cyl_t[None] + (np.arange(len(starts)) * len(cyl_v))[:, None, None]
    return vertices.reshape(-1, 3), triangles.reshape(-1, 3).astype(np.int32)


def skeleton_mesh_arrays(joints: np.ndarray, style: SkeletonStyle = SkeletonStyle(),
                         colours: palette.SkeletonColours = palette.SIDE_COLOURS):
    """Vertices, triangles and vertex colours of the skeleton mesh for one pose.

    Args:
        joints: ``(16, 3)`` joint positions in display coordinates (metres).
        style: radii and tessellation.
        colours: the bones' colours (the joints stay white).
    Returns:
        ``(vertices (V, 3), triangles (T, 3) int32, colours (V, 3))``; the topology depends only
        on ``style``, so a live mesh can keep its triangles and only take new vertices. The bones
        come first, in ``BONES`` order, then the joints.
    """
    joints = np.asarray(joints, dtype=np.float64).reshape(NUM_JOINTS, 3)
    sph_v, sph_t = _sphere_template(style.sphere_resolution)
    bone_v, bone_t = cylinders(joints[[p for _, p in BONES]], joints[[c for c, _ in BONES]], style.bone_radius,
                               style.cylinder_resolution)
    joint_v = (sph_v[None] * style.joint_radius + joints[:, None, :]).reshape(-1, 3)
    joint_t = sph_t[None] + (len(bone_v) + np.arange(NUM_JOINTS) * len(sph_v))[:, None, None]
    vertices = np.concatenate([bone_v, joint_v])
    triangles = np.concatenate([bone_t, joint_t.reshape(-1, 3)]).astype(np.int32)
    vertex_colours = np.concatenate([np.repeat(bone_colours(colours), len(bone_v) // len(BONES), axis=0),
                                     np.tile(JOINT_COLOUR, (len(joint_v), 1))])
    return vertices, triangles, vertex_colours


def trail_mesh_arrays(points: np.ndarray, radius: float = 0.008, resolution: int = 8, colour=TRAIL_COLOUR):
    """A tube along ``points`` (oldest first) that fades from the background to ``colour`` (the trailed
    person's own colour when there are several people, so that one sees whose path it is).

    Returns ``(vertices, triangles, colours)`` like ``skeleton_mesh_arrays``; empty for < 2 points.
    """
    points = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    if len(points) < 2:
        return np.zeros((0, 3)), np.zeros((0, 3), np.int32), np.zeros((0, 3))
    vertices, triangles = cylinders(points[:-1], points[1:], radius, resolution)
    age = np.linspace(0.25, 1.0, len(points) - 1)  # newest segment brightest
    colours = np.asarray(BACKGROUND_COLOUR) + age[:, None] * (np.asarray(colour) - BACKGROUND_COLOUR)
    return vertices, triangles, np.repeat(colours, len(vertices) // (len(points) - 1), axis=0)


def build_skeleton_geometry(joints: np.ndarray, style: SkeletonStyle = SkeletonStyle(),
                            colours: palette.SkeletonColours = palette.SIDE_COLOURS):
    """An Open3D ``TriangleMesh`` of the skeleton (bones as cylinders, joints as spheres).

    Args:
        joints: ``(16, 3)`` joint positions in display coordinates (metres, y up).
        style: radii and tessellation.
        colours: the bones' colours.
    """
    import open3d as o3d

    vertices, triangles, colours = skeleton_mesh_arrays(joints, style, colours)
    mesh = o3d.geometry.TriangleMesh(o3d.utility.Vector3dVector(vertices), o3d.utility.Vector3iVector(triangles))
    mesh.vertex_colors = o3d.utility.Vector3dVector(colours)
    mesh.compute_vertex_normals()
    return mesh


def grid_lines(centre_xz, floor_y: float, half_size: float = 4.0, spacing: float = 0.5):
    """Points ``(P, 3)`` and line index pairs ``(L, 2)`` of a square ground grid at height ``floor_y``.

    Args:
        centre_xz: ``(x, z)`` the grid is centred near; snapped to ``spacing`` so that the lines stay
            fixed in the scene while the subject walks over them.
        floor_y: height of the floor in display coordinates.
        half_size: half the side of the grid in metres.
        spacing: distance between lines in metres.
    """
    cx, cz = (np.round(np.asarray(centre_xz, dtype=np.float64) / spacing) * spacing)
    ticks = np.arange(-half_size, half_size + 1e-9, spacing)
    points, lines = [], []
    for t in ticks:
        points += [(cx + t, floor_y, cz - half_size), (cx + t, floor_y, cz + half_size),
                   (cx - half_size, floor_y, cz + t), (cx + half_size, floor_y, cz + t)]
    for i in range(0, len(points), 2):
        lines.append((i, i + 1))
    return np.array(points, dtype=np.float64), np.array(lines, dtype=np.int32)


def frustum_lines(camera_matrix: np.ndarray, image_size, depth: float = 0.5):
    """The camera's viewing pyramid in the camera's own frame (OpenCV axes), as points and lines.

    Args:
        camera_matrix: ``(3, 3)`` intrinsics K in pixels.
        image_size: ``(w, h)`` in pixels.
        depth: distance of the drawn image rectangle from the optical centre, in metres.
    Returns:
        ``points (5, 3)`` (optical centre, then the image corners at ``depth``) and ``lines (8, 2)``.
    """
    k = np.asarray(camera_matrix, dtype=np.float64)
    w, h = float(image_size[0]), float(image_size[1])
    corners = np.array([[0.0, 0.0], [w, 0.0], [w, h], [0.0, h]])
    rays = np.column_stack([(corners[:, 0] - k[0, 2]) / k[0, 0], (corners[:, 1] - k[1, 2]) / k[1, 1], np.ones(4)])
    points = np.vstack([np.zeros(3), rays * depth])
    lines = np.array([[0, 1], [0, 2], [0, 3], [0, 4], [1, 2], [2, 3], [3, 4], [4, 1]], dtype=np.int32)
    return points, lines


def make_line_set(points: np.ndarray, lines: np.ndarray, colour, line_set=None):
    """Fill (or create) an Open3D ``LineSet`` with ``points``, ``lines`` and one colour."""
    import open3d as o3d

    line_set = o3d.geometry.LineSet() if line_set is None else line_set
    line_set.points = o3d.utility.Vector3dVector(np.asarray(points, dtype=np.float64).reshape(-1, 3))
    line_set.lines = o3d.utility.Vector2iVector(np.asarray(lines, dtype=np.int32).reshape(-1, 2))
    line_set.colors = o3d.utility.Vector3dVector(np.tile(colour, (len(line_set.lines), 1)))
    return line_set
