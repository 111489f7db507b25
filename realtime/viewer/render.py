"""Drawing a ``SceneState`` with Open3D's legacy Visualizer: live window and offscreen snapshots alike.

``SceneGeometries`` owns the Open3D objects of one window and keeps them in step with a ``SceneState``
(the skeleton mesh is rewritten in place, added or removed as people come and go, so the user's
orbit is never reset). ``render_frame_to_image`` draws one frame offscreen: the legacy Visualizer
with ``visible=False`` renders through EGL (Mesa) when there is no display.

Open3D's legacy Visualizer has no text overlay and cannot retitle its window, so the status line
(FPS, latency, "waiting for stream") is a flat text mesh kept in front of the viewer's camera.
"""
from __future__ import annotations

import json
import os
import tempfile

import numpy as np

from realtime.viewer.geometry import (BACKGROUND_COLOUR, FRUSTUM_COLOUR, GRID_COLOUR, SkeletonStyle, frustum_lines,
                                      grid_lines, make_line_set, skeleton_mesh_arrays, trail_mesh_arrays)
from realtime.viewer.camera import CameraView, apply_view, default_view
from realtime.viewer.scene import SceneState

HUD_COLOUR = (0.92, 0.92, 0.92)
_HUD_DEPTH_M = 0.2  # in front of the camera's fixed near plane (viewer_camera), behind nothing
_BOUNDS_HALF_SIZE_M = 3.0
_FONT_UNITS_PER_LINE = 16.0  # height of one text line in the units of TriangleMesh.create_text


def hud_vertices(text_vertices: np.ndarray, view: CameraView, line_px: float = 18.0, margin_px: float = 12.0):
    """Place text-mesh vertices (font units, y up) at the top-left of ``view``, facing its camera."""
    k, d = view.intrinsic, _HUD_DEPTH_M
    metres_per_px = d / k[1, 1]
    scale = line_px / _FONT_UNITS_PER_LINE * metres_per_px
    top = _FONT_UNITS_PER_LINE - 1.0  # fixed, so the text does not jump with the letters it holds
    x = (margin_px - k[0, 2]) * d / k[0, 0] + text_vertices[:, 0] * scale
    y = (margin_px - k[1, 2]) * d / k[1, 1] + (top - text_vertices[:, 1]) * scale  # font y up, camera y down
    cam = np.column_stack([x, y, np.full(len(text_vertices), d)])
    r, t = view.extrinsic[:3, :3], view.extrinsic[:3, 3]
    return (cam - t) @ r  # camera -> display: R^T (p - t)


