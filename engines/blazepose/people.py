"""Several people at once: BlazePose's landmark model per person, a track identity each.

BlazePose itself follows one person: the person detector finds a body, the landmark model runs on its
region, and from then on each frame's landmarks place the next frame's region, so the (costly)
detector runs only when the person is lost. ``PeopleTracker`` keeps up to ``max_people`` such tracks:

* every frame, each track's landmark model runs on the region its last landmarks gave (with its own
  smoothing filters);
* the person detector runs only while a slot is free: every ``detect_every`` frames, and every frame
  while a track lost in the last ``memory_s`` may come back; a detection whose landmarks land on a
  tracked person is that person, any other one whose landmarks are present becomes a new track;
* two tracks that end up on the same person (their landmarks within ``same_person`` of each other)
  are one track (see identity below);
* identity: a lost track's id is kept for ``memory_s`` seconds; a new track that starts near where
  the lost one was heading and looks like it (a colour histogram of the torso) takes its id back, so
  a short occlusion does not change who is who. When two people cross, the track of the one behind
  slides onto the one in front: of two tracks on one body, the one whose person looks less like it
  lets go; a track whose body keeps looking like somebody lost takes that person's id; after a
  crossing, ids whose appearance fits the other body better are swapped back.

Where it fails (docs/people.md has the measurements): two people in the same clothes who cross or
stay overlapped, a person hidden longer than ``memory_s``, a person entering where another just left.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from engines.blazepose.appearance import colour_distance as _colour_distance, torso_histogram
from engines.blazepose.decode import iou
from engines.blazepose.norm_rect import NormRect
from engines.blazepose.pipeline import BlazePosePipeline, PoseEstimate
from engines.blazepose.tracking import LandmarkSmoother

#: BlazePose's 33 landmarks with left and right exchanged (eyes, ears, mouth, arms, hands, legs, feet).
MIRROR_33 = [0, 4, 5, 6, 1, 2, 3, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15, 18, 17, 20, 19, 22, 21, 24, 23, 26, 25,
             28, 27, 30, 29, 32, 31]
#: After two bodies overlapped, how long apart before their colours are trusted again.
_SETTLE_S = 0.3
#: How much better (summed Bhattacharyya distances) swapped ids must fit to be swapped.
_SWAP_MARGIN = 0.15
#: A body whose torso colours are this far (Bhattacharyya) from its track's person is somebody else
#: (measured on the demo: one person's torso at most 0.31 from itself (p90), others 0.93 and more),
#: when that lasts this many frames.
_JUMP_DISTANCE, _JUMP_FRAMES = 0.5, 4


@dataclass
class PeopleOptions:
    """Options of :class:`PeopleTracker`.

    Attributes:
        max_people: most people followed at once.
        detect_every: while a slot is free, run the person detector every this many frames.
        min_height: a pose shorter than this fraction of the image's height is not a person (the
            landmark model, given a chair's or a table's base, can return a tiny confident pose); a
            standing adult is taller than this up to about 8 m from a 60-degree webcam.
        new_person_iou: a detection whose region overlaps a tracked person's region more than this is
            that person (its landmarks are not even computed).
        same_person: two poses whose landmarks are closer than this (median, a fraction of the
            body's height; or with left and right exchanged) are one person. Boxes alone cannot say
            it: a person walking right behind another overlaps them almost entirely.
        memory_s: how long a lost track's identity can be claimed back.
        reclaim_distance: largest distance (in body heights) between a new track and where a lost one
            was heading for the new one to take the lost one's id.
        appearance_weight: weight of the torso colours against the distance when matching identities.
        detect_tiles: besides the whole image, run the person detector on this many overlapping
            tiles of half the image's width: BlazePose's detector sees the whole image at 224 x 224,
            where the face of somebody 4 m or more from a webcam is a few pixels and is missed (0: the
            whole image only).
    """

    max_people: int = 1
    detect_every: int = 10
    min_height: float = 0.2
    new_person_iou: float = 0.8
    same_person: float = 0.07
    memory_s: float = 3.0
    reclaim_distance: float = 1.0
    appearance_weight: float = 1.0
    detect_tiles: int = 3


@dataclass(eq=False)
class Track:
    """One followed person (compared by identity: ``in`` and ``remove`` on the track lists look for
    this very track, not a field-by-field equal one)."""

    id: int
    rect: NormRect | None
    smoother: LandmarkSmoother
    box: np.ndarray = field(default_factory=lambda: np.zeros(4))  # x0, y0, x1, y1 pixels
    points: np.ndarray = field(default_factory=lambda: np.zeros((33, 2)))  # the last landmarks, pixels
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(2))  # box centre, pixels per second
    appearance: np.ndarray | None = None  # the person's look: torso colours while overlapping nobody
    latest: np.ndarray | None = None      # the torso colours of the body followed in the last frame
    t: float = 0.0
    age: int = 0
    overlapped_at: float = -1e9  # last time its box overlapped another track's
    strange: int = 0  # frames in a row its body has looked like somebody else


class PeopleTracker:
    """Up to ``options.max_people`` people with stable ids (see the module docstring).

    Args:
        pipeline: the BlazePose models (shared by every track).
        options: :class:`PeopleOptions`.
        smoothing: smooth each person's landmarks (MediaPipe's filters, one set per person).
    """

    def __init__(self, pipeline: BlazePosePipeline, options: PeopleOptions | None = None, smoothing: bool = True):
        self.pipeline = pipeline
        self.options = options or PeopleOptions()
        self.smoothing = smoothing
        self.reset()

    def reset(self) -> None:
        """Forget every person (a new video)."""
        self.tracks: list[Track] = []
        self.lost: list[Track] = []
        self._next_id = 0
        self._since_detection = 10**9

    def process(self, image: np.ndarray, timestamp: float, bgr: bool = True) -> list[tuple[int, PoseEstimate]]:
        """The people in this video frame, as ``(id, estimate)``, oldest track first."""
        poses: dict[int, PoseEstimate] = {}
        lost_now = self._follow(image, timestamp, bgr, poses)
        self._merge_duplicates(timestamp, poses)
        self._since_detection += 1
        free = len(self.tracks) < self.options.max_people
        # Somebody lost a moment ago is likely to come back soon: look for them every frame meanwhile.
        if free and (lost_now or self.lost or not self.tracks or self._since_detection >= self.options.detect_every):
            self._since_detection = 0
            self._find_new(image, timestamp, bgr, poses)
        self._swap_after_crossings(timestamp)
        self.lost = [t for t in self.lost if timestamp - t.t <= self.options.memory_s]
        return [(t.id, poses[t.id]) for t in sorted(self.tracks, key=lambda t: -t.age)]

    # -- the tracked people ---------------------------------------------------------------------------
    def _follow(self, image, timestamp, bgr, poses) -> bool:
        kept, lost_any = [], False
        for track in self.tracks:
            out = self.pipeline.estimate(image, track.rect, track.smoother, timestamp, bgr)
            if out is None or not self._tall_enough(out[0], image):
                track.smoother.lost()
                self.lost.append(track)
                lost_any = True
                continue
            estimate, track.rect = out
            self._update(track, estimate, image, timestamp)
            lost_any |= self._took_over(track, timestamp)
            poses[track.id] = estimate
            kept.append(track)
        self.tracks = kept
        return lost_any

    def _took_over(self, track: Track, timestamp: float) -> bool:
        """A track whose body has looked, for ``_JUMP_FRAMES`` frames in a row, not like its person but
        like somebody lost a moment ago has slid onto that person (its own went behind somebody): the
        body takes the lost person's id back, and the track's own person counts as lost, to be found
        again by the detector and to take their id back in turn."""
        if track.latest is None or track.appearance is None or \
                _colour_distance(track.latest, track.appearance) < _JUMP_DISTANCE:
            track.strange = 0
            return False
        fits = [(lost, _colour_distance(track.latest, lost.appearance)) for lost in self.lost
                if lost.appearance is not None]
        other, distance = min(fits, key=lambda pair: pair[1], default=(None, 1.0))
        track.strange = track.strange + 1 if other is not None and distance < _JUMP_DISTANCE - _SWAP_MARGIN else 0
        if track.strange < _JUMP_FRAMES:
            return False
        self.lost.remove(other)
        self.lost.append(Track(track.id, None, LandmarkSmoother(self.smoothing), box=track.box.copy(),
                               points=track.points.copy(), velocity=track.velocity.copy(),
                               appearance=track.appearance, t=timestamp, age=track.age))
        track.id, track.appearance, track.age, track.strange = other.id, other.appearance, other.age, 0
        return True

    def _update(self, track: Track, estimate: PoseEstimate, image: np.ndarray, timestamp: float) -> None:
        box = body_box(estimate.landmarks, image.shape)
        track.points = estimate.landmarks[:, :2].astype(np.float64)
        dt = timestamp - track.t
        if track.age and 0 < dt < 1.0:
            track.velocity = 0.7 * track.velocity + 0.3 * (_centre(box) - _centre(track.box)) / dt
        track.box, track.t, track.age = box, timestamp, track.age + 1
        track.latest = torso_histogram(image, estimate.landmarks)
        if track.latest is not None and timestamp - track.overlapped_at > _SETTLE_S:  # nobody in front
            track.appearance = track.latest if track.appearance is None else 0.9 * track.appearance + 0.1 * track.latest

    def _same_person(self, a: Track, b: Track) -> bool:
        # Seen from behind, one of two tracks on a body can have its left and right exchanged.
        return min(pose_distance(a.points, b.points), pose_distance(a.points, b.points[MIRROR_33])) < \
            self.options.same_person

    def _tall_enough(self, estimate: PoseEstimate, image: np.ndarray) -> bool:
        # The landmarks' whole extent, off the image too: a person cut by the border is still tall.
        return float(np.ptp(estimate.landmarks[:, 1])) >= self.options.min_height * image.shape[0]

    def _merge_duplicates(self, timestamp: float, poses: dict[int, PoseEstimate]) -> None:
        for i, a in enumerate(list(self.tracks)):
            for b in self.tracks[i + 1:]:
                if box_iou(a.box, b.box) > 0.05:
                    a.overlapped_at = b.overlapped_at = timestamp
                if a in self.tracks and b in self.tracks and self._same_person(a, b):
                    loser = _slid_over(a, b)
                    self.tracks.remove(loser)  # its own person is probably hidden: keep its id for later
                    poses.pop(loser.id, None)
                    loser.smoother.lost()
                    self.lost.append(loser)

    # -- new people -------------------------------------------------------------------------------------
    def _find_new(self, image, timestamp, bgr, poses) -> None:
        h, w = image.shape[:2]
        candidates: list[Track] = []
        for rect in self._detections(image, bgr):
            if len(self.tracks) + len(candidates) >= self.options.max_people:
                break
            box = rect_box(rect, w, h)
            if any(t.rect is not None and box_iou(box, rect_box(t.rect, w, h)) > self.options.new_person_iou
                   for t in self.tracks + candidates):
                continue
            track = Track(-1, rect, LandmarkSmoother(self.smoothing))
            out = self.pipeline.estimate(image, rect, track.smoother, timestamp, bgr, detected=True)
            if out is None or not self._tall_enough(out[0], image):
                continue
            estimate, track.rect = out
            self._update(track, estimate, image, timestamp)
            if any(self._same_person(track, t) for t in self.tracks + candidates):
                continue  # its landmarks landed on somebody already followed
            poses[id(track)] = estimate
            candidates.append(track)
        self._name(candidates, timestamp, poses)
        self.tracks += candidates

    def _detections(self, image: np.ndarray, bgr: bool) -> list[NormRect]:
        """Person regions from the whole image and its tiles, best first, one per person (a region
        overlapping a better one by more than half is the same person)."""
        h, w = image.shape[:2]
        rects = list(self.pipeline.detection_rects(image, bgr))
        tiles = self.options.detect_tiles if w > h else 0
        tile_w = w // 2
        for x0 in np.linspace(0, w - tile_w, tiles).round().astype(int) if tiles else ():
            tile = np.ascontiguousarray(image[:, x0:x0 + tile_w])
            rects += [_from_tile(r, x0, tile_w, w) for r in self.pipeline.detection_rects(tile, bgr)]
        kept: list[NormRect] = []
        for rect in rects:
            if all(box_iou(rect_box(rect, w, h), rect_box(k, w, h)) <= 0.5 for k in kept):
                kept.append(rect)
        return kept

    def _name(self, candidates: list[Track], timestamp: float, poses: dict) -> None:
        """Give each new track a lost track's id when it is where that one was heading and looks like
        it (one-to-one, least cost first), else a new id."""
        if candidates and self.lost:
            cost = np.array([[self._reclaim_cost(c, lost, timestamp) for lost in self.lost] for c in candidates])
            rows, cols = linear_sum_assignment(np.minimum(cost, 1e6))
            for r, c in zip(rows, cols):
                if cost[r, c] < 1e6:
                    candidates[r].id = self.lost[c].id
            claimed = {c.id for c in candidates}
            self.lost = [t for t in self.lost if t.id not in claimed]
        for candidate in candidates:
            estimate = poses.pop(id(candidate))
            if candidate.id < 0:
                candidate.id, self._next_id = self._next_id, self._next_id + 1
            poses[candidate.id] = estimate

    def _reclaim_cost(self, new: Track, lost: Track, timestamp: float) -> float:
        height = max(new.box[3] - new.box[1], lost.box[3] - lost.box[1], 1.0)
        expected = _centre(lost.box) + lost.velocity * min(timestamp - lost.t, self.options.memory_s)
        distance = float(np.linalg.norm(_centre(new.box) - expected)) / height
        if distance > self.options.reclaim_distance:
            return 1e6
        return distance + self.options.appearance_weight * _colour_distance(new.appearance, lost.appearance)

    # -- crossings ----------------------------------------------------------------------------------------
    def _swap_after_crossings(self, timestamp: float) -> None:
        """Two tracks that overlapped a moment ago and are apart again: when each body now looks more
        like the other track's person than its own, the tracks exchanged bodies while crossing, and
        their ids are swapped back. Checked once per crossing, ``_SETTLE_S`` after the bodies parted."""
        for i, a in enumerate(self.tracks):
            for b in self.tracks[i + 1:]:
                parted = timestamp - max(a.overlapped_at, b.overlapped_at)
                if not _SETTLE_S <= parted < 1.0 or box_iou(a.box, b.box) > 0.0:
                    continue
                a.overlapped_at = b.overlapped_at = -1e9  # this crossing is settled
                if any(x is None for x in (a.appearance, b.appearance, a.latest, b.latest)):
                    continue
                keep = _colour_distance(a.latest, a.appearance) + _colour_distance(b.latest, b.appearance)
                swap = _colour_distance(a.latest, b.appearance) + _colour_distance(b.latest, a.appearance)
                if swap + _SWAP_MARGIN < keep:
                    a.id, b.id = b.id, a.id
                    a.appearance, b.appearance = b.appearance, a.appearance
                    a.age, b.age = b.age, a.age


def _slid_over(a: Track, b: Track) -> Track:
    """Of two tracks on one body, the one that slid onto it from a person now hidden: the one whose
    person looks less like the body (both see the same torso now), else the younger one."""
    fit_a, fit_b = (_colour_distance(t.latest, t.appearance) for t in (a, b))
    if a.appearance is not None and b.appearance is not None and abs(fit_a - fit_b) > _SWAP_MARGIN:
        return a if fit_a > fit_b else b
    return b if b.age < a.age else a


def _from_tile(rect: NormRect, x0: int, tile_w: int, w: int) -> NormRect:
    """A region found in the tile starting at column ``x0`` (full height), in the whole image."""
    return NormRect(np.float32((x0 + float(rect.x_center) * tile_w) / w), rect.y_center,
                    np.float32(float(rect.width) * tile_w / w), rect.height, rect.rotation)


def rect_box(rect: NormRect, w: int, h: int) -> np.ndarray:
    """The axis-aligned box ``(x0, y0, x1, y1)`` pixels of a pose region (ignoring its rotation)."""
    roi = rect.to_roi(w, h)
    return np.array([roi.cx - roi.width / 2, roi.cy - roi.height / 2, roi.cx + roi.width / 2, roi.cy + roi.height / 2])


def pose_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Median distance between two sets of landmarks (pixels), in units of the taller body's height.
    The median: two tracks on one body agree on most landmarks but can disagree on the legs."""
    height = max(np.ptp(a[:, 1]), np.ptp(b[:, 1]), 1.0)
    return float(np.median(np.linalg.norm(a - b, axis=1)) / height)


def body_box(landmarks: np.ndarray, image_shape) -> np.ndarray:
    """``(x0, y0, x1, y1)`` pixels around the 33 landmarks, clipped to the image."""
    h, w = image_shape[:2]
    xs = np.clip(landmarks[:, 0], 0, w)
    ys = np.clip(landmarks[:, 1], 0, h)
    return np.array([xs.min(), ys.min(), xs.max(), ys.max()], dtype=np.float64)


def box_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two ``(x0, y0, x1, y1)`` boxes (``engines.blazepose.decode.iou``)."""
    return float(iou(a, np.asarray(b)[None])[0])


def _centre(box: np.ndarray) -> np.ndarray:
    return np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])
