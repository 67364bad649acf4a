"""What the integration suite shares across both faces: servers, names, and stomp.py as a peer.

Nothing here depends on the face under test, so it is written once, by hand, and imported by
the async source and the generated blocking tests alike.
"""

from __future__ import annotations

import dataclasses
import queue
import threading
import uuid
from typing import TYPE_CHECKING, Any, Protocol, Self

import sniffio
import stomp

import stompio

if TYPE_CHECKING:
    from collections.abc import Mapping
    from types import TracebackType

STOMP_PY_TIMEOUT = 10.0
"""How long the stomp.py peer waits for CONNECTED, a RECEIPT, a MESSAGE or the close, in s."""


class Broker(Protocol):
    """What the suite reads from the ``broker`` fixture of ``tests/integration/conftest.py``."""

    @property
    def name(self) -> str: ...  # "rabbitmq" or "activemq"
    @property
    def host(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def login(self) -> str: ...
    @property
    def passcode(self) -> str: ...
    @property
    def vhost(self) -> str: ...


def server_of(broker: Broker, **changes: Any) -> stompio.ConnectionParameters:
    """The connection parameters of ``broker``, with ``changes`` (a wrong passcode, say)."""
    server = stompio.ConnectionParameters(
        host=broker.host,
        port=broker.port,
        login=broker.login,
        passcode=broker.passcode,
        vhost=broker.vhost,
    )
    return dataclasses.replace(server, **changes)


def unique_name(label: str) -> str:
    """A name no other test (and no earlier run) uses: destinations, cases, receipt ids."""
    return f"{label}-{uuid.uuid4().hex}"


def async_library() -> str | None:
    """The async library running the caller ("asyncio" or "trio"); None in blocking code."""
    try:
        return sniffio.current_async_library()
    except sniffio.AsyncLibraryNotFoundError:
        return None


@dataclasses.dataclass(frozen=True, slots=True)
class Received:
    """A MESSAGE as stomp.py handed it over: unescaped headers and the raw body."""

    headers: dict[str, str]
    body: bytes


class _Recorder(stomp.ConnectionListener):  # type: ignore[misc]  # stomp.py is untyped
    """Hands what stomp.py's receiver thread sees to the test's thread."""

    def __init__(self) -> None:
        self.connected = threading.Event()
        self.disconnected = threading.Event()
        self.messages: queue.Queue[Received] = queue.Queue()
        self.receipts: queue.Queue[str] = queue.Queue()
        self.errors: queue.Queue[str] = queue.Queue()

    def on_connected(self, _frame: stomp.utils.Frame) -> None:
        self.connected.set()

    def on_disconnected(self) -> None:
        self.disconnected.set()

    def on_message(self, frame: stomp.utils.Frame) -> None:
        self.messages.put(Received(headers=dict(frame.headers), body=frame.body))

    def on_receipt(self, frame: stomp.utils.Frame) -> None:
        self.receipts.put(frame.headers["receipt-id"])

    def on_error(self, frame: stomp.utils.Frame) -> None:
        self.errors.put(f"{frame.headers.get('message')}: {frame.body!r}")


class StompPyPeer:
    """A stomp.py 9 STOMP 1.2 connection to the same broker, the reference for interop tests.

    It is blocking and runs its own receiver thread; every wait is bounded by
    ``STOMP_PY_TIMEOUT``. The async tests use it only while no stompio connection is open,
    so its blocking waits never hold up a running client. stomp.py escapes header values
    (``\\``, LF, CR, ``:``) but writes header names as they are, and never sends undefined
    escapes; bodies are left as bytes (``auto_decode=False``).
    """

    def __init__(self, broker: Broker) -> None:
        self._broker = broker
        self._recorder = _Recorder()
        self._connection = stomp.Connection12(
            [(broker.host, broker.port)],
            prefer_localhost=False,
            try_loopback_connect=False,
            reconnect_attempts_max=1,
            heartbeats=(0, 0),
            vhost=broker.vhost,
            auto_decode=False,
        )
        self._connection.set_listener("recorder", self._recorder)

    def __enter__(self) -> Self:
        self._connection.connect(self._broker.login, self._broker.passcode, wait=False)
        if not self._recorder.connected.wait(STOMP_PY_TIMEOUT):
            self._connection.disconnect()
            msg = f"stomp.py got no CONNECTED within {STOMP_PY_TIMEOUT} s: {self._errors()}"
            raise AssertionError(msg)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # stomp.py waits for the DISCONNECT receipt in its own thread, then closes the socket.
        self._connection.disconnect()
        if not self._recorder.disconnected.wait(STOMP_PY_TIMEOUT) and exc is None:
            msg = f"stomp.py did not close within {STOMP_PY_TIMEOUT} s"
            raise AssertionError(msg)

    def send(self, body: bytes, destination: str, headers: Mapping[str, str]) -> None:
        """Send a message and wait for the broker's RECEIPT."""
        receipt = unique_name("stomp-py-send")
        self._connection.send(destination, body, headers=dict(headers), receipt=receipt)
        self._wait_receipt(receipt)

    def subscribe(self, destination: str) -> None:
        """Subscribe with ``ack:auto`` and wait for the broker's RECEIPT."""
        receipt = unique_name("stomp-py-subscribe")
        self._connection.subscribe(destination, id="1", ack="auto", receipt=receipt)
        self._wait_receipt(receipt)

    def next_message(self) -> Received:
        """The next MESSAGE stomp.py received."""
        try:
            return self._recorder.messages.get(timeout=STOMP_PY_TIMEOUT)
        except queue.Empty:
            msg = f"stomp.py received no MESSAGE within {STOMP_PY_TIMEOUT} s: {self._errors()}"
            raise AssertionError(msg) from None

    def _wait_receipt(self, receipt: str) -> None:
        try:
            arrived = self._recorder.receipts.get(timeout=STOMP_PY_TIMEOUT)
        except queue.Empty:
            msg = f"stomp.py got no RECEIPT within {STOMP_PY_TIMEOUT} s: {self._errors()}"
            raise AssertionError(msg) from None
        assert arrived == receipt, (arrived, receipt)

    def _errors(self) -> list[str]:
        errors = []
        while not self._recorder.errors.empty():
            errors.append(self._recorder.errors.get_nowait())
        return errors
