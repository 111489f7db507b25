"""Rig maps: from a BVH rig's joint names to the canonical 16 joints of ``shared/SKELETON.md``.

Five rigs are known, and :func:`detect_rig` picks one from the joint names:

* ``cmu_iclone``: the CMU database on the iClone ``CC_Base_*`` rig (centimetres; frame 0 is a
  prepended T-pose and is dropped; "ShareBone" / "Twist" helper bones are ignored because the map
  names the real joints);
* ``reactidle``: the ReActIdle rig (metres; no Head bone: head = ``neck + 0.75 (face - neck)``, about
  ear level; no hand bone: the wrist is the forearm's end site);
* ``cgspeed``: the "Daz-friendly" cgspeed conversion of CMU (``cmu_dance``, ``cmu_walk``: ``hip``,
  ``rThigh`` / ``rShin`` / ``rFoot``, ``rShldr`` / ``rForeArm`` / ``rHand``, ``neck``, ``head``;
  centimetres; only the root has position channels);
* ``acclaim``: Acclaim ASF/AMC (HDM05), read by ``semgcn.acclaim``: a joint is the start of a bone
  (the hip is where ``rfemur`` starts), the wrist where ``rhand`` starts (see ``ACCLAIM``), neck base =
  start of ``lowerneck``, Head = start of ``head``;
* ``common``: the widespread ``Hips / LeftUpLeg / LeftLeg / LeftFoot / LeftArm / LeftForeArm / LeftHand
  / Neck / Head`` naming (Mixamo and many others, with or without a ``prefix:``); head = Head origin
  + 0.05 m along unit(Head - Neck) as SKELETON.md says. Units are guessed from the rest pose.
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from semgcn import skeleton as S
from semgcn import acclaim
from semgcn.bvh import BvhMotion, forward_kinematics, guess_unit, read_bvh, unit_scale

# Joints taken directly from a rig joint's origin (canonical name -> rig key).
_DIRECT = ("right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
           "left_shoulder", "left_elbow", "left_wrist", "right_shoulder", "right_elbow", "right_wrist")

#: Accepted proportions (metres). The README quotes 0.15-0.19 / 0.30-0.37 m, but three ReActIdle people
#: (000, 002, 003) are smaller (0.11-0.13 / 0.28 m), so these bounds only catch unit or rig-map errors.
THORAX_HEAD_RANGE = (0.10, 0.22)
SHOULDER_WIDTH_RANGE = (0.24, 0.42)


@dataclass(frozen=True)
class RigMap:
    """How one rig's joints give the 16 canonical joints.

    Attributes:
        name: the rig's name.
        joints: canonical name -> rig joint name for the 12 limb joints (``_end`` suffix = end site).
        head: ``("offset", head_joint, neck_joint, metres)`` for the SKELETON.md rule, or
            ``("lerp", neck_joint, face_joint, t)`` for ``neck + t (face - neck)``.
        unit: file unit ("m", "cm", "mm") or None to guess from the rest pose.
        drop_first_frames: frames to drop at the start (CMU: the prepended T-pose).
        retarget: give every bone the length of :data:`REFERENCE_BONE_LENGTHS` (directions kept), for
            a rig whose one body has implausible proportions (cgspeed: shoulder joints 0.23 m apart,
            thigh shorter than shin, 1.47 m from ankle to head).
    """

    name: str
    joints: dict[str, str]
    head: tuple
    unit: str | None = None
    drop_first_frames: int = 0
    licence: str = field(default="", compare=False)
    retarget: bool = False


def _lr(template: dict[str, str], left: str, right: str) -> dict[str, str]:
    out = {}
    for key, value in template.items():
        out["left_" + key] = value.format(s=left)
        out["right_" + key] = value.format(s=right)
    return out


CMU_ICLONE = RigMap(
    name="cmu_iclone",
    joints=_lr({"hip": "CC_Base_{s}_Thigh", "knee": "CC_Base_{s}_Calf", "ankle": "CC_Base_{s}_Foot",
                "shoulder": "CC_Base_{s}_Upperarm", "elbow": "CC_Base_{s}_Forearm",
                "wrist": "CC_Base_{s}_Hand"}, "L", "R"),
    head=("offset", "CC_Base_Head", "CC_Base_NeckTwist01", 0.05),
    unit="cm",
    drop_first_frames=1,
    licence="CMU Graphics Lab Motion Capture Database (mocap.cs.cmu.edu)",
)

REACTIDLE = RigMap(
    name="reactidle",
    joints=_lr({"hip": "thigh.{s}", "knee": "shin.{s}", "ankle": "foot.{s}", "shoulder": "upper_arm.{s}",
                "elbow": "forearm.{s}", "wrist": "forearm.{s}_end"}, "L", "R"),
    head=("lerp", "neck", "face", 0.75),
    unit="m",
    licence="ReActIdle, MIT",
)

CGSPEED = RigMap(
    name="cgspeed",
    joints=_lr({"hip": "{s}Thigh", "knee": "{s}Shin", "ankle": "{s}Foot", "shoulder": "{s}Shldr",
                "elbow": "{s}ForeArm", "wrist": "{s}Hand"}, "l", "r"),
    head=("offset", "head", "neck", 0.05),
    unit="cm",
    # Frame 0 is a T-pose and frames 1-4 blend from it into the motion (joints jump 0.1-0.8 m between
    # them, against a median of 0.01-0.02 m per frame afterwards).
    drop_first_frames=5,
    licence="CMU Graphics Lab Motion Capture Database (mocap.cs.cmu.edu), cgspeed BVH conversion",
    retarget=True,
)

#: Acclaim ASF/AMC (HDM05, CMU's own format): the names are the bones whose *start* is the joint
#: (``semgcn.acclaim.forward_kinematics`` gives every bone's start point). The wrist is where ``rhand``
#: starts, not ``rwrist`` (SKELETON.md's table): ``rwrist`` is the distal third of the forearm and carries
#: only its twist (dof ``ry``), the hand's flexion is on ``rhand`` (``rx rz``). Taken at ``rwrist`` the
#: forearm would be 0.17-0.20 m, 0.63 of the upper arm, against 0.8-1.0 in every other set here.
ACCLAIM = RigMap(
    name="acclaim",
    joints=_lr({"hip": "{s}femur", "knee": "{s}tibia", "ankle": "{s}foot", "shoulder": "{s}humerus",
                "elbow": "{s}radius", "wrist": "{s}hand"}, "l", "r"),
    head=("offset", "head", "lowerneck", 0.05),
    unit="m",
    licence="HDM05 (CC BY-SA 3.0): measure on it, do not train shipped weights on it",
)

COMMON = RigMap(
    name="common",
    joints=_lr({"hip": "{s}UpLeg", "knee": "{s}Leg", "ankle": "{s}Foot", "shoulder": "{s}Arm",
                "elbow": "{s}ForeArm", "wrist": "{s}Hand"}, "Left", "Right"),
    head=("offset", "Head", "Neck", 0.05),
)

#: Bone lengths (metres, ``semgcn.skeleton.BONES`` order) of the CMU iClone rig's one body (medians over
#: its clips), the body that cgspeed clips of the same CMU captures are retargeted onto.
REFERENCE_BONE_LENGTHS = (0.097, 0.477, 0.498, 0.097, 0.477, 0.498, 0.245, 0.245, 0.191,
                          0.184, 0.252, 0.257, 0.184, 0.252, 0.257)

RIGS: dict[str, RigMap] = {r.name: r for r in (CMU_ICLONE, REACTIDLE, CGSPEED, ACCLAIM, COMMON)}


def _find(names: list[str], wanted: str) -> int | None:
    """Index of ``wanted`` in ``names``, also matching ``prefix:wanted`` (Mixamo style)."""
    if wanted in names:
        return names.index(wanted)
    hits = [i for i, n in enumerate(names) if n.rsplit(":", 1)[-1] == wanted]
    return hits[0] if len(hits) == 1 else None


def _required(rig: RigMap) -> list[str]:
    return list(rig.joints.values()) + [rig.head[1], rig.head[2]]


def detect_rig(names: list[str]) -> RigMap:
    """The known rig whose joint names all occur in ``names``.

    Raises:
        ValueError: naming the joints each rig misses, when none fits.
    """
    missing = {}
    for rig in RIGS.values():
        lacking = [n for n in _required(rig) if _find(names, n) is None]
        if not lacking:
            return rig
        missing[rig.name] = lacking
    detail = "; ".join(f"{k} lacks {', '.join(v[:4])}" for k, v in missing.items())
    raise ValueError(f"unknown rig: no rig map fits these joints ({detail}). "
                     "Add a RigMap in semgcn/rigs.py for it.")


def map_to_canonical(positions: np.ndarray, names: list[str], rig: RigMap) -> np.ndarray:
    """Canonical 16 joints from rig joint positions.

    Args:
        positions: ``(F, J, 3)`` rig positions in metres.
        names: the J rig joint names.
        rig: the rig map.
    Returns:
        ``(F, 16, 3)`` float64 in the rig's world axes, metres.
    """
    def at(name: str) -> np.ndarray:
        idx = _find(names, name)
        if idx is None:
            raise KeyError(f"rig {rig.name}: joint {name!r} not found")
        return positions[:, idx]

    out = np.zeros((positions.shape[0], S.NUM_JOINTS, 3))
    for canon in _DIRECT:
        out[:, S.JOINT_INDEX[canon]] = at(rig.joints[canon])
    kind, a, b, amount = rig.head
    if kind == "offset":
        head, neck = at(a), at(b)
        direction = head - neck
        direction /= np.maximum(np.linalg.norm(direction, axis=-1, keepdims=True), 1e-9)
        out[:, S.JOINT_INDEX["head"]] = head + amount * direction
    elif kind == "lerp":
        neck, face = at(a), at(b)
        out[:, S.JOINT_INDEX["head"]] = neck + amount * (face - neck)
    else:
        raise ValueError(f"rig {rig.name}: unknown head rule {kind!r}")
    hips = (out[:, S.JOINT_INDEX["left_hip"]] + out[:, S.JOINT_INDEX["right_hip"]]) / 2
    thorax = (out[:, S.JOINT_INDEX["left_shoulder"]] + out[:, S.JOINT_INDEX["right_shoulder"]]) / 2
    out[:, S.JOINT_INDEX["pelvis"]] = hips
    out[:, S.JOINT_INDEX["thorax"]] = thorax
    out[:, S.JOINT_INDEX["spine"]] = (hips + thorax) / 2
    return out


def retarget_bone_lengths(joints: np.ndarray, lengths=REFERENCE_BONE_LENGTHS) -> np.ndarray:
    """``(F, 16, 3)`` joints rebuilt from the pelvis with each bone's direction kept and its length set.

    Symmetric bones (pelvis to hips, thorax to shoulders) point in opposite directions, so pelvis and
    thorax stay the midpoints they are defined as, and the spine stays halfway between them.
    """
    vectors = S.bone_vectors(joints)
    units = vectors / np.maximum(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-9)
    out = joints.copy()
    for k, (child, parent) in enumerate(S.BONES):  # parents come first
        out[:, child] = out[:, parent] + lengths[k] * units[:, k]
    return out


def proportions(joints: np.ndarray) -> dict[str, float]:
    """Median thorax-to-head distance and shoulder width (metres) of ``(F, 16, 3)`` joints."""
    j = S.JOINT_INDEX
    return {
        "thorax_head_m": float(np.median(np.linalg.norm(joints[:, j["head"]] - joints[:, j["thorax"]], axis=-1))),
        "shoulder_width_m": float(np.median(np.linalg.norm(
            joints[:, j["left_shoulder"]] - joints[:, j["right_shoulder"]], axis=-1))),
    }


def check_proportions(joints: np.ndarray, source: str = "") -> list[str]:
    """Warnings (also issued with ``warnings.warn``) for proportions outside the expected ranges."""
    p = proportions(joints)
    problems = []
    if not THORAX_HEAD_RANGE[0] <= p["thorax_head_m"] <= THORAX_HEAD_RANGE[1]:
        problems.append(f"thorax-to-head {p['thorax_head_m']:.3f} m outside {THORAX_HEAD_RANGE}")
    if not SHOULDER_WIDTH_RANGE[0] <= p["shoulder_width_m"] <= SHOULDER_WIDTH_RANGE[1]:
        problems.append(f"shoulder width {p['shoulder_width_m']:.3f} m outside {SHOULDER_WIDTH_RANGE}")
    for msg in problems:
        warnings.warn(f"{source}: {msg} (wrong units or rig map?)", stacklevel=2)
    return problems


@dataclass
class CanonicalClip:
    """A mocap clip on the canonical skeleton.

    Attributes:
        joints: ``(F, 16, 3)`` float32 metres, world axes with Y up.
        fps: frames per second.
        rig: the rig map's name.
        path: the source file.
    """

    joints: np.ndarray
    fps: float
    rig: str
    path: str


def load_canonical(path: str | Path, rig: RigMap | str | None = None,
                   position_mode: str = "auto", fps: float | None = None) -> CanonicalClip:
    """Read a BVH file or an Acclaim AMC file and map it to the 16 canonical joints in metres.

    Args:
        path: the ``.bvh`` file, or an ``.amc`` file with its ``.asf`` skeleton in the same folder.
        rig: a :class:`RigMap`, a rig name, or None to detect it from the joint names.
        position_mode: passed to :func:`semgcn.bvh.forward_kinematics`.
        fps: the true frame rate when the file's header is wrong (cmu_dance's salsa); None: the header's.
    Returns:
        the :class:`CanonicalClip` (frames dropped per the rig, e.g. CMU's T-pose).
    """
    path = Path(path)
    if path.suffix.lower() == ".amc":
        return _load_acclaim(path, fps)
    clip: BvhMotion = read_bvh(path)
    names = clip.skeleton.names
    rig = detect_rig(names) if rig is None else (RIGS[rig] if isinstance(rig, str) else rig)
    scale = unit_scale(rig.unit or guess_unit(clip))
    positions = forward_kinematics(clip, position_mode)[rig.drop_first_frames:] * scale
    joints = map_to_canonical(positions, names, rig)
    if rig.retarget:
        joints = retarget_bone_lengths(joints)
    return CanonicalClip(joints.astype(np.float32), fps or 1.0 / max(clip.frame_time, 1e-6), rig.name, str(path))


#: Frame rate of Acclaim clips whose AMC name does not say it (HDM05 names end in ``_120``).
ACCLAIM_DEFAULT_FPS = 120.0


def _load_acclaim(path: Path, fps: float | None) -> CanonicalClip:
    skeletons = sorted(path.parent.glob("*.asf"))
    if len(skeletons) != 1:
        raise acclaim.AcclaimError(f"{path}: expected one .asf skeleton beside it, found {len(skeletons)}")
    skeleton = acclaim.read_asf(skeletons[0])
    positions, names = acclaim.forward_kinematics(skeleton, acclaim.read_amc(path, skeleton))
    joints = map_to_canonical(positions, names, ACCLAIM).astype(np.float32)
    m = re.search(r"_(\d+)$", path.stem)
    rate = fps or (float(m.group(1)) if m else ACCLAIM_DEFAULT_FPS)
    return CanonicalClip(joints, rate, ACCLAIM.name, str(path))
