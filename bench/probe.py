"""What every benchmark client program shares: its task, its timed windows and its report.

The harness starts one process per client and run, passing a :class:`Task` as JSON on the
command line; the process connects (untimed), runs the phases, and prints one JSON object on
stdout. A :class:`Window` brackets one phase: wall time, the process's CPU time (every
thread), context switches, the broker's CPU and what the rest of the machine did meanwhile,
so that interpreter start-up, imports and connecting are never counted.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
DEFAULT_DEADLINE = 120.0
DEFAULT_RTT_BUDGET = 2.0
MIN_ROUND_TRIPS = 10
ALL_PHASES = ("produce", "consume", "rtt")


@dataclass(frozen=True, slots=True)
class Task:
    """One client process's work: where to connect, what to send, which phases to time."""

    broker: str
    port: int
    vhost: str
    login: str
    passcode: str
    queue: str
    rtt_queue: str
    size: int
    persistent: bool
    count: int
    rtt_count: int
    phases: tuple[str, ...] = ALL_PHASES
    variant: str = ""
    broker_pids: tuple[int, ...] = ()
    deadline: float = DEFAULT_DEADLINE
    rtt_budget: float = DEFAULT_RTT_BUDGET

    @classmethod
    def from_argv(cls) -> Task:
        """Read the task from the first command-line argument (JSON)."""
        if len(sys.argv) != 2:
            sys.exit(f"usage: {sys.argv[0]} TASK_JSON")
        fields = json.loads(sys.argv[1])
        fields["phases"] = tuple(fields.get("phases", ALL_PHASES))
        fields["broker_pids"] = tuple(fields.get("broker_pids", ()))
        return cls(**fields)

    def to_json(self) -> str:
        """The task as the harness passes it."""
        return json.dumps(asdict(self))

    @property
    def body(self) -> bytes:
        """The message body: ``size`` bytes with no NUL, so every client frames it alike."""
        return b"x" * self.size

    @property
    def send_headers(self) -> dict[str, str]:
        """Extra SEND headers: ``persistent:true`` for persistent runs, nothing otherwise."""
        return {"persistent": "true"} if self.persistent else {}

    def deadline_at(self) -> float:
        """The monotonic time after which the process gives up."""
        return time.monotonic() + self.deadline


def broker_cpu(pids: tuple[int, ...]) -> float:
    """CPU seconds (user + system) the broker processes have used so far."""
    total = 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


def machine_busy() -> float:
    """CPU seconds the whole machine has spent busy (all cores) since boot."""
    with Path("/proc/stat").open() as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]
    # guest time (fields 8 and 9) is already part of user time
    return (sum(fields[:8]) - idle) / CLOCK_TICKS


@dataclass(frozen=True, slots=True)
class Window:
    """The counters at the start of a timed phase; :meth:`close` measures the deltas."""

    broker_pids: tuple[int, ...]
    wall: float
    cpu: float
    usage: resource.struct_rusage
    broker: float
    machine: float

    @classmethod
    def open(cls, broker_pids: tuple[int, ...]) -> Window:
        """Start a window now."""
        broker = broker_cpu(broker_pids)
        machine = machine_busy()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        # The clocks are read last, so that reading /proc is not part of the window.
        return cls(broker_pids, time.perf_counter(), time.process_time(), usage, broker, machine)

    def close(self, messages: int) -> dict[str, Any]:
        """Measure the phase that just ended."""
        wall = time.perf_counter() - self.wall
        cpu = time.process_time() - self.cpu
        usage = resource.getrusage(resource.RUSAGE_SELF)
        broker = broker_cpu(self.broker_pids) - self.broker
        machine = machine_busy() - self.machine
        return {
            "messages": messages,
            "seconds": wall,
            "rate": messages / wall if wall > 0 else 0.0,
            "cpu_seconds": cpu,
            "cpu_us_per_msg": cpu / messages * 1e6 if messages else 0.0,
            "broker_cpu_seconds": broker,
            "broker_cpu_us_per_msg": broker / messages * 1e6 if messages else 0.0,
            # Busy CPU of the machine that neither client nor broker explains: someone else ran.
            "other_cpu_seconds": max(0.0, machine - broker - cpu),
            "voluntary_switches": usage.ru_nvcsw - self.usage.ru_nvcsw,
            "involuntary_switches": usage.ru_nivcsw - self.usage.ru_nivcsw,
        }


@dataclass(frozen=True, slots=True)
class RoundTrips:
    """Latencies of sequential round trips, inside one window.

    A run of round trips stops at ``rtt_count`` or, once it has ``MIN_ROUND_TRIPS``, when
    ``budget`` seconds are spent: a broker that stalls every trip (Nagle against delayed
    ACKs) would otherwise take minutes.
    """

    window: Window
    budget: float
    latencies: list[float] = field(default_factory=list)

    def over_budget(self) -> bool:
        """Tell whether enough round trips were made and the time is up."""
        return (
            len(self.latencies) >= MIN_ROUND_TRIPS
            and time.perf_counter() - self.window.wall > self.budget
        )

    def close(self) -> dict[str, Any]:
        """The window's measurements plus p50 and p99 in milliseconds."""
        result = self.window.close(len(self.latencies))
        ordered = sorted(self.latencies)
        result["p50_ms"] = percentile(ordered, 50) * 1000
        result["p99_ms"] = percentile(ordered, 99) * 1000
        return result


def percentile(ordered: list[float], percent: float) -> float:
    """The nearest-rank percentile of an ascending list (0.0 when empty)."""
    if not ordered:
        return 0.0
    rank = max(1, -(-len(ordered) * percent // 100))
    return ordered[int(rank) - 1]


class DeadlineError(Exception):
    """The process ran past its task's deadline."""


def check_deadline(deadline: float, what: str) -> None:
    """Raise when the monotonic ``deadline`` has passed."""
    if time.monotonic() > deadline:
        msg = f"{what}: deadline passed"
        raise DeadlineError(msg)


def emit(results: dict[str, Any]) -> None:
    """Print the process's report: one JSON object on one line."""
    print(json.dumps(results), flush=True)
