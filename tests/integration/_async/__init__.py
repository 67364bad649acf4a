# Source of truth: scripts/unasync.py generates tests/integration/_sync/__init__.py from this file.
"""Both faces against the real brokers: the suite, written once, and the helpers it shares.

Every wait is bounded. The clients ask the broker for heart-beats both ways, so ``listen()``
yields at least every couple of seconds even when no message comes, and the helpers check
their deadline on each event; a broker that goes silent ends ``listen()`` with
``HeartbeatTimeoutError``. "Nothing else arrives" is checked by sending a marker message after
the fact and receiving up to it, never by waiting for a while.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

import pytest

import stompio
from stompio._backends._anyio import monotonic
from tests.integration.support import server_of

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from stompio._events import AsyncListenEvent
    from tests.integration.support import Broker

RECEIVE_WITHIN = 15.0
"""How long a test waits for what it expects from ``listen()``, in seconds."""


def client_for(broker: Broker, **options: Any) -> stompio.AsyncClient:
    """A client of ``broker``: the library defaults (heart-beats 1000,1000) unless overridden."""
    return stompio.AsyncClient([server_of(broker)], **options)


async def take(
    client: stompio.AsyncClient,
    enough: Callable[[list[AsyncListenEvent]], bool],
    *,
    within: float = RECEIVE_WITHIN,
) -> list[AsyncListenEvent]:
    """Collect what ``listen()`` yields, heart-beats left out, until ``enough(collected)``.

    Fails the test when ``within`` seconds pass first or ``listen()`` ends quietly. An
    ``ErrorEvent`` is collected like any other event; ``listen()`` raises right after it.
    """
    deadline = monotonic() + within
    collected: list[AsyncListenEvent] = []
    async for event in client.listen():
        if not isinstance(event, stompio.HeartbeatEvent):
            collected.append(event)
            if enough(collected):
                return collected
        if monotonic() > deadline:
            break
    pytest.fail(f"not what was expected from listen() within {within} s: {collected}")


async def receive(
    client: stompio.AsyncClient, count: int, *, within: float = RECEIVE_WITHIN
) -> list[stompio.MessageEvent[Any]]:
    """The next ``count`` messages (receipts that come in between are left out)."""
    events = await take(client, lambda got: len(messages(got)) >= count, within=within)
    return messages(events)


async def receive_until(
    client: stompio.AsyncClient, marker: bytes, *, also: Iterable[bytes] = ()
) -> list[stompio.MessageEvent[Any]]:
    """Messages up to the one whose body is ``marker``, which is left out.

    With ``also``, the collecting goes on until each of those bodies came too, before or after
    the marker: what a broker puts back into a queue on its own time may overtake it or not.
    """
    wanted = Counter([marker, *also])

    def enough(got: list[AsyncListenEvent]) -> bool:
        return not wanted - Counter(bodies(messages(got)))

    received = messages(await take(client, enough))
    return [message for message in received if message.body != marker]


def messages(events: Iterable[object]) -> list[stompio.MessageEvent[Any]]:
    """The messages among ``events``, in order."""
    return [event for event in events if isinstance(event, stompio.MessageEvent)]


def bodies(received: Iterable[stompio.MessageEvent[Any]]) -> list[bytes]:
    """The bodies of ``received``, in order."""
    return [message.body for message in received]


async def idle(client: stompio.AsyncClient, seconds: float) -> int:
    """Stay in ``listen()`` for ``seconds`` without sending; return the heart-beats seen.

    Anything but a heart-beat fails the test: nothing else was asked for.
    """
    deadline = monotonic() + seconds
    heartbeats = 0
    async for event in client.listen():
        assert isinstance(event, stompio.HeartbeatEvent), event
        heartbeats += 1
        if monotonic() >= deadline:
            return heartbeats
    pytest.fail("listen() ended while the client was idle")
