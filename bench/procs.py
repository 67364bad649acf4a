"""Running the suite's processes: hard timeouts, JSON reports, the journal, a quiet machine."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from probe import machine_busy
from suite import REPO

if TYPE_CHECKING:
    from collections.abc import Sequence

QUIET_SAMPLE = 0.2
QUIET_CORES = 0.3
QUIET_MAX_WAIT = 5.0


class StepError(Exception):
    """A step's process failed; carries the tail of its stderr."""

    def __init__(self, message: str, stderr: str | bytes | None) -> None:
        if isinstance(stderr, bytes):
            stderr = stderr.decode(errors="replace")
        tail = "\n".join((stderr or "").strip().splitlines()[-8:])
        super().__init__(f"{message}: {tail}" if tail else message)


def child_environment() -> dict[str, str]:
    """The environment of every step: stompio importable from this checkout."""
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{path}" if path else str(REPO)}


def last_json(stdout: str | bytes | None) -> dict[str, Any] | None:
    """The JSON object on the last line of a process's output, if there is one."""
    if isinstance(stdout, bytes):
        stdout = stdout.decode(errors="replace")
    lines = (stdout or "").strip().splitlines()
    if not lines:
        return None
    try:
        result = json.loads(lines[-1])
    except ValueError:
        return None
    return result if isinstance(result, dict) else None


def run_json(argv: Sequence[str], timeout: float) -> dict[str, Any]:
    """Run a program that prints one JSON object last; raise with its stderr if it fails.

    A process killed at the timeout after it printed its report (stuck while disconnecting)
    still counts, marked ``killed_after_report``.
    """
    try:
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            cwd=REPO,
            env=child_environment(),
        )
    except subprocess.TimeoutExpired as expired:
        result = last_json(expired.stdout)
        if result is None:
            msg = f"timed out after {timeout:.0f} s"
            raise StepError(msg, expired.stderr) from None
        result["killed_after_report"] = True
        return result
    result = last_json(done.stdout)
    if done.returncode != 0 or result is None:
        msg = f"exit status {done.returncode}"
        raise StepError(msg, done.stderr)
    return result


class Journal:
    """Appends every step's record to ``steps.jsonl`` as it arrives."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.records: list[dict[str, Any]] = []

    def add(self, record: dict[str, Any]) -> None:
        """Keep a record (on disk at once, so an interrupted suite keeps what it measured)."""
        self.records.append(record)
        with self.path.open("a") as out:
            out.write(json.dumps(record) + "\n")


def say(text: str) -> None:
    """Progress on stderr, so that stdout stays the report."""
    print(text, file=sys.stderr, flush=True)


def listening_pid(port: int) -> int | None:
    """The pid of the process listening on a local TCP port (reads /proc; None if unseen)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), Path(table).open() as lines:
            next(lines)
            for line in lines:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(f"socket:[{fields[9]}]")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (entry / "fd").iterdir():
                with contextlib.suppress(OSError):
                    if str(fd.readlink()) in inodes:
                        return int(entry.name)
    return None


def wait_for_quiet() -> float:
    """Wait (bounded) until the machine is nearly idle; return the busy cores last seen.

    The brokers share the two cores with whatever else runs here; starting a measurement
    while another job is busy only measures that job.
    """
    deadline = time.monotonic() + QUIET_MAX_WAIT
    while True:
        before, started = machine_busy(), time.monotonic()
        time.sleep(QUIET_SAMPLE)  # the sampling interval of the measurement itself
        busy = (machine_busy() - before) / (time.monotonic() - started)
        if busy < QUIET_CORES or time.monotonic() >= deadline:
            return busy
