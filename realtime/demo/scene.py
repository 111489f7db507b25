"""The built-in demo source: a procedurally animated, software-rendered person with ground truth.

``DemoScene.render(index)`` is a pure function of ``(seed, index)``: it poses the figure at
``t = index / fps`` (``motion``), dresses it (``figure``), ray-casts it into the room (``render``,
``background``) and returns the image with the projected 2D joints and the camera-frame 3D joints of
the canonical skeleton, so the whole pipeline can be run and measured on any machine.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from realtime.demo.background import room_background
from realtime.demo.camera import PinholeCamera
from realtime.demo.crowd import crowd, merge
from realtime.demo.figure import Figure
from realtime.demo.kinematics import BodyShape
from realtime.demo.motion import MotionGenerator, MotionState
from realtime.demo.render import FigureRenderer

#: Camera placement of seed 0 (metres): height, distance from the room's centre, sideways offset,
#: and the height of the point it looks at (slightly below the camera, so it looks down a little).
DEFAULT_CAMERA = {"height": 1.4, "distance": 3.5, "lateral": 0.0, "target_height": 1.0}
_HALF_HEIGHT_M = 1.25   # vertical half-extent the view must cover around the aim point
_APPROACH_M = 0.45      # how much nearer than the room's centre the figure (and its hands) may come


@dataclass
class FigureTruth:
    """The ground truth of one figure in one frame.

    Attributes:
        keypoints_2d: (16, 2) float32 pixels.  joints_3d: (16, 3) float32 metres, camera frame, pelvis
        at the origin.  root_translation: (3,) float32 camera-frame pelvis.  action, view_yaw_deg: as
        in ``DemoFrame``.  visible: every joint inside the image and no nearer figure covering more
        than ``OCCLUDED_FRACTION`` of its box (what "fully visible" means in the measurements).
    """

    keypoints_2d: np.ndarray
    joints_3d: np.ndarray
    root_translation: np.ndarray
    action: str = ""
    view_yaw_deg: float = 0.0
    visible: bool = True


#: A figure counts as occluded when nearer figures cover more than this part of its 2D box.
OCCLUDED_FRACTION = 0.15


@dataclass
class DemoFrame:
    """One rendered demo frame and its ground truth (``figures``: every figure; the other fields:
    the first figure's, for code written for one).

    Attributes:
        image: (H, W, 3) uint8 BGR.
        keypoints_2d: (16, 2) float32 pixels, the canonical joints projected with ``camera_matrix``.
        joints_3d: (16, 3) float32 metres, camera frame (OpenCV axes), pelvis at the origin.
        root_translation: (3,) float32 metres, camera-frame position of the pelvis.
        camera_matrix: (3, 3) float64 intrinsics.
        t: time in seconds (``index / fps``).
        index: the frame index.
        action: what the figure is doing (``march``, ``wave``, ``squat``, ...).
        view_yaw_deg: where the figure faces relative to the camera, in [-180, 180): 0 = facing
            the camera, +-90 = side view, +-180 = back view.
    """

    image: np.ndarray
    keypoints_2d: np.ndarray
    joints_3d: np.ndarray
    root_translation: np.ndarray
    camera_matrix: np.ndarray
    t: float
    index: int = 0
    action: str = ""
    view_yaw_deg: float = 0.0
    figures: list[FigureTruth] | None = None


def view_yaw_deg(camera: PinholeCamera, state: MotionState) -> float:
    """Where the figure faces relative to the camera, in [-180, 180): 0 = towards it, 180 = away."""
    to_camera = camera.position - state.skeleton.joints[0]
    towards = np.degrees(np.arctan2(to_camera[0], to_camera[2]))
    return float((state.heading_deg - towards + 180.0) % 360.0 - 180.0)


def _camera_placement(seed: int) -> dict[str, float]:
    if seed == 0:
        return dict(DEFAULT_CAMERA)
    rng = np.random.default_rng(seed)
    return {"height": float(rng.uniform(1.2, 1.6)), "distance": float(rng.uniform(3.2, 3.6)),
            "lateral": float(rng.uniform(-0.4, 0.4)), "target_height": float(rng.uniform(0.95, 1.05))}


class DemoScene:
    """A deterministic, endless demo video with ground truth.

    Args:
        width, height: image size in pixels.
        fps: frame rate; frame ``index`` shows time ``index / fps``.
        seed: varies the camera placement (height 1.2-1.6 m, 3.2-3.6 m away), the clothes and where
            in the motion loop the video starts; seed 0 is the documented default view.
        hfov_deg: horizontal field of view of the pinhole camera (degrees). With a narrow vertical
            field of view (16:9 images, below ~55 degrees) the camera backs off (up to ~4.3 m for
            16:9 at 60 degrees) so that the whole figure stays in frame.
        supersample: rays per pixel along each axis for the figure (2 = 4 rays, antialiased).
        people: 1 (the single figure above) to 3 figures walking paths that cross (``realtime.demo.crowd``).
    """

    def __init__(self, width: int = 640, height: int = 480, fps: float = 30.0, seed: int = 0,
                 hfov_deg: float = 60.0, supersample: int = 2, people: int = 1) -> None:
        if width < 64 or height < 64:
            raise ValueError(f"demo image size must be at least 64x64, got {width}x{height}")
        if not fps > 0:
            raise ValueError(f"demo fps must be positive, got {fps}")
        self.fps = float(fps)
        self.seed = int(seed)
        place = _camera_placement(self.seed)
        # Back off when the vertical field of view is narrow (16:9 images, long lenses), so that
        # raised hands and feet stay in frame: about 1.25 m above and below the aim point.
        half_vfov = math.atan(height / width * math.tan(math.radians(hfov_deg) / 2.0))
        place["distance"] = max(place["distance"], _HALF_HEIGHT_M / math.tan(half_vfov) + _APPROACH_M)
        self.camera = PinholeCamera.look_at(
            position=(place["lateral"], place["height"], place["distance"]),
            target=(0.0, place["target_height"], 0.0), size=(width, height), hfov_deg=hfov_deg)
        self.shape = BodyShape()
        self.motion = MotionGenerator(self.shape, seed=self.seed)
        self.figure = Figure(palette_index=self.seed)
        self.crowd = crowd(people, self.seed) if people > 1 else []
        self.renderer = FigureRenderer(self.camera, room_background(self.camera), supersample=supersample)

    @property
    def camera_matrix(self) -> np.ndarray:
        """(3, 3) float64 intrinsics of the demo camera."""
        return self.camera.matrix.copy()

    @property
    def image_size(self) -> tuple[int, int]:
        """``(width, height)`` in pixels."""
        return self.camera.size

    def render(self, index: int) -> DemoFrame:
        """Render frame ``index`` (any integer >= 0; the motion loops every ``LOOP_SECONDS``)."""
        t = float(index) / self.fps
        states = self._states(t)
        if self.crowd:
            image = self.renderer.render(merge([m.place(s) for m, s in zip(self.crowd, states)]))
        else:
            image = self.renderer.render(self.figure.place(states[0].skeleton))
        figures = self._figures(states)
        first = figures[0]
        return DemoFrame(image=image, keypoints_2d=first.keypoints_2d, joints_3d=first.joints_3d,
                         root_translation=first.root_translation, camera_matrix=self.camera_matrix,
                         t=t, index=int(index), action=first.action, view_yaw_deg=first.view_yaw_deg,
                         figures=figures)

    def figures_at(self, index: int) -> list[FigureTruth]:
        """The true figures of frame ``index`` (with their visibility), without rendering the image."""
        return self._figures(self._states(index / self.fps))

    def _figures(self, states: list[MotionState]) -> list[FigureTruth]:
        return _with_visibility([self._truth(state) for state in states], self.camera.size)

    def _states(self, t: float) -> list[MotionState]:
        return [member.state_at(t) for member in self.crowd] if self.crowd else [self.motion.state_at(t)]

    def _truth(self, state: MotionState) -> FigureTruth:
        joints_cam = self.camera.to_camera(state.skeleton.joints)
        root = joints_cam[0].copy()
        return FigureTruth(self.camera.project(joints_cam).astype(np.float32), (joints_cam - root).astype(np.float32),
                           root.astype(np.float32), state.action, view_yaw_deg(self.camera, state))


def _with_visibility(figures: list[FigureTruth], image_size: tuple[int, int]) -> list[FigureTruth]:
    """Mark the figures that are fully visible: inside the image, not hidden by a nearer one."""
    w, h = image_size
    boxes = [np.concatenate([f.keypoints_2d.min(0), f.keypoints_2d.max(0)]) for f in figures]
    boxes = [b + np.array([-1, -1, 1, 1]) * 0.1 * (b[3] - b[1]) for b in boxes]  # the body around its joints
    for i, figure in enumerate(figures):
        kp = figure.keypoints_2d
        inside = bool(np.all((kp >= 0) & (kp < [w, h])))
        area = max((boxes[i][2] - boxes[i][0]) * (boxes[i][3] - boxes[i][1]), 1e-9)
        covered = sum(_overlap(boxes[i], boxes[j]) for j, other in enumerate(figures)
                      if j != i and other.root_translation[2] < figure.root_translation[2])
        figure.visible = inside and covered / area <= OCCLUDED_FRACTION
    return figures


def _overlap(a: np.ndarray, b: np.ndarray) -> float:
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
