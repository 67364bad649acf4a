"""The ceiling on an event loop: the raw client's frames and framing, driven by asyncio.

The same pre-encoded frames, batches and framing as ``client_raw.py``, read by a transport
straight into the framing buffer (asyncio's fastest way in; no streams, no library): what
asyncio itself adds, the floor for an async client's round trips. The phases here are shared
with ``client_raw_trio.py``.
"""

from __future__ import annotations

import asyncio
import socket
import time
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from client_raw import BYTES_PER_WRITE, FRAMES_PER_WRITE, Framing, encode, header
from probe import RoundTrips, Task, Window, check_deadline, emit

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable


class AsyncWire(Protocol):
    """What the phases need of a connection, whichever loop drives it."""

    async def send(self, data: bytes) -> None:
        """Write all of ``data``."""

    async def read_frames(self, deadline: float) -> list[bytes]:
        """Wait for at least one frame; return each frame's command-and-headers block."""

    def close(self) -> None:
        """Close the connection."""


W = TypeVar("W", bound=AsyncWire)


class _Reader(asyncio.BufferedProtocol):
    """The transport reads straight into the framing buffer, framed there and then."""

    def __init__(self) -> None:
        self.framing = Framing()
        self.frames: list[bytes] = []
        self.failure: BaseException | None = None
        self.waiter: asyncio.Future[None] | None = None
        self.drained: asyncio.Future[None] | None = None

    def get_buffer(self, sizehint: int) -> memoryview:
        del sizehint
        return self.framing.view

    def buffer_updated(self, nbytes: int) -> None:
        try:
            self.frames += self.framing.cut(nbytes)
        except RuntimeError as exc:  # an ERROR frame
            self.fail(exc)
        if self.frames:
            self.wake()

    def eof_received(self) -> bool:
        self.fail(ConnectionError("the broker closed the connection"))
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.fail(exc or ConnectionError("the connection was lost"))

    def pause_writing(self) -> None:
        self.drained = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self.drained is not None and not self.drained.done():
            self.drained.set_result(None)
        self.drained = None

    def fail(self, exc: BaseException) -> None:
        if self.failure is None:
            self.failure = exc
        self.wake()
        self.resume_writing()

    def wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)


class LoopWire:
    """A connection read by the loop's transport, which keeps reading all the time."""

    def __init__(self, transport: asyncio.Transport, reader: _Reader, deadline: float) -> None:
        self.transport = transport
        self.reader = reader
        # One timer for the whole run: a timeout per read would add the loop's timer work
        # to every round trip.
        asyncio.get_running_loop().call_later(
            deadline - time.monotonic(), reader.fail, TimeoutError("raw asyncio client: deadline")
        )

    async def send(self, data: bytes) -> None:
        """Write all of ``data``, waiting while the transport holds too much unsent."""
        self.transport.write(data)
        if self.reader.drained is not None:
            await self.reader.drained
        if self.reader.failure is not None:
            raise self.reader.failure

    async def read_frames(self, deadline: float) -> list[bytes]:
        """Wait for at least one frame; return each frame's command-and-headers block."""
        del deadline  # the timer set up in __init__ keeps it
        reader = self.reader
        while not reader.frames:
            if reader.failure is not None:
                raise reader.failure
            reader.waiter = asyncio.get_running_loop().create_future()
            await reader.waiter
            reader.waiter = None
        frames = reader.frames
        reader.frames = []
        return frames

    def close(self) -> None:
        """Close the connection."""
        self.transport.close()


async def connect(task: Task) -> LoopWire:
    """Open the connection and complete the handshake, heart-beats off."""
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)  # noqa: FBT003 (the socket API)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    async with asyncio.timeout(10):
        await loop.sock_connect(sock, ("127.0.0.1", task.port))
    reader = _Reader()
    transport, _ = await loop.create_connection(lambda: reader, sock=sock)
    wire = LoopWire(transport, reader, task.deadline_at())
    return await handshake(task, wire)


