"""An in-process STOMP server for the client tests: real sockets on 127.0.0.1, scripted replies.

Each accepted connection runs a *script*, a plain function ``script(conn)`` in a thread of its
own, while a reader thread parses everything the client sends (with the codec's
:class:`ClientFrameParser`) into a log that the test reads once the client is done. Scripts
write raw bytes, so a test states the server's side of the wire byte by byte. The server is
made of threads and blocking sockets only, so it serves the async tests (asyncio and trio)
and the generated blocking tests alike, and never runs on a test's event loop.

A script that fails (an ``expect`` that saw the wrong frame, a frame that does not parse)
fails the test: :class:`StompTestServer` re-raises the script's exception when the test
leaves its ``with`` block.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self, TypeVar

from stompio import ConnectionParameters, Heartbeat
from stompio._codec import ClientFrameParser, serialize_frame
from stompio._errors import ConnectionLostError
from stompio._frames import (
    AbortFrame,
    AckFrame,
    BeginFrame,
    ClientFrame,
    CommitFrame,
    ConnectFrame,
    DisconnectFrame,
    HeartbeatFrame,
    MessageFrame,
    NackFrame,
    SendFrame,
    ServerFrame,
    StompFrame,
    SubscribeFrame,
    UnsubscribeFrame,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping
    from types import TracebackType

    Script = Callable[["ServerConnection"], None]

FrameT = TypeVar("FrameT", bound=ClientFrame)

HOST = "127.0.0.1"
FRAME_TIMEOUT = 5.0
"""How long a script waits for a client frame by default, in seconds."""
JOIN_TIMEOUT = 10.0
"""How long leaving a server waits for its threads, in seconds."""
_ACCEPT_SLICE = 0.05
_RECEIVE_SIZE = 64 * 1024
# Tests look at a client's own thread names; the server's must never match "stompio-".
_THREAD_PREFIX = "stomp-test-server"


class ClientClosedError(Exception):
    """The client closed the connection while a script waited for a frame."""


class UnexpectedFrameError(AssertionError):
    """The client sent another frame than the one a script expected."""


@dataclass(frozen=True, slots=True)
class Arrival:
    """One thing the server received, stamped with ``time.monotonic()`` on arrival."""

    at: float
    item: ClientFrame | HeartbeatFrame


class Signal:
    """A one-shot flag between a test and a script, with bounded waits only.

    Setting it never blocks, so an async test may set it from its event loop; only scripts
    (server threads) wait on it.
    """

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        """Raise the flag."""
        self._event.set()

    def is_set(self) -> bool:
        """Tell whether the flag is raised."""
        return self._event.is_set()

    def wait(self, timeout: float) -> bool:
        """Wait until the flag is raised or ``timeout`` seconds pass; True if raised."""
        return self._event.wait(timeout)


class ServerConnection:
    """The server's end of one accepted connection, as a script sees it.

    ``index`` counts accepted connections from 0, so a script can treat the first attempts
    of a client differently from the later ones.
    """

    def __init__(self, sock: socket.socket, index: int) -> None:
        self.index = index
        self._socket = sock
        self._parser = ClientFrameParser()
        self._condition = threading.Condition()
        self._write_lock = threading.Lock()
        self._pending: deque[ClientFrame] = deque()
        self._arrivals: list[Arrival] = []
        self._received = bytearray()
        self._eof = False
        self._read_error: BaseException | None = None
        self._shut = False
        self._ended_mid_frame = False
        self._hold = False
        self._holding = False
        self._reader = threading.Thread(
            target=self._read_loop, name=f"{_THREAD_PREFIX}-reader-{index}", daemon=True
        )
        self._reader.start()

    # What the client sent.

    @property
    def arrivals(self) -> list[Arrival]:
        """Every frame and heart-beat received so far, in order, with arrival times."""
        with self._condition:
            return list(self._arrivals)

    @property
    def events(self) -> list[ClientFrame | HeartbeatFrame]:
        """Every frame and heart-beat received so far, in order."""
        return [arrival.item for arrival in self.arrivals]

    @property
    def frames(self) -> list[ClientFrame]:
        """Every frame received so far, in order, heart-beats left out."""
        return [item for item in self.events if not isinstance(item, HeartbeatFrame)]

    @property
    def heartbeats(self) -> int:
        """How many heart-beat EOLs the client sent between frames."""
        return sum(isinstance(item, HeartbeatFrame) for item in self.events)

    @property
    def heartbeat_times(self) -> list[float]:
        """When each heart-beat arrived (``time.monotonic()``)."""
        return [a.at for a in self.arrivals if isinstance(a.item, HeartbeatFrame)]

    @property
    def received(self) -> bytes:
        """Every byte the client sent, exactly as it came."""
        with self._condition:
            return bytes(self._received)

    @property
    def read_error(self) -> BaseException | None:
        """Why reading stopped early: the client sent bytes that do not parse, say."""
        with self._condition:
            return self._read_error

    @property
    def ended_mid_frame(self) -> bool:
        """Tell whether the connection ended with a frame half sent."""
        with self._condition:
            return self._ended_mid_frame

    def arrival_time(self, frame_type: type[ClientFrame]) -> float:
        """When the first frame of ``frame_type`` arrived; AssertionError if none did."""
        for arrival in self.arrivals:
            if isinstance(arrival.item, frame_type):
                return arrival.at
        msg = f"no {frame_type.__name__} was received"
        raise AssertionError(msg)

    # Waiting for the client.

    def read_frame(self, timeout: float = FRAME_TIMEOUT) -> ClientFrame:
        """Take the next frame (heart-beats are counted, not returned).

        Raises ``AssertionError`` when none comes within ``timeout`` seconds,
        :class:`ClientClosedError` when the client closed first, and the parser's error when
        the client sent bytes that are not STOMP.
        """
        deadline = time.monotonic() + timeout
        with self._condition:
            while not self._pending:
                if self._read_error is not None:
                    raise self._read_error
                if self._eof:
                    msg = f"the client closed the connection (connection {self.index})"
                    raise ClientClosedError(msg)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    msg = f"no frame from the client within {timeout} s"
                    raise AssertionError(msg)
                self._condition.wait(remaining)
            return self._pending.popleft()

    def expect(self, frame_type: type[FrameT], timeout: float = FRAME_TIMEOUT) -> FrameT:
        """Take the next frame and check its type; ``AssertionError`` if it is another."""
        frame = self.read_frame(timeout)
        if not isinstance(frame, frame_type):
            msg = f"expected {frame_type.__name__}, the client sent {frame!r}"
            raise UnexpectedFrameError(msg)
        return frame

    def wait_received(self, size: int, timeout: float = FRAME_TIMEOUT) -> None:
        """Wait until ``size`` bytes in all arrived; ``AssertionError`` if not in time."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while len(self._received) < size:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._eof:
                    msg = f"{len(self._received)} bytes arrived, not {size}"
                    raise AssertionError(msg)
                self._condition.wait(remaining)

    def closes_within(self, timeout: float) -> bool:
        """Wait until the client closes its end (EOF) or ``timeout`` passes; True if it did."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while not self._eof:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._condition.wait(remaining)
            return True

    def wait_closed(self, timeout: float = FRAME_TIMEOUT) -> None:
        """Wait until the client closes its end; ``AssertionError`` if it does not in time."""
        if not self.closes_within(timeout):
            msg = f"the client kept the connection open for {timeout} s"
            raise AssertionError(msg)

    def stop_reading(self) -> None:
        """Read nothing after the read in progress until the connection is closed.

        The client's writes then fill the socket buffers and block, as with a server that
        hangs.
        """
        with self._condition:
            self._hold = True

    def wait_reading_stopped(self, timeout: float = FRAME_TIMEOUT) -> None:
        """Wait until reading stopped with bytes in hand: the client is then mid-write."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while not self._holding:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._eof:
                    msg = "the server kept reading: nothing arrived after stop_reading()"
                    raise AssertionError(msg)
                self._condition.wait(remaining)

    # Talking to the client.

    def send(self, data: bytes) -> None:
        """Write ``data`` exactly as given."""
        with self._write_lock:
            self._socket.sendall(data)

    def send_frame(self, frame: ServerFrame) -> None:
        """Write a frame in the codec's canonical form (with ``content-length``)."""
        self.send(serialize_frame(frame))

    def close(self) -> None:
        """Close the connection (FIN); the client sees EOF."""
        with self._condition:
            if self._shut:
                return
            self._shut = True
            self._condition.notify_all()
        with contextlib.suppress(OSError):  # the client may have reset it already
            self._socket.shutdown(socket.SHUT_RDWR)

    def reset(self) -> None:
        """Abort the connection (RST) instead of closing it."""
        # Linger on, zero seconds: close() then sends RST and drops unsent data.
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with self._condition:
            self._shut = True
            self._condition.notify_all()
        with contextlib.suppress(OSError):
            self._socket.shutdown(socket.SHUT_RD)
        # Only the reader's exit closes the socket: wait for it so the RST is out on return.
        self._reader.join(JOIN_TIMEOUT)
        self._socket.close()

    # The reader thread and the end.

    def _read_loop(self) -> None:
        try:
            while True:
                data = self._socket.recv(_RECEIVE_SIZE)
                now = time.monotonic()
                if not data:
                    break
                with self._condition:
                    self._received += data
                    self._condition.notify_all()
                items = self._parser.feed(data)
                with self._condition:
                    for item in items:
                        self._arrivals.append(Arrival(now, item))
                        if not isinstance(item, HeartbeatFrame):
                            self._pending.append(item)
                    self._condition.notify_all()
                    while self._hold and not self._shut:
                        self._holding = True
                        self._condition.notify_all()
                        self._condition.wait()
            self._parser.feed_eof()
        except ConnectionLostError:
            # Closing in the middle of a frame is how a client abandons a cut write.
            with self._condition:
                self._ended_mid_frame = True
        except ConnectionResetError:
            pass  # the client reset the connection: that is its end, not a bad byte
        except Exception as exc:  # noqa: BLE001 (handed to the script and the test)
            with self._condition:
                # Our own close also ends the read; only the client's bytes can be wrong.
                if not self._shut:
                    self._read_error = exc
        finally:
            with self._condition:
                self._eof = True
                self._condition.notify_all()

    def finish(self, timeout: float) -> bool:
        """Close the connection and wait for the reader; False if it did not stop in time."""
        self.close()
        self._reader.join(timeout)
        if self._reader.is_alive():
            return False
        self._socket.close()
        return True


