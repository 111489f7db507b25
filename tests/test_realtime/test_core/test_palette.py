"""The skeleton palette: side colours for one person, a stable, distinct hue per id for several."""
from __future__ import annotations

import colorsys
import itertools

from realtime.core.palette import (PERSON_HUES_DEG, SIDE_COLOURS, bgr, colours_for, legend, person_colours,
                                   several_people)
from realtime.core.records import FrameResult, PersonPose


def _hue_deg(rgb) -> float:
    return 360.0 * colorsys.rgb_to_hsv(*rgb)[0]


def test_every_id_has_its_own_hue_and_keeps_it():
    hues = [_hue_deg(person_colours(i).centre) for i in range(len(PERSON_HUES_DEG))]
    for a, b in itertools.combinations(hues, 2):
        assert min(abs(a - b), 360 - abs(a - b)) >= 30, (a, b)
    for a, b in zip(hues, hues[1:]):  # ids handed out in turn are far apart on the wheel
        assert min(abs(a - b), 360 - abs(a - b)) >= 60, (a, b)
    assert person_colours(3) == person_colours(3) == person_colours(3 + len(PERSON_HUES_DEG))
    assert person_colours(3).label == person_colours(3).centre


def test_left_is_the_light_tint_and_right_the_deep_shade_of_the_persons_hue():
    for i in range(len(PERSON_HUES_DEG)):
        c = person_colours(i)
        light = {side: colorsys.rgb_to_hls(*c.side(side))[1] for side in ("left", "centre", "right")}
        assert light["left"] > light["centre"] > light["right"] + 0.1, (i, light)
        for side in ("left", "right"):  # the same person: the same hue on every bone
            assert abs(_hue_deg(c.side(side)) - _hue_deg(c.centre)) < 1.0
        assert max(c.right) >= 0.7  # the deep shade still reads on the viewer's near-black background


def test_one_person_keeps_the_side_colours_and_several_are_coloured_by_id():
    one = FrameResult(0, 0.0, (640, 480), people=[PersonPose(id=0)])
    several = FrameResult(0, 0.0, (640, 480), people=[PersonPose(id=0), PersonPose(id=1)], wire_major=2)
    assert not several_people(one) and several_people(several)
    assert colours_for(one, one.people[0]) == SIDE_COLOURS
    assert colours_for(several, several.people[1]) == person_colours(1)
    assert SIDE_COLOURS.left == (0.20, 0.55, 1.00) and SIDE_COLOURS.side("centre") == (0.30, 0.85, 0.35)
    assert bgr((1.0, 0.5, 0.0)) == (0, 128, 255)
    assert "blue" in legend(False) and "id" in legend(True)
