# Source of truth: scripts/unasync.py generates stompio/_sync/connection.py from this file.
"""One STOMP connection: the handshake, the reader, the heart-beats, writes and receipts."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Self, TypeAlias

from stompio._backends._anyio import (
    ACKS_WAKE_WRITER,
    AsyncCriticalSection,
    AsyncDeadline,
    AsyncEvent,
    AsyncLock,
    AsyncQueue,
    AsyncShieldCancellation,
    AsyncStream,
    AsyncTaskGroup,
    async_checkpoint,
    interval_clock,
    monotonic,
)
from stompio._codec import ServerFrameParser, serialize_frame
from stompio._errors import (
    ConnectionConfirmationTimeout,
    ConnectionLostError,
    Error,
    HeartbeatTimeoutError,
    NotConnectedError,
    ProtocolError,
    ReceiptTimeoutError,
    ServerError,
)
from stompio._events import ErrorEvent, HeartbeatEvent, ReceiptEvent, SettleCommand
from stompio._frames import (
    ConnectedFrame,
    ErrorFrame,
    HeartbeatFrame,
    MessageFrame,
    ReceiptFrame,
    ServerFrame,
)
from stompio._outbox import Outbox
from stompio._protocol import (
    HeartbeatIntervals,
    Session,
    SilenceWatch,
    check_connected,
    connect_error,
    connect_frame,
    negotiate_heartbeat,
)
from stompio._turns import ReadTurns

if TYPE_CHECKING:
    from stompio._config import ConnectionParameters, Heartbeat
    from stompio._frames import ClientFrame
    from stompio._outbox import Step
    from stompio._protocol import Transaction


@dataclass(frozen=True, slots=True)
class Ended:
    """The last item of a connection's inbox: why the connection is over."""

    error: Error


@dataclass(frozen=True, slots=True)
class ReadTurn:
    """An inbox item that wakes a waiting listener to read from the server itself."""


InboxItem: TypeAlias = MessageFrame | ErrorEvent | ReceiptEvent | HeartbeatEvent | Ended | ReadTurn
_HEARTBEAT_EVENT = HeartbeatEvent()
_READ_TURN = ReadTurn()
_HANDSHAKE_SLICE = 0.1


@dataclass(slots=True)
class _ReceiptWaiter:
    done: AsyncEvent = field(default_factory=AsyncEvent)
    error: Error | None = None
    # Waiting while somebody else reads for it (counted in the read turns until served).
    counted: bool = False


