"""Per-person state: built once for a new id, kept while the id is in view, dropped when it is not."""
from __future__ import annotations

from realtime.core.per_person import PerPerson
from realtime.core.records import PersonPose


def test_a_state_per_id_built_once_and_dropped_when_the_id_is_missing():
    built = []
    states = PerPerson(lambda: built.append(len(built)) or {"n": len(built)})
    a, b = PersonPose(id=1), PersonPose(id=2)
    first = dict((p.id, s) for p, s in states.for_frame([a, b]))
    second = dict((p.id, s) for p, s in states.for_frame([a, b]))
    assert len(built) == 2 and first[1] is second[1] and first[2] is second[2]
    list(states.for_frame([a]))                        # id 2 not in this frame: its state goes
    back = dict((p.id, s) for p, s in states.for_frame([a, b]))
    assert len(built) == 3 and back[1] is first[1] and back[2] is not first[2]
    states.clear()
    assert dict((p.id, s) for p, s in states.for_frame([a]))[1] is not first[1]
