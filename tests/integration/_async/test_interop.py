# Source of truth for tests/integration/_sync/test_interop.py (scripts/unasync.py).
"""Interoperability with stomp.py 9 through the real brokers, in both directions.

stomp.py escapes header values but writes header names as they are, so the headers that go
from stomp.py to stompio carry the escapes in their values only; the other way round, names
are escaped too (stomp.py unescapes both). The stomp.py peer is blocking: each test uses it
only while no stompio connection is open, the queue holding the message in between.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.integration._async import client_for, receive
from tests.integration.support import StompPyPeer

if TYPE_CHECKING:
    from tests.integration.support import Broker

BINARY_BODY = bytes(range(256)) * 3 + b"\x00\n\n\x00"
ESCAPED_VALUES = {
    "x-colon": "a:b:c",
    "x-backslash": "C:\\dir\\",
    "x-newline": "one\ntwo",
    "x-carriage-return": "three\rfour",
    "x-non-ascii": "grüße ✓ 日本語",
    "x-padded": "  kept  ",
}
ESCAPED_NAMES = {
    "x-colon:name": "value",
    "x-back\\slash": "value",
    "x-new\nline": "value",
    "x-ünï": "value",
}


@pytest.mark.anyio
async def test_stomp_py_to_stompio(broker: Broker, unique_queue: str) -> None:
    """A binary message with escaped header values sent by stomp.py arrives intact."""
    with StompPyPeer(broker) as peer:
        peer.send(BINARY_BODY, unique_queue, ESCAPED_VALUES)
    async with client_for(broker) as client, client.subscribe(unique_queue) as subscription:
        [message] = await receive(client, 1)
        await message.ack()
    assert message.body == BINARY_BODY
    assert {name: message.headers.get(name) for name in ESCAPED_VALUES} == ESCAPED_VALUES
    assert message.subscription == subscription.id


@pytest.mark.anyio
async def test_stompio_to_stomp_py(broker: Broker, unique_queue: str) -> None:
    """A binary message with escaped header names and values sent by stompio arrives intact."""
    headers = {**ESCAPED_VALUES, **ESCAPED_NAMES}
    async with client_for(broker) as client:
        await client.send(BINARY_BODY, unique_queue, headers=headers, receipt=True)
    with StompPyPeer(broker) as peer:
        peer.subscribe(unique_queue)
        message = peer.next_message()
    assert message.body == BINARY_BODY
    assert {name: message.headers.get(name) for name in headers} == headers
