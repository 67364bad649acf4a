"""The async half of the hand-written pairs, on anyio (asyncio or trio)."""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections import deque
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar

import anyio
import anyio.abc
import anyio.lowlevel

from stompio._errors import ConnectionLostError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Coroutine, Sequence
    from types import TracebackType


T = TypeVar("T")
RECEIVE_SIZE = 256 * 1024

monotonic = anyio.current_time
# Only measures intervals (between writes, since the last byte read), so real time will do;
# the loop's clock costs a microsecond.
interval_clock = time.monotonic
# Waking the writer task costs a task switch, and it sends the ACKs of one loop turn in one
# write: an ACK made in a burst is left to it.
ACKS_WAKE_WRITER = True


class AsyncStream:
    """A connected TCP socket; every failure surfaces as ``ConnectionLostError``.

    A non-blocking socket of our own, read and written as soon as it is ready, not one of
    anyio's streams: those yield to the loop before every receive and buffer what arrives
    in between. Against RabbitMQ, the asyncio client's round trip p50 fell from 395-439 us
    to 301-357 so. Like any receive, :meth:`receive` lets other tasks run each time.
    """

    def __init__(self, sock: socket.socket) -> None:
        self._socket = sock
        self._closed = False
        self._taken: bytes | None = None

    @classmethod
    async def connect(cls, host: str, port: int, timeout: float) -> Self:
        """Open a TCP connection, bounded by ``timeout`` seconds (``TimeoutError``).

        The addresses of ``host`` are tried in turn; the last one's error is raised.
        """
        with anyio.fail_after(timeout):
            addresses = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            error: OSError | None = None
            for family, kind, proto, _, address in addresses:
                sock = socket.socket(family, kind, proto)
                try:
                    await _connect(sock, address)
                except OSError as exc:
                    sock.close()
                    error = exc
                    continue
                except BaseException:
                    sock.close()
                    raise
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                return cls(sock)
        raise error or OSError(f"no address for {host}:{port}")

    async def receive(self, timeout: float | None) -> bytes | None:
        """Read what has arrived: ``b""`` at EOF, ``None`` when ``timeout`` passes first.

        A checkpoint: others run, and a cancellation lands, before it returns. Bytes it took
        before a cancellation landed are what the next receive returns.
        """
        try:
            data = self._taken
            if data is None:
                try:
                    data = self._socket.recv(RECEIVE_SIZE)
                except BlockingIOError:
                    # The wait is the checkpoint; a cancellation there has taken no bytes.
                    if timeout is None:
                        return await self._receive_when_ready()
                    with anyio.move_on_after(timeout):
                        return await self._receive_when_ready()
                    return None
                self._taken = data
            # One plain checkpoint: a check for cancellation before the read plus a shielded
            # yield after it took 54,000 instructions against 26,000 (asyncio; trio 44,000
            # against 39,000), and a read that waits needs neither.
            await anyio.lowlevel.checkpoint()
            self._taken = None
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError, ValueError) as exc:
            msg = f"reading from the server failed: {exc!r}"
            raise ConnectionLostError(msg) from exc
        return data

    async def _receive_when_ready(self) -> bytes:
        while True:
            await anyio.wait_readable(self._socket)
            # Readiness can be spurious: then wait again. (A try block, not suppress(): its
            # Python enter and exit cost 3,900 instructions per read.)
            try:
                return self._socket.recv(RECEIVE_SIZE)
            except BlockingIOError:
                continue

    async def send_all(self, data: bytes) -> None:
        """Write all of ``data``; returns without yielding when the socket takes it at once."""
        try:
            view = memoryview(data)
            while view:
                try:
                    sent = self._socket.send(view)
                except BlockingIOError:
                    await anyio.wait_writable(self._socket)
                    continue
                view = view[sent:]
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError, ValueError) as exc:
            msg = f"writing to the server failed: {exc!r}"
            raise ConnectionLostError(msg) from exc

    async def aclose(self) -> None:
        """Close the socket now; a task blocked reading or writing it wakes with an error."""
        if self._closed:
            return
        self._closed = True
        anyio.notify_closing(self._socket)
        self._socket.close()


async def _connect(
    sock: socket.socket, address: tuple[str, int] | tuple[str, int, int, int]
) -> None:
    sock.settimeout(0)  # non-blocking
    try:
        sock.connect(address)
    except BlockingIOError:
        await anyio.wait_writable(sock)
        code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if code:
            raise OSError(code, os.strerror(code)) from None


class AsyncLock:
    """A lock for tasks, held across awaits; taking a free one does not yield.

    Tasks switch only at awaits, so a flag is the lock and a queue of events the waiters:
    anyio's own lock looked up the current task three times per use (4-5k instructions).
    """

    def __init__(self) -> None:
        self._locked = False
        self._waiters: deque[anyio.Event] = deque()

    async def __aenter__(self) -> None:
        if not self._locked:
            self._locked = True
            return
        turn = anyio.Event()
        self._waiters.append(turn)
        try:
            await turn.wait()
        except BaseException:
            if turn.is_set():
                self._release()  # handed the lock, but cancelled before taking it
            else:
                self._waiters.remove(turn)
            raise

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._release()

    def _release(self) -> None:
        if self._waiters:
            self._waiters.popleft().set()  # the lock passes on without being free in between
        else:
            self._locked = False


