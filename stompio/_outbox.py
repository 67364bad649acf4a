"""Bytes on their way to the server, and the rule for who sends them and when: no I/O here."""

from __future__ import annotations

from typing import Literal, TypeAlias

# A frame queued this soon after the one before is part of a burst, which the writer sends
# with one system call. Idle clients are slower, so their frames leave at once; a round trip
# can be faster (0.05-0.5 ms on loopback), so waiting for the server ends a burst too.
BURST_WINDOW = 0.0002
# A caller that finds this many bytes queued sends them itself.
OUTBOX_LIMIT = 256 * 1024

Step: TypeAlias = Literal["send", "send_and_yield", "wake_writer", "leave"]


class Outbox:
    """Frames queued for the socket.

    A frame that comes alone skips the queue (:meth:`takes_alone`): its caller sends it.
    After each :meth:`put`, :meth:`after_put` tells the caller what to do: ``"send"`` the
    queue itself, ``"wake_writer"`` (the first frame of a burst: the writer task or thread
    sends the burst in one call), ``"leave"`` it (the writer is already woken, or the frame
    may wait for the listener), or ``"send_and_yield"`` (the queue is full: send it, and let
    other tasks run). :meth:`take` empties the queue for one write,
    and :meth:`end_burst` says that the caller now waits for the server.
    """

    __slots__ = ("_chunks", "_last_put", "_size", "_writer_woken")

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._size = 0
        self._last_put = float("-inf")
        self._writer_woken = False

    def __bool__(self) -> bool:
        return bool(self._chunks)

    def put(self, data: bytes) -> None:
        """Queue the bytes of one frame (or a heart-beat)."""
        self._chunks.append(data)
        self._size += len(data)

    def takes_alone(self, now: float) -> bool:
        """Tell whether a frame made at ``now`` may leave at once, by its caller, unqueued.

        It may when nothing is queued before it and it starts no burst; it then counts as
        put. Otherwise the caller puts it and asks :meth:`after_put`.
        """
        if self._chunks or now - self._last_put < BURST_WINDOW:
            return False
        self._last_put = now
        return True

    def after_put(
        self, now: float, *, may_wait: bool = False, writer_takes_bursts: bool = True
    ) -> Step:
        """Decide who sends what was just queued; ``now`` is a monotonic clock in seconds.

        ``may_wait`` says that someone who sends the queue is sure to come soon: the
        listener, for an ACK made while more messages are already in. Without
        ``writer_takes_bursts``, a frame of a burst is sent by the caller too.
        """
        if self._size >= OUTBOX_LIMIT:
            return "send_and_yield"
        if may_wait:
            return "leave"
        in_burst = now - self._last_put < BURST_WINDOW
        self._last_put = now
        if not in_burst or not writer_takes_bursts:
            return "send"
        if self._writer_woken:
            return "leave"
        self._writer_woken = True
        return "wake_writer"

    def end_burst(self) -> None:
        """Note that the caller waits for the server: its next frame is a reply, not a burst.

        Left to the writer, that frame waits for the writer's wake-up: against a server that
        answers in 50 us, the blocking client's round trip took 177-208 us so, 137-200 without.
        """
        self._last_put = float("-inf")

    def take(self) -> bytes | None:
        """Everything queued, as one write, or ``None``; what is queued later needs a new step."""
        self._writer_woken = False
        if not self._chunks:
            return None
        data = b"".join(self._chunks)
        self._chunks.clear()
        self._size = 0
        return data