class StompTestServer:
    """A STOMP server on ``127.0.0.1``, an ephemeral port, running ``script`` per connection.

    Use it as a context manager; ``port`` is the port to connect to. Leaving the block stops
    accepting, waits (bounded) for the scripts, closes every connection, and re-raises what a
    script raised or what a reader could not parse.
    """

    def __init__(self, script: Script, *, join_timeout: float = JOIN_TIMEOUT) -> None:
        self._script = script
        self._join_timeout = join_timeout
        self._listener: socket.socket | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._connections: list[ServerConnection] = []
        self._script_threads: list[threading.Thread] = []
        self._errors: list[BaseException] = []
        self._acceptor: threading.Thread | None = None
        self.port = 0

    def __enter__(self) -> Self:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind((HOST, 0))
        listener.listen(16)
        listener.settimeout(_ACCEPT_SLICE)
        self._listener = listener
        self.port = listener.getsockname()[1]
        self._acceptor = threading.Thread(
            target=self._accept_loop, name=f"{_THREAD_PREFIX}-accept", daemon=True
        )
        self._acceptor.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop(wake_scripts=exc is not None)
        with self._lock:
            errors = list(self._errors)
        if not errors:
            return
        if exc is not None:
            for error in errors:
                exc.add_note(f"the test server also failed: {error!r}")
            return
        if len(errors) == 1:
            raise errors[0]
        msg = "the test server's scripts failed"
        raise BaseExceptionGroup(msg, errors)

    def _stop(self, *, wake_scripts: bool) -> None:
        self._stopping.set()
        deadline = time.monotonic() + self._join_timeout
        assert self._acceptor is not None
        assert self._listener is not None
        self._acceptor.join(self._join_timeout)
        self._listener.close()
        with self._lock:
            connections = list(self._connections)
            threads = list(self._script_threads)
        if wake_scripts:
            # The test failed already: end every script now rather than let each time out.
            for connection in connections:
                connection.close()
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                self._fail(AssertionError(f"{thread.name} did not end within the join timeout"))
        for connection in connections:
            if not connection.finish(max(0.0, deadline - time.monotonic())):
                self._fail(AssertionError(f"the reader of connection {connection.index} hung"))

    @property
    def connections(self) -> list[ServerConnection]:
        """Every connection accepted so far, in order."""
        with self._lock:
            return list(self._connections)

    def connection(self, index: int = 0) -> ServerConnection:
        """The connection accepted ``index``-th (from 0); ``AssertionError`` if none was."""
        connections = self.connections
        if index >= len(connections):
            msg = f"the server accepted {len(connections)} connection(s), not {index + 1}"
            raise AssertionError(msg)
        return connections[index]

    @property
    def parameters(self) -> ConnectionParameters:
        """Connection parameters for this server, with ``guest``/``guest`` as login."""
        return ConnectionParameters(host=HOST, port=self.port, login="guest", passcode="guest")

    def _fail(self, error: BaseException) -> None:
        with self._lock:
            self._errors.append(error)

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError as exc:
                self._fail(exc)
                return
            sock.settimeout(None)
            with self._lock:
                connection = ServerConnection(sock, len(self._connections))
                thread = threading.Thread(
                    target=self._run_script,
                    args=(connection,),
                    name=f"{_THREAD_PREFIX}-script-{connection.index}",
                    daemon=True,
                )
                self._connections.append(connection)
                self._script_threads.append(thread)
            thread.start()

    def _run_script(self, connection: ServerConnection) -> None:
        try:
            self._script(connection)
            error = connection.read_error
            if error is not None:
                raise error
        except BaseException as exc:  # noqa: BLE001 (re-raised in the test's thread)
            exc.add_note(f"in the script of connection {connection.index}")
            self._fail(exc)
        finally:
            # A script's end is the end of its connection.
            connection.close()