# Tasks switch only at an await: a section without one needs no guard.
AsyncCriticalSection = contextlib.nullcontext


class AsyncEvent:
    """A one-shot event for tasks, with a bounded wait."""

    def __init__(self) -> None:
        self._event = anyio.Event()

    def set(self) -> None:
        """Wake every waiter, now and later."""
        self._event.set()

    def is_set(self) -> bool:
        """Tell whether the event was set."""
        return self._event.is_set()

    async def wait(self, timeout: float | None) -> bool:
        """Wait until set or ``timeout`` seconds pass (``None``: no bound); True if set."""
        if timeout is None:
            await self._event.wait()
            return True
        with anyio.move_on_after(timeout):
            await self._event.wait()
        return self._event.is_set()


class AsyncQueue(Generic[T]):
    """An unbounded FIFO for the tasks of one event loop: a put never waits, a get is bounded."""

    def __init__(self) -> None:
        self._items: deque[T] = deque()
        # Made only when a get finds the queue empty: a listener that reads the socket itself
        # puts and takes without one (an anyio.Event costs 1.5-1.8 us to make).
        self._ready: anyio.Event | None = None

    def put(self, item: T) -> None:
        """Append an item."""
        self._items.append(item)
        if self._ready is not None:
            self._ready.set()
            self._ready = None

    async def get(self, timeout: float | None) -> T | None:
        """Take the oldest item, or ``None`` when ``timeout`` seconds pass first."""
        if not self._items:
            if timeout is None:
                await self._wait_for_item()
            else:
                with anyio.move_on_after(timeout):
                    await self._wait_for_item()
        return self.get_nowait()

    async def _wait_for_item(self) -> None:
        while not self._items:
            if self._ready is None:
                self._ready = anyio.Event()
            await self._ready.wait()

    def has_items(self) -> bool:
        """Tell whether a get would return at once."""
        return bool(self._items)

    def get_nowait(self) -> T | None:
        """Take the oldest item, or ``None`` when there is none."""
        return self._items.popleft() if self._items else None


class AsyncTaskGroup:
    """Background tasks that live as long as the group; leaving it cancels and awaits them."""

    def __init__(self) -> None:
        self._group = anyio.create_task_group()

    async def __aenter__(self) -> Self:
        await self._group.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._group.cancel_scope.cancel()
        await self._group.__aexit__(exc_type, exc, traceback)

    def start_soon(self, function: Callable[[], Coroutine[Any, Any, None]], name: str) -> None:
        """Run ``function`` in the background."""
        self._group.start_soon(function, name=name)


class AsyncDeadline:
    """Bounds a block that writes to ``stream`` to ``seconds``; past that, the block is left.

    What blocked in it is cancelled; a write of another task's stays blocked until the
    stream is closed, which the caller does next.
    """

    def __init__(self, seconds: float, stream: AsyncStream) -> None:
        del stream  # the blocking face needs it; cancelling needs nothing
        self._scope = anyio.move_on_after(seconds)

    def __enter__(self) -> Self:
        self._scope.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        return self._scope.__exit__(exc_type, exc, traceback)


class AsyncShieldCancellation:
    """Shields cleanup from cancellation, so that it runs to its own (bounded) end."""

    def __init__(self) -> None:
        self._scope = anyio.CancelScope(shield=True)

    def __enter__(self) -> Self:
        self._scope.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._scope.__exit__(exc_type, exc, traceback)


async def async_checkpoint() -> None:
    """Let the other tasks run, and let a cancellation in."""
    await anyio.lowlevel.checkpoint()


async def async_sleep(seconds: float) -> None:
    """Sleep for ``seconds``."""
    await anyio.sleep(seconds)


async def first_success(
    attempts: Sequence[Callable[[], Awaitable[T]]],
    discard: Callable[[T], Awaitable[None]],
    stop: AsyncEvent,
) -> tuple[list[T], list[BaseException | None]]:
    """Run the attempts concurrently; the first to succeed wins and the others are cancelled.

    Returns the winner in a list (empty when all failed) and each attempt's exception.
    ``stop`` is set once a winner is known; a success that comes second goes to ``discard``.
    """
    winner: list[T] = []
    errors: list[BaseException | None] = [None] * len(attempts)
    try:
        async with anyio.create_task_group() as group:

            async def run(index: int) -> None:
                try:
                    result = await attempts[index]()
                except Exception as exc:  # noqa: BLE001 (each attempt's reason is reported)
                    errors[index] = exc
                    return
                if winner:
                    with anyio.CancelScope(shield=True):
                        await discard(result)
                    return
                winner.append(result)
                stop.set()
                group.cancel_scope.cancel()

            for index in range(len(attempts)):
                group.start_soon(run, index)
    except BaseException:
        # Cancelled just as an attempt won: that connection must not be left open.
        with anyio.CancelScope(shield=True):
            for result in winner:
                await discard(result)
        raise
    return winner, errors
