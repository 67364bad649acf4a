"""stomp.py 9 (``Connection12``), used as its documentation shows.

``conn.send()`` per message, a listener whose ``on_message`` calls ``conn.ack()`` from the
library's receiver thread, 1 s heart-beats, ``auto_decode=False`` so bodies stay bytes.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import Any

import stomp
from probe import RoundTrips, Task, Window, emit


class Listener(stomp.ConnectionListener):  # type: ignore[misc]
    """Counts and acks messages, or hands them to the round-trip loop; records receipts."""

    def __init__(self, connection: stomp.Connection12, task: Task) -> None:
        self.connection = connection
        self.task = task
        self.receipts: set[str] = set()
        self.receipt_arrived = threading.Condition()
        self.mode = "idle"
        self.acked = 0
        self.window: Window | None = None
        self.result: dict[str, Any] = {}
        self.done = threading.Event()
        self.arrived: queue.SimpleQueue[bytes] = queue.SimpleQueue()
        self.error: str | None = None

    def on_message(self, frame: stomp.utils.Frame) -> None:
        """Ack and count (consume phase), or pass the body on (round trips)."""
        if self.mode == "consume":
            self.connection.ack(frame.headers["ack"])
            self.acked += 1
            if self.acked == self.task.count and self.window is not None:
                self.result = self.window.close(self.acked)
                self.done.set()
        elif self.mode == "rtt":
            self.arrived.put(frame.body)

    def on_receipt(self, frame: stomp.utils.Frame) -> None:
        """Record the receipt and wake whoever waits for it."""
        with self.receipt_arrived:
            self.receipts.add(frame.headers["receipt-id"])
            self.receipt_arrived.notify_all()

    def on_error(self, frame: stomp.utils.Frame) -> None:
        """Remember the broker's complaint; the waits below give up on it."""
        self.error = f"{frame.headers.get('message')}: {frame.body!r}"
        self.done.set()
        with self.receipt_arrived:
            self.receipt_arrived.notify_all()

    def wait_for_receipt(self, receipt_id: str, deadline: float) -> None:
        """Block until the RECEIPT with this id arrived."""
        with self.receipt_arrived:
            arrived = self.receipt_arrived.wait_for(
                lambda: receipt_id in self.receipts or self.error is not None,
                deadline - time.monotonic(),
            )
        if self.error is not None or not arrived:
            msg = f"no RECEIPT {receipt_id}: {self.error or 'deadline passed'}"
            raise RuntimeError(msg)


def produce(task: Task, connection: stomp.Connection12, listener: Listener) -> dict[str, Any]:
    """Send ``count`` messages, the last with a receipt; the clock stops at the RECEIPT."""
    body, headers, queue_name = task.body, task.send_headers, task.queue
    deadline = task.deadline_at()
    window = Window.open(task.broker_pids)
    for _ in range(task.count - 1):
        connection.send(queue_name, body, headers=headers)
    connection.send(queue_name, body, headers={**headers, "receipt": "produced"})
    listener.wait_for_receipt("produced", deadline)
    return window.close(task.count)


def consume(task: Task, connection: stomp.Connection12, listener: Listener) -> dict[str, Any]:
    """Drain ``count`` messages with client-individual acks sent from the listener."""
    deadline = task.deadline_at()
    listener.mode = "consume"
    listener.window = Window.open(task.broker_pids)
    connection.subscribe(task.queue, id="1", ack="client-individual")
    if not listener.done.wait(deadline - time.monotonic()) or listener.error:
        msg = f"consume: {listener.acked} of {task.count} acked; {listener.error}"
        raise RuntimeError(msg)
    listener.mode = "idle"
    connection.unsubscribe("1", receipt="unsubscribed")
    listener.wait_for_receipt("unsubscribed", deadline)
    return listener.result


def round_trips(task: Task, connection: stomp.Connection12, listener: Listener) -> dict[str, Any]:
    """Send one message and wait for it to come back, ``rtt_count`` times in a row."""
    body, headers, queue_name = task.body, task.send_headers, task.rtt_queue
    deadline = task.deadline_at()
    listener.mode = "rtt"
    connection.subscribe(queue_name, id="2", ack="auto", receipt="rtt")
    listener.wait_for_receipt("rtt", deadline)
    trips = RoundTrips(Window.open(task.broker_pids), task.rtt_budget)
    for _ in range(task.rtt_count):
        if trips.over_budget():
            break
        started = time.perf_counter()
        connection.send(queue_name, body, headers=headers)
        listener.arrived.get(timeout=deadline - time.monotonic())
        trips.latencies.append(time.perf_counter() - started)
    return trips.close()


def main() -> None:
    """Run the task's phases and print the report."""
    task = Task.from_argv()
    connection = stomp.Connection12(
        [("127.0.0.1", task.port)],
        heartbeats=(1000, 1000),
        auto_decode=False,
        vhost=task.vhost,
        timeout=10,
    )
    listener = Listener(connection, task)
    connection.set_listener("bench", listener)
    connection.connect(task.login, task.passcode, wait=True)
    phases = {"produce": produce, "consume": consume, "rtt": round_trips}
    try:
        results = {name: phases[name](task, connection, listener) for name in task.phases}
    finally:
        connection.disconnect()
    emit({"client": "stomp.py", "phases": results})


if __name__ == "__main__":
    main()
