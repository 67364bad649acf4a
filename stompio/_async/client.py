# Source of truth: scripts/unasync.py generates stompio/_sync/client.py from this file.
"""The client: connect to the first server that answers, send, subscribe, listen."""

from __future__ import annotations

import contextlib
import functools
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING, Self

from stompio._async.connection import AsyncConnection, Ended, ReadTurn
from stompio._backends._anyio import (
    AsyncEvent,
    AsyncShieldCancellation,
    AsyncTaskGroup,
    first_success,
)
from stompio._codec import DEFAULT_MAX_FRAME_SIZE
from stompio._config import ConnectionParameters, Heartbeat
from stompio._errors import (
    Error,
    FailedAllConnectAttemptsError,
    NotConnectedError,
    ServerError,
    UnsupportedProtocolVersion,
)
from stompio._events import (
    AsyncListenEvent,
    AsyncSettle,
    HeartbeatEvent,
    MessageEvent,
    SettleCommand,
)
from stompio._frames import MessageFrame

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping, Sequence
    from types import TracebackType

    from stompio._protocol import AckMode, Subscription, Transaction


class AsyncClient:
    """A STOMP 1.2 client; use it as a context manager, which connects and disconnects.

    ``servers`` are tried concurrently and the first to complete the handshake wins. Each is
    tried ``connect_retry_attempts`` times, ``connect_retry_interval`` seconds apart; the TCP
    connect is bounded by ``connect_timeout`` and the wait for CONNECTED by
    ``connection_confirmation_timeout``. The server is declared dead when it sends nothing for
    twice its negotiated heart-beat period plus ``read_timeout`` seconds. Leaving the client
    sends DISCONNECT and waits up to ``disconnect_timeout`` for its receipt; a call that asks
    for a receipt waits up to ``receipt_timeout``. Frames from the server larger than
    ``max_frame_size`` bytes end the connection.
    """

    def __init__(
        self,
        servers: Sequence[ConnectionParameters],
        *,
        heartbeat: Heartbeat = Heartbeat(1000, 1000),  # noqa: B008 (immutable)
        connect_retry_attempts: int = 3,
        connect_retry_interval: float = 1,
        connect_timeout: float = 2,
        connection_confirmation_timeout: float = 2,
        read_timeout: float = 2,
        disconnect_timeout: float = 2,
        receipt_timeout: float = 10,
        max_frame_size: int = DEFAULT_MAX_FRAME_SIZE,
    ) -> None:
        self._servers = _check_servers(servers)
        if not isinstance(heartbeat, Heartbeat):
            msg = f"heartbeat must be a Heartbeat, not {type(heartbeat).__name__}"
            raise TypeError(msg)
        self._heartbeat = heartbeat
        if not isinstance(connect_retry_attempts, int) or connect_retry_attempts < 1:
            msg = f"connect_retry_attempts must be an int >= 1, not {connect_retry_attempts!r}"
            raise ValueError(msg)
        self._connect_retry_attempts = connect_retry_attempts
        self._connect_retry_interval = _non_negative(
            "connect_retry_interval", connect_retry_interval
        )
        self._connect_timeout = _positive("connect_timeout", connect_timeout)
        self._confirmation_timeout = _positive(
            "connection_confirmation_timeout", connection_confirmation_timeout
        )
        self._read_timeout = _non_negative("read_timeout", read_timeout)
        self._disconnect_timeout = _positive("disconnect_timeout", disconnect_timeout)
        self._receipt_timeout = _positive("receipt_timeout", receipt_timeout)
        self._max_frame_size = int(_positive("max_frame_size", max_frame_size))
        self._connection: AsyncConnection | None = None
        self._exit_stack: AsyncExitStack | None = None

    async def __aenter__(self) -> Self:
        if self._exit_stack is not None:
            msg = "this client is already connected"
            raise RuntimeError(msg)
        connection = await self._connect()
        exit_stack = AsyncExitStack()
        try:
            tasks = await exit_stack.enter_async_context(AsyncTaskGroup())
            exit_stack.push_async_callback(connection.close, self._disconnect_timeout)
            connection.start_background(tasks)
        except BaseException:
            await connection.close(self._disconnect_timeout)
            await exit_stack.aclose()
            raise
        self._connection = connection
        self._exit_stack = exit_stack
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        exit_stack, self._exit_stack = self._exit_stack, None
        if exit_stack is not None:
            # The connection closes itself under a shield; the task group must be left in the
            # scope it was entered in, so it is not shielded here.
            await exit_stack.aclose()

    @property
    def server(self) -> ConnectionParameters:
        """The server this client is connected to."""
        return self._require_connection().server

    async def send(
        self,
        body: bytes | str,
        destination: str,
        *,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
        transaction: Transaction | None = None,
        receipt: bool | str = False,
    ) -> None:
        """Send a message to ``destination``.

        A ``str`` body is sent as UTF-8 with ``text/plain;charset=utf-8`` unless
        ``content_type`` says otherwise. ``receipt=True`` waits until the server confirms the
        SEND (or raises); a ``str`` asks for a RECEIPT with that id, which ``listen()``
        reports as a ``ReceiptEvent``.
        """
        connection = self._require_connection()
        receipt_id, data = connection.session.send(
            body,
            destination,
            content_type=content_type,
            headers=headers,
            transaction=transaction,
            receipt=receipt,
        )
        if receipt is True and receipt_id is not None:
            await connection.request_encoded(data, "SEND", receipt_id, self._receipt_timeout)
        else:
            await connection.write(data)

    @asynccontextmanager
    async def subscribe(
        self,
        destination: str,
        *,
        ack: AckMode = "client-individual",
        headers: Mapping[str, str] | None = None,
        receipt: bool = False,
    ) -> AsyncIterator[Subscription]:
        """Subscribe to ``destination`` for the block; leaving it sends UNSUBSCRIBE.

        ``ack`` is the STOMP ack mode; ``headers`` add broker extensions (prefetch, selectors).
        ``receipt=True`` returns only once the server confirmed the subscription.
        """
        connection = self._require_connection()
        subscription, receipt_id, frame = connection.session.subscribe(
            destination, ack=ack, headers=headers, receipt=receipt
        )
        if receipt_id is not None:
            await connection.request(frame, receipt_id, self._receipt_timeout)
        else:
            await connection.write_frame(frame)
        try:
            yield subscription
        finally:
            with AsyncShieldCancellation():
                if connection.is_open:
                    _, unsubscribe = connection.session.unsubscribe(subscription)
                    # The connection may end meanwhile: the subscription ends with it.
                    with contextlib.suppress(Error):
                        await connection.write_frame(unsubscribe)

    @asynccontextmanager
    async def enter_transaction(self) -> AsyncIterator[Transaction]:
        """Open a transaction for the block: COMMIT when it ends, ABORT when it raises.

        The COMMIT waits for the server's receipt, so leaving the block means it is done.
        """
        connection = self._require_connection()
        transaction, begin = connection.session.begin()
        await connection.write_frame(begin)
        try:
            yield transaction
        except BaseException:
            with AsyncShieldCancellation():
                if connection.is_open:
                    _, abort = connection.session.abort(transaction)
                    # A server aborts the open transactions of a lost connection itself.
                    with contextlib.suppress(Error):
                        await connection.write_frame(abort)
            raise
        receipt_id, commit = connection.session.commit(transaction, receipt=True)
        if receipt_id is not None:
            await connection.request(commit, receipt_id, self._receipt_timeout)

    def listen(self) -> AsyncListener:
        """Iterate over what the server sends: messages of every subscription, errors, beats.

        After an ``ErrorEvent``, or when the connection is lost, the iteration raises
        ``ConnectionLostError``; it ends quietly once the client itself disconnected.
        """
        connection = self._connection
        if connection is None or self._exit_stack is None:
            msg = "the client is not connected: use it in a with block"
            raise NotConnectedError(msg)
        # Not _require_connection(): what arrived before the end (an ERROR) is still to be read.
        return AsyncListener(connection, self._settle)

    async def _settle(
        self, frame: MessageFrame, command: SettleCommand, transaction: Transaction | None
    ) -> None:
        # The client's current connection: a message from an earlier one is refused by its
        # session (a ValueError), not sent.
        await self._require_connection().settle(frame, command, transaction)

    def _require_connection(self) -> AsyncConnection:
        connection = self._connection
        if connection is None or self._exit_stack is None:
            msg = "the client is not connected: use it in a with block"
            raise NotConnectedError(msg)
        if not connection.is_open:
            raise connection.failure()
        return connection

    async def _connect(self) -> AsyncConnection:
        stop = AsyncEvent()
        attempts = [functools.partial(self._connect_to, server, stop) for server in self._servers]
        winners, errors = await first_success(attempts, self._discard, stop)
        if not winners:
            reasons = [
                (server, error)
                for server, error in zip(self._servers, errors, strict=True)
                if error is not None
            ]
            raise FailedAllConnectAttemptsError(reasons)
        return winners[0]

    async def _connect_to(self, server: ConnectionParameters, stop: AsyncEvent) -> AsyncConnection:
        attempt = 1
        while True:
            try:
                return await AsyncConnection.open(
                    server,
                    heartbeat=self._heartbeat,
                    connect_timeout=self._connect_timeout,
                    confirmation_timeout=self._confirmation_timeout,
                    max_frame_size=self._max_frame_size,
                    read_margin=self._read_timeout,
                    stop=stop,
                )
            except (ServerError, UnsupportedProtocolVersion):
                raise  # the server answered: asking again gets the same answer
            except (Error, OSError):
                if attempt >= self._connect_retry_attempts:
                    raise
                if await stop.wait(self._connect_retry_interval):
                    raise
            attempt += 1

    async def _discard(self, connection: AsyncConnection) -> None:
        await connection.close(self._disconnect_timeout)


