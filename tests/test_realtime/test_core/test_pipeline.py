"""The pipeline loop: records, timings, nobody / NaN / lifter failures, failing consumers, stop and flush.

The detector and lifter here are small stand-ins that return known values, so that each failure can be
provoked on a chosen frame; the real engines run through the same loop in test_run_live_e2e.py.
The sockets, the wire format, the recorder, the evaluator and the calibration stage are the real ones.
"""
from __future__ import annotations

import threading
from types import SimpleNamespace

import numpy as np
import pytest

from calibration.stage import CalibrationStage
from realtime.core.capture import CaptureSource
from realtime.core.evaluation import Evaluator, GroundTruth
from realtime.core.pipeline import Pipeline, PipelineOptions
from realtime.core.smoothing import SmoothingStage
from realtime.stream.publisher import Publisher, PublisherOptions
from realtime.stream.wire import decode, encode
from realtime.subscriber import Subscriber, iterate

W, H = 160, 120
TRUTH_3D = np.random.default_rng(0).normal(0, 0.25, (16, 3)).astype(np.float32)
TRUTH_3D -= TRUTH_3D[0]
ROOT = np.array([0.1, -0.05, 3.0], np.float32)


def _project(points: np.ndarray) -> np.ndarray:
    stage = CalibrationStage.uncalibrated((W, H))
    return (points[:, :2] / points[:, 2:] * stage.focal + stage.center).astype(np.float32)


KEYPOINTS = _project(TRUTH_3D + ROOT)  # what a perfect detector sees of the true pose


class ScriptedSource(CaptureSource):
    """Frames 0..n-1 handed over one by one (unpaced); it knows the true pose of each, like the demo."""

    def __init__(self, n: int):
        self.n, self.i = n, 0
        self.frame_size = (W, H)
        self.released = False
        super().__init__("scripted", live=False)

    def _read(self):
        if self.i >= self.n:
            return None
        self.i += 1
        return np.zeros((H, W, 3), np.uint8)

    def ground_truth(self, frame_index):
        return [GroundTruth(KEYPOINTS, TRUTH_3D, ROOT)] if frame_index < self.n else None

    def _release(self):
        self.released = True


class ScriptedDetector:
    """The same keypoints for ``people`` people (ids 5, 6, ...; shifted sideways), except on frames
    listed as nobody / NaN / raise."""

    def __init__(self, nobody=(), nan=(), raises=(), nan_joint=4, confidence=0.9, people=1):
        self.calls, self.nobody, self.nan, self.raises = 0, set(nobody), set(nan), set(raises)
        self.nan_joint, self.confidence, self.people = nan_joint, confidence, people
        self.timestamps = []

    def track(self, image, timestamp=None):
        i, self.calls = self.calls, self.calls + 1
        self.timestamps.append(timestamp)
        if i in self.raises:
            raise RuntimeError("inference failed")
        if i in self.nobody:
            return []
        kp = KEYPOINTS.copy()
        if i in self.nan:
            kp[self.nan_joint] = np.nan
        confidence = np.broadcast_to(np.asarray(self.confidence, np.float32), (16,)).copy()
        return [SimpleNamespace(keypoints_2d=kp + [p * 3.0, 0.0], confidence=confidence, time_ms=1.0, track_id=5 + p)
                for p in range(self.people)]


class ScriptedLifter:
    """Returns the ground truth (perfect lifting) or raises ValueError on chosen calls, like the real one on bad input."""

    def __init__(self, fail_calls=()):
        self.calls, self.fail_calls, self.seen = 0, set(fail_calls), []

    def predict(self, keypoints_2d, image_size, focal=None, center=None):
        i, self.calls = self.calls, self.calls + 1
        batch = np.array(keypoints_2d).reshape(-1, 16, 2)
        self.seen.append((batch[0], tuple(image_size), focal, None if center is None else tuple(center)))
        if i in self.fail_calls:
            raise ValueError("keypoints all coincide")
        return np.repeat(TRUTH_3D[None], len(batch), axis=0)


class ListConsumer:
    """Keeps the wire message of every frame it is given (as the publisher would send it)."""

    def __init__(self, fail: bool = False, name: str = "list"):
        self.messages, self.closed, self.fail, self.name = [], False, fail, name

    def consume(self, result):
        if self.fail:
            raise OSError("disk full")
        self.messages.append(encode(result))

    def close(self):
        self.closed = True


def _pipeline(detector=None, lifter=None, consumers=None, stages=(), **options) -> Pipeline:
    return Pipeline(detector or ScriptedDetector(), lifter or ScriptedLifter(),
                    consumers if consumers is not None else [ListConsumer()],
                    calibration=lambda size: CalibrationStage.uncalibrated(size), stages=stages,
                    backends={"detector": "d", "lifter": "l"}, options=PipelineOptions(**options))


