"""The write rule of the sans-IO core: who sends a queued frame, and when."""

from __future__ import annotations

from stompio._outbox import BURST_WINDOW, OUTBOX_LIMIT, Outbox

T0 = 1000.0
SOON = BURST_WINDOW / 4
LATER = BURST_WINDOW * 4


def test_a_lone_frame_is_sent_by_the_caller() -> None:
    outbox = Outbox()
    outbox.put(b"SEND\n\n\x00")
    assert outbox.after_put(T0) == "send"
    assert outbox.take() == b"SEND\n\n\x00"
    assert outbox.take() is None
    assert not outbox


def test_a_burst_wakes_the_writer_once_per_batch() -> None:
    outbox = Outbox()
    steps = []
    for number in range(4):
        outbox.put(b"%d" % number)
        steps.append(outbox.after_put(T0 + number * SOON))
    assert steps == ["send", "wake_writer", "leave", "leave"]
    assert outbox.take() == b"0123"
    # The writer took the batch: the next frame of the burst needs a wake-up of its own.
    outbox.put(b"4")
    assert outbox.after_put(T0 + 4 * SOON) == "wake_writer"


def test_a_pause_ends_the_burst() -> None:
    outbox = Outbox()
    outbox.put(b"a")
    outbox.after_put(T0)
    outbox.put(b"b")
    assert outbox.after_put(T0 + SOON) == "wake_writer"
    outbox.put(b"c")
    assert outbox.after_put(T0 + SOON + LATER) == "send"
    assert outbox.take() == b"abc"


def test_taking_an_empty_queue_still_rearms_the_wake_up() -> None:
    # The listener may send what the writer was woken for before the writer runs.
    outbox = Outbox()
    outbox.put(b"a")
    outbox.after_put(T0)
    outbox.put(b"b")
    assert outbox.after_put(T0 + SOON) == "wake_writer"
    assert outbox.take() == b"ab"
    assert outbox.take() is None
    outbox.put(b"c")
    assert outbox.after_put(T0 + 2 * SOON) == "wake_writer"


def test_a_frame_that_may_wait_is_left_and_does_not_count_as_a_burst() -> None:
    outbox = Outbox()
    outbox.put(b"ACK 1")
    assert outbox.after_put(T0, may_wait=True) == "leave"
    outbox.put(b"ACK 2")
    # The waiting ACK did not start a burst: a frame right after it leaves at once.
    assert outbox.after_put(T0 + SOON) == "send"
    assert outbox.take() == b"ACK 1ACK 2"


def test_a_full_queue_is_sent_by_the_caller_even_if_it_may_wait() -> None:
    outbox = Outbox()
    outbox.put(b"x" * (OUTBOX_LIMIT - 1))
    assert outbox.after_put(T0, may_wait=True) == "leave"
    outbox.put(b"y")
    assert outbox.after_put(T0 + SOON, may_wait=True) == "send_and_yield"
    assert outbox.take() == b"x" * (OUTBOX_LIMIT - 1) + b"y"
    outbox.put(b"z")
    assert outbox.after_put(T0 + LATER, may_wait=True) == "leave"


def test_a_burst_the_writer_does_not_take_is_sent_by_the_caller() -> None:
    outbox = Outbox()
    outbox.put(b"SEND")
    outbox.after_put(T0)
    outbox.put(b"ACK 1")
    assert outbox.after_put(T0 + SOON, writer_takes_bursts=False) == "send"
    assert outbox.take() == b"SENDACK 1"
    # It still counts for the burst: the next frame that the writer may take wakes it.
    outbox.put(b"SEND")
    assert outbox.after_put(T0 + 2 * SOON) == "wake_writer"


def test_waiting_for_the_server_ends_the_burst() -> None:
    # A round trip faster than the burst window: the reply is sent by the caller, at once.
    outbox = Outbox()
    outbox.put(b"SEND 1")
    assert outbox.after_put(T0) == "send"
    assert outbox.take() == b"SEND 1"
    outbox.end_burst()
    outbox.put(b"SEND 2")
    assert outbox.after_put(T0 + SOON) == "send"
    # A frame that follows it within the window is a burst again.
    outbox.put(b"SEND 3")
    assert outbox.after_put(T0 + 2 * SOON) == "wake_writer"


def test_a_lone_frame_skips_the_queue_and_counts_for_the_burst() -> None:
    outbox = Outbox()
    assert outbox.takes_alone(T0)
    assert not outbox
    # The next frame within the window starts a burst: it is queued, and the writer woken.
    assert not outbox.takes_alone(T0 + SOON)
    outbox.put(b"b")
    assert outbox.after_put(T0 + SOON) == "wake_writer"


def test_a_frame_behind_queued_ones_never_skips_the_queue() -> None:
    # Sent ahead, it would overtake them: an ACK left for the listener, say.
    outbox = Outbox()
    outbox.put(b"ACK 1")
    assert outbox.after_put(T0, may_wait=True) == "leave"
    assert not outbox.takes_alone(T0 + LATER)
    outbox.put(b"COMMIT")
    assert outbox.after_put(T0 + LATER) == "send"
    assert outbox.take() == b"ACK 1COMMIT"


def test_a_frame_after_waiting_for_the_server_skips_the_queue() -> None:
    outbox = Outbox()
    assert outbox.takes_alone(T0)
    outbox.end_burst()
    assert outbox.takes_alone(T0 + SOON)
