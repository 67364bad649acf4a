"""Tests of the in-process STOMP test server itself, driven over raw sockets."""

from __future__ import annotations

import socket
import threading
from typing import TYPE_CHECKING

import pytest

from stompio import ConnectionParameters, Heartbeat, ProtocolError
from stompio._codec import ServerFrameParser
from stompio._frames import (
    BeginFrame,
    ConnectFrame,
    DisconnectFrame,
    HeartbeatFrame,
    MessageFrame,
    ReceiptFrame,
    SendFrame,
    ServerFrame,
    SubscribeFrame,
)
from tests.stomp_server import (
    Broker,
    ClientClosedError,
    ServerConnection,
    Signal,
    StompTestServer,
    UnexpectedFrameError,
    accept_connect,
    client_options,
    message_frame,
    receipt_frame,
    refused_port,
    serve,
    serve_until_disconnect,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

CONNECT = b"CONNECT\naccept-version:1.2\nhost:/\n\n\x00"
CONNECTED = b"CONNECTED\nversion:1.2\nheart-beat:0,0\n\n\x00"
DISCONNECT = b"DISCONNECT\nreceipt:bye\n\n\x00"
TIMEOUT = 5.0


def connect_raw(server: StompTestServer) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def read_until(sock: socket.socket, marker: bytes) -> bytes:
    """Read until ``marker`` has arrived; the socket's timeout bounds every read."""
    data = b""
    while marker not in data:
        chunk = sock.recv(65536)
        if not chunk:
            msg = f"EOF before {marker!r}; got {data!r}"
            raise AssertionError(msg)
        data += chunk
    return data


def read_to_eof(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def test_accept_connect_and_serve_until_disconnect_speak_exact_bytes() -> None:
    with StompTestServer(serve) as server, connect_raw(server) as sock:
        sock.sendall(CONNECT)
        assert read_until(sock, b"\x00") == CONNECTED
        sock.sendall(b"SEND\ndestination:/q\nreceipt:r\\c1\ncontent-length:2\n\nhi\x00")
        assert read_until(sock, b"\x00") == b"RECEIPT\nreceipt-id:r\\c1\n\n\x00"
        sock.sendall(DISCONNECT)
        assert read_to_eof(sock) == b"RECEIPT\nreceipt-id:bye\n\n\x00"
    conn = server.connection()
    assert conn.frames == [
        ConnectFrame({"accept-version": "1.2", "host": "/"}),
        SendFrame({"destination": "/q", "receipt": "r:1", "content-length": "2"}, b"hi"),
        DisconnectFrame({"receipt": "bye"}),
    ]
    assert conn.received.endswith(DISCONNECT)
    assert conn.received.startswith(CONNECT)


def test_heartbeats_are_counted_in_order_and_not_returned() -> None:
    frames: list[object] = []

    def script(conn: ServerConnection) -> None:
        accept_connect(conn)
        frames.append(conn.read_frame())
        frames.append(conn.read_frame())
        conn.close()

    with StompTestServer(script) as server, connect_raw(server) as sock:
        sock.sendall(CONNECT + b"\n")
        read_until(sock, b"\x00")
        sock.sendall(b"\r\n\nBEGIN\ntransaction:t\n\n\x00\n")
        sock.sendall(DISCONNECT)
        assert read_to_eof(sock) == b""
    conn = server.connection()
    assert frames == [BeginFrame({"transaction": "t"}), DisconnectFrame({"receipt": "bye"})]
    assert conn.heartbeats == 4
    assert [type(item).__name__ for item in conn.events] == [
        "ConnectFrame",
        "HeartbeatFrame",
        "HeartbeatFrame",
        "HeartbeatFrame",
        "BeginFrame",
        "HeartbeatFrame",
        "DisconnectFrame",
    ]
    assert len(conn.heartbeat_times) == 4
    assert conn.arrival_time(ConnectFrame) <= conn.heartbeat_times[0]


def test_a_frame_written_one_byte_at_a_time_is_parsed_whole() -> None:
    with StompTestServer(serve) as server, connect_raw(server) as sock:
        for byte in CONNECT:
            sock.sendall(bytes([byte]))
        assert read_until(sock, b"\x00") == CONNECTED
        sock.sendall(DISCONNECT)
        read_to_eof(sock)
    assert [frame.command for frame in server.connection().frames] == [b"CONNECT", b"DISCONNECT"]


def test_an_unexpected_frame_fails_the_test() -> None:
    def script(conn: ServerConnection) -> None:
        accept_connect(conn)
        conn.expect(SubscribeFrame)

    def run() -> None:
        with StompTestServer(script) as server, connect_raw(server) as sock:
            sock.sendall(CONNECT)
            read_until(sock, b"\x00")
            sock.sendall(b"SEND\ndestination:/q\n\n\x00")
            assert read_to_eof(sock) == b""

    with pytest.raises(UnexpectedFrameError, match="expected SubscribeFrame"):
        run()


def test_bytes_that_are_not_stomp_fail_the_test() -> None:
    def run() -> None:
        with StompTestServer(serve) as server, connect_raw(server) as sock:
            sock.sendall(b"FOO\n\n\x00")
            assert read_to_eof(sock) == b""

    with pytest.raises(ProtocolError, match="unknown command"):
        run()


def test_read_frame_gives_up_after_its_timeout() -> None:
    def script(conn: ServerConnection) -> None:
        conn.read_frame(timeout=0.05)

    def run() -> None:
        with StompTestServer(script) as server, connect_raw(server) as sock:
            assert read_to_eof(sock) == b""

    with pytest.raises(AssertionError, match=r"no frame from the client within 0\.05 s"):
        run()


def test_read_frame_raises_when_the_client_closes() -> None:
    seen: list[BaseException] = []

    def script(conn: ServerConnection) -> None:
        try:
            conn.read_frame()
        except ClientClosedError as exc:
            seen.append(exc)

    with StompTestServer(script) as server:
        connect_raw(server).close()
    assert len(seen) == 1


def test_wait_closed_and_closes_within() -> None:
    results: list[bool] = []
    release = Signal()

    def script(conn: ServerConnection) -> None:
        results.append(conn.closes_within(0.05))
        release.set()
        conn.wait_closed()
        results.append(conn.closes_within(0))

    with StompTestServer(script) as server:
        sock = connect_raw(server)
        assert release.wait(TIMEOUT)
        sock.close()
    assert results == [False, True]


def test_wait_closed_fails_when_the_client_keeps_the_connection_open() -> None:
    def script(conn: ServerConnection) -> None:
        conn.wait_closed(0.05)

    def run() -> None:
        with StompTestServer(script) as server, connect_raw(server) as sock:
            assert read_to_eof(sock) == b""

    with pytest.raises(AssertionError, match="kept the connection open"):
        run()


def test_close_sends_eof_and_reset_sends_rst() -> None:
    def script(conn: ServerConnection) -> None:
        conn.send(b"partial")
        if conn.index == 0:
            conn.close()
        else:
            conn.reset()

    with StompTestServer(script) as server:
        with connect_raw(server) as sock:
            assert read_to_eof(sock) == b"partial"
        with connect_raw(server) as sock, pytest.raises(ConnectionResetError):
            read_to_eof(sock)


def test_a_client_that_ends_inside_a_frame_is_flagged_not_failed() -> None:
    with StompTestServer(lambda conn: conn.wait_closed()) as server, connect_raw(server) as sock:
        sock.sendall(b"SEND\ndestination:/q\n\nhal")
    conn = server.connection()
    assert conn.ended_mid_frame
    assert conn.read_error is None
    assert conn.frames == []


def test_connections_are_numbered_in_accept_order() -> None:
    indexes: list[int] = []
    lock = threading.Lock()

    def script(conn: ServerConnection) -> None:
        with lock:
            indexes.append(conn.index)
        conn.close()

    with StompTestServer(script) as server:
        for _ in range(3):
            with connect_raw(server) as sock:
                assert read_to_eof(sock) == b""
    assert sorted(indexes) == [0, 1, 2]
    assert [conn.index for conn in server.connections] == [0, 1, 2]
    with pytest.raises(AssertionError, match="accepted 3 connection"):
        server.connection(3)


def test_several_failing_scripts_fail_together() -> None:
    def script(conn: ServerConnection) -> None:
        msg = f"boom {conn.index}"
        raise RuntimeError(msg)

    def run() -> None:
        with StompTestServer(script) as server:
            for _ in range(2):
                with connect_raw(server) as sock:
                    read_to_eof(sock)

    with pytest.raises(ExceptionGroup) as caught:
        run()
    assert sorted(str(error) for error in caught.value.exceptions) == ["boom 0", "boom 1"]


def test_a_failing_test_is_not_masked_by_its_server() -> None:
    def script(conn: ServerConnection) -> None:
        conn.read_frame()

    def run() -> None:
        with StompTestServer(script) as server:
            connect_raw(server).close()
            msg = "the test's own failure"
            raise KeyError(msg)

    with pytest.raises(KeyError) as caught:
        run()
    assert any("the test server also failed" in note for note in caught.value.__notes__)


def test_a_hung_script_is_reported_after_the_join_timeout() -> None:
    release = Signal()

    started = Signal()

    def script(_: ServerConnection) -> None:
        started.set()
        release.wait(TIMEOUT)

    def run() -> None:
        with StompTestServer(script, join_timeout=0.05) as server:
            connect_raw(server).close()
            assert started.wait(TIMEOUT)

    try:
        with pytest.raises(AssertionError, match="did not end within the join timeout"):
            run()
    finally:
        release.set()


class RawClient:
    """A raw socket that parses what the server sends with the client's own codec."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._parser = ServerFrameParser()
        self._frames: list[ServerFrame] = []

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def frames(self, count: int) -> list[ServerFrame]:
        """Read until ``count`` more frames arrived; the socket's timeout bounds each read."""
        while len(self._frames) < count:
            data = self.sock.recv(65536)
            if not data:
                msg = f"EOF after {self._frames!r}"
                raise AssertionError(msg)
            self._frames += [
                f for f in self._parser.feed(data) if not isinstance(f, HeartbeatFrame)
            ]
        taken, self._frames = self._frames[:count], self._frames[count:]
        return taken


@pytest.fixture
def broker_client() -> Iterator[tuple[Broker, RawClient]]:
    broker = Broker()
    with StompTestServer(broker) as server, connect_raw(server) as sock:
        client = RawClient(sock)
        client.send(CONNECT)
        assert client.frames(1)[0].headers == {"version": "1.2", "heart-beat": "0,0"}
        yield broker, client
        client.send(DISCONNECT)
        assert client.frames(1) == [ReceiptFrame({"receipt-id": "bye"})]
        assert read_to_eof(sock) == b""


def test_broker_delivers_a_send_to_each_subscription(
    broker_client: tuple[Broker, RawClient],
) -> None:
    broker, client = broker_client
    client.send(b"SUBSCRIBE\nid:1\ndestination:/q\nack:client\n\n\x00")
    client.send(b"SUBSCRIBE\nid:2\ndestination:/q\nreceipt:s\n\n\x00")
    client.send(b"SUBSCRIBE\nid:3\ndestination:/other\n\n\x00")
    assert client.frames(1) == [ReceiptFrame({"receipt-id": "s"})]
    client.send(b"SEND\ndestination:/q\nx-k:v\ncontent-length:3\n\na\x00b\x00")
    assert client.frames(2) == [
        MessageFrame(
            {
                "destination": "/q",
                "message-id": "m-1",
                "subscription": "1",
                "ack": "ack-m-1",
                "x-k": "v",
                "content-length": "3",
            },
            b"a\x00b",
        ),
        MessageFrame(
            {
                "destination": "/q",
                "message-id": "m-2",
                "subscription": "2",
                "x-k": "v",
                "content-length": "3",
            },
            b"a\x00b",
        ),
    ]
    client.send(b"ACK\nid:ack-m-1\n\n\x00NACK\nid:x\nreceipt:a\n\n\x00")
    assert client.frames(1) == [ReceiptFrame({"receipt-id": "a"})]
    assert broker.acks == ["ack-m-1"]
    assert broker.nacks == ["x"]


def test_broker_holds_transactional_sends_until_commit(
    broker_client: tuple[Broker, RawClient],
) -> None:
    broker, client = broker_client
    client.send(b"SUBSCRIBE\nid:1\ndestination:/q\n\n\x00")
    client.send(b"BEGIN\ntransaction:t1\n\n\x00BEGIN\ntransaction:t2\n\n\x00")
    client.send(b"SEND\ndestination:/q\ntransaction:t1\n\nkept\x00")
    client.send(b"SEND\ndestination:/q\ntransaction:t2\n\ndropped\x00")
    client.send(b"ABORT\ntransaction:t2\nreceipt:a\n\n\x00")
    assert client.frames(1) == [ReceiptFrame({"receipt-id": "a"})]
    client.send(b"COMMIT\ntransaction:t1\n\n\x00")
    [message] = client.frames(1)
    assert isinstance(message, MessageFrame)
    assert message.body == b"kept"
    client.send(b"UNSUBSCRIBE\nid:1\n\n\x00SEND\ndestination:/q\nreceipt:after\n\nx\x00")
    assert client.frames(1) == [ReceiptFrame({"receipt-id": "after"})]
    assert [send.body for send in broker.sent] == [b"kept", b"x"]


def test_wait_received_waits_for_bytes_not_frames() -> None:
    results: list[str] = []

    def script(conn: ServerConnection) -> None:
        conn.wait_received(5)
        results.append("five")
        try:
            conn.wait_received(100, timeout=0.05)
        except AssertionError as exc:
            results.append(str(exc))

    with StompTestServer(script) as server, connect_raw(server) as sock:
        sock.sendall(b"SEND\n")
        assert read_to_eof(sock) == b""
    assert results == ["five", "5 bytes arrived, not 100"]


def test_message_frame_builds_a_message() -> None:
    parser = ServerFrameParser()
    parser.feed(CONNECTED)
    data = message_frame("7", b"a\x00", message_id="m:9", headers={"x": "1"})
    assert parser.feed(data) == [
        MessageFrame(
            {
                "destination": "/queue/a",
                "message-id": "m:9",
                "subscription": "7",
                "x": "1",
                "content-length": "2",
            },
            b"a\x00",
        )
    ]


def test_receipt_frame_escapes_its_id() -> None:
    assert receipt_frame("a:b\\c") == b"RECEIPT\nreceipt-id:a\\cb\\\\c\n\n\x00"


def test_serve_until_disconnect_returns_the_disconnect() -> None:
    got: list[DisconnectFrame] = []

    def script(conn: ServerConnection) -> None:
        accept_connect(conn)
        got.append(serve_until_disconnect(conn))

    with StompTestServer(script) as server, connect_raw(server) as sock:
        sock.sendall(CONNECT + DISCONNECT)
        assert read_to_eof(sock) == CONNECTED + b"RECEIPT\nreceipt-id:bye\n\n\x00"
    assert got == [DisconnectFrame({"receipt": "bye"})]


def test_refused_port_refuses() -> None:
    with refused_port() as port, pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)


def test_client_options_point_at_the_servers_and_take_overrides() -> None:
    with StompTestServer(lambda conn: conn.wait_closed()) as server:
        options = client_options(server, 4242, read_timeout=0.5)
    assert options["servers"] == [
        ConnectionParameters("127.0.0.1", server.port, "guest", "guest"),
        ConnectionParameters("127.0.0.1", 4242, "guest", "guest"),
    ]
    assert options["read_timeout"] == 0.5
    assert isinstance(options["heartbeat"], Heartbeat)


def test_server_threads_are_not_named_like_the_clients() -> None:
    with StompTestServer(lambda conn: conn.wait_closed()) as server, connect_raw(server):
        names = [thread.name for thread in threading.enumerate()]
    assert not [name for name in names if name.startswith("stompio-")]