# Building blocks for scripts.


def connected_frame(heartbeat: str = "0,0") -> bytes:
    """The bytes of a STOMP 1.2 CONNECTED with the given ``heart-beat`` header."""
    return f"CONNECTED\nversion:1.2\nheart-beat:{heartbeat}\n\n\x00".encode()


def message_frame(
    subscription: str,
    body: bytes = b"",
    *,
    message_id: str = "m-1",
    destination: str = "/queue/a",
    headers: Mapping[str, str] | None = None,
) -> bytes:
    """The bytes of a MESSAGE for ``subscription`` (with ``content-length``)."""
    frame_headers = {
        "destination": destination,
        "message-id": message_id,
        "subscription": subscription,
        **(headers or {}),
    }
    return serialize_frame(MessageFrame(frame_headers, body))


def message_frames(subscription: str, numbers: range) -> bytes:
    """Messages ``m<n>`` with ack ids ``a-<n>`` in one piece, so that they arrive in one read."""
    return b"".join(
        message_frame(subscription, f"m{n}".encode(), message_id=str(n), headers={"ack": f"a-{n}"})
        for n in numbers
    )


def accept_connect(conn: ServerConnection, heartbeat: str = "0,0") -> ConnectFrame | StompFrame:
    """Expect CONNECT (or STOMP) and answer CONNECTED with ``heart-beat:<heartbeat>``."""
    frame = conn.read_frame()
    if not isinstance(frame, (ConnectFrame, StompFrame)):
        msg = f"expected CONNECT, the client sent {frame!r}"
        raise UnexpectedFrameError(msg)
    conn.send(connected_frame(heartbeat))
    return frame


