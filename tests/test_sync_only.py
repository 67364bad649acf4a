"""Threads, which only the blocking client has: sharing, closing, Ctrl-C, no anyio."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import stompio
from stompio._backends import _threads
from stompio._frames import AckFrame, ConnectFrame, DisconnectFrame, SendFrame, SubscribeFrame
from tests.stomp_server import (
    HOST,
    Broker,
    ServerConnection,
    Signal,
    StompTestServer,
    accept_connect,
    client_options,
    message_frames,
    serve,
    serve_until_disconnect,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

ROOT = Path(__file__).resolve().parent.parent
JOIN = 5.0
THREADS = 8
SENDS_PER_THREAD = 50
PAYLOAD = bytes(range(256)) * 4
# More than loopback socket buffers hold: a send this big blocks while the server reads nothing.
STUCK_SEND_SIZE = 32 * 1024 * 1024


@pytest.fixture
def client_threads() -> Callable[[], list[str]]:
    """The client threads started since the test began and still alive (by name)."""
    before = set(threading.enumerate())

    def alive() -> list[str]:
        return [
            thread.name
            for thread in threading.enumerate()
            if thread.name.startswith("stompio-") and thread not in before
        ]

    return alive


@pytest.fixture
def ctrl_c() -> Iterator[None]:
    """SIGINT raises KeyboardInterrupt, as in a terminal, even where it came in ignored.

    A shell without job control starts background commands (``cmd &``) with SIGINT
    ignored, and Python then leaves it so: a suite started that way saw no Ctrl-C at all.
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def test_threads_sending_at_once_never_interleave_frames() -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def sender(client: stompio.Client, number: int) -> None:
        try:
            start.wait(JOIN)
            for index in range(SENDS_PER_THREAD):
                body = f"{number}-{index}-".encode() + PAYLOAD
                client.send(body, "/queue/a", receipt=index % 10 == 0)
        except BaseException as exc:  # noqa: BLE001 (reported in the test's thread)
            errors.append(exc)

    with StompTestServer(serve) as server:
        options = client_options(server, heartbeat=stompio.Heartbeat(20, 0))
        with stompio.Client(**options) as client:
            threads = [
                threading.Thread(target=sender, args=(client, number), name=f"sender-{number}")
                for number in range(THREADS)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(JOIN * 4)
            assert not [thread for thread in threads if thread.is_alive()]
    assert errors == []
    sends = [frame for frame in server.connection().frames if isinstance(frame, SendFrame)]
    assert len(sends) == THREADS * SENDS_PER_THREAD
    assert all(frame.body.endswith(PAYLOAD) for frame in sends)
    expected = {f"{n}-{i}-".encode() for n in range(THREADS) for i in range(SENDS_PER_THREAD)}
    assert {frame.body[: -len(PAYLOAD)] for frame in sends} == expected


def test_leaving_the_client_ends_a_listen_in_another_thread() -> None:
    outcome: list[object] = []
    listening = Signal()

    def listener(client: stompio.Client) -> None:
        try:
            listening.set()
            outcome.extend(client.listen())
            outcome.append("ended")
        except BaseException as exc:  # noqa: BLE001 (reported in the test's thread)
            outcome.append(exc)

    def script(conn: ServerConnection) -> None:
        accept_connect(conn)
        conn.expect(SubscribeFrame)
        serve_until_disconnect(conn)

    with StompTestServer(script) as server:
        options = client_options(server, heartbeat=stompio.Heartbeat(0, 0))
        with stompio.Client(**options) as client, client.subscribe("/queue/a"):
            thread = threading.Thread(target=listener, args=(client,), name="listener")
            thread.start()
            assert listening.wait(JOIN)
        thread.join(JOIN)
        assert not thread.is_alive()
    assert outcome == ["ended"]


@pytest.mark.parametrize(
    "heartbeat",
    [stompio.Heartbeat(0, 0), stompio.Heartbeat(100, 100)],
    ids=["beats-off", "beats-on"],
)
def test_no_client_thread_outlives_the_client(
    heartbeat: stompio.Heartbeat, client_threads: Callable[[], list[str]]
) -> None:
    def script(conn: ServerConnection) -> None:
        accept_connect(conn, "100,100")
        serve_until_disconnect(conn)

    with StompTestServer(script) as server:
        # Several rounds: closing must wake the reader every time, not just usually.
        for _ in range(5):
            with stompio.Client(**client_options(server, heartbeat=heartbeat)) as client:
                client.send(b"x", "/queue/a", receipt=True)
            assert client_threads() == []


def test_no_client_thread_outlives_a_failed_connect(
    client_threads: Callable[[], list[str]],
) -> None:
    def silent(conn: ServerConnection) -> None:
        conn.wait_closed()

    with StompTestServer(silent) as server:
        options = client_options(server, connection_confirmation_timeout=0.1)
        with pytest.raises(stompio.FailedAllConnectAttemptsError):
            stompio.Client(**options).__enter__()
    assert client_threads() == []


def test_no_client_thread_outlives_a_lost_connection(
    client_threads: Callable[[], list[str]],
) -> None:
    def script(conn: ServerConnection) -> None:
        accept_connect(conn)
        conn.expect(SendFrame)
        conn.close()

    with StompTestServer(script) as server:
        with (
            stompio.Client(**client_options(server)) as client,
            pytest.raises(stompio.ConnectionLostError),
        ):
            client.send(b"x", "/queue/a", receipt=True)
        assert client_threads() == []


def test_keyboard_interrupt_in_the_block_still_disconnects(
    client_threads: Callable[[], list[str]],
    ctrl_c: None,
) -> None:
    sent = Signal()

    def script(conn: ServerConnection) -> None:
        accept_connect(conn)
        conn.expect(SendFrame)
        sent.set()
        serve_until_disconnect(conn)

    def interrupt_when_sent() -> None:
        if sent.wait(JOIN):
            # A real signal, as Ctrl-C sends: interrupt_main() would only schedule the
            # handler, which a thread blocked in a lock never runs.
            signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)

    with StompTestServer(script) as server:
        interrupter = threading.Thread(target=interrupt_when_sent, name="interrupter")
        options = client_options(server, heartbeat=stompio.Heartbeat(0, 0))
        # The interrupt lands in the loop, and must get through the with block.
        with pytest.raises(KeyboardInterrupt), stompio.Client(**options) as client:  # noqa: PT012
            interrupter.start()
            client.send(b"x", "/queue/a")
            # Blocks until Ctrl-C, with no timed wake-ups: the signal itself must get through.
            for event in client.listen():
                pytest.fail(f"nothing was due, got {event!r}")
        interrupter.join(JOIN)
    assert isinstance(server.connection().frames[-1], DisconnectFrame)
    assert client_threads() == []


