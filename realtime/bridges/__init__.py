"""Bridges: consumers that carry the pose stream into other protocols (game engines, avatar apps, robots).

A bridge is a pipeline consumer (``name``, ``consume(result)``, ``close()``; ``realtime.core.pipeline``)
that turns each ``FrameResult`` into another protocol's messages. It runs in two ways:

* inside ``run_live.py``: a bridge module listed in ``BRIDGES`` provides ``add_arguments(group)``
  (its command-line options) and ``consumer_from_args(args)`` (the consumer, or None when the user
  did not ask for it), and the app adds it after the publisher and the recorder;
* on its own, fed by a running stream or a recording: ``python -m realtime.bridges.<name> --connect
  tcp://... | --session FILE``, with ``realtime.bridges.feed`` doing the receiving and the pacing.

A bridge module imports its protocol's library (python-osc, rclpy, ...) only when its consumer is
made, so that listing it here costs nothing to a user who does not use it.

A consumer that drives a rig with bone rotations says so with ``needs_skeleton = True``; the app then
adds the ``solve`` stage (``realtime.core.skeleton_stage``), which sets ``person.skeleton`` for it. Fed
from a stream or a recording, such a bridge gets its skeletons from ``realtime.bridges.skeletons``.

Several people: a bridge that follows one person (VMC's avatar, Live Link's subject, ROS 2's
``/semgcn/joints``) picks them with ``realtime.core.person_choice.PersonSelector`` and offers the
choice as ``--<bridge>-person first|ID``; every person keeps their own skeleton state (by id).
"""

#: Bridge modules under ``realtime.bridges`` that ``run_live.py`` offers, in the order they run.
BRIDGES: tuple[str, ...] = ("ros2", "foxglove_ws", "vmc", "livelink")