def deliver_first(conn: ServerConnection, body: bytes = b"first", heartbeat: str = "0,0") -> str:
    """Accept CONNECT, expect SUBSCRIBE and send one message on it; return the subscription id."""
    accept_connect(conn, heartbeat)
    subscription = conn.expect(SubscribeFrame).headers["id"]
    conn.send(message_frame(subscription, body))
    return subscription


def receipt_frame(receipt_id: str) -> bytes:
    """The bytes of a RECEIPT for ``receipt_id`` (escaped as the spec says)."""
    escaped = receipt_id.replace("\\", "\\\\").replace(":", "\\c")
    return f"RECEIPT\nreceipt-id:{escaped}\n\n\x00".encode()


def serve_until_disconnect(conn: ServerConnection, timeout: float = 10.0) -> DisconnectFrame:
    """Answer every frame's ``receipt`` with a RECEIPT; after DISCONNECT's, close.

    ``timeout`` bounds the wait for each frame.
    """
    while True:
        frame = conn.read_frame(timeout)
        receipt = frame.headers.get("receipt")
        if receipt is not None:
            conn.send(receipt_frame(receipt))
        if isinstance(frame, DisconnectFrame):
            conn.close()
            return frame


def serve(conn: ServerConnection) -> None:
    """The whole life of a well-behaved connection: accept CONNECT, serve until DISCONNECT."""
    accept_connect(conn)
    serve_until_disconnect(conn)


@dataclass(slots=True)
class _Subscription:
    connection: ServerConnection
    id: str
    destination: str
    ack: str


