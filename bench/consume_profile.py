"""Where stompio's client CPU goes while it consumes and acks: cProfile over every thread.

Runs the ``consume`` phase of ``client_stompio.py`` (a filled queue is expected) with a
profiler in each thread, timed by the thread's own CPU clock so that blocking waits cost
nothing, and prints the functions with the most self time as one JSON object. The blocking
face's reader thread gets its own profiler; the main thread's covers the consume phase only.

    python bench/consume_profile.py TASK_JSON
"""

from __future__ import annotations

import contextlib
import cProfile
import json
import pstats
import re
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import client_stompio
from probe import Task

if TYPE_CHECKING:
    from collections.abc import Iterator

TOP = 10
REPO = Path(__file__).resolve().parent.parent


class ThreadProfiles:
    """One profiler per thread started after :meth:`install`, plus one for the consume phase."""

    def __init__(self) -> None:
        self.profiles: list[tuple[str, cProfile.Profile]] = []
        self._lock = threading.Lock()

    def install(self) -> None:
        """Profile every thread started from now on, from its first Python call."""
        threading.setprofile(self._start)

    def _start(self, *_: object) -> None:
        sys.setprofile(None)
        profile = cProfile.Profile(time.thread_time)
        with self._lock:
            self.profiles.append((threading.current_thread().name, profile))
        profile.enable()

    @contextlib.contextmanager
    def main_thread(self) -> Iterator[None]:
        """Profile the calling thread for the block."""
        profile = cProfile.Profile(time.thread_time)
        self.profiles.append(("main", profile))
        profile.enable()
        try:
            yield
        finally:
            profile.disable()


def short_path(path: str) -> str:
    """A source path relative to the checkout, site-packages or the standard library."""
    if path == "~":
        return "built-in"
    for marker in ("site-packages/", str(REPO) + "/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return re.sub(r"^.*/lib/python3\.\d+/", "", path)


def where(key: tuple[str, int, str]) -> str:
    """A short name for a profiled function."""
    path, line, name = key
    return name if path == "~" else f"{short_path(path)}:{line}({name})"


def summary(profiles: ThreadProfiles, task: Task) -> dict[str, Any]:
    """Merge the profiles and keep the top functions by self time."""
    per_thread: dict[str, float] = {}
    merged: pstats.Stats | None = None
    for name, profile in profiles.profiles:
        stats = pstats.Stats(profile)
        per_thread[name] = per_thread.get(name, 0.0) + stats.total_tt  # type: ignore[attr-defined]
        if merged is None:
            merged = stats
        else:
            merged.add(stats)
    if merged is None:
        return {"total_seconds": 0.0, "per_thread_seconds": {}, "top": []}
    table: dict[tuple[str, int, str], tuple[int, int, float, float, Any]]
    table = merged.stats  # type: ignore[attr-defined]
    total = sum(row[2] for row in table.values())
    rows = sorted(table.items(), key=lambda item: item[1][2], reverse=True)[:TOP]
    modules: dict[str, float] = {}
    for (path, _, _), row in table.items():
        modules[short_path(path)] = modules.get(short_path(path), 0.0) + row[2]
    by_module = sorted(modules.items(), key=lambda item: item[1], reverse=True)[:TOP]
    return {
        "messages": task.count,
        "total_seconds": total,
        "us_per_message": total / task.count * 1e6,
        "per_thread_seconds": per_thread,
        "by_module": [
            {"module": module, "self_seconds": seconds, "self_percent": seconds / total * 100}
            for module, seconds in by_module
        ],
        "top": [
            {
                "function": where(key),
                "calls": calls,
                "self_seconds": self_time,
                "self_percent": self_time / total * 100 if total else 0.0,
                "cumulative_seconds": cumulative,
            }
            for key, (_, calls, self_time, cumulative, _) in rows
        ],
    }


def main() -> None:
    """Consume with profilers on and print the summary."""
    task = Task.from_argv()
    profiles = ThreadProfiles()
    profiles.install()
    results = client_stompio.run(task, profiles.main_thread)
    threading.setprofile(None)
    report = summary(profiles, task)
    report["unprofiled_rate_note"] = "profiling slows the run; rates below are not comparable"
    report["consume"] = results["consume"]
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