def test_every_frame_reaches_the_consumers_with_timings_latency_and_calibration():
    consumer = ListConsumer(name="publish")
    pipeline = _pipeline(consumers=[consumer])
    source = ScriptedSource(5)
    result = pipeline.run(source)
    assert result.stopped_by == "end_of_stream" and result.error is None
    assert consumer.closed and source.released
    frames = [decode(m) for m in consumer.messages]
    assert [f.frame_index for f in frames] == list(range(5))
    f = frames[0]
    assert f.has_person and f.image_size == (W, H) and len(f.people) == 1 and f.person.id == 0
    np.testing.assert_allclose(f.joints_3d, TRUTH_3D, atol=1e-6)
    np.testing.assert_array_equal(f.keypoints_2d, KEYPOINTS)
    assert [fr.seq for fr in frames] == list(range(5))
    assert {"wait", "detect", "lift", "calibrate"} <= set(f.timings_ms)
    assert f.latency_ms >= 0 and f.backends == {"detector": "d", "lifter": "l"}
    assert f.dropped_at_source == 0 and f.camera["calibrated"] is False and f.error is None
    assert "gt_joints_3d" not in f.arrays  # ground truth only travels when an evaluator is plugged in
    stats = result.stats.as_dict()
    assert stats["frames"] == 5 and stats["frames_with_person"] == 5 and stats["errors"] == 0
    # The calibration stage recovers where the person stands from the 2D and 3D joints.
    np.testing.assert_allclose(f.person.root_translation, ROOT, atol=1e-3)
    assert stats["latency_ms"]["count"] == 5 and stats["stages_ms"]["publish"]["count"] == 5


def test_an_evaluator_that_a_source_with_ground_truth_plugs_in_measures_and_publishes_the_truth():
    source, consumer = ScriptedSource(5), ListConsumer()
    evaluator = Evaluator.for_source(source)
    assert evaluator is not None and Evaluator.for_source(object()) is None
    _pipeline(consumers=[consumer, evaluator], stages=[evaluator.truth_stage]).run(source)
    f = decode(consumer.messages[0])
    np.testing.assert_array_equal(f.person.extra_arrays["gt_joints_3d"], TRUTH_3D)
    np.testing.assert_array_equal(f.arrays["gt_root_translation"], ROOT)
    accuracy = evaluator.summary()
    assert accuracy["mpjpe_mm"]["count"] == 5 and accuracy["mpjpe_mm"]["mean_ms"] == pytest.approx(0.0, abs=1e-3)
    assert accuracy["root_position_mm"]["mean_ms"] == pytest.approx(0.0, abs=1.0)


def test_calibration_intrinsics_reach_the_lifter():
    lifter = ScriptedLifter()
    stage = CalibrationStage.uncalibrated((W, H), hfov_deg=50.0)
    Pipeline(ScriptedDetector(), lifter, [ListConsumer()], calibration=lambda size: stage).run(ScriptedSource(2))
    kp, size, focal, center = lifter.seen[0]
    assert size == (W, H) and focal == pytest.approx(stage.focal) and center == pytest.approx((W / 2, H / 2))


def test_nobody_nan_keypoints_and_lifter_errors_are_published_and_the_loop_goes_on():
    consumer = ListConsumer()
    detector = ScriptedDetector(nobody={1}, nan={2}, raises={3})
    lifter = ScriptedLifter(fail_calls={2})  # the 3rd lift call happens on frame 5 (1, 2, 3 are not lifted)
    result = _pipeline(detector, lifter, [consumer]).run(ScriptedSource(7))
    frames = [decode(m) for m in consumer.messages]
    assert [f.frame_index for f in frames] == list(range(7))
    assert [f.has_person for f in frames] == [True, False, False, False, True, False, True]
    assert frames[1].error is None and "error" not in frames[1].header  # nobody there is not an error
    assert "left_hip" in frames[2].error and "not finite" in frames[2].error  # a lost torso joint: no body
    assert "detector failed" in frames[3].header["error"]
    assert "lifter failed" in frames[5].error and "coincide" in frames[5].error
    assert frames[2].keypoints_2d is None and frames[2].joints_3d is None
    assert result.stats.errors == 3 and result.stats.frames_with_person == 3
    assert result.stopped_by == "end_of_stream"


def test_a_lost_limb_joint_is_filled_in_not_a_lost_frame():
    consumer = ListConsumer()
    low = np.full(16, 0.9, np.float32)
    low[15] = 0.05                                   # right wrist barely seen
    detector = ScriptedDetector(nan={0}, nan_joint=12, confidence=low)   # left wrist NaN on frame 0
    lifter = ScriptedLifter()
    _pipeline(detector, lifter, [consumer], lost_below=0.1).run(ScriptedSource(2))
    frames = [decode(m) for m in consumer.messages]
    assert all(f.has_person and f.error is None for f in frames)
    first_input = lifter.seen[0][0]
    assert np.array_equal(first_input[12], KEYPOINTS[11])   # onto the left elbow
    assert np.array_equal(first_input[15], KEYPOINTS[14])   # under lost_below: onto the right elbow
    assert np.all(np.isfinite(frames[0].keypoints_2d))
    assert frames[0].confidence[12] == 0 and frames[0].confidence[15] == 0 and frames[0].confidence[11] > 0.5
    assert np.array_equal(lifter.seen[1][0][12], KEYPOINTS[12])  # frame 1: wrist seen, used as it is


