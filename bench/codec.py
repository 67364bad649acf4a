"""Codec throughput: stompio's parser and serializer beside stompman's and stomp.py's.

Every parser gets the same byte stream (MESSAGE frames as RabbitMQ writes them: a
content-length header and an LF after each NUL) in 64 KiB reads, the size of a socket read.
For stomp.py that means its transport's receive-and-split step followed by
``stomp.utils.parse_frame``, which is what its reader thread does with each read, driven
here by a transport whose ``receive()`` returns the prepared reads. Each parser's output is
checked (frame count and body sizes) before it is timed. Serializing a SEND includes each
library's header escaping (stomp.py does it in ``Protocol12``, before packing).

Run ``python bench/codec.py`` (``--quick`` for a short run, ``--json PATH`` to keep the
numbers). Each figure is the median of several timed runs.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from functools import partial
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import stomp.protocol
import stomp.transport
import stomp.utils
from stompman import frames as stompman_frames
from stompman import serde as stompman_serde

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stompio._codec import ServerFrameParser, serialize_frame
from stompio._frames import MessageFrame, SendFrame

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

READ_SIZE = 64 * 1024
CONNECTED = b"CONNECTED\nversion:1.2\nheart-beat:0,0\nsession:session-1\nserver:bench\n\n\x00\n"


@dataclass(frozen=True, slots=True)
class Workload:
    """One stream to parse: ``count`` MESSAGE frames with ``body_size`` bytes of body."""

    name: str
    body_size: int
    count: int
    unit: str  # what the table reports: "frames/s" or "MB/s"


@dataclass(frozen=True, slots=True)
class Result:
    """The median run of one library on one workload."""

    task: str
    workload: str
    library: str
    seconds: float
    frames: int
    megabytes: float

    @property
    def frames_per_second(self) -> float:
        return self.frames / self.seconds

    @property
    def megabytes_per_second(self) -> float:
        return self.megabytes / self.seconds


def message_stream(body_size: int, count: int) -> bytes:
    frames = []
    for number in range(count):
        body = bytes((number + offset) % 251 for offset in range(min(body_size, 251)))
        body = (body * (body_size // len(body) + 1))[:body_size] if body_size else b""
        frames.append(
            b"MESSAGE\nsubscription:sub-0\ndestination:/queue/bench\n"
            b"message-id:T_sub-0@@session-Xq4mJ4c@@" + str(number).encode() + b"\n"
            b"redelivered:false\nack:T_sub-0@@session-Xq4mJ4c@@" + str(number).encode() + b"\n"
            b"content-type:application/octet-stream\n"
            b"content-length:" + str(body_size).encode() + b"\n\n" + body + b"\x00\n"
        )
    return CONNECTED + b"".join(frames)


def reads(stream: bytes) -> list[bytes]:
    return [stream[start : start + READ_SIZE] for start in range(0, len(stream), READ_SIZE)]


def parse_stompio(chunks: list[bytes]) -> list[int]:
    parser = ServerFrameParser()
    sizes = []
    for chunk in chunks:
        sizes += [
            len(event.body) for event in parser.feed(chunk) if isinstance(event, MessageFrame)
        ]
    parser.feed_eof()
    return sizes


def parse_stompman(chunks: list[bytes]) -> list[int]:
    parser = stompman_serde.FrameParser()
    sizes = []
    for chunk in chunks:
        sizes += [
            len(frame.body)
            for frame in parser.parse_frames_from_chunk(chunk)
            if isinstance(frame, stompman_frames.MessageFrame)
        ]
    return sizes


class _ReplayTransport(stomp.transport.BaseTransport):  # type: ignore[misc]
    """stomp.py's transport with its socket replaced by a list of reads."""

    def __init__(self, chunks: list[bytes]) -> None:
        super().__init__(auto_decode=False)
        self._chunks: Iterator[bytes] = iter(chunks)
        self.running = True

    def receive(self) -> bytes:
        return next(self._chunks, b"")


def parse_stomppy(chunks: list[bytes]) -> list[int]:
    transport = _ReplayTransport(chunks)
    read = transport._BaseTransport__read  # noqa: SLF001 (the splitting step of its reader)
    sizes = []
    while True:
        try:
            raw_frames = read()
        except stomp.exception.ConnectionClosedException:
            break
        for raw in raw_frames:
            if raw == b"\n":
                continue
            frame = stomp.utils.parse_frame(raw)
            if frame is not None and frame.cmd == "MESSAGE":
                sizes.append(len(frame.body))
    return sizes


PARSERS: dict[str, Callable[[list[bytes]], list[int]]] = {
    "stompio": parse_stompio,
    "stompman 3.16": parse_stompman,
    "stomp.py 9": parse_stomppy,
}

SEND_HEADERS = {
    "destination": "/queue/bench",
    "content-type": "application/octet-stream",
    "persistent": "true",
    "receipt": "r-1",
}


def serialize_stompio(body: bytes, count: int) -> int:
    total = 0
    for _ in range(count):
        total += len(serialize_frame(SendFrame(dict(SEND_HEADERS), body)))
    return total


def serialize_stompman(body: bytes, count: int) -> int:
    total = 0
    for _ in range(count):
        frame = stompman_frames.SendFrame(headers=cast("Any", dict(SEND_HEADERS)), body=body)
        total += len(stompman_serde.dump_frame(frame))
    return total