class Broker:
    """A small broker for round trips, usable as a script (one instance per server).

    SUBSCRIBE is remembered and UNSUBSCRIBE forgets; a SEND becomes a MESSAGE to every
    subscription on that destination, on any connection, with an ``ack`` header for the
    client ack modes; sends inside a transaction wait for its COMMIT (ABORT drops them).
    Every ``receipt`` is answered, DISCONNECT closes. ``acks`` and ``nacks`` record the ids
    settled.
    """

    def __init__(self, heartbeat: str = "0,0") -> None:
        self.heartbeat = heartbeat
        self.acks: list[str] = []
        self.nacks: list[str] = []
        self.sent: list[SendFrame] = []
        self._lock = threading.Lock()
        self._subscriptions: list[_Subscription] = []
        self._message_ids = 0

    def __call__(self, conn: ServerConnection) -> None:
        """Serve one connection from CONNECT to DISCONNECT (or EOF)."""
        accept_connect(conn, self.heartbeat)
        transactions: dict[str, list[SendFrame]] = {}
        try:
            while not self._handle(conn, conn.read_frame(timeout=JOIN_TIMEOUT), transactions):
                pass
        except ClientClosedError:
            pass
        finally:
            with self._lock:
                self._subscriptions = [s for s in self._subscriptions if s.connection is not conn]

    def _handle(  # noqa: C901, PLR0912 (one case per command reads best together)
        self,
        conn: ServerConnection,
        frame: ClientFrame,
        transactions: dict[str, list[SendFrame]],
    ) -> bool:
        match frame:
            case SendFrame(headers={"transaction": transaction}):
                transactions[transaction].append(frame)
            case SendFrame():
                self._deliver(frame)
            case SubscribeFrame(headers=headers):
                subscription = _Subscription(
                    conn, headers["id"], headers["destination"], headers.get("ack", "auto")
                )
                with self._lock:
                    self._subscriptions.append(subscription)
            case UnsubscribeFrame(headers=headers):
                with self._lock:
                    self._subscriptions = [
                        s
                        for s in self._subscriptions
                        if not (s.connection is conn and s.id == headers["id"])
                    ]
            case AckFrame(headers=headers):
                with self._lock:
                    self.acks.append(headers["id"])
            case NackFrame(headers=headers):
                with self._lock:
                    self.nacks.append(headers["id"])
            case BeginFrame(headers=headers):
                transactions[headers["transaction"]] = []
            case CommitFrame(headers=headers):
                for send in transactions.pop(headers["transaction"]):
                    self._deliver(send)
            case AbortFrame(headers=headers):
                del transactions[headers["transaction"]]
            case _:
                pass
        receipt = frame.headers.get("receipt")
        if receipt is not None:
            conn.send(receipt_frame(receipt))
        if isinstance(frame, DisconnectFrame):
            conn.close()
            return True
        return False

    def _deliver(self, send: SendFrame) -> None:
        extra = {
            name: value
            for name, value in send.headers.items()
            if name not in {"destination", "receipt", "transaction", "content-length"}
        }
        with self._lock:
            self.sent.append(send)
            targets = [
                s for s in self._subscriptions if s.destination == send.headers["destination"]
            ]
            messages = []
            for subscription in targets:
                self._message_ids += 1
                message_id = f"m-{self._message_ids}"
                headers = {
                    "destination": subscription.destination,
                    "message-id": message_id,
                    "subscription": subscription.id,
                }
                if subscription.ack != "auto":
                    headers["ack"] = f"ack-{message_id}"
                messages.append(
                    (subscription.connection, MessageFrame({**headers, **extra}, send.body))
                )
        for connection, message in messages:
            connection.send_frame(message)


# Helpers for the test side.


@contextlib.contextmanager
def refused_port() -> Iterator[int]:
    """A port on 127.0.0.1 that refuses connections: bound, so nobody else takes it, but not
    listening."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((HOST, 0))
        yield sock.getsockname()[1]
    finally:
        sock.close()


def client_options(*servers: StompTestServer | int, **overrides: Any) -> dict[str, Any]:
    """Keyword arguments for a client of ``servers`` with the short timeouts tests want.

    A server is a :class:`StompTestServer` or a bare port; ``overrides`` replace defaults.
    """
    options: dict[str, Any] = {
        "servers": [
            ConnectionParameters(
                host=HOST,
                port=server if isinstance(server, int) else server.port,
                login="guest",
                passcode="guest",
            )
            for server in servers
        ],
        "heartbeat": Heartbeat(1000, 1000),
        "connect_retry_attempts": 1,
        "connect_retry_interval": 0.05,
        "connect_timeout": 2,
        "connection_confirmation_timeout": 2,
        "read_timeout": 1,
        "disconnect_timeout": 1,
        "receipt_timeout": 2,
    }
    options.update(overrides)
    return options
