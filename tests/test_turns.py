"""Who reads from the server: the rules of ``ReadTurns``, without I/O."""

from __future__ import annotations

from stompio._turns import LISTENER_GRACE, ReadTurns

NOW = 100.0


def test_a_listener_reads_when_nobody_does_and_another_waits() -> None:
    turns = ReadTurns()
    assert turns.listener_wants(NOW)
    assert not turns.listener_wants(NOW)
    # The reader does not read under a listener; it waits to be woken, whenever that is.
    assert turns.reader_turn(NOW) == ("pause", None)


def test_a_listener_that_finishes_wakes_a_parked_reader_once() -> None:
    turns = ReadTurns()
    assert turns.listener_wants(NOW)
    assert turns.reader_turn(NOW) == ("pause", None)
    assert turns.caller_read(NOW)
    # It is awake now: the next read needs no wake-up.
    assert turns.listener_wants(NOW)
    assert not turns.caller_read(NOW)


def test_the_reader_leaves_the_socket_to_a_recent_listener_for_the_grace() -> None:
    turns = ReadTurns()
    assert turns.listener_wants(NOW)
    assert turns.reader_turn(NOW) == ("pause", None)
    turns.caller_read(NOW)
    turn, pause = turns.reader_turn(NOW + LISTENER_GRACE / 4)
    assert turn == "pause"
    assert pause is not None
    assert abs(pause - 0.75 * LISTENER_GRACE) < 1e-9
    later = NOW + 2 * LISTENER_GRACE
    assert turns.reader_turn(later) == ("read", None)
    # Reading now, it keeps the socket until a listener comes.
    assert turns.reader_turn(later) == ("read", None)
    assert not turns.listener_wants(later)


def test_a_listener_that_waits_on_the_reader_is_handed_the_socket() -> None:
    turns = ReadTurns()
    assert turns.reader_turn(NOW) == ("read", None)
    # The reader is in the middle of a read: the listener waits for what it brings.
    assert not turns.listener_wants(NOW)
    assert turns.reader_turn(NOW) == ("hand_over", LISTENER_GRACE)
    turns.listener_waited()
    assert turns.listener_wants(NOW)
    assert turns.reader_turn(NOW) == ("pause", None)


def test_a_receipt_waiter_reads_itself_when_nobody_does() -> None:
    turns = ReadTurns()
    assert turns.listener_wants(NOW)
    turns.caller_read(NOW)
    assert turns.reader_turn(NOW)[0] == "pause"
    assert turns.waiter_wants(NOW)
    # A listener that comes meanwhile waits for what the waiter reads.
    assert not turns.listener_wants(NOW)
    assert turns.reader_turn(NOW) == ("pause", None)
    # The waiter is done: the parked reader wakes and hands the socket to the listener.
    assert turns.caller_read(NOW)
    assert turns.reader_turn(NOW)[0] == "hand_over"


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
    turn, pause = turns.reader_turn(NOW)
    assert turn == "pause"
    assert pause == LISTENER_GRACE
    assert turns.waiter_wants(NOW)
    assert turns.reader_turn(NOW) == ("pause", None)
    assert turns.caller_read(NOW)
    later = NOW + 2 * LISTENER_GRACE
    assert turns.reader_turn(later) == ("read", None)


def test_a_listener_after_a_wait_reads_itself_once_the_reader_handed_over() -> None:
    turns = ReadTurns()
    assert turns.reader_turn(NOW) == ("read", None)
    assert not turns.listener_wants(NOW)
    assert not turns.listener_wants(NOW)
    assert turns.reader_turn(NOW)[0] == "hand_over"
    turns.listener_waited()
    assert turns.listener_wants(NOW)
    # The other listener still waits: when this one stops, the reader must look again.
    assert turns.caller_read(NOW)


def test_a_pause_never_outlasts_what_the_heart_beats_tolerate() -> None:
    turns = ReadTurns()
    assert turns.listener_wants(NOW)
    # Parked under a reading listener: woken by it, or when the silence runs out.
    assert turns.reader_turn(NOW, silence_left=2.5) == ("pause", 2.5)
    turns.caller_read(NOW)
    assert turns.reader_turn(NOW, silence_left=0.01) == ("pause", 0.01)
    assert turns.reader_turn(NOW, silence_left=10.0) == ("pause", LISTENER_GRACE)
    # A read is bounded by the caller's own use of the silence, not here.
    assert turns.reader_turn(NOW + 2 * LISTENER_GRACE, silence_left=0.01) == ("read", None)
