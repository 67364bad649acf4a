# Source of truth: scripts/unasync.py generates tests/_sync/test_disconnect.py from this file.
"""Leaving the client: DISCONNECT with a receipt, bounded waits, and nothing after it."""

from __future__ import annotations

import pytest

import stompio
from stompio._frames import ConnectFrame, DisconnectFrame, SendFrame
from tests._async import next_event
from tests.stomp_server import (
    ServerConnection,
    StompTestServer,
    accept_connect,
    client_options,
    receipt_frame,
    serve,
)


@pytest.mark.anyio
async def test_d01_disconnect_with_receipt_is_the_last_frame() -> None:
    with StompTestServer(serve) as server:
        async with stompio.AsyncClient(**client_options(server)):
            pass
    conn = server.connection()
    disconnect = conn.frames[-1]
    assert isinstance(disconnect, DisconnectFrame)
    receipt = disconnect.headers["receipt"]
    assert conn.received.endswith(f"DISCONNECT\nreceipt:{receipt}\n\n\x00".encode())


@pytest.mark.anyio
@pytest.mark.parametrize("ending", ["silence", "close", "reset", "receipt-then-reset"])
async def test_d02_l03_no_receipt_for_disconnect_is_no_error(ending: str) -> None:
    def script(conn: ServerConnection) -> None:
        accept_connect(conn)
        disconnect = conn.expect(DisconnectFrame)
        match ending:
            case "silence":
                conn.wait_closed()
            case "close":
                conn.close()
            case "reset":
                conn.reset()
            case _:
                conn.send(receipt_frame(disconnect.headers["receipt"]))
                conn.reset()

    with StompTestServer(script) as server:
        async with stompio.AsyncClient(**client_options(server, disconnect_timeout=0.3)):
            pass
    assert [type(frame) for frame in server.connection().frames] == [
        ConnectFrame,
        DisconnectFrame,
    ]


@pytest.mark.anyio
async def test_d03_only_the_disconnect_receipt_ends_the_wait() -> None:
    def script(conn: ServerConnection) -> None:
        accept_connect(conn)
        named = conn.expect(SendFrame).headers["receipt"]
        disconnect = conn.expect(DisconnectFrame)
        conn.send(receipt_frame(named))
        # Still waiting for its own receipt, the client must keep the connection open.
        assert not conn.closes_within(0.3), "an unrelated RECEIPT ended the DISCONNECT wait"
        conn.send(receipt_frame(disconnect.headers["receipt"]))
        conn.wait_closed()

    with StompTestServer(script) as server:
        async with stompio.AsyncClient(**client_options(server, disconnect_timeout=3)) as client:
            await client.send(b"x", "/queue/a", receipt="r-send")


@pytest.mark.anyio
async def test_d04_nothing_after_leaving() -> None:
    with StompTestServer(serve) as server:
        client = stompio.AsyncClient(**client_options(server))
        async with client:
            pass
        with pytest.raises(stompio.NotConnectedError):
            await client.send(b"x", "/queue/a")
        with pytest.raises(stompio.NotConnectedError):
            await next_event(client)
        with pytest.raises(stompio.NotConnectedError):
            async with client.subscribe("/queue/a"):
                pass
        with pytest.raises(stompio.NotConnectedError):
            async with client.enter_transaction():
                pass
    assert [type(frame) for frame in server.connection().frames] == [
        ConnectFrame,
        DisconnectFrame,
    ]


@pytest.mark.anyio
async def test_listening_ends_quietly_once_the_client_left() -> None:
    with StompTestServer(serve) as server:
        client = stompio.AsyncClient(**client_options(server))
        async with client:
            listener = client.listen()
        assert [event async for event in listener] == []
        # And so does every later round over the same listener.
        assert [event async for event in listener] == []


@pytest.mark.anyio
async def test_a_client_can_connect_again_after_leaving() -> None:
    with StompTestServer(serve) as server:
        client = stompio.AsyncClient(**client_options(server))
        async with client:
            await client.send(b"1", "/queue/a", receipt=True)
        async with client:
            await client.send(b"2", "/queue/a", receipt=True)
    assert len(server.connections) == 2
    assert [type(frame) for frame in server.connection(1).frames] == [
        ConnectFrame,
        SendFrame,
        DisconnectFrame,
    ]


@pytest.mark.anyio
async def test_a_client_cannot_be_entered_twice_at_once() -> None:
    with StompTestServer(serve) as server:
        client = stompio.AsyncClient(**client_options(server))
        async with client:
            with pytest.raises(RuntimeError):
                async with client:
                    pass
            await client.send(b"still fine", "/queue/a", receipt=True)
    assert len(server.connections) == 1


@pytest.mark.anyio
async def test_an_exception_in_the_block_still_disconnects() -> None:
    with StompTestServer(serve) as server, pytest.raises(KeyError):
        async with stompio.AsyncClient(**client_options(server)):
            raise KeyError
    assert isinstance(server.connection().frames[-1], DisconnectFrame)
