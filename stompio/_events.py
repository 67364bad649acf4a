"""What ``listen()`` yields: small immutable events shared by both faces.

A :class:`MessageEvent` is generic in what ``ack()`` returns. The client that made the
event hands it its own settle method: the async client's returns a coroutine, so
``await event.ack()`` type-checks there, and the blocking client's returns ``None``. One
class serves both faces; only the type argument differs (``AsyncListenEvent`` and
``ListenEvent`` below name the two unions).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeAlias, TypeVar

from stompio._frames import MessageFrame
from stompio._protocol import Transaction

if TYPE_CHECKING:
    from stompio._frames import ErrorFrame

_SettleResultT_co = TypeVar("_SettleResultT_co", covariant=True)
SettleCommand: TypeAlias = Literal["ACK", "NACK"]


@dataclass(frozen=True, slots=True)
class MessageEvent(Generic[_SettleResultT_co]):
    """A MESSAGE delivered to one of the client's subscriptions.

    ``ack()`` and ``nack()`` settle it on the connection it arrived on; with the async client
    they are awaited.
    """

    frame: MessageFrame
    _settle: Callable[[MessageFrame, SettleCommand, Transaction | None], _SettleResultT_co] = field(
        repr=False, compare=False
    )

    @property
    def body(self) -> bytes:
        """The message body, exactly as the server sent it."""
        return self.frame.body

    @property
    def headers(self) -> dict[str, str]:
        """All headers of the MESSAGE, unescaped, first occurrence of a repeated name kept."""
        return self.frame.headers

    @property
    def destination(self) -> str:
        """The ``destination`` header (brokers may rewrite it)."""
        return self.frame.headers["destination"]

    @property
    def message_id(self) -> str:
        """The ``message-id`` header."""
        return self.frame.headers["message-id"]

    @property
    def subscription(self) -> str:
        """The id of the subscription the message was delivered to."""
        return self.frame.headers["subscription"]

    @property
    def content_type(self) -> str | None:
        """The ``content-type`` header, if any."""
        return self.frame.headers.get("content-type")

    def ack(self, *, transaction: Transaction | None = None) -> _SettleResultT_co:
        """Acknowledge the message (cumulatively for a ``client`` subscription).

        When more messages have already arrived, the ACK is queued and leaves with the next
        frame, before ``listen()`` waits for the server, or with the next heart-beat,
        whichever comes first; otherwise it leaves at once. Leaving the client sends it too.
        """
        return self._settle(self.frame, "ACK", transaction)

    def nack(self, *, transaction: Transaction | None = None) -> _SettleResultT_co:
        """Reject the message; what the broker then does with it is broker-specific.

        Sent like ``ack()``.
        """
        return self._settle(self.frame, "NACK", transaction)


@dataclass(frozen=True, slots=True)
class ErrorEvent:
    """The server sent ERROR. The connection is over; ``listen()`` raises after this event."""

    frame: ErrorFrame

    @property
    def message_header(self) -> str:
        """The ERROR's ``message`` header, the short description (empty when absent)."""
        return self.frame.headers.get("message", "")

    @property
    def body(self) -> bytes:
        """The ERROR's body: the details, when the server sent any."""
        return self.frame.body

    @property
    def headers(self) -> dict[str, str]:
        """All headers of the ERROR frame."""
        return self.frame.headers


@dataclass(frozen=True, slots=True)
class HeartbeatEvent:
    """The server sent a heart-beat (at most one is pending at a time)."""


@dataclass(frozen=True, slots=True)
class ReceiptEvent:
    """The server confirmed a frame that was sent with a caller-chosen receipt id."""

    receipt_id: str


AsyncListenEvent: TypeAlias = (
    MessageEvent[Coroutine[Any, Any, None]] | ErrorEvent | HeartbeatEvent | ReceiptEvent
)
ListenEvent: TypeAlias = MessageEvent[None] | ErrorEvent | HeartbeatEvent | ReceiptEvent
AsyncSettle: TypeAlias = Callable[
    [MessageFrame, SettleCommand, Transaction | None], Coroutine[Any, Any, None]
]
Settle: TypeAlias = Callable[[MessageFrame, SettleCommand, Transaction | None], None]
