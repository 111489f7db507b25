"""The calibration stage of the live pipeline: intrinsics, undistortion, scale, position, world frame.

Usage in the pipeline (``realtime.core.pipeline`` does this)::

    stage = CalibrationStage.from_file("cam.json", image_size=(w, h))   # or .uncalibrated((w, h))
    person.lift_input = stage.undistort(person.keypoints_2d)
    person.joints_3d = lifter.predict(person.lift_input, image_size=(w, h), focal=stage.focal, center=stage.center)
    stage.annotate(result)   # a FrameResult: camera, world_frame; per person scale, root_translation, joints_world
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from calibration import camera_file
from calibration.camera_file import FloorPlane
from calibration.position import solve_root_translation
from calibration.scale import (DEFAULT_HEIGHT_M, FloorScaleEstimator, bone_sum_for_height, height_for_bone_sum,
                               scale_to_height)
from calibration.world import FootContactFloor, WorldFrame, world_frame_from_floor
from realtime.core.records import FrameResult, PersonPose
from semgcn.codec import DEFAULT_HFOV_DEG, default_intrinsics
from semgcn.skeleton import bone_lengths

SCALE_MODES = ("none", "height", "canonical", "floor")
WORLD_MODES = ("none", "auto", "board", "foot_contacts")
# More iterations than OpenCV's default 5: strong webcam distortion at the image corners needs them.
_UNDISTORT_CRITERIA = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 30, 1e-10)


@dataclass
class CalibrationOptions:
    """Options of the calibration stage.

    Attributes:
        subject_height_m: the person's height in metres; given, the scale mode defaults to "height".
        scale_mode: "none" (the lifter's metres as they are), "height" (bone-length sum of a canonical
            skeleton of ``subject_height_m``, the paper's calibration), "canonical" (the same with
            ``DEFAULT_HEIGHT_M``), "floor" (estimated online from a metric floor plane from a board);
            None picks "height" when a height is given, else "none".
        world: "none", "board" (the floor plane of the calibration file), "foot_contacts" (estimated
            from where the ankles rest over time), "auto" (board when the file has one, else foot contacts).
        up_axis: "y" or "z" up for ``joints_world`` (see calibration.world).
        min_confidence: joints under this detector confidence are left out of the position fit.
        refine_iters: Gauss-Newton iterations of the position fit.
        scale_joints_3d: also multiply the streamed ``joints_3d`` by the scale factor (so that it is
            consistent with ``root_translation``); the factor is in the header either way.
    """

    subject_height_m: float | None = None
    scale_mode: str | None = None
    world: str = "auto"
    up_axis: str = "y"
    min_confidence: float = 0.3
    refine_iters: int = 5
    scale_joints_3d: bool = True

    def resolved_scale_mode(self) -> str:
        mode = self.scale_mode or ("height" if self.subject_height_m else "none")
        if mode not in SCALE_MODES:
            raise ValueError(f"scale_mode must be one of {SCALE_MODES}, got {mode!r}")
        if mode == "height" and not (self.subject_height_m and 0.5 < self.subject_height_m < 2.6):
            raise ValueError(f"scale_mode 'height' needs subject_height_m in metres (0.5-2.6), got {self.subject_height_m!r}")
        return mode


class CalibrationStage:
    """Camera intrinsics plus the per-frame calibration work (see the module docstring).

    Args:
        camera_matrix: (3, 3) intrinsic matrix for ``image_size``.
        dist_coeffs: OpenCV distortion coefficients (None or zeros: no distortion).
        image_size: ``(w, h)`` of the frames this stage will see.
        calibrated: False when the intrinsics are an assumed default.
        options: ``CalibrationOptions``.
        floor: a metric floor plane in the camera frame (from a board), or None.
        info: extra fields for the ``camera`` header (file name, rms_px, ...).
    """

    def __init__(self, camera_matrix, dist_coeffs, image_size, calibrated: bool,
                 options: CalibrationOptions | None = None, floor: FloorPlane | None = None,
                 info: dict | None = None):
        self.camera_matrix = np.asarray(camera_matrix, dtype=np.float64).reshape(3, 3)
        dist = np.zeros(5) if dist_coeffs is None else np.asarray(dist_coeffs, dtype=np.float64).ravel()
        self.dist_coeffs = dist
        self.image_size = (int(image_size[0]), int(image_size[1]))
        self.calibrated = bool(calibrated)
        self.options = options or CalibrationOptions()
        self.scale_mode = self.options.resolved_scale_mode()
        if self.options.world not in WORLD_MODES:
            raise ValueError(f"world must be one of {WORLD_MODES}, got {self.options.world!r}")
        if self.options.world == "board" and floor is None:
            raise ValueError("world 'board' needs a floor plane in the calibration file (python -m calibration floor)")
        if self.scale_mode == "floor" and floor is None:
            raise ValueError("scale_mode 'floor' needs a metric floor plane in the calibration file "
                             "(python -m calibration floor)")
        self.board_floor = floor
        self.info = dict(info or {})
        fx, fy = self.camera_matrix[0, 0], self.camera_matrix[1, 1]
        self.focal = float((fx + fy) / 2.0)
        self.center = self.camera_matrix[:2, 2].copy()
        # The lifter's codec uses one focal length: undistorted keypoints go to this ideal camera.
        self.ideal_matrix = np.array([[self.focal, 0, self.center[0]], [0, self.focal, self.center[1]], [0, 0, 1.0]])
        self.has_distortion = bool(np.any(self.dist_coeffs != 0)) or abs(fx - fy) > 1e-9 or self.camera_matrix[0, 1] != 0
        self._foot_floor = FootContactFloor()
        self._floor_scale = FloorScaleEstimator()
        self._world: WorldFrame | None = None
        if self.options.world in ("board", "auto") and floor is not None:
            self._world = world_frame_from_floor(floor, self.options.up_axis)

    # ----------------------------------------------------------------- construction
    @classmethod
    def from_file(cls, path, image_size, options: CalibrationOptions | None = None) -> "CalibrationStage":
        """Load a ``semgcn.camera/1`` file (ValueError with a one-line reason on a bad file).

        Args:
            path: the calibration JSON.
            image_size: ``(w, h)`` of the live frames. A different size with the same aspect ratio
                rescales the intrinsics (a webcam streaming at a lower resolution); another aspect
                ratio is an error, since the crop is unknown.
            options: ``CalibrationOptions``.
        """
        cam = camera_file.load(path)
        K = cam.camera_matrix.copy()
        w, h = int(image_size[0]), int(image_size[1])
        cw, ch = cam.image_size
        info = {"file": str(path), "rms_px": cam.rms_px, "n_views": cam.n_views, "date": cam.date}
        if (w, h) != (cw, ch):
            if abs(w / h - cw / ch) > 0.01:
                raise ValueError(f"calibration file {path} is for {cw}x{ch} images but the frames are {w}x{h} "
                                 "(another aspect ratio); calibrate at this resolution")
            K[:2] *= w / cw
            info["rescaled_from"] = [cw, ch]
        return cls(K, cam.dist_coeffs, (w, h), True, options, cam.floor, info)

    @classmethod
    def uncalibrated(cls, image_size, hfov_deg: float = DEFAULT_HFOV_DEG,
                     options: CalibrationOptions | None = None) -> "CalibrationStage":
        """Assumed intrinsics: ``semgcn.codec.default_intrinsics`` (image centre, ``hfov_deg`` field of view)."""
        focal, center = default_intrinsics(image_size, hfov_deg)
        K = np.array([[focal, 0, center[0]], [0, focal, center[1]], [0, 0, 1.0]])
        return cls(K, None, image_size, False, options, None, {"assumed_hfov_deg": float(hfov_deg)})

    # ----------------------------------------------------------------- per frame
    def undistort(self, keypoints_2d) -> np.ndarray:
        """Undistort (16, 2) pixel keypoints into the ideal camera (``focal``, ``center``, no distortion).

        Identity when there is no distortion and square pixels. Non-finite joints stay non-finite.
        """
        kp = np.asarray(keypoints_2d, dtype=np.float64)
        if not self.has_distortion:
            return kp.copy()
        out = np.full_like(kp, np.nan)
        ok = np.all(np.isfinite(kp), axis=-1)
        if ok.any():
            pts = cv2.undistortPoints(kp[ok].reshape(-1, 1, 2), self.camera_matrix, self.dist_coeffs,
                                      P=self.ideal_matrix, criteria=_UNDISTORT_CRITERIA)
            out[ok] = pts.reshape(-1, 2)
        return out

    def normalised(self, keypoints_2d) -> np.ndarray:
        """(16, 2) pixel keypoints -> undistorted normalised camera coordinates ``(u - c) / f``."""
        return (self.undistort(keypoints_2d) - self.center) / self.focal

    def annotate(self, result: FrameResult) -> None:
        """Add the calibration's results to a frame's record in place.

        Sets ``result.camera`` and ``result.world_frame`` (once a world frame is known, or its status)
        and, per person: ``scale``, ``position`` (the fit), ``root_translation`` (3,) metres when the
        fit succeeds, and ``joints_world`` (16, 3) once a world frame is known. With
        ``scale_joints_3d`` the person's ``joints_3d`` is replaced by its metric-scaled copy. A
        person's ``lift_input`` (the undistorted keypoints the lifter saw) is reused, not recomputed.
        """
        result.camera = self.camera_header()
        for person in result.people:
            if person.joints_3d is not None and person.keypoints_2d is not None:
                self._annotate_person(person)
        result.world_frame = self._world_header()

    def _annotate_person(self, person: PersonPose) -> None:
        joints = np.asarray(person.joints_3d, dtype=np.float64)
        weights = None
        if person.confidence is not None:
            conf = np.asarray(person.confidence, dtype=np.float64)
            weights = np.where(conf >= self.options.min_confidence, conf, 0.0)
        undistorted = person.lift_input if person.lift_input is not None else self.undistort(person.keypoints_2d)
        points = (np.asarray(undistorted, dtype=np.float64) - self.center) / self.focal
        factor = self._scale_factor(joints)
        scaled = joints * factor
        fit = solve_root_translation(points, scaled, weights, self.options.refine_iters)
        if self.scale_mode == "floor" and fit.ok:
            # the estimator works on the lifter's own scale: unscale the translation fitted to the scaled pose
            self._floor_scale.add(joints, fit.translation / factor, self.board_floor.normal, self.board_floor.offset_m)
        person.scale = self._scale_header(scaled, factor)
        person.position = {"ok": fit.ok, "joints_used": fit.n_used,
                           "rms_px": round(fit.rms * self.focal, 3) if fit.ok else None}
        if self.options.scale_joints_3d and factor != 1.0:
            person.joints_3d = scaled.astype(np.float32)
        if not fit.ok:
            return
        person.root_translation = fit.translation.astype(np.float32)
        absolute = scaled + fit.translation
        if self._uses_foot_contacts:
            self._foot_floor.add(absolute)
            floor = self._foot_floor.estimate()
            if floor is not None and (self._world is None or self._world.floor is not floor):
                self._world = world_frame_from_floor(floor, self.options.up_axis)
        if self._world is not None:
            person.joints_world = self._world.to_world(absolute).astype(np.float32)

    def reset(self) -> None:
        """Forget online state (foot contacts, scale estimates), e.g. when the camera moved."""
        self._foot_floor.reset()
        self._floor_scale.reset()
        if self._uses_foot_contacts:
            self._world = None

    @property
    def _uses_foot_contacts(self) -> bool:
        return self.options.world == "foot_contacts" or (self.options.world == "auto" and self.board_floor is None)

    # ----------------------------------------------------------------- headers
    def camera_header(self) -> dict:
        K = self.camera_matrix
        head = {"calibrated": self.calibrated, "fx": float(K[0, 0]), "fy": float(K[1, 1]),
                "cx": float(K[0, 2]), "cy": float(K[1, 2]), "focal_used": self.focal,
                "dist_coeffs": [float(v) for v in self.dist_coeffs],
                "image_size": list(self.image_size), "keypoints_2d": "raw detector pixels (distorted)"}
        head.update(self.info)
        return head

    def _scale_factor(self, joints: np.ndarray) -> float:
        if self.scale_mode == "height":
            factor = scale_to_height(joints, self.options.subject_height_m)
        elif self.scale_mode == "canonical":
            factor = scale_to_height(joints, DEFAULT_HEIGHT_M)
        elif self.scale_mode == "floor":
            factor = self._floor_scale.factor or 1.0
        else:
            factor = 1.0
        return factor if np.isfinite(factor) else 1.0

    def _scale_header(self, scaled: np.ndarray, factor: float) -> dict:
        head = {"method": self.scale_mode, "factor": float(factor)}
        if self.scale_mode == "height":
            head.update(subject_height_m=self.options.subject_height_m,
                        bone_sum_m=bone_sum_for_height(self.options.subject_height_m))
        elif self.scale_mode == "canonical":
            head.update(subject_height_m=DEFAULT_HEIGHT_M, bone_sum_m=bone_sum_for_height(DEFAULT_HEIGHT_M))
        elif self.scale_mode == "floor":
            head.update(converged=self._floor_scale.factor is not None,
                        estimated_height_m=height_for_bone_sum(bone_lengths(scaled).sum()))
        head["applied_to_joints_3d"] = bool(self.options.scale_joints_3d)
        return head

    def _world_header(self) -> dict | None:
        if self._world is not None:
            return self._world.header()
        if self.options.world != "none":
            return {"name": None, "up": self.options.up_axis,
                    "status": f"estimating floor ({self._foot_floor.n_contacts} foot contacts)"}
        return None
