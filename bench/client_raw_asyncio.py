"""The ceiling on an event loop: the raw client's frames and framing, driven by asyncio.

The same pre-encoded frames, batches and framing as ``client_raw.py``, written and read with
the loop's own socket methods (no streams, no library): what asyncio itself adds, the floor
for an async client's round trips.
"""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

from client_raw import BYTES_PER_WRITE, FRAMES_PER_WRITE, Wire, encode, header
from probe import RoundTrips, Task, Window, check_deadline, emit


class LoopWire:
    """A :class:`Wire` whose socket is non-blocking and waited on by the running loop."""

    def __init__(self, wire: Wire) -> None:
        self.wire = wire
        self.loop = asyncio.get_running_loop()

    async def send(self, data: bytes) -> None:
        """Write all of ``data``."""
        await self.loop.sock_sendall(self.wire.sock, data)

    async def read_frames(self, deadline: float) -> list[bytes]:
        """Wait for at least one frame; return each frame's command-and-headers block."""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                msg = "raw asyncio client: deadline passed while reading"
                raise TimeoutError(msg)
            async with asyncio.timeout(remaining):
                size = await self.loop.sock_recv_into(self.wire.sock, self.wire.view)
            if not size:
                msg = "the broker closed the connection"
                raise ConnectionError(msg)
            frames = self.wire.cut(size)
            if frames:
                return frames

    async def wait_for_receipt(self, receipt_id: bytes, deadline: float) -> None:
        """Read until the RECEIPT with this id arrives."""
        while True:
            for head in await self.read_frames(deadline):
                if head.startswith(b"RECEIPT") and header(head, b"receipt-id") == receipt_id:
                    return


async def connect(task: Task) -> LoopWire:
    """Open the connection and complete the handshake, heart-beats off."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)  # noqa: FBT003 (the socket API)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    wire = LoopWire(Wire(sock))
    async with asyncio.timeout(10):
        await wire.loop.sock_connect(sock, ("127.0.0.1", task.port))
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


async def produce(task: Task, wire: LoopWire, deadline: float) -> dict[str, Any]:
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
    await wire.wait_for_receipt(b"produced", deadline)
    return window.close(task.count)


async def consume(task: Task, wire: LoopWire, deadline: float) -> dict[str, Any]:
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
    await wire.wait_for_receipt(b"unsubscribed", deadline)
    return result


async def round_trips(task: Task, wire: LoopWire, deadline: float) -> dict[str, Any]:
    """Send one message and wait for it to come back, ``rtt_count`` times in a row."""
    subscribe = {"destination": task.rtt_queue, "id": "2", "ack": "auto", "receipt": "rtt"}
    await wire.send(encode("SUBSCRIBE", subscribe))
    await wire.wait_for_receipt(b"rtt", deadline)
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


async def run(task: Task) -> dict[str, Any]:
    """Run the task's phases on one connection."""
    deadline = task.deadline_at()
    wire = await connect(task)
    phases = {"produce": produce, "consume": consume, "rtt": round_trips}
    results = {name: await phases[name](task, wire, deadline) for name in task.phases}
    await wire.send(encode("DISCONNECT", {"receipt": "bye"}))
    await wire.wait_for_receipt(b"bye", deadline)
    wire.wire.sock.close()
    return results


def main() -> None:
    """Run the task and print the report."""
    emit({"client": "raw-asyncio", "phases": asyncio.run(run(Task.from_argv()))})


if __name__ == "__main__":
    main()
