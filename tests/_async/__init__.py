# Source of truth: scripts/unasync.py generates tests/_sync/__init__.py from this file.
"""The client suite, written once for both faces, and the helpers its modules share."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

import stompio
from tests.stomp_server import client_options

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from stompio._events import AsyncListenEvent
    from stompio._protocol import AckMode
    from tests.stomp_server import StompTestServer

SettleResultT = TypeVar("SettleResultT")


async def next_event(client: stompio.AsyncClient) -> AsyncListenEvent:
    """Return the next event of ``client.listen()`` that is not a heart-beat."""
    async for event in client.listen():
        if not isinstance(event, stompio.HeartbeatEvent):
            return event
    msg = "listen() ended without an event"
    raise AssertionError(msg)


async def lost_cause(client: stompio.AsyncClient) -> BaseException | None:
    """Take the next event, which must fail with ``ConnectionLostError``; return its cause."""
    with pytest.raises(stompio.ConnectionLostError) as caught:
        await next_event(client)
    return caught.value.__cause__


async def next_message(
    events: AsyncIterator[
        stompio.MessageEvent[SettleResultT]
        | stompio.ErrorEvent
        | stompio.HeartbeatEvent
        | stompio.ReceiptEvent
    ],
) -> stompio.MessageEvent[SettleResultT]:
    """Return the next event of ``events`` (a ``listen()``) that is not a heart-beat: a message."""
    async for event in events:
        if isinstance(event, stompio.HeartbeatEvent):
            continue
        assert isinstance(event, stompio.MessageEvent), event
        return event
    msg = "listen() ended without a message"
    raise AssertionError(msg)


@asynccontextmanager
async def subscribed(
    server: StompTestServer, ack: AckMode = "auto", **options: Any
) -> AsyncIterator[stompio.AsyncClient]:
    """Yield a client of ``server`` subscribed to ``/queue/a`` with ``ack``.

    The client is made with ``client_options(server, **options)``.
    """
    async with (
        stompio.AsyncClient(**client_options(server, **options)) as client,
        client.subscribe("/queue/a", ack=ack),
    ):
        yield client


@asynccontextmanager
async def after_first_message(
    server: StompTestServer, first: bytes = b"first", **options: Any
) -> AsyncIterator[stompio.AsyncClient]:
    """Yield a client subscribed to ``/queue/a`` (auto acks) that took the message ``first``.

    The client is made with ``client_options(server, **options)``.
    """
    async with subscribed(server, **options) as client:
        assert (await next_message(client.listen())).body == first
        yield client
