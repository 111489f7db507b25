"""Live Foxglove: the skeleton served over the Foxglove WebSocket protocol, for the Foxglove app's 3D panel.

    python run_live.py --source demo --foxglove            # ws://127.0.0.1:8765
    python run_live.py --foxglove 9000                     # another port
    python -m realtime.bridges.foxglove_ws --session recordings/s.mcap   # a recording, as if live

In the Foxglove app: Open connection > Foxglove WebSocket > ``ws://127.0.0.1:8765``, then a 3D panel
shows ``/semgcn/scene`` (``foxglove.SceneUpdate``); ``/semgcn/tf`` (``foxglove.FrameTransform``) places
the camera (and the calibrated world): choose ``camera`` as the display frame for an upright person.
The messages are the recording's (``realtime.recording.foxglove_scene``, encoded by foxglove-sdk);
the server is ``realtime.bridges.foxglove_protocol``. It binds 127.0.0.1 unless ``--foxglove-host``
names another interface (a warning says so: the protocol has no authentication).
"""
from __future__ import annotations

import argparse
import importlib
import logging
import sys

from realtime.bridges.foxglove_protocol import ChannelSpec, FoxgloveServer
from realtime.core.cli import OneLineParser, bounded
from realtime.core.network import is_loopback_host
from realtime.core.records import FrameResult

log = logging.getLogger(__name__)
DEFAULT_PORT = 8765
INSTALL_HINT = "pip install foxglove-sdk websockets (both are in requirements.txt)"


class FoxgloveUnavailable(RuntimeError):
    """foxglove-sdk or websockets is missing; the message says what to install."""


class FoxgloveBridge:
    """A pipeline consumer serving each frame's ``SceneUpdate`` and ``FrameTransform`` messages.

    Frames are encoded only while a client subscribes to a channel, so the bridge costs next to
    nothing when no viewer is connected.

    Raises:
        FoxgloveUnavailable: without foxglove-sdk or websockets. OSError: the port is taken.
    """

    name = "foxglove"

    def __init__(self, port: int = DEFAULT_PORT, host: str = "127.0.0.1"):
        try:
            importlib.import_module("websockets")  # the server's library, checked here for a clear message
            from realtime.recording.foxglove_scene import ENCODING, FoxgloveScene, schemas
        except ImportError as exc:
            raise FoxgloveUnavailable(f"--foxglove needs foxglove-sdk and websockets: {INSTALL_HINT} ({exc})") from None
        self.scene = FoxgloveScene()
        self._channel_ids = {}
        specs = []
        for channel_id, (topic, (name, schema_encoding, data)) in enumerate(schemas().items(), start=1):
            specs.append(ChannelSpec(channel_id, topic, ENCODING, name, schema_encoding, data))
            self._channel_ids[topic] = channel_id
        if not is_loopback_host(host):
            log.warning("the Foxglove server listens on %s: anyone who can reach it sees the stream "
                        "(the protocol has no authentication)", host)
        self.server = FoxgloveServer(specs, host=host, port=port)
        self.frames = 0
        log.info("Foxglove WebSocket server on ws://%s:%d", host, self.server.port)

    @property
    def url(self) -> str:
        return f"ws://{self.server.host}:{self.server.port}"

    def consume(self, result: FrameResult) -> None:
        if not self.server.subscribed:  # nobody watching: nothing to encode
            return
        for message in self.scene.encode(result):
            self.server.publish(self._channel_ids[message.topic], message.log_time_ns, message.data)
        self.frames += 1

    def close(self) -> None:
        self.server.close()


# -- command-line options, for run_live.py (realtime.bridges.BRIDGES) and this module's own command line --
def add_arguments(group) -> None:
    group.add_argument("--foxglove", nargs="?", const=DEFAULT_PORT, default=None, type=bounded(int, 0, 65535),
                       metavar="PORT",
                       help=f"serve the skeleton to the Foxglove app over its WebSocket protocol on 127.0.0.1:PORT "
                            f"(default port {DEFAULT_PORT}; 0: any free port)")
    group.add_argument("--foxglove-host", default="127.0.0.1", metavar="ADDR",
                       help="interface of the Foxglove server (default: %(default)s; another one exposes the stream "
                            "to the network, with a warning)")


def consumer_from_args(args) -> FoxgloveBridge | None:
    port = getattr(args, "foxglove", None)
    if port is None:
        return None
    bridge = FoxgloveBridge(port, args.foxglove_host)
    print(f"Foxglove: open {bridge.url} in the Foxglove app (Foxglove WebSocket)", file=sys.stderr, flush=True)
    return bridge


def build_parser() -> argparse.ArgumentParser:
    from realtime.bridges.feed import add_feed_arguments

    parser = OneLineParser(prog="python -m realtime.bridges.foxglove_ws", description=__doc__.split("\n\n")[0])
    add_feed_arguments(parser)
    group = parser.add_argument_group("Foxglove")
    add_arguments(group)
    parser.set_defaults(foxglove=DEFAULT_PORT)
    return parser


def main(argv: list[str] | None = None) -> int:
    from realtime.bridges.feed import run_feed
    from realtime.core.cli import configure_logging

    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging()
    try:
        bridge = consumer_from_args(args)
        result = run_feed(bridge, args)
    except (FoxgloveUnavailable, OSError, ValueError) as exc:  # missing library, port taken, unreadable session
        print(f"foxglove bridge: error: {exc}", file=sys.stderr)
        return 2
    print(f"served {result.frames} frames ({bridge.frames} while a client watched)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
