"""User-space CPU instructions per message, counted by valgrind's callgrind, for every client.

CPU time on this shared 2-core machine varies 2x from run to run; an instruction count barely
moves. Each client program runs under callgrind for two message counts per phase, and
``(I(N2) - I(N1)) / (N2 - N1)`` is the cost of one message without start-up, imports and
connecting. Callgrind counts user-space instructions only: the kernel's share (system calls,
the TCP stack) and cache misses are not in it. The raw client, not under valgrind, drains
each produce run's queue and fills the queue of each consume run; each client's queue is
emptied before and checked after its runs.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import client_raw
import matrix
from procs import StepError, child_environment, last_json, run_json, say
from suite import BENCH, REPO, Load

if TYPE_CHECKING:
    from probe import Task
    from procs import Journal
    from suite import Broker, ClientProgram, Options

SIZE = 100
# Valgrind's start-up (7-15 s a run, four runs per client and broker) dominates the step's
# time; the counts add little to it and are large enough for the numbers to repeat.
COUNTS = (200, 1000)
QUICK_COUNTS = (100, 500)
WARM_UP_COUNT = 20
# Valgrind runs a client about 50 times slower than it runs natively.
CLIENT_DEADLINE = 600.0
VALGRIND_TIMEOUT = CLIENT_DEADLINE + 60.0
RAW_DEADLINE = 120.0
RAW_TIMEOUT = 150.0
PURGE_QUIET = 0.5
PURGE_TIMEOUT = 60.0
VALGRIND = ("valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null")
COLLECTED = re.compile(r"^==\d+== Collected : (\d+)$", re.MULTILINE)


def message_counts(options: Options) -> tuple[int, int]:
    """N1 and N2, the two message counts each phase runs for."""
    return QUICK_COUNTS if options.quick else COUNTS


def counting_environment(pycache: str) -> dict[str, str]:
    """The environment of the counted clients and their warm-up.

    Compiled bytecode is cached outside the checkout, so that valgrind does not spend most of
    each run compiling stompio and the bench modules again; a fixed hash seed keeps dict and
    set layouts, and so the instructions spent probing them, the same from run to run.
    """
    environment = child_environment()
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    return {**environment, "PYTHONPYCACHEPREFIX": pycache, "PYTHONHASHSEED": "0"}


def run_program(
    argv: list[str], environment: dict[str, str], timeout: float
) -> tuple[dict[str, Any], str]:
    """Run a client program; return its JSON report and its stderr, or raise StepError."""
    try:
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            cwd=REPO,
            env=environment,
        )
    except subprocess.TimeoutExpired as expired:
        msg = f"timed out after {timeout:.0f} s"
        raise StepError(msg, without_valgrind(expired.stderr)) from None
    report = last_json(done.stdout)
    if done.returncode != 0 or report is None:
        msg = f"exit status {done.returncode}"
        raise StepError(msg, without_valgrind(done.stderr))
    return report, done.stderr


def without_valgrind(stderr: str | bytes | None) -> str:
    """A process's stderr without valgrind's lines, so that an error shows the client's."""
    if isinstance(stderr, bytes):
        stderr = stderr.decode(errors="replace")
    return "\n".join(line for line in (stderr or "").splitlines() if not line.startswith("=="))


def check_phase(report: dict[str, Any], phase: str, count: int) -> None:
    """Raise StepError unless the client reports ``count`` messages for ``phase``."""
    result = report.get("phases", {}).get(phase, {})
    if "error" in result or result.get("messages") != count:
        msg = f"{phase} of {count}: {result.get('error', result)}"
        raise StepError(msg, None)


def counted(
    options: Options, client: ClientProgram, task: Task, environment: dict[str, str]
) -> int:
    """Run the task's one phase under callgrind; return the instructions it collected."""
    argv = [*VALGRIND, options.python, str(BENCH / client.program), task.to_json()]
    report, stderr = run_program(argv, environment, VALGRIND_TIMEOUT)
    check_phase(report, task.phases[0], task.count)
    totals = COLLECTED.findall(stderr)
    if not totals:
        msg = "no 'Collected' line from callgrind"
        raise StepError(msg, stderr)
    return int(totals[-1])


def run_raw(options: Options, task: Task, phase: str) -> None:
    """Fill (``produce``) or drain (``consume``) the task's queue with the raw client."""
    raw = replace(task, phases=(phase,), variant="", deadline=RAW_DEADLINE)
    report = run_json([options.python, str(BENCH / "client_raw.py"), raw.to_json()], RAW_TIMEOUT)
    check_phase(report, phase, raw.count)


def warm_up(
    options: Options, client: ClientProgram, task: Task, environment: dict[str, str]
) -> None:
    """Run the client natively once, producing and consuming a few messages.

    It fills the bytecode cache with everything both phases import, so that the N1 and N2
    runs start alike, and shows that the client works before valgrind's long runs.
    """
    warm = replace(task, phases=("produce", "consume"), count=WARM_UP_COUNT)
    argv = [options.python, str(BENCH / client.program), warm.to_json()]
    report, _ = run_program(argv, environment, RAW_TIMEOUT)
    for phase in warm.phases:
        check_phase(report, phase, warm.count)


