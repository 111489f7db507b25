"""State kept per person id by a pipeline stage (a filter, a tracker): made when an id first appears,
dropped with the first frame that comes without it, so a person who comes back starts afresh."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar

from realtime.core.records import PersonPose

State = TypeVar("State")


class PerPerson(Generic[State]):
    """``make()`` builds the state of a new person id; :meth:`for_frame` pairs each person with theirs."""

    def __init__(self, make: Callable[[], State]):
        self._make = make
        self._states: dict[int, State] = {}

    def for_frame(self, people: Iterable[PersonPose]) -> Iterator[tuple[PersonPose, State]]:
        """Each of ``people`` with their state; the states of ids not among them are dropped first."""
        people = list(people)
        present = {person.id for person in people}
        for gone in set(self._states) - present:
            del self._states[gone]
        for person in people:
            state = self._states.get(person.id)
            if state is None:  # not setdefault: that would build a state every frame, to throw it away
                state = self._states[person.id] = self._make()
            yield person, state

    def clear(self) -> None:
        """Forget every person."""
        self._states.clear()
