"""stompio: a STOMP 1.2 client with an async face and a blocking face.

``stompio.Client`` blocks (sockets and threads); ``stompio.AsyncClient`` awaits (anyio, so
asyncio and trio). Both take the same arguments, yield the same events from ``listen()`` and
raise the same errors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stompio._config import ConnectionParameters, Heartbeat
from stompio._errors import (
    ConnectionConfirmationTimeout,
    ConnectionLostError,
    Error,
    FailedAllConnectAttemptsError,
    FrameTooLargeError,
    HeartbeatTimeoutError,
    NotConnectedError,
    ProtocolError,
    ReceiptTimeoutError,
    ServerError,
    UnsupportedProtocolVersion,
)
from stompio._events import ErrorEvent, HeartbeatEvent, MessageEvent, ReceiptEvent
from stompio._protocol import AckMode, Subscription, Transaction
from stompio._sync.client import Client

if TYPE_CHECKING:
    from stompio._async.client import AsyncClient

__all__ = [
    "AckMode",
    "AsyncClient",
    "Client",
    "ConnectionConfirmationTimeout",
    "ConnectionLostError",
    "ConnectionParameters",
    "Error",
    "ErrorEvent",
    "FailedAllConnectAttemptsError",
    "FrameTooLargeError",
    "Heartbeat",
    "HeartbeatEvent",
    "HeartbeatTimeoutError",
    "MessageEvent",
    "NotConnectedError",
    "ProtocolError",
    "ReceiptEvent",
    "ReceiptTimeoutError",
    "ServerError",
    "Subscription",
    "Transaction",
    "UnsupportedProtocolVersion",
]


def __getattr__(name: str) -> Any:  # noqa: ANN401 (module attribute hook)
    # Imported on first use so that the blocking client works without anyio installed.
    if name == "AsyncClient":
        from stompio._async.client import AsyncClient  # noqa: PLC0415

        return AsyncClient
    msg = f"module 'stompio' has no attribute {name!r}"
    raise AttributeError(msg)
