"""stompman 3.x on asyncio, used as its documentation shows.

``await client.send()`` per message (the last with ``receipt_timeout``), a manual-ack
subscription whose handler does ``await frame.ack()``, 1 s heart-beats (its default).
stompman always sends ``host:<the TCP host>`` in CONNECT, which is why RabbitMQ has the vhost
``127.0.0.1``.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

import stompman
from probe import RoundTrips, Task, Window, emit

RECEIPT_TIMEOUT = 60.0


async def produce(task: Task, client: stompman.Client) -> dict[str, Any]:
    """Send ``count`` messages; the last one waits for its receipt."""
    body, headers, queue = task.body, task.send_headers or None, task.queue
    window = Window.open(task.broker_pids)
    for _ in range(task.count - 1):
        await client.send(body, queue, headers=headers)
    await client.send(body, queue, headers=headers, receipt_timeout=RECEIPT_TIMEOUT)
    return window.close(task.count)


async def consume(task: Task, client: stompman.Client, deadline: float) -> dict[str, Any]:
    """Drain ``count`` messages, acking each one; the clock stops at the last ACK."""
    done = asyncio.Event()
    acked = 0
    result: dict[str, Any] = {}

    async def handle(frame: stompman.AckableMessageFrame) -> None:
        nonlocal acked
        await frame.ack()
        acked += 1
        if acked == task.count:
            result.update(window.close(acked))
            done.set()

    window = Window.open(task.broker_pids)
    subscription = await client.subscribe_with_manual_ack(
        task.queue, handle, ack="client-individual"
    )
    async with asyncio.timeout(deadline - time.monotonic()):
        await done.wait()
    await subscription.unsubscribe()
    return result


async def round_trips(task: Task, client: stompman.Client, deadline: float) -> dict[str, Any]:
    """Send one message and wait for it to come back, ``rtt_count`` times in a row."""
    body, headers, queue = task.body, task.send_headers or None, task.rtt_queue
    arrived: asyncio.Queue[stompman.MessageFrame] = asyncio.Queue()

    async def handle(frame: stompman.MessageFrame) -> None:
        await arrived.put(frame)

    subscription = await client.subscribe(
        queue,
        handle,
        ack="auto",
        on_suppressed_exception=lambda error, _frame: print(error, file=sys.stderr),
    )
    trips = RoundTrips(Window.open(task.broker_pids), task.rtt_budget)
    async with asyncio.timeout(deadline - time.monotonic()):
        for _ in range(task.rtt_count):
            if trips.over_budget():
                break
            started = time.perf_counter()
            await client.send(body, queue, headers=headers)
            await arrived.get()
            trips.latencies.append(time.perf_counter() - started)
    result = trips.close()
    await subscription.unsubscribe()
    return result


async def run(task: Task) -> dict[str, Any]:
    """Run the task's phases."""
    deadline = task.deadline_at()
    server = stompman.ConnectionParameters("127.0.0.1", task.port, task.login, task.passcode)
    results: dict[str, Any] = {}
    async with asyncio.timeout(task.deadline), stompman.Client([server]) as client:
        for phase in task.phases:
            try:
                match phase:
                    case "produce":
                        results[phase] = await produce(task, client)
                    case "consume":
                        results[phase] = await consume(task, client, deadline)
                    case "rtt":
                        results[phase] = await round_trips(task, client, deadline)
            except (stompman.Error, TimeoutError) as error:
                # It does fail with big bodies (its connection is lost while it parses); the
                # phases it finished are still worth reporting.
                results[phase] = {"error": repr(error)}
                break
    return results


def main() -> None:
    """Run the task's phases and print the report."""
    task = Task.from_argv()
    emit({"client": "stompman", "phases": asyncio.run(run(task))})


if __name__ == "__main__":
    main()
