# Source of truth for tests/integration/_sync/test_heartbeats.py (scripts/unasync.py).
"""Heart-beats against the real brokers: an idle minute must not cost the connection."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import pytest

import stompio
from stompio._backends._anyio import AsyncEvent, AsyncTaskGroup
from tests.integration._async import client_for, idle, receive
from tests.integration.conftest import BROKERS
from tests.integration.support import async_library, unique_name

if TYPE_CHECKING:
    from tests.integration.support import Broker

IDLE_SECONDS = 60
FINISH_WITHIN = IDLE_SECONDS + 30
"""How long the test waits for each broker's idle minute and round trip to end, in s."""


@pytest.mark.anyio
@pytest.mark.timeout(FINISH_WITHIN + 30)
async def test_idle_minute_keeps_the_connection() -> None:
    """A client that sends nothing for a minute keeps its connection through heart-beats.

    With ``1000,1000`` a silent client is dropped after about 3 s by RabbitMQ and 2 s by
    ActiveMQ, and the client gives up on a silent broker after 2 x 1 s + 2 s; so the minute
    survives only if both directions beat all along. Heart-beats from the broker show up in
    ``listen()``, and a round trip after the minute proves the connection still works.

    The minute is spent on both brokers at once, so the test takes one minute, not two; it
    runs for the blocking face and on asyncio, while on trio it would test the same client
    code again at the cost of another minute.
    """
    if async_library() == "trio":
        pytest.skip("the idle minute runs for the blocking face and on asyncio only")
    outcomes: dict[str, int | BaseException] = {}
    finished = {name: AsyncEvent() for name in BROKERS}
    async with AsyncTaskGroup() as group:
        for name, broker in BROKERS.items():
            run = functools.partial(idle_minute, broker, outcomes, finished[name])
            group.start_soon(run, f"idle-minute-{name}")
        for name, done in finished.items():
            assert await done.wait(FINISH_WITHIN), f"{name}: the idle minute did not end"
    assert sorted(outcomes) == sorted(BROKERS)
    for name, outcome in outcomes.items():
        if isinstance(outcome, BaseException):
            raise outcome
        assert outcome > 0, f"{name}: not one heart-beat from the broker in a minute"


async def idle_minute(
    broker: Broker, outcomes: dict[str, int | BaseException], done: AsyncEvent
) -> None:
    """Idle on ``broker`` for the minute, then make a round trip; record the heart-beats seen.

    Records the exception instead when something fails, for the test to raise.
    """
    queue = f"/queue/{unique_name('idle-minute')}"
    try:
        async with client_for(broker, heartbeat=stompio.Heartbeat(1000, 1000)) as client:
            heartbeats = await idle(client, IDLE_SECONDS)
            await client.send(b"still connected", queue, receipt=True)
            async with client.subscribe(queue):
                [message] = await receive(client, 1)
                await message.ack()
        assert message.body == b"still connected"
        outcomes[broker.name] = heartbeats
    # Recorded for the test to raise: a failure in a thread would not fail it.
    except (Exception, pytest.fail.Exception) as exc:  # noqa: BLE001
        outcomes[broker.name] = exc
    finally:
        done.set()
