"""Turn recorded 3D joints into a BVH clip (Blender, MotionBuilder, game engines) whose forward
kinematics gives back the recorded joints.

Axes: BVH is y-up, so camera coordinates (x right, y down, z forward) become ``(x, -y, -z)``, a proper
rotation (180 deg about x): x stays right as seen from the camera, y points up, z points at the camera.
A subject facing the camera faces +z. Units: metres unless ``unit`` says otherwise.

Skeleton: the 16 joints with the subject's median bone lengths, in a T-pose rest pose (legs down,
arms out along +-x, spine and head up). A BVH joint's rotation orients the bones to its children, so a
joint with several children cannot point them all exactly with one rotation. The pelvis (children:
spine, both hips) and the thorax (head, both shoulders) therefore take the body / chest frame, whose
up axis is exactly the spine / neck direction, and each side bone (hips, shoulders) hangs from a
zero-offset ``<joint>_link`` joint with its own rotation -- the layout of the CMU mocap files
(``LHipJoint``, ``LeftShoulder``). Every other joint takes the smallest rotation (no twist) that turns
its bone from the rest direction onto the recorded one. With fixed bone lengths every bone direction
is then exact, and the joints are reproduced exactly when the recording's bone lengths are constant;
otherwise each joint is off by its bones' deviations from the median length.

Frames without a person (or with non-finite joints) hold the previous pose (the first pose before the
first detection).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from semgcn.skeleton import JOINT_INDEX, JOINT_NAMES, NUM_JOINTS, PARENTS

CAMERA_TO_BVH = np.diag([1.0, -1.0, -1.0])  # y down / z forward  ->  y up / z towards the camera
_UNIT_SCALE = {"m": 1.0, "cm": 100.0, "mm": 1000.0}
_UP, _DOWN, _LEFT, _RIGHT = (0, 1, 0), (0, -1, 0), (1, 0, 0), (-1, 0, 0)
#: Rest (T-pose) direction of the bone that ends at each joint, BVH axes; the subject's left is +x.
REST_DIRECTIONS: dict[str, tuple[int, int, int]] = {
    "right_hip": _RIGHT, "right_knee": _DOWN, "right_ankle": _DOWN,
    "left_hip": _LEFT, "left_knee": _DOWN, "left_ankle": _DOWN,
    "spine": _UP, "thorax": _UP, "head": _UP,
    "left_shoulder": _LEFT, "left_elbow": _LEFT, "left_wrist": _LEFT,
    "right_shoulder": _RIGHT, "right_elbow": _RIGHT, "right_wrist": _RIGHT,
}
#: For each branching joint: (the child whose bone is its up axis, the (left, right) pair for its x axis).
BRANCHES: dict[str, tuple[str, tuple[str, str]]] = {
    "pelvis": ("spine", ("left_hip", "right_hip")),
    "thorax": ("head", ("left_shoulder", "right_shoulder")),
}


@dataclass
class BvhExportOptions:
    """Options of :func:`joints_to_bvh`.

    Attributes:
        unit: ``"m"``, ``"cm"`` or ``"mm"`` for OFFSETs and root positions.
        end_site_fraction: length of the End Site stubs (feet, hands, top of head) as a fraction of
            the last bone's length.
        decimals: decimals written for positions and angles (6 keeps FK errors far below 1 um).
        per_frame_lengths: also give every joint ``X/Y/Zposition`` channels holding its bone at the
            frame's own length (the OFFSETs keep the median lengths), so that forward kinematics gives
            the recorded joints exactly even when the bone lengths vary. The channels replace the
            OFFSET, as Blender's importer reads them (checked); some tools add them instead.
    """

    unit: str = "m"
    end_site_fraction: float = 0.25
    decimals: int = 6
    per_frame_lengths: bool = False


@dataclass
class BvhNode:
    """One BVH joint: ``joint`` is the skeleton joint it sits on; links sit on their parent's joint."""

    name: str
    parent: int
    joint: int
    offset: np.ndarray
    oriented_child: int | None = None  # skeleton joint whose bone this node's rotation points
    end_site: np.ndarray | None = None


def camera_to_bvh(points: np.ndarray) -> np.ndarray:
    """Camera-frame points (..., 3) to BVH axes (y up)."""
    return np.asarray(points, dtype=np.float64) @ CAMERA_TO_BVH.T