async def handshake(task: Task, wire: W) -> W:
    """Send CONNECT and wait for CONNECTED, heart-beats off."""
    connect_headers = {
        "accept-version": "1.2",
        "host": task.vhost,
        "login": task.login,
        "passcode": task.passcode,
        "heart-beat": "0,0",
    }
    await wire.send(encode("CONNECT", connect_headers))
    frames = await wire.read_frames(time.monotonic() + 10)
    if not frames[0].startswith(b"CONNECTED"):
        msg = f"expected CONNECTED, got {frames[0]!r}"
        raise RuntimeError(msg)
    return wire


async def wait_for_receipt(wire: AsyncWire, receipt_id: bytes, deadline: float) -> None:
    """Read until the RECEIPT with this id arrives."""
    while True:
        for head in await wire.read_frames(deadline):
            if head.startswith(b"RECEIPT") and header(head, b"receipt-id") == receipt_id:
                return


async def produce(task: Task, wire: AsyncWire, deadline: float) -> dict[str, Any]:
    """Send ``count`` frames, the last with a receipt; the clock stops at the RECEIPT."""
    headers = {"destination": task.queue, "content-length": str(task.size), **task.send_headers}
    frame = encode("SEND", headers, task.body)
    last = encode("SEND", {**headers, "receipt": "produced"}, task.body)
    per_write = max(1, min(FRAMES_PER_WRITE, BYTES_PER_WRITE // len(frame)))
    batch = frame * per_write
    writes, remainder = divmod(task.count - 1, per_write)
    window = Window.open(task.broker_pids)
    for _ in range(writes):
        await wire.send(batch)
    await wire.send(frame * remainder + last)
    await wait_for_receipt(wire, b"produced", deadline)
    return window.close(task.count)


async def consume(task: Task, wire: AsyncWire, deadline: float) -> dict[str, Any]:
    """Drain ``count`` messages with client-individual acks, one write of ACKs per read."""
    subscribe = {"destination": task.queue, "id": "1", "ack": "client-individual"}
    window = Window.open(task.broker_pids)
    await wire.send(encode("SUBSCRIBE", subscribe))
    acked = 0
    while acked < task.count:
        acks = [
            b"ACK\nid:" + header(head, b"ack") + b"\n\n\x00"
            for head in await wire.read_frames(deadline)
            if head.startswith(b"MESSAGE")
        ]
        await wire.send(b"".join(acks))
        acked += len(acks)
    result = window.close(task.count)
    await wire.send(encode("UNSUBSCRIBE", {"id": "1", "receipt": "unsubscribed"}))
    await wait_for_receipt(wire, b"unsubscribed", deadline)
    return result


async def round_trips(task: Task, wire: AsyncWire, deadline: float) -> dict[str, Any]:
    """Send one message and wait for it to come back, ``rtt_count`` times in a row."""
    subscribe = {"destination": task.rtt_queue, "id": "2", "ack": "auto", "receipt": "rtt"}
    await wire.send(encode("SUBSCRIBE", subscribe))
    await wait_for_receipt(wire, b"rtt", deadline)
    headers = {"destination": task.rtt_queue, "content-length": str(task.size)}
    frame = encode("SEND", {**headers, **task.send_headers}, task.body)
    trips = RoundTrips(Window.open(task.broker_pids), task.rtt_budget)
    waiting = 0
    for _ in range(task.rtt_count):
        if trips.over_budget():
            break
        started = time.perf_counter()
        await wire.send(frame)
        waiting += 1
        while waiting > 0:
            frames = await wire.read_frames(deadline)
            waiting -= sum(1 for head in frames if head.startswith(b"MESSAGE"))
        trips.latencies.append(time.perf_counter() - started)
    check_deadline(deadline, "round trips")
    return trips.close()


async def run(task: Task, connect: Callable[[Task], Awaitable[AsyncWire]]) -> dict[str, Any]:
    """Run the task's phases on one connection."""
    deadline = task.deadline_at()
    wire = await connect(task)
    phases = {"produce": produce, "consume": consume, "rtt": round_trips}
    results = {name: await phases[name](task, wire, deadline) for name in task.phases}
    await wire.send(encode("DISCONNECT", {"receipt": "bye"}))
    await wait_for_receipt(wire, b"bye", deadline)
    wire.close()
    return results


def main() -> None:
    """Run the task and print the report."""
    emit({"client": "raw-asyncio", "phases": asyncio.run(run(Task.from_argv(), connect))})


if __name__ == "__main__":
    main()
