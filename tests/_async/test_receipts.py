# Source of truth: scripts/unasync.py generates tests/_sync/test_receipts.py from this file.
"""RECEIPT: correlated by id, in any order; unknown and duplicate ids ignored."""

from __future__ import annotations

import pytest

import stompio
from stompio import _turns
from stompio._backends._anyio import AsyncEvent, AsyncTaskGroup, async_checkpoint
from stompio._frames import SendFrame, SubscribeFrame
from tests._async import after_first_message, next_event, subscribed
from tests.stomp_server import (
    ServerConnection,
    StompTestServer,
    accept_connect,
    client_options,
    deliver_first,
    message_frame,
    receipt_frame,
    serve_until_disconnect,
)


@pytest.mark.anyio
async def test_r03_receipts_out_of_order_resolve_by_id() -> None:
    def script(conn: ServerConnection) -> None:
        accept_connect(conn)
        named = conn.expect(SendFrame)
        awaited = conn.expect(SendFrame)
        # RabbitMQ confirms a SEND late: the later frame's RECEIPT comes first.
        conn.send(receipt_frame(awaited.headers["receipt"]))
        conn.send(receipt_frame(named.headers["receipt"]))
        serve_until_disconnect(conn)

    with StompTestServer(script) as server:
        async with stompio.AsyncClient(**client_options(server)) as client:
            await client.send(b"1", "/queue/a", receipt="r1")
            await client.send(b"2", "/queue/a", receipt=True)
            assert await next_event(client) == stompio.ReceiptEvent("r1")


@pytest.mark.anyio
async def test_r02_unknown_and_duplicate_receipts_are_ignored() -> None:
    def script(conn: ServerConnection) -> None:
        accept_connect(conn)
        subscription = conn.expect(SubscribeFrame).headers["id"]
        conn.expect(SendFrame)
        conn.send(
            receipt_frame("nobody-asked")
            + receipt_frame("r1")
            + receipt_frame("r1")
            + message_frame(subscription, b"end")
        )
        serve_until_disconnect(conn)

    with StompTestServer(script) as server:
        async with subscribed(server) as client:
            await client.send(b"1", "/queue/a", receipt="r1")
            assert await next_event(client) == stompio.ReceiptEvent("r1")
            event = await next_event(client)
            assert isinstance(event, stompio.MessageEvent)
            assert event.body == b"end"


@pytest.mark.anyio
async def test_h03_a_message_carrying_receipt_is_not_a_receipt() -> None:
    def script(conn: ServerConnection) -> None:
        accept_connect(conn)
        subscription = conn.expect(SubscribeFrame).headers["id"]
        for _ in range(2):
            receipt = conn.expect(SendFrame).headers["receipt"]
            # RabbitMQ copies the SEND's receipt header into the MESSAGE it delivers.
            conn.send(message_frame(subscription, b"echo", headers={"receipt": receipt}))
        conn.send(receipt_frame("named"))
        serve_until_disconnect(conn)

    with StompTestServer(script) as server:
        options = client_options(server, receipt_timeout=0.3)
        async with (
            stompio.AsyncClient(**options) as client,
            client.subscribe("/queue/a", ack="auto"),
        ):
            await client.send(b"1", "/queue/a", receipt="named")
            with pytest.raises(stompio.ReceiptTimeoutError):
                await client.send(b"2", "/queue/a", receipt=True)
            first = await next_event(client)
            assert isinstance(first, stompio.MessageEvent)
            assert first.headers["receipt"] == "named"
            second = await next_event(client)
            assert isinstance(second, stompio.MessageEvent)
            assert await next_event(client) == stompio.ReceiptEvent("named")


