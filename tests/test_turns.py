"""Who reads from the server: the rules of ``ReadTurns``, without I/O."""

from __future__ import annotations

from stompio._turns import LISTENER_GRACE, ReadTurns

NOW = 100.0
# Past the grace of a caller that read at NOW.
LATER = NOW + 2 * LISTENER_GRACE


def test_a_listener_reads_when_nobody_does_and_another_waits() -> None:
    turns = ReadTurns()
    assert turns.listener_wants(NOW)
    assert not turns.listener_wants(NOW)
    # The reader does not read under a listener: it looks again after the grace, and parks
    # (no wake-ups) once the listener has been waiting that long.
    assert turns.reader_turn(NOW) == ("pause", LISTENER_GRACE)
    assert turns.reader_turn(LATER) == ("pause", None)


def test_a_busy_listener_never_wakes_the_reader() -> None:
    turns = ReadTurns()
    for trip in range(100):
        now = NOW + trip * LISTENER_GRACE / 1000
        assert turns.listener_wants(now)
        turn, pause = turns.reader_turn(now)
        assert turn == "pause"
        assert pause is not None
        assert not turns.caller_read(now)


def test_a_listener_that_finishes_wakes_a_parked_reader_once() -> None:
    turns = ReadTurns()
    assert turns.listener_wants(NOW)
    assert turns.reader_turn(LATER) == ("pause", None)
    assert turns.caller_read(LATER)
    # It is awake now: the next read needs no wake-up.
    assert turns.listener_wants(LATER)
    assert not turns.caller_read(LATER)


def test_the_reader_leaves_the_socket_to_a_recent_listener_for_the_grace() -> None:
    turns = ReadTurns()
    assert turns.listener_wants(NOW)
    turns.caller_read(NOW)
    turn, pause = turns.reader_turn(NOW + LISTENER_GRACE / 4)
    assert turn == "pause"
    assert pause is not None
    assert abs(pause - 0.75 * LISTENER_GRACE) < 1e-9
    assert turns.reader_turn(LATER) == ("read", None)
    # Reading now, it keeps the socket until a listener comes.
    assert turns.reader_turn(LATER) == ("read", None)
    assert not turns.listener_wants(LATER)


def test_a_listener_that_waits_on_the_reader_is_handed_the_socket() -> None:
    turns = ReadTurns()
    assert turns.reader_turn(NOW) == ("read", None)
    # The reader is in the middle of a read: the listener waits for what it brings.
    assert not turns.listener_wants(NOW)
    assert turns.reader_turn(NOW) == ("hand_over", LISTENER_GRACE)
    turns.listener_waited()
    assert turns.listener_wants(NOW)
    assert turns.reader_turn(NOW)[0] == "pause"


def test_a_receipt_waiter_reads_itself_when_nobody_does() -> None:
    turns = ReadTurns()
    assert turns.listener_wants(NOW)
    turns.caller_read(NOW)
    assert turns.reader_turn(NOW)[0] == "pause"
    assert turns.waiter_wants(LATER)
    # A listener that comes meanwhile waits for what the waiter reads.
    assert not turns.listener_wants(LATER)
    assert turns.reader_turn(LATER + 2 * LISTENER_GRACE) == ("pause", None)
    # The waiter is done: the parked reader wakes and hands the socket to the listener.
    assert turns.caller_read(LATER + 2 * LISTENER_GRACE)
    assert turns.reader_turn(LATER + 2 * LISTENER_GRACE)[0] == "hand_over"


def test_a_receipt_waiter_leaves_the_read_to_a_reading_listener() -> None:
    turns = ReadTurns()
    assert turns.listener_wants(NOW)
    assert not turns.waiter_wants(NOW)
    # ... but when the listener stops before the receipt came, the reader takes over.
    assert turns.caller_read(NOW)
    assert turns.reader_turn(NOW) == ("read", None)
    # It keeps reading while the receipt has not come, however recent the listener.
    assert not turns.waiter_wants(NOW)
    assert turns.reader_turn(NOW) == ("read", None)
    turns.waiter_served()
    assert turns.reader_turn(NOW) == ("read", None)
    turns.waiter_served()
    turn, _ = turns.reader_turn(NOW)
    assert turn == "pause"


def test_the_reader_leaves_the_socket_to_the_next_receipt_waiter() -> None:
    turns = ReadTurns()
    assert turns.reader_turn(NOW) == ("read", None)
    assert not turns.waiter_wants(NOW)
    # The reader read the RECEIPT, and counts the waiter off before it even wakes.
    turns.waiter_served()
    assert turns.reader_turn(NOW) == ("pause", LISTENER_GRACE)
    assert turns.waiter_wants(NOW)
    assert turns.reader_turn(NOW)[0] == "pause"
    assert not turns.caller_read(NOW)
    assert turns.reader_turn(LATER) == ("read", None)


def test_a_pause_never_outlasts_what_the_heart_beats_tolerate() -> None:
    turns = ReadTurns()
    assert turns.listener_wants(NOW)
    # Parked under a reading listener: woken by it, or when the silence runs out.
    assert turns.reader_turn(LATER, silence_left=2.5) == ("pause", 2.5)
    assert turns.reader_turn(NOW, silence_left=0.01) == ("pause", 0.01)
    turns.caller_read(NOW)
    assert turns.reader_turn(NOW, silence_left=0.01) == ("pause", 0.01)
    assert turns.reader_turn(NOW, silence_left=10.0) == ("pause", LISTENER_GRACE)
    # A read is bounded by the caller's own use of the silence, not here.
    assert turns.reader_turn(LATER, silence_left=0.01) == ("read", None)
