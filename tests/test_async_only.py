"""What only the async client has (cancellation, its writer task): run on asyncio and trio."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import TYPE_CHECKING

import anyio
import anyio.lowlevel
import anyio.to_thread
import pytest

import stompio
from stompio._backends._anyio import AsyncLock, AsyncQueue, AsyncStream
from stompio._frames import ConnectFrame, DisconnectFrame, SendFrame, SubscribeFrame
from tests._async import next_message
from tests.stomp_server import (
    ServerConnection,
    Signal,
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
    from collections.abc import AsyncIterator

pytestmark = pytest.mark.anyio

# More than loopback socket buffers hold: a send this big blocks while the server reads nothing.
STUCK_SEND_SIZE = 32 * 1024 * 1024


def running_task_ids() -> set[int]:
    return {task.id for task in anyio.get_running_tasks()}


async def test_cancelling_a_blocked_listen_leaves_the_client_usable() -> None:
    def script(conn: ServerConnection) -> None:
        accept_connect(conn)
        subscription = conn.expect(SubscribeFrame).headers["id"]
        send = conn.expect(SendFrame)
        conn.send(receipt_frame(send.headers["receipt"]))
        conn.send(message_frame(subscription, send.body, headers={"ack": "a-1"}))
        serve_until_disconnect(conn)

    with StompTestServer(script) as server:
        async with (
            stompio.AsyncClient(**client_options(server)) as client,
            client.subscribe("/queue/a"),
        ):
            with anyio.move_on_after(0.1) as scope:
                async for event in client.listen():
                    pytest.fail(f"nothing was sent yet, got {event!r}")
            assert scope.cancelled_caught
            await client.send(b"after", "/queue/a", receipt=True)
            event = await next_message(client.listen())
            assert event.body == b"after"
            await event.ack()
    assert b"ACK\nid:a-1\n\n\x00" in server.connection().received


async def test_cancelling_a_receipt_wait_leaves_the_client_usable() -> None:
    def script(conn: ServerConnection) -> None:
        accept_connect(conn)
        conn.expect(SendFrame)  # never confirmed
        serve_until_disconnect(conn)

    with StompTestServer(script) as server:
        async with stompio.AsyncClient(**client_options(server)) as client:
            with anyio.move_on_after(0.1) as scope:
                await client.send(b"unconfirmed", "/queue/a", receipt=True)
            assert scope.cancelled_caught
            await client.send(b"confirmed", "/queue/a", receipt=True)


async def test_cancelling_the_holder_of_the_client_still_disconnects() -> None:
    def script(conn: ServerConnection) -> None:
        accept_connect(conn, "0,100")
        serve_until_disconnect(conn)

    before = running_task_ids()
    with StompTestServer(script) as server:
        entered = anyio.Event()

        async def hold() -> None:
            # Beats on: the heart-beat task must end with the client too.
            options = client_options(server, heartbeat=stompio.Heartbeat(100, 0))
            async with stompio.AsyncClient(**options) as client:
                await client.send(b"x", "/queue/a", receipt=True)
                entered.set()
                await anyio.sleep_forever()

        async with anyio.create_task_group() as group:
            group.start_soon(hold)
            await entered.wait()
            group.cancel_scope.cancel()
        assert running_task_ids() == before
    assert isinstance(server.connection().frames[-1], DisconnectFrame)


async def test_cancelling_the_holder_waits_for_the_disconnect_receipt() -> None:
    def script(conn: ServerConnection) -> None:
        accept_connect(conn)
        disconnect = conn.expect(DisconnectFrame)
        # The client must still be there to read this, although it was cancelled.
        assert not conn.closes_within(0.2), "the client did not wait for the receipt"
        conn.send(receipt_frame(disconnect.headers["receipt"]))
        conn.wait_closed()

    with StompTestServer(script) as server:
        with anyio.move_on_after(0.1) as scope:
            async with stompio.AsyncClient(**client_options(server, disconnect_timeout=3)):
                await anyio.sleep_forever()
        assert scope.cancelled_caught


@pytest.mark.parametrize("servers", [1, 2])
async def test_cancelling_the_connect_leaves_no_socket_open(servers: int) -> None:
    def silent(conn: ServerConnection) -> None:
        conn.expect(ConnectFrame)
        # Cancelled while waiting for CONNECTED, the client must close this socket.
        conn.wait_closed()

    before = running_task_ids()
    with StompTestServer(silent) as first, StompTestServer(silent) as second:
        targets = [first, second][:servers]
        options = client_options(*targets, connection_confirmation_timeout=5)
        with anyio.move_on_after(0.2) as scope:
            async with stompio.AsyncClient(**options):
                pytest.fail("connected to a silent server")
        assert scope.cancelled_caught
        assert running_task_ids() == before
    assert [len(server.connections) for server in targets] == [1] * servers


async def test_cancelling_the_retry_wait_ends_the_connect() -> None:
    def closing(conn: ServerConnection) -> None:
        conn.expect(ConnectFrame)
        conn.close()

    with StompTestServer(closing) as server:
        options = client_options(server, connect_retry_attempts=3, connect_retry_interval=5)
        with anyio.move_on_after(0.3) as scope:
            async with stompio.AsyncClient(**options):
                pytest.fail("connected to a server that always closes")
        assert scope.cancelled_caught
    assert len(server.connections) == 1


async def test_a_client_works_from_a_task_it_was_not_entered_in() -> None:
    with StompTestServer(serve) as server:
        async with stompio.AsyncClient(**client_options(server)) as client:
            async with anyio.create_task_group() as group:
                for number in range(4):
                    group.start_soon(client.send, f"{number}".encode(), "/queue/a")
            await client.send(b"last", "/queue/a", receipt=True)
    bodies = sorted(
        frame.body for frame in server.connection().frames if isinstance(frame, SendFrame)
    )
    assert bodies == [b"0", b"1", b"2", b"3", b"last"]


async def test_a_drained_listener_waits_without_spinning() -> None:
    def script(conn: ServerConnection) -> None:
        accept_connect(conn, "0,0")
        subscription = conn.expect(SubscribeFrame).headers["id"]
        conn.send(message_frames(subscription, range(3)))
        serve_until_disconnect(conn)

    with StompTestServer(script) as server:
        options = client_options(server, heartbeat=stompio.Heartbeat(0, 0))
        async with stompio.AsyncClient(**options) as client, client.subscribe("/queue/a"):
            events = client.listen()
            for _ in range(3):
                await (await next_message(events)).ack()

            async def wait_for_more() -> None:
                async for event in events:
                    pytest.fail(f"nothing more was sent, got {event!r}")

            async with anyio.create_task_group() as group:
                group.start_soon(wait_for_more)
                # A listener that found the inbox empty must sleep until something arrives;
                # one that spins never lets every task block, and this would time out.
                with anyio.fail_after(5):
                    await anyio.wait_all_tasks_blocked()
                group.cancel_scope.cancel()


async def test_a_burst_of_sends_leaves_while_the_task_waits_for_something_else() -> None:
    arrived = Signal()

    def script(conn: ServerConnection) -> None:
        accept_connect(conn)
        conn.send(receipt_frame(conn.expect(SendFrame).headers["receipt"]))
        bodies = [conn.expect(SendFrame).body for _ in range(20)]
        assert bodies == [b"%d" % n for n in range(20)]
        arrived.set()
        serve_until_disconnect(conn)

    with StompTestServer(script) as server:
        # No heart-beats, no listen(), no receipt: only the writer task can send the burst.
        options = client_options(server, heartbeat=stompio.Heartbeat(0, 0))
        async with stompio.AsyncClient(**options) as client:
            # A round trip first, so that the writer task is up and waiting.
            await client.send(b"first", "/queue/a", receipt=True)
            for number in range(20):
                await client.send(b"%d" % number, "/queue/a")
            assert await anyio.to_thread.run_sync(arrived.wait, 5), "the burst never left"


async def test_leaving_is_bounded_while_another_task_is_stuck_sending() -> None:
    outcome: list[BaseException] = []
    left = Signal()

    async def sender(client: stompio.AsyncClient) -> None:
        try:
            await client.send(bytes(STUCK_SEND_SIZE), "/queue/a")
        except BaseException as exc:  # noqa: BLE001 (checked by the test)
            outcome.append(exc)

    def script(conn: ServerConnection) -> None:
        accept_connect(conn)
        conn.stop_reading()
        assert left.wait(10)

    with StompTestServer(script) as server:
        options = client_options(server, heartbeat=stompio.Heartbeat(0, 0), disconnect_timeout=0.2)
        async with anyio.create_task_group() as tasks:
            async with stompio.AsyncClient(**options) as client:
                tasks.start_soon(sender, client)
                # The server holds bytes of the SEND and reads no more: the sender is stuck
                # mid-write, holding the socket, and the DISCONNECT cannot get through.
                await anyio.to_thread.run_sync(server.connection().wait_reading_stopped)
            left.set()
    assert [type(exc) for exc in outcome] == [stompio.ConnectionLostError]


@contextlib.asynccontextmanager
async def connected_stream() -> AsyncIterator[tuple[AsyncStream, socket.socket]]:
    """A client stream and the server's end of it, over loopback TCP; both closed after."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        stream = await AsyncStream.connect("127.0.0.1", listener.getsockname()[1], 5)
        peer, _ = listener.accept()
    with peer:
        try:
            yield stream, peer
        finally:
            await stream.aclose()


