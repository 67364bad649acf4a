"""The STOMP 1.2 frames, one frozen class per command, and the heart-beat marker.

Every frame holds its headers as a ``dict`` in wire order with the first occurrence of a
repeated name kept (spec: "only the first header entry SHOULD be used"). Header names and
values are ``str``: the codec decodes UTF-8 with ``surrogateescape``, so bytes that are not
UTF-8 survive a round trip unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, TypeAlias


@dataclass(frozen=True, slots=True)
class ConnectFrame:
    """CONNECT: opens a STOMP session. Its headers are never escaped."""

    command: ClassVar[bytes] = b"CONNECT"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StompFrame:
    """STOMP: the 1.2 alias of CONNECT. Its headers are never escaped."""

    command: ClassVar[bytes] = b"STOMP"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SendFrame:
    """SEND: a message for a destination."""

    command: ClassVar[bytes] = b"SEND"
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass(frozen=True, slots=True)
class SubscribeFrame:
    """SUBSCRIBE: starts a subscription."""

    command: ClassVar[bytes] = b"SUBSCRIBE"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class UnsubscribeFrame:
    """UNSUBSCRIBE: ends a subscription."""

    command: ClassVar[bytes] = b"UNSUBSCRIBE"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AckFrame:
    """ACK: confirms a MESSAGE by its ``ack`` header."""

    command: ClassVar[bytes] = b"ACK"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NackFrame:
    """NACK: rejects a MESSAGE by its ``ack`` header."""

    command: ClassVar[bytes] = b"NACK"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BeginFrame:
    """BEGIN: starts a transaction."""

    command: ClassVar[bytes] = b"BEGIN"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CommitFrame:
    """COMMIT: commits a transaction."""

    command: ClassVar[bytes] = b"COMMIT"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AbortFrame:
    """ABORT: rolls a transaction back."""

    command: ClassVar[bytes] = b"ABORT"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DisconnectFrame:
    """DISCONNECT: ends the session; nothing may be sent after it."""

    command: ClassVar[bytes] = b"DISCONNECT"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ConnectedFrame:
    """CONNECTED: the server accepted the session. Its headers are never unescaped."""

    command: ClassVar[bytes] = b"CONNECTED"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MessageFrame:
    """MESSAGE: a message delivered to a subscription."""

    command: ClassVar[bytes] = b"MESSAGE"
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass(frozen=True, slots=True)
class ReceiptFrame:
    """RECEIPT: the server processed the client frame that asked for ``receipt-id``."""

    command: ClassVar[bytes] = b"RECEIPT"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ErrorFrame:
    """ERROR: the server reports a failure; the session is over after it."""

    command: ClassVar[bytes] = b"ERROR"
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass(frozen=True, slots=True)
class HeartbeatFrame:
    """An end-of-line between frames: a heart-beat, not a frame of the spec."""


ClientFrame: TypeAlias = (
    ConnectFrame
    | StompFrame
    | SendFrame
    | SubscribeFrame
    | UnsubscribeFrame
    | AckFrame
    | NackFrame
    | BeginFrame
    | CommitFrame
    | AbortFrame
    | DisconnectFrame
)
ServerFrame: TypeAlias = ConnectedFrame | MessageFrame | ReceiptFrame | ErrorFrame
AnyFrame: TypeAlias = ClientFrame | ServerFrame

CLIENT_FRAMES: dict[bytes, type[ClientFrame]] = {
    frame.command: frame
    for frame in (
        ConnectFrame,
        StompFrame,
        SendFrame,
        SubscribeFrame,
        UnsubscribeFrame,
        AckFrame,
        NackFrame,
        BeginFrame,
        CommitFrame,
        AbortFrame,
        DisconnectFrame,
    )
}
SERVER_FRAMES: dict[bytes, type[ServerFrame]] = {
    frame.command: frame for frame in (ConnectedFrame, MessageFrame, ReceiptFrame, ErrorFrame)
}
FRAMES_WITH_BODY: frozenset[bytes] = frozenset({b"SEND", b"MESSAGE", b"ERROR"})
UNESCAPED_FRAMES: frozenset[bytes] = frozenset({b"CONNECT", b"STOMP", b"CONNECTED"})
REQUIRED_HEADERS: dict[bytes, tuple[str, ...]] = {
    b"CONNECTED": ("version",),
    b"MESSAGE": ("destination", "message-id", "subscription"),
    b"RECEIPT": ("receipt-id",),
    b"SEND": ("destination",),
    b"SUBSCRIBE": ("destination", "id"),
    b"UNSUBSCRIBE": ("id",),
    b"ACK": ("id",),
    b"NACK": ("id",),
    b"BEGIN": ("transaction",),
    b"COMMIT": ("transaction",),
    b"ABORT": ("transaction",),
    b"CONNECT": ("accept-version", "host"),
    b"STOMP": ("accept-version", "host"),
}
