"""Who reads from the server next: a caller waiting for it, or the background reader.

No I/O here. A caller that reads the socket itself, in ``listen()`` or waiting for a RECEIPT,
gets what it waits for without a hand-off from the reader (a thread wake-up, or a loop turn):
against RabbitMQ, the blocking client's round trip fell from 325-354 us to 293-304 so. The
background reader reads when nobody waits (receipts for others, heart-beats, errors), and
keeps watch on the heart-beats meanwhile.
"""

from __future__ import annotations

from typing import Literal, TypeAlias

# A caller that read (or waited for a receipt) this recently is likely back soon: the
# background reader leaves the socket to it meanwhile, and wakes once per this while at most
# to look again.
LISTENER_GRACE = 0.05

ReaderTurn: TypeAlias = Literal["read", "pause", "hand_over"]


class ReadTurns:
    """Whose turn it is to read, kept under the connection's state guard.

    A listener that finds the inbox empty asks :meth:`listener_wants`, and a caller waiting
    for a RECEIPT asks :meth:`waiter_wants`: either reads itself when nobody else does, and
    else waits for what the reader brings. A caller that read reports :meth:`caller_read`.
    The background reader asks :meth:`reader_turn` before every read: it reads, pauses, or
    hands the socket over to waiting listeners (by waking one with a marker in the inbox)
    and pauses. A receipt waiter that does not read is never handed the socket: it is
    woken by its RECEIPT, which somebody is always reading for.
    """

    __slots__ = (
        "_caller_reading",
        "_last_listen",
        "_listeners_waiting",
        "_others_waiting",
        "_reader_parked",
        "_reader_reading",
    )

    def __init__(self) -> None:
        self._caller_reading = False
        self._reader_reading = False
        self._reader_parked = False
        self._listeners_waiting = 0
        self._others_waiting = 0
        self._last_listen = float("-inf")

    def listener_wants(self, now: float) -> bool:
        """Note that a listener found the inbox empty; True: it reads itself, False: it waits."""
        self._last_listen = now
        if self._caller_reading or self._reader_reading:
            self._listeners_waiting += 1
            return False
        self._caller_reading = True
        return True

    def listener_waited(self) -> None:
        """Note that a listener that waited for the inbox got something (or gave up)."""
        self._listeners_waiting -= 1

    def waiter_wants(self, now: float) -> bool:
        """Note that a caller waits for a RECEIPT; True: it reads itself, False: it waits.

        A caller that waits is counted until :meth:`waiter_served`: the reader reads for it.
        """
        self._last_listen = now
        if self._caller_reading or self._reader_reading:
            self._others_waiting += 1
            return False
        self._caller_reading = True
        return True

    def waiter_served(self) -> None:
        """Note that a waiting caller's RECEIPT came (or that it gave up): nobody reads for it.

        Counted off when the RECEIPT is read, not when the waiter wakes: the reader then
        leaves the socket to the waiter's next request.
        """
        self._others_waiting -= 1

    def caller_read(self, now: float) -> bool:
        """Note that a caller's read is over; True: the background reader must be woken.

        It must when somebody waits for what nobody reads now, or when it pauses until woken.
        """
        self._caller_reading = False
        self._last_listen = now
        wake = self._reader_parked or bool(self._listeners_waiting or self._others_waiting)
        self._reader_parked = False
        return wake

    def reader_turn(
        self, now: float, silence_left: float | None = None
    ) -> tuple[ReaderTurn, float | None]:
        """Choose the background reader's next step, and how long it may pause (``None``: no bound).

        Called between its reads, so it is not reading when it asks. A pause never outlasts
        ``silence_left``, what the heart-beats still tolerate: the reader keeps that watch.
        """
        turn, pause = self._reader_turn(now)
        if turn == "read" or silence_left is None:
            return turn, pause
        return turn, silence_left if pause is None else min(pause, silence_left)

    def _reader_turn(self, now: float) -> tuple[ReaderTurn, float | None]:
        self._reader_reading = False
        self._reader_parked = False
        idle = now - self._last_listen
        if self._caller_reading:
            if idle < LISTENER_GRACE:
                # A caller that is busy reading: look again after the grace. Parked, the
                # reader was woken at the end of every read, a task switch or a thread
                # wake-up per message: under a caller back in its next read, it parked again.
                return "pause", LISTENER_GRACE - idle
            # A caller that has been waiting the whole grace may wait for hours: park (no
            # wake-ups) until its read ends.
            self._reader_parked = True
            return "pause", None
        if self._others_waiting:
            self._reader_reading = True
            return "read", None
        if self._listeners_waiting:
            return "hand_over", LISTENER_GRACE
        if idle < LISTENER_GRACE:
            return "pause", LISTENER_GRACE - idle
        self._reader_reading = True
        return "read", None