class SceneGeometries:
    """The Open3D objects of one Visualizer, kept in step with a ``SceneState``.

    Args:
        vis: an Open3D legacy ``Visualizer`` whose window exists.
        style: skeleton radii.
        show_grid: draw the ground grid.
        show_frustum: draw the source camera's frustum.
    """

    def __init__(self, vis, style: SkeletonStyle = SkeletonStyle(), show_grid: bool = True, show_frustum: bool = True):
        import open3d as o3d

        self.vis, self.style = vis, style
        self.show_grid, self.show_frustum = show_grid, show_frustum
        self.skeleton = o3d.geometry.TriangleMesh()
        self.grid, self.frustum = o3d.geometry.LineSet(), o3d.geometry.LineSet()
        self.trail = o3d.geometry.TriangleMesh()
        self.hud = o3d.geometry.TriangleMesh()
        self._shown: set[str] = set()
        option = vis.get_render_option()
        _soften_lights(option)
        option.background_color = np.asarray(BACKGROUND_COLOUR)
        option.mesh_show_back_face = True  # the HUD text is seen from behind once mirrored to y-down
        option.line_width = 2.0
        # Open3D measures zoom against the bounding box of the geometries present when the view was
        # last reset, and turns around its centre: an invisible box (one zero-area triangle) keeps that
        # fixed, whatever is drawn.
        self.bounds = o3d.geometry.TriangleMesh()
        self.bounds.triangles = o3d.utility.Vector3iVector([[0, 1, 2]])
        self._bounds_added = False
        self.set_view(None)

    def set_view(self, view: CameraView | None, centre=(0.0, 0.0, 0.0)) -> None:
        """Point the camera exactly at ``view`` (None: leave it), turning around ``centre`` from then on.

        Open3D puts the point the camera turns around (the one ``set_lookat`` moves) on the view axis
        at the depth of the bounding box's centre, and grows the box with every geometry added with a
        reset, so everything steps out while a 6 m box around ``centre`` alone sets it.
        """
        import open3d as o3d

        corner = np.full(3, _BOUNDS_HALF_SIZE_M)
        centre = np.asarray(centre, dtype=np.float64)
        self.bounds.vertices = o3d.utility.Vector3dVector(np.stack([centre - corner, centre + corner, centre - corner]))
        for name in self._shown:
            self.vis.remove_geometry(getattr(self, name), reset_bounding_box=False)
        if self._bounds_added:  # the last one out empties the box (a reset refits it to what is left)
            self.vis.remove_geometry(self.bounds, reset_bounding_box=True)
        self.vis.add_geometry(self.bounds, reset_bounding_box=True)
        self._bounds_added = True
        for name in self._shown:
            self.vis.add_geometry(getattr(self, name), reset_bounding_box=False)
        if view is not None:
            apply_view(self.vis, view)

    def _show(self, name: str, visible: bool) -> None:
        geometry = getattr(self, name)
        if visible and name not in self._shown:
            self.vis.add_geometry(geometry, reset_bounding_box=False)  # keep the user's view
            self._shown.add(name)
        elif visible:
            self.vis.update_geometry(geometry)
        elif name in self._shown:
            self.vis.remove_geometry(geometry, reset_bounding_box=False)
            self._shown.discard(name)

    def sync(self, state: SceneState) -> None:
        """Bring every geometry up to date with ``state`` (call after ``state.update`` / ``step``)."""
        import open3d as o3d

        if self.show_grid:
            make_line_set(*grid_lines(state.look_at[[0, 2]], state.floor_y), GRID_COLOUR, self.grid)
        self._show("grid", self.show_grid)
        frustum_ok = self.show_frustum and state.camera_pose is not None and state.camera_matrix is not None
        if frustum_ok:
            points, lines = frustum_lines(state.camera_matrix, state.image_size)
            r, t = state.camera_pose
            make_line_set(points @ r.T + t, lines, FRUSTUM_COLOUR, self.frustum)
        self._show("frustum", frustum_ok)
        if state.joints is not None:
            vertices, triangles, colours = skeleton_mesh_arrays(state.joints, self.style)
            self.skeleton.vertices = o3d.utility.Vector3dVector(vertices)
            if len(self.skeleton.triangles) != len(triangles):
                self.skeleton.triangles = o3d.utility.Vector3iVector(triangles)
                self.skeleton.vertex_colors = o3d.utility.Vector3dVector(colours)
            self.skeleton.compute_vertex_normals()
        self._show("skeleton", state.joints is not None)
        vertices, triangles, colours = trail_mesh_arrays(state.trail_points())
        if len(vertices):
            self.trail.vertices = o3d.utility.Vector3dVector(vertices)
            self.trail.triangles = o3d.utility.Vector3iVector(triangles)
            self.trail.vertex_colors = o3d.utility.Vector3dVector(colours)
            self.trail.compute_vertex_normals()
        self._show("trail", state.joints is not None and len(vertices) > 0)

    def set_hud(self, text: str | None, view: CameraView) -> None:
        """Show ``text`` (one or more lines) at the top-left of ``view``; None hides it."""
        import open3d as o3d

        vertices, triangles = _text_mesh(text or "")
        if len(vertices):
            self.hud.vertices = o3d.utility.Vector3dVector(hud_vertices(vertices, view))
            self.hud.triangles = o3d.utility.Vector3iVector(triangles)
            self.hud.paint_uniform_color(HUD_COLOUR)
        self._show("hud", len(vertices) > 0)


