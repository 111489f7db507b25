"""Several people on a real video: people per frame over time, and every moment an identity may
have switched, as image strips to be looked at frame by frame.

    python -m tools.people_video ../shared/media/intel_sample_videos/one-by-one-person-detection.mp4 \
        --max-people 4 --plot docs/figures/people_video.png --strips /tmp/people_strips

A video has no ground truth, so a switch cannot be counted automatically; what can be found are the
moments where one could have happened: a track that ends while another starts within
``--gap`` seconds and about where it ended (either the same person given a new id, or somebody else
taking over the place), and two tracks that come close (where ids can be exchanged). Each such event
gets a strip of frames around it, every person drawn in their id's colour with their id, for a person
to judge; the tool prints the events and writes the per-frame record as JSON.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from engines.detector import MAX_PEOPLE, PoseDetector
from realtime.core.cli import bounded
from realtime.core.overlay import draw_person_label, draw_skeleton
from realtime.core.palette import bgr, person_colours
from realtime.core.records import PersonPose


@dataclass
class Sighting:
    """One person in one frame: id, 16 keypoints (pixels) and confidence."""

    id: int
    keypoints_2d: np.ndarray
    confidence: np.ndarray

    @property
    def centre(self) -> np.ndarray:
        return self.keypoints_2d.mean(axis=0)

    @property
    def height(self) -> float:
        return max(float(np.ptp(self.keypoints_2d[:, 1])), 1.0)

    def apart(self, other: "Sighting") -> float:
        """Distance between the two centres, in heights of the taller of the two."""
        return float(np.linalg.norm(self.centre - other.centre)) / max(self.height, other.height)


def track_video(path: Path, max_people: int, max_frames: int | None = None) -> tuple[list[list[Sighting]], float]:
    """Every frame's people (the detector's tracker on the video's clock) and the video's fps."""
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise SystemExit(f"people_video: error: cannot read video {path}")
    fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
    total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or None
    detector = PoseDetector(threads=1, max_people=max_people)
    frames: list[list[Sighting]] = []
    with tqdm(total=min(total or 10**9, max_frames or 10**9), unit="frame", desc="tracking") as progress:
        while max_frames is None or len(frames) < max_frames:
            ok, image = capture.read()
            if not ok:
                break
            results = detector.track(image, timestamp=len(frames) / fps)
            frames.append([Sighting(r.track_id, r.keypoints_2d, r.confidence) for r in results])
            progress.update()
    capture.release()
    return frames, fps


def spans(frames: list[list[Sighting]]) -> dict[int, tuple[int, int]]:
    """Each id's first and last frame."""
    out: dict[int, tuple[int, int]] = {}
    for i, people in enumerate(frames):
        for person in people:
            first, _ = out.get(person.id, (i, i))
            out[person.id] = (first, i)
    return out


def events(frames: list[list[Sighting]], fps: float, gap_s: float = 2.0) -> list[dict]:
    """Moments where an identity may have switched (see the module docstring), in time order."""
    span = spans(frames)
    where = {(i, p.id): p for i, people in enumerate(frames) for p in people}
    found = []
    for ended, (_, last) in span.items():
        for started, (first, _) in span.items():
            if started == ended or not 0 < first - last <= gap_s * fps:
                continue
            a, b = where[(last, ended)], where[(first, started)]
            distance = a.apart(b)
            if distance < 1.0:
                found.append({"frame": first, "kind": "new id where one ended", "ids": [ended, started],
                              "gap_frames": first - last, "distance_heights": round(distance, 2)})
    for i, people in enumerate(frames):
        for j, a in enumerate(people):
            for b in people[j + 1:]:
                close = a.apart(b) < 0.5
                before = i > 0 and _close_in(frames[i - 1], a.id, b.id)
                if close and not before:
                    found.append({"frame": i, "kind": "two people close", "ids": sorted([a.id, b.id])})
    return sorted(found, key=lambda e: e["frame"])


def _close_in(people: list[Sighting], a: int, b: int) -> bool:
    pa = next((p for p in people if p.id == a), None)
    pb = next((p for p in people if p.id == b), None)
    return pa is not None and pb is not None and pa.apart(pb) < 0.5


def draw(image: np.ndarray, people: list[Sighting]) -> np.ndarray:
    """The frame with each person's skeleton and id in their id's colour."""
    for person in people:
        colours = person_colours(person.id)
        draw_skeleton(image, person.keypoints_2d, person.confidence, colours=colours)
        draw_person_label(image, PersonPose(id=person.id, keypoints_2d=person.keypoints_2d), bgr(colours.label))
    return image