@pytest.mark.anyio
async def test_r01_receipt_without_id_ends_the_connection() -> None:
    def script(conn: ServerConnection) -> None:
        accept_connect(conn)
        conn.expect(SendFrame)
        conn.send(b"RECEIPT\n\n\x00")
        conn.wait_closed()

    with StompTestServer(script) as server:
        async with stompio.AsyncClient(**client_options(server)) as client:
            with pytest.raises(stompio.ConnectionLostError) as caught:
                await client.send(b"x", "/queue/a", receipt=True)
            assert isinstance(caught.value.__cause__, stompio.ProtocolError)
            with pytest.raises(stompio.ConnectionLostError):
                await next_event(client)


@pytest.mark.anyio
async def test_r04_er04_a_lost_connection_fails_the_pending_receipt() -> None:
    def script(conn: ServerConnection) -> None:
        accept_connect(conn)
        conn.expect(SendFrame)
        conn.close()

    with StompTestServer(script) as server:
        async with stompio.AsyncClient(**client_options(server)) as client:
            with pytest.raises(stompio.ConnectionLostError):
                await client.send(b"x", "/queue/a", receipt=True)
            with pytest.raises(stompio.ConnectionLostError):
                await next_event(client)
            with pytest.raises(stompio.ConnectionLostError):
                await client.send(b"y", "/queue/a")


@pytest.mark.anyio
async def test_a_receipt_right_after_listening_is_read_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The background reader leaves the socket to a recent listener, but not a receipt."""
    # Long enough that a receipt left to the listener's grace times out instead.
    monkeypatch.setattr(_turns, "LISTENER_GRACE", 3600.0)

    def script(conn: ServerConnection) -> None:
        deliver_first(conn)
        sent = conn.expect(SendFrame)
        conn.send(receipt_frame(sent.headers["receipt"]))
        serve_until_disconnect(conn)

    with StompTestServer(script) as server:
        # Without heart-beats, nothing else would wake the background reader.
        async with after_first_message(
            server, heartbeat=stompio.Heartbeat(0, 0), receipt_timeout=5
        ) as client:
            # The background reader settles in its pause first (threads get there anyway).
            await async_checkpoint()
            await client.send(b"reply", "/queue/b", receipt=True)


@pytest.mark.anyio
async def test_a_receipt_waiter_that_reads_brings_a_listener_its_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What a waiter reading for its RECEIPT brings along reaches a listener that waits."""
    # The background reader stays out of the way after the first message: a caller reads.
    monkeypatch.setattr(_turns, "LISTENER_GRACE", 3600.0)

    def script(conn: ServerConnection) -> None:
        subscription = deliver_first(conn)
        sent = conn.expect(SendFrame)
        conn.send(message_frame(subscription, b"second") + receipt_frame(sent.headers["receipt"]))
        serve_until_disconnect(conn)

    received: list[bytes] = []
    listened = AsyncEvent()

    async def listen_once(client: stompio.AsyncClient) -> None:
        event = await next_event(client)
        assert isinstance(event, stompio.MessageEvent)
        received.append(event.body)
        listened.set()

    with StompTestServer(script) as server:
        async with (
            after_first_message(
                server, heartbeat=stompio.Heartbeat(0, 0), receipt_timeout=5
            ) as client,
            AsyncTaskGroup() as group,
        ):
            group.start_soon(lambda: listen_once(client), "listener")
            await client.send(b"reply", "/queue/b", receipt=True)
            # Leaving the group would cancel the listener: wait for its message first.
            assert await listened.wait(5)
    assert received == [b"second"]


@pytest.mark.anyio
async def test_a_receipt_waiter_that_reads_still_times_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_turns, "LISTENER_GRACE", 3600.0)

    def script(conn: ServerConnection) -> None:
        deliver_first(conn)
        conn.expect(SendFrame)  # and no RECEIPT for it
        serve_until_disconnect(conn)

    with StompTestServer(script) as server:
        async with after_first_message(
            server, heartbeat=stompio.Heartbeat(0, 0), receipt_timeout=0.3
        ) as client:
            with pytest.raises(stompio.ReceiptTimeoutError):
                await client.send(b"reply", "/queue/b", receipt=True)