class AsyncConnection:
    """A connected, confirmed STOMP 1.2 session with one server."""

    def __init__(
        self,
        *,
        stream: AsyncStream,
        server: ConnectionParameters,
        parser: ServerFrameParser,
        intervals: HeartbeatIntervals,
        early_frames: list[ServerFrame | HeartbeatFrame],
        read_margin: float,
    ) -> None:
        self.server = server
        self.intervals = intervals
        self.session = Session()
        self.inbox: AsyncQueue[InboxItem] = AsyncQueue()
        self._stream = stream
        self._parser = parser
        self._early_frames = early_frames
        self._tolerance = intervals.silence_tolerance(read_margin)
        self._silence = SilenceWatch(self._tolerance, interval_clock())
        self._turns = ReadTurns()
        self._reader_wake = AsyncEvent()
        self._state = AsyncCriticalSection()
        self._send_lock = AsyncLock()
        self._outbox = Outbox()
        self._last_write = interval_clock()
        self._writer_wake = AsyncEvent()
        self._failure: Error | None = None
        self._disconnect_sent = False
        self._reader_started = False
        self._heartbeat_queued = False
        self._receipts: dict[str, _ReceiptWaiter] = {}

    @classmethod
    async def open(
        cls,
        server: ConnectionParameters,
        *,
        heartbeat: Heartbeat,
        connect_timeout: float,
        confirmation_timeout: float,
        max_frame_size: int,
        read_margin: float,
        stop: AsyncEvent | None = None,
    ) -> Self:
        """Connect, send CONNECT and wait (bounded) for CONNECTED.

        Setting ``stop`` abandons the handshake within a fraction of a second.
        """
        stream = await AsyncStream.connect(server.host, server.port, connect_timeout)
        try:
            await stream.send_all(serialize_frame(connect_frame(server, heartbeat)))
            parser = ServerFrameParser(max_frame_size=max_frame_size)
            deadline = monotonic() + confirmation_timeout
            while True:
                if stop is not None and stop.is_set():
                    msg = "another server answered first"
                    raise NotConnectedError(msg)
                remaining = deadline - monotonic()
                # Sliced, because a thread blocked here can only notice ``stop`` between reads.
                data = (
                    await stream.receive(min(remaining, _HANDSHAKE_SLICE))
                    if remaining > 0
                    else None
                )
                if data is None and monotonic() < deadline:
                    continue
                if data is None:
                    msg = (
                        f"no CONNECTED from {server.host}:{server.port} in {confirmation_timeout} s"
                    )
                    raise ConnectionConfirmationTimeout(msg)
                if not data:
                    parser.feed_eof()
                    msg = "the server closed the connection before CONNECTED"
                    raise ConnectionLostError(msg)
                frames = parser.feed(data)
                for index, frame in enumerate(frames):
                    match frame:
                        case ConnectedFrame():
                            check_connected(frame)
                            intervals = negotiate_heartbeat(
                                heartbeat, frame.headers.get("heart-beat")
                            )
                            return cls(
                                stream=stream,
                                server=server,
                                parser=parser,
                                intervals=intervals,
                                early_frames=[
                                    later
                                    for later in frames[index + 1 :]
                                    if not isinstance(later, HeartbeatFrame)
                                ],
                                read_margin=read_margin,
                            )
                        case ErrorFrame():
                            raise connect_error(frame) or ServerError(frame)
                        case _:
                            pass
        except BaseException:
            await stream.aclose()
            raise

    @property
    def is_open(self) -> bool:
        """Tell whether frames can still be sent."""
        return self._failure is None and not self._disconnect_sent

    def failure(self) -> Error:
        """Build the error that a call on a connection that is over raises."""
        if isinstance(self._failure, NotConnectedError):
            return self._failure
        msg = f"the connection to {self.server.host}:{self.server.port} is lost: {self._failure}"
        error = ConnectionLostError(msg)
        error.__cause__ = self._failure
        return error

    # Writing.

    async def write_frame(self, frame: ClientFrame) -> None:
        """Send one frame whole; frames from several callers never interleave."""
        await self.write(serialize_frame(frame))

    async def request(self, frame: ClientFrame, receipt_id: str, timeout: float) -> None:
        """Send a frame that carries ``receipt_id`` and wait (bounded) for its RECEIPT."""
        await self.request_encoded(
            serialize_frame(frame), frame.command.decode(), receipt_id, timeout
        )

    async def request_encoded(
        self, data: bytes, command: str, receipt_id: str, timeout: float
    ) -> None:
        """Like :meth:`request`, for the bytes of an encoded ``command`` frame."""
        waiter = _ReceiptWaiter()
        self._receipts[receipt_id] = waiter
        try:
            await self.write(data)
            with self._state:
                self._outbox.end_burst()
            arrived = await self._receipt_arrived(waiter, timeout)
            if not arrived:
                self.session.forget_receipt(receipt_id)
                msg = f"no RECEIPT for {command} within {timeout} s"
                raise ReceiptTimeoutError(msg)
            if waiter.error is not None:
                raise waiter.error
        finally:
            self._receipts.pop(receipt_id, None)

    async def settle(
        self, message: MessageFrame, command: SettleCommand, transaction: Transaction | None
    ) -> None:
        """Send the ACK or NACK for a message.

        Counted and queued in one step, so that cumulative acks from several callers reach
        the wire in the order they were counted.
        """
        with self._state:
            self._check_open()
            frame = self.session.settle(message, command, transaction)
            self._outbox.put(serialize_frame(frame))
            # With more messages in, the listener comes back soon, and flushes before it waits.
            step = self._outbox.after_put(
                interval_clock(),
                may_wait=self.inbox.has_items(),
                writer_takes_bursts=ACKS_WAKE_WRITER,
            )
        if step != "leave":
            await self._take_step(step)

    async def write(self, data: bytes, *, last: bool = False) -> None:
        """Send the bytes of one encoded frame whole, like :meth:`write_frame`.

        ``last`` marks the DISCONNECT: nothing may be written after it.
        """
        with self._state:
            if self._failure is not None or self._disconnect_sent:
                self._check_open()  # raises; tested inline first, as this runs per frame
            # Set before the bytes leave: the server may close as soon as it has the
            # DISCONNECT, and nothing may follow it.
            self._disconnect_sent = last
            now = interval_clock()
            alone = self._outbox.takes_alone(now)
            if not alone:
                self._outbox.put(data)
                step: Step = "send" if last else self._outbox.after_put(now)
        if alone:
            # Straight to the socket: a round trip's send went through the queue in 12,000
            # instructions more, before the system call.
            async with self._send_lock:
                await self._send(data)
        elif step != "leave":
            await self._take_step(step)

    def _check_open(self) -> None:
        if self._failure is not None or self._disconnect_sent:
            raise self.failure() if self._failure else NotConnectedError("DISCONNECT was sent")

    async def _take_step(self, step: Step) -> None:
        match step:
            case "send":
                await self._flush()
            case "send_and_yield":
                await self._flush()
                # A producer that never waits for anything must still let other tasks run.
                await async_checkpoint()
            case "wake_writer":
                # It sends the burst once the caller yields (async), or in its own thread.
                self._writer_wake.set()
            case "leave":
                pass

    async def _flush(self) -> None:
        # Whoever holds the socket also sends what others queued meanwhile: under load,
        # frames leave in batches; a lone frame leaves at once.
        async with self._send_lock:
            while True:
                with self._state:
                    data = self._outbox.take()
                if data is None:
                    return
                await self._send(data)

    async def _send(self, data: bytes) -> None:
        try:
            await self._stream.send_all(data)
        except BaseException as exc:
            # A frame cut in the middle cannot be finished: the connection is unusable.
            lost = exc if isinstance(exc, Error) else ConnectionLostError("write interrupted")
            self._end(lost)
            await self._stream.aclose()
            raise
        self._last_write = interval_clock()

    # Reading: a waiting listener reads itself when it can; the background reader otherwise.

    async def next_item(self) -> InboxItem | None:
        """Wait for the inbox, reading from the server meanwhile when nobody else does.

        ``None`` (or a :class:`ReadTurn`) means: look at the inbox again.
        """
        if self._outbox:
            # The server may be waiting for the ACKs queued while the inbox had more. A
            # failure ends the connection, and the inbox says how.
            with contextlib.suppress(Error):
                await self._flush()
        with self._state:
            self._outbox.end_burst()
            reads = self._turns.listener_wants(interval_clock())
        if not reads:
            try:
                return await self.inbox.get(None)
            finally:
                with self._state:
                    self._turns.listener_waited()
        try:
            # Unbounded: the background reader watches the heart-beats meanwhile, and closes
            # the stream when they stop, which ends this read.
            data = await self._stream.receive(None)
            if data is not None:
                self._take(data)
        except Exception as exc:  # noqa: BLE001 (a reader bug must not leave callers waiting)
            self._end(_read_failure(exc))
        finally:
            with self._state:
                wake = self._turns.caller_read(interval_clock())
            if wake:
                self._reader_wake.set()
        return self.inbox.get_nowait()

    async def _receipt_arrived(self, waiter: _ReceiptWaiter, timeout: float) -> bool:
        """Wait up to ``timeout`` for the RECEIPT, reading meanwhile when nobody else does."""
        deadline = interval_clock() + timeout
        with self._state:
            reads = self._turns.waiter_wants(deadline - timeout)
            waiter.counted = not reads
        try:
            if not reads:
                return await waiter.done.wait(timeout)
            while not waiter.done.is_set():
                left = deadline - interval_clock()
                if left <= 0:
                    return False
                try:
                    data = await self._stream.receive(left)
                    if data is not None:
                        self._take(data)
                except Exception as exc:  # noqa: BLE001 (a reader bug must not leave callers waiting)
                    self._end(_read_failure(exc))
            return True
        finally:
            with self._state:
                if waiter.counted:
                    waiter.counted = False
                    self._turns.waiter_served()
                wake = reads and self._turns.caller_read(interval_clock())
            if wake:
                self._reader_wake.set()

    def _take(self, data: bytes) -> None:
        self._silence.heard(interval_clock())
        if not data:
            self._parser.feed_eof()
            msg = "the server closed the connection"
            raise ConnectionLostError(msg)
        self._dispatch(self._parser.feed(data))

    def start_background(self, tasks: AsyncTaskGroup) -> None:
        """Start the reader and the writer in ``tasks``, which must outlive ``close()``."""
        # Before anyone reads: what came with CONNECTED comes first.
        try:
            self._dispatch(self._early_frames)
        except Error as exc:
            self._end(exc)
        tasks.start_soon(self.run_reader, "stompio-reader")
        tasks.start_soon(self.run_writer, "stompio-writer")
        self._reader_started = True

    async def run_reader(self) -> None:
        """Read and dispatch frames while no listener does, until the connection is over.

        Shielded: a cancelled owner still sends DISCONNECT and needs the reader for the
        RECEIPT; the reader ends when the connection ends, and ``close()`` ends it.
        """
        with AsyncShieldCancellation():
            await self._read_until_over()

    async def _read_until_over(self) -> None:
        try:
            while True:
                # A new event before the state is checked: a wake-up cannot fall in between.
                wake = self._reader_wake = AsyncEvent()
                if self._failure is not None:
                    return
                now = interval_clock()
                left = self._silence.left(now)
                with self._state:
                    turn, pause = self._turns.reader_turn(now, left)
                if turn == "read":
                    data = await self._stream.receive(left)
                    if data is not None:
                        self._take(data)
                        continue
                else:
                    if turn == "hand_over" and not self.inbox.has_items():
                        self.inbox.put(_READ_TURN)
                    await wake.wait(pause)
                if self._silence.over(interval_clock()):
                    silent = f"{self._tolerance:.1f} s"
                    msg = f"the server sent nothing for {silent} (heart-beats missed)"
                    raise HeartbeatTimeoutError(msg)
        except Exception as exc:  # noqa: BLE001 (a reader bug must not leave callers waiting)
            self._end(_read_failure(exc))
        finally:
            await self._stream.aclose()

    def _dispatch(self, frames: list[ServerFrame | HeartbeatFrame]) -> None:
        only_heartbeats = True
        for frame in frames:
            match frame:
                case MessageFrame():
                    if self.session.on_message(frame):
                        self.inbox.put(frame)
                case HeartbeatFrame():
                    continue
                case ReceiptFrame():
                    self._on_receipt(frame)
                case ErrorFrame():
                    self.inbox.put(ErrorEvent(frame))
                    raise ServerError(frame)
                case ConnectedFrame():
                    msg = "the server sent a second CONNECTED"
                    raise ProtocolError(msg)
            only_heartbeats = False
        # Brokers end every frame with an EOL; only a read that brought nothing else is a beat
        # worth reporting, and one pending report is enough.
        if frames and only_heartbeats and not self._heartbeat_queued:
            self._heartbeat_queued = True
            self.inbox.put(_HEARTBEAT_EVENT)

    def _on_receipt(self, frame: ReceiptFrame) -> None:
        match self.session.on_receipt(frame):
            case ("awaited", receipt_id):
                waiter = self._receipts.get(receipt_id)
                if waiter is not None:
                    with self._state:
                        if waiter.counted:
                            waiter.counted = False
                            self._turns.waiter_served()
                    waiter.done.set()
            case ("reported", receipt_id):
                self.inbox.put(ReceiptEvent(receipt_id))
            case _:
                pass

    def heartbeat_taken(self) -> None:
        """Let the next server heart-beat be reported again."""
        self._heartbeat_queued = False

    async def run_writer(self) -> None:
        """Send what was queued, and an EOL whenever nothing was written for a while.

        The while is half the negotiated heart-beat period. Shielded like the reader: cut in
        the middle of a write, it would break the connection that ``close()`` ends cleanly.
        """
        every = self.intervals.send_every()
        # An Error means _send() ended the connection: callers learn why from failure().
        with AsyncShieldCancellation(), contextlib.suppress(Error):
            await self._write_until_over(every)

    async def _write_until_over(self, every: float | None) -> None:
        while True:
            # A new event before the state is checked: a wake-up cannot fall in between.
            wake = self._writer_wake = AsyncEvent()
            if not self.is_open:
                return
            await self._flush()
            wait = None if every is None else self._last_write + every - interval_clock()
            if wait is not None and wait <= 0:
                with self._state:
                    self._check_open()
                    self._outbox.put(b"\n")
                continue
            await wake.wait(wait)

    # Ending.

    def _end(self, error: Error) -> None:
        if self._failure is not None:
            return
        if self._disconnect_sent and isinstance(error, ConnectionLostError):
            # After DISCONNECT the server may close at any moment: that is not a failure.
            error = NotConnectedError("the client disconnected")
        self._failure = error
        self._writer_wake.set()
        self._reader_wake.set()
        for waiter in self._receipts.values():
            waiter.error = error if isinstance(error, ServerError) else self.failure()
            waiter.done.set()
        self.inbox.put(Ended(error))

    async def close(self, timeout: float) -> None:
        """Send DISCONNECT, wait for its RECEIPT, and close, all within ``timeout``; never raises.

        A connection whose reader was never started (a second server that answered too late)
        has nobody to read the RECEIPT: it gets the DISCONNECT and is closed without the wait.
        """
        with AsyncShieldCancellation():
            if self.is_open:
                receipt_id, frame = self.session.disconnect()
                waiter = _ReceiptWaiter()
                self._receipts[receipt_id] = waiter
                deadline = monotonic() + timeout
                try:
                    # A server that stopped reading must not hold the DISCONNECT up forever.
                    with AsyncDeadline(timeout, self._stream):
                        await self.write(serialize_frame(frame), last=True)
                    if self._reader_started:
                        await self._receipt_arrived(waiter, max(0.0, deadline - monotonic()))
                except Error:
                    pass  # the connection is already over: nothing left to confirm
            self._end(NotConnectedError("the client disconnected"))
            await self._stream.aclose()


def _read_failure(exc: Exception) -> Error:
    """Name what ends the connection after a failed read: our errors as they are, a bug wrapped."""
    if isinstance(exc, Error):
        return exc
    lost = ConnectionLostError(f"the reader failed: {exc!r}")
    lost.__cause__ = exc
    return lost
