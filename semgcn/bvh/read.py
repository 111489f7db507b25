"""A BVH motion-capture reader with vectorised forward kinematics.

BVH exporters disagree about position channels (see ``shared/mocap/README.md``):

* ``"add"``: a joint's position channels are added to its OFFSET (the CMU files: only the root has
  them, and its OFFSET is a fixed displacement);
* ``"replace"``: a joint's position channels replace its OFFSET (the ReActIdle files, where every
  joint has six channels and the position channels repeat the OFFSET).

``position_mode="auto"`` decides per file: when joints other than the root carry position channels
and their first-frame values equal the OFFSETs, the file is "replace"; otherwise "add". A reader that
guesses wrong produces bones whose length changes over the clip, which :func:`bone_length_spread`
measures.

Rotation channels may come in any order; the BVH convention is intrinsic rotations in the listed
order (``Zrotation Yrotation Xrotation`` means ``R = Rz @ Ry @ Rx`` acting on column vectors), which
is scipy's upper-case (intrinsic) Euler sequence.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

_UNIT_TO_METRES = {"m": 1.0, "cm": 0.01, "mm": 0.001, "in": 0.0254}


class BvhError(ValueError):
    """A BVH file that cannot be read, with the file name and the reason."""


@dataclass
class BvhSkeleton:
    """The hierarchy of a BVH file. End sites are joints named ``<parent>_end`` with no channels.

    Attributes:
        names: joint names, parents before children.
        parents: index of each joint's parent, -1 for the root.
        offsets: ``(J, 3)`` OFFSETs in file units.
        channels: each joint's channel names, e.g. ``["Zrotation", "Yrotation", "Xrotation"]``.
        channel_start: column of each joint's first channel in the motion matrix.
        is_end_site: True for End Site entries.
    """

    names: list[str] = field(default_factory=list)
    parents: list[int] = field(default_factory=list)
    offsets: list[np.ndarray] = field(default_factory=list)
    channels: list[list[str]] = field(default_factory=list)
    channel_start: list[int] = field(default_factory=list)
    is_end_site: list[bool] = field(default_factory=list)

    def index(self, name: str) -> int:
        """Index of the joint called ``name`` (KeyError with the known names otherwise)."""
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"no joint {name!r} in this BVH (joints: {', '.join(self.names)})") from None

    def children(self, joint: int) -> list[int]:
        """Indices of the direct children of ``joint``."""
        return [j for j, p in enumerate(self.parents) if p == joint]


@dataclass
class BvhMotion:
    """A parsed BVH clip: the skeleton, the raw motion matrix and the frame time.

    Attributes:
        skeleton: the hierarchy.
        motion: ``(F, C)`` float64 channel values, one row per frame.
        frame_time: seconds per frame.
        path: the file it came from (for messages).
    """

    skeleton: BvhSkeleton
    motion: np.ndarray
    frame_time: float
    path: str = ""

    @property
    def num_frames(self) -> int:
        return int(self.motion.shape[0])


def read_bvh(path: str | Path) -> BvhMotion:
    """Parse a BVH file.

    Args:
        path: the ``.bvh`` file.
    Returns:
        the :class:`BvhMotion`.
    Raises:
        BvhError: when the file is missing, truncated or not BVH.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise BvhError(f"cannot read BVH file {path}: {exc}") from exc
    head, sep, body = text.partition("MOTION")
    if not sep or "HIERARCHY" not in head:
        raise BvhError(f"{path}: not a BVH file (no HIERARCHY / MOTION sections)")
    skeleton = _parse_hierarchy(head, path)
    n_channels = sum(len(c) for c in skeleton.channels)
    frames_m = re.search(r"Frames:\s*(\d+)", body)
    time_m = re.search(r"Frame Time:\s*([0-9.eE+-]+)", body)
    if not frames_m or not time_m:
        raise BvhError(f"{path}: MOTION section lacks 'Frames:' or 'Frame Time:'")
    n_frames = int(frames_m.group(1))
    values = np.array(body[time_m.end():].split(), dtype=np.float64)
    if n_frames == 0 or values.size < n_frames * n_channels:
        raise BvhError(f"{path}: expected {n_frames} frames of {n_channels} channels, "
                       f"found {values.size} numbers (truncated file?)")
    motion = values[: n_frames * n_channels].reshape(n_frames, n_channels)
    return BvhMotion(skeleton, motion, float(time_m.group(1)), str(path))


def _parse_hierarchy(head: str, path: Path) -> BvhSkeleton:
    tokens = head.split()
    sk = BvhSkeleton()
    stack: list[int] = []
    column = 0
    i = 0
    try:
        while i < len(tokens):
            tok = tokens[i]
            if tok in ("ROOT", "JOINT"):
                _add_joint(sk, tokens[i + 1], stack[-1] if stack else -1, False)
                i += 2
            elif tok == "End":  # "End Site"
                parent = stack[-1]
                _add_joint(sk, sk.names[parent] + "_end", parent, True)
                i += 2
            elif tok == "{":
                stack.append(len(sk.names) - 1)
                i += 1
            elif tok == "}":
                stack.pop()
                i += 1
            elif tok == "OFFSET":
                sk.offsets[stack[-1]] = np.array([float(t) for t in tokens[i + 1 : i + 4]])
                i += 4
            elif tok == "CHANNELS":
                n = int(tokens[i + 1])
                sk.channels[stack[-1]] = tokens[i + 2 : i + 2 + n]
                sk.channel_start[stack[-1]] = column
                column += n
                i += 2 + n
            else:
                i += 1
    except (IndexError, ValueError) as exc:
        raise BvhError(f"{path}: malformed HIERARCHY section ({exc})") from exc
    if not sk.names:
        raise BvhError(f"{path}: HIERARCHY has no ROOT joint")
    return sk


