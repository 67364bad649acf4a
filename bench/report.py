"""Turn the suite's step records into medians, same-run ratios, target checks and Markdown."""

from __future__ import annotations

import statistics
from collections import defaultdict
from fractions import Fraction
from typing import Any

PHASES = ("produce", "consume", "rtt")
METRICS = (
    "rate",
    "cpu_us_per_msg",
    "broker_cpu_us_per_msg",
    "other_cpu_seconds",
    "seconds",
    "p50_ms",
    "p99_ms",
)
# Each ratio: (name, phase, metric, the client it is measured against).
RATIOS = (
    ("produce_rate_vs_raw", "produce", "rate", "raw"),
    ("consume_rate_vs_raw", "consume", "rate", "raw"),
    ("produce_cpu_vs_stomp.py", "produce", "cpu_us_per_msg", "stomp.py"),
    ("consume_cpu_vs_stomp.py", "consume", "cpu_us_per_msg", "stomp.py"),
    ("produce_cpu_vs_stompman", "produce", "cpu_us_per_msg", "stompman"),
    ("consume_cpu_vs_stompman", "consume", "cpu_us_per_msg", "stompman"),
    ("rtt_p50_vs_raw", "rtt", "p50_ms", "raw"),
)
# The targets for stompio: (ratio, bound, "max" or "min").
TARGETS = (
    ("consume_cpu_vs_stomp.py", 0.5, "max"),
    ("consume_cpu_vs_stompman", 1 / 6, "max"),
    ("consume_rate_vs_raw", 0.85, "min"),
    ("produce_cpu_vs_stomp.py", 1.0, "max"),
    ("produce_rate_vs_raw", 0.90, "min"),
    ("rtt_p50_vs_raw", 1.3, "max"),
)
# Each instructions ratio: (name, per-message count, the client it is measured against).
INSTRUCTION_RATIOS = (
    ("consume_vs_stomp.py", "consume_per_message", "stomp.py"),
    ("consume_vs_stompman", "consume_per_message", "stompman"),
    ("produce_vs_stomp.py", "produce_per_message", "stomp.py"),
)
INSTRUCTION_FIELDS = (
    "error",
    "produce_per_message",
    "consume_per_message",
    "produce_instructions",
    "consume_instructions",
    "process_seconds",
    "left_after",
    "retried",
    "purged_before",
)
IDLE_MAX_CPU_PERCENT = 0.5
MEMORY_MAX_GROWTH_MIB = 50.0
MEMORY_MAX_PEAK_RATIO = 3.0
BROKER_ORDER = ("rabbitmq", "activemq")
CLIENT_ORDER = (
    "stompio-sync",
    "stompio-asyncio",
    "stompio-uvloop",
    "stompio-trio",
    "stomp.py",
    "stompman",
    "raw-asyncio",
    "raw-trio",
    "raw",
)


def size_label(size: int) -> str:
    """100 B, 10 KiB, 1 MiB."""
    for unit, scale in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} B"


def client_rank(name: str) -> int:
    """Sort key: stompio's faces first, then the competitors, raw last."""
    return CLIENT_ORDER.index(name) if name in CLIENT_ORDER else len(CLIENT_ORDER)


def broker_rank(name: str) -> int:
    """Sort key: the brokers in the order the suite lists them."""
    return BROKER_ORDER.index(name) if name in BROKER_ORDER else len(BROKER_ORDER)


def median(values: list[float]) -> float | None:
    """The median, or None for no values."""
    return statistics.median(values) if values else None


