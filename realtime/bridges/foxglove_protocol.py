"""A server of the Foxglove WebSocket protocol (server side of its v1 spec), on the ``websockets`` library.

The spec (github.com/foxglove/ws-protocol, docs/spec.md, subprotocol ``foxglove.websocket.v1``): the
client offers the subprotocol in the handshake and the server must select it; the server then sends
``serverInfo`` and ``advertise`` (JSON text messages, one channel per topic with its encoding and
schema); the client sends ``subscribe`` / ``unsubscribe`` (JSON) with ids of its own; the server sends
each message of a subscribed channel as a binary ``Message Data`` frame: opcode 0x01, uint32
subscription id, uint64 timestamp (ns), payload, little-endian.

Why not foxglove-sdk's own server (which this project uses for the schemas and their encoding): it
accepts only the subprotocol ``foxglove.sdk.v1`` (the same protocol under its new name) and refuses a
client offering ``foxglove.websocket.v1`` with HTTP 400, which cuts off Foxglove Studio before 2025,
Lichtblick before 1.22 and the ws-protocol client libraries. This server accepts both names. It
implements what live viewing needs: no client publishing, parameters, services or assets (the
``capabilities`` list is empty, as the spec allows).

Threading: the server runs its own asyncio loop in a daemon thread; ``publish`` may be called from
any thread, returns at once, and each client has a bounded queue that drops its oldest message when
the client is slow, so a slow or stuck viewer never holds up the pipeline.
"""
from __future__ import annotations

import asyncio
import base64
import json
import logging
import struct
import threading
import time
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

SUBPROTOCOLS = ("foxglove.websocket.v1", "foxglove.sdk.v1")
MESSAGE_DATA = 0x01
STATUS_WARNING, STATUS_ERROR = 1, 2


@dataclass(frozen=True)
class ChannelSpec:
    """One advertised channel: ``schema`` is the raw schema (a protobuf FileDescriptorSet here)."""

    id: int
    topic: str
    encoding: str
    schema_name: str
    schema_encoding: str
    schema: bytes

    def advertisement(self) -> dict:
        text = base64.b64encode(self.schema).decode("ascii") if self.schema_encoding == "protobuf" \
            else self.schema.decode("utf-8")  # binary schemas travel base64-encoded (spec: Advertise)
        return {"id": self.id, "topic": self.topic, "encoding": self.encoding, "schemaName": self.schema_name,
                "schema": text, "schemaEncoding": self.schema_encoding}


@dataclass
class _Client:
    connection: object
    queue: asyncio.Queue
    subscriptions: dict[int, int] = field(default_factory=dict)  # subscription id -> channel id
    dropped: int = 0