def _add_joint(sk: BvhSkeleton, name: str, parent: int, end: bool) -> None:
    sk.names.append(name)
    sk.parents.append(parent)
    sk.offsets.append(np.zeros(3))
    sk.channels.append([])
    sk.channel_start.append(0)
    sk.is_end_site.append(end)


def detect_position_mode(clip: BvhMotion) -> str:
    """``"replace"`` when non-root joints' position channels repeat their OFFSETs, else ``"add"``."""
    sk = clip.skeleton
    diff_replace, diff_add = 0.0, 0.0
    for j in range(1, len(sk.names)):
        cols = _position_columns(sk, j)
        if cols is None:
            continue
        first = clip.motion[0, cols]
        diff_replace += float(np.abs(first - sk.offsets[j]).sum())
        diff_add += float(np.abs(first).sum())
    if diff_replace == diff_add == 0.0:
        return "add"
    return "replace" if diff_replace < diff_add else "add"


def _position_columns(sk: BvhSkeleton, j: int) -> list[int] | None:
    names = sk.channels[j]
    if not any(c.endswith("position") for c in names):
        return None
    start = sk.channel_start[j]
    return [start + names.index(axis + "position") for axis in "XYZ"]


def forward_kinematics(clip: BvhMotion, position_mode: str = "auto") -> np.ndarray:
    """World positions of every joint and end site, vectorised over frames.

    Args:
        clip: the parsed BVH.
        position_mode: ``"add"``, ``"replace"`` or ``"auto"`` (see the module docstring).
    Returns:
        ``(F, J, 3)`` float64 positions in the file's units and axes.
    """
    if position_mode == "auto":
        position_mode = detect_position_mode(clip)
    if position_mode not in ("add", "replace"):
        raise ValueError(f"position_mode must be 'auto', 'add' or 'replace', got {position_mode!r}")
    sk, motion = clip.skeleton, clip.motion
    n_frames, n_joints = motion.shape[0], len(sk.names)
    pos = np.zeros((n_frames, n_joints, 3))
    rot = np.zeros((n_frames, n_joints, 3, 3))
    for j in range(n_joints):
        local_t = np.broadcast_to(sk.offsets[j], (n_frames, 3)).copy()
        cols = _position_columns(sk, j)
        if cols is not None:
            local_t = motion[:, cols] + (local_t if position_mode == "add" else 0.0)
        local_r = local_rotation(sk, j, motion)
        parent = sk.parents[j]
        if parent < 0:
            pos[:, j], rot[:, j] = local_t, local_r
        else:
            pos[:, j] = pos[:, parent] + np.einsum("fab,fb->fa", rot[:, parent], local_t)
            rot[:, j] = rot[:, parent] @ local_r
    return pos


def local_rotation(sk: BvhSkeleton, j: int, motion: np.ndarray) -> np.ndarray:
    """Joint ``j``'s rotation in its parent, ``(F, 3, 3)``, from its rotation channels (intrinsic, in the
    listed order; the identity for a joint without any)."""
    names = sk.channels[j]
    rot_names = [c for c in names if c.endswith("rotation")]
    if not rot_names:
        return np.broadcast_to(np.eye(3), (motion.shape[0], 3, 3))
    start = sk.channel_start[j]
    cols = [start + names.index(c) for c in rot_names]
    seq = "".join(c[0].upper() for c in rot_names)
    return Rotation.from_euler(seq, motion[:, cols], degrees=True).as_matrix()


def guess_unit(clip: BvhMotion) -> str:
    """``"m"``, ``"cm"`` or ``"mm"`` from the rest-pose size (a person is about 1-2 m tall)."""
    sk = clip.skeleton
    rest = np.zeros((len(sk.names), 3))
    for j, p in enumerate(sk.parents):
        rest[j] = sk.offsets[j] + (rest[p] if p >= 0 else 0.0)
    extent = float(np.ptp(rest, axis=0).max())
    if extent > 400.0:
        return "mm"
    if extent > 10.0:
        return "cm"
    return "m"


def unit_scale(unit: str) -> float:
    """Metres per file unit for ``"m"``, ``"cm"``, ``"mm"`` or ``"in"``."""
    try:
        return _UNIT_TO_METRES[unit]
    except KeyError:
        raise ValueError(f"unknown unit {unit!r}; use one of {sorted(_UNIT_TO_METRES)}") from None


def bone_length_spread(positions: np.ndarray, parents: list[int]) -> np.ndarray:
    """Per-bone (max - min) length over the frames: ~0 for a correctly read rigid skeleton.

    Args:
        positions: ``(F, J, 3)`` positions.
        parents: parent index of each joint (-1 for roots).
    Returns:
        ``(J,)`` spread (0 for roots), in the units of ``positions``.
    """
    spread = np.zeros(len(parents))
    for j, p in enumerate(parents):
        if p >= 0:
            length = np.linalg.norm(positions[:, j] - positions[:, p], axis=-1)
            spread[j] = length.max() - length.min()
    return spread
