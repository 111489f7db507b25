"""Which person an output that follows one person follows, when a frame holds several (issue 14).

VMC drives one avatar, a Live Link Pose node binds one subject name, a single-person robot reads one
``/semgcn/joints`` (live and in the ROS 2 bag export): each needs one person out of
``FrameResult.people``. The rule, defined once here (in ``realtime.core`` because the bridges and the
recording exports both use it) and offered as ``--vmc-person``, ``--livelink-person``,
``--ros2-person`` (``--person`` on the bridges' own command lines, ``tools.export_session``):

* ``first`` (the default): the person tracked the longest among those in view (the earliest seen;
  seen first in the same frame: the pipeline's order), who then stays chosen until they leave; then
  the one tracked the longest of those still there. Nobody new takes over while the chosen person is
  in view, however the pipeline orders its people.
* a person id: that person whenever they are in view, nobody otherwise (ids are the tracker's
  ``PersonPose.id``, shown by the viewer and in the stream).

A person has *left* when they have been out of the frames for more than ``hold_s`` (1.5 s, the time
the multi-person tracker keeps a lost person's id to give it back, ``PeopleOptions.memory_s``): a
person hidden for a moment comes back with their id and is still the chosen one, rather than the
avatar being handed to somebody else, with another body's bone lengths, and back. While the chosen
person is missing, ``choose`` returns None (VMC says "tracking lost" and receivers hold the pose).
The hold is for streams of several people (``FrameResult.wire_major == 2``): a pipeline that follows
one person has nobody to hand over to, and gives a person found again after being lost a new id, so
there whoever is in view is chosen at once.
Time is the scene's: a replayed frame's recorded capture time (``header["replay"]``), since a replay
at ``--speed 0`` or ``3`` squeezes the clock it is stamped with, else ``FrameResult.timestamp``.
"""
from __future__ import annotations

import argparse
import math

from realtime.core.cli import bounded
from realtime.core.records import FrameResult, PersonPose

FIRST = "first"
#: Largest person id (the stream's limit, ``realtime.stream.wire``).
MAX_PERSON_ID = 2**31
#: How long a missing person stays chosen (the tracker's memory of a lost person's id).
HOLD_S = 1.5

_person_id = bounded(int, 0, MAX_PERSON_ID)


def person_choice(text: str) -> str | int:
    """An argparse ``type``: ``first`` or a person id (0 to 2^31)."""
    if text.strip().lower() == FIRST:
        return FIRST
    try:
        return _person_id(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected 'first' or a person id from 0 to {MAX_PERSON_ID}, "
                                         f"got {text!r}") from None


person_choice.__name__ = "person"
# Read by tests/test_realtime/test_app/test_option_ranges.py, which checks every numeric range.
person_choice.kind, person_choice.low, person_choice.high = int, 0, MAX_PERSON_ID


def frame_time(frame: FrameResult) -> float:
    """The frame's time in the scene (module docstring), seconds."""
    replay = frame.header.get("replay") if isinstance(frame.header, dict) else None
    recorded = replay.get("t_capture_recorded") if isinstance(replay, dict) else None
    if isinstance(recorded, (int, float)) and not isinstance(recorded, bool) and math.isfinite(recorded):
        return float(recorded)
    return frame.timestamp


def add_person_argument(group, flag: str, what: str) -> None:
    """``flag`` (e.g. ``--vmc-person``) choosing the person that ``what`` follows."""
    group.add_argument(flag, type=person_choice, default=FIRST, metavar="first|ID",
                       help=f"the person {what} follows when several are in view: 'first' = the one tracked the "
                            f"longest, until they leave (default), or a person id")


class PersonSelector:
    """Chooses one person per frame (module docstring).

    Args:
        choice: ``"first"`` or a person id.
        hold_s: how long a missing person stays chosen (and remembered), in the frames' own time.
    """

    def __init__(self, choice: str | int = FIRST, hold_s: float = HOLD_S):
        if choice != FIRST and not (isinstance(choice, int) and 0 <= choice <= MAX_PERSON_ID):
            raise ValueError(f"a person is chosen by 'first' or an id from 0 to {MAX_PERSON_ID}, got {choice!r}")
        self.choice, self.hold_s = choice, float(hold_s)
        self.chosen_id: int | None = None if choice == FIRST else choice
        self._first_seen: dict[int, tuple[int, int]] = {}  # id -> (frame count, place in that frame)
        self._last_seen: dict[int, float] = {}              # id -> frame time
        self._frames = 0
        self._last_t: float | None = None

    def choose(self, frame: FrameResult) -> PersonPose | None:
        """The chosen person of ``frame``, or None (nobody chosen, or the chosen person is missing)."""
        t = frame_time(frame)
        if self._last_t is not None and t < self._last_t:  # the clock went back (a looping file): start again
            self.reset()
        self._last_t = t
        present = {person.id: person for person in frame.people}
        self._remember(present, t, self.hold_s if frame.several_people else 0.0)
        if self.choice != FIRST:
            return present.get(self.choice)
        if self.chosen_id is not None and self.chosen_id not in self._last_seen:  # they left
            self.chosen_id = None
        if self.chosen_id is None and present:
            self.chosen_id = min(present, key=self._first_seen.__getitem__)
        return present.get(self.chosen_id)

    def reset(self) -> None:
        """Forget everybody."""
        self._first_seen.clear()
        self._last_seen.clear()
        self._last_t = None
        if self.choice == FIRST:
            self.chosen_id = None

    def _remember(self, present: dict[int, PersonPose], t: float, hold_s: float) -> None:
        for place, person_id in enumerate(present):
            self._first_seen.setdefault(person_id, (self._frames, place))
            self._last_seen[person_id] = t
        self._frames += 1
        for gone in [pid for pid, seen in self._last_seen.items() if pid not in present and t - seen > hold_s]:
            del self._last_seen[gone], self._first_seen[gone]  # a returning id is a new person
