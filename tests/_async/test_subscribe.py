# Source of truth: scripts/unasync.py generates tests/_sync/test_subscribe.py from this file.
"""SUBSCRIBE, UNSUBSCRIBE, MESSAGE delivery, and ACK/NACK on the wire."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

import stompio
from stompio._frames import (
    AckFrame,
    ConnectFrame,
    DisconnectFrame,
    NackFrame,
    SendFrame,
    SubscribeFrame,
    UnsubscribeFrame,
)
from tests._async import lost_cause, next_message, subscribed
from tests.stomp_server import (
    Broker,
    ServerConnection,
    StompTestServer,
    accept_connect,
    client_options,
    message_frame,
    message_frames,
    receipt_frame,
    serve,
    serve_until_disconnect,
)

if TYPE_CHECKING:
    from collections.abc import Callable

# A MESSAGE exactly as ActiveMQ 5.17.2 sent it, but for subscription {sub}.
ACTIVEMQ_MESSAGE = (
    b"MESSAGE\nexpires:0\ndestination:/queue/nack-390783\n"
    b"ack:ID\\cvm-43895-1795719824852-4\\c2\nsubscription:{sub}\npriority:4\n"
    b"message-id:ID\\cvm-43895-1795719824852-3\\c8\\c-1\\c1\\c1\ntimestamp:1795719878287\n"
    b"\nm-390783\x00\n"
)


def deliver(count: int, *, ack: bool = True) -> Callable[[ServerConnection], None]:
    """A script: after SUBSCRIBE, send ``count`` messages (with ack ids), then serve."""

    def script(conn: ServerConnection) -> None:
        accept_connect(conn)
        subscription = conn.expect(SubscribeFrame).headers["id"]
        for number in range(1, count + 1):
            headers = {"ack": f"a-{number}"} if ack else {}
            conn.send(
                message_frame(
                    subscription, f"m{number}".encode(), message_id=str(number), headers=headers
                )
            )
        serve_until_disconnect(conn)

    return script


def settles(server: StompTestServer) -> list[AckFrame | NackFrame]:
    return [
        frame for frame in server.connection().frames if isinstance(frame, (AckFrame, NackFrame))
    ]


@pytest.mark.anyio
async def test_sub01_sub06_subscribe_and_unsubscribe_bytes() -> None:
    with StompTestServer(serve) as server:
        async with (
            stompio.AsyncClient(**client_options(server)) as client,
            client.subscribe("/queue/a", ack="client") as first,
            client.subscribe("/queue/b") as second,
        ):
            assert first.id != second.id
            assert (first.destination, first.ack) == ("/queue/a", "client")
            assert second.ack == "client-individual"
    frames = server.connection().frames
    assert frames[1:5] == [
        SubscribeFrame({"destination": "/queue/a", "id": first.id, "ack": "client"}),
        SubscribeFrame({"destination": "/queue/b", "id": second.id, "ack": "client-individual"}),
        UnsubscribeFrame({"id": second.id}),
        UnsubscribeFrame({"id": first.id}),
    ]
    assert isinstance(frames[5], DisconnectFrame)


@pytest.mark.anyio
async def test_sub_headers_pass_through() -> None:
    with StompTestServer(serve) as server:
        async with (
            stompio.AsyncClient(**client_options(server)) as client,
            client.subscribe("/queue/a", headers={"prefetch-count": "1"}),
        ):
            pass
    assert server.connection().frames[1].headers["prefetch-count"] == "1"


def subscribe_mistakes() -> list[tuple[dict[str, Any], type[Exception]]]:
    return [
        ({"ack": "client_individual"}, ValueError),  # SUB-02
        ({"ack": "AUTO"}, ValueError),
        ({"destination": ""}, ValueError),
        ({"headers": {"id": "mine"}}, ValueError),
        ({"headers": {"ack": "auto"}}, ValueError),
        ({"headers": {"destination": "/queue/b"}}, ValueError),
        ({"headers": {"k": 1}}, TypeError),
    ]


@pytest.mark.anyio
@pytest.mark.parametrize(("mistake", "error"), subscribe_mistakes())
async def test_subscribe_mistakes_raise_before_anything_is_sent(
    mistake: dict[str, Any], error: type[Exception]
) -> None:
    arguments: dict[str, Any] = {"destination": "/queue/a", **mistake}
    with StompTestServer(serve) as server:
        async with stompio.AsyncClient(**client_options(server)) as client:
            with pytest.raises(error):
                async with client.subscribe(**arguments):
                    pass
    assert [type(frame) for frame in server.connection().frames] == [
        ConnectFrame,
        DisconnectFrame,
    ]


@pytest.mark.anyio
async def test_a01_ack_echoes_the_ack_header_re_escaped() -> None:
    def script(conn: ServerConnection) -> None:
        accept_connect(conn)
        subscription = conn.expect(SubscribeFrame).headers["id"]
        conn.send(ACTIVEMQ_MESSAGE.replace(b"{sub}", subscription.encode()))
        serve_until_disconnect(conn)

    with StompTestServer(script) as server:
        async with (
            stompio.AsyncClient(**client_options(server)) as client,
            client.subscribe("/queue/nack-390783"),
        ):
            event = await next_message(client.listen())
            assert event.message_id == "ID:vm-43895-1795719824852-3:8:-1:1:1"
            assert event.headers["ack"] == "ID:vm-43895-1795719824852-4:2"
            assert event.body == b"m-390783"
            await event.ack()
    assert b"ACK\nid:ID\\cvm-43895-1795719824852-4\\c2\n\n\x00" in server.connection().received


@pytest.mark.anyio
async def test_a04_nack_bytes() -> None:
    with StompTestServer(deliver(1)) as server:
        async with subscribed(server, ack="client-individual") as client:
            await (await next_message(client.listen())).nack()
    assert b"NACK\nid:a-1\n\n\x00" in server.connection().received


@pytest.mark.anyio
async def test_a02_an_auto_message_cannot_be_acked() -> None:
    with StompTestServer(deliver(1, ack=False)) as server:
        async with subscribed(server) as client:
            event = await next_message(client.listen())
            with pytest.raises(ValueError, match="cannot be settled"):
                await event.ack()
            with pytest.raises(ValueError, match="cannot be settled"):
                await event.nack()
    assert settles(server) == []


@pytest.mark.anyio
async def test_a02_a_client_message_without_ack_header_is_a_protocol_error() -> None:
    def script(conn: ServerConnection) -> None:
        accept_connect(conn)
        subscription = conn.expect(SubscribeFrame).headers["id"]
        conn.send(message_frame(subscription, b"no ack header"))
        conn.wait_closed()

    with StompTestServer(script) as server:
        async with subscribed(server, ack="client") as client:
            assert isinstance(await lost_cause(client), stompio.ProtocolError)


@pytest.mark.anyio
async def test_sub03_client_acks_are_cumulative() -> None:
    with StompTestServer(deliver(3)) as server:
        async with subscribed(server, ack="client") as client:
            events = [await next_message(client.listen()) for _ in range(3)]
            await events[2].ack()
            for earlier in events[:2]:
                with pytest.raises(ValueError, match="cannot be settled"):
                    await earlier.ack()
                with pytest.raises(ValueError, match="cannot be settled"):
                    await earlier.nack()
    assert settles(server) == [AckFrame({"id": "a-3"})]


@pytest.mark.anyio
async def test_sub03_a_cumulative_ack_leaves_later_messages_pending() -> None:
    with StompTestServer(deliver(3)) as server:
        async with subscribed(server, ack="client") as client:
            events = [await next_message(client.listen()) for _ in range(3)]
            await events[1].ack()
            with pytest.raises(ValueError, match="cannot be settled"):
                await events[0].ack()
            await events[2].nack()
    assert settles(server) == [AckFrame({"id": "a-2"}), NackFrame({"id": "a-3"})]


@pytest.mark.anyio
async def test_sub04_client_individual_acks_are_not_cumulative() -> None:
    with StompTestServer(deliver(3)) as server:
        async with subscribed(server, ack="client-individual") as client:
            first, second, third = [await next_message(client.listen()) for _ in range(3)]
            await second.ack()
            await first.nack()
            await third.ack()
            with pytest.raises(ValueError, match="cannot be settled"):
                await second.ack()
    assert settles(server) == [
        AckFrame({"id": "a-2"}),
        NackFrame({"id": "a-1"}),
        AckFrame({"id": "a-3"}),
    ]


@pytest.mark.anyio
async def test_sub05_a_message_for_an_unknown_subscription_is_dropped() -> None:
    def script(conn: ServerConnection) -> None:
        accept_connect(conn)
        subscription = conn.expect(SubscribeFrame).headers["id"]
        conn.send(message_frame("/temp-queue/foo", b"unsolicited"))
        conn.send(message_frame(subscription, b"mine"))
        serve_until_disconnect(conn)

    with StompTestServer(script) as server:
        async with subscribed(server) as client:
            assert (await next_message(client.listen())).body == b"mine"


@pytest.mark.anyio
async def test_sub07_messages_after_unsubscribe_are_not_delivered() -> None:
    def script(conn: ServerConnection) -> None:
        accept_connect(conn)
        kept = conn.expect(SubscribeFrame).headers["id"]
        gone = conn.expect(SubscribeFrame).headers["id"]
        conn.expect(UnsubscribeFrame)
        # In flight before the broker saw the UNSUBSCRIBE.
        conn.send(message_frame(gone, b"late", headers={"ack": "late-1"}))
        conn.send(message_frame(kept, b"kept", headers={"ack": "kept-1"}))
        serve_until_disconnect(conn)

    with StompTestServer(script) as server:
        async with subscribed(server, ack="client-individual") as client:
            async with client.subscribe("/queue/b"):
                pass
            event = await next_message(client.listen())
            assert event.body == b"kept"
            await event.ack()
    assert settles(server) == [AckFrame({"id": "kept-1"})]


@pytest.mark.anyio
async def test_sub07_a_message_of_a_closed_subscription_cannot_be_acked() -> None:
    with StompTestServer(deliver(1)) as server:
        async with stompio.AsyncClient(**client_options(server)) as client:
            async with client.subscribe("/queue/a"):
                event = await next_message(client.listen())
            with pytest.raises(ValueError, match="cannot be settled"):
                await event.ack()
    assert settles(server) == []


@pytest.mark.anyio
async def test_sub08_subscribe_with_receipt_waits_for_it() -> None:
    def script(conn: ServerConnection) -> None:
        accept_connect(conn)
        subscribe = conn.expect(SubscribeFrame)
        conn.send(
            message_frame(subscribe.headers["id"], b"before", headers={"ack": "1"})
            + receipt_frame(subscribe.headers["receipt"])
        )
        serve_until_disconnect(conn)

    with StompTestServer(script) as server:
        async with (
            stompio.AsyncClient(**client_options(server)) as client,
            client.subscribe("/queue/a", receipt=True),
        ):
            assert (await next_message(client.listen())).body == b"before"
    assert "receipt" in server.connection().frames[1].headers


@pytest.mark.anyio
async def test_sub08_subscribe_refused_with_an_error_naming_its_receipt() -> None:
    def script(conn: ServerConnection) -> None:
        accept_connect(conn)
        receipt = conn.expect(SubscribeFrame).headers["receipt"]
        conn.send(b"ERROR\nmessage:Access refused\nreceipt-id:" + receipt.encode() + b"\n\n\x00")
        conn.wait_closed()

    with StompTestServer(script) as server:
        async with stompio.AsyncClient(**client_options(server)) as client:
            with pytest.raises(stompio.ServerError, match="Access refused"):
                async with client.subscribe("/queue/a", receipt=True):
                    pass


@pytest.mark.anyio
async def test_sub08_subscribe_receipt_timeout() -> None:
    def script(conn: ServerConnection) -> None:
        accept_connect(conn)
        conn.expect(SubscribeFrame)
        serve_until_disconnect(conn)

    with StompTestServer(script) as server:
        async with stompio.AsyncClient(**client_options(server, receipt_timeout=0.2)) as client:
            with pytest.raises(stompio.ReceiptTimeoutError):
                async with client.subscribe("/queue/a", receipt=True):
                    pass


@pytest.mark.anyio
async def test_m02_m03_m04_message_headers_and_body_are_exposed_verbatim() -> None:
    def script(conn: ServerConnection) -> None:
        accept_connect(conn)
        subscription = conn.expect(SubscribeFrame).headers["id"]
        conn.send(
            b"MESSAGE\ndestination:/exchange/amq.topic/a%2Fb\nmessage-id:T_1@@session\n"
            b"subscription:" + subscription.encode() + b"\nredelivered:false\npersistent:true\n"
            b"x-pad:  padded  \ncontent-type:text/plain\nfoo:first\nfoo:second\n\nno-cl\x00\n"
        )
        serve_until_disconnect(conn)

    with StompTestServer(script) as server:
        async with (
            stompio.AsyncClient(**client_options(server)) as client,
            client.subscribe("/topic/a/b", ack="auto") as subscription,
        ):
            event = await next_message(client.listen())
    assert event.destination == "/exchange/amq.topic/a%2Fb"
    assert event.message_id == "T_1@@session"
    assert event.subscription == subscription.id
    assert event.content_type == "text/plain"
    assert event.body == b"no-cl"
    assert event.headers["redelivered"] == "false"
    assert event.headers["persistent"] == "true"
    assert event.headers["x-pad"] == "  padded  "
    assert event.headers["foo"] == "first"


@pytest.mark.anyio
async def test_m01_a_message_without_subscription_is_a_protocol_error() -> None:
    def script(conn: ServerConnection) -> None:
        accept_connect(conn)
        conn.expect(SubscribeFrame)
        conn.send(b"MESSAGE\ndestination:/queue/a\nmessage-id:1\n\nx\x00")
        conn.wait_closed()

    with StompTestServer(script) as server:
        async with subscribed(server, ack="client-individual") as client:
            assert isinstance(await lost_cause(client), stompio.ProtocolError)


@pytest.mark.anyio
async def test_an_ack_queued_behind_more_messages_leaves_before_the_next_frame() -> None:
    def script(conn: ServerConnection) -> None:
        accept_connect(conn)
        conn.send(message_frames(conn.expect(SubscribeFrame).headers["id"], range(1, 4)))
        serve_until_disconnect(conn)

    with StompTestServer(script) as server:
        async with subscribed(server, ack="client-individual") as client:
            event = await next_message(client.listen())
            # The other two are already in: this ACK may wait, but not past the next frame.
            await event.ack()
            await client.send(b"after", "/queue/b", receipt=True)
    frames = server.connection().frames
    ack = frames.index(AckFrame({"id": "a-1"}))
    assert isinstance(frames[ack + 1], SendFrame)


@pytest.mark.anyio
async def test_acks_queued_behind_more_messages_leave_before_listen_waits() -> None:
    def script(conn: ServerConnection) -> None:
        accept_connect(conn)
        subscription = conn.expect(SubscribeFrame).headers["id"]
        conn.send(message_frames(subscription, range(1, 4)))
        # The client acked m1 and m2 and now waits: they must arrive without anything else.
        assert [conn.expect(AckFrame).headers["id"] for _ in range(2)] == ["a-1", "a-2"]
        conn.send(message_frames(subscription, range(4, 5)))
        serve_until_disconnect(conn)

    with StompTestServer(script) as server:
        options = client_options(server, heartbeat=stompio.Heartbeat(0, 0))
        async with stompio.AsyncClient(**options) as client, client.subscribe("/queue/a"):
            events = client.listen()
            for _ in range(2):
                await (await next_message(events)).ack()
            assert (await next_message(events)).body == b"m3"
            assert (await next_message(events)).body == b"m4"


@pytest.mark.anyio
async def test_a05_a_message_of_an_earlier_connection_cannot_be_acked() -> None:
    def script(conn: ServerConnection) -> None:
        if conn.index == 0:
            deliver(1)(conn)
        else:
            serve(conn)

    with StompTestServer(script) as server:
        client = stompio.AsyncClient(**client_options(server))
        async with client, client.subscribe("/queue/a"):
            event = await next_message(client.listen())
        async with client:
            with pytest.raises(ValueError, match="cannot be settled"):
                await event.ack()
    assert settles(server) == []
    assert [type(frame) for frame in server.connection(1).frames] == [
        ConnectFrame,
        DisconnectFrame,
    ]


@pytest.mark.anyio
async def test_round_trip_through_the_broker() -> None:
    broker = Broker()
    with StompTestServer(broker) as server:
        async with subscribed(server, ack="client-individual") as client:
            await client.send("héllo", "/queue/a", headers={"x-k": "v"})
            await client.send(b"\x00\x01", "/queue/a", receipt=True)
            text = await next_message(client.listen())
            binary = await next_message(client.listen())
            await text.ack()
            await binary.nack()
            await client.send(b"sync", "/queue/other", receipt=True)
    assert text.body == "héllo".encode()
    assert text.content_type == "text/plain;charset=utf-8"
    assert text.headers["x-k"] == "v"
    assert binary.body == b"\x00\x01"
    assert broker.acks == [text.headers["ack"]]
    assert broker.nacks == [binary.headers["ack"]]
    assert [type(frame) for frame in server.connection().frames].count(SendFrame) == 3
