"""Run the benchmark suite; ``bench/run`` calls this with its command line.

The steps, each selectable with ``--only``:

- ``clients``: produce, consume+ack and round trips for each broker, body size, persistence
  and client, interleaved, medians of ``--runs`` runs (``matrix.py``);
- ``codec``: ``bench/codec.py``, the parser and serializer without a network;
- ``idle``: CPU and wake-ups of an idle connected stompio client;
- ``memory``: RSS while consuming 1 GiB of 1 MiB messages, and for one 64 MiB message;
- ``profile``: where stompio's client CPU goes while consuming 100 B messages (cProfile);
- ``instructions``: user-space instructions per message produced and consumed+acked, every
  client and broker, counted by valgrind's callgrind, which does not vary with the load of
  the machine as CPU time does (``instructions.py``).

Brokers that do not answer are started with ``scripts/brokers`` and stopped at the end.
Results land in ``bench/results/<time>/``: ``steps.jsonl`` (every process's report as it
arrives), ``summary.json``, ``report.md`` and ``bench.png``; a full run (every default) copies the
chart to ``docs/bench.png`` and the report to ``docs/bench.md`` for the README.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, replace
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import instructions
import matrix
import report
import steps
from procs import Journal, say
from suite import BENCH, BROKER_STEPS, BROKERS, CLIENTS, LOADS, REPO, STEPS, Load, Options

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

BROKERS_SCRIPT = REPO / "scripts" / "brokers"
BROKER_START_TIMEOUT = 1800.0
BROKER_COMMAND_TIMEOUT = 120.0
RUNNERS: dict[str, Callable[[Options, Journal], None]] = {
    "clients": matrix.run_clients,
    "codec": steps.run_codec,
    "idle": steps.run_idle,
    "memory": steps.run_memory,
    "profile": steps.run_profile,
    "instructions": instructions.run_instructions,
}


def parse_options(argv: Sequence[str] | None = None) -> Options:
    """Read the command line."""
    parser = argparse.ArgumentParser(prog="bench/run", description="stompio's benchmark suite.")
    parser.add_argument(
        "--quick", action="store_true", help="1 run, no warm-up, N/10, short idle/memory"
    )
    parser.add_argument("--brokers", default=",".join(BROKERS), help="comma-separated")
    parser.add_argument("--clients", default=",".join(CLIENTS), help="comma-separated")
    parser.add_argument("--only", default=",".join(STEPS), help=f"some of {','.join(STEPS)}")
    parser.add_argument("--sizes", default=",".join(map(str, LOADS)), help="body sizes, bytes")
    parser.add_argument("--persistence", default="non-persistent,persistent", help="either/both")
    parser.add_argument("--runs", type=int, help="runs per configuration (default 3, quick 1)")
    parser.add_argument("--no-warmup", action="store_true", help="skip the discarded pass")
    parser.add_argument("--json", type=Path, help="also write the summary to this file")
    parser.add_argument("--out", type=Path, help="results folder (default bench/results/TIME)")
    arguments = parser.parse_args(argv)

    def pick(kind: str, text: str, known: Sequence[str]) -> list[str]:
        names = [name.strip() for name in text.split(",") if name.strip()]
        unknown = [name for name in names if name not in known]
        if unknown or not names:
            parser.error(f"unknown {kind} {unknown}; known: {', '.join(known)}")
        return names

    clients = [CLIENTS[name] for name in pick("client", arguments.clients, list(CLIENTS))]
    missing = [c.name for c in clients if c.needs and importlib.util.find_spec(c.needs) is None]
    if missing:
        say(f"leaving out {', '.join(missing)}: not installed")
        clients = [client for client in clients if client.name not in missing]
    sizes = sorted(int(size) for size in arguments.sizes.split(","))
    # A size without a preset gets about 20 MiB per phase and 10 MiB of round trips.
    loads = [
        LOADS.get(size, Load(size, 20 * 1024**2 // size, 10 * 1024**2 // size)) for size in sizes
    ]
    persistence = pick("persistence", arguments.persistence, ["non-persistent", "persistent"])
    chosen = pick("step", arguments.only, STEPS)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return Options(
        steps=tuple(step for step in STEPS if step in chosen),
        brokers=tuple(BROKERS[name] for name in pick("broker", arguments.brokers, list(BROKERS))),
        clients=tuple(clients),
        loads=tuple(loads),
        persistence=tuple(mode == "persistent" for mode in persistence),
        runs=arguments.runs or (1 if arguments.quick else 3),
        warmup=not (arguments.no_warmup or arguments.quick),
        quick=arguments.quick,
        out=arguments.out or BENCH / "results" / stamp,
        json_path=arguments.json,
        python=sys.executable,
    )


def environment() -> dict[str, Any]:
    """What the numbers were measured on."""
    versions = {}
    for package in ("stompman", "stomp.py", "anyio", "trio", "uvloop"):
        with contextlib.suppress(PackageNotFoundError):
            versions[package] = version(package)
    cpus = Path("/proc/cpuinfo").read_text().count("processor\t")
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": cpus,
        "versions": versions,
    }


@contextlib.contextmanager
def brokers_up(options: Options) -> Iterator[None]:
    """Make sure the brokers answer; stop again the ones this run had to start."""
    started = []
    if BROKER_STEPS.intersection(options.steps):
        for broker in options.brokers:
            status = [str(BROKERS_SCRIPT), "status", "--only", broker.name]
            answered = subprocess.run(
                status, capture_output=True, timeout=BROKER_COMMAND_TIMEOUT, check=False
            )
            if answered.returncode == 0:
                say(f"{broker.name} is running; it stays running afterwards")
                continue
            say(f"starting {broker.name} with scripts/brokers")
            start = [str(BROKERS_SCRIPT), "start", "--only", broker.name]
            subprocess.run(start, timeout=BROKER_START_TIMEOUT, check=True)
            started.append(broker)
    try:
        yield
    finally:
        for broker in started:
            say(f"stopping {broker.name}, which this run started")
            stop = [str(BROKERS_SCRIPT), "stop", "--only", broker.name]
            subprocess.run(stop, timeout=BROKER_COMMAND_TIMEOUT, check=False)


def run_steps(options: Options) -> None:
    """Run the selected steps, then write the summary, the report and the chart."""
    journal = Journal(options.out / "steps.jsonl")
    started = time.monotonic()
    say(f"results in {options.out}")
    for step in options.steps:
        step_started = time.monotonic()
        RUNNERS[step](options, journal)
        say(f"{step}: {time.monotonic() - step_started:.0f} s")
    elapsed = time.monotonic() - started
    summary = report.summarise(journal.records)
    summary["environment"] = environment()
    summary["options"] = {**asdict(replace(options, out=Path())), "out": str(options.out)}
    summary["elapsed_seconds"] = elapsed
    text = json.dumps(summary, indent=2, default=str) + "\n"
    (options.out / "summary.json").write_text(text)
    if options.json_path is not None:
        options.json_path.parent.mkdir(parents=True, exist_ok=True)
        options.json_path.write_text(text)
    markdown = report.markdown(summary)
    (options.out / "report.md").write_text(markdown)
    print(markdown)
    if "clients" in options.steps:
        draw_chart(summary, options, publish=is_full_run(options))
    if is_full_run(options):
        # The README links the whole report of the run that drew its chart.
        shutil.copyfile(options.out / "report.md", REPO / "docs" / "bench.md")
        say(f"report copied to {REPO / 'docs' / 'bench.md'}")
    say(f"done in {elapsed / 60:.1f} min; results in {options.out}")


def is_full_run(options: Options) -> bool:
    """Tell whether this is the whole suite as ``bench/run`` runs it by default.

    Only such a run replaces what the README shows; uvloop may be missing.
    """
    return (
        not options.quick
        and options.steps == STEPS
        and {broker.name for broker in options.brokers} == set(BROKERS)
        and {client.name for client in options.clients} >= set(CLIENTS) - {"stompio-uvloop"}
        and {load.size for load in options.loads} == set(LOADS)
        and set(options.persistence) == {True, False}
        and options.runs >= 3
    )


def draw_chart(summary: dict[str, Any], options: Options, *, publish: bool) -> None:
    """Draw the chart when matplotlib is installed; copy it for the README when ``publish``."""
    if importlib.util.find_spec("matplotlib") is None:
        say("no chart: matplotlib is not installed (pip install -e '.[bench]')")
        return
    import chart  # noqa: PLC0415 (matplotlib is optional and slow to import)

    png = options.out / "bench.png"
    if not chart.draw(summary, png):
        return
    say(f"chart: {png}")
    if publish:
        docs = REPO / "docs"
        docs.mkdir(exist_ok=True)
        shutil.copyfile(png, docs / "bench.png")
        say(f"chart copied to {docs / 'bench.png'}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the suite."""
    options = parse_options(argv)
    options.out.mkdir(parents=True, exist_ok=True)
    with brokers_up(options):
        run_steps(options)
    return 0


if __name__ == "__main__":
    sys.exit(main())
