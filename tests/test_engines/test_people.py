"""The several-people tracker on the real BlazePose models and the demo's figures, and its rules on
hand-made tracks."""
from __future__ import annotations

import numpy as np
import pytest

from engines.blazepose.appearance import colour_distance, torso_histogram
from engines.blazepose.people import PeopleOptions, Track, _slid_over, box_iou, pose_distance
from engines.blazepose.tracking import LandmarkSmoother
from engines.detector import PoseDetector
from realtime.core.evaluation import GroundTruth, PeopleScore, match_people
from realtime.core.records import PersonPose
from realtime.demo import DemoScene


@pytest.fixture(scope="module")
def two_figures_score():
    """60 frames of the demo with 2 figures through the detector with ``max_people=3``."""
    scene = DemoScene(people=2)
    detector = PoseDetector(threads=1, max_people=3)
    score, counts, calls = PeopleScore(scene.fps), [], []
    pipeline = detector._people.pipeline
    real = pipeline.detection_rects

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    pipeline.detection_rects = counted
    for i in range(60):
        frame = scene.render(i)
        results = detector.track(frame.image, timestamp=i / scene.fps)
        people = [PersonPose(id=r.track_id, keypoints_2d=r.keypoints_2d) for r in results]
        truths = [GroundTruth(f.keypoints_2d, f.joints_3d, f.root_translation, figure=k, visible=f.visible)
                  for k, f in enumerate(frame.figures)]
        score.add(i, truths, match_people(people, truths))
        counts.append(len(results))
    return score.summary(), counts, len(calls)


def test_two_figures_are_found_and_keep_their_ids(two_figures_score):
    summary, counts, _ = two_figures_score
    assert set(summary) == {0, 1}
    for figure in summary.values():
        assert figure["found_pct"] >= 95.0, summary
        assert figure["id_switches_outside_crossings"] == 0, summary
    assert max(counts) <= 2  # a free third slot is not filled with a ghost


def test_the_person_detector_does_not_run_every_frame(two_figures_score):
    _, _, detector_calls = two_figures_score
    # A free slot runs it every detect_every frames (on the image and its tiles: 1 + 3 calls), not 60 times.
    assert detector_calls <= (60 // PeopleOptions().detect_every + 2) * (1 + PeopleOptions().detect_tiles)


def test_one_person_mode_is_the_single_person_path():
    scene = DemoScene()
    frame = scene.render(30)
    single = PoseDetector(threads=1)
    results = single.track(frame.image, timestamp=1.0)
    assert len(results) == 1 and isinstance(results[0].track_id, int)
    np.testing.assert_allclose(results[0].keypoints_2d, single(frame.image).keypoints_2d, atol=3.0)


def _track(id_, age, look, body):
    return Track(id_, None, LandmarkSmoother(False), appearance=look, latest=body, age=age)


def test_of_two_tracks_on_one_body_the_one_that_slid_over_lets_go():
    red, blue = np.zeros(96), np.zeros(96)
    red[3], blue[60] = 1.0, 1.0
    front, behind = _track(0, 10, red, red), _track(1, 50, blue, red)  # both on the red body
    assert _slid_over(front, behind) is behind and _slid_over(behind, front) is behind
    # No colours to go by: the younger track lets go.
    assert _slid_over(_track(0, 10, None, None), _track(1, 50, None, None)).id == 0


def test_torso_colours_tell_two_demo_figures_apart():
    scene = DemoScene(people=2)
    detector = PoseDetector(threads=1, max_people=2)
    for i in range(20):
        results = detector.track(scene.render(i).image, timestamp=i / scene.fps)
    image = scene.render(19).image
    assert len(results) == 2
    looks = [torso_histogram(image, r.landmarks) for r in results]
    same = colour_distance(looks[0], torso_histogram(scene.render(18).image, results[0].landmarks))
    assert colour_distance(looks[0], looks[1]) > 0.5 > same


def test_geometry_helpers():
    assert box_iou(np.array([0, 0, 2, 2.]), np.array([1, 0, 3, 2.])) == pytest.approx(1 / 3)
    assert box_iou(np.array([0, 0, 1, 1.]), np.array([2, 2, 3, 3.])) == 0.0
    pose = np.stack([np.zeros(33), np.linspace(0, 100, 33)], axis=1)
    assert pose_distance(pose, pose + [5, 0]) == pytest.approx(0.05)


def test_crossings_are_where_true_boxes_touch_and_switches_are_counted():
    score = PeopleScore(fps=10.0)
    left = np.array([[0.0, 0.0], [10.0, 100.0]])
    for frame in range(40):
        x = 200.0 - 5 * frame  # figure 1 walks from the right past figure 0 (frames 18 to 22 touch)
        truths = [GroundTruth(left, None, None, figure=0), GroundTruth(left + [x, 0], None, None, figure=1)]
        ids = (0, 1) if frame < 20 else (1, 0) if frame < 35 else (0, 1)  # swapped in the crossing, then later
        people = [PersonPose(id=i, keypoints_2d=t.keypoints_2d) for i, t in zip(ids, truths)]
        score.add(frame, truths, match_people(people, truths))
    summary = score.summary()
    for figure in (0, 1):
        assert summary[figure]["id_switches"] == 2 and summary[figure]["switch_frames"] == [20, 35]
        assert summary[figure]["id_switches_outside_crossings"] == 1  # frame 35 is 1.3 s after the last touch
        assert summary[figure]["found_pct"] == 100.0
