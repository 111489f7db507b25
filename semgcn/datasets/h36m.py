"""Human3.6M in the npz format of the VideoPose3D / SemGCN code bases, for the paper's protocol.

Files (``DIR/data_3d_h36m.npz`` required, ``DIR/data_2d_h36m_gt.npz`` optional):

* ``data_3d_h36m.npz``: ``positions_3d``, a pickled dict ``subject -> action -> (T, 32, 3)`` float32
  world positions. VideoPose3D's ``prepare_data_h36m.py`` divides by 1000, so they are metres; the
  original millimetres are detected (a body is not 20 m wide) and converted.
* ``data_2d_h36m_gt.npz``: ``positions_2d``, ``subject -> action -> [4 arrays (T, J, 2)]`` pixels for
  the four cameras (J = 17 in VideoPose3D's file, 16 in SemGCN's, 32 accepted too), and ``metadata``.
  Without it the 2D comes from projecting the 3D with the pinhole intrinsics (no lens distortion).

Joints: the 32 -> 16 selection of SemGCN (indices :data:`H36M_KEEP`), which is our canonical order.
Note that Human3.6M's joint 15 (``Head``) is the **top of the head**, not the ear-level head centre of
``shared/SKELETON.md``; the loader keeps it as our joint 9 as it is, so a model trained here predicts
the head about 10 cm higher than one trained on our mocap.

Protocol #1: train S1 S5 S6 S7 S8, test S9 S11, all four cameras, 3D root-relative in each camera's
frame, MPJPE in mm. Frames are taken every ``stride``-th (5: 50 -> 10 fps, Sect. 5.2).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from semgcn import codec
from semgcn import skeleton as S

TRAIN_SUBJECTS = ("S1", "S5", "S6", "S7", "S8")
TEST_SUBJECTS = ("S9", "S11")
#: The 16 of the 32 Human3.6M joints SemGCN keeps, in our canonical order (15 = head top).
H36M_KEEP: tuple[int, ...] = (0, 1, 2, 3, 6, 7, 8, 12, 13, 15, 17, 18, 19, 25, 26, 27)
#: VideoPose3D's 17-joint files keep joint 14 (neck/nose) as their index 9; SemGCN drops it.
_FROM_17: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16)

#: The four cameras' published intrinsics (pixels): id, focal (fx, fy), centre (cx, cy), (w, h).
INTRINSICS = (
    ("54138969", (1145.0494384765625, 1143.7811279296875), (512.54150390625, 515.4514770507812), (1000, 1002)),
    ("55011271", (1149.6756591796875, 1147.5916748046875), (508.8486328125, 508.0649108886719), (1000, 1000)),
    ("58860488", (1149.1407470703125, 1148.7989501953125), (519.8158569335938, 501.40264892578125), (1000, 1000)),
    ("60457274", (1145.5113525390625, 1144.77392578125), (514.9682006835938, 501.88201904296875), (1000, 1002)),
)

#: Published extrinsics per subject and camera: orientation quaternion (w, x, y, z) of the camera in
#: the world and the camera centre in mm.
EXTRINSICS: dict[str, tuple[tuple[tuple[float, ...], tuple[float, ...]], ...]] = {
    "S1": (((0.1407056450843811, -0.1500701755285263, -0.755240797996521, 0.6223280429840088), (1841.1070556640625, 4955.28466796875, 1563.4454345703125)),
           ((0.6157187819480896, -0.764836311340332, -0.14833825826644897, 0.11794740706682205), (1761.278564453125, -5078.0068359375, 1606.2650146484375)),
           ((0.14651472866535187, -0.14647851884365082, 0.7653023600578308, -0.6094175577163696), (-1846.7777099609375, 5215.04638671875, 1491.972412109375)),
           ((0.5834008455276489, -0.7853162288665771, 0.14548823237419128, -0.14749594032764435), (-1794.7896728515625, -3722.698974609375, 1574.8927001953125))),
    "S5": (((0.1467377245426178, -0.162370964884758, -0.7551892995834351, 0.6178938746452332), (2097.3916015625, 4880.94482421875, 1605.732421875)),
           ((0.6159758567810059, -0.7626792192459106, -0.15728192031383514, 0.1189815029501915), (2031.7008056640625, -5167.93310546875, 1612.923095703125)),
           ((0.14291371405124664, -0.12907841801643372, 0.7678384780883789, -0.6110143065452576), (-1620.5948486328125, 5171.65869140625, 1496.43701171875)),
           ((0.5920479893684387, -0.7814217805862427, 0.1274748593568802, -0.15036417543888092), (-1637.1737060546875, -3867.3173828125, 1547.033203125))),
    "S6": (((0.1337897777557373, -0.15692396461963654, -0.7571090459823608, 0.6198879480361938), (1935.4517822265625, 4950.24560546875, 1618.0838623046875)),
           ((0.6147197484970093, -0.7628812789916992, -0.16174767911434174, 0.11819244921207428), (1969.803955078125, -5128.73876953125, 1632.77880859375)),
           ((0.1529948115348816, -0.13529130816459656, 0.7646096348762512, -0.6112781167030334), (-1769.596435546875, 5185.361328125, 1476.993408203125)),
           ((0.5916101336479187, -0.7804774045944214, 0.12832270562648773, -0.1561593860387802), (-1721.668701171875, -3884.13134765625, 1540.4879150390625))),
    "S7": (((0.1435241848230362, -0.1631336808204651, -0.7548328638076782, 0.6188824772834778), (1974.512939453125, 4926.3544921875, 1597.8326416015625)),
           ((0.6141672730445862, -0.7638262510299683, -0.1596645563840866, 0.1177929937839508), (1937.0584716796875, -5119.7900390625, 1631.5665283203125)),
           ((0.14550060033798218, -0.12874816358089447, 0.7660516500473022, -0.6127139329910278), (-1741.8111572265625, 5208.24951171875, 1464.8245849609375)),
           ((0.5912848114967346, -0.7821764349937439, 0.12445473670959473, -0.15196487307548523), (-1734.7105712890625, -3832.42138671875, 1548.5830078125))),
    "S8": (((0.14110587537288666, -0.15589867532253265, -0.7561917304992676, 0.619644045829773), (2150.65185546875, 4896.1611328125, 1611.9046630859375)),
           ((0.6169601678848267, -0.7647668123245239, -0.14846350252628326, 0.11158157885074615), (2219.965576171875, -5148.453125, 1613.0440673828125)),
           ((0.1471444070339203, -0.13377119600772858, 0.7670128345489502, -0.6100369691848755), (-1571.2215576171875, 5137.0185546875, 1498.1761474609375)),
           ((0.5927824378013611, -0.7825870513916016, 0.12147816270589828, -0.14631995558738708), (-1476.913330078125, -3896.7412109375, 1547.97216796875))),
    "S9": (((0.15540587902069092, -0.15548215806484222, -0.7532095313072205, 0.6199594736099243), (2044.45849609375, 4935.1171875, 1481.2275390625)),
           ((0.618784487247467, -0.7634735107421875, -0.14132238924503326, 0.11933968216180801), (1990.959716796875, -5123.810546875, 1568.8048095703125)),
           ((0.13357827067375183, -0.1367100477218628, 0.7689454555511475, -0.6100738644599915), (-1670.9921875, 5211.98583984375, 1528.387939453125)),
           ((0.5879399180412292, -0.7823407053947449, 0.1427614390850067, -0.14794869720935822), (-1696.04345703125, -3827.099853515625, 1591.4127197265625))),
    "S11": (((0.15232472121715546, -0.15442320704460144, -0.7547563314437866, 0.6191070079803467), (2098.440185546875, 4926.5546875, 1500.278564453125)),
            ((0.6189449429512024, -0.7600917220115662, -0.15300633013248444, 0.1255258321762085), (2083.182373046875, -4912.1728515625, 1561.07861328125)),
            ((0.14943228662014008, -0.15650227665901184, 0.7681233882904053, -0.6026304364204407), (-1609.8153076171875, 5177.3359375, 1537.896728515625)),
            ((0.5894251465797424, -0.7818877100944519, 0.13991211354732513, -0.14715361595153809), (-1590.738037109375, -3854.1689453125, 1578.017578125))),
}


@dataclass
class H36MCamera:
    """One Human3.6M camera for one subject: world (metres) -> camera frame, pinhole intrinsics."""

    rotation: np.ndarray   # (3, 3) camera -> world
    position: np.ndarray   # (3,) camera centre in the world, metres
    focal: float           # pixels (mean of fx, fy)
    center: np.ndarray     # (2,) pixels
    image_size: np.ndarray  # (2,) w, h

    def world_to_camera(self, points: np.ndarray) -> np.ndarray:
        """``(..., 3)`` world metres -> camera frame metres (x right, y down, z forward)."""
        return (points - self.position) @ self.rotation

    def project(self, points_cam: np.ndarray) -> np.ndarray:
        """Pinhole projection (no distortion) of camera-frame points to pixels."""
        return points_cam[..., :2] / points_cam[..., 2:3] * self.focal + self.center


def camera(subject: str, index: int) -> H36MCamera:
    """The published camera ``index`` (0-3) of ``subject``."""
    if subject not in EXTRINSICS:
        raise KeyError(f"no camera parameters for subject {subject!r} (have {sorted(EXTRINSICS)})")
    (w, x, y, z), centre_mm = EXTRINSICS[subject][index]
    _, (fx, fy), (cx, cy), size = INTRINSICS[index]
    return H36MCamera(Rotation.from_quat([x, y, z, w]).as_matrix(), np.array(centre_mm) / 1000.0,
                      (fx + fy) / 2.0, np.array([cx, cy]), np.array(size, dtype=np.float64))


def _load_pickled_dict(path: Path, key: str) -> dict:
    try:
        with np.load(path, allow_pickle=True) as z:
            if key not in z:
                raise ValueError(f"{path}: no array {key!r} (has {sorted(z.files)})")
            return z[key].item()
    except (OSError, EOFError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from exc


def to_16(points: np.ndarray) -> np.ndarray:
    """32, 17 (VideoPose3D) or 16 (SemGCN) Human3.6M joints -> our 16, along axis -2."""
    n = points.shape[-2]
    if n == 32:
        return points[..., list(H36M_KEEP), :]
    if n == 17:
        return points[..., list(_FROM_17), :]
    if n == 16:
        return points
    raise ValueError(f"Human3.6M poses must have 32, 17 or 16 joints, got {n}")


@dataclass
class H36MData:
    """Protocol #1 arrays: ``train`` and ``test`` as (normalised 2D inputs, 3D camera-frame metres)."""

    train: tuple[np.ndarray, np.ndarray]
    test: tuple[np.ndarray, np.ndarray]
    description: dict