NO_ANYIO = textwrap.dedent(
    """
    import importlib.abc
    import sys


    class RefuseAnyio(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "anyio" or name.startswith("anyio."):
                raise ModuleNotFoundError(f"No module named {name!r} (hidden by the test)")
            return None


    sys.meta_path.insert(0, RefuseAnyio())

    import stompio

    port = int(sys.argv[1])
    server = stompio.ConnectionParameters("127.0.0.1", port, login="guest", passcode="guest")
    with stompio.Client([server], disconnect_timeout=2) as client:
        with client.subscribe("/queue/a", ack="client-individual"):
            client.send("héllo", "/queue/a", receipt=True)
            for event in client.listen():
                assert isinstance(event, stompio.MessageEvent), event
                assert event.body == "héllo".encode()
                event.ack()
                break
    try:
        stompio.AsyncClient
    except ModuleNotFoundError:
        pass
    else:
        raise AssertionError("AsyncClient imported without anyio")
    assert not [name for name in sys.modules if name.split(".")[0] in {"anyio", "trio"}]
    print("round trip without anyio: ok")
    """
)


def test_the_blocking_client_works_without_anyio() -> None:
    broker = Broker()
    with StompTestServer(broker) as server:
        environment = {**os.environ, "PYTHONPATH": str(ROOT)}
        result = subprocess.run(  # noqa: S603 (our own interpreter, our own script)
            [sys.executable, "-c", NO_ANYIO, str(server.port)],
            capture_output=True,
            text=True,
            timeout=30,
            env=environment,
            cwd=ROOT,
            check=False,
        )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "round trip without anyio: ok"
    assert len(broker.acks) == 1


def test_an_ack_left_queued_leaves_with_the_next_heartbeat() -> None:
    acked = Signal()

    def script(conn: ServerConnection) -> None:
        accept_connect(conn, "0,100")
        subscription = conn.expect(SubscribeFrame).headers["id"]
        conn.send(message_frames(subscription, range(1, 4)))
        assert conn.expect(AckFrame).headers["id"] == "a-1"
        acked.set()
        serve_until_disconnect(conn)

    with StompTestServer(script) as server:
        options = client_options(server, heartbeat=stompio.Heartbeat(100, 0))
        with stompio.Client(**options) as client, client.subscribe("/queue/a"):
            event = next(e for e in client.listen() if isinstance(e, stompio.MessageEvent))
            # Two more messages are queued behind it, so the ACK waits for the listener, which
            # never comes back: the writer thread sends it with the next heart-beat.
            event.ack()
            assert acked.wait(JOIN), "the ACK never left"