def write_strips(path: Path, frames: list[list[Sighting]], found: list[dict], fps: float, out_dir: Path,
                 offsets_s=(-1.0, -0.3, 0.0, 0.3, 1.0)) -> list[Path]:
    """One PNG per event: frames at ``offsets_s`` around it, drawn, side by side, half size."""
    out_dir.mkdir(parents=True, exist_ok=True)
    capture = cv2.VideoCapture(str(path))
    written = []
    for event in tqdm(found, unit="strip", desc="strips"):
        tiles = []
        for offset in offsets_s:
            index = int(np.clip(event["frame"] + round(offset * fps), 0, len(frames) - 1))
            capture.set(cv2.CAP_PROP_POS_FRAMES, index)
            ok, image = capture.read()
            if not ok:
                continue
            image = draw(image, frames[index])
            cv2.putText(image, f"frame {index} ({index / fps:.1f} s)", (8, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.7,
                        (255, 255, 255), 2, cv2.LINE_AA)
            tiles.append(cv2.resize(image, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA))
        name = out_dir / f"event_{event['frame']:05d}_{'_'.join(map(str, event['ids']))}.png"
        cv2.imwrite(str(name), np.hstack(tiles))
        written.append(name)
    capture.release()
    return written


def plot(frames: list[list[Sighting]], fps: float, out: Path, title: str) -> None:
    """People per frame over time (top) and when each id was in view (bottom)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = np.arange(len(frames)) / fps
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 5), sharex=True, gridspec_kw={"height_ratios": [1, 1.4]})
    top.step(t, [len(p) for p in frames], where="post", color="black", lw=1)
    top.set_ylabel("people found")
    top.set_title(title, fontsize=10)
    top.grid(alpha=0.3)
    for track_id, (first, last) in sorted(spans(frames).items()):
        seen = np.array([any(p.id == track_id for p in people) for people in frames[first:last + 1]])
        times = t[first:last + 1][seen]
        bottom.scatter(times, np.full(len(times), track_id), s=2, color=person_colours(track_id).centre)
    bottom.set_ylabel("track id")
    bottom.set_xlabel("video time (s)")
    bottom.grid(alpha=0.3)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.people_video", description=__doc__.split("\n\n")[0])
    parser.add_argument("video", type=Path)
    parser.add_argument("--max-people", type=bounded(int, 1, MAX_PEOPLE), default=4)
    parser.add_argument("--max-frames", type=bounded(int, 1, 10**7), default=None)
    parser.add_argument("--gap", type=bounded(float, 0.0, 60.0), default=2.0,
                        help="seconds between a track's end and another's start that count as one event")
    parser.add_argument("--plot", type=Path, help="write the people-per-frame plot (PNG)")
    parser.add_argument("--strips", type=Path, help="write one image strip per event into this folder")
    parser.add_argument("--json", type=Path, help="write the per-frame ids and the events as JSON")
    args = parser.parse_args(argv)
    if not args.video.is_file():
        parser.error(f"no such video: {args.video}")
    frames, fps = track_video(args.video, args.max_people, args.max_frames)
    found = events(frames, fps, args.gap)
    counts = np.array([len(p) for p in frames])
    print(f"{args.video.name}: {len(frames)} frames at {fps:g} fps; people per frame: "
          + ", ".join(f"{n}: {int((counts == n).sum())}" for n in range(counts.max(initial=0) + 1))
          + f"; {len(spans(frames))} track ids")
    for track_id, (first, last) in sorted(spans(frames).items()):
        print(f"  id {track_id}: frames {first}-{last} ({first / fps:.1f}-{last / fps:.1f} s)")
    print(f"{len(found)} moments where an identity may have switched:")
    for event in found:
        print(f"  frame {event['frame']} ({event['frame'] / fps:.1f} s): {event['kind']}, ids {event['ids']}")
    if args.plot:
        plot(frames, fps, args.plot, f"{args.video.name}: BlazePose tracker, --max-people {args.max_people}")
    if args.strips:
        write_strips(args.video, frames, found, fps, args.strips)
    if args.json:
        args.json.write_text(json.dumps({"fps": fps, "events": found,
                                         "ids_per_frame": [[p.id for p in people] for people in frames]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
