"""The one exception hierarchy of stompio, rooted at :class:`Error`.

What the server or the network got wrong derives from :class:`Error`. What the caller got
wrong is a plain ``ValueError`` or ``TypeError``, raised before anything is sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from stompio._config import ConnectionParameters
    from stompio._frames import ErrorFrame


class Error(Exception):
    """The root of every error stompio raises for a failure that is not the caller's."""


class ProtocolError(Error):
    """The server sent bytes that break STOMP 1.2; the connection is closed and not reused."""


class FrameTooLargeError(ProtocolError):
    """A frame from the server is larger than the client's configured limit."""


class ConnectionLostError(Error):
    """The connection ended: closed by the peer, reset, silent past the heart-beat tolerance."""


class HeartbeatTimeoutError(ConnectionLostError):
    """The server sent nothing for longer than the negotiated heart-beat tolerance."""


class NotConnectedError(Error):
    """An operation needs a connected client, and this one is not connected (any more)."""


class ServerError(Error):
    """The server sent an ERROR frame; the session is over.

    ``message`` is the ERROR's ``message`` header (or the start of its body when it has
    none), ``body`` its body, and ``frame`` the whole frame.
    """

    def __init__(self, frame: ErrorFrame) -> None:
        self.frame = frame
        self.message = frame.headers.get("message") or _first_line(frame.body)
        self.body = frame.body
        super().__init__(f"the server sent ERROR: {self.message}")

    @property
    def receipt_id(self) -> str | None:
        """The ``receipt-id`` of the frame that failed, when the server named it."""
        return self.frame.headers.get("receipt-id")


class ConnectionConfirmationTimeout(Error):  # noqa: N818 (the name users of stompman know)
    """The server accepted TCP but sent no CONNECTED within the configured time."""


class UnsupportedProtocolVersion(Error):  # noqa: N818 (the name users of stompman know)
    """The server does not speak STOMP 1.2."""

    def __init__(self, server_versions: Sequence[str], detail: str = "") -> None:
        self.server_versions = tuple(server_versions)
        offered = ", ".join(self.server_versions) or "none named"
        super().__init__(f"the server does not speak STOMP 1.2 (it offers: {offered}){detail}")


class ReceiptTimeoutError(Error):
    """The server did not confirm a frame with a RECEIPT within the configured time."""


class FailedAllConnectAttemptsError(Error):
    """No server completed the STOMP handshake; ``reasons`` holds each server's last failure."""

    def __init__(self, reasons: Sequence[tuple[ConnectionParameters, BaseException]]) -> None:
        self.reasons = tuple(reasons)
        lines = "; ".join(
            f"{server.host}:{server.port}: {type(reason).__name__}: {reason}"
            for server, reason in self.reasons
        )
        super().__init__(f"could not connect to any server ({lines})")


def _first_line(body: bytes) -> str:
    return body.split(b"\n", 1)[0].decode("utf-8", "replace").strip()