def test_a_burst_of_sends_leaves_while_the_caller_waits_for_something_else() -> None:
    arrived = Signal()

    def script(conn: ServerConnection) -> None:
        accept_connect(conn)
        bodies = [conn.expect(SendFrame).body for _ in range(20)]
        assert bodies == [b"%d" % n for n in range(20)]
        arrived.set()
        serve_until_disconnect(conn)

    with StompTestServer(script) as server:
        # No heart-beats, no listen(), no receipt: only the writer thread can send the burst.
        options = client_options(server, heartbeat=stompio.Heartbeat(0, 0))
        with stompio.Client(**options) as client:
            for number in range(20):
                client.send(b"%d" % number, "/queue/a")
            assert arrived.wait(JOIN), "the burst never left"


def test_keyboard_interrupt_while_connecting_leaves_no_thread_or_socket(
    client_threads: Callable[[], list[str]],
    ctrl_c: None,
) -> None:
    waiting = Signal()

    def silent(conn: ServerConnection) -> None:
        conn.expect(ConnectFrame)
        waiting.set()
        conn.wait_closed()  # the interrupted client must close this socket

    def interrupt_when_waiting() -> None:
        if waiting.wait(JOIN):
            signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)

    with StompTestServer(silent) as server:
        interrupter = threading.Thread(target=interrupt_when_waiting, name="interrupter")
        interrupter.start()
        options = client_options(server, connection_confirmation_timeout=30)
        with pytest.raises(KeyboardInterrupt), stompio.Client(**options):
            pytest.fail("connected to a silent server")
        interrupter.join(JOIN)
        assert client_threads() == []


def test_leaving_is_bounded_while_another_thread_is_stuck_sending(
    client_threads: Callable[[], list[str]],
) -> None:
    outcome: list[BaseException] = []
    left = Signal()

    def sender(client: stompio.Client) -> None:
        try:
            client.send(bytes(STUCK_SEND_SIZE), "/queue/a")
        except BaseException as exc:  # noqa: BLE001 (reported in the test's thread)
            outcome.append(exc)

    def script(conn: ServerConnection) -> None:
        accept_connect(conn)
        conn.stop_reading()
        assert left.wait(JOIN * 2)

    with StompTestServer(script) as server:
        options = client_options(server, heartbeat=stompio.Heartbeat(0, 0), disconnect_timeout=0.2)
        with stompio.Client(**options) as client:
            thread = threading.Thread(target=sender, args=(client,), name="sender")
            thread.start()
            # The server holds bytes of the SEND and reads no more: the sender is stuck
            # mid-write, holding the socket, and the DISCONNECT cannot get through.
            server.connection().wait_reading_stopped()
        left.set()
        thread.join(JOIN)
        assert not thread.is_alive()
        assert client_threads() == []
    assert [type(exc) for exc in outcome] == [stompio.ConnectionLostError]


def test_a_read_in_slices_waits_for_the_bytes_and_for_its_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On Windows a read waits in slices, so that Ctrl-C gets through to a listener."""
    monkeypatch.setattr(_threads, "WAIT_SLICE", 0.01)
    # Without the first, non-blocking try, every read goes through the sliced wait.
    monkeypatch.setattr(_threads, "_DONTWAIT", 0)
    with socket.create_server((HOST, 0)) as listener:
        stream = _threads.Stream.connect(HOST, listener.getsockname()[1], 5)
        peer, _ = listener.accept()
    with peer, contextlib.closing(stream):
        assert stream.receive(0.05) is None
        # Later than a few slices, so that one slice alone would come back empty.
        sender = threading.Timer(0.2, peer.sendall, [b"late"])
        sender.start()
        assert stream.receive(None) == b"late"
        sender.join()


def test_each_receive_returns_bytes_of_its_own() -> None:
    """What a receive returned must not change after the next one."""
    with socket.create_server((HOST, 0)) as listener:
        stream = _threads.Stream.connect(HOST, listener.getsockname()[1], 5)
        peer, _ = listener.accept()
    with peer, contextlib.closing(stream):
        peer.sendall(b"first")
        first = stream.receive(5)
        peer.sendall(b"later")
        assert stream.receive(5) == b"later"
        assert type(first) is bytes
        assert first == b"first"
