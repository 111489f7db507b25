"""Draw a recording's Foxglove channels, decoded as the Foxglove app decodes them: docs/figures/foxglove_scene.png.

    python run_live.py --source demo --headless --max-frames 200 --up z --record /tmp/rec
    python -m tools.figure_foxglove_scene /tmp/rec --out docs/figures/foxglove_scene.png

Only the Foxglove channels are read (never ``/pose``): ``/semgcn/scene`` (``foxglove.SceneUpdate``)
and ``/semgcn/tf`` (``foxglove.FrameTransform``), with the mcap reader, each message decoded by
protobuf with the schema (FileDescriptorSet) stored in the file. The entities' spheres and lines are
carried through the transforms into the display frame (``world`` when the recording has one, else
``camera``) and drawn with matplotlib, with the camera's axes, for a few moments of the recording.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation


def read_foxglove(path: Path) -> tuple[list[tuple[int, object]], dict[int, dict[tuple[str, str], object]]]:
    """``(scene updates by log time, transforms by log time and (parent, child))`` of a recording."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
    from mcap.reader import make_reader

    scenes, transforms, classes = [], {}, {}
    with open(path, "rb") as handle:
        reader = make_reader(handle)
        for schema, channel, message in reader.iter_messages(topics=["/semgcn/scene", "/semgcn/tf"]):
            if schema.id not in classes:
                pool = descriptor_pool.DescriptorPool()
                for proto in descriptor_pb2.FileDescriptorSet.FromString(schema.data).file:
                    pool.Add(proto)
                classes[schema.id] = message_factory.GetMessageClass(pool.FindMessageTypeByName(schema.name))
            decoded = classes[schema.id].FromString(message.data)
            if channel.topic == "/semgcn/scene":
                scenes.append((message.log_time, decoded))
            else:
                transforms.setdefault(message.log_time, {})[(decoded.parent_frame_id, decoded.child_frame_id)] = decoded
    return scenes, transforms


def to_display(points: np.ndarray, frame_id: str, tfs: dict, display: str) -> np.ndarray:
    """Points of ``frame_id`` in ``display``, following child -> parent transforms up the tree."""
    frame = frame_id
    while frame != display:
        edge = next(((p, c) for (p, c) in tfs if c == frame), None)
        if edge is None:
            raise ValueError(f"no transform from {frame} towards {display}")
        t = tfs[edge]
        rotation = Rotation.from_quat([t.rotation.x, t.rotation.y, t.rotation.z, t.rotation.w])
        points = rotation.apply(points) + [t.translation.x, t.translation.y, t.translation.z]
        frame = edge[0]
    return points


def _entity_geometry(entity):
    centres = np.array([[s.pose.position.x, s.pose.position.y, s.pose.position.z] for s in entity.spheres])
    colours = np.array([[s.color.r, s.color.g, s.color.b] for s in entity.spheres])
    line = entity.lines[0]
    segments = np.array([[p.x, p.y, p.z] for p in line.points]).reshape(-1, 2, 3)
    segment_colours = np.array([[c.r, c.g, c.b] for c in line.colors])[::2]
    return centres, colours, segments, segment_colours


def draw(path: Path, out: Path, moments: int = 3) -> Path:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scenes, transforms = read_foxglove(path)
    drawn = [(t, s) for t, s in scenes if s.entities]
    display = "world" if any(("world", "camera") in tfs for tfs in transforms.values()) else "camera"
    drawn = [(t, s) for t, s in drawn if display == "camera" or ("world", "camera") in transforms.get(t, {})]
    if not drawn:
        raise ValueError(f"{path}: no SceneUpdate with a person that can be placed in '{display}'")
    picks = [drawn[int(i)] for i in np.linspace(0, len(drawn) - 1, moments)]
    fig = plt.figure(figsize=(4.2 * moments, 4.6), dpi=110)
    for k, (stamp, scene) in enumerate(picks):
        ax = fig.add_subplot(1, moments, k + 1, projection="3d")
        tfs = transforms[stamp]
        entity = scene.entities[0]
        centres, colours, segments, segment_colours = _entity_geometry(entity)
        centres = to_display(centres, entity.frame_id, tfs, display)
        segments = to_display(segments.reshape(-1, 3), entity.frame_id, tfs, display).reshape(-1, 2, 3)
        for segment, colour in zip(segments, segment_colours):
            ax.plot(*segment.T, color=colour, linewidth=4)
        ax.scatter(*centres.T, c=colours, edgecolors="k", s=30, depthshade=False)
        _frame_axes(ax, centres, display)
        camera = to_display(np.zeros((1, 3)), "camera_optical", tfs, display)[0]
        ahead = to_display(np.array([[0.0, 0.0, 1.0]]), "camera_optical", tfs, display)[0] - camera
        ax.quiver(*(centres.mean(axis=0) - 0.9 * ahead), *(0.5 * ahead), color="k", linewidth=1.5)  # the camera's view
        seconds = (stamp - picks[0][0]) / 1e9
        ax.set_title(f"t = {seconds:.1f} s, {entity.id} in '{display}'", fontsize=9)
    fig.suptitle(f"{path.name}: foxglove.SceneUpdate (/semgcn/scene) placed by foxglove.FrameTransform "
                 f"(/semgcn/tf), decoded from the MCAP file (arrow: the camera's view)", fontsize=9)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out


def _frame_axes(ax, points: np.ndarray, display: str) -> None:
    """Equal axes around the person, the floor (z = 0 of a z-up world) as a grid, a view from the side."""
    centre, half = points.mean(axis=0), 1.0
    for setter, c in zip((ax.set_xlim, ax.set_ylim, ax.set_zlim), centre):
        setter(c - half, c + half)
    if display == "world":
        ax.set_zlim(0.0, 2 * half)
        grid = np.arange(-half, half + 1e-9, 0.25)
        for g in grid:
            ax.plot([centre[0] + g] * 2, [centre[1] - half, centre[1] + half], [0, 0], color="0.8", linewidth=0.6)
            ax.plot([centre[0] - half, centre[0] + half], [centre[1] + g] * 2, [0, 0], color="0.8", linewidth=0.6)
    ax.set_box_aspect((1, 1, 1))
    ax.set_xlabel("x (m)"), ax.set_ylabel("y (m)"), ax.set_zlabel("z (m)")
    ax.view_init(elev=15, azim=-130 if display == "world" else -60)


def main(argv: list[str] | None = None) -> int:
    from realtime.recording.session_reader import newest_session

    parser = argparse.ArgumentParser(prog="python -m tools.figure_foxglove_scene", description=__doc__.split("\n\n")[0])
    parser.add_argument("session", help="a recording (.mcap) or a folder of them (its newest)")
    parser.add_argument("--out", default="docs/figures/foxglove_scene.png", help="the PNG (default: %(default)s)")
    parser.add_argument("--moments", type=int, default=3, help="moments of the recording drawn side by side")
    args = parser.parse_args(argv)
    path = Path(args.session)
    try:
        path = newest_session(path) if path.is_dir() else path
        out = draw(path, Path(args.out), args.moments)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
