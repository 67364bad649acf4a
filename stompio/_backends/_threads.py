"""The blocking half of the hand-written pairs: sockets and threads, no anyio."""

from __future__ import annotations

import contextlib
import queue
import selectors
import socket
import sys
import threading
import time
from typing import TYPE_CHECKING, Generic, Self, TypeVar

from stompio._errors import ConnectionLostError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from types import TracebackType


T = TypeVar("T")
RECEIVE_SIZE = 256 * 1024
# On POSIX a blocked lock acquire lets Ctrl-C through; Windows needs the waits cut into slices.
WAIT_SLICE = 0.5 if sys.platform == "win32" else None
JOIN_TIMEOUT = 10.0

monotonic = time.monotonic
_DONTWAIT = getattr(socket, "MSG_DONTWAIT", 0)
interval_clock = time.monotonic
# Waking the writer thread costs two thread switches, more than the system call the
# listener's thread makes itself: an ACK made in a burst leaves at once.
ACKS_WAKE_WRITER = False


class Stream:
    """A connected TCP socket; every failure surfaces as ``ConnectionLostError``."""

    def __init__(self, sock: socket.socket) -> None:
        # The socket stays blocking: one thread reads while others write, and a socket has a
        # single timeout, so the reader waits in a selector instead of with settimeout().
        sock.settimeout(None)
        self._socket = sock
        self._selector = selectors.DefaultSelector()
        self._selector.register(sock, selectors.EVENT_READ)
        self._state = threading.Lock()
        self._reading = False
        self._closed = False

    @classmethod
    def connect(cls, host: str, port: int, timeout: float) -> Self:
        """Open a TCP connection, bounded by ``timeout`` seconds (``TimeoutError``)."""
        sock = socket.create_connection((host, port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(sock)

    def receive(self, timeout: float | None) -> bytes | None:
        """Read what has arrived: ``b""`` at EOF, ``None`` when ``timeout`` passes first.

        One thread at a time may read.
        """
        with self._state:
            if self._closed:
                return b""
            self._reading = True
        try:
            if timeout is None and WAIT_SLICE is None:
                # One system call where the probe and the select made three: the bytes,
                # close() (its shutdown) or Ctrl-C (EINTR) end it.
                return self._socket.recv(RECEIVE_SIZE)
            if _DONTWAIT:
                # Under load the next bytes are usually in already: then no select is needed.
                with contextlib.suppress(BlockingIOError):
                    return self._socket.recv(RECEIVE_SIZE, _DONTWAIT)
            if not self._wait_readable(timeout):
                return None
            return self._socket.recv(RECEIVE_SIZE)
        except (OSError, ValueError) as exc:
            if self._closed:
                return b""
            msg = f"reading from the server failed: {exc!r}"
            raise ConnectionLostError(msg) from exc
        finally:
            with self._state:
                self._reading = False
                if self._closed:
                    self._release()

    def _wait_readable(self, timeout: float | None) -> bool:
        # A listener reads in the caller's thread, where Ctrl-C must get through: on Windows
        # only between slices.
        if WAIT_SLICE is None:
            return bool(self._selector.select(timeout))
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            remaining = _next_wait(deadline)
            if self._selector.select(max(remaining or 0.0, 0.0)):
                return True
            if deadline is not None and time.monotonic() >= deadline:
                return False

    def send_all(self, data: bytes) -> None:
        """Write all of ``data``."""
        try:
            self._socket.sendall(data)
        except OSError as exc:
            msg = f"writing to the server failed: {exc!r}"
            raise ConnectionLostError(msg) from exc

    def close(self) -> None:
        """Close the socket now; a thread blocked reading it wakes up with ``b""``.

        The shutdown wakes a reader's select; the reader then releases the descriptors
        itself, so none is closed (and its number reused) under a select still using it.
        """
        with self._state:
            if self._closed:
                return
            self._closed = True
            with contextlib.suppress(OSError):  # already disconnected: nothing to shut down
                self._socket.shutdown(socket.SHUT_RDWR)
            if not self._reading:
                self._release()

    def _release(self) -> None:
        self._selector.close()
        self._socket.close()


# A lock for threads, used as it is: a wrapper's Python __enter__ and __exit__ made a
# with-block 0.38 us against 0.27 (timeit), twice per message sent.
Lock = threading.Lock
# Without awaits to switch at, a section is guarded against threads the same way.
CriticalSection = threading.Lock


class Event:
    """A one-shot event for threads, with a bounded wait that Ctrl-C interrupts."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        """Wake every waiter, now and later."""
        self._event.set()

    def is_set(self) -> bool:
        """Tell whether the event was set."""
        return self._event.is_set()

    def wait(self, timeout: float | None) -> bool:
        """Wait until set or ``timeout`` seconds pass (``None``: no bound); True if set."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            remaining = _next_wait(deadline)
            if remaining is not None and remaining <= 0:
                return self._event.is_set()
            if self._event.wait(remaining):
                return True


class Queue(Generic[T]):
    """An unbounded FIFO for threads: a put never waits, a get waits with a bound."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[T] = queue.SimpleQueue()

    def put(self, item: T) -> None:
        """Append an item."""
        self._queue.put(item)

    def get(self, timeout: float | None) -> T | None:
        """Take the oldest item, or ``None`` when ``timeout`` seconds pass first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            remaining = _next_wait(deadline)
            if remaining is not None and remaining <= 0:
                return None
            try:
                return self._queue.get(timeout=remaining)
            except queue.Empty:
                continue

    def has_items(self) -> bool:
        """Tell whether a get would return at once (unless another thread takes it first)."""
        return not self._queue.empty()

    def get_nowait(self) -> T | None:
        """Take the oldest item, or ``None`` when there is none."""
        # Asked first, as a listener finds the inbox empty before every read: the raised
        # Empty cost 2,300 instructions more than the question.
        if self._queue.empty():
            return None
        try:
            return self._queue.get_nowait()
        except queue.Empty:
            return None


class TaskGroup:
    """Background threads that live as long as the group; leaving it joins them.

    The functions must end by themselves once the owner closes what they wait on (a socket,
    an event); the join is bounded so that a stuck thread cannot hang the caller.
    """

    def __init__(self) -> None:
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        _join(self._threads)

    def start_soon(self, function: Callable[[], None], name: str) -> None:
        """Run ``function`` in a new daemon thread."""
        thread = threading.Thread(target=function, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()


class Deadline:
    """Bounds a block that writes to ``stream`` to ``seconds``; past that, the stream is shut.

    A thread cannot be cancelled, but a write blocked on a shut socket fails: the block's
    own (``ConnectionLostError``) and any other thread's.
    """

    def __init__(self, seconds: float, stream: Stream) -> None:
        self._timer = threading.Timer(seconds, stream.close)
        self._timer.name = "stompio-deadline"
        self._timer.daemon = True

    def __enter__(self) -> Self:
        self._timer.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._timer.cancel()
        self._timer.join()


class ShieldCancellation:
    """Threads cannot be cancelled: cleanup needs no shield here."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        return None


def _next_wait(deadline: float | None) -> float | None:
    """How long the next wait may block: up to ``deadline``, in slices where needed."""
    remaining = None if deadline is None else deadline - time.monotonic()
    if WAIT_SLICE is None:
        return remaining
    return WAIT_SLICE if remaining is None else min(remaining, WAIT_SLICE)


def checkpoint() -> None:
    """Threads are preempted: nothing to yield."""


def sleep(seconds: float) -> None:
    """Sleep for ``seconds``."""
    time.sleep(seconds)


def first_success(
    attempts: Sequence[Callable[[], T]],
    discard: Callable[[T], None],
    stop: Event,
) -> tuple[list[T], list[BaseException | None]]:
    """Run the attempts in threads; the first to succeed wins.

    Threads cannot be cancelled, so ``stop`` is set once a winner is known and the attempts
    give up at their next wait; a success that comes second is passed to ``discard``. Every
    thread is joined (bounded) before this returns, so none outlives the call, also when the
    wait is interrupted (Ctrl-C): then every success is discarded and the interrupt re-raised.
    """
    lock = threading.Lock()
    finished = threading.Event()
    winner: list[T] = []
    errors: list[BaseException | None] = [None] * len(attempts)
    pending = [len(attempts)]
    interrupted = [False]

    def run(index: int) -> None:
        result: list[T] = []
        try:
            result.append(attempts[index]())
        except Exception as exc:  # noqa: BLE001 (each attempt's reason is reported)
            errors[index] = exc
        with lock:
            won = bool(result) and not winner and not interrupted[0]
            if won:
                winner.extend(result)
                stop.set()
            pending[0] -= 1
            if won or pending[0] == 0:
                finished.set()
        if result and not won:
            discard(result[0])

    threads = [
        threading.Thread(target=run, args=(index,), name=f"stompio-connect-{index}", daemon=True)
        for index in range(len(attempts))
    ]
    for thread in threads:
        thread.start()
    try:
        while not finished.wait(WAIT_SLICE):
            pass  # only on Windows: a wait without a bound lets Ctrl-C through elsewhere
    except BaseException:
        with lock:
            interrupted[0] = True
            stop.set()
        _join(threads)
        for result in winner:
            discard(result)
        raise
    _join(threads)
    return winner, errors


def _join(threads: Sequence[threading.Thread]) -> None:
    deadline = time.monotonic() + JOIN_TIMEOUT
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
