# Source of truth: scripts/unasync.py generates tests/_sync/test_errors.py from this file.
"""ERROR frames, broken bytes and lost connections in the middle of a session."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

import stompio
from stompio._frames import ConnectFrame, SendFrame, SubscribeFrame
from stompio._protocol import Session
from tests._async import lost_cause, next_event, subscribed
from tests.stomp_server import (
    ServerConnection,
    StompTestServer,
    accept_connect,
    client_options,
    deliver_first,
    message_frame,
)

if TYPE_CHECKING:
    from collections.abc import Callable

# ActiveMQ's ERROR for an unknown command, with the escaped colon it writes (ER-05).
UNKNOWN_ACTION = (
    b"ERROR\ncontent-type:text/plain\nmessage:Unknown STOMP action\\c FOO\n\n"
    b"org.apache.activemq.transport.stomp.ProtocolException: Unknown STOMP action: FOO\n"
    b"\tat org.apache.activemq.transport.stomp.ProtocolConverter\n\x00\n"
)


def after_subscribe(reply: bytes) -> Callable[[ServerConnection], None]:
    """A script: accept, take the SUBSCRIBE, send ``reply`` and keep the socket open."""

    def script(conn: ServerConnection) -> None:
        accept_connect(conn)
        subscription = conn.expect(SubscribeFrame).headers["id"]
        conn.send(reply.replace(b"{sub}", subscription.encode()))
        # Brokers often leave the socket open after ERROR: the client must close it.
        conn.wait_closed()

    return script


@pytest.mark.anyio
async def test_er01_er05_error_is_an_event_then_the_connection_is_over() -> None:
    after = message_frame("{sub}", b"discarded")
    with StompTestServer(after_subscribe(UNKNOWN_ACTION + after)) as server:
        async with subscribed(server) as client:
            event = await next_event(client)
            assert isinstance(event, stompio.ErrorEvent)
            assert event.message_header == "Unknown STOMP action: FOO"
            assert event.body.startswith(b"org.apache.activemq")
            assert event.headers["content-type"] == "text/plain"
            cause = await lost_cause(client)
            assert isinstance(cause, stompio.ServerError)
            assert cause.message == "Unknown STOMP action: FOO"
            with pytest.raises(stompio.ConnectionLostError):
                await next_event(client)
            with pytest.raises(stompio.ConnectionLostError):
                await client.send(b"x", "/queue/a")
    # Nothing was written after the ERROR: no UNSUBSCRIBE, no DISCONNECT.
    assert [type(frame) for frame in server.connection().frames] == [ConnectFrame, SubscribeFrame]


@pytest.mark.anyio
async def test_er02_error_without_message_header_falls_back_to_the_body() -> None:
    with StompTestServer(after_subscribe(b"ERROR\n\nfirst line\nsecond line\x00")) as server:
        async with subscribed(server) as client:
            event = await next_event(client)
            assert isinstance(event, stompio.ErrorEvent)
            assert event.message_header == ""
            assert event.body == b"first line\nsecond line"
            cause = await lost_cause(client)
    assert isinstance(cause, stompio.ServerError)
    assert cause.message == "first line"


@pytest.mark.anyio
async def test_er01_er03_s04_error_naming_a_receipt_fails_that_call() -> None:
    def script(conn: ServerConnection) -> None:
        accept_connect(conn)
        receipt = conn.expect(SendFrame).headers["receipt"]
        conn.send(
            b"ERROR\nmessage:Invalid destination\nreceipt-id:" + receipt.encode() + b"\n\nno\x00"
        )
        conn.wait_closed()

    with StompTestServer(script) as server:
        async with stompio.AsyncClient(**client_options(server)) as client:
            with pytest.raises(stompio.ServerError) as caught:
                await client.send(b"x", "/queue/a/b", receipt=True)
            error = caught.value
            assert error.message == "Invalid destination"
            assert error.receipt_id == server.connection().frames[1].headers["receipt"]
            assert error.body == b"no"
            event = await next_event(client)
            assert isinstance(event, stompio.ErrorEvent)
            with pytest.raises(stompio.ConnectionLostError):
                await next_event(client)


@pytest.mark.anyio
async def test_f12_eof_in_the_middle_of_a_frame_is_a_lost_connection() -> None:
    def script(conn: ServerConnection) -> None:
        accept_connect(conn)
        subscription = conn.expect(SubscribeFrame).headers["id"]
        whole = message_frame(subscription, b"first")
        cut = message_frame(subscription, b"never whole")
        conn.send(whole + cut[:-5])
        conn.close()

    with StompTestServer(script) as server:
        async with subscribed(server) as client:
            event = await next_event(client)
            assert isinstance(event, stompio.MessageEvent)
            assert event.body == b"first"
            with pytest.raises(stompio.ConnectionLostError):
                await next_event(client)


@pytest.mark.anyio
async def test_er04_what_arrived_before_the_loss_is_still_delivered() -> None:
    def script(conn: ServerConnection) -> None:
        accept_connect(conn)
        subscription = conn.expect(SubscribeFrame).headers["id"]
        conn.expect(SendFrame)
        conn.send(message_frame(subscription, b"arrived in time"))
        conn.close()

    with StompTestServer(script) as server:
        async with subscribed(server) as client:
            # The loss is known before anyone listens: the message must not go with it.
            with pytest.raises(stompio.ConnectionLostError):
                await client.send(b"x", "/queue/a", receipt=True)
            event = await next_event(client)
            assert isinstance(event, stompio.MessageEvent)
            assert event.body == b"arrived in time"
            with pytest.raises(stompio.ConnectionLostError):
                await next_event(client)


@pytest.mark.anyio
async def test_bytes_that_are_not_stomp_end_the_connection() -> None:
    with StompTestServer(after_subscribe(b"RECEIPT\nreceipt-id:1\n\nbody!\x00")) as server:
        async with subscribed(server) as client:
            assert isinstance(await lost_cause(client), stompio.ProtocolError)
            with pytest.raises(stompio.ConnectionLostError):
                await client.send(b"x", "/queue/a")


@pytest.mark.anyio
async def test_l01_server_closing_during_a_large_send() -> None:
    def script(conn: ServerConnection) -> None:
        accept_connect(conn)
        # A little of the SEND is in: abort the connection while the client still writes.
        conn.wait_received(len(conn.received) + 64 * 1024)
        conn.reset()

    with StompTestServer(script) as server:
        async with stompio.AsyncClient(**client_options(server)) as client:
            with pytest.raises(stompio.ConnectionLostError):
                await client.send(b"x" * (64 * 1024 * 1024), "/queue/a")
            with pytest.raises(stompio.ConnectionLostError):
                await client.send(b"x", "/queue/a")


@pytest.mark.anyio
async def test_a_bug_in_the_read_path_ends_the_connection_as_lost(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Whoever reads, an unexpected exception fails every caller instead of hanging one."""

    def broken(self: Session, frame: object) -> bool:
        msg = "a bug"
        raise RuntimeError(msg)

    monkeypatch.setattr(Session, "on_message", broken)

    def script(conn: ServerConnection) -> None:
        deliver_first(conn)
        conn.wait_closed()  # the client gives up on the connection: no DISCONNECT

    with StompTestServer(script) as server:
        async with subscribed(server) as client:
            cause = await lost_cause(client)
            assert isinstance(cause, stompio.ConnectionLostError)
            assert isinstance(cause.__cause__, RuntimeError)
            with pytest.raises(stompio.ConnectionLostError):
                await client.send(b"x", "/queue/a")
