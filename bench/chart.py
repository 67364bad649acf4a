"""The README's chart: client CPU per message and throughput, stompio beside the others.

One row per broker; on the left the client process's CPU per message (lower is better), on
the right messages per second (higher is better), each for produce and consume+ack, with
the smallest non-persistent bodies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import matplotlib as mpl

mpl.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.patches import Rectangle
from matplotlib.ticker import StrMethodFormatter
from report import size_label

if TYPE_CHECKING:
    from pathlib import Path

PHASES = (("produce", "produce"), ("consume", "consume + ack"))
COLOURS = {
    "stompio-sync": "#1f4e9c",
    "stompio-asyncio": "#3b78d8",
    "stompio-uvloop": "#6fa0e8",
    "stompio-trio": "#a3c3f2",
    "stomp.py": "#e08a2c",
    "stompman": "#c4453c",
    "raw-asyncio": "#b5b5b5",
    "raw-trio": "#d0d0d0",
    "raw": "#8c8c8c",
}


def draw(summary: dict[str, Any], path: Path) -> bool:
    """Write the chart as PNG; False when there is nothing to draw."""
    configs = [c for c in summary["configs"] if not c["persistent"]]
    if not configs:
        return False
    size = min(config["size"] for config in configs)
    configs = [config for config in configs if config["size"] == size]
    figure, axes = plt.subplots(
        len(configs), 2, figsize=(12, 3.6 * len(configs)), squeeze=False, layout="constrained"
    )
    for row, config in zip(axes, configs, strict=True):
        clients = list(config["clients"])
        panel(
            row[0], config, clients, "cpu_us_per_msg", "client CPU µs per message (lower is better)"
        )
        panel(row[1], config, clients, "rate", "messages per second (higher is better)")
        runs = max(entry["runs"] for entry in config["clients"].values())
        row[0].set_title(f"{config['broker']}: client CPU per message", loc="left")
        median = f"median of {runs} runs" if runs > 1 else "1 run"
        row[1].set_title(f"{config['broker']}: throughput ({median})", loc="left")
    handles = [Rectangle((0, 0), 1, 1, color=COLOURS.get(name, "#555555")) for name in clients]
    # One row holds five names across the figure; more wrap to a second row.
    figure.legend(
        handles, clients, loc="outside lower center", ncols=min(len(clients), 5), frameon=False
    )
    figure.suptitle(
        f"stompio vs stomp.py, stompman and a raw socket — {size_label(size)} bodies,"
        " non-persistent, broker and client on one 2-core machine"
    )
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True


def panel(axis: Any, config: dict[str, Any], clients: list[str], metric: str, label: str) -> None:
    """Grouped bars: one group per phase, one bar per client, labelled with its value."""
    width = 0.8 / len(clients)
    for index, name in enumerate(clients):
        entry = config["clients"][name]
        values = [entry.get(phase, {}).get(metric) or 0.0 for phase, _ in PHASES]
        positions = [group + (index - (len(clients) - 1) / 2) * width for group in range(2)]
        bars = axis.bar(positions, values, width, color=COLOURS.get(name, "#555555"))
        labels = [f"{value:,.0f}" if value >= 100 else f"{value:.1f}" for value in values]
        axis.bar_label(bars, labels=labels, fontsize=7, rotation=90, padding=2)
    axis.set_xticks(range(2), [title for _, title in PHASES])
    axis.set_ylabel(label, fontsize=8)
    axis.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    axis.margins(y=0.2)
    axis.spines[["top", "right"]].set_visible(False)
