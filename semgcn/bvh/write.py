"""Turn recorded 3D joints into a BVH clip (Blender, MotionBuilder, game engines): the skeleton solver's
constant-bone humanoid and its rotations (``semgcn.solver``), the same as VMC and Live Link receive.

Axes: BVH is y-up, and the BVH axes are the solver frame: camera coordinates (x right, y down,
z forward) become ``(x, -y, -z)``, a proper rotation (180 deg about x): x stays right as seen from the
camera, y points up, z points at the camera. A subject facing the camera faces +z. Units: metres
unless ``unit`` says otherwise.

Hierarchy: the solver's 19 bones with Unity's ``HumanBodyBones`` names (``Hips`` the root, ``Spine``,
``Chest``, ``Neck``, ``Head``, ``LeftShoulder`` / ``LeftUpperArm`` / ``LeftLowerArm`` / ``LeftHand``,
``LeftUpperLeg`` / ``LeftLowerLeg`` / ``LeftFoot`` and the right side), in the T-pose rest, with the
clip's robust bone lengths; End Sites at the top of the head, the hands and the toes. Every joint
carries ``Zrotation Yrotation Xrotation`` (intrinsic Z-Y-X, degrees) of its local rotation; ``Hips``
also ``X/Y/Zposition``: the pelvis (the stream's ``root_translation`` when it has one, else the hip
height above the origin). Forward kinematics of the file gives back the solver's skeleton.

``per_frame_lengths`` adds position channels to every joint holding, each frame, the offset that puts
it exactly where the recording had it (length and direction), so the joints come back exactly for any
recording; these channels replace the OFFSET, as Blender's importer reads them. Use the default rigid
skeleton for retargeting.

Frames without a person (or with non-finite joints) hold the previous pose (the first pose before the
first detection).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from semgcn.solver.axes import CAMERA_TO_SOLVER, convert_points
from semgcn.solver.clip import ClipSolution, solve_clip
from semgcn.solver.rig import BONE_NAMES, BONE_PARENTS, end_sites

_UNIT_SCALE = {"m": 1.0, "cm": 100.0, "mm": 1000.0}


@dataclass
class BvhExportOptions:
    """Options of :func:`joints_to_bvh`.

    Attributes:
        unit: ``"m"``, ``"cm"`` or ``"mm"`` for OFFSETs and positions.
        decimals: decimals written for positions and angles (6 keeps FK errors far below 1 um).
        per_frame_lengths: position channels on every joint that put it where the recording had it
            (module docstring).
    """

    unit: str = "m"
    decimals: int = 6
    per_frame_lengths: bool = False


def camera_to_bvh(points: np.ndarray) -> np.ndarray:
    """Camera-frame points (..., 3) to BVH axes (y up): the solver frame (y down / z forward -> y up /
    z towards the camera)."""
    return convert_points(points, CAMERA_TO_SOLVER)


def solve_recording(joints_camera: np.ndarray, valid: np.ndarray, root_camera: np.ndarray | None = None,
                    landmarks: list | None = None) -> ClipSolution:
    """The solver's clip for camera-frame joints ``(F, 16, 3)`` (and pelvis positions ``(F, 3)``).

    Args:
        landmarks: per frame ``(points (33, 3), visibility (33,) | None)`` or None (BlazePose's, when the
            recording has them: head, hand and foot orientations).
    Raises:
        ValueError: no valid frame.
    """
    joints = camera_to_bvh(joints_camera)
    roots = None if root_camera is None else camera_to_bvh(root_camera)
    valid = np.asarray(valid, dtype=bool)
    if not (valid & np.isfinite(joints).all(axis=(1, 2))).any():
        raise ValueError("no frame with a person: nothing to export as BVH")
    return solve_clip(joints, valid, roots, landmarks)


def joints_to_bvh(joints_camera: np.ndarray, valid: np.ndarray, frame_time: float,
                  root_camera: np.ndarray | None = None, options: BvhExportOptions | None = None,
                  landmarks: list | None = None) -> str:
    """The BVH text of a recording (module docstring).

    Args:
        joints_camera: ``(F, 16, 3)`` joints, metres, camera frame (values of invalid frames ignored).
        valid: ``(F,)`` bool, frames with a person.
        frame_time: seconds per frame.
        root_camera: ``(F, 3)`` pelvis position in the camera frame (the stream's ``root_translation``),
            or None for a clip about the origin.
        options: :class:`BvhExportOptions`.
        landmarks: see :func:`solve_recording`.
    Raises:
        ValueError: no valid frame, or an unknown unit.
    """
    options = options or BvhExportOptions()
    if options.unit not in _UNIT_SCALE:
        raise ValueError(f"unit must be one of {sorted(_UNIT_SCALE)}, got {options.unit!r}")
    return clip_to_bvh(solve_recording(joints_camera, valid, root_camera, landmarks), frame_time, options)


def clip_to_bvh(clip: ClipSolution, frame_time: float, options: BvhExportOptions | None = None) -> str:
    """The BVH text of a solved clip."""
    options = options or BvhExportOptions()
    scale = _UNIT_SCALE[options.unit]
    columns = []
    for i, parent in enumerate(BONE_PARENTS):  # bones are in the HIERARCHY's channel order
        if parent < 0:
            columns.append(clip.positions[:, i] * scale)
        elif options.per_frame_lengths:
            offsets = np.einsum("fba,fb->fa", clip.global_rotations[:, parent], clip.targets[:, i] - clip.targets[:, parent])
            columns.append(offsets * scale)
        columns.append(Rotation.from_quat(clip.local_rotations[:, i]).as_euler("ZYX", degrees=True))
    with_position = [parent < 0 or options.per_frame_lengths for parent in BONE_PARENTS]
    return _format(clip, with_position, np.concatenate(columns, axis=1), frame_time, scale, options.decimals)


def _format(clip: ClipSolution, with_position: list[bool], motion: np.ndarray, frame_time: float,
            scale: float, decimals: int) -> str:
    fmt = f"{{:.{decimals}f}}"
    vec = lambda v: " ".join(fmt.format(x + 0.0) for x in v * scale)  # noqa: E731  (+0.0: no "-0.0")
    ends = end_sites(clip.lengths)
    children = {i: [k for k, p in enumerate(BONE_PARENTS) if p == i] for i in range(len(BONE_NAMES))}
    lines = ["HIERARCHY"]

    def emit(i: int, depth: int) -> None:
        pad, root = "\t" * depth, BONE_PARENTS[i] < 0
        lines.append(f"{pad}{'ROOT' if root else 'JOINT'} {BONE_NAMES[i]}")
        lines.append(pad + "{")
        lines.append(f"{pad}\tOFFSET {vec(np.zeros(3) if root else clip.rest_offsets[i])}")
        pos = "Xposition Yposition Zposition " if with_position[i] else ""
        lines.append(f"{pad}\tCHANNELS {6 if pos else 3} {pos}Zrotation Yrotation Xrotation")
        for k in children[i]:
            emit(k, depth + 1)
        if BONE_NAMES[i] in ends:
            lines.extend([f"{pad}\tEnd Site", pad + "\t{", f"{pad}\t\tOFFSET {vec(ends[BONE_NAMES[i]])}", pad + "\t}"])
        lines.append(pad + "}")

    emit(0, 0)
    lines += ["MOTION", f"Frames: {len(motion)}", f"Frame Time: {frame_time:.8f}"]
    lines += [" ".join(fmt.format(x + 0.0) for x in row) for row in motion]
    return "\n".join(lines) + "\n"


def write_bvh(path: str | Path, text: str) -> Path:
    """Write BVH ``text`` to ``path`` (parents created); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
