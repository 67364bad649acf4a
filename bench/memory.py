"""Resident memory of a stompio client draining a queue of large messages.

The queue is filled beforehand (by the raw client, in another process). This process
connects, notes its RSS, resets the kernel's peak-RSS mark (``/proc/self/clear_refs``), then
consumes ``count`` messages of ``size`` bytes with client-individual acks, and reports the
peak and final RSS against the starting point and against the bytes received.

    python bench/memory.py '{"port": 61613, "face": "sync", "size": 1048576, "count": 1024, ...}'
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

import stompio

MIB = 1024 * 1024
FACES = {
    "asyncio": ("asyncio", {}),
    "uvloop": ("asyncio", {"use_uvloop": True}),
    "trio": ("trio", {}),
}
DEADLINE = 120.0


@dataclass(frozen=True, slots=True)
class MemoryTask:
    """Which face drains which queue, and what it holds."""

    port: int
    vhost: str
    login: str
    passcode: str
    queue: str
    face: str
    size: int
    count: int

    def client_options(self) -> dict[str, Any]:
        """Arguments for either client: the server, and a frame limit above the body size."""
        server = stompio.ConnectionParameters(
            "127.0.0.1", self.port, self.login, self.passcode, vhost=self.vhost
        )
        return {"servers": [server], "max_frame_size": max(self.size + MIB, 128 * MIB)}


def status() -> dict[str, float]:
    """VmRSS and VmHWM of this process, in MiB."""
    values = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in {"VmRSS", "VmHWM"}:
            values[name] = int(rest.split()[0]) / 1024
    return values


def reset_peak() -> bool:
    """Make VmHWM start again from the current RSS (Linux 4.0+); False when not allowed."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class Mark:
    """The starting point of the measurement."""

    rss: float
    peak_reset: bool
    wall: float

    @classmethod
    def now(cls) -> Mark:
        """Note the RSS and reset the peak."""
        rss = status()["VmRSS"]
        return cls(rss, reset_peak(), time.perf_counter())

    def report(self, task: MemoryTask, received: int) -> dict[str, Any]:
        """What the process holds now and held at most since the mark."""
        seconds = time.perf_counter() - self.wall
        now = status()
        received_mib = received * task.size / MIB
        growth = now["VmHWM"] - self.rss
        return {
            "received": received,
            "received_mib": received_mib,
            "seconds": seconds,
            "mib_per_second": received_mib / seconds if seconds else 0.0,
            "rss_before_mib": self.rss,
            "rss_after_mib": now["VmRSS"],
            "peak_mib": now["VmHWM"],
            "peak_reset": self.peak_reset,
            "peak_growth_mib": growth,
            "final_growth_mib": now["VmRSS"] - self.rss,
            "peak_growth_ratio": growth / received_mib if received_mib else 0.0,
        }


def check(task: MemoryTask, body: bytes) -> None:
    """Every message must arrive whole."""
    if len(body) != task.size:
        msg = f"a {len(body)}-byte body arrived, {task.size} expected"
        raise RuntimeError(msg)


def run_sync(task: MemoryTask) -> dict[str, Any]:
    """Drain the queue with the blocking client."""
    deadline = time.monotonic() + DEADLINE
    with stompio.Client(**task.client_options()) as client:
        mark = Mark.now()
        received = 0
        with client.subscribe(task.queue, ack="client-individual"):
            for event in client.listen():
                if isinstance(event, stompio.MessageEvent):
                    check(task, event.body)
                    event.ack()
                    received += 1
                    if received == task.count:
                        break
                elif time.monotonic() > deadline:
                    break
        return mark.report(task, received)


async def run_async(task: MemoryTask) -> dict[str, Any]:
    """Drain the queue with the async client."""
    with anyio.fail_after(DEADLINE):
        async with stompio.AsyncClient(**task.client_options()) as client:
            mark = Mark.now()
            received = 0
            async with client.subscribe(task.queue, ack="client-individual"):
                async for event in client.listen():
                    if isinstance(event, stompio.MessageEvent):
                        check(task, event.body)
                        await event.ack()
                        received += 1
                        if received == task.count:
                            break
            return mark.report(task, received)


def main() -> None:
    """Measure and print one JSON object."""
    task = MemoryTask(**json.loads(sys.argv[1]))
    if task.face == "sync":
        result = run_sync(task)
    else:
        backend, options = FACES[task.face]
        result = anyio.run(run_async, task, backend=backend, backend_options=options)
    if result["received"] != task.count:
        sys.exit(f"only {result['received']} of {task.count} messages arrived in {DEADLINE} s")
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