def _soften_lights(option) -> None:
    """Tone down the legacy renderer's lights, which saturate colours and put a white specular streak
    along every cylinder (two lights at the eye, 0.66 diffuse each). Only settable through its JSON."""
    with tempfile.TemporaryDirectory() as folder:
        path = f"{folder}/render_option.json"
        option.save_to_json(path)
        with open(path) as handle:
            settings = json.load(handle)
        settings["light_ambient_color"] = [0.25, 0.25, 0.25]
        for i in range(4):
            settings[f"light{i}_diffuse_power"] = 0.4
            settings[f"light{i}_specular_power"] = 0.04
            settings[f"light{i}_specular_shininess"] = 40.0
        with open(path, "w") as handle:
            json.dump(settings, handle)
        option.load_from_json(path)


def _text_mesh(text: str):
    """Vertices (font units, y up) and triangles of ``text``; Open3D's text mesh has no line breaks."""
    import open3d as o3d

    vertices, triangles, count = [], [], 0
    for row, line in enumerate(text.splitlines()):
        if not line.strip():
            continue
        mesh = o3d.t.geometry.TriangleMesh.create_text(line, depth=0.0).to_legacy()
        v = np.asarray(mesh.vertices).copy()
        v[:, 1] -= row * _FONT_UNITS_PER_LINE * 1.3
        vertices.append(v)
        triangles.append(np.asarray(mesh.triangles) + count)
        count += len(v)
    if not vertices:
        return np.zeros((0, 3)), np.zeros((0, 3), np.int32)
    return np.concatenate(vertices), np.concatenate(triangles)


def render_state_to_image(state: SceneState, width: int = 960, height: int = 720, view: CameraView | None = None,
                          hud_text: str | None = None, style: SkeletonStyle = SkeletonStyle(),
                          show_grid: bool = True, show_frustum: bool = True) -> np.ndarray:
    """Draw ``state`` offscreen and return the image, ``(height, width, 3)`` uint8 RGB.

    Args:
        state: the scene to draw (``state.settle()`` first for a single frame).
        width, height: image size in pixels.
        view: the camera; None for ``default_view`` of the subject.
        hud_text: a status text drawn at the top-left, or None.
        style: skeleton radii.
        show_grid, show_frustum: draw the ground grid / the source camera's frustum.
    Raises:
        RuntimeError: when Open3D cannot create an offscreen context (no EGL / OpenGL libraries).
    """
    import open3d as o3d

    _ensure_runtime_dir()
    vis = o3d.visualization.Visualizer()
    if not vis.create_window(window_name="semgcn snapshot", width=width, height=height, visible=False):
        raise RuntimeError("Open3D could not create an offscreen window (needs EGL: Debian libegl1 libgl1 "
                           "libgl1-mesa-dri)")
    try:
        geometries = SceneGeometries(vis, style, show_grid, show_frustum)
        geometries.sync(state)
        view = view or default_view(state.look_at, width, height)
        geometries.set_view(view, state.look_at)
        if hud_text:
            geometries.set_hud(hud_text, view)
        vis.poll_events()
        vis.update_renderer()
        image = np.asarray(vis.capture_screen_float_buffer(do_render=True))
    finally:
        vis.destroy_window()
    return (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def render_frame_to_image(frame, width: int = 960, height: int = 720, camera_view: CameraView | None = None,
                          scene_options=None, **kwargs) -> np.ndarray:
    """Draw one frame offscreen (no display needed); returns ``(height, width, 3)`` uint8 RGB.

    Args:
        frame: a ``FrameResult`` (decoded from the stream or read from a session); one with nobody in it draws the empty scene.
        width, height: image size in pixels.
        camera_view: the viewer's camera; None for ``default_view`` of the subject.
        scene_options: a ``realtime.viewer.scene.SceneOptions`` (coordinates, default distance).
        **kwargs: passed to ``render_state_to_image`` (hud_text, style, show_grid, show_frustum).
    """
    from realtime.viewer.scene import SceneOptions

    state = SceneState(scene_options or SceneOptions())
    state.update(frame)
    state.settle()
    return render_state_to_image(state, width, height, camera_view, **kwargs)


def _ensure_runtime_dir() -> None:
    """Give Mesa's EGL a private XDG_RUNTIME_DIR when none is set (headless services, CI).

    Without one, the offscreen context still works but Mesa prints "error: XDG_RUNTIME_DIR is invalid",
    which reads like a failure to the user.
    """
    if not os.environ.get("XDG_RUNTIME_DIR"):
        os.environ["XDG_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="semgcn-xdg-")
