"""The ceiling on trio: the raw client's frames and framing, on trio's own sockets.

The phases are ``client_raw_asyncio.py``'s; only the wire differs. What trio itself adds,
the floor for the trio face's round trips.
"""

from __future__ import annotations

import socket

import trio
from client_raw import Framing
from client_raw_asyncio import handshake, run
from probe import Task, emit


class TrioWire:
    """A trio socket read into the framing buffer: a read tries the socket, then waits."""

    def __init__(self, sock: trio.socket.SocketType) -> None:
        self.sock = sock
        self.framing = Framing()

    async def send(self, data: bytes) -> None:
        """Write all of ``data``."""
        view = memoryview(data)
        while view:
            view = view[await self.sock.send(view) :]

    async def read_frames(self, deadline: float) -> list[bytes]:
        """Wait for at least one frame; return each frame's command-and-headers block."""
        del deadline  # the whole run is bounded by one cancel scope
        while True:
            size = await self.sock.recv_into(self.framing.view)
            if not size:
                msg = "the broker closed the connection"
                raise ConnectionError(msg)
            frames = self.framing.cut(size)
            if frames:
                return frames

    def close(self) -> None:
        """Close the connection."""
        self.sock.close()


async def connect(task: Task) -> TrioWire:
    """Open the connection and complete the handshake, heart-beats off."""
    sock = trio.socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    with trio.fail_after(10):
        await sock.connect(("127.0.0.1", task.port))
    return await handshake(task, TrioWire(sock))


async def bounded_run(task: Task) -> dict[str, object]:
    """Run the task, failing (``TooSlowError``) when its deadline passes."""
    with trio.fail_after(task.deadline):
        return await run(task, connect)


def main() -> None:
    """Run the task and print the report."""
    emit({"client": "raw-trio", "phases": trio.run(bounded_run, Task.from_argv())})


if __name__ == "__main__":
    main()
