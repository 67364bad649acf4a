# Source of truth for tests/integration/_sync/test_errors.py (scripts/unasync.py).
"""ERROR frames from the real brokers: refused connections, refused frames, and the aftermath."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

import stompio
from tests.integration._async import client_for, receive, take
from tests.integration.support import server_of, unique_name

if TYPE_CHECKING:
    from tests.integration.support import Broker


@pytest.mark.anyio
async def test_bad_login_is_refused(broker: Broker) -> None:
    """A wrong passcode ends in ``FailedAllConnectAttemptsError`` with the ERROR as reason.

    RabbitMQ answers ``Bad CONNECT`` and leaves the socket open; ActiveMQ (with the
    authentication plugin the suite's broker runs) answers that the user name or password is
    invalid, then closes. The client closes the socket itself and does not retry: asking
    again gets the same answer.
    """
    client = stompio.AsyncClient(
        [server_of(broker, passcode="not-the-passcode")], connect_retry_attempts=3
    )
    with pytest.raises(stompio.FailedAllConnectAttemptsError) as caught:
        async with client:
            pytest.fail("connected with a wrong passcode")
    [(server, reason)] = caught.value.reasons
    assert server.port == broker.port
    assert isinstance(reason, stompio.ServerError)
    match broker.name:
        case "rabbitmq":
            assert reason.message == "Bad CONNECT"
            assert b"Access refused for user 'guest'" in reason.body
        case _:
            assert reason.message == "User name [guest] or password is invalid."


@pytest.mark.anyio
async def test_unknown_vhost(broker: Broker, unique_queue: str) -> None:
    """RabbitMQ refuses a CONNECT whose ``host`` names no virtual host; ActiveMQ ignores it."""
    vhost = unique_name("no-such-vhost")
    client = stompio.AsyncClient([server_of(broker, vhost=vhost)], connect_retry_attempts=1)
    if broker.name == "activemq":
        async with client:
            await client.send(b"vhost ignored", unique_queue, receipt=True)
        return
    with pytest.raises(stompio.FailedAllConnectAttemptsError) as caught:
        async with client:
            pytest.fail(f"connected to the missing vhost {vhost!r}")
    [(_, reason)] = caught.value.reasons
    assert isinstance(reason, stompio.ServerError)
    assert reason.message == "Bad CONNECT"
    assert f"Virtual host '{vhost}' access denied".encode() in reason.body


BAD_RABBITMQ_DESTINATIONS = {
    # An AMQP channel error: RabbitMQ sends ERROR and closes the connection.
    "missing-exchange": ("/exchange/{name}", "not_found"),
    # RabbitMQ sends ERROR but would carry on; the client ends the connection anyway.
    "slash-in-queue-name": ("/queue/{name}/b", "Invalid destination"),
}
BROKEN_SELECTOR = {"selector": "stompio_case = "}


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("template", "message"), BAD_RABBITMQ_DESTINATIONS.values(), ids=BAD_RABBITMQ_DESTINATIONS
)
async def test_destination_refused_by_rabbitmq(
    broker: Broker, unique_queue: str, template: str, message: str
) -> None:
    """RabbitMQ refuses these destinations with an ERROR; ActiveMQ has no such ERROR at all.

    Pins that RabbitMQ's ERROR never names the ``receipt-id`` of the failed SEND, so the client
    fails the waiting call on any ERROR; the connection is over after it. ActiveMQ confirms a
    SEND to any destination, these two included, and the connection carries on.
    """
    destination = template.format(name=unique_name("bad-destination"))
    async with client_for(broker) as client:
        if broker.name == "activemq":
            await client.send(b"accepted", destination, receipt=True)
            await client.send(b"still connected", unique_queue, receipt=True)
            return
        with pytest.raises(stompio.ServerError) as caught:
            await client.send(b"refused", destination, receipt=True)
        assert caught.value.message == message
        assert caught.value.receipt_id is None
        with pytest.raises(stompio.ConnectionLostError):
            await client.send(b"after the error", unique_queue)


@pytest.mark.anyio
async def test_error_names_the_failed_receipt_on_activemq(
    broker: Broker, unique_queue: str
) -> None:
    """ActiveMQ's ERROR carries the ``receipt-id`` of the frame it refused.

    A SUBSCRIBE with a selector that does not parse is refused by ActiveMQ, whose ERROR has the
    selector as ``message`` and a Java stack trace as body. RabbitMQ has no selectors, ignores
    the header and subscribes.
    """
    async with client_for(broker) as client:
        if broker.name == "rabbitmq":
            async with client.subscribe(unique_queue, headers=BROKEN_SELECTOR, receipt=True):
                await client.send(b"selector ignored", unique_queue)
                [message] = await receive(client, 1)
                await message.ack()
            return
        with pytest.raises(stompio.ServerError) as caught:
            async with client.subscribe(unique_queue, headers=BROKEN_SELECTOR, receipt=True):
                pytest.fail("ActiveMQ accepted a broken selector")
        assert caught.value.message == BROKEN_SELECTOR["selector"]
        assert caught.value.body.startswith(b"javax.jms.InvalidSelectorException")
        assert caught.value.receipt_id is not None
        assert caught.value.receipt_id.startswith("stompio-")
        with pytest.raises(stompio.ConnectionLostError):
            await client.send(b"after the error", unique_queue)


@pytest.mark.anyio
async def test_listen_yields_the_error_event_then_raises(broker: Broker, unique_queue: str) -> None:
    """After an ERROR, ``listen()`` yields the ``ErrorEvent`` and then raises, every time.

    That holds even when the ERROR already failed a call that waited for a receipt: the event is
    what ``listen()`` promises. Each broker is made to send an ERROR it sends for sure: a SEND
    to a missing exchange on RabbitMQ, a broken selector on ActiveMQ.
    """
    async with client_for(broker) as client:
        with pytest.raises(stompio.ServerError) as caught:
            await provoke_error(client, broker, unique_queue)
        [error] = await take(client, lambda _: True)
        assert isinstance(error, stompio.ErrorEvent)
        assert error.frame == caught.value.frame
        for _ in range(2):
            with pytest.raises(stompio.ConnectionLostError):
                await take(client, lambda _: True)


async def provoke_error(client: stompio.AsyncClient, broker: Broker, queue: str) -> None:
    """Make ``broker`` send an ERROR for a frame that asked for a receipt."""
    if broker.name == "rabbitmq":
        await client.send(b"refused", f"/exchange/{unique_name('missing')}", receipt=True)
    else:
        async with client.subscribe(queue, headers=BROKEN_SELECTOR, receipt=True):
            pytest.fail("ActiveMQ accepted a broken selector")