def summarise(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians per configuration and client, same-run ratios, and the other steps as they are."""
    runs: dict[tuple[str, int, bool], dict[int, dict[str, dict[str, Any]]]] = defaultdict(
        lambda: defaultdict(dict)
    )
    failures = []
    skipped: dict[tuple[str, int, bool], dict[str, str]] = defaultdict(dict)
    for record in records:
        if record["step"] != "clients" or record.get("warmup"):
            continue
        key = (record["broker"], record["size"], record["persistent"])
        if "skipped" in record:
            skipped[key][record["client"]] = record["skipped"]
            continue
        if "error" in record:
            failures.append(record)
            continue
        failures += [
            {**record, "error": f"{phase}: {result['error']}"}
            for phase, result in record["phases"].items()
            if "error" in result
        ]
        runs[key][record["run"]][record["client"]] = record
    configs = [
        {**summarise_config(key, by_run), "skipped": skipped.get(key, {})}
        for key, by_run in runs.items()
    ]
    brokers = list(dict.fromkeys(record["broker"] for record in records if "broker" in record))
    configs.sort(
        key=lambda config: (brokers.index(config["broker"]), config["size"], config["persistent"])
    )
    codec = [record for record in records if record["step"] == "codec"]
    return {
        "configs": configs,
        "targets": check_targets(configs),
        "failures": [
            {key: record.get(key) for key in ("step", "broker", "client", "size", "run", "error")}
            for record in failures
        ],
        "idle": [record for record in records if record["step"] == "idle"],
        "memory": [record for record in records if record["step"] == "memory"],
        "profile": [record for record in records if record["step"] == "profile"],
        "instructions": summarise_instructions(records),
        "codec": codec[-1] if codec else None,
    }


def summarise_config(
    key: tuple[str, int, bool], by_run: dict[int, dict[str, dict[str, Any]]]
) -> dict[str, Any]:
    """Medians of every metric per client, and medians of the ratios taken within each run."""
    broker, size, persistent = key
    names = sorted({name for clients in by_run.values() for name in clients}, key=client_rank)
    clients: dict[str, Any] = {}
    counts: dict[str, int] = {}
    for name in names:
        records = [clients_[name] for clients_ in by_run.values() if name in clients_]
        counts = {"count": records[0]["count"], "rtt_count": records[0]["rtt_count"]}
        entry: dict[str, Any] = {"runs": len(records), "count": records[0]["count"]}
        for phase in PHASES:
            results = [
                r["phases"][phase]
                for r in records
                if phase in r["phases"] and "rate" in r["phases"][phase]
            ]
            if not results:
                continue
            entry[phase] = {
                metric: median([result[metric] for result in results])
                for metric in METRICS
                if metric in results[0]
            }
            rates = [result["rate"] for result in results]
            entry[phase]["rate_min"], entry[phase]["rate_max"] = min(rates), max(rates)
            entry[phase]["messages"] = median([result["messages"] for result in results])
        entry["ratios"] = same_run_ratios(name, by_run)
        clients[name] = entry
    return {
        "broker": broker,
        "size": size,
        "persistent": persistent,
        **counts,
        "clients": clients,
    }


def same_run_ratios(name: str, by_run: dict[int, dict[str, dict[str, Any]]]) -> dict[str, float]:
    """For each ratio, the median over the runs in which both clients succeeded."""
    ratios = {}
    for ratio, phase, metric, other in RATIOS:
        if other == name:
            continue
        values = []
        for clients in by_run.values():
            mine, theirs = clients.get(name), clients.get(other)
            if mine is None or theirs is None:
                continue
            a = mine["phases"].get(phase, {}).get(metric)
            b = theirs["phases"].get(phase, {}).get(metric)
            if a is not None and b:
                values.append(a / b)
        value = median(values)
        if value is not None:
            ratios[ratio] = value
    return ratios


def summarise_instructions(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per broker, each client's instructions per message and its ratios to the competitors.

    A step that could not run at all (no valgrind) leaves one entry with only its error.
    """
    brokers: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    messages: dict[str, list[int]] = {}
    entries: list[dict[str, Any]] = []
    for record in records:
        if record["step"] != "instructions":
            continue
        if "broker" not in record:
            entries.append({"error": record["error"]})
            continue
        brokers[record["broker"]][record["client"]] = {
            key: record[key] for key in INSTRUCTION_FIELDS if key in record
        }
        messages[record["broker"]] = record["messages"]
    for broker in sorted(brokers, key=broker_rank):
        clients = brokers[broker]
        for name, entry in clients.items():
            entry["ratios"] = {
                ratio: entry[metric] / clients[other][metric]
                for ratio, metric, other in INSTRUCTION_RATIOS
                if other != name and metric in entry and clients.get(other, {}).get(metric)
            }
        ordered = {name: clients[name] for name in sorted(clients, key=client_rank)}
        entries.append({"broker": broker, "messages": messages[broker], "clients": ordered})
    return entries


def check_targets(configs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The issue's targets for each stompio face, on the smallest non-persistent bodies."""
    checks = []
    for config in configs:
        if config["persistent"] or config["size"] != min(c["size"] for c in configs):
            continue
        for name, entry in config["clients"].items():
            if not name.startswith("stompio"):
                continue
            for ratio, bound, kind in TARGETS:
                value = entry["ratios"].get(ratio)
                met = (
                    None if value is None else (value <= bound if kind == "max" else value >= bound)
                )
                checks.append(
                    {
                        "broker": config["broker"],
                        "client": name,
                        "ratio": ratio,
                        "value": value,
                        "bound": bound,
                        "kind": kind,
                        "met": met,
                    }
                )
    return checks


# Markdown.


def number(value: float | None, digits: int = 0) -> str:
    """A table cell for a number ("-" when missing)."""
    return "-" if value is None else f"{value:,.{digits}f}"


def markdown(summary: dict[str, Any]) -> str:
    """The whole report."""
    parts = ["# stompio benchmark", "", environment_line(summary), ""]
    parts += targets_section(summary)
    for config in summary["configs"]:
        parts += config_section(config)
    parts += instructions_section(summary.get("instructions", []))
    parts += idle_section(summary["idle"])
    parts += memory_section(summary["memory"])
    for record in summary["profile"]:
        parts += profile_section(record)
    parts += codec_section(summary["codec"])
    if summary["failures"]:
        parts += ["## Failed steps", ""]
        parts += [
            f"- {f['broker']} {f['client']} {size_label(f['size'])} run {f['run']}: {f['error']}"
            for f in summary["failures"]
        ]
        parts.append("")
    return "\n".join(parts) + "\n"


def environment_line(summary: dict[str, Any]) -> str:
    """Where and how long."""
    environment = summary.get("environment", {})
    versions = ", ".join(f"{k} {v}" for k, v in environment.get("versions", {}).items())
    minutes = summary.get("elapsed_seconds", 0) / 60
    return (
        f"Python {environment.get('python', '?')} on {environment.get('platform', '?')}, "
        f"{environment.get('cpus', '?')} CPUs shared by brokers and client; {versions}. "
        f"Suite time {minutes:.1f} min. Client CPU is the client process's "
        "`time.process_time()` over the timed window only (all threads, no start-up)."
    )


def targets_section(summary: dict[str, Any]) -> list[str]:
    """One row per broker and stompio face, one column per target."""
    checks = summary["targets"]
    if not checks:
        footprint = footprint_targets(summary)
        return ["## Targets", "", *footprint] if footprint else []
    header = [
        f"{ratio} ({'≤' if kind == 'max' else '≥'} {bound_label(bound)})"
        for ratio, bound, kind in TARGETS
    ]
    lines = [
        "## Targets (smallest body, non-persistent; medians of same-run ratios)",
        "",
        "| broker | client | " + " | ".join(header) + " |",
        "|---|---|" + "---|" * len(header),
    ]
    rows: dict[tuple[str, str], dict[str, dict[str, Any]]] = defaultdict(dict)
    for check in checks:
        rows[check["broker"], check["client"]][check["ratio"]] = check
    for (broker, client), by_ratio in rows.items():
        cells = []
        for ratio, _, _ in TARGETS:
            check = by_ratio.get(ratio)
            if check is None or check["value"] is None:
                cells.append("-")
            else:
                cells.append(f"{check['value']:.2f} {verdict(check['met'])}")
        lines.append(f"| {broker} | {client} | " + " | ".join(cells) + " |")
    return [*lines, "", *footprint_targets(summary)]


def footprint_targets(summary: dict[str, Any]) -> list[str]:
    """The idle and memory targets per face, from the in-listen() idle cases."""
    faces: dict[str, dict[str, str]] = defaultdict(dict)
    for record in summary["idle"]:
        if "result" not in record or not record["listening"]:
            continue
        result = record["result"]
        if record["heartbeat_ms"] == 0:
            value = result["wakeups"]
            faces[record["face"]]["wakeups"] = f"{value} {verdict(value == 0)}"
        else:
            value = result["cpu_percent"]
            met = value < IDLE_MAX_CPU_PERCENT
            faces[record["face"]]["cpu"] = f"{value:.3f} {verdict(met)}"
    for record in summary["memory"]:
        if "result" not in record:
            continue
        result = record["result"]
        if record["count"] > 1:
            value = result["peak_growth_mib"]
            met = value < MEMORY_MAX_GROWTH_MIB
            faces[record["face"]]["growth"] = f"{value:.1f} {verdict(met)}"
        else:
            value = result["peak_growth_ratio"]
            met = value < MEMORY_MAX_PEAK_RATIO
            faces[record["face"]]["ratio"] = f"{value:.2f} {verdict(met)}"
    if not faces:
        return []
    lines = [
        (
            "| face | idle in listen(), no heart-beats: wake-ups (= 0) "
            f"| idle in listen(), 1 s heart-beats: CPU % (< {IDLE_MAX_CPU_PERCENT}) "
            f"| many 1 MiB messages: peak RSS growth MiB (< {MEMORY_MAX_GROWTH_MIB:.0f}) "
            f"| one big message: peak growth / size (< {MEMORY_MAX_PEAK_RATIO:.0f}) |"
        ),
        "|---|---|---|---|---|",
    ]
    for face, cells in faces.items():
        row = [cells.get(key, "-") for key in ("wakeups", "cpu", "growth", "ratio")]
        lines.append(f"| {face} | " + " | ".join(row) + " |")
    return [*lines, ""]


def bound_label(bound: float) -> str:
    """0.5, 1.3, and 1/6 rather than a rounded 0.17 that a value of 0.17 misses."""
    if round(bound, 2) == bound:
        return f"{bound:g}"
    fraction = Fraction(bound).limit_denominator(100)
    return f"{fraction.numerator}/{fraction.denominator}"


def verdict(met: bool) -> str:
    """How a target cell says whether the target was met."""
    return "met" if met else "**missed**"


def config_section(config: dict[str, Any]) -> list[str]:
    """The table of one broker, body size and persistence."""
    persistence = "persistent" if config["persistent"] else "non-persistent"
    others = [
        entry.get(phase, {}).get("other_cpu_seconds") or 0.0
        for entry in config["clients"].values()
        for phase in PHASES
    ]
    lines = [
        f"## {config['broker']}, {size_label(config['size'])}, {persistence}",
        "",
        (
            f"N messages produced and consumed, then up to {config['rtt_count']:,} round trips "
            "(fewer when 2 s run out); "
            f"medians of {max(e['runs'] for e in config['clients'].values())} runs. "
            f"Other CPU on the machine during a step: up to {max(others, default=0):.2f} s."
        ),
        "",
        (
            "| client | N / trips | produce msg/s | produce CPU µs/msg | consume+ack msg/s"
            " | consume CPU µs/msg | broker CPU µs/msg (consume) | RTT p50 ms | RTT p99 ms"
            " | produce vs raw | consume vs raw | consume CPU vs stomp.py | consume CPU vs stompman"
            " | p50 vs raw |"
        ),
        "|---|" + "---|" * 13,
    ]
    for name, entry in config["clients"].items():
        produce = entry.get("produce", {})
        consume = entry.get("consume", {})
        rtt = entry.get("rtt", {})
        ratios = entry["ratios"]
        cells = [
            name,
            f"{entry['count']:,} / {number(rtt.get('messages'))}",
            number(produce.get("rate")),
            number(produce.get("cpu_us_per_msg"), 1),
            number(consume.get("rate")),
            number(consume.get("cpu_us_per_msg"), 1),
            number(consume.get("broker_cpu_us_per_msg"), 1),
            number(rtt.get("p50_ms"), 3),
            number(rtt.get("p99_ms"), 3),
            number(ratios.get("produce_rate_vs_raw"), 2),
            number(ratios.get("consume_rate_vs_raw"), 2),
            number(ratios.get("consume_cpu_vs_stomp.py"), 2),
            number(ratios.get("consume_cpu_vs_stompman"), 2),
            number(ratios.get("rtt_p50_vs_raw"), 2),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [f"\nNot run: {name}: {reason}." for name, reason in config.get("skipped", {}).items()]
    return [*lines, ""]


def instructions_section(entries: list[dict[str, Any]]) -> list[str]:
    """Instructions per message, a table per broker."""
    if not entries:
        return []
    lines = ["## Instructions per message (callgrind), 100 B, non-persistent", ""]
    counted = [entry for entry in entries if "error" not in entry]
    if counted:
        n1, n2 = counted[0]["messages"]
        lines += [
            (
                "Callgrind counts the client process's user-space instructions only: kernel time"
                " and cache misses are not in it. Each phase runs for N1 and N2 messages and"
                " (I(N2) - I(N1)) / (N2 - N1) is the cost of one message, without start-up,"
                f" imports and connecting (N1 = {n1:,}, N2 = {n2:,}). Ratios are within this run."
                " A client runs about 50x slower under callgrind, so no two of stompio's sends"
                " fall within its 200 us burst window: each is a lone send with its own system"
                " call, the round-trip case, not the batched writes of a fast producer loop."
            ),
            "",
        ]
    for entry in entries:
        if "error" in entry:
            lines += [f"failed: {entry['error']}", ""]
            continue
        lines += [
            f"### {entry['broker']}",
            "",
            (
                "| client | produce instructions/msg | consume+ack instructions/msg"
                " | consume vs stomp.py | consume vs stompman | produce vs stomp.py |"
            ),
            "|---|---|---|---|---|---|",
        ]
        for name, client in entry["clients"].items():
            if "error" in client:
                lines.append(f"| {name} | failed: {' '.join(client['error'].split())} |")
                continue
            ratios = client["ratios"]
            cells = [
                name,
                number(client["produce_per_message"]),
                number(client["consume_per_message"]),
                number(ratios.get("consume_vs_stomp.py"), 2),
                number(ratios.get("consume_vs_stompman"), 2),
                number(ratios.get("produce_vs_stomp.py"), 2),
            ]
            lines.append("| " + " | ".join(cells) + " |")
        lines += [
            f"\n{name}: {client['left_after']:,} messages were left on its queue afterwards"
            " (a lost connection and redeliveries?); its numbers are suspect."
            for name, client in entry["clients"].items()
            if "left_after" in client
        ]
        lines.append("")
    return lines


def idle_section(records: list[dict[str, Any]]) -> list[str]:
    """CPU and wake-ups of idle clients."""
    if not records:
        return []
    lines = [
        "## Idle client",
        "",
        (
            "Targets: no wake-ups with heart-beats off; "
            f"< {IDLE_MAX_CPU_PERCENT}% of a core with 1 s heart-beats. "
            "Wake-ups are voluntary context switches of the client's threads."
        ),
        "",
        (
            "| face | heart-beats | main task/thread | seconds | CPU % of a core | wake-ups"
            " | per second | per thread |"
        ),
        "|---|---|---|---|---|---|---|---|",
    ]
    for record in records:
        mode = "in listen()" if record["listening"] else "not listening"
        beats = f"{record['heartbeat_ms']} ms" if record["heartbeat_ms"] else "off"
        if "error" in record:
            lines.append(f"| {record['face']} | {beats} | {mode} | failed: {record['error']} |")
            continue
        result = record["result"]
        threads = ", ".join(f"{k}: {v}" for k, v in result["wakeups_per_thread"].items())
        lines.append(
            f"| {record['face']} | {beats} | {mode} | {result['seconds']:.1f} "
            f"| {result['cpu_percent']:.3f} | {result['wakeups']} "
            f"| {result['wakeups_per_second']:.1f} | {threads} |"
        )
    return [*lines, ""]


def memory_section(records: list[dict[str, Any]]) -> list[str]:
    """RSS growth while consuming large messages."""
    if not records:
        return []
    lines = [
        "## Memory",
        "",
        (
            f"Targets: consuming many 1 MiB messages grows RSS < {MEMORY_MAX_GROWTH_MIB:.0f} MiB;"
            f" one big message peaks < {MEMORY_MAX_PEAK_RATIO:.0f}x its size. Growth is VmHWM (peak"
            " reset after connecting) minus VmRSS after connecting."
        ),
        "",
        (
            "| face | case | received MiB | MiB/s | RSS before MiB | peak growth MiB"
            " | final growth MiB | peak growth / received |"
        ),
        "|---|---|---|---|---|---|---|---|",
    ]
    for record in records:
        if "error" in record:
            lines.append(f"| {record['face']} | {record['case']} | failed: {record['error']} |")
            continue
        r = record["result"]
        lines.append(
            f"| {record['face']} | {record['case']} | {r['received_mib']:.0f} "
            f"| {r['mib_per_second']:.0f} | {r['rss_before_mib']:.1f} "
            f"| {r['peak_growth_mib']:.1f} | {r['final_growth_mib']:.1f} "
            f"| {r['peak_growth_ratio']:.2f} |"
        )
    return [*lines, ""]


def profile_table(result: dict[str, Any]) -> str:
    """The top functions of one profile as a Markdown table."""
    lines = [
        f"Profiled CPU {result['total_seconds']:.2f} s for {result['messages']:,} messages "
        f"({result['us_per_message']:.1f} µs/msg under the profiler); per thread: "
        + ", ".join(f"{k} {v:.2f} s" for k, v in result["per_thread_seconds"].items()),
        "",
        "| function | calls | self s | self % | cumulative s |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| `{row['function']}` | {row['calls']:,} | {row['self_seconds']:.3f} "
        f"| {row['self_percent']:.1f} | {row['cumulative_seconds']:.3f} |"
        for row in result["top"]
    ]
    lines += [
        "",
        "Self time by module: "
        + ", ".join(
            f"`{row['module']}` {row['self_percent']:.0f}%" for row in result.get("by_module", [])
        ),
    ]
    return "\n".join(lines)


def profile_section(record: dict[str, Any]) -> list[str]:
    """One face's consume+ack profile."""
    title = f"## Profile: stompio-{record['face']} consume+ack on {record['broker']}, 100 B"
    if "error" in record:
        return [title, "", f"failed: {record['error']}", ""]
    return [title, "", profile_table(record["result"]), ""]


def codec_section(record: dict[str, Any] | None) -> list[str]:
    """The codec benchmark's own table."""
    if record is None:
        return []
    if "error" in record:
        return ["## Codec", "", f"failed: {record['error']}", ""]
    return ["## Codec (bench/codec.py)", "", record["table"], ""]
