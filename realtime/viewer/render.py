"""Drawing a ``SceneState`` with Open3D's legacy Visualizer: live window and offscreen snapshots alike.

``SceneGeometries`` owns the Open3D objects of one window and keeps them in step with a ``SceneState``
(each person's skeleton mesh is rewritten in place, added or removed as people come and go, so the
user's orbit is never reset). ``render_frame_to_image`` draws one frame offscreen: the legacy
Visualizer with ``visible=False`` renders through EGL (Mesa) when there is no display.

Open3D's legacy Visualizer has no text overlay and cannot retitle its window, so the status line
(FPS, latency, "waiting for stream") and the people's id labels are flat text meshes kept in front of
the viewer's camera (``realtime.viewer.text``), the same in the window and in snapshots.
"""
from __future__ import annotations

import json
import os
import tempfile

import numpy as np

from realtime.viewer.geometry import (BACKGROUND_COLOUR, FRUSTUM_COLOUR, GRID_COLOUR, TRAIL_COLOUR, SkeletonStyle,
                                      frustum_lines, grid_lines, make_line_set, skeleton_mesh_arrays,
                                      trail_mesh_arrays)
from realtime.viewer.camera import CameraView, apply_view, default_view
from realtime.viewer.scene import SceneState
from realtime.viewer.text import hud_vertices, label_vertices, text_mesh
from semgcn.skeleton import JOINT_INDEX

_HEAD = JOINT_INDEX["head"]

HUD_COLOUR = (0.92, 0.92, 0.92)
_BOUNDS_HALF_SIZE_M = 3.0


class SceneGeometries:
    """The Open3D objects of one Visualizer, kept in step with a ``SceneState``: one skeleton mesh per
    person in view (made when they appear, removed when they leave) and, with several people, one id
    label per person.

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
        self.grid, self.frustum = o3d.geometry.LineSet(), o3d.geometry.LineSet()
        self.trail = o3d.geometry.TriangleMesh()
        self.hud = o3d.geometry.TriangleMesh()
        # Every geometry by name ("person 3", "label 3" come and go with the people), and those shown.
        self._objects = {"grid": self.grid, "frustum": self.frustum, "trail": self.trail, "hud": self.hud}
        self._shown: set[str] = set()
        self._colours: dict[int, object] = {}  # the colours each person's mesh was painted with
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

    @property
    def people_shown(self) -> list[int]:
        """The ids whose skeleton meshes are in the window, in id order."""
        return sorted(int(name.split()[1]) for name in self._shown if name.startswith("person "))

    @property
    def labels_shown(self) -> list[int]:
        """The ids whose labels are in the window, in id order."""
        return sorted(int(name.split()[1]) for name in self._shown if name.startswith("label "))

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
            self.vis.remove_geometry(self._objects[name], reset_bounding_box=False)
        if self._bounds_added:  # the last one out empties the box (a reset refits it to what is left)
            self.vis.remove_geometry(self.bounds, reset_bounding_box=True)
        self.vis.add_geometry(self.bounds, reset_bounding_box=True)
        self._bounds_added = True
        for name in self._shown:
            self.vis.add_geometry(self._objects[name], reset_bounding_box=False)
        if view is not None:
            apply_view(self.vis, view)

    def _show(self, name: str, visible: bool) -> None:
        geometry = self._objects[name]
        if visible and name not in self._shown:
            self.vis.add_geometry(geometry, reset_bounding_box=False)  # keep the user's view
            self._shown.add(name)
        elif visible:
            self.vis.update_geometry(geometry)
        elif name in self._shown:
            self.vis.remove_geometry(geometry, reset_bounding_box=False)
            self._shown.discard(name)

    def _forget(self, prefix: str, keep: set[int]) -> None:
        """Remove the geometries named ``prefix <id>`` of the ids not in ``keep`` (people who left)."""
        for name in [n for n in self._objects if n.startswith(prefix + " ") and int(n.split()[1]) not in keep]:
            self._show(name, False)
            del self._objects[name]
            if prefix == "person":
                self._colours.pop(int(name.split()[1]), None)

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
        for person in state.people:
            self._sync_person(person)
        self._forget("person", {p.id for p in state.people})
        trailed = state.trailed
        colour = trailed.colours.label if state.several and trailed is not None else TRAIL_COLOUR
        vertices, triangles, colours = trail_mesh_arrays(state.trail_points(), colour=colour)
        if len(vertices):
            self.trail.vertices = o3d.utility.Vector3dVector(vertices)
            self.trail.triangles = o3d.utility.Vector3iVector(triangles)
            self.trail.vertex_colors = o3d.utility.Vector3dVector(colours)
            self.trail.compute_vertex_normals()
        self._show("trail", state.trail_visible and len(vertices) > 0)

    def _sync_person(self, person) -> None:
        """Rewrite one person's mesh in place (made on their first frame; repainted if their colours change)."""
        import open3d as o3d

        name = f"person {person.id}"
        mesh = self._objects.setdefault(name, o3d.geometry.TriangleMesh())
        vertices, triangles, colours = skeleton_mesh_arrays(person.joints, self.style, person.colours)
        mesh.vertices = o3d.utility.Vector3dVector(vertices)
        if len(mesh.triangles) != len(triangles):
            mesh.triangles = o3d.utility.Vector3iVector(triangles)
        if self._colours.get(person.id) != person.colours:
            mesh.vertex_colors = o3d.utility.Vector3dVector(colours)
            self._colours[person.id] = person.colours
        mesh.compute_vertex_normals()
        self._show(name, True)

    def set_labels(self, state: SceneState, view: CameraView) -> None:
        """Put ``id N`` above each person's head as ``view`` sees it, in the person's colour (only for a
        stream of several people; call again whenever the people or the camera moved)."""
        import open3d as o3d

        shown = set()
        for person in state.people if state.several else []:
            name = f"label {person.id}"
            vertices, triangles = text_mesh(f"id {person.id}")
            placed = label_vertices(vertices, view, person.joints[_HEAD])
            if placed is None:  # behind the camera or off the screen
                continue
            label = self._objects.setdefault(name, o3d.geometry.TriangleMesh())
            label.vertices = o3d.utility.Vector3dVector(placed)
            label.triangles = o3d.utility.Vector3iVector(triangles)
            label.paint_uniform_color(person.colours.label)
            self._show(name, True)
            shown.add(person.id)
        self._forget("label", shown)

    def set_hud(self, text: str | None, view: CameraView) -> None:
        """Show ``text`` (one or more lines) at the top-left of ``view``; None hides it."""
        import open3d as o3d

        vertices, triangles = text_mesh(text or "")
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
        geometries.set_labels(state, view)
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
