# Source of truth for tests/integration/_sync/test_acknowledgement.py (scripts/unasync.py).
"""ACK modes, NACK and prefetch against the real brokers, and how the two brokers differ."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.integration._async import bodies, client_for, receive, receive_until
from tests.integration.support import unique_name

if TYPE_CHECKING:
    import stompio
    from tests.integration.support import Broker

PREFETCH_HEADERS = {"rabbitmq": "prefetch-count", "activemq": "activemq.prefetchSize"}
DEAD_LETTER_QUEUE = "/queue/ActiveMQ.DLQ"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("mode", "redelivered"),
    [("client", [b"m3"]), ("client-individual", [b"m1", b"m3"])],
    ids=["client", "client-individual"],
)
async def test_ack_of_the_middle_message(
    broker: Broker, unique_queue: str, mode: stompio.AckMode, redelivered: list[bytes]
) -> None:
    """``client`` ACKs are cumulative, ``client-individual`` ones are not.

    Three messages arrive and only the second is acked, then the client leaves. What the
    broker puts back for the next client shows what the ACK settled: with ``client`` the first
    message went with the second, with ``client-individual`` it did not. Both brokers mark
    what they put back ``redelivered:true``.
    """
    async with client_for(broker) as client:
        for body in (b"m1", b"m2"):
            await client.send(body, unique_queue)
        await client.send(b"m3", unique_queue, receipt=True)
        async with client.subscribe(unique_queue, ack=mode) as subscription:
            received = await receive(client, 3)
            assert bodies(received) == [b"m1", b"m2", b"m3"]
            assert all(message.headers.get("ack") for message in received)
            assert subscription.ack == mode
            await received[1].ack()
            if mode == "client":
                # The client keeps the books the broker keeps: m1 is settled already.
                with pytest.raises(ValueError):
                    await received[0].ack()
    async with client_for(broker) as client, client.subscribe(unique_queue, ack="auto"):
        await client.send(b"marker", unique_queue)
        again = await receive_until(client, b"marker", also=redelivered)
    assert sorted(bodies(again)) == redelivered
    assert [message.headers.get("redelivered") for message in again] == ["true"] * len(again)


@pytest.mark.anyio
async def test_auto_ack(broker: Broker, unique_queue: str) -> None:
    """With ``ack:auto`` a MESSAGE has no ``ack`` header, cannot be acked, and is gone."""
    async with client_for(broker) as client:
        await client.send(b"one", unique_queue)
        await client.send(b"two", unique_queue, receipt=True)
        async with client.subscribe(unique_queue, ack="auto"):
            received = await receive(client, 2)
            with pytest.raises(ValueError):
                await received[0].ack()
    assert bodies(received) == [b"one", b"two"]
    assert [message.headers.get("ack") for message in received] == [None, None]
    async with client_for(broker) as client, client.subscribe(unique_queue, ack="auto"):
        await client.send(b"marker", unique_queue)
        assert await receive_until(client, b"marker") == []


@pytest.mark.anyio
@pytest.mark.parametrize("persistent", [False, True], ids=["non-persistent", "persistent"])
async def test_what_nack_does(broker: Broker, unique_queue: str, persistent: bool) -> None:
    """Pins what each broker does with a NACKed message; the two differ.

    RabbitMQ puts the message back at once, persistent or not: it comes again with
    ``redelivered:true`` and a new ack id, and acking that one settles it. ActiveMQ never
    requeues: its NACK is a poison ack, which sends a persistent message to ActiveMQ.DLQ
    (with ``original-destination`` naming where it came from) and discards any other.
    """
    headers = {"persistent": "true"} if persistent else {}
    if broker.name == "rabbitmq":
        await nack_on_rabbitmq(broker, unique_queue, headers)
    else:
        await nack_on_activemq(broker, unique_queue, headers)


async def nack_on_rabbitmq(broker: Broker, queue: str, headers: dict[str, str]) -> None:
    """NACK once, see the message come back, ack it, and see nothing more."""
    async with client_for(broker) as client:
        await client.send(b"rejected once", queue, headers=headers, receipt=True)
        async with client.subscribe(queue, headers={"prefetch-count": "1"}):
            [first] = await receive(client, 1)
            await first.nack()
            [second] = await receive(client, 1)
            await second.ack()
            await client.send(b"marker", queue)
            assert await receive_until(client, b"marker") == []
    assert (first.body, first.headers["redelivered"]) == (b"rejected once", "false")
    assert (second.body, second.headers["redelivered"]) == (b"rejected once", "true")
    assert second.headers["ack"] != first.headers["ack"]


async def nack_on_activemq(broker: Broker, queue: str, headers: dict[str, str]) -> None:
    """NACK, see nothing come back, and look for the message in the dead letter queue.

    The dead letter queue is shared, so it is read through a selector on a property only this
    test's messages carry, and absence is proved with a marker sent there after the NACK (the
    broker handles one connection's frames in order).
    """
    case = unique_name("nack").replace("-", "_")
    headers = {**headers, "stompio_case": case}
    async with client_for(broker) as client:
        await client.send(b"poison", queue, headers=headers, receipt=True)
        async with client.subscribe(queue, headers={"activemq.prefetchSize": "1"}):
            [message] = await receive(client, 1)
            await message.nack()
            await client.send(b"marker", queue)
            assert await receive_until(client, b"marker") == []
        # ActiveMQ keeps persistent and non-persistent messages of a queue in separate cursors
        # and does not order them against each other: the marker has the message's persistence.
        await client.send(b"dlq-marker", DEAD_LETTER_QUEUE, headers=headers)
        selector = {"selector": f"stompio_case = '{case}'"}
        async with client.subscribe(DEAD_LETTER_QUEUE, ack="auto", headers=selector):
            dead = await receive_until(client, b"dlq-marker")
    if "persistent" in headers:
        [letter] = dead
        assert letter.body == b"poison"
        assert letter.headers["original-destination"] == queue
    else:
        assert dead == []


@pytest.mark.anyio
async def test_prefetch_of_one_holds_back_the_next_message(
    broker: Broker, unique_queue: str
) -> None:
    """The broker's own prefetch header set to 1 leaves one unacked MESSAGE in flight.

    Pins the header names: ``prefetch-count`` on RabbitMQ, ``activemq.prefetchSize`` on
    ActiveMQ. A marker sent to another queue after the first message came arrives before the
    second message, which the broker sends only once the first is acked.
    """
    side_queue = f"{unique_queue}-side"
    prefetch = {PREFETCH_HEADERS[broker.name]: "1"}
    async with client_for(broker) as client:
        await client.send(b"first", unique_queue)
        await client.send(b"second", unique_queue, receipt=True)
        async with (
            client.subscribe(unique_queue, headers=prefetch),
            client.subscribe(side_queue, ack="auto"),
        ):
            [first] = await receive(client, 1)
            await client.send(b"marker", side_queue)
            assert await receive_until(client, b"marker") == []
            await first.ack()
            [second] = await receive(client, 1)
            await second.ack()
    assert (first.body, second.body) == (b"first", b"second")


@pytest.mark.anyio
async def test_prefetch_header_of_the_other_broker_is_ignored(
    broker: Broker, unique_queue: str
) -> None:
    """ActiveMQ ignores ``prefetch-count`` and RabbitMQ ``activemq.prefetchSize``.

    With the other broker's header set to 1, both messages arrive although none is acked.
    """
    [foreign] = set(PREFETCH_HEADERS.values()) - {PREFETCH_HEADERS[broker.name]}
    async with client_for(broker) as client:
        await client.send(b"first", unique_queue)
        await client.send(b"second", unique_queue, receipt=True)
        async with client.subscribe(unique_queue, headers={foreign: "1"}):
            received = await receive(client, 2)
            for message in received:
                await message.ack()
    assert bodies(received) == [b"first", b"second"]
