# Source of truth: scripts/unasync.py generates tests/_sync/test_heartbeat.py from this file.
"""Heart-beats on the wire: negotiation, the send rate, silence, and the end of beating.

Rates are checked by counting the EOLs the server received against the time the server
itself measured, within wide bounds: half the period gives twice as many EOLs as the full
period would, which no scheduling delay on a loaded machine hides.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

import stompio
from stompio import _turns
from stompio._backends._anyio import async_sleep
from stompio._frames import ConnectFrame, DisconnectFrame, HeartbeatFrame
from tests._async import after_first_message, next_message
from tests.stomp_server import (
    ServerConnection,
    Signal,
    StompTestServer,
    accept_connect,
    client_options,
    connected_frame,
    deliver_first,
    serve_until_disconnect,
)

if TYPE_CHECKING:
    from collections.abc import Callable

IDLE = 1.2
"""How long the rate tests leave a client idle, in seconds."""


def serving(heartbeat: str) -> Callable[[ServerConnection], None]:
    """A script that answers CONNECTED with ``heart-beat:<heartbeat>`` and serves."""

    def script(conn: ServerConnection) -> None:
        accept_connect(conn, heartbeat)
        serve_until_disconnect(conn)

    return script


def beats_while_connected(conn: ServerConnection) -> tuple[int, float]:
    """The EOLs received between CONNECT and DISCONNECT, and that span in seconds."""
    start = conn.arrival_time(ConnectFrame)
    end = conn.arrival_time(DisconnectFrame)
    beats = [at for at in conn.heartbeat_times if start <= at <= end]
    return len(beats), end - start


@pytest.mark.anyio
async def test_hb02_an_idle_client_beats_at_half_the_negotiated_period() -> None:
    with StompTestServer(serving("0,200")) as server:
        options = client_options(server, heartbeat=stompio.Heartbeat(200, 0))
        async with stompio.AsyncClient(**options):
            await async_sleep(IDLE)
    beats, span = beats_while_connected(server.connection())
    periods = span / 0.2
    # Once per period would give `periods` beats; half the period gives twice that.
    assert 1.4 * periods - 1 <= beats <= 3 * periods + 2, (beats, span)


@pytest.mark.anyio
async def test_hb01_n03_the_larger_of_both_periods_wins() -> None:
    # The client could beat every 100 ms, the server wants one every 400 ms: 400 ms it is.
    with StompTestServer(serving("0,400")) as server:
        options = client_options(server, heartbeat=stompio.Heartbeat(100, 0))
        async with stompio.AsyncClient(**options):
            await async_sleep(IDLE)
    beats, span = beats_while_connected(server.connection())
    periods = span / 0.4
    assert 1.4 * periods - 1 <= beats <= 3 * periods + 2, (beats, span)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("offered", "answered"),
    [
        (stompio.Heartbeat(100, 100), "0,0"),
        (stompio.Heartbeat(0, 0), "100,100"),
        (stompio.Heartbeat(100, 100), None),
    ],
)
async def test_hb05_n02_zero_or_missing_means_no_beats_and_no_timeout(
    offered: stompio.Heartbeat, answered: str | None
) -> None:
    def script(conn: ServerConnection) -> None:
        conn.expect(ConnectFrame)
        if answered is None:
            conn.send(b"CONNECTED\nversion:1.2\n\n\x00")
        else:
            conn.send(connected_frame(answered))
        serve_until_disconnect(conn)

    with StompTestServer(script) as server:
        options = client_options(server, heartbeat=offered, read_timeout=0.1)
        async with stompio.AsyncClient(**options) as client:
            # Far longer than any tolerance a 100 ms period would give.
            await async_sleep(0.6)
            await client.send(b"still here", "/queue/a", receipt=True)
    assert server.connection().heartbeats == 0


@pytest.mark.anyio
async def test_hb06_no_beats_after_disconnect() -> None:
    def script(conn: ServerConnection) -> None:
        accept_connect(conn, "0,100")
        conn.expect(DisconnectFrame)
        # No RECEIPT: the client waits out its disconnect timeout, and must stay quiet.
        conn.wait_closed()

    with StompTestServer(script) as server:
        options = client_options(
            server, heartbeat=stompio.Heartbeat(100, 0), disconnect_timeout=0.5
        )
        async with stompio.AsyncClient(**options):
            await async_sleep(0.3)
    events = server.connection().events
    disconnect_at = next(i for i, item in enumerate(events) if isinstance(item, DisconnectFrame))
    assert any(isinstance(item, HeartbeatFrame) for item in events[:disconnect_at])
    assert events[disconnect_at + 1 :] == []


@pytest.mark.anyio
async def test_hb03_a_silent_server_is_declared_dead() -> None:
    def script(conn: ServerConnection) -> None:
        accept_connect(conn, "100,0")
        # Never a byte again; the client must give up and close the socket itself.
        conn.wait_closed()

    with StompTestServer(script) as server:
        options = client_options(server, heartbeat=stompio.Heartbeat(0, 100), read_timeout=0.2)
        async with stompio.AsyncClient(**options) as client:
            with pytest.raises(stompio.ConnectionLostError) as caught:
                await next_message(client.listen())
            error = caught.value
            assert isinstance(error, stompio.HeartbeatTimeoutError) or isinstance(
                error.__cause__, stompio.HeartbeatTimeoutError
            ), repr(error)
            with pytest.raises(stompio.ConnectionLostError):
                await next_message(client.listen())
            with pytest.raises(stompio.ConnectionLostError):
                await client.send(b"x", "/queue/a")
    # The connection was dead: no DISCONNECT was written into it.
    assert [type(frame) for frame in server.connection().frames] == [ConnectFrame]


@pytest.mark.anyio
async def test_hb03_silence_ends_a_listener_that_reads_itself(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """While a listener reads the socket itself, the background reader still keeps watch."""
    # The background reader never takes the socket back: only its watch can end the read.
    monkeypatch.setattr(_turns, "LISTENER_GRACE", 3600.0)

    def script(conn: ServerConnection) -> None:
        deliver_first(conn, b"last words", "100,0")
        conn.wait_closed()

    with StompTestServer(script) as server:
        options = client_options(server, heartbeat=stompio.Heartbeat(0, 100), read_timeout=0.2)
        async with (
            stompio.AsyncClient(**options) as client,
            client.subscribe("/queue/a", ack="auto"),
        ):
            events = client.listen()
            assert (await next_message(events)).body == b"last words"
            with pytest.raises(stompio.ConnectionLostError) as caught:
                await next_message(events)
            assert isinstance(caught.value.__cause__, stompio.HeartbeatTimeoutError), repr(
                caught.value
            )


@pytest.mark.anyio
async def test_hb03_hb07_beats_keep_a_busy_client_alive_and_coalesce() -> None:
    busy_done = Signal()
    beats_sent: list[int] = []

    def script(conn: ServerConnection) -> None:
        accept_connect(conn, "50,0")
        subscribe = conn.read_frame()
        beats = 0
        while not busy_done.wait(0.05) and beats < 200:
            conn.send(b"\n")
            beats += 1
        beats_sent.append(beats)
        conn.send(
            b"MESSAGE\ndestination:/queue/a\nmessage-id:1\nsubscription:"
            + subscribe.headers["id"].encode()
            + b"\n\nafter the beats\x00"
        )
        serve_until_disconnect(conn)

    with StompTestServer(script) as server:
        # Tolerance: 2 x 100 ms + 0.2 s; the application stays busy for far longer.
        options = client_options(server, heartbeat=stompio.Heartbeat(0, 100), read_timeout=0.2)
        async with (
            stompio.AsyncClient(**options) as client,
            client.subscribe("/queue/a", ack="auto"),
        ):
            await async_sleep(1.0)
            busy_done.set()
            seen = 0
            async for event in client.listen():
                if isinstance(event, stompio.HeartbeatEvent):
                    seen += 1
                    continue
                assert isinstance(event, stompio.MessageEvent)
                assert event.body == b"after the beats"
                break
            await client.send(b"x", "/queue/a", receipt=True)
    assert beats_sent[0] >= 5
    # Beats that piled up while nobody listened are reported once, not one by one.
    assert 1 <= seen <= 2


@pytest.mark.anyio
@pytest.mark.parametrize("eols", [b"\n", b"\r\n", b"\r\n\n\r\n"])
async def test_hb04_eols_between_frames_are_heartbeats(eols: bytes) -> None:
    def script(conn: ServerConnection) -> None:
        conn.expect(ConnectFrame)
        # EOLs riding along with CONNECTED, as RabbitMQ and ActiveMQ send them.
        conn.send(connected_frame("100,0") + eols)
        serve_until_disconnect_after_beats(conn, eols)

    with StompTestServer(script) as server:
        options = client_options(server, heartbeat=stompio.Heartbeat(0, 1000))
        async with stompio.AsyncClient(**options) as client:
            await client.send(b"1", "/queue/a", receipt=True)
            # The RECEIPT was read, so the EOLs this SEND triggers come in a read of their own.
            await client.send(b"2", "/queue/a")
            async for event in client.listen():
                assert event == stompio.HeartbeatEvent()
                break
            await client.send(b"3", "/queue/a", receipt=True)


def serve_until_disconnect_after_beats(conn: ServerConnection, eols: bytes) -> None:
    """Answer the first SEND's receipt, send ``eols`` after the second SEND, then serve."""
    first = conn.read_frame()
    conn.send(f"RECEIPT\nreceipt-id:{first.headers['receipt']}\n\n\x00".encode())
    conn.read_frame()
    conn.send(eols)
    serve_until_disconnect(conn)


@pytest.mark.anyio
async def test_hb03_silence_ends_a_receipt_waiter_that_reads_itself(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A caller reading for its RECEIPT is watched like a listener: silence ends it early."""
    monkeypatch.setattr(_turns, "LISTENER_GRACE", 3600.0)

    def script(conn: ServerConnection) -> None:
        deliver_first(conn, b"first", "100,0")
        conn.wait_closed()  # silent from here on: no beats, no RECEIPT

    with StompTestServer(script) as server:
        # The receipt would wait a minute: only the heart-beat watch can end it sooner.
        async with after_first_message(
            server, heartbeat=stompio.Heartbeat(0, 100), read_timeout=0.2, receipt_timeout=60
        ) as client:
            with pytest.raises(stompio.ConnectionLostError) as caught:
                await client.send(b"reply", "/queue/b", receipt=True)
            assert isinstance(caught.value.__cause__, stompio.HeartbeatTimeoutError), repr(
                caught.value
            )
