"""An idle, connected stompio client: how much CPU it burns and how often its threads wake.

The process connects (either face), optionally subscribes and sits in ``listen()``, and a
separate measuring thread counts, over ``seconds``, the process's CPU time and each other
thread's voluntary context switches (from ``/proc/self/task/*/status``): a thread that
blocks without a timeout switches once when it goes to sleep and never again, so every
switch counted in the window is a wake-up. The measuring thread itself is left out. The
window opens once the client has settled: its reader looks once more within
``LISTENER_GRACE`` of a caller's last read (the subscription's receipt, the start of
``listen()``) and parks after that. When the window closes, a message to the subscribed queue
ends ``listen()``.

    python bench/idle.py '{"port": 61613, "face": "sync", "heartbeat_ms": 0, ...}'
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread

import stompio
from stompio._turns import LISTENER_GRACE

# Long enough for the reader's last look after the grace, with room for a loaded machine.
SETTLE = 5 * LISTENER_GRACE
FACES = {
    "asyncio": ("asyncio", {}),
    "uvloop": ("asyncio", {"use_uvloop": True}),
    "trio": ("trio", {}),
}


@dataclass(frozen=True, slots=True)
class IdleTask:
    """What to measure: a face, its heart-beats, whether it listens, for how long."""

    port: int
    vhost: str
    login: str
    passcode: str
    queue: str
    face: str
    heartbeat_ms: int
    listening: bool
    seconds: float


def thread_switches() -> dict[int, int]:
    """Voluntary context switches of each live thread of this process, by native id."""
    counts = {}
    for task in Path("/proc/self/task").iterdir():
        with contextlib.suppress(OSError):
            for line in (task / "status").read_text().splitlines():
                if line.startswith("voluntary_ctxt_switches:"):
                    counts[int(task.name)] = int(line.split()[1])
    return counts


def measure(seconds: float) -> dict[str, Any]:
    """Sleep through the window on this thread and count what the other threads did."""
    me = threading.get_native_id()
    time.sleep(SETTLE)  # a start-up the window leaves out, not a wait for anything
    before = thread_switches()
    cpu = time.process_time()
    wall = time.perf_counter()
    time.sleep(seconds)  # the length of the window, not a wait for anything
    wall = time.perf_counter() - wall
    cpu = time.process_time() - cpu
    after = thread_switches()
    names = {thread.native_id: thread.name for thread in threading.enumerate()}
    per_thread = {
        f"{names.get(tid, 'thread')}-{tid}": count - before.get(tid, 0)
        for tid, count in after.items()
        if tid != me
    }
    return {
        "seconds": wall,
        "cpu_seconds": cpu,
        "cpu_percent": cpu / wall * 100,
        "wakeups": sum(per_thread.values()),
        "wakeups_per_second": sum(per_thread.values()) / wall,
        "wakeups_per_thread": per_thread,
    }


def client_options(task: IdleTask) -> tuple[list[stompio.ConnectionParameters], stompio.Heartbeat]:
    """Where to connect and which heart-beats to offer."""
    server = stompio.ConnectionParameters(
        "127.0.0.1", task.port, task.login, task.passcode, vhost=task.vhost
    )
    return [server], stompio.Heartbeat(task.heartbeat_ms, task.heartbeat_ms)


def run_sync(task: IdleTask) -> dict[str, Any]:
    """Measure the blocking client, with the main thread in ``listen()`` or out of the way."""
    servers, heartbeat = client_options(task)
    with stompio.Client(servers, heartbeat=heartbeat) as client:
        if not task.listening:
            return measure(task.seconds)
        result: dict[str, Any] = {}

        def window() -> None:
            result.update(measure(task.seconds))
            client.send(b"wake up", task.queue)

        with client.subscribe(task.queue, ack="auto", receipt=True):
            sampler = threading.Thread(target=window, name="measure")
            sampler.start()
            for event in client.listen():
                if isinstance(event, stompio.MessageEvent):
                    break
            sampler.join(task.seconds + 30)
        return result


async def run_async(task: IdleTask) -> dict[str, Any]:
    """Measure the async client; the window runs in a worker thread, the loop stays idle."""
    servers, heartbeat = client_options(task)
    with anyio.fail_after(task.seconds + 60):
        async with stompio.AsyncClient(servers, heartbeat=heartbeat) as client:
            if not task.listening:
                return await anyio.to_thread.run_sync(measure, task.seconds)

            async def listen_until_message() -> None:
                async for event in client.listen():
                    if isinstance(event, stompio.MessageEvent):
                        return

            async with (
                client.subscribe(task.queue, ack="auto", receipt=True),
                anyio.create_task_group() as listeners,
            ):
                listeners.start_soon(listen_until_message)
                result = await anyio.to_thread.run_sync(measure, task.seconds)
                await client.send(b"wake up", task.queue)
            return result


def main() -> None:
    """Measure and print one JSON object."""
    task = IdleTask(**json.loads(sys.argv[1]))
    if task.face == "sync":
        result = run_sync(task)
    else:
        backend, options = FACES[task.face]
        result = anyio.run(run_async, task, backend=backend, backend_options=options)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
