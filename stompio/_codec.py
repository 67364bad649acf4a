"""The sans-IO STOMP 1.2 codec: bytes in, frames out; frames in, bytes out.

A parser takes whatever a read returned, in any split, and hands back every frame it
completes plus a :class:`HeartbeatFrame` for each end-of-line between frames. It scans its
buffer with ``find`` instead of walking bytes in Python, holds at most one incomplete frame,
refuses a frame over its size limits as soon as the limit is crossed, and stays broken after
the first :class:`ProtocolError`. :func:`serialize_frame` writes the canonical form: LF line
ends, headers in dict order, ``content-length`` written by the codec itself on every frame
that carries a body.

Header text is UTF-8 decoded with ``surrogateescape`` and encoded the same way, so any byte
string survives a round trip.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Generic, TypeVar

from stompio._errors import ConnectionLostError, FrameTooLargeError, ProtocolError
from stompio._frames import (
    CLIENT_FRAMES,
    FRAMES_WITH_BODY,
    REQUIRED_HEADERS,
    SERVER_FRAMES,
    UNESCAPED_FRAMES,
    AnyFrame,
    ClientFrame,
    ErrorFrame,
    HeartbeatFrame,
    MessageFrame,
    SendFrame,
    ServerFrame,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

DEFAULT_MAX_FRAME_SIZE = 128 * 1024 * 1024
"""The largest frame a parser accepts by default: command, headers and body."""
DEFAULT_MAX_HEADERS_SIZE = 1024 * 1024
"""The largest command line plus header block a parser accepts by default."""

_FrameT = TypeVar("_FrameT", ClientFrame, ServerFrame)

_HEARTBEAT = HeartbeatFrame()
_CONTENT_LENGTH = "content-length"
# Longer than this (leading zeros aside), a content-length exceeds any limit a parser can
# have; checking the length first keeps int() away from its digit limit.
_MAX_CONTENT_LENGTH_DIGITS = 18

_BOUNDARY = 0
_HEADERS = 1
_COUNTED_BODY = 2
_DELIMITED_BODY = 3

_UNESCAPES = {"r": "\r", "n": "\n", "c": ":", "\\": "\\"}
_ESCAPE_SEQUENCE = re.compile(r"\\(.?)", re.DOTALL)
_UNESCAPABLE_NAME = re.compile(r"[\r\n\x00:]")
_UNESCAPABLE_VALUE = re.compile(r"[\r\n\x00]")
_REQUIRED_TO_SERIALIZE: dict[bytes, tuple[str, ...]] = {
    command: REQUIRED_HEADERS[command] for command in CLIENT_FRAMES if command in REQUIRED_HEADERS
}


def _strict_escape(match: re.Match[str]) -> str:
    try:
        return _UNESCAPES[match[1]]
    except KeyError:
        msg = f"undefined escape sequence {match[0]!r} in a header"
        raise ProtocolError(msg) from None


def _lenient_escape(match: re.Match[str]) -> str:
    return _UNESCAPES.get(match[1], match[0])


def _unescape_strict(text: str) -> str:
    if "\\" not in text:
        return text
    if "\\\\" not in text:
        # Without an escaped backslash, every backslash starts a sequence, and none of the
        # replacements makes a new one: plain replaces do, unless a backslash is left over,
        # which is an undefined sequence (ActiveMQ escapes ':' in every id).
        plain = text.replace("\\c", ":").replace("\\n", "\n").replace("\\r", "\r")
        if "\\" not in plain:
            return plain
    return _ESCAPE_SEQUENCE.sub(_strict_escape, text)


def _unescape_lenient(text: str) -> str:
    return _ESCAPE_SEQUENCE.sub(_lenient_escape, text) if "\\" in text else text


def escape_header(text: str) -> bytes:
    r"""Escape a header name or value for any frame but CONNECT, STOMP and CONNECTED.

    ``\`` becomes ``\\``, LF ``\n``, CR ``\r`` and ``:`` ``\c``; the result is UTF-8 with
    ``surrogateescape``. A NUL cannot be escaped and raises ``ValueError``.
    """
    if "\x00" in text:
        msg = f"a header cannot hold a NUL: {text!r}"
        raise ValueError(msg)
    return _escape(text).encode("utf-8", "surrogateescape")


def _escape(text: str) -> str:
    # Four scans in C beat str.translate, which looks each character up in a dict: 0.6 us
    # against 5.6 us for an ActiveMQ message id. The backslash goes first.
    return text.replace("\\", "\\\\").replace("\r", "\\r").replace("\n", "\\n").replace(":", "\\c")


def unescape_header(data: bytes) -> str:
    r"""Undo :func:`escape_header`: decode UTF-8 with ``surrogateescape``, then the escapes.

    An escape other than ``\r``, ``\n``, ``\c`` and ``\\`` raises :class:`ProtocolError`.
    """
    return _unescape_strict(data.decode("utf-8", "surrogateescape"))


@dataclass(frozen=True, slots=True)
class _CommandRule(Generic[_FrameT]):
    """How a parser treats one command."""

    command: str
    frame_type: Callable[..., _FrameT]
    has_body: bool
    unescape: Callable[[str], str] | None
    required: tuple[str, ...]
    refusal: str | None = None
    opens_session: bool = False


def _command_rules(
    frames: Mapping[bytes, type[_FrameT]], *, unrequired: frozenset[bytes] = frozenset()
) -> dict[str, _CommandRule[_FrameT]]:
    return {
        command.decode("ascii"): _CommandRule(
            command=command.decode("ascii"),
            frame_type=frame_type,
            has_body=command in FRAMES_WITH_BODY,
            unescape=None if command in UNESCAPED_FRAMES else _unescape_strict,
            required=() if command in unrequired else REQUIRED_HEADERS.get(command, ()),
            opens_session=command == b"CONNECTED",
        )
        for command, frame_type in frames.items()
    }


def _checked_head(text: str) -> str:
    if "\r" in text:
        text = text.replace("\r\n", "\n")
        if "\r" in text:
            msg = "a CR without LF inside the command or headers of a frame"
            raise ProtocolError(msg)
    if "\x00" in text:
        msg = "a NUL inside the command or headers of a frame"
        raise ProtocolError(msg)
    return text


class _FrameParser(Generic[_FrameT]):
    """The parser both directions share; only the command rules differ."""

    def __init__(
        self,
        rules: dict[str, _CommandRule[_FrameT]],
        session_rules: dict[str, _CommandRule[_FrameT]],
        *,
        max_frame_size: int,
        max_headers_size: int,
    ) -> None:
        for name, limit in (
            ("max_frame_size", max_frame_size),
            ("max_headers_size", max_headers_size),
        ):
            if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
                msg = f"{name} must be a positive int, not {limit!r}"
                raise ValueError(msg)
        self._rules: dict[str, _CommandRule[_FrameT]] = rules
        self._session_rules: dict[str, _CommandRule[_FrameT]] = session_rules
        self._max_frame_size = max_frame_size
        self._max_headers_size = min(max_headers_size, max_frame_size)
        self._buffer = bytearray()
        self._state = _BOUNDARY
        self._failure: ProtocolError | None = None
        # The incomplete frame, once its headers are parsed; offsets are into the buffer.
        self._scan = 0
        self._body_start = 0
        self._headers_size = 0
        self._rule: _CommandRule[_FrameT] | None = None
        self._headers: dict[str, str] = {}
        self._chunks: list[bytes] = []
        self._remaining = 0

    def feed(self, data: bytes | bytearray | memoryview) -> list[_FrameT | HeartbeatFrame]:
        """Take the next bytes of the stream; return the frames and heart-beats they complete.

        Raises :class:`ProtocolError` (:class:`FrameTooLargeError` for a frame over a limit)
        for bytes that break STOMP 1.2, and again on every later call.
        """
        if self._failure is not None:
            msg = f"the stream broke earlier: {self._failure}"
            raise ProtocolError(msg) from self._failure
        try:
            return self._feed(data)
        except ProtocolError as error:
            self._failure = error
            raise

    def feed_eof(self) -> None:
        """Tell the parser the stream ended.

        Raises :class:`ConnectionLostError` when it ended inside a frame, and the earlier
        :class:`ProtocolError` when the stream was already broken.
        """
        if self._failure is not None:
            msg = f"the stream broke earlier: {self._failure}"
            raise ProtocolError(msg) from self._failure
        if self._state != _BOUNDARY or self._buffer:
            msg = "connection closed in the middle of a frame"
            raise ConnectionLostError(msg)

    def _feed(self, data: bytes | bytearray | memoryview) -> list[_FrameT | HeartbeatFrame]:  # noqa: C901, PLR0912, PLR0915 (one scanning loop reads best whole)
        events: list[_FrameT | HeartbeatFrame] = []
        buf = self._buffer
        if self._state == _COUNTED_BODY:
            # The body goes to a list of chunks joined once, never through the buffer.
            remaining = self._remaining
            if len(data) <= remaining:
                if data:
                    self._chunks.append(bytes(data))
                    self._remaining = remaining - len(data)
                return events
            if data[remaining] != 0:
                msg = "no NUL after the content-length bytes of the body"
                raise ProtocolError(msg)
            rule = self._rule
            assert rule is not None  # noqa: S101 (set with the state)
            self._chunks.append(bytes(data[:remaining]))
            body = b"".join(self._chunks)
            self._chunks = []
            if rule.has_body:
                events.append(rule.frame_type(self._headers, body))
            else:
                events.append(rule.frame_type(self._headers))
            if rule.opens_session:
                self._rules = self._session_rules
            self._state = _BOUNDARY
            buf += memoryview(data)[remaining + 1 :]
        else:
            if self._state == _BOUNDARY and not buf and type(data) is bytes:
                events, taken = self._whole_frames(data)
                if taken == len(data):
                    return events
                data = data[taken:]
            buf += data

        state = self._state
        rules = self._rules
        end = len(buf)
        pos = 0
        scan = self._scan
        body_start = self._body_start
        headers_size = self._headers_size
        rule = self._rule
        headers = self._headers
        while True:
            if state == _BOUNDARY:
                if pos == end:
                    break
                byte = buf[pos]
                if byte == 10:
                    events.append(_HEARTBEAT)
                    pos += 1
                    continue
                if byte == 13:
                    if pos + 1 == end:
                        break
                    if buf[pos + 1] != 10:
                        msg = "a CR without LF between frames"
                        raise ProtocolError(msg)
                    events.append(_HEARTBEAT)
                    pos += 2
                    continue
                state = _HEADERS
                scan = pos

            if state == _HEADERS:
                terminator = buf.find(b"\n\n", scan)
                cr = buf.find(b"\r", scan, end if terminator < 0 else terminator)
                if cr >= 0:
                    crlf_terminator = buf.find(
                        b"\n\r\n", max(cr - 1, pos), end if terminator < 0 else terminator + 2
                    )
                    if crlf_terminator >= 0:
                        terminator = crlf_terminator
                        body_start = terminator + 3
                    else:
                        body_start = terminator + 2
                else:
                    body_start = terminator + 2
                if terminator < 0:
                    if end - pos > self._max_headers_size:
                        msg = f"the headers of a frame exceed {self._max_headers_size} bytes"
                        raise FrameTooLargeError(msg)
                    if buf.find(b"\x00", scan) >= 0:
                        msg = "a NUL inside the command or headers of a frame"
                        raise ProtocolError(msg)
                    scan = max(pos, end - 2)
                    break
                headers_size = body_start - pos
                if headers_size > self._max_headers_size:
                    msg = f"the headers of a frame exceed {self._max_headers_size} bytes"
                    raise FrameTooLargeError(msg)
                block_end = terminator - 1 if buf[terminator - 1] == 13 else terminator
                rule, headers = self._parse_head(buf[pos:block_end], rules)

                length = headers.get(_CONTENT_LENGTH)
                if length is not None:
                    size = self._content_length(length, rule, headers_size)
                    nul = body_start + size
                    if nul < end:
                        if buf[nul] != 0:
                            msg = "no NUL after the content-length bytes of the body"
                            raise ProtocolError(msg)
                        if rule.has_body:
                            events.append(rule.frame_type(headers, bytes(buf[body_start:nul])))
                        else:
                            events.append(rule.frame_type(headers))
                        if rule.opens_session:
                            rules = self._session_rules
                        pos = nul + 1
                        state = _BOUNDARY
                        continue
                    self._chunks = [bytes(buf[body_start:end])] if body_start < end else []
                    self._remaining = size - (end - body_start) if body_start < end else size
                    pos = end
                    state = _COUNTED_BODY
                    break
                state = _DELIMITED_BODY
                scan = body_start

            # What is left is a body that runs to the first NUL.
            assert rule is not None  # noqa: S101 (set with the state)
            nul = buf.find(b"\x00", scan)
            if nul < 0:
                if not rule.has_body and end > body_start:
                    msg = f"{rule.command} with a body, which only SEND, MESSAGE and ERROR may have"
                    raise ProtocolError(msg)
                if headers_size + end - body_start > self._max_frame_size:
                    msg = f"a frame exceeds {self._max_frame_size} bytes"
                    raise FrameTooLargeError(msg)
                scan = end
                break
            if rule.has_body:
                if headers_size + nul - body_start > self._max_frame_size:
                    msg = f"a frame exceeds {self._max_frame_size} bytes"
                    raise FrameTooLargeError(msg)
                events.append(rule.frame_type(headers, bytes(buf[body_start:nul])))
            elif nul == body_start:
                events.append(rule.frame_type(headers))
            else:
                msg = f"{rule.command} with a body, which only SEND, MESSAGE and ERROR may have"
                raise ProtocolError(msg)
            if rule.opens_session:
                rules = self._session_rules
            pos = nul + 1
            state = _BOUNDARY

        if pos:
            # Deleting from the front of a bytearray only moves its start, not the bytes.
            del buf[:pos]
        self._state = state
        self._rules = rules
        self._scan = scan - pos
        self._body_start = body_start - pos
        self._headers_size = headers_size
        self._rule = rule
        self._headers = headers
        return events

    def _whole_frames(self, data: bytes) -> tuple[list[_FrameT | HeartbeatFrame], int]:
        """Parse the whole frames at the start of a read, and say how many bytes they took.

        Most reads hold whole frames and the EOLs after them: these are parsed straight from
        the bytes, without a copy into the buffer and the scanning loop's state (6-8% fewer
        instructions per message). It stops at anything the loop has to judge: a frame cut
        short, a CR, a limit crossed, a body without its NUL. The loop then starts on the rest.
        """
        events: list[_FrameT | HeartbeatFrame] = []
        end = len(data)
        pos = 0
        while pos < end:
            if data[pos] == 10:  # LF
                events.append(_HEARTBEAT)
                pos += 1
                continue
            terminator = data.find(b"\n\n", pos)
            body_start = terminator + 2
            headers_size = body_start - pos
            if (
                terminator < 0
                or headers_size > self._max_headers_size
                or data.find(b"\r", pos, terminator) >= 0
            ):
                break
            rule, headers = self._parse_head(data[pos:terminator], self._rules)
            length = headers.get(_CONTENT_LENGTH)
            if length is None:
                nul = data.find(b"\x00", body_start)
                if (
                    nul < 0
                    or (nul > body_start and not rule.has_body)
                    or headers_size + nul - body_start > self._max_frame_size
                ):
                    break
            else:
                nul = body_start + self._content_length(length, rule, headers_size)
                if nul >= end or data[nul] != 0:
                    break
            if rule.has_body:
                events.append(rule.frame_type(headers, data[body_start:nul]))
            else:
                events.append(rule.frame_type(headers))
            if rule.opens_session:
                self._rules = self._session_rules
            pos = nul + 1
        return events, pos

    def _parse_head(
        self, block: bytes | bytearray, rules: dict[str, _CommandRule[_FrameT]]
    ) -> tuple[_CommandRule[_FrameT], dict[str, str]]:
        text = block.decode("utf-8", "surrogateescape")
        if "\r" in text or "\x00" in text:
            text = _checked_head(text)
        lines = iter(text.split("\n"))
        command = next(lines)
        rule = rules.get(command)
        if rule is None:
            msg = f"unknown command {command!r}"
            raise ProtocolError(msg)
        if rule.refusal is not None:
            raise ProtocolError(rule.refusal)
        headers: dict[str, str] = {}
        unescape = rule.unescape if "\\" in text else None
        for line in lines:
            name, colon, value = line.partition(":")
            if not name or not colon:
                msg = f"malformed header line {line!r} in a {command} frame"
                raise ProtocolError(msg)
            if unescape is not None and "\\" in line:
                name = unescape(name)
                value = unescape(value)
            if name not in headers:
                headers[name] = value
        for name in rule.required:
            if name not in headers:
                msg = f"{command} without the required {name!r} header"
                raise ProtocolError(msg)
        return rule, headers

    def _content_length(self, text: str, rule: _CommandRule[_FrameT], headers_size: int) -> int:
        if text.isascii() and text.isdigit():
            digits = text.lstrip("0")
            size = int(text) if len(digits) <= _MAX_CONTENT_LENGTH_DIGITS else -1
        else:
            msg = f"content-length must be decimal digits, not {text!r}"
            raise ProtocolError(msg)
        if size < 0 or headers_size + size > self._max_frame_size:
            msg = f"a frame with content-length {text} exceeds {self._max_frame_size} bytes"
            raise FrameTooLargeError(msg)
        if size and not rule.has_body:
            msg = f"{rule.command} with a body, which only SEND, MESSAGE and ERROR may have"
            raise ProtocolError(msg)
        return size


# CONNECTED without version is a 1.0 server: the protocol layer names that, not the codec.
_SERVER_RULES: dict[str, _CommandRule[ServerFrame]] = _command_rules(
    SERVER_FRAMES, unrequired=frozenset({b"CONNECTED"})
)
_SERVER_RULES_BEFORE_CONNECTED = {
    **_SERVER_RULES,
    "MESSAGE": replace(_SERVER_RULES["MESSAGE"], refusal="a MESSAGE frame before CONNECTED"),
    "RECEIPT": replace(_SERVER_RULES["RECEIPT"], refusal="a RECEIPT frame before CONNECTED"),
    # A server that has not negotiated 1.2 yet may escape like 1.0: keep its reason readable.
    "ERROR": replace(_SERVER_RULES["ERROR"], unescape=_unescape_lenient),
}
_CLIENT_RULES: dict[str, _CommandRule[ClientFrame]] = _command_rules(
    CLIENT_FRAMES, unrequired=frozenset({b"CONNECT", b"STOMP"})
)


class ServerFrameParser(_FrameParser[ServerFrame]):
    """Parses what a server sends: CONNECTED, MESSAGE, RECEIPT and ERROR, and heart-beats.

    Until it has produced a CONNECTED frame it refuses MESSAGE and RECEIPT, and it decodes an
    ERROR leniently (an undefined escape is kept as written) so the server's reason survives.
    A CONNECTED without ``version`` is let through: it is a STOMP 1.0 server, which the
    caller reports as such.
    """

    def __init__(
        self,
        *,
        max_frame_size: int = DEFAULT_MAX_FRAME_SIZE,
        max_headers_size: int = DEFAULT_MAX_HEADERS_SIZE,
    ) -> None:
        super().__init__(
            _SERVER_RULES_BEFORE_CONNECTED,
            _SERVER_RULES,
            max_frame_size=max_frame_size,
            max_headers_size=max_headers_size,
        )


class ClientFrameParser(_FrameParser[ClientFrame]):
    """Parses what a client sends (CONNECT, STOMP, SEND, ...) and heart-beats.

    CONNECT and STOMP are not checked for required headers: the server using this parser
    decides how to answer them.
    """

    def __init__(
        self,
        *,
        max_frame_size: int = DEFAULT_MAX_FRAME_SIZE,
        max_headers_size: int = DEFAULT_MAX_HEADERS_SIZE,
    ) -> None:
        super().__init__(
            _CLIENT_RULES,
            _CLIENT_RULES,
            max_frame_size=max_frame_size,
            max_headers_size=max_headers_size,
        )


_ID_ONLY_FRAMES = frozenset({b"ACK", b"NACK", b"UNSUBSCRIBE"})


def serialize_frame(frame: AnyFrame | HeartbeatFrame) -> bytes:
    r"""Turn a frame into its canonical bytes; a heart-beat is ``b"\n"``.

    Headers are written in dict order and escaped, except on CONNECT, STOMP and CONNECTED,
    which cannot escape. Any ``content-length`` header given is dropped: a frame with a body
    gets ``content-length`` as its last header, a frame without one gets none. Raises
    ``ValueError`` for what cannot be written: an empty header name, a NUL anywhere in the
    headers, CR or LF in an unescaped header, ``:`` in an unescaped name, a missing required
    header on a client frame, or text that does not encode.
    """
    match frame:
        case HeartbeatFrame():
            return b"\n"
        case SendFrame() | MessageFrame() | ErrorFrame():
            body = frame.body
            headers = frame.headers
            receipt = headers.get("receipt")
            if receipt is None:
                head = _head_before_length(frame.command, tuple(headers.items()))
            else:
                # A receipt id is new on every frame: kept out of the key, the rest of the
                # head is still found (a confirmed send took 5.2 us to serialize, not 2.8).
                items = tuple(item for item in headers.items() if item[0] != "receipt")
                head = _head_before_length(frame.command, items)
                head += b"receipt:%s\n" % escape_header(receipt)
            # join, not %: bytes formatting copies a big body in pieces (1 ms for 1 MiB).
            return b"".join((head, b"content-length:%d\n\n" % len(body), body, b"\x00"))
        case _:
            headers = frame.headers
            if len(headers) == 1 and frame.command in _ID_ONLY_FRAMES:
                # The ACK per message skips the general path. Printable text excludes CR, LF
                # and NUL; ':' and '\\' are all that may need escaping (ActiveMQ's ids have ':').
                value = headers.get("id")
                if value is not None and value.isprintable():
                    if ":" in value or "\\" in value:
                        value = value.replace("\\", "\\\\").replace(":", "\\c")
                    return b"%s\nid:%s\n\n\x00" % (frame.command, value.encode())
            lines = _header_lines(frame.command, headers)
            return b"".join(
                (frame.command, b"\n", lines.encode("utf-8", "surrogateescape"), b"\n\x00")
            )


def encode_send(destination: str, body: bytes) -> bytes:
    """Encode a SEND with no header but ``destination``: the bytes ``serialize_frame`` makes.

    Raises ``ValueError`` for a destination that cannot be written.
    """
    return b"".join((_send_head(destination), b"content-length:%d\n\n" % len(body), body, b"\x00"))


# A producer sends the same headers again and again: their checked, escaped and encoded form
# is kept. Pure functions of their arguments; a frame that fails the checks is not kept.
@functools.lru_cache(maxsize=256)
def _head_before_length(command: bytes, items: tuple[tuple[str, str], ...]) -> bytes:
    return _encode_head(command, dict(items))


@functools.lru_cache(maxsize=256)
def _send_head(destination: str) -> bytes:
    return _encode_head(b"SEND", {"destination": destination})


def _encode_head(command: bytes, headers: dict[str, str]) -> bytes:
    head = _header_lines(command, headers)
    return b"%s\n%s" % (command, head.encode("utf-8", "surrogateescape"))


def _header_lines(command: bytes, headers: dict[str, str]) -> str:
    for name in _REQUIRED_TO_SERIALIZE.get(command, ()):
        if name not in headers:
            msg = f"{command.decode()} without the required {name!r} header"
            raise ValueError(msg)
    if _CONTENT_LENGTH in headers:
        headers = {name: value for name, value in headers.items() if name != _CONTENT_LENGTH}
    if not headers:
        return ""
    if "" in headers:
        msg = f"{command.decode()} with an empty header name"
        raise ValueError(msg)
    # Written first and checked after: the separators are the only ':' and LF when nothing
    # needs escaping, which is the common case and costs a few scans in C.
    lines = "\n".join(map(":".join, headers.items()))
    count = len(headers)
    if command in UNESCAPED_FRAMES:
        if (
            lines.count("\n") != count - 1
            or "\r" in lines
            or "\x00" in lines
            or any(":" in name for name in headers)
        ):
            _refuse_unescapable(command, headers)
    elif (
        lines.count(":") != count
        or lines.count("\n") != count - 1
        or "\\" in lines
        or "\r" in lines
        or "\x00" in lines
    ):
        return _escaped_lines(command, headers)
    return lines + "\n"


def _escaped_lines(command: bytes, headers: dict[str, str]) -> str:
    if any("\x00" in name or "\x00" in value for name, value in headers.items()):
        msg = f"{command.decode()} with a NUL in a header (a NUL cannot be escaped)"
        raise ValueError(msg)
    return "".join([f"{_escape(name)}:{_escape(value)}\n" for name, value in headers.items()])


def _refuse_unescapable(command: bytes, headers: dict[str, str]) -> None:
    for name, value in headers.items():
        if _UNESCAPABLE_NAME.search(name) or _UNESCAPABLE_VALUE.search(value):
            msg = (
                f"{command.decode()} headers are not escaped, so header {name!r}: {value!r} "
                "cannot hold CR, LF or NUL, nor ':' in its name"
            )
            raise ValueError(msg)