async def bytes_waiting(stream: AsyncStream) -> None:
    """Return once bytes wait in ``stream``, without taking them."""
    await anyio.wait_readable(stream._socket)


async def test_a_receive_cancelled_before_it_starts_leaves_the_bytes() -> None:
    async with connected_stream() as (stream, peer):
        peer.sendall(b"kept")
        await bytes_waiting(stream)
        with anyio.CancelScope() as scope:
            scope.cancel()
            await stream.receive(None)
        assert scope.cancelled_caught
        # What the cancelled receive may have taken comes before anything that came later.
        peer.sendall(b"later")
        with anyio.fail_after(5):
            assert await stream.receive(None) == b"kept"
            assert await stream.receive(None) == b"later"


# Trio runs the tasks of one batch in random order: there, one yield proves nothing.
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_receive_of_waiting_bytes_lets_other_tasks_run() -> None:
    ran: list[str] = []

    async def note() -> None:
        ran.append("ran")

    async with connected_stream() as (stream, peer), anyio.create_task_group() as group:
        peer.sendall(b"ready")
        await bytes_waiting(stream)
        group.start_soon(note)
        assert await stream.receive(None) == b"ready"
        # A loop of receives that never block must not starve the writer task.
        assert ran == ["ran"]


async def test_a_receive_blocked_when_the_stream_closes_fails_as_lost() -> None:
    async def close_soon(stream: AsyncStream) -> None:
        await anyio.lowlevel.checkpoint()
        await stream.aclose()

    async with connected_stream() as (stream, _), anyio.create_task_group() as group:
        group.start_soon(close_soon, stream)
        with pytest.raises(stompio.ConnectionLostError):
            await stream.receive(None)


