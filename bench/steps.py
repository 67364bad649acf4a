"""The suite's other steps: the codec benchmark, an idle client, memory, and a profile."""

from __future__ import annotations

import json
import subprocess
import time
from typing import TYPE_CHECKING, Any

import report
from probe import Task
from procs import StepError, child_environment, listening_pid, run_json, say
from suite import BENCH, MIB, REPO

if TYPE_CHECKING:
    from procs import Journal
    from suite import Broker, Options

CODEC_TIMEOUT = 900.0
STEP_TIMEOUT = 150.0
FILL_DEADLINE = 120.0
# (face, heart-beat ms, in listen()): every face idles in listen(); the blocking face also
# idles outside it, since only its listen() polls (to stay interruptible by Ctrl-C).
IDLE_CASES = (
    ("sync", 0, False),
    ("sync", 1000, False),
    ("sync", 0, True),
    ("sync", 1000, True),
    ("asyncio", 0, True),
    ("asyncio", 1000, True),
    ("trio", 0, True),
    ("trio", 1000, True),
)
MEMORY_FACES = ("sync", "asyncio", "trio")
PROFILE_FACES = ("sync", "asyncio")


def run_codec(options: Options, journal: Journal) -> None:
    """``bench/codec.py`` in its own process; its Markdown table goes into the report."""
    path = options.out / "codec.json"
    argv = [options.python, str(BENCH / "codec.py"), "--json", str(path)]
    if options.quick:
        argv.append("--quick")
    say("codec: " + " ".join(argv[1:]))
    started = time.monotonic()
    record: dict[str, Any] = {"step": "codec"}
    try:
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=CODEC_TIMEOUT,
            check=False,
            cwd=REPO,
            env=child_environment(),
        )
        # The table is the Markdown that follows the progress lines.
        lines = done.stdout.splitlines()
        first = next((i for i, line in enumerate(lines) if line.startswith("|")), len(lines))
        record["table"] = "\n".join(lines[first:]).strip()
        if done.returncode != 0:
            record["error"] = f"exit status {done.returncode}: {done.stderr.strip()[-2000:]}"
        elif path.exists():
            record["results"] = json.loads(path.read_text())
    except subprocess.TimeoutExpired:
        record["error"] = f"timed out after {CODEC_TIMEOUT:.0f} s"
    record["process_seconds"] = time.monotonic() - started
    journal.add(record)
    say(record.get("error") or record["table"])


def connection_fields(broker: Broker) -> dict[str, Any]:
    """The connection part of the idle and memory tasks."""
    return {
        "port": broker.port,
        "vhost": broker.vhost,
        "login": broker.login,
        "passcode": broker.passcode,
    }


def run_idle(options: Options, journal: Journal) -> None:
    """CPU and wake-ups of an idle connected client, heart-beats off and at 1 s."""
    broker = options.brokers[0]
    seconds = 1.0 if options.quick else 10.0
    for face, heartbeat_ms, listening in IDLE_CASES:
        task = {
            **connection_fields(broker),
            "queue": f"/queue/bench.idle.{face}",
            "face": face,
            "heartbeat_ms": heartbeat_ms,
            "listening": listening,
            "seconds": seconds,
        }
        record: dict[str, Any] = {"step": "idle", "broker": broker.name, **task}
        argv = [options.python, str(BENCH / "idle.py"), json.dumps(task)]
        try:
            record["result"] = result = run_json(argv, seconds + 90)
            text = (
                f"{result['cpu_percent']:.3f}% of a core, {result['wakeups']} wake-ups"
                f" {result['wakeups_per_thread']}"
            )
        except StepError as error:
            record["error"] = text = str(error)
        journal.add(record)
        mode = "in listen()" if listening else "not listening"
        say(f"idle {face} heart-beats {heartbeat_ms} ms {mode}: {text}")


def fill(options: Options, broker: Broker, queue: str, size: int, count: int) -> None:
    """Put ``count`` messages of ``size`` bytes on a queue with the raw client."""
    task = Task(
        broker=broker.name,
        port=broker.port,
        vhost=broker.vhost,
        login=broker.login,
        passcode=broker.passcode,
        queue=queue,
        rtt_queue=queue,
        size=size,
        persistent=False,
        count=count,
        rtt_count=0,
        phases=("produce",),
        deadline=FILL_DEADLINE,
    )
    run_json([options.python, str(BENCH / "client_raw.py"), task.to_json()], STEP_TIMEOUT)


def run_memory(options: Options, journal: Journal) -> None:
    """RSS while consuming 1 GiB of 1 MiB messages, and the peak for one 64 MiB message."""
    broker = options.brokers[0]
    cases = (
        ("1 MiB messages", MIB, 128 if options.quick else 1024),
        ("one big message", (16 if options.quick else 64) * MIB, 1),
    )
    for face in MEMORY_FACES:
        for case, size, count in cases:
            queue = f"/queue/bench.memory.{face}.{size}"
            task = {**connection_fields(broker), "queue": queue, "face": face}
            task |= {"size": size, "count": count}
            record: dict[str, Any] = {"step": "memory", "broker": broker.name, "case": case}
            record |= task
            try:
                fill(options, broker, queue, size, count)
                argv = [options.python, str(BENCH / "memory.py"), json.dumps(task)]
                record["result"] = result = run_json(argv, STEP_TIMEOUT)
                text = (
                    f"RSS {result['rss_before_mib']:.1f} MiB before, peak growth "
                    f"{result['peak_growth_mib']:.1f} MiB, {result['peak_growth_ratio']:.2f}x "
                    f"of the {result['received_mib']:.0f} MiB received"
                )
            except StepError as error:
                record["error"] = text = str(error)
            journal.add(record)
            say(f"memory {face} {case} ({count} x {size // MIB} MiB): {text}")


def run_profile(options: Options, journal: Journal) -> None:
    """cProfile of stompio's consume+ack, both faces, first broker, 100 B bodies."""
    broker = options.brokers[0]
    count = 2_000 if options.quick else 20_000
    for face in PROFILE_FACES:
        queue = f"/queue/bench.profile.{face}"
        record: dict[str, Any] = {"step": "profile", "broker": broker.name, "face": face}
        try:
            fill(options, broker, queue, 100, count)
            pid = listening_pid(broker.port)
            task = Task(
                broker=broker.name,
                port=broker.port,
                vhost=broker.vhost,
                login=broker.login,
                passcode=broker.passcode,
                queue=queue,
                rtt_queue=queue,
                size=100,
                persistent=False,
                count=count,
                rtt_count=0,
                phases=("consume",),
                variant=face,
                broker_pids=() if pid is None else (pid,),
            )
            argv = [options.python, str(BENCH / "consume_profile.py"), task.to_json()]
            record["result"] = run_json(argv, STEP_TIMEOUT)
            text = report.profile_table(record["result"])
        except StepError as error:
            record["error"] = text = str(error)
        journal.add(record)
        say(f"profile stompio-{face} consume+ack on {broker.name}, {count} x 100 B:\n{text}")