def purge(task: Task) -> int:
    """Take every message off the task's queue (auto ack); return how many there were.

    A run that failed, or a client that lost its connection and had messages redelivered,
    leaves messages behind; a consumer would then read more frames than it acks.
    """
    deadline = time.monotonic() + PURGE_TIMEOUT
    purged = 0
    try:
        wire = client_raw.connect(task)
        subscribe = {"destination": task.queue, "id": "purge", "ack": "auto"}
        wire.sock.sendall(client_raw.encode("SUBSCRIBE", subscribe))
        with contextlib.suppress(TimeoutError):
            while time.monotonic() < deadline:
                frames = wire.read_frames(min(deadline, time.monotonic() + PURGE_QUIET))
                purged += sum(head.startswith(b"MESSAGE") for head in frames)
        wire.sock.sendall(client_raw.encode("DISCONNECT", {"receipt": "bye"}))
        wire.wait_for_receipt(b"bye", time.monotonic() + 10)
        wire.sock.close()
    except (OSError, RuntimeError, ValueError) as error:
        msg = f"purging {task.queue}: {error!r}"
        raise StepError(msg, None) from None
    return purged


def per_message(totals: list[int], counts: tuple[int, int]) -> float:
    """Instructions per message: the difference of two runs over the difference of counts."""
    return (totals[1] - totals[0]) / (counts[1] - counts[0])


def produce_counts(
    options: Options, client: ClientProgram, task: Task, environment: dict[str, str]
) -> list[int]:
    """Instructions of the produce runs, one per message count; each queue is then drained."""
    totals = []
    for count in message_counts(options):
        produce = replace(task, phases=("produce",), count=count)
        totals.append(counted(options, client, produce, environment))
        run_raw(options, produce, "consume")
    return totals


def consume_counts(
    options: Options, client: ClientProgram, task: Task, environment: dict[str, str]
) -> list[int]:
    """Instructions of the consume+ack runs, one per message count, each of a filled queue."""
    totals = []
    for count in message_counts(options):
        consume = replace(task, phases=("consume",), count=count)
        run_raw(options, consume, "produce")
        totals.append(counted(options, client, consume, environment))
    return totals


def measure(
    options: Options, broker: Broker, client: ClientProgram, environment: dict[str, str]
) -> dict[str, Any]:
    """Produce and consume+ack instructions per message of one client on one broker."""
    counts = message_counts(options)
    record: dict[str, Any] = {
        "step": "instructions",
        "broker": broker.name,
        "client": client.name,
        "size": SIZE,
        "messages": list(counts),
    }
    started = time.monotonic()
    try:
        load = Load(SIZE, counts[1], 0)
        task = replace(
            matrix.client_task(options, broker, client, load, persistent=False),
            queue=f"/queue/bench.instr.{client.name}",
            rtt_queue=f"/queue/bench.instr.rtt.{client.name}",
            deadline=CLIENT_DEADLINE,
        )
        if purged := purge(task):
            record["purged_before"] = purged
        warm_up(options, client, task, environment)
        produced = produce_counts(options, client, task, environment)
        consumed = consume_counts(options, client, task, environment)
        if left := purge(task):
            # stompman, slowed down by valgrind, sometimes misses heart-beats while it parses
            # a long read, and RabbitMQ drops it; the redeliveries make such a count wrong.
            record["retried"] = left
            consumed = consume_counts(options, client, task, environment)
            if left := purge(task):
                record["left_after"] = left
        record["produce_instructions"] = produced
        record["consume_instructions"] = consumed
        record["produce_per_message"] = per_message(produced, counts)
        record["consume_per_message"] = per_message(consumed, counts)
    except StepError as error:
        record["error"] = str(error)
    record["process_seconds"] = time.monotonic() - started
    return record


def describe(record: dict[str, Any]) -> str:
    """One progress line for an instructions record."""
    notes = ""
    if "purged_before" in record:
        notes += f"; took {record['purged_before']} messages an earlier run left off the queue"
    if "retried" in record:
        notes += f"; consume counted again, {record['retried']} messages were left on the queue"
    if "left_after" in record:
        notes += f"; {record['left_after']} messages were left on the queue, numbers suspect"
    if "error" in record:
        return f"FAILED {record['error']}{notes}"
    return (
        f"produce {record['produce_per_message']:,.0f} instructions/msg, "
        f"consume+ack {record['consume_per_message']:,.0f} instructions/msg "
        f"({record['process_seconds']:.0f} s){notes}"
    )


def measure_broker(
    options: Options,
    broker: Broker,
    environment: dict[str, str],
    journal: Journal,
    lock: threading.Lock,
) -> None:
    """Every client on one broker, one after the other."""
    n1, n2 = message_counts(options)
    for client in options.clients:
        record = measure(options, broker, client, environment)
        with lock:
            journal.add(record)
            say(f"instructions {broker.name} {client.name} ({n1}, {n2}): {describe(record)}")


def run_instructions(options: Options, journal: Journal) -> None:
    """Instructions per message of every client on every broker, 100 B non-persistent.

    The brokers are measured at the same time, one valgrind process each: the counts hardly
    depend on the machine's load, and valgrind's start-up (7-15 s a run, four runs per client)
    would otherwise make the step take a quarter of an hour.
    """
    if shutil.which(VALGRIND[0]) is None:
        error = "valgrind is not installed (apt-get install valgrind); no instruction counts"
        journal.add({"step": "instructions", "error": error})
        say(f"instructions: {error}")
        return
    lock = threading.Lock()
    with (
        tempfile.TemporaryDirectory(prefix="bench-pycache-") as pycache,
        ThreadPoolExecutor(max_workers=len(options.brokers)) as pool,
    ):
        environment = counting_environment(pycache)
        workers = [
            pool.submit(measure_broker, options, broker, environment, journal, lock)
            for broker in options.brokers
        ]
        for worker in workers:
            worker.result()
