"""The ceiling: pre-encoded STOMP frames on a plain socket, no library.

It writes many identical SEND frames per ``sendall``, batches the ACKs of one read into
one write, and frames what it reads only as far as it must (``content-length``, the
``ack`` header), skipping bodies without copying them. Heart-beats are off. Also used to
fill queues for the memory benchmark (``"phases": ["produce"]``).
"""

from __future__ import annotations

import socket
import time
from typing import Any

from probe import RoundTrips, Task, Window, check_deadline, emit

RECEIVE_SIZE = 256 * 1024
FRAMES_PER_WRITE = 500
BYTES_PER_WRITE = 1024 * 1024
CONTENT_LENGTH = b"\ncontent-length:"


def encode(command: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    """One frame; the benchmark's header values never need escaping."""
    lines = "".join(f"{name}:{value}\n" for name, value in headers.items())
    return f"{command}\n{lines}\n".encode() + body + b"\x00"


def header(head: bytes, name: bytes) -> bytes:
    """The value of one header in a frame's command-and-headers block (first occurrence)."""
    start = head.find(b"\n" + name + b":")
    if start < 0:
        msg = f"no {name.decode()} header in {head[:200]!r}"
        raise ValueError(msg)
    start += len(name) + 2
    end = head.find(b"\n", start)
    return head[start:] if end < 0 else head[start:end]


class Framing:
    """One reused read buffer, cut into frames as the bytes stream past.

    Only each frame's command and headers are kept; bodies are counted and skipped, never
    copied, so that the raw clients stay the ceiling for big bodies too.
    """

    def __init__(self) -> None:
        self.buffer = bytearray(RECEIVE_SIZE)
        self.view = memoryview(self.buffer)
        self.head = bytearray()
        self.frame_head = b""
        # Body bytes (NUL included) still to skip; -1: a body without content-length.
        self.skip = 0

    def cut(self, size: int) -> list[bytes]:
        """Frame the ``size`` bytes just read into the buffer; return the heads completed."""
        position = 0
        frames: list[bytes] = []
        while position < size:
            if self.skip:
                position = self._skip_body(position, size, frames)
                continue
            after_head = self._take_head(position, size)
            if after_head is None:
                break
            position = after_head
        return frames

    def _skip_body(self, position: int, size: int, frames: list[bytes]) -> int:
        if self.skip < 0:
            nul = self.buffer.find(b"\x00", position, size)
            if nul < 0:
                return size
            self.skip = 0
            frames.append(self.frame_head)
            return nul + 1
        taken = min(self.skip, size - position)
        self.skip -= taken
        if not self.skip:
            frames.append(self.frame_head)
        return position + taken

    def _take_head(self, position: int, size: int) -> int | None:
        if not self.head:
            while position < size and self.buffer[position] in b"\r\n":
                position += 1
            if position == size:
                return None
        started = len(self.head)
        self.head += self.view[position:size]
        headers_end = self.head.find(b"\n\n")
        if headers_end < 0:
            return None
        head = bytes(self.head[:headers_end])
        self.head.clear()
        if head.startswith(b"ERROR"):
            msg = f"the broker sent ERROR: {head.decode(errors='replace')}"
            raise RuntimeError(msg)
        self.frame_head = head
        length_at = head.find(CONTENT_LENGTH)
        if length_at < 0:
            self.skip = -1
        else:
            value_end = head.find(b"\n", length_at + 1)
            value = head[length_at + len(CONTENT_LENGTH) : value_end if value_end > 0 else None]
            self.skip = int(value) + 1
        return position + headers_end + 2 - started


class Wire(Framing):
    """A blocking socket read into the framing buffer."""

    def __init__(self, sock: socket.socket) -> None:
        super().__init__()
        self.sock = sock

    def read_frames(self, deadline: float) -> list[bytes]:
        """Wait for at least one frame; return each frame's command-and-headers block."""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                msg = "raw client: deadline passed while reading"
                raise TimeoutError(msg)
            self.sock.settimeout(remaining)
            size = self.sock.recv_into(self.view)
            if not size:
                msg = "the broker closed the connection"
                raise ConnectionError(msg)
            frames = self.cut(size)
            if frames:
                return frames

    def wait_for_receipt(self, receipt_id: bytes, deadline: float) -> None:
        """Read until the RECEIPT with this id arrives."""
        while True:
            for head in self.read_frames(deadline):
                if head.startswith(b"RECEIPT") and header(head, b"receipt-id") == receipt_id:
                    return


def connect(task: Task) -> Wire:
    """Open the connection and complete the handshake, heart-beats off."""
    sock = socket.create_connection(("127.0.0.1", task.port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    wire = Wire(sock)
    connect_headers = {
        "accept-version": "1.2",
        "host": task.vhost,
        "login": task.login,
        "passcode": task.passcode,
        "heart-beat": "0,0",
    }
    sock.sendall(encode("CONNECT", connect_headers))
    frames = wire.read_frames(time.monotonic() + 10)
    if not frames[0].startswith(b"CONNECTED"):
        msg = f"expected CONNECTED, got {frames[0]!r}"
        raise RuntimeError(msg)
    return wire


def produce(task: Task, wire: Wire, deadline: float) -> dict[str, Any]:
    """Send ``count`` frames, the last with a receipt; the clock stops at the RECEIPT."""
    headers = {"destination": task.queue, "content-length": str(task.size), **task.send_headers}
    frame = encode("SEND", headers, task.body)
    last = encode("SEND", {**headers, "receipt": "produced"}, task.body)
    per_write = max(1, min(FRAMES_PER_WRITE, BYTES_PER_WRITE // len(frame)))
    batch = frame * per_write
    writes, remainder = divmod(task.count - 1, per_write)
    tail = frame * remainder + last
    window = Window.open(task.broker_pids)
    for _ in range(writes):
        wire.sock.sendall(batch)
    wire.sock.sendall(tail)
    wire.wait_for_receipt(b"produced", deadline)
    return window.close(task.count)


def consume(task: Task, wire: Wire, deadline: float) -> dict[str, Any]:
    """Drain ``count`` messages with client-individual acks, one write of ACKs per read."""
    subscribe = {"destination": task.queue, "id": "1", "ack": "client-individual"}
    window = Window.open(task.broker_pids)
    wire.sock.sendall(encode("SUBSCRIBE", subscribe))
    acked = 0
    while acked < task.count:
        acks = [
            b"ACK\nid:" + header(head, b"ack") + b"\n\n\x00"
            for head in wire.read_frames(deadline)
            if head.startswith(b"MESSAGE")
        ]
        wire.sock.sendall(b"".join(acks))
        acked += len(acks)
    result = window.close(task.count)
    wire.sock.sendall(encode("UNSUBSCRIBE", {"id": "1", "receipt": "unsubscribed"}))
    wire.wait_for_receipt(b"unsubscribed", deadline)
    return result


def round_trips(task: Task, wire: Wire, deadline: float) -> dict[str, Any]:
    """Send one message and wait for it to come back, ``rtt_count`` times in a row."""
    subscribe = {"destination": task.rtt_queue, "id": "2", "ack": "auto", "receipt": "rtt"}
    wire.sock.sendall(encode("SUBSCRIBE", subscribe))
    wire.wait_for_receipt(b"rtt", deadline)
    headers = {
        "destination": task.rtt_queue,
        "content-length": str(task.size),
        **task.send_headers,
    }
    frame = encode("SEND", headers, task.body)
    trips = RoundTrips(Window.open(task.broker_pids), task.rtt_budget)
    latencies = trips.latencies
    waiting = 0
    for _ in range(task.rtt_count):
        if trips.over_budget():
            break
        started = time.perf_counter()
        wire.sock.sendall(frame)
        waiting += 1
        while waiting > 0:
            waiting -= sum(1 for head in wire.read_frames(deadline) if head.startswith(b"MESSAGE"))
        latencies.append(time.perf_counter() - started)
    check_deadline(deadline, "round trips")
    return trips.close()


def main() -> None:
    """Run the task's phases and print the report."""
    task = Task.from_argv()
    deadline = task.deadline_at()
    wire = connect(task)
    phases = {"produce": produce, "consume": consume, "rtt": round_trips}
    results = {name: phases[name](task, wire, deadline) for name in task.phases}
    wire.sock.sendall(encode("DISCONNECT", {"receipt": "bye"}))
    wire.wait_for_receipt(b"bye", deadline)
    wire.sock.close()
    emit({"client": "raw", "phases": results})


if __name__ == "__main__":
    main()