class FoxgloveServer:
    """Serves ``channels`` on ``host:port`` (port 0: any free port; ``port`` holds the one bound).

    Raises:
        OSError: when the address cannot be bound (port in use).
    """

    def __init__(self, channels: list[ChannelSpec], host: str = "127.0.0.1", port: int = 8765,
                 name: str = "semgcn-live", backlog: int = 64):
        self.channels = {c.id: c for c in channels}
        self.host, self.port, self.name, self.backlog = host, port, name, backlog
        self._clients: list[_Client] = []
        self.subscribed: set[int] = set()  # channel ids with at least one subscriber (read from any thread)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._stopping: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, args=(port,), name="foxglove-ws", daemon=True)
        self._thread.start()
        self._ready.wait(10.0)
        if self._error is not None:
            raise self._error
        if not self._ready.is_set():
            raise OSError(f"the Foxglove server on {host}:{port} did not start")

    # -- called from the pipeline's thread --------------------------------------------------------
    def publish(self, channel_id: int, log_time_ns: int, payload: bytes) -> None:
        """Queue ``payload`` for every subscriber of ``channel_id`` (thread-safe, never blocks)."""
        if channel_id in self.subscribed and not self._loop.is_closed():
            try:
                self._loop.call_soon_threadsafe(self._fan_out, channel_id, log_time_ns, payload)
            except RuntimeError:  # the loop closed meanwhile
                pass

    def close(self) -> None:
        """Stop the server, close every connection and end the thread (idempotent)."""
        if self._thread.is_alive() and self._stopping is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(5.0)

    @property
    def clients(self) -> int:
        return len(self._clients)

    # -- the server's loop ------------------------------------------------------------------------
    def _run(self, port: int) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._serve(port))
        except BaseException as exc:  # noqa: BLE001 - reported to the constructor (bind errors)
            self._error = exc if isinstance(exc, OSError) else OSError(f"Foxglove server failed: {exc}")
            self._ready.set()
        finally:
            self._loop.close()

    async def _serve(self, port: int) -> None:
        from websockets.asyncio.server import serve

        self._stopping = asyncio.Event()
        async with serve(self._handle, self.host, port, subprotocols=list(SUBPROTOCOLS),
                         process_request=_require_subprotocol, compression=None, max_size=1 << 20) as server:
            self.port = server.sockets[0].getsockname()[1]
            self._ready.set()
            await self._stopping.wait()
            server.close()  # closes connections too (1001 going away)

    async def _handle(self, connection) -> None:
        client = _Client(connection, asyncio.Queue(maxsize=self.backlog))
        self._clients.append(client)
        sender = asyncio.ensure_future(self._send_loop(client))
        try:
            await connection.send(json.dumps({"op": "serverInfo", "name": self.name, "capabilities": [],
                                              "metadata": {}, "sessionId": str(time.time_ns())}))
            await connection.send(json.dumps({"op": "advertise",
                                              "channels": [c.advertisement() for c in self.channels.values()]}))
            async for message in connection:
                await self._on_message(client, message)
        except Exception as exc:  # noqa: BLE001 - a client that goes away or misbehaves ends only itself
            log.debug("foxglove client ended: %s", exc)
        finally:
            sender.cancel()
            self._clients.remove(client)
            self._update_subscribed()

    async def _on_message(self, client: _Client, message) -> None:
        if isinstance(message, bytes):
            return await self._status(client, STATUS_ERROR, "this server does not accept client messages")
        try:
            request = json.loads(message)
            op = request["op"]
            if op == "subscribe":
                for sub in request["subscriptions"]:
                    sub_id, channel_id = int(sub["id"]), int(sub["channelId"])
                    if channel_id not in self.channels or sub_id in client.subscriptions:
                        await self._status(client, STATUS_WARNING, f"cannot subscribe {sub_id} to channel {channel_id}")
                        continue
                    client.subscriptions[sub_id] = channel_id
            elif op == "unsubscribe":
                for sub_id in request["subscriptionIds"]:
                    client.subscriptions.pop(int(sub_id), None)
            else:
                await self._status(client, STATUS_WARNING, f"unsupported operation {op!r}")
        except (ValueError, KeyError, TypeError) as exc:
            await self._status(client, STATUS_ERROR, f"malformed request: {type(exc).__name__}: {exc}")
        self._update_subscribed()

    async def _status(self, client: _Client, level: int, text: str) -> None:
        await client.connection.send(json.dumps({"op": "status", "level": level, "message": text}))

    def _update_subscribed(self) -> None:
        self.subscribed = {ch for client in self._clients for ch in client.subscriptions.values()}

    def _fan_out(self, channel_id: int, log_time_ns: int, payload: bytes) -> None:
        for client in self._clients:
            for sub_id, channel in client.subscriptions.items():
                if channel == channel_id:
                    frame = struct.pack("<BIQ", MESSAGE_DATA, sub_id, log_time_ns) + payload
                    if client.queue.full():  # a slow client loses its oldest message, not the pipeline's time
                        client.queue.get_nowait()
                        client.dropped += 1
                    client.queue.put_nowait(frame)

    async def _send_loop(self, client: _Client) -> None:
        while True:
            frame = await client.queue.get()
            await client.connection.send(frame)


def _require_subprotocol(connection, request):
    """Refuse (HTTP 400) a handshake that offers none of our subprotocols, as the spec requires."""
    offered = ",".join(request.headers.get_all("Sec-WebSocket-Protocol"))
    if not any(p.strip() in SUBPROTOCOLS for p in offered.split(",")):
        return connection.respond(400, f"expected the WebSocket subprotocol {' or '.join(SUBPROTOCOLS)}\n")
    return None
