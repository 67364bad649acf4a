"""What the suite covers: the brokers, the clients, the body sizes, and one invocation's choices."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
MIB = 1024 * 1024
STEPS = ("clients", "codec", "idle", "memory", "profile", "instructions")
BROKER_STEPS = frozenset({"clients", "idle", "memory", "profile", "instructions"})


@dataclass(frozen=True, slots=True)
class Broker:
    """A broker the suite talks to; every client uses the same vhost (stompman's).

    ``max_queued`` bounds how many bytes a produce phase may leave on a queue: ActiveMQ runs
    with a 512 MiB heap here and fails with OutOfMemoryError (closing connections) once a
    few hundred MiB of 1 MiB messages are queued.
    """

    name: str
    port: int
    max_queued: int
    vhost: str = "127.0.0.1"
    login: str = "guest"
    passcode: str = "guest"


@dataclass(frozen=True, slots=True)
class ClientProgram:
    """One client: the program that drives it and the variant it runs.

    ``max_bytes`` caps the bytes per phase for a client too slow for the full count (its
    rates are per message, so they stay comparable); bodies above ``max_size`` are not tried,
    for ``skip_reason``.
    """

    name: str
    program: str
    variant: str = ""
    needs: str = ""
    max_bytes: int | None = None
    max_size: int | None = None
    skip_reason: str = ""


@dataclass(frozen=True, slots=True)
class Load:
    """How many messages a body size gets, so that a step takes about 0.5-2 s.

    Persistent runs get half as many: the brokers write them to disk.
    """

    size: int
    count: int
    rtt_count: int


BROKERS = {
    "rabbitmq": Broker("rabbitmq", 61613, max_queued=512 * MIB),
    "activemq": Broker("activemq", 61614, max_queued=64 * MIB),
}
CLIENTS = {
    client.name: client
    for client in (
        ClientProgram("raw", "client_raw.py"),
        ClientProgram("raw-asyncio", "client_raw_asyncio.py"),
        ClientProgram("raw-trio", "client_raw_trio.py", needs="trio"),
        ClientProgram("stompio-sync", "client_stompio.py", "sync"),
        ClientProgram("stompio-asyncio", "client_stompio.py", "asyncio"),
        ClientProgram("stompio-uvloop", "client_stompio.py", "uvloop", needs="uvloop"),
        ClientProgram("stompio-trio", "client_stompio.py", "trio", needs="trio"),
        ClientProgram(
            "stompman",
            "client_stompman.py",
            needs="stompman",
            max_bytes=8 * MIB,
            max_size=64 * 1024,
            skip_reason=(
                "stompman parses byte by byte (about 350 messages/s at 10 KiB, 4/s at 1 MiB); "
                "at 1 MiB RabbitMQ drops its connection for missed heart-beats and it does not "
                "finish 8 messages in 120 s"
            ),
        ),
        ClientProgram("stomp.py", "client_stomppy.py", needs="stomp"),
    )
}
LOADS = {
    load.size: load
    for load in (Load(100, 20_000, 1_000), Load(10 * 1024, 4_000, 1_000), Load(MIB, 300, 50))
}


@dataclass(frozen=True, slots=True)
class Options:
    """What one invocation runs, and where its results go."""

    steps: tuple[str, ...]
    brokers: tuple[Broker, ...]
    clients: tuple[ClientProgram, ...]
    loads: tuple[Load, ...]
    persistence: tuple[bool, ...]
    runs: int
    warmup: bool
    quick: bool
    out: Path
    json_path: Path | None
    python: str

    @property
    def divisor(self) -> int:
        """How much smaller every count is (``--quick``)."""
        return 10 if self.quick else 1

    @property
    def rtt_budget(self) -> float:
        """Seconds a run of round trips may take once it has its minimum."""
        return 0.3 if self.quick else 2.0
