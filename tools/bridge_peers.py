"""Receivers for the benchmark: a real client per bridge, in its own process, as a robot or a viewer is.

    peers = start_peers(bridges)   # tools.bench_live: after make_bridges(args)
    ...                            # the bridges now do their full work per frame (encode, send)
    stop_peers(peers)

A bridge without a receiver does less than in use (the Foxglove server encodes nothing while nobody
subscribes; DDS sends to nobody), so its timing would flatter it. For the ROS 2 bridge the peer is an
rclpy node subscribing to both topics with RViz's QoS; for the Foxglove bridge a WebSocket client
(``foxglove.websocket.v1``) subscribed to every channel. Each counts what it received and prints it
when it is terminated.

    python -m tools.bridge_peers ros2 --domain 7          # the peer processes themselves
    python -m tools.bridge_peers foxglove --url ws://127.0.0.1:8765
"""
from __future__ import annotations

import argparse
import asyncio
import json
import signal
import subprocess
import sys
import threading
import time


def start_peers(bridges: list, timeout_s: float = 30.0) -> list[subprocess.Popen]:
    """A receiving process for each ROS 2 / Foxglove bridge in ``bridges``, started and matched."""
    peers = []
    for bridge in bridges:
        if bridge.name == "ros2":
            domain = str(bridge.domain_id)
            peers.append((subprocess.Popen([sys.executable, "-m", "tools.bridge_peers", "ros2", "--domain", domain]),
                          lambda b=bridge: b.subscribers() > 0))
        elif bridge.name == "foxglove":
            peers.append((subprocess.Popen([sys.executable, "-m", "tools.bridge_peers", "foxglove", "--url", bridge.url]),
                          lambda b=bridge: len(b.server.subscribed) == len(b.server.channels)))
    deadline = time.monotonic() + timeout_s
    for process, matched in peers:
        while not matched() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
        if not matched():
            print(f"warning: the benchmark's peer {process.args[3]} did not connect", file=sys.stderr)
    return [process for process, _ in peers]


def stop_peers(peers: list[subprocess.Popen]) -> None:
    for process in peers:
        process.send_signal(signal.SIGTERM)
    for process in peers:
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _ros2_peer(domain: int, stop: threading.Event) -> int:
    import rclpy
    from geometry_msgs.msg import PoseArray
    from rclpy.context import Context
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.qos import QoSProfile
    from visualization_msgs.msg import MarkerArray

    from realtime.bridges.ros2 import configure_discovery
    configure_discovery("localhost")
    context, counts = Context(), [0]
    rclpy.init(context=context, domain_id=domain)
    node = rclpy.create_node("bench_peer", context=context)
    def count(_message) -> None:
        counts[0] += 1
    node.create_subscription(PoseArray, "/semgcn/joints", count, QoSProfile(depth=5))  # RViz's default QoS
    node.create_subscription(MarkerArray, "/semgcn/markers", lambda _: None, QoSProfile(depth=5))
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    while not stop.is_set():
        executor.spin_once(timeout_sec=0.1)
    executor.shutdown()
    node.destroy_node()
    rclpy.try_shutdown(context=context)
    return counts[0]


def _foxglove_peer(url: str, stop: threading.Event) -> int:
    import websockets

    async def run() -> int:
        received = 0
        async with websockets.connect(url, subprotocols=["foxglove.websocket.v1"]) as ws:
            await ws.recv()  # serverInfo
            channels = json.loads(await ws.recv())["channels"]
            await ws.send(json.dumps({"op": "subscribe",
                                      "subscriptions": [{"id": c["id"], "channelId": c["id"]} for c in channels]}))
            while not stop.is_set():
                try:
                    message = await asyncio.wait_for(ws.recv(), 0.2)
                except asyncio.TimeoutError:
                    continue
                received += isinstance(message, bytes)
        return received
    return asyncio.run(run())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bridge_peers", description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=("ros2", "foxglove"))
    parser.add_argument("--domain", type=int, default=0, help="ros2: the ROS domain id")
    parser.add_argument("--url", default="ws://127.0.0.1:8765", help="foxglove: the server")
    args = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    received = _ros2_peer(args.domain, stop) if args.kind == "ros2" else _foxglove_peer(args.url, stop)
    print(f"{args.kind} peer received {received} messages", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
