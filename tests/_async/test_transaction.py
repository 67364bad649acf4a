# Source of truth: scripts/unasync.py generates tests/_sync/test_transaction.py from this file.
"""BEGIN / COMMIT / ABORT: bytes, ids, and what leaving the block does."""

from __future__ import annotations

import pytest

import stompio
from stompio._frames import (
    AbortFrame,
    AckFrame,
    BeginFrame,
    CommitFrame,
    ConnectFrame,
    DisconnectFrame,
    SendFrame,
    SubscribeFrame,
)
from tests._async import next_message, subscribed
from tests.stomp_server import (
    Broker,
    ServerConnection,
    StompTestServer,
    accept_connect,
    client_options,
    message_frame,
    serve,
    serve_until_disconnect,
)


class Rollback(Exception):  # noqa: N818 (what the test body does, not an error)
    def __init__(self, transaction: stompio.Transaction) -> None:
        super().__init__(transaction)
        self.transaction = transaction


async def send_then_raise(client: stompio.AsyncClient, body: bytes) -> None:
    """Send ``body`` in a transaction, then raise :class:`Rollback` out of its block."""
    async with client.enter_transaction() as transaction:
        await client.send(body, "/queue/a", transaction=transaction)
        raise Rollback(transaction)


@pytest.mark.anyio
async def test_t01_t02_begin_send_commit_bytes() -> None:
    with StompTestServer(serve) as server:
        async with stompio.AsyncClient(**client_options(server)) as client:
            async with client.enter_transaction() as first:
                await client.send(b"x", "/queue/a", transaction=first)
            async with client.enter_transaction() as second:
                pass
    assert first.id != second.id
    frames = server.connection().frames
    assert frames[1] == BeginFrame({"transaction": first.id})
    assert isinstance(frames[2], SendFrame)
    assert frames[2].headers["transaction"] == first.id
    commit = frames[3]
    assert isinstance(commit, CommitFrame)
    assert commit.headers["transaction"] == first.id
    # The COMMIT waits for its receipt: leaving the block means it is done.
    assert "receipt" in commit.headers
    assert [type(frame) for frame in frames[4:]] == [BeginFrame, CommitFrame, DisconnectFrame]


@pytest.mark.anyio
async def test_t03_an_exception_aborts_and_propagates() -> None:
    with StompTestServer(serve) as server:
        async with stompio.AsyncClient(**client_options(server)) as client:
            with pytest.raises(Rollback) as caught:
                await send_then_raise(client, b"x")
            transaction = caught.value.transaction
            # The transaction is over: it cannot be used again.
            with pytest.raises(ValueError, match=transaction.id):
                await client.send(b"y", "/queue/a", transaction=transaction)
    assert [type(frame) for frame in server.connection().frames] == [
        ConnectFrame,
        BeginFrame,
        SendFrame,
        AbortFrame,
        DisconnectFrame,
    ]
    assert server.connection().frames[3].headers["transaction"] == transaction.id


@pytest.mark.anyio
async def test_t02_a_committed_transaction_is_closed() -> None:
    with StompTestServer(serve) as server:
        async with stompio.AsyncClient(**client_options(server)) as client:
            async with client.enter_transaction() as transaction:
                pass
            with pytest.raises(ValueError, match=transaction.id):
                await client.send(b"y", "/queue/a", transaction=transaction)
    assert SendFrame not in [type(frame) for frame in server.connection().frames]


@pytest.mark.anyio
async def test_a_send_in_a_transaction_cannot_wait_for_its_receipt() -> None:
    with StompTestServer(serve) as server:
        async with (
            stompio.AsyncClient(**client_options(server)) as client,
            client.enter_transaction() as transaction,
        ):
            with pytest.raises(ValueError, match="receipt"):
                await client.send(b"x", "/queue/a", transaction=transaction, receipt=True)
    assert SendFrame not in [type(frame) for frame in server.connection().frames]


@pytest.mark.anyio
async def test_t02_commit_without_receipt_times_out() -> None:
    def script(conn: ServerConnection) -> None:
        accept_connect(conn)
        conn.expect(BeginFrame)
        conn.expect(CommitFrame)
        serve_until_disconnect(conn)

    with StompTestServer(script) as server:
        async with stompio.AsyncClient(**client_options(server, receipt_timeout=0.2)) as client:
            with pytest.raises(stompio.ReceiptTimeoutError):
                async with client.enter_transaction():
                    pass


@pytest.mark.anyio
async def test_t03_a_connection_lost_inside_the_block_propagates() -> None:
    def script(conn: ServerConnection) -> None:
        accept_connect(conn)
        conn.expect(BeginFrame)
        conn.close()

    async def listen_in_a_transaction(client: stompio.AsyncClient) -> None:
        async with client.enter_transaction():
            await next_message(client.listen())

    with StompTestServer(script) as server:
        async with stompio.AsyncClient(**client_options(server)) as client:
            with pytest.raises(stompio.ConnectionLostError):
                await listen_in_a_transaction(client)
    # The server aborts what a lost connection left open; nothing more can be written.
    assert [type(frame) for frame in server.connection().frames] == [ConnectFrame, BeginFrame]


def one_message(conn: ServerConnection) -> None:
    """A script: after SUBSCRIBE, one message with ack id ``a-1``, then serve."""
    accept_connect(conn)
    subscription = conn.expect(SubscribeFrame).headers["id"]
    conn.send(message_frame(subscription, b"m", headers={"ack": "a-1"}))
    serve_until_disconnect(conn)


@pytest.mark.anyio
async def test_a03_ack_inside_a_transaction() -> None:
    with StompTestServer(one_message) as server:
        async with subscribed(server, ack="client-individual") as client:
            event = await next_message(client.listen())
            async with client.enter_transaction() as transaction:
                await event.ack(transaction=transaction)
    acks = [frame for frame in server.connection().frames if isinstance(frame, AckFrame)]
    assert acks == [AckFrame({"id": "a-1", "transaction": transaction.id})]
    assert f"ACK\nid:a-1\ntransaction:{transaction.id}\n\n\x00".encode() in (
        server.connection().received
    )


@pytest.mark.anyio
async def test_a03_ack_with_a_closed_transaction_is_refused() -> None:
    with StompTestServer(one_message) as server:
        async with subscribed(server, ack="client-individual") as client:
            event = await next_message(client.listen())
            async with client.enter_transaction() as transaction:
                pass
            with pytest.raises(ValueError, match=transaction.id):
                await event.ack(transaction=transaction)
            # Still unsettled: a plain ack goes through.
            await event.ack()
    acks = [frame for frame in server.connection().frames if isinstance(frame, AckFrame)]
    assert acks == [AckFrame({"id": "a-1"})]


@pytest.mark.anyio
async def test_transactional_sends_reach_subscribers_on_commit_only() -> None:
    broker = Broker()
    with StompTestServer(broker) as server:
        async with subscribed(server) as client:
            with pytest.raises(Rollback):
                await send_then_raise(client, b"dropped")
            async with client.enter_transaction() as committed:
                await client.send(b"kept", "/queue/a", transaction=committed)
            assert (await next_message(client.listen())).body == b"kept"
    assert [send.body for send in broker.sent] == [b"kept"]