def test_a_broken_lifter_is_reported_and_ends_the_run_only_when_asked(caplog):
    lifter = ScriptedLifter(fail_calls=set(range(100)))
    result = _pipeline(lifter=lifter, warn_every_errors=10).run(ScriptedSource(25))
    assert result.stopped_by == "end_of_stream" and result.stats.errors == 25  # streamed on regardless
    warnings = [r.getMessage() for r in caplog.records if "frames in a row failed" in r.getMessage()]
    assert len(warnings) == 2 and "10 frames in a row failed: lifter failed" in warnings[0]
    result = _pipeline(lifter=ScriptedLifter(fail_calls=set(range(100))), max_consecutive_errors=4).run(ScriptedSource(50))
    assert result.stopped_by == "error" and "4 frames failed in a row" in result.error
    assert result.stats.frames == 4


def test_a_failing_consumer_is_left_out_and_the_others_keep_receiving():
    good, bad = ListConsumer(), ListConsumer(fail=True)
    result = _pipeline(consumers=[bad, good]).run(ScriptedSource(4))
    assert len(good.messages) == 4 and good.closed
    assert len(result.consumer_errors) == 1 and "disk full" in result.consumer_errors[0]


def test_max_frames_and_stop_event_end_the_run_and_close_everything():
    consumer = ListConsumer()
    result = _pipeline(consumers=[consumer], max_frames=3).run(ScriptedSource(100))
    assert result.stopped_by == "max_frames" and len(consumer.messages) == 3 and consumer.closed

    stop, consumer = threading.Event(), ListConsumer()
    source = ScriptedSource(10_000)

    def stop_after_five(res):
        if res.frame_index == 4:
            stop.set()
    result = _pipeline(consumers=[consumer]).run(source, stop_event=stop, on_frame=stop_after_five)
    assert result.stopped_by == "stop" and len(consumer.messages) == 5 and consumer.closed and source.released
    assert result.source_stats["captured"] >= 5


def test_smoothing_is_marked_and_applied():
    consumer = ListConsumer()
    pipeline = _pipeline(consumers=[consumer])
    pipeline.smoother = SmoothingStage()
    pipeline.run(ScriptedSource(3))
    frames = [decode(m) for m in consumer.messages]
    assert all(f.smoothing for f in frames) and "smooth" in frames[0].timings_ms
    np.testing.assert_allclose(frames[2].joints_3d, TRUTH_3D, atol=1e-5)  # a constant pose stays put


def test_frames_reach_a_real_subscriber_and_a_real_recording(tmp_path):
    from realtime.recorder import Recorder, read_session
    publisher = Publisher(PublisherOptions(address="tcp://127.0.0.1:*"))
    recorder = Recorder(tmp_path, {"source": "scripted"})
    with Subscriber(publisher.address) as sub:
        assert publisher.wait_for_subscribers(1, 5.0)
        received = []
        thread = threading.Thread(target=lambda: received.extend(iterate(sub, count=6, timeout_s=10.0)))
        thread.start()
        result = _pipeline(consumers=[publisher, recorder]).run(ScriptedSource(6))
        thread.join(15)
    assert [f.frame_index for f in received] == list(range(6))
    assert all(np.all(np.isfinite(f.joints_3d)) for f in received)
    session = read_session(recorder.path)
    assert len(session.frames) == 6 and result.stats.frames == 6


def test_warm_up_runs_both_engines_once_and_survives_their_failure(caplog):
    detector, lifter = ScriptedDetector(), ScriptedLifter()
    _pipeline(detector, lifter).warm_up((W, H))
    assert detector.calls == 1 and lifter.calls == 1
    _pipeline(ScriptedDetector(raises={0}), ScriptedLifter()).warm_up((W, H))
    assert "warm-up failed" in caplog.text


def test_several_people_are_lifted_in_one_call_keep_their_ids_and_travel_as_version_2():
    consumer, lifter = ListConsumer(), ScriptedLifter()
    _pipeline(ScriptedDetector(people=3), lifter, [consumer], max_people=3).run(ScriptedSource(4))
    assert lifter.calls == 4  # one batched call per frame, not one per person
    frames = [decode(m) for m in consumer.messages]
    assert all(f.wire_major == 2 and [p.id for p in f.people] == [5, 6, 7] for f in frames)
    assert all(p.root_translation is not None for p in frames[0].people)  # calibration per person
    shifts = [p.keypoints_2d[0, 0] - frames[0].people[0].keypoints_2d[0, 0] for p in frames[0].people]
    assert shifts == pytest.approx([0.0, 3.0, 6.0])
    one = ListConsumer()
    _pipeline(ScriptedDetector(), ScriptedLifter(), [one]).run(ScriptedSource(2))
    assert all(decode(m).wire_major == 1 for m in one.messages)  # one person: the stream stays version 1


def test_the_detector_gets_the_stream_time_of_each_frame():
    detector = ScriptedDetector()
    _pipeline(detector).run(ScriptedSource(3))
    # ScriptedSource has no media clock: the capture time is used, increasing.
    assert all(t is not None for t in detector.timestamps)
    assert detector.timestamps == sorted(detector.timestamps)