def serialize_stomppy(body: bytes, count: int) -> int:
    # Protocol12.send_frame escapes the headers, then the transport packs the frame.
    escape = stomp.protocol.Protocol12._escape_headers  # noqa: SLF001
    total = 0
    for _ in range(count):
        headers: dict[str, Any] = {**SEND_HEADERS, "content-length": len(body)}
        escape(None, headers)
        frame = stomp.utils.Frame("SEND", headers, body)
        total += len(stomp.utils.pack(stomp.utils.convert_frame(frame)))
    return total


SERIALIZERS: dict[str, Callable[[bytes, int], int]] = {
    "stompio": serialize_stompio,
    "stompman 3.16": serialize_stompman,
    "stomp.py 9": serialize_stomppy,
}


def median_seconds(
    runs: Mapping[str, Callable[[], object]], repeats: int, budget: float
) -> dict[str, float]:
    """Median wall time of each run, timed in turns so that load from elsewhere hits all alike.

    Stops after ``repeats`` turns, or after three once ``budget`` seconds have passed.
    """
    times: dict[str, list[float]] = {name: [] for name in runs}
    started = time.perf_counter()
    for turn in range(repeats):
        for name, run in runs.items():
            begin = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - begin)
        if turn >= 2 and time.perf_counter() - started > budget:
            break
    return {name: statistics.median(values) for name, values in times.items()}


def bench_parsers(workloads: list[Workload], repeats: int, budget: float) -> list[Result]:
    results = []
    for workload in workloads:
        stream = message_stream(workload.body_size, workload.count)
        chunks = reads(stream)
        for library, parse in PARSERS.items():
            sizes = parse(chunks)
            if sizes != [workload.body_size] * workload.count:
                msg = f"{library} parsed {workload.name} wrongly: {len(sizes)} messages"
                raise SystemExit(msg)
        runs = {library: partial(parse, chunks) for library, parse in PARSERS.items()}
        for library, seconds in median_seconds(runs, repeats, budget).items():
            results.append(
                Result("parse", workload.name, library, seconds, workload.count, len(stream) / 1e6)
            )
            print(f"  parse {workload.name:>12} {library:<14} {seconds * 1e3:10.2f} ms", flush=True)
    return results


def bench_serializers(count: int, body_size: int, repeats: int, budget: float) -> list[Result]:
    body = bytes(index % 251 for index in range(body_size))
    name = f"SEND {body_size} B"
    sizes = {}
    for library, serialize in SERIALIZERS.items():
        sizes[library] = serialize(body, 1)
        if sizes[library] < body_size:
            msg = f"{library} wrote a {sizes[library]}-byte SEND for a {body_size}-byte body"
            raise SystemExit(msg)
    runs = {library: partial(serialize, body, count) for library, serialize in SERIALIZERS.items()}
    results = []
    for library, seconds in median_seconds(runs, repeats, budget).items():
        megabytes = sizes[library] * count / 1e6
        results.append(Result("serialize", name, library, seconds, count, megabytes))
        print(f"  serialize {name:>8} {library:<14} {seconds * 1e3:10.2f} ms", flush=True)
    return results


def markdown(results: list[Result], workloads: list[Workload]) -> str:
    units = {workload.name: workload.unit for workload in workloads}
    lines = [
        "| task | workload | library | frames/s | MB/s | stompio is x faster |",
        "|---|---|---|---:|---:|---:|",
    ]
    for result in results:
        ours = next(
            other
            for other in results
            if other.task == result.task
            and other.workload == result.workload
            and other.library == "stompio"
        )
        ratio = (
            "—" if result is ours else f"{ours.frames_per_second / result.frames_per_second:.1f}x"
        )
        unit = units.get(result.workload, "frames/s")
        frames = f"{result.frames_per_second:,.0f}"
        megabytes = f"{result.megabytes_per_second:,.1f}"
        if unit == "frames/s":
            frames = f"**{frames}**"
        else:
            megabytes = f"**{megabytes}**"
        lines.append(
            f"| {result.task} | {result.workload} | {result.library} | {frames} | {megabytes} | "
            f"{ratio} |"
        )
    return "\n".join(lines)


def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    arguments.add_argument("--json", type=Path, help="also write the results to this file")
    arguments.add_argument("--quick", action="store_true", help="smaller streams, fewer runs")
    arguments.add_argument("--repeats", type=int, default=7, help="timed runs per figure")
    options = arguments.parse_args()
    scale = 4 if options.quick else 1
    repeats = 3 if options.quick else options.repeats
    budget = 5.0 if options.quick else 30.0
    workloads = [
        Workload("100 B body", 100, 20_000 // scale, "frames/s"),
        Workload("1 KiB body", 1024, 4_000 // scale, "MB/s"),
        Workload("1 MiB body", 1024 * 1024, 8 // scale, "MB/s"),
    ]
    print(f"Python {platform.python_version()} on {platform.machine()}; reads of {READ_SIZE} B")
    results = bench_parsers(workloads, repeats, budget)
    results += bench_serializers(20_000 // scale, 100, repeats, budget)
    table = markdown(results, workloads)
    print()
    print(table)
    if options.json:
        versions = {name: metadata.version(name) for name in ("stompman", "stomp.py")}
        payload = {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "read_size": READ_SIZE,
            "versions": versions,
            "results": [
                {
                    **asdict(result),
                    "frames_per_second": result.frames_per_second,
                    "megabytes_per_second": result.megabytes_per_second,
                }
                for result in results
            ],
        }
        options.json.write_text(json.dumps(payload, indent=2) + "\n")


if __name__ == "__main__":
    main()
