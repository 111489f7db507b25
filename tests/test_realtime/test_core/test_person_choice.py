"""The person-choice rule of the one-person outputs (VMC, Live Link's subject, ROS 2's /semgcn/joints):
'first' keeps the person tracked the longest until they have left for longer than the hold, an id
follows that id, the scene's clock decides (a squeezed replay clock does not), and the option parses."""
from __future__ import annotations

import argparse

import numpy as np
import pytest

from realtime.core.person_choice import HOLD_S, MAX_PERSON_ID, PersonSelector, person_choice
from realtime.core.records import FrameResult, PersonPose

FPS = 30.0


def _frame(i: int, ids: list[int], t0: float = 100.0, wire_major: int = 2, **fields) -> FrameResult:
    people = [PersonPose(id=pid, joints_3d=np.zeros((16, 3), np.float32)) for pid in ids]
    return FrameResult(frame_index=i, t_capture=t0 + i / FPS, image_size=(64, 64), people=people,
                       wire_major=wire_major, **fields)


def _chosen(selector: PersonSelector, timeline: list[list[int]], **fields) -> list[int | None]:
    out = []
    for i, ids in enumerate(timeline):
        person = selector.choose(_frame(i, ids, **fields))
        out.append(None if person is None else person.id)
    return out


def test_first_keeps_the_longest_tracked_person_whatever_order_the_pipeline_lists_people_in():
    timeline = [[5]] * 3 + [[9, 5]] * 5 + [[2, 9, 5]] * 5  # newcomers listed first
    assert _chosen(PersonSelector(), timeline) == [5] * 13
    same_frame = PersonSelector()  # two people seen first in the same frame: the pipeline's order decides
    assert _chosen(same_frame, [[7, 4], [4, 7]]) == [7, 7]


def test_when_the_chosen_person_leaves_nobody_is_chosen_for_the_hold_then_the_longest_tracked_of_the_rest():
    hold_frames = int(HOLD_S * FPS)
    timeline = [[1]] * 5 + [[1, 2]] * 5 + [[1, 2, 3]] * 5 + [[3, 2]] * (hold_frames + 10)
    chosen = _chosen(PersonSelector(), timeline)
    assert chosen[:15] == [1] * 15
    gone = chosen[15:]
    # missing for up to the hold: still person 1's turn (None); after it, 2 (seen before 3), not 3
    assert gone[:hold_frames - 1] == [None] * (hold_frames - 1) and gone[-9:] == [2] * 9  # (the last: a tie)
    assert set(gone) == {None, 2}


def test_a_person_missing_for_less_than_the_hold_comes_back_chosen_rather_than_handing_over():
    timeline = [[1, 2]] * 10 + [[2]] * 20 + [[1, 2]] * 10  # 20 frames = 0.67 s < 1.5 s
    chosen = _chosen(PersonSelector(), timeline)
    assert chosen == [1] * 10 + [None] * 20 + [1] * 10


def test_a_single_person_stream_has_nobody_to_hand_over_to_so_a_person_found_again_is_chosen_at_once():
    timeline = [[0]] * 5 + [[]] * 10 + [[1]] * 5  # one-person pipeline: lost, then found under a new id
    assert _chosen(PersonSelector(), timeline, wire_major=1) == [0] * 5 + [None] * 10 + [1] * 5
    assert _chosen(PersonSelector(), timeline) == [0] * 5 + [None] * 15  # several people: 0 is held


def test_an_explicit_id_is_followed_only_when_in_view():
    timeline = [[1]] * 3 + [[1, 7]] * 3 + [[1]] * 60 + [[7]] * 2
    assert _chosen(PersonSelector(7), timeline) == [None] * 3 + [7] * 3 + [None] * 60 + [7] * 2


def test_a_replay_is_judged_on_its_recorded_clock_and_a_clock_going_back_starts_again():
    hold_frames = int(HOLD_S * FPS)
    timeline = [[1, 2]] * 5 + [[2]] * (hold_frames + 5)
    selector = PersonSelector()
    chosen = []
    for i, ids in enumerate(timeline):  # stamped 1 ms apart (a --speed 0 replay), recorded 1/30 s apart
        frame = _frame(i, ids, header={"replay": {"t_capture_recorded": 100.0 + i / FPS}})
        frame.t_capture = 5000.0 + i * 0.001
        person = selector.choose(frame)
        chosen.append(None if person is None else person.id)
    assert chosen[-3:] == [2, 2, 2]  # the recorded 1.6 s passed, though only 0.05 s of stamps did
    looped = PersonSelector()
    assert _chosen(looped, [[1, 2]] * 3) == [1] * 3
    assert looped.choose(_frame(0, [2, 9], t0=50.0)).id == 2  # the file started again: 1 is forgotten


@pytest.mark.parametrize("text, want", [("first", "first"), ("FIRST", "first"), ("0", 0), ("12", 12),
                                        (str(MAX_PERSON_ID), MAX_PERSON_ID)])
def test_the_option_takes_first_or_an_id(text, want):
    assert person_choice(text) == want


@pytest.mark.parametrize("text", ["-1", str(MAX_PERSON_ID + 1), "1.5", "nan", "everyone", ""])
def test_the_option_refuses_anything_else_saying_what_it_wants(text):
    with pytest.raises(argparse.ArgumentTypeError, match="'first' or a person id"):
        person_choice(text)
    with pytest.raises(ValueError):
        PersonSelector(-1)
