"""Text on the viewer's screen: the status lines (HUD) and the people's id labels.

Open3D's legacy Visualizer has no text overlay, so text is a flat mesh (``TriangleMesh.create_text``)
placed just in front of the viewer's camera, at a fixed depth, where one font unit maps to a fixed
number of pixels: it is drawn over the scene at a constant size, like 2D text, and has to be placed
again whenever the camera moves. The HUD sits at the top-left; an id label is centred just above the
projected head of its person. The live window and the offscreen snapshot use the same meshes, so a
snapshot shows what the window shows.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from realtime.viewer.camera import CameraView

TEXT_DEPTH_M = 0.2  # in front of the camera's fixed near plane (viewer_camera), behind nothing
FONT_UNITS_PER_LINE = 16.0  # height of one text line in the units of TriangleMesh.create_text
LINE_PX = 18.0  # the height of a line of text on the screen, HUD and labels alike
_LINE_SPACING = 1.3


def text_mesh(text: str) -> tuple[np.ndarray, np.ndarray]:
    """Vertices (font units, y up) and triangles of ``text``; Open3D's text mesh has no line breaks."""
    vertices, triangles, count = [], [], 0
    for row, line in enumerate(text.splitlines()):
        if not line.strip():
            continue
        line_vertices, line_triangles = _line_mesh(line)
        v = line_vertices.copy()
        v[:, 1] -= row * FONT_UNITS_PER_LINE * _LINE_SPACING
        vertices.append(v)
        triangles.append(line_triangles + count)
        count += len(v)
    if not vertices:
        return np.zeros((0, 3)), np.zeros((0, 3), np.int32)
    return np.concatenate(vertices), np.concatenate(triangles)


@lru_cache(maxsize=256)
def _line_mesh(line: str) -> tuple[np.ndarray, np.ndarray]:
    """One line's text mesh, made once: the window redraws its status lines and id labels every frame,
    and all but the first status line (frame rate, latency) stay the same from frame to frame."""
    import open3d as o3d

    mesh = o3d.t.geometry.TriangleMesh.create_text(line, depth=0.0).to_legacy()
    vertices, triangles = np.asarray(mesh.vertices).copy(), np.asarray(mesh.triangles).copy()
    vertices.flags.writeable = triangles.flags.writeable = False  # shared by every caller
    return vertices, triangles


def screen_vertices(text_vertices: np.ndarray, view: CameraView, top_left_px, line_px: float = LINE_PX) -> np.ndarray:
    """Text-mesh vertices (font units, y up) placed with their first line's top-left at pixel
    ``top_left_px`` of ``view``, facing its camera, in display coordinates."""
    k, d = view.intrinsic, TEXT_DEPTH_M
    scale = line_px / FONT_UNITS_PER_LINE * d / k[1, 1]  # metres per font unit at the text's depth
    top = FONT_UNITS_PER_LINE - 1.0  # fixed, so the text does not jump with the letters it holds
    u, v = float(top_left_px[0]), float(top_left_px[1])
    x = (u - k[0, 2]) * d / k[0, 0] + text_vertices[:, 0] * scale
    y = (v - k[1, 2]) * d / k[1, 1] + (top - text_vertices[:, 1]) * scale  # font y up, camera y down
    cam = np.column_stack([x, y, np.full(len(text_vertices), d)])
    r, t = view.extrinsic[:3, :3], view.extrinsic[:3, 3]
    return (cam - t) @ r  # camera -> display: R^T (p - t)


def hud_vertices(text_vertices: np.ndarray, view: CameraView, line_px: float = LINE_PX, margin_px: float = 12.0):
    """Place text-mesh vertices (font units, y up) at the top-left of ``view``, facing its camera."""
    return screen_vertices(text_vertices, view, (margin_px, margin_px), line_px)


def label_vertices(text_vertices: np.ndarray, view: CameraView, head, line_px: float = LINE_PX) -> np.ndarray | None:
    """Place a one-line label centred just above the display-space point ``head`` as ``view`` sees it;
    None when the head is behind the camera or off the screen (no label to draw)."""
    head = np.asarray(head, dtype=np.float64).reshape(1, 3)
    depth = (head @ view.extrinsic[:3, :3].T + view.extrinsic[:3, 3])[0, 2]
    if depth <= TEXT_DEPTH_M or len(text_vertices) == 0:
        return None
    u, v = view.project(head)[0]
    if not (0 <= u < view.width and 0 <= v < view.height):
        return None
    width_px = (text_vertices[:, 0].max() - text_vertices[:, 0].min()) * line_px / FONT_UNITS_PER_LINE
    gap_px = 0.5 * line_px  # clear of the head's joint sphere
    top_left = (u - width_px / 2.0, max(0.0, v - gap_px - line_px))
    return screen_vertices(text_vertices - [text_vertices[:, 0].min(), 0.0, 0.0], view, top_left, line_px)