def median_bone_lengths(joints: np.ndarray) -> np.ndarray:
    """Median length of the bone ending at each joint over the frames, ``(16,)`` (0 for the pelvis)."""
    lengths = np.zeros(NUM_JOINTS)
    for j in range(1, NUM_JOINTS):
        lengths[j] = np.median(np.linalg.norm(joints[:, j] - joints[:, PARENTS[j]], axis=-1))
    return lengths


def build_nodes(lengths: np.ndarray, end_site_fraction: float = 0.25) -> list[BvhNode]:
    """The BVH hierarchy for bone ``lengths`` (metres), parents before children."""
    nodes: list[BvhNode] = []

    def add(name: str, parent: int, joint: int, offset) -> int:
        nodes.append(BvhNode(name, parent, joint, np.asarray(offset, dtype=np.float64)))
        return len(nodes) - 1

    def grow(joint: int, node: int) -> None:
        children = [c for c in range(NUM_JOINTS) if PARENTS[c] == joint]
        name = JOINT_NAMES[joint]
        if not children:
            nodes[node].end_site = np.array(REST_DIRECTIONS[name]) * lengths[joint] * end_site_fraction
            return
        primary = JOINT_INDEX[BRANCHES[name][0]] if name in BRANCHES else children[0]
        nodes[node].oriented_child = primary
        for child in children:
            parent = node
            if child != primary:  # a side bone of a branching joint: its own zero-offset link joint
                parent = add(f"{JOINT_NAMES[child]}_link", node, joint, np.zeros(3))
                nodes[parent].oriented_child = child
            child_node = add(JOINT_NAMES[child], parent, child,
                             np.array(REST_DIRECTIONS[JOINT_NAMES[child]]) * lengths[child])
            grow(child, child_node)

    grow(0, add(JOINT_NAMES[0], -1, 0, np.zeros(3)))
    return nodes


def solve_rotations(joints: np.ndarray, nodes: list[BvhNode]) -> list[Rotation]:
    """Local rotation of every node per frame, for BVH-axis ``joints`` (F, 16, 3)."""
    glob: list[Rotation] = []
    local: list[Rotation] = []
    for node in nodes:
        parent_glob = glob[node.parent] if node.parent >= 0 else Rotation.identity(len(joints))
        name = JOINT_NAMES[node.joint]
        if name in BRANCHES and not node.name.endswith("_link"):
            up_child, (left, right) = BRANCHES[name]
            g = _frame(joints[:, JOINT_INDEX[up_child]] - joints[:, node.joint],
                       joints[:, JOINT_INDEX[left]] - joints[:, JOINT_INDEX[right]])
            loc = parent_glob.inv() * g
        elif node.oriented_child is not None:
            bone = joints[:, node.oriented_child] - joints[:, node.joint]
            loc = _swing(np.array(REST_DIRECTIONS[JOINT_NAMES[node.oriented_child]], dtype=np.float64),
                         parent_glob.inv().apply(bone))
        else:
            loc = Rotation.identity(len(joints))
        local.append(loc)
        glob.append(parent_glob * loc)
    return local


def _frame(up: np.ndarray, lateral: np.ndarray) -> Rotation:
    # Rotation whose y axis is exactly ``up`` and whose x axis is ``lateral`` made orthogonal to it;
    # the rest pose (up = +y, lateral = +x) gives the identity.
    y = _unit(up)
    x = _unit(lateral - np.sum(lateral * y, axis=-1, keepdims=True) * y)
    z = np.cross(x, y)
    return Rotation.from_matrix(np.stack([x, y, z], axis=-1))


def _swing(rest_dir: np.ndarray, target: np.ndarray) -> Rotation:
    # Shortest-arc rotation taking ``rest_dir`` (3,) onto each ``target`` (F, 3) direction.
    b = _unit(target)
    axis = np.cross(rest_dir, b)
    sin = np.linalg.norm(axis, axis=-1)
    angle = np.arctan2(sin, b @ rest_dir)
    fallback = np.cross(rest_dir, [0.0, 0.0, 1.0] if abs(rest_dir[2]) < 0.9 else [1.0, 0.0, 0.0])
    axis = np.where(sin[:, None] > 1e-12, axis / np.maximum(sin, 1e-12)[:, None], _unit(fallback))
    return Rotation.from_rotvec(axis * angle[:, None])


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