def load_split(folder: str | Path, subjects: tuple[str, ...], stride: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Inputs and targets of the given subjects, all actions and the four cameras.

    Args:
        folder: holds ``data_3d_h36m.npz`` and optionally ``data_2d_h36m_gt.npz``.
        subjects: e.g. ``TRAIN_SUBJECTS``.
        stride: keep every ``stride``-th frame.
    Returns:
        ``(N, 16, 2)`` float32 inputs (``semgcn.codec.normalize_2d`` with the camera's intrinsics) and
        ``(N, 16, 3)`` float32 root-relative camera-frame metres.
    Raises:
        FileNotFoundError / ValueError: missing file, subject or malformed arrays, with the reason.
    """
    folder = Path(folder)
    path3d = folder / "data_3d_h36m.npz"
    if not path3d.is_file():
        raise FileNotFoundError(f"Human3.6M file not found: {path3d} (see VideoPose3D's DATASETS.md)")
    poses3d = _load_pickled_dict(path3d, "positions_3d")
    path2d = folder / "data_2d_h36m_gt.npz"
    poses2d = _load_pickled_dict(path2d, "positions_2d") if path2d.is_file() else None
    inputs, targets = [], []
    for subject in subjects:
        if subject not in poses3d:
            raise ValueError(f"{path3d}: no subject {subject} (has {sorted(poses3d)})")
        for action, world in sorted(poses3d[subject].items()):
            world = to_16(np.asarray(world, dtype=np.float64))
            if np.nanmax(np.abs(world)) > 20.0:  # millimetres (original files), not metres
                world = world / 1000.0
            for cam_idx in range(4):
                cam = camera(subject, cam_idx)
                cam_pts = cam.world_to_camera(world)[::stride]
                if poses2d is not None:
                    px = to_16(np.asarray(poses2d[subject][action][cam_idx], dtype=np.float64))[::stride]
                else:
                    px = cam.project(cam_pts)
                if px.shape[0] != cam_pts.shape[0]:
                    raise ValueError(f"{subject}/{action}/camera {cam_idx}: {px.shape[0]} 2D vs "
                                     f"{cam_pts.shape[0]} 3D frames")
                inputs.append(codec.normalize_2d(px, cam.image_size, cam.focal, cam.center))
                targets.append((cam_pts - cam_pts[:, S.ROOT:S.ROOT + 1]).astype(np.float32))
    if not inputs:
        raise ValueError(f"no Human3.6M frames for subjects {subjects} in {folder}")
    return np.concatenate(inputs), np.concatenate(targets)


def load_h36m_protocol1(folder: str | Path, stride: int = 5) -> H36MData:
    """Train on S1 S5 S6 S7 S8, test on S9 S11 (Protocol #1 of the paper)."""
    train = load_split(folder, TRAIN_SUBJECTS, stride)
    test = load_split(folder, TEST_SUBJECTS, stride)
    description = {"dataset": "Human3.6M", "folder": str(folder), "train_subjects": list(TRAIN_SUBJECTS),
                   "test_subjects": list(TEST_SUBJECTS), "stride": stride, "train_poses": len(train[0]),
                   "test_poses": len(test[0]), "head_joint": "Human3.6M head top (joint 15) as idx 9",
                   "normalisation": "semgcn.codec.normalize_2d with the published intrinsics"}
    return H36MData(train, test, description)
