"""stompio, either face: ``Client`` (``sync``), or ``AsyncClient`` on asyncio, uvloop or trio.

The code is what an application would write: ``send()`` per message, ``listen()`` with
``event.ack()`` per message, 1 s heart-beats (the library default).
"""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING, Any

import anyio
from probe import RoundTrips, Task, Window, check_deadline, emit

import stompio

if TYPE_CHECKING:
    from collections.abc import Callable

    Around = Callable[[], contextlib.AbstractContextManager[object]]

HEARTBEAT = stompio.Heartbeat(1000, 1000)
ASYNC_VARIANTS = {
    "asyncio": ("asyncio", {}),
    "uvloop": ("asyncio", {"use_uvloop": True}),
    "trio": ("trio", {}),
}


def server_of(task: Task) -> stompio.ConnectionParameters:
    """The connection parameters for the task's broker."""
    return stompio.ConnectionParameters(
        "127.0.0.1", task.port, task.login, task.passcode, vhost=task.vhost
    )


# The blocking face.


def produce(task: Task, client: stompio.Client) -> dict[str, Any]:
    """Send ``count`` messages; the last one waits for its receipt."""
    body, headers, queue = task.body, task.send_headers or None, task.queue
    window = Window.open(task.broker_pids)
    for _ in range(task.count - 1):
        client.send(body, queue, headers=headers)
    client.send(body, queue, headers=headers, receipt=True)
    return window.close(task.count)


def consume(task: Task, client: stompio.Client, deadline: float) -> dict[str, Any]:
    """Drain ``count`` messages, acking each one; the clock stops at the last ACK."""
    window = Window.open(task.broker_pids)
    acked = 0
    with client.subscribe(task.queue, ack="client-individual"):
        for event in client.listen():
            match event:
                case stompio.MessageEvent():
                    event.ack()
                    acked += 1
                    if acked == task.count:
                        return window.close(acked)
                case _:
                    check_deadline(deadline, "consume")
    msg = "listen() ended before every message arrived"
    raise RuntimeError(msg)


def round_trips(task: Task, client: stompio.Client, deadline: float) -> dict[str, Any]:
    """Send one message and wait for it to come back, ``rtt_count`` times in a row."""
    body, headers, queue = task.body, task.send_headers or None, task.rtt_queue
    with client.subscribe(queue, ack="auto", receipt=True):
        events = client.listen()
        trips = RoundTrips(Window.open(task.broker_pids), task.rtt_budget)
        for _ in range(task.rtt_count):
            if trips.over_budget():
                break
            started = time.perf_counter()
            client.send(body, queue, headers=headers)
            for event in events:
                if isinstance(event, stompio.MessageEvent):
                    break
                check_deadline(deadline, "round trips")
            trips.latencies.append(time.perf_counter() - started)
        return trips.close()


def run_sync(task: Task, around_consume: Around) -> dict[str, Any]:
    """Run the task's phases with the blocking client."""
    deadline = task.deadline_at()
    results: dict[str, Any] = {}
    with stompio.Client([server_of(task)], heartbeat=HEARTBEAT) as client:
        for phase in task.phases:
            match phase:
                case "produce":
                    results[phase] = produce(task, client)
                case "consume":
                    with around_consume():
                        results[phase] = consume(task, client, deadline)
                case "rtt":
                    results[phase] = round_trips(task, client, deadline)
    return results


# The async face: the same steps, awaited.


async def produce_async(task: Task, client: stompio.AsyncClient) -> dict[str, Any]:
    """Send ``count`` messages; the last one waits for its receipt."""
    body, headers, queue = task.body, task.send_headers or None, task.queue
    window = Window.open(task.broker_pids)
    for _ in range(task.count - 1):
        await client.send(body, queue, headers=headers)
    await client.send(body, queue, headers=headers, receipt=True)
    return window.close(task.count)


async def consume_async(task: Task, client: stompio.AsyncClient, deadline: float) -> dict[str, Any]:
    """Drain ``count`` messages, acking each one; the clock stops at the last ACK."""
    window = Window.open(task.broker_pids)
    acked = 0
    async with client.subscribe(task.queue, ack="client-individual"):
        async for event in client.listen():
            match event:
                case stompio.MessageEvent():
                    await event.ack()
                    acked += 1
                    if acked == task.count:
                        return window.close(acked)
                case _:
                    check_deadline(deadline, "consume")
    msg = "listen() ended before every message arrived"
    raise RuntimeError(msg)


async def round_trips_async(
    task: Task, client: stompio.AsyncClient, deadline: float
) -> dict[str, Any]:
    """Send one message and wait for it to come back, ``rtt_count`` times in a row."""
    body, headers, queue = task.body, task.send_headers or None, task.rtt_queue
    async with client.subscribe(queue, ack="auto", receipt=True):
        events = client.listen()
        trips = RoundTrips(Window.open(task.broker_pids), task.rtt_budget)
        for _ in range(task.rtt_count):
            if trips.over_budget():
                break
            started = time.perf_counter()
            await client.send(body, queue, headers=headers)
            async for event in events:
                if isinstance(event, stompio.MessageEvent):
                    break
                check_deadline(deadline, "round trips")
            trips.latencies.append(time.perf_counter() - started)
        return trips.close()


async def run_async(task: Task, around_consume: Around) -> dict[str, Any]:
    """Run the task's phases with the async client."""
    deadline = task.deadline_at()
    results: dict[str, Any] = {}
    with anyio.fail_after(task.deadline):
        async with stompio.AsyncClient([server_of(task)], heartbeat=HEARTBEAT) as client:
            for phase in task.phases:
                match phase:
                    case "produce":
                        results[phase] = await produce_async(task, client)
                    case "consume":
                        with around_consume():
                            results[phase] = await consume_async(task, client, deadline)
                    case "rtt":
                        results[phase] = await round_trips_async(task, client, deadline)
    return results


def run(task: Task, around_consume: Around = contextlib.nullcontext) -> dict[str, Any]:
    """Run the task with the face and event loop its variant names."""
    if task.variant == "sync":
        return run_sync(task, around_consume)
    backend, options = ASYNC_VARIANTS[task.variant]
    return anyio.run(run_async, task, around_consume, backend=backend, backend_options=options)


def main() -> None:
    """Run the task's phases and print the report."""
    task = Task.from_argv()
    emit({"client": f"stompio-{task.variant}", "phases": run(task)})


if __name__ == "__main__":
    main()
