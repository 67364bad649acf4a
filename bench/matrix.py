"""The client matrix: produce, consume+ack and round trips, every client, interleaved runs.

For each broker, body size and persistence, each run starts every client once, in its own
process, in an order that rotates from run to run; a client that fails in one run of a
configuration is not tried again in it. Each process waits for a quiet machine first.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import report
from probe import Task
from procs import Journal, StepError, listening_pid, run_json, say, wait_for_quiet
from suite import BENCH

if TYPE_CHECKING:
    from collections.abc import Iterator

    from suite import Broker, ClientProgram, Load, Options

STEP_TIMEOUT = 150.0
CLIENT_DEADLINE = 120.0
MIN_COUNT = 10


def queue_name(
    kind: str, client: ClientProgram, load: Load, persistent: bool, *, quick: bool
) -> str:
    """A queue per client and configuration; each run drains what it filled.

    Quick runs (the test suite makes one) have queues of their own: one that overlaps a full
    run cannot take its messages.
    """
    suite = "bench-quick" if quick else "bench"
    return f"/queue/{suite}.{kind}.{client.name}.{load.size}.{'p' if persistent else 'n'}"


def client_task(
    options: Options, broker: Broker, client: ClientProgram, load: Load, persistent: bool
) -> Task:
    """The task one client process gets."""
    divisor = options.divisor * (2 if persistent else 1)
    count = min(load.count // divisor, broker.max_queued // load.size)
    if client.max_bytes is not None:
        count = min(count, client.max_bytes // load.size)
    pid = listening_pid(broker.port)
    return Task(
        broker=broker.name,
        port=broker.port,
        vhost=broker.vhost,
        login=broker.login,
        passcode=broker.passcode,
        queue=queue_name("q", client, load, persistent, quick=options.quick),
        rtt_queue=queue_name("rtt", client, load, persistent, quick=options.quick),
        size=load.size,
        persistent=persistent,
        count=max(MIN_COUNT, count),
        rtt_count=max(MIN_COUNT, load.rtt_count // divisor),
        variant=client.variant,
        broker_pids=() if pid is None else (pid,),
        deadline=CLIENT_DEADLINE,
        rtt_budget=options.rtt_budget,
    )


def run_client(options: Options, task: Task, client: ClientProgram) -> dict[str, Any]:
    """Run one client process; return its record, failed or not."""
    record: dict[str, Any] = {
        "step": "clients",
        "broker": task.broker,
        "client": client.name,
        "size": task.size,
        "persistent": task.persistent,
        "count": task.count,
        "rtt_count": task.rtt_count,
        "queues": [task.queue, task.rtt_queue],
        "busy_cores_before": wait_for_quiet(),
    }
    started = time.monotonic()
    try:
        argv = [options.python, str(BENCH / client.program), task.to_json()]
        result = run_json(argv, STEP_TIMEOUT)
        record["phases"] = result["phases"]
        if result.get("killed_after_report"):
            record["killed_after_report"] = True
    except (StepError, KeyError) as error:
        record["error"] = str(error)
    record["process_seconds"] = time.monotonic() - started
    return record


def describe(record: dict[str, Any]) -> str:
    """One progress line for a client record."""
    if "error" in record:
        return f"FAILED {record['error']}"
    parts = []
    for phase, result in record["phases"].items():
        if "error" in result:
            parts.append(f"{phase} FAILED {result['error']}")
            continue
        text = f"{phase} {result['rate']:,.0f}/s {result['cpu_us_per_msg']:.1f}us"
        if phase == "rtt":
            text += f" p50 {result['p50_ms']:.3f}ms"
        parts.append(text)
    return "; ".join(parts)


def skipped(broker: Broker, client: ClientProgram, load: Load, persistent: bool) -> dict[str, Any]:
    """The record of a client left out of a configuration on purpose."""
    return {
        "step": "clients",
        "broker": broker.name,
        "client": client.name,
        "size": load.size,
        "persistent": persistent,
        "skipped": client.skip_reason,
    }


def configurations(options: Options) -> Iterator[tuple[Broker, Load, bool]]:
    """Every broker, body size and persistence the invocation covers."""
    for broker in options.brokers:
        for load in options.loads:
            for persistent in options.persistence:
                yield broker, load, persistent


def warm_up(options: Options, journal: Journal, broker: Broker) -> None:
    """One discarded pass per broker: the JVM's JIT and both brokers' caches warm up."""
    clients = [client for client in options.clients if client.name in {"raw", "stompio-sync"}]
    for load in options.loads:
        for client in clients:
            task = client_task(options, broker, client, load, persistent=False)
            record = run_client(options, task, client)
            record["warmup"] = True
            journal.add(record)
            say(
                f"  warm-up {broker.name} {report.size_label(load.size)} {client.name}: "
                f"{describe(record)}"
            )


def run_clients(options: Options, journal: Journal) -> None:
    """The interleaved matrix: for each configuration, runs of every client in rotation."""
    configs = list(configurations(options))
    total = len(configs) * options.runs * len(options.clients)
    done = 0
    if options.warmup:
        for broker in options.brokers:
            warm_up(options, journal, broker)
    for broker, load, persistent in configs:
        persistence = "persistent" if persistent else "non-persistent"
        failed: set[str] = set()
        for run in range(options.runs):
            shift = run % len(options.clients)
            for client in options.clients[shift:] + options.clients[:shift]:
                done += 1
                where = f"[{done}/{total}] {broker.name} {report.size_label(load.size)} "
                where += f"{persistence} run {run} {client.name}"
                if client.name in failed:
                    say(f"{where}: skipped, it failed in an earlier run")
                    continue
                if client.max_size is not None and load.size > client.max_size:
                    if run == 0:
                        journal.add(skipped(broker, client, load, persistent))
                    say(f"{where}: not run, {client.skip_reason}")
                    continue
                task = client_task(options, broker, client, load, persistent)
                record = run_client(options, task, client)
                record["run"] = run
                journal.add(record)
                if "error" in record or any("error" in r for r in record["phases"].values()):
                    failed.add(client.name)
                say(f"{where}: {describe(record)}")