class AsyncListener:
    """What a client's ``listen()`` returns: an iterator over server events.

    A plain iterator object rather than a generator: leaving the loop early needs no
    finalisation, which trio would otherwise insist on.
    """

    def __init__(self, connection: AsyncConnection, settle: AsyncSettle) -> None:
        self._connection = connection
        self._settle = settle

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> AsyncListenEvent:
        connection = self._connection
        while True:
            item = connection.inbox.get_nowait()
            if item is None:
                item = await connection.next_item()
            match item:
                case MessageFrame():
                    if connection.session.is_subscribed(item):
                        return MessageEvent(item, self._settle)
                case HeartbeatEvent():
                    connection.heartbeat_taken()
                    return item
                case Ended():
                    # Put it back: every later iteration must end the same way.
                    connection.inbox.put(item)
                    if isinstance(item.error, NotConnectedError):
                        raise StopAsyncIteration
                    raise connection.failure()
                case None | ReadTurn():
                    pass
                case _:
                    return item


def _check_servers(servers: Sequence[ConnectionParameters]) -> tuple[ConnectionParameters, ...]:
    if isinstance(servers, ConnectionParameters):
        servers = [servers]
    checked = tuple(servers)
    if not checked:
        msg = "servers must name at least one server"
        raise ValueError(msg)
    for server in checked:
        if not isinstance(server, ConnectionParameters):
            msg = f"servers must be ConnectionParameters, not {type(server).__name__}"
            raise TypeError(msg)
    return checked


def _positive(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        msg = f"{name} must be a number > 0, not {value!r}"
        raise ValueError(msg)
    return value


def _non_negative(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        msg = f"{name} must be a number >= 0, not {value!r}"
        raise ValueError(msg)
    return value