def fill_missing(joints: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Copy of ``joints`` (F, 16, 3) where invalid frames hold the last valid pose (the first before it)."""
    if not valid.any():
        raise ValueError("no frame with a person: nothing to export as BVH")
    idx = np.where(valid, np.arange(len(valid)), -1)
    idx = np.maximum.accumulate(idx)
    idx[idx < 0] = int(np.argmax(valid))
    return joints[idx]


def joints_to_bvh(joints_camera: np.ndarray, valid: np.ndarray, frame_time: float,
                  root_camera: np.ndarray | None = None, options: BvhExportOptions | None = None) -> str:
    """The BVH text of a recording.

    Args:
        joints_camera: ``(F, 16, 3)`` joints, metres, camera frame (values of invalid frames ignored).
        valid: ``(F,)`` bool, frames with a person.
        frame_time: seconds per frame.
        root_camera: ``(F, 3)`` pelvis position in the camera frame (the stream's ``root_translation``),
            or None for a root-relative clip (pelvis at the origin).
        options: :class:`BvhExportOptions`.
    Raises:
        ValueError: no valid frame, or an unknown unit.
    """
    options = options or BvhExportOptions()
    if options.unit not in _UNIT_SCALE:
        raise ValueError(f"unit must be one of {sorted(_UNIT_SCALE)}, got {options.unit!r}")
    joints_camera = np.asarray(joints_camera, dtype=np.float64)
    valid = np.asarray(valid, dtype=bool) & np.isfinite(joints_camera).all(axis=(1, 2))  # NaN joints: no person
    if root_camera is not None:
        valid &= np.isfinite(np.asarray(root_camera, dtype=np.float64)).all(axis=1)
    joints = camera_to_bvh(fill_missing(np.asarray(joints_camera, dtype=np.float64), valid))
    if root_camera is not None:
        joints = joints + camera_to_bvh(fill_missing(np.asarray(root_camera, dtype=np.float64), valid))[:, None]
    nodes = build_nodes(median_bone_lengths(joints[valid]), options.end_site_fraction)
    local = solve_rotations(joints, nodes)
    scale = _UNIT_SCALE[options.unit]
    columns, with_position = [], []
    for node, rot in zip(nodes, local):  # nodes are in the HIERARCHY's channel order
        with_position.append(node.parent < 0 or options.per_frame_lengths)
        if node.parent < 0:
            columns.append(joints[:, 0] * scale)
        elif options.per_frame_lengths:
            columns.append(_frame_offsets(node, joints) * scale)
        columns.append(rot.as_euler("ZYX", degrees=True))  # Zrotation Yrotation Xrotation
    motion = np.concatenate(columns, axis=1)
    return _format(nodes, with_position, motion, frame_time, scale, options.decimals)


def _frame_offsets(node: BvhNode, joints: np.ndarray) -> np.ndarray:
    # The node's OFFSET stretched to each frame's bone length (links sit on their joint: zero).
    rest_length = np.linalg.norm(node.offset)
    if rest_length == 0.0:
        return np.zeros((len(joints), 3))
    lengths = np.linalg.norm(joints[:, node.joint] - joints[:, PARENTS[node.joint]], axis=-1)
    return (lengths / rest_length)[:, None] * node.offset


def _format(nodes: list[BvhNode], with_position: list[bool], motion: np.ndarray, frame_time: float,
            scale: float, decimals: int) -> str:
    fmt = f"{{:.{decimals}f}}"
    vec = lambda v: " ".join(fmt.format(x + 0.0) for x in v * scale)  # noqa: E731  (+0.0: no "-0.0")
    lines = ["HIERARCHY"]
    children = {i: [k for k, n in enumerate(nodes) if n.parent == i] for i in range(len(nodes))}

    def emit(i: int, depth: int) -> None:
        pad, node = "\t" * depth, nodes[i]
        lines.append(f"{pad}{'ROOT' if node.parent < 0 else 'JOINT'} {node.name}")
        lines.append(pad + "{")
        lines.append(f"{pad}\tOFFSET {vec(node.offset)}")
        pos = "Xposition Yposition Zposition " if with_position[i] else ""
        lines.append(f"{pad}\tCHANNELS {6 if pos else 3} {pos}Zrotation Yrotation Xrotation")
        for k in children[i]:
            emit(k, depth + 1)
        if node.end_site is not None:
            lines.extend([f"{pad}\tEnd Site", pad + "\t{", f"{pad}\t\tOFFSET {vec(node.end_site)}", pad + "\t}"])
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