async def test_the_task_lock_serves_waiters_in_order_and_skips_the_cancelled() -> None:
    lock = AsyncLock()
    order: list[str] = []

    async def wait_for_lock(name: str) -> None:
        async with lock:
            order.append(name)

    async with anyio.create_task_group() as group:
        await lock.__aenter__()
        for name in ["first", "second", "third"]:
            group.start_soon(wait_for_lock, name)
            await anyio.wait_all_tasks_blocked()
        with anyio.CancelScope() as gone:
            gone.cancel()
            await wait_for_lock("cancelled")
        assert gone.cancelled_caught
        await lock.__aexit__(None, None, None)
    assert order == ["first", "second", "third"]
    with anyio.fail_after(1):
        async with lock:
            pass


# asyncio's own cancel (task.cancel(), asyncio.timeout()) reaches a task whose wait is over.
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_waiter_handed_the_lock_and_cancelled_passes_it_on() -> None:
    lock = AsyncLock()
    got: list[str] = []

    async def doomed() -> None:
        async with lock:
            got.append("doomed")

    async def patient() -> None:
        async with lock:
            got.append("patient")

    await lock.__aenter__()
    first = asyncio.create_task(doomed())
    second = asyncio.create_task(patient())
    await anyio.wait_all_tasks_blocked()
    # The lock passes to the first waiter, cancelled before it runs again.
    await lock.__aexit__(None, None, None)
    first.cancel()
    with anyio.fail_after(5):
        await asyncio.wait([first, second])
    assert first.cancelled()
    assert got == ["patient"]
    with anyio.fail_after(1):
        async with lock:
            pass


async def test_the_task_queue_wakes_each_getter_and_outlives_a_timed_out_get() -> None:
    queue: AsyncQueue[int] = AsyncQueue()
    assert await queue.get(0.01) is None
    got: list[int | None] = []

    async def take() -> None:
        got.append(await queue.get(5))

    async with anyio.create_task_group() as group:
        group.start_soon(take)
        group.start_soon(take)
        await anyio.wait_all_tasks_blocked()
        queue.put(1)
        await anyio.wait_all_tasks_blocked()
        # One getter took it; the other waits again, and the next put wakes it.
        assert got == [1]
        queue.put(2)
    assert got == [1, 2]
    assert queue.get_nowait() is None
    assert not queue.has_items()


async def test_a_receive_that_waits_is_cancelled_and_the_stream_reads_on() -> None:
    async with connected_stream() as (stream, peer):
        with anyio.move_on_after(0.05) as scope:
            await stream.receive(None)
        assert scope.cancelled_caught
        peer.sendall(b"late")
        with anyio.fail_after(5):
            assert await stream.receive(None) == b"late"


async def test_each_receive_returns_bytes_of_its_own() -> None:
    async with connected_stream() as (stream, peer):
        peer.sendall(b"first")
        with anyio.fail_after(5):
            first = await stream.receive(None)
            peer.sendall(b"later")
            assert await stream.receive(None) == b"later"
        assert type(first) is bytes
        assert first == b"first"
