"""Configuration shared by both faces: where to connect and which heart-beats to offer."""

from __future__ import annotations

from dataclasses import dataclass, field

_FORBIDDEN_IN_CONNECT = ("\r", "\n", "\x00")


@dataclass(frozen=True, slots=True)
class ConnectionParameters:
    """One server to connect to.

    ``vhost`` is the CONNECT ``host`` header, which RabbitMQ reads as a virtual host that must
    exist; it defaults to ``/`` and is separate from the network ``host``. ``headers`` are
    extra CONNECT headers (``client-id`` for ActiveMQ durable subscriptions, say). The
    passcode never appears in ``repr``.
    """

    host: str
    port: int
    login: str | None = None
    passcode: str | None = field(default=None, repr=False)
    vhost: str = "/"
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.host:
            msg = "host must not be empty"
            raise ValueError(msg)
        if not isinstance(self.port, int) or isinstance(self.port, bool):
            msg = f"port must be an int, not {type(self.port).__name__}"
            raise TypeError(msg)
        if not 0 < self.port < 65536:
            msg = f"port must be in 1..65535, not {self.port}"
            raise ValueError(msg)
        values = {"login": self.login, "passcode": self.passcode, "vhost": self.vhost}
        values.update({f"header {name!r}": value for name, value in self.headers.items()})
        for name, value in values.items():
            if value is not None and any(char in value for char in _FORBIDDEN_IN_CONNECT):
                # CONNECT cannot escape: CR, LF or NUL would split or end the frame.
                msg = f"{name} must not contain CR, LF or NUL (CONNECT headers are not escaped)"
                raise ValueError(msg)
        for name in self.headers:
            if not name or any(char in name for char in (*_FORBIDDEN_IN_CONNECT, ":")):
                msg = f"CONNECT header name {name!r} must be non-empty without ':', CR, LF or NUL"
                raise ValueError(msg)


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """The heart-beats a client offers: what it can send and what it wants to receive.

    Both are milliseconds; 0 turns that direction off.
    """

    will_send_interval_ms: int
    want_to_receive_interval_ms: int

    def __post_init__(self) -> None:
        for name in ("will_send_interval_ms", "want_to_receive_interval_ms"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                msg = f"{name} must be an int, not {type(value).__name__}"
                raise TypeError(msg)
            if value < 0:
                msg = f"{name} must be >= 0, not {value}"
                raise ValueError(msg)

    def to_header(self) -> str:
        """Render the CONNECT ``heart-beat`` header value."""
        return f"{self.will_send_interval_ms},{self.want_to_receive_interval_ms}"
