"""A reader of Acclaim ASF/AMC motion capture (HDM05, and CMU's own format), with forward kinematics.

Written here rather than taken from a library: the format is small (an ASF skeleton of bones with a
rest direction, length, local ``axis`` and degrees of freedom; an AMC file of per-frame values per
bone), and the Python packages that read it are unmaintained single scripts without tests. This
reader returns the same kind of ``(F, J, 3)`` joint positions as ``semgcn.bvh`` so that
``semgcn.rigs`` maps either onto the canonical skeleton.

Kinematics (the Acclaim convention): a bone's local rotation is ``L = C M C^-1`` where ``C`` is the
rotation of its ``axis`` line (Euler angles applied in the listed order) and ``M`` the AMC values in
the bone's ``dof`` order; its global rotation is the parent's times ``L``; it runs from its parent's
end to ``end = start + length * R_global @ direction``. The root carries a translation and its
rotation in the channel order of ``:root order``.

Units: ASF lengths and the root translation are in ``inches / :units length`` (CMU and HDM05 write
``length 0.45``), so metres are ``value / length_unit * 0.0254``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

INCH_M = 0.0254


class AcclaimError(ValueError):
    """An ASF or AMC file that cannot be read, with the file name and the reason."""


@dataclass
class AsfBone:
    name: str
    direction: np.ndarray
    length: float
    axis_rotation: np.ndarray  # C, (3, 3)
    dofs: list[str] = field(default_factory=list)  # e.g. ["rx", "ry", "rz"]
    parent: str = ""


@dataclass
class AsfSkeleton:
    """An ASF file: bones (parents before children, the root first) and the length unit.

    Attributes:
        bones: name -> bone; ``"root"`` has length 0.
        order: bone names, every parent before its children.
        root_order: the root's channels, e.g. ``["TX", "TY", "TZ", "RX", "RY", "RZ"]``.
        root_axis: the root's rotation order, e.g. ``"XYZ"``.
        metres_per_unit: metres per ASF length unit.
    """

    bones: dict[str, AsfBone]
    order: list[str]
    root_order: list[str]
    root_axis: str
    metres_per_unit: float


def _euler(order: str, angles_deg) -> np.ndarray:
    """Rotation that applies the angles about the axes of ``order`` one after the other (fixed axes)."""
    return Rotation.from_euler(order.lower(), angles_deg, degrees=True).as_matrix()


def _blocks(text: str, section: str) -> str:
    m = re.search(rf":{section}\b(.*?)(?=\n:|\Z)", text, re.S)
    return m.group(1) if m else ""


def read_asf(path: str | Path) -> AsfSkeleton:
    """Parse an ASF skeleton file (AcclaimError when it is missing or malformed)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="latin-1")
    except OSError as exc:
        raise AcclaimError(f"cannot read ASF file {path}: {exc}") from exc
    units = _blocks(text, "units")
    m = re.search(r"length\s+([0-9.eE+-]+)", units)
    length_unit = float(m.group(1)) if m else 1.0
    root = _blocks(text, "root")
    order_m, axis_m = re.search(r"order\s+(.+)", root), re.search(r"axis\s+(\w+)", root)
    if not order_m or ":bonedata" not in text or ":hierarchy" not in text:
        raise AcclaimError(f"{path}: not an ASF file (needs :root order, :bonedata and :hierarchy)")
    bones = {"root": AsfBone("root", np.zeros(3), 0.0, np.eye(3))}
    try:
        for block in re.findall(r"begin(.*?)end", _blocks(text, "bonedata"), re.S):
            bone = _parse_bone(block)
            bones[bone.name] = bone
        order = ["root"]
        for line in _blocks(text, "hierarchy").splitlines():
            names = line.split()
            if not names or names[0] in ("begin", "end"):
                continue
            for child in names[1:]:
                bones[child].parent = names[0]
                order.append(child)
    except (KeyError, ValueError, IndexError) as exc:
        raise AcclaimError(f"{path}: malformed bone data or hierarchy ({exc})") from exc
    return AsfSkeleton(bones, order, order_m.group(1).upper().split(),
                       axis_m.group(1).upper() if axis_m else "XYZ", INCH_M / length_unit)


def _parse_bone(block: str) -> AsfBone:
    fields: dict[str, list[str]] = {}
    for line in block.strip().splitlines():
        parts = line.split()
        if parts and not parts[0].startswith("("):
            fields[parts[0]] = parts[1:]
    axis = fields["axis"]
    return AsfBone(name=fields["name"][0], direction=np.array([float(v) for v in fields["direction"]]),
                   length=float(fields["length"][0]),
                   axis_rotation=_euler(axis[3] if len(axis) > 3 else "XYZ", [float(v) for v in axis[:3]]),
                   dofs=[d.lower() for d in fields.get("dof", [])])


def read_amc(path: str | Path, skeleton: AsfSkeleton) -> dict[str, np.ndarray]:
    """Parse an AMC file into ``bone name -> (F, n_values)`` arrays (AcclaimError when malformed)."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="latin-1").splitlines()
    except OSError as exc:
        raise AcclaimError(f"cannot read AMC file {path}: {exc}") from exc
    frames: list[dict[str, list[float]]] = []
    for line in lines:
        parts = line.split()
        if not parts or parts[0].startswith(("#", ":")):
            continue
        if len(parts) == 1 and parts[0].isdigit():
            frames.append({})
        elif frames:
            frames[-1][parts[0]] = [float(v) for v in parts[1:]]
    if not frames:
        raise AcclaimError(f"{path}: no frames (not an AMC file?)")
    out = {}
    for name in skeleton.order:
        width = len(skeleton.root_order) if name == "root" else len(skeleton.bones[name].dofs)
        if width == 0:
            continue
        try:
            out[name] = np.array([f[name] for f in frames], dtype=np.float64).reshape(len(frames), width)
        except (KeyError, ValueError) as exc:
            raise AcclaimError(f"{path}: bone {name!r} missing or misshaped in some frame ({exc})") from exc
    return out


def forward_kinematics(skeleton: AsfSkeleton, motion: dict[str, np.ndarray]) -> tuple[np.ndarray, list[str]]:
    """The start point of every bone (``"root"``: the root position), in metres, ASF axes.

    Returns:
        ``(positions (F, B, 3), names)``: the point where each bone starts (its parent's end).
    """
    n = len(next(iter(motion.values())))
    root = motion["root"]
    channels = skeleton.root_order
    translation = np.stack([root[:, channels.index(f"T{a}")] for a in "XYZ"], axis=1)
    rot_cols = [c for c in channels if c.startswith("R")]
    root_rot = _euler("".join(c[1] for c in rot_cols), root[:, [channels.index(c) for c in rot_cols]])
    global_rot, end, start = {"root": root_rot}, {"root": translation}, {"root": translation}
    for name in skeleton.order[1:]:
        bone = skeleton.bones[name]
        if bone.dofs:
            moving = _euler("".join(d[1] for d in bone.dofs), motion[name])
        else:
            moving = np.broadcast_to(np.eye(3), (n, 3, 3))
        local = bone.axis_rotation @ moving @ bone.axis_rotation.T
        global_rot[name] = global_rot[bone.parent] @ local
        start[name] = end[bone.parent]
        end[name] = start[name] + bone.length * np.einsum("fab,b->fa", global_rot[name], bone.direction)
    names = list(skeleton.order)
    positions = np.stack([start[b] for b in names], axis=1) * skeleton.metres_per_unit
    return positions, names
