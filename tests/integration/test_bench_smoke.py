from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import BROKERS as BROKERS_INFO
from tests.integration.conftest import connect_answer

REPO = Path(__file__).resolve().parents[2]
BROKERS = ("rabbitmq", "activemq")
CLIENTS = ("raw", "stompio-sync", "stompio-asyncio")
STOMPIO = ("stompio-sync", "stompio-asyncio")
RAW_RATIOS = ("produce_rate_vs_raw", "consume_rate_vs_raw", "rtt_p50_vs_raw")
# bench/suite.py gives 100 B bodies 20,000 messages and 1,000 round trips; --quick divides by 10.
QUICK_COUNT = 2_000
QUICK_RTT_COUNT = 100
MIN_ROUND_TRIPS = 10
HARNESS_TIMEOUT = 100.0
# The first test also waits for the harness run both tests share.
TEST_TIMEOUT = 120


@dataclass(frozen=True, slots=True)
class Run:
    out: Path
    stdout: str
    stderr: str


def brokers_answer() -> bool:
    """Both brokers answer a STOMP CONNECT, as the integration fixtures check."""
    return all(connect_answer(BROKERS_INFO[name]) == "CONNECTED" for name in BROKERS)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    # The harness starts brokers that do not answer; this test must not.
    if not brokers_answer():
        pytest.fail(
            "brokers not running: run scripts/brokers start (scripts/test does)", pytrace=False
        )
    out = tmp_path_factory.mktemp("bench") / "results"
    argv = [
        sys.executable,
        "bench/harness.py",
        "--quick",
        "--only=clients",
        f"--brokers={','.join(BROKERS)}",
        f"--clients={','.join(CLIENTS)}",
        "--sizes=100",
        "--persistence=non-persistent",
        f"--out={out}",
    ]
    path = os.environ.get("PYTHONPATH")
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{path}" if path else str(REPO)}
    done = subprocess.run(  # noqa: S603 (our own interpreter, our own script)
        argv,
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=HARNESS_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return Run(out, done.stdout, done.stderr)


def positive(value: Any) -> bool:
    return isinstance(value, float) and math.isfinite(value) and value > 0


def check_client(where: str, name: str, entry: dict[str, Any]) -> None:
    assert entry["runs"] == 1, where
    assert entry["produce"]["messages"] == QUICK_COUNT, where
    assert entry["consume"]["messages"] == QUICK_COUNT, where
    assert MIN_ROUND_TRIPS <= entry["rtt"]["messages"] <= QUICK_RTT_COUNT, where
    for phase in ("produce", "consume", "rtt"):
        assert positive(entry[phase]["rate"]), where
        assert positive(entry[phase]["cpu_us_per_msg"]), where
    assert positive(entry["rtt"]["p50_ms"]), where
    assert entry["rtt"]["p99_ms"] >= entry["rtt"]["p50_ms"], where
    if name == "raw":
        assert not set(RAW_RATIOS) & set(entry["ratios"]), where
    else:
        assert all(positive(entry["ratios"][ratio]) for ratio in RAW_RATIOS), where


@pytest.mark.timeout(TEST_TIMEOUT)
def test_quick_client_matrix_summary(run: Run) -> None:
    lines = (run.out / "steps.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    # --quick: one run, no warm-up pass, a tenth of the messages.
    assert sorted((r["broker"], r["client"], r["run"]) for r in records) == sorted(
        (broker, client, 0) for broker in BROKERS for client in CLIENTS
    )
    assert all(r["step"] == "clients" and "warmup" not in r for r in records)
    # Queues of its own, apart from a full run's (/queue/bench.q...) on the same brokers.
    assert {queue.split(".")[0] for r in records for queue in r["queues"]} == {"/queue/bench-quick"}

    summary = json.loads((run.out / "summary.json").read_text())
    assert summary["failures"] == []
    assert (summary["options"]["quick"], summary["options"]["runs"]) == (True, 1)
    configs = summary["configs"]
    assert [(c["broker"], c["size"], c["persistent"]) for c in configs] == [
        (broker, 100, False) for broker in BROKERS
    ]
    for config in configs:
        assert (config["count"], config["rtt_count"]) == (QUICK_COUNT, QUICK_RTT_COUNT)
        assert set(config["clients"]) == set(CLIENTS)
        for name, entry in config["clients"].items():
            check_client(f"{config['broker']} {name}", name, entry)
    measured = {
        (check["broker"], check["client"], check["ratio"])
        for check in summary["targets"]
        if check["value"] is not None
    }
    assert measured == {
        (broker, client, ratio) for broker in BROKERS for client in STOMPIO for ratio in RAW_RATIOS
    }


@pytest.mark.timeout(TEST_TIMEOUT)
def test_quick_client_matrix_report_and_brokers(run: Run) -> None:
    for broker in BROKERS:
        assert f"{broker} is running; it stays running afterwards" in run.stderr
        assert f"starting {broker}" not in run.stderr
    assert brokers_answer()

    report = (run.out / "report.md").read_text()
    assert report in run.stdout
    for broker in BROKERS:
        assert f"\n## {broker}, 100 B, non-persistent\n" in report
        for client in STOMPIO:
            assert f"\n| {broker} | {client} | " in report
    for client in CLIENTS:
        assert f"\n| {client} | {QUICK_COUNT:,} / " in report
    if importlib.util.find_spec("matplotlib") is None:
        assert "no chart: matplotlib is not installed" in run.stderr
    else:
        assert (run.out / "bench.png").stat().st_size > 0
