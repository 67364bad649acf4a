"""The decoder against the STOMP 1.2 checklist, one test per item (see STOMP.md section 1).

Every vector goes through :func:`assert_parses` or :func:`assert_refused`, which feed it
whole, split in two at every byte, one byte at a time, and between other frames and
heart-beats (again whole, split and byte by byte).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from stompio._codec import (
    DEFAULT_MAX_FRAME_SIZE,
    DEFAULT_MAX_HEADERS_SIZE,
    ClientFrameParser,
    ServerFrameParser,
)
from stompio._errors import ConnectionLostError, FrameTooLargeError, ProtocolError
from stompio._frames import (
    AckFrame,
    ConnectedFrame,
    ConnectFrame,
    ErrorFrame,
    HeartbeatFrame,
    MessageFrame,
    ReceiptFrame,
    SendFrame,
    StompFrame,
    SubscribeFrame,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from stompio._frames import AnyFrame

Parser = ServerFrameParser | ClientFrameParser
HB = HeartbeatFrame()
CONNECTED = b"CONNECTED\nversion:1.2\n\n\x00"
MSG = b"MESSAGE\ndestination:/q\nmessage-id:1\nsubscription:0\n"
MSG_HEADERS = {"destination": "/q", "message-id": "1", "subscription": "0"}


@dataclass(frozen=True, slots=True)
class Side:
    """Which parser reads the vector, what it has seen before, and the frames around it."""

    parser: type[Parser]
    prelude: bytes
    before: bytes
    before_events: tuple[AnyFrame | HeartbeatFrame, ...]
    after: bytes
    after_events: tuple[AnyFrame | HeartbeatFrame, ...]

    def new_parser(self) -> Parser:
        parser = self.parser()
        parser.feed(self.prelude)
        return parser


SERVER = Side(
    parser=ServerFrameParser,
    prelude=CONNECTED,
    before=b"\nRECEIPT\nreceipt-id:before\n\n\x00\r\n",
    before_events=(HB, ReceiptFrame({"receipt-id": "before"}), HB),
    after=b"\r\nMESSAGE\ndestination:/q\nmessage-id:after\nsubscription:0\ncontent-length:3\n\n"
    b"a\x00b\x00\n",
    after_events=(
        HB,
        MessageFrame(
            {
                "destination": "/q",
                "message-id": "after",
                "subscription": "0",
                "content-length": "3",
            },
            b"a\x00b",
        ),
        HB,
    ),
)
SERVER_BEFORE_CONNECTED = Side(
    parser=ServerFrameParser,
    prelude=b"",
    before=b"\r\n\n",
    before_events=(HB, HB),
    after=b"\nERROR\nmessage:after\n\nbye\x00",
    after_events=(HB, ErrorFrame({"message": "after"}, b"bye")),
)
CLIENT = Side(
    parser=ClientFrameParser,
    prelude=b"",
    before=b"\nSEND\ndestination:/q\n\nx\x00",
    before_events=(HB, SendFrame({"destination": "/q"}, b"x")),
    after=b"\r\nACK\nid:9\n\n\x00\n",
    after_events=(HB, AckFrame({"id": "9"}), HB),
)


def feeds(data: bytes) -> Iterator[tuple[str, list[bytes]]]:
    """Every way the tests cut a byte string into reads."""
    yield "whole", [data]
    for index in range(1, len(data)):
        yield f"split at {index}", [data[:index], data[index:]]
    yield "byte by byte", [data[index : index + 1] for index in range(len(data))]


def parse(side: Side, chunks: Sequence[bytes]) -> list[AnyFrame | HeartbeatFrame]:
    parser = side.new_parser()
    events: list[AnyFrame | HeartbeatFrame] = []
    for chunk in chunks:
        events.extend(parser.feed(chunk))
    parser.feed_eof()
    return events


def assert_parses(
    data: bytes, expected: Sequence[AnyFrame | HeartbeatFrame], side: Side = SERVER
) -> None:
    """Feed ``data`` every way and require exactly ``expected`` each time."""
    for how, chunks in feeds(data):
        assert parse(side, chunks) == list(expected), how
    batch = side.before + data + side.after
    batch_expected = [*side.before_events, *expected, *side.after_events]
    for how, chunks in feeds(batch):
        assert parse(side, chunks) == batch_expected, f"between other frames, {how}"


def refusal(parser: Parser, chunks: Sequence[bytes]) -> ProtocolError | None:
    """Feed every chunk; return the ProtocolError that stopped the parser, if one did."""
    try:
        for chunk in chunks:
            parser.feed(chunk)
    except ProtocolError as error:
        return error
    return None


def assert_refused(
    data: bytes,
    side: Side = SERVER,
    *,
    error: type[ProtocolError] = ProtocolError,
    match: str,
) -> None:
    """Feed ``data`` every way and require ``error`` each time, by the last byte at the latest."""
    batch = side.before + data + side.after
    ways = [(how, chunks) for how, chunks in feeds(data)]
    ways += [(f"between other frames, {how}", chunks) for how, chunks in feeds(batch)]
    for how, chunks in ways:
        raised = refusal(side.new_parser(), chunks)
        assert isinstance(raised, error), f"{raised!r} when fed {how}"
        assert re.search(match, str(raised)), f"{raised!r} when fed {how}"


def message(extra: dict[str, str] | None = None, body: bytes = b"") -> MessageFrame:
    return MessageFrame({**MSG_HEADERS, **(extra or {})}, body)


# 1.A Frame grammar


@pytest.mark.parametrize(
    "data",
    [
        b"RECEIPT\nreceipt-id:77\n\n\x00",
        b"RECEIPT\r\nreceipt-id:77\r\n\r\n\x00",
        b"RECEIPT\r\nreceipt-id:77\n\r\n\x00",
        b"RECEIPT\nreceipt-id:77\r\n\n\x00",
    ],
)
def test_f01_eol_is_optional_cr_and_lf(data: bytes) -> None:
    assert_parses(data, [ReceiptFrame({"receipt-id": "77"})])


@pytest.mark.parametrize(
    "data",
    [
        b"receipt\nreceipt-id:1\n\n\x00",
        b"Receipt\nreceipt-id:1\n\n\x00",
        b"SEND\ndestination:/q\n\n\x00",
        b"CONNECT\naccept-version:1.2\nhost:/\n\n\x00",
        b"NOPE\n\n\x00",
        b" RECEIPT\nreceipt-id:1\n\n\x00",
    ],
)
def test_f02_a_client_accepts_only_server_commands_case_sensitive(data: bytes) -> None:
    assert_refused(data, match="unknown command")


@pytest.mark.parametrize(
    "data", [b"send\ndestination:/q\n\n\x00", MSG + b"\n\x00", b"ERROR\n\n\x00"]
)
def test_f02_a_server_accepts_only_client_commands(data: bytes) -> None:
    assert_refused(data, CLIENT, match="unknown command")


def test_f03_header_split_at_the_first_colon() -> None:
    assert_parses(
        b"CONNECTED\nversion:1.2\nsession:ID:vm-43895-1795719824852-3:1\n\n\x00",
        [ConnectedFrame({"version": "1.2", "session": "ID:vm-43895-1795719824852-3:1"})],
        SERVER_BEFORE_CONNECTED,
    )
    assert_parses(
        b"MESSAGE\ndestination:foo:bar:baz\nmessage-id:1\nsubscription:0\n\n\x00",
        [MessageFrame({"destination": "foo:bar:baz", "message-id": "1", "subscription": "0"})],
    )


@pytest.mark.parametrize("line", [b":v", b"nocolon", b"\\c", b":", b"::"])
def test_f04_header_name_non_empty_and_colon_required(line: bytes) -> None:
    assert_refused(MSG + line + b"\n\n\x00", match="malformed header line")


def test_f05_empty_header_value_is_legal() -> None:
    assert_parses(MSG + b"x-empty:\n\n\x00", [message({"x-empty": ""})])


@pytest.mark.parametrize(
    "data",
    [
        b"RECEIPT\nreceipt-id:a\rb\n\n\x00",
        b"RECEIPT\nreceipt-id:ab\r\r\n\n\x00",
        b"RECEIPT\nreceipt-id:ab\n\r\r\n\n\x00",
        b"RECEIPT\r\rreceipt-id:ab\n\n\x00",
        b"RECE\rIPT\nreceipt-id:ab\n\n\x00",
        b"RECEIPT\nrece\ript-id:ab\n\n\x00",
    ],
)
def test_f06_bare_cr_inside_a_command_or_header_line(data: bytes) -> None:
    assert_refused(data, match="CR without LF")


def test_f06_bare_cr_between_frames() -> None:
    assert_refused(b"\rRECEIPT\nreceipt-id:1\n\n\x00", match="CR without LF")


def test_f07_body_without_content_length_ends_at_the_first_nul() -> None:
    assert_parses(MSG + b"\nhello\nworld\n\n\x00", [message(body=b"hello\nworld\n\n")])
    assert_parses(MSG + b"\n\r\n\r\nx\x00", [message(body=b"\r\n\r\nx")])


def test_f08_any_number_of_eols_after_the_nul() -> None:
    assert_parses(
        b"RECEIPT\nreceipt-id:1\n\n\x00\n\r\n\nRECEIPT\nreceipt-id:2\n\n\x00",
        [ReceiptFrame({"receipt-id": "1"}), HB, HB, HB, ReceiptFrame({"receipt-id": "2"})],
    )


F09_STREAM = (
    b"CONNECTED\nversion:1.2\nheart-beat:0,0\n\n\x00"
    b"MESSAGE\r\ndestination:/queue/a\\cb\r\nmessage-id:7\r\nsubscription:s\\\\1\r\n"
    b"content-length:6\r\n\r\n\x00ab\r\n\x00\x00\n"
    b"RECEIPT\r\nreceipt-id:r\\c1\r\n\r\n\x00\r\n"
)
F09_EVENTS: list[AnyFrame | HeartbeatFrame] = [
    ConnectedFrame({"version": "1.2", "heart-beat": "0,0"}),
    MessageFrame(
        {
            "destination": "/queue/a:b",
            "message-id": "7",
            "subscription": "s\\1",
            "content-length": "6",
        },
        b"\x00ab\r\n\x00",
    ),
    HB,
    ReceiptFrame({"receipt-id": "r:1"}),
    HB,
]


def test_f09_any_split_gives_the_same_frames() -> None:
    # Splits fall inside CRLF, between "\" and its letter, inside the counted body and
    # between the body's last byte and its NUL: assert_parses tries every index.
    assert b"\r\n" in F09_STREAM
    assert b"\\c" in F09_STREAM
    assert_parses(F09_STREAM, F09_EVENTS, SERVER_BEFORE_CONNECTED)


def test_f09_three_way_splits() -> None:
    for first in range(1, len(F09_STREAM) - 1):
        for second in range(first + 1, len(F09_STREAM), 7):
            chunks = [F09_STREAM[:first], F09_STREAM[first:second], F09_STREAM[second:]]
            assert parse(SERVER_BEFORE_CONNECTED, chunks) == F09_EVENTS, (first, second)


def test_f10_several_frames_in_one_read() -> None:
    parser = ServerFrameParser()
    events = parser.feed(
        CONNECTED
        + MSG
        + b"content-length:1\n\n\x00\x00"
        + b"RECEIPT\nreceipt-id:2\n\n\x00"
        + MSG
        + b"\nz\x00"
    )
    assert events == [
        ConnectedFrame({"version": "1.2"}),
        message({"content-length": "1"}, b"\x00"),
        ReceiptFrame({"receipt-id": "2"}),
        message(body=b"z"),
    ]
    assert_parses(
        MSG + b"\na\x00" + MSG + b"\nb\x00" + MSG + b"\nc\x00",
        [message(body=b"a"), message(body=b"b"), message(body=b"c")],
    )


def test_f11_eols_are_heartbeats_only_between_frames() -> None:
    parser = SERVER.new_parser()
    assert parser.feed(MSG + b"\na") == []
    assert parser.feed(b"\n") == []
    assert parser.feed(b"b\x00") == [message(body=b"a\nb")]
    assert_parses(MSG + b"\na\nb\x00", [message(body=b"a\nb")])
    assert_parses(MSG + b"\r\n\n\r\n\x00\n", [message(body=b"\n\r\n"), HB])


F12_FRAMES = [
    MSG + b"\nbody\x00",
    MSG + b"content-length:4\n\nbo\x00y\x00",
    b"RECEIPT\r\nreceipt-id:1\r\n\r\n\x00",
]


@pytest.mark.parametrize("frame", F12_FRAMES)
def test_f12_eof_inside_a_frame_is_connection_lost(frame: bytes) -> None:
    for cut in range(1, len(frame)):
        parser = SERVER.new_parser()
        assert parser.feed(frame[:cut]) == []
        with pytest.raises(ConnectionLostError, match="in the middle of a frame"):
            parser.feed_eof()


def test_f12_eof_mid_frame_after_a_split_body() -> None:
    parser = SERVER.new_parser()
    parser.feed(MSG + b"content-length:4\n\nbo")
    assert parser.feed(b"dy") == []
    with pytest.raises(ConnectionLostError):
        parser.feed_eof()


def test_f12_eof_at_a_boundary_is_clean() -> None:
    parser = SERVER.new_parser()
    assert parser.feed(b"RECEIPT\nreceipt-id:1\n\n\x00\n") == [
        ReceiptFrame({"receipt-id": "1"}),
        HB,
    ]
    parser.feed_eof()  # a clean end: no error
    ServerFrameParser().feed_eof()


@pytest.mark.parametrize(
    ("data", "side"),
    [
        (b"RECEIPT\nreceipt-id:1\n\nxyz\x00", SERVER),
        (b"RECEIPT\nreceipt-id:1\ncontent-length:3\n\nxyz\x00", SERVER),
        (b"CONNECTED\nversion:1.2\n\n\n\x00", SERVER_BEFORE_CONNECTED),
        (b"ACK\nid:1\n\nx\x00", CLIENT),
        (b"SUBSCRIBE\nid:1\ndestination:/q\ncontent-length:1\n\n\x00\x00", CLIENT),
    ],
)
def test_f13_only_send_message_error_carry_a_body(data: bytes, side: Side) -> None:
    assert_refused(data, side, match="with a body")


def test_f13_bodies_are_fine_on_send_message_error_and_empty_elsewhere() -> None:
    assert_parses(
        b"SEND\ndestination:/q\n\nx\x00", [SendFrame({"destination": "/q"}, b"x")], CLIENT
    )
    assert_parses(b"ERROR\n\nx\x00", [ErrorFrame({}, b"x")])
    assert_parses(
        b"RECEIPT\nreceipt-id:1\ncontent-length:0\n\n\x00",
        [ReceiptFrame({"receipt-id": "1", "content-length": "0"})],
    )


# 1.B Value encoding


def test_e01_escapes_decoded_in_names_and_values() -> None:
    assert_parses(MSG + b"x\\cy:a\\nb\\rc\\\\d\\ce\n\n\x00", [message({"x:y": "a\nb\rc\\d:e"})])
    assert_parses(
        b"SEND\ndestination:/q\\\\\\n\\r\\c\n\n\x00",
        [SendFrame({"destination": "/q\\\n\r:"})],
        CLIENT,
    )


@pytest.mark.parametrize(
    "line",
    [b"x:a\\tb", b"x:ab\\", b"x:ab\\\r", b"x\\t:ab", b"x\\:ab", b"x:\\ ", b"x:\\C", b"x:\\\\\\"],
)
def test_e02_undefined_escape_is_fatal(line: bytes) -> None:
    assert_refused(MSG + line + b"\n\n\x00", match="undefined escape")


def test_e02_undefined_escape_in_an_ignored_repeat_is_fatal_too() -> None:
    assert_refused(MSG + b"x:1\nx:\\t\n\n\x00", match="undefined escape")


def test_e02_undefined_escape_in_error_after_connected() -> None:
    assert_refused(b"ERROR\nmessage:a\\tb\n\n\x00", match="undefined escape")


def test_e05_connected_headers_are_not_unescaped() -> None:
    assert_parses(
        b"CONNECTED\nversion:1.2\nserver:X\\cY\nodd:\\t\\\n\n\x00",
        [ConnectedFrame({"version": "1.2", "server": "X\\cY", "odd": "\\t\\"})],
        SERVER_BEFORE_CONNECTED,
    )


def test_e05_connect_and_stomp_headers_are_not_unescaped() -> None:
    for command in (b"CONNECT", b"STOMP"):
        parser = ClientFrameParser()
        frame_type = ConnectFrame if command == b"CONNECT" else StompFrame
        assert parser.feed(command + b"\nlogin:us:er\npasscode:p\\w:d\\c\n\n\x00") == [
            frame_type({"login": "us:er", "passcode": "p\\w:d\\c"})
        ]
    assert_parses(
        b"CONNECT\nlogin:us:er\npasscode:p\\w:d\n\n\x00",
        [ConnectFrame({"login": "us:er", "passcode": "p\\w:d"})],
        CLIENT,
    )


def test_e06_names_and_values_are_never_trimmed() -> None:
    assert_parses(
        MSG + b"x-pad:  padded  \n x :\t\n\n\x00", [message({"x-pad": "  padded  ", " x ": "\t"})]
    )


def test_e07_headers_are_utf8_and_invalid_bytes_survive() -> None:
    assert_parses(
        MSG + b"x:\xc3\xa9\n\xe2\x82\xac:\xff\xc3\n\n\x00",
        [message({"x": "é", "€": "\udcff\udcc3"})],
    )


def test_e08_error_before_connected_is_decoded_leniently() -> None:
    assert_parses(
        b"ERROR\nmessage:bad\\tescape\\c kept\\\ncontent-type:text/plain\n\nreason\x00",
        [ErrorFrame({"message": "bad\\tescape: kept\\", "content-type": "text/plain"}, b"reason")],
        SERVER_BEFORE_CONNECTED,
    )


def test_e08_lenient_only_until_connected() -> None:
    parser = ServerFrameParser()
    parser.feed(b"ERROR\nmessage:a\\tb\n\n\x00" + CONNECTED)
    with pytest.raises(ProtocolError, match="undefined escape"):
        parser.feed(b"ERROR\nmessage:a\\tb\n\n\x00")


def test_e08_lenient_error_still_refuses_bad_framing() -> None:
    assert_refused(b"ERROR\nmessage:a\rb\n\n\x00", SERVER_BEFORE_CONNECTED, match="CR without LF")


# 1.C Body and content-length


def test_b01_content_length_body_may_hold_nuls() -> None:
    assert_parses(
        MSG + b"content-length:5\n\na\x00b\x00c\x00",
        [message({"content-length": "5"}, b"a\x00b\x00c")],
    )
    body = bytes(range(256)) * 4
    assert_parses(
        MSG + b"content-length:1024\n\n" + body + b"\x00",
        [message({"content-length": "1024"}, body)],
    )


def test_b02_content_length_excludes_the_nul() -> None:
    assert_parses(b"ERROR\ncontent-length:0\n\n\x00", [ErrorFrame({"content-length": "0"}, b"")])
    assert_parses(
        b"ERROR\ncontent-length:1\n\n\x00\x00", [ErrorFrame({"content-length": "1"}, b"\x00")]
    )


@pytest.mark.parametrize(
    "data",
    [
        MSG + b"content-length:2\n\nabcde\x00",
        MSG + b"content-length:2\n\nab\n\x00",
        MSG + b"content-length:0\n\na\x00",
        b"ERROR\ncontent-length:3\n\nabcd\x00",
    ],
)
def test_b03_the_octet_after_the_counted_body_must_be_nul(data: bytes) -> None:
    assert_refused(data, match="no NUL after the content-length")


@pytest.mark.parametrize(
    "value",
    [b"-1", b"abc", b" 5", b"5 ", b"+5", b"", b"5.0", b"0x5", b"\xd9\xa5", b"\xc2\xb2", b"1_0"],
)
def test_b04_content_length_is_only_decimal_digits(value: bytes) -> None:
    assert_refused(MSG + b"content-length:" + value + b"\n\nabcde\x00", match="decimal digits")


def test_b04_huge_content_length_is_too_large_before_any_body() -> None:
    for value in (b"10000000000", b"9" * 5000, str(DEFAULT_MAX_FRAME_SIZE).encode()):
        parser = SERVER.new_parser()
        with pytest.raises(FrameTooLargeError, match="content-length"):
            parser.feed(MSG + b"content-length:" + value + b"\n\n")


def test_b04_leading_zeros_are_digits() -> None:
    assert_parses(
        MSG + b"content-length:0003\n\nabc\x00", [message({"content-length": "0003"}, b"abc")]
    )


def test_b05_the_first_content_length_wins() -> None:
    assert_parses(
        MSG + b"content-length:3\ncontent-length:10\n\nabc\x00",
        [message({"content-length": "3"}, b"abc")],
    )


def test_b07_content_length_counts_octets() -> None:
    assert_parses(
        MSG + b"content-length:5\n\n\xc3\xa9\xe2\x82\xac\x00",
        [message({"content-length": "5"}, "é€".encode())],
    )


def test_b08_content_type_passes_through_untouched() -> None:
    assert_parses(
        MSG + b"content-type:text/plain;charset=iso-8859-1\n\n\xe9\x00",
        [message({"content-type": "text/plain;charset=iso-8859-1"}, b"\xe9")],
    )


def test_b09_header_limit_is_inclusive() -> None:
    data = b"RECEIPT\nreceipt-id:" + b"r" * 100 + b"\n\n\x00"
    fits = len(data) - 1  # the headers end where the body starts, before the NUL
    for chunks in ([data], [data[i : i + 1] for i in range(len(data))]):
        parser = ServerFrameParser(max_headers_size=fits)
        parser.feed(CONNECTED)
        events = [event for chunk in chunks for event in parser.feed(chunk)]
        assert events == [ReceiptFrame({"receipt-id": "r" * 100})]
        parser = ServerFrameParser(max_headers_size=fits - 1)
        parser.feed(CONNECTED)
        assert isinstance(refusal(parser, chunks), FrameTooLargeError)


@pytest.mark.parametrize("counted", [True, False])
def test_b09_frame_limit_is_inclusive(counted: bool) -> None:
    body = b"x" * 1000
    head = MSG + (b"content-length:1000\n" if counted else b"") + b"\n"
    data = head + body + b"\x00"
    fits = len(head) + len(body)
    for chunks in ([data], [data[i : i + 7] for i in range(0, len(data), 7)]):
        parser = ServerFrameParser(max_frame_size=fits)
        parser.feed(CONNECTED)
        events = [event for chunk in chunks for event in parser.feed(chunk)]
        assert [event.body for event in events if isinstance(event, MessageFrame)] == [body]
        parser = ServerFrameParser(max_frame_size=fits - 1)
        parser.feed(CONNECTED)
        assert isinstance(refusal(parser, chunks), FrameTooLargeError)


def test_b09_default_limits() -> None:
    assert DEFAULT_MAX_FRAME_SIZE == 128 * 1024 * 1024
    assert DEFAULT_MAX_HEADERS_SIZE == 1024 * 1024


@pytest.mark.parametrize("limit", [0, -1, True, 1.5])
def test_b09_limits_must_be_positive_ints(limit: object) -> None:
    with pytest.raises(ValueError, match="positive int"):
        ServerFrameParser(max_frame_size=limit)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="positive int"):
        ClientFrameParser(max_headers_size=limit)  # type: ignore[arg-type]


# 1.D Header semantics


def test_h01_the_first_of_repeated_headers_wins() -> None:
    assert_parses(MSG + b"foo:World\nfoo:Hello\n\n\x00", [message({"foo": "World"})])
    assert_parses(
        b"MESSAGE\ndestination:/first\nmessage-id:1\nsubscription:0\ndestination:/second\n\n\x00",
        [message({"destination": "/first"})],
    )


def test_h01_repeats_compare_after_unescaping() -> None:
    assert_parses(MSG + b"a\\cb:1\na\\cb:2\n\n\x00", [message({"a:b": "1"})])


def test_h02_header_names_are_case_sensitive() -> None:
    assert_parses(
        MSG + b"Content-Length:3\n\nabcdef\x00", [message({"Content-Length": "3"}, b"abcdef")]
    )
    assert_refused(b"receipt\nreceipt-id:1\n\n\x00", match="unknown command")


def test_h03_unknown_headers_are_kept() -> None:
    assert_parses(
        MSG + b"receipt:x\ntransaction:t2\nx-custom:1\n\n\x00",
        [message({"receipt": "x", "transaction": "t2", "x-custom": "1"})],
    )


@pytest.mark.parametrize(
    ("data", "side"),
    [
        (b"RECEIPT\n\n\x00", SERVER),
        (b"MESSAGE\ndestination:/q\nmessage-id:1\n\n\x00", SERVER),
        (b"SEND\n\n\x00", CLIENT),
        (b"SUBSCRIBE\ndestination:/q\n\n\x00", CLIENT),
        (b"ACK\n\n\x00", CLIENT),
        (b"BEGIN\n\n\x00", CLIENT),
    ],
)
def test_h04_required_headers(data: bytes, side: Side) -> None:
    assert_refused(data, side, match="required")


def test_h04_connect_headers_are_left_to_the_server() -> None:
    assert_parses(b"CONNECT\n\n\x00", [ConnectFrame({})], CLIENT)
    assert_parses(
        b"SUBSCRIBE\nid:0\ndestination:/q\n\n\x00",
        [SubscribeFrame({"id": "0", "destination": "/q"})],
        CLIENT,
    )


def test_h04_connected_without_version_is_left_to_the_protocol_layer() -> None:
    assert_parses(b"CONNECTED\n\n\x00", [ConnectedFrame({})], SERVER_BEFORE_CONNECTED)


# 1.F and later: the decoder's part


def test_n05_no_message_or_receipt_before_connected() -> None:
    assert_refused(MSG + b"\n\x00", SERVER_BEFORE_CONNECTED, match="before CONNECTED")
    assert_refused(
        b"RECEIPT\nreceipt-id:1\n\n\x00", SERVER_BEFORE_CONNECTED, match="before CONNECTED"
    )


def test_n05_eols_before_connected_are_fine() -> None:
    assert_parses(
        b"\n\r\n" + CONNECTED + MSG + b"\n\x00",
        [HB, HB, ConnectedFrame({"version": "1.2"}), message()],
        SERVER_BEFORE_CONNECTED,
    )


def test_hb04_lf_or_crlf_at_any_boundary_is_a_heartbeat() -> None:
    assert_parses(b"\r\n", [HB])
    assert_parses(b"\n", [HB])
    assert_parses(
        CONNECTED + b"\r\n\n", [ConnectedFrame({"version": "1.2"}), HB, HB], SERVER_BEFORE_CONNECTED
    )
    assert_parses(b"\n\r\n", [HB, HB], CLIENT)


def test_hb04_a_lone_cr_waits_for_its_lf() -> None:
    parser = SERVER.new_parser()
    assert parser.feed(b"\r") == []
    with pytest.raises(ConnectionLostError):
        parser.feed_eof()
    assert parser.feed(b"\n") == [HB]
    parser.feed_eof()  # a clean end: no error


def test_m01_message_needs_destination_message_id_subscription() -> None:
    for missing in MSG_HEADERS:
        lines = b"".join(
            f"{name}:{value}\n".encode() for name, value in MSG_HEADERS.items() if name != missing
        )
        assert_refused(b"MESSAGE\n" + lines + b"\n\x00", match=f"required '{missing}'")


def test_m04_message_body_without_content_length() -> None:
    assert_parses(MSG + b"\nno-cl\x00", [message(body=b"no-cl")])


def test_r01_receipt_needs_receipt_id() -> None:
    assert_refused(b"RECEIPT\n\n\x00", match="required 'receipt-id'")
    assert_refused(b"RECEIPT\nreceipt:1\n\n\x00", match="required 'receipt-id'")


ACTIVEMQ_TRACE = (
    b"org.apache.activemq.transport.stomp.ProtocolException: Unknown STOMP action: FOO\n"
    b"\tat org.apache.activemq.transport.stomp.ProtocolConverter.onStompCommand(...)\n"
    b"\tat java.lang.Thread.run(Thread.java:829)\n"
)


def test_er02_error_body_runs_to_the_nul() -> None:
    assert_parses(
        b"ERROR\ncontent-type:text/plain\n\n" + ACTIVEMQ_TRACE + b"\x00\n",
        [ErrorFrame({"content-type": "text/plain"}, ACTIVEMQ_TRACE), HB],
    )


def test_er05_error_headers_are_unescaped() -> None:
    assert_parses(
        b"ERROR\ncontent-type:text/plain\nmessage:Unknown STOMP action\\c FOO\n\n"
        + ACTIVEMQ_TRACE
        + b"\x00\n",
        [
            ErrorFrame(
                {"content-type": "text/plain", "message": "Unknown STOMP action: FOO"},
                ACTIVEMQ_TRACE,
            ),
            HB,
        ],
    )


def test_l02_a_long_header_line_fails_before_it_is_buffered() -> None:
    limit = 64 * 1024
    chunk = b"x" * 4096
    parser = ServerFrameParser(max_headers_size=limit)
    parser.feed(CONNECTED + b"MESSAGE\nx-long:")
    fed = len(b"MESSAGE\nx-long:")
    while fed < 2 * 1024 * 1024:
        fed += len(chunk)
        try:
            parser.feed(chunk)
        except FrameTooLargeError:
            break
    assert limit < fed <= limit + len(chunk)


def test_l02_a_long_delimited_body_fails_before_its_nul() -> None:
    limit = 64 * 1024
    parser = ServerFrameParser(max_frame_size=limit)
    parser.feed(CONNECTED + MSG + b"\n")
    fed = len(MSG) + 1
    while fed < 2 * 1024 * 1024:
        fed += 4096
        try:
            parser.feed(b"y" * 4096)
        except FrameTooLargeError:
            break
    assert limit < fed <= limit + 4096


def test_l02_a_nul_inside_headers_fails_at_once() -> None:
    # Without the blank line the frame never ends; the NUL shows it is broken.
    parser = SERVER.new_parser()
    with pytest.raises(ProtocolError, match="NUL inside"):
        parser.feed(b"RECEIPT\nreceipt-id:1\n\x00")
    assert_refused(b"RECEIPT\nreceipt-id:1\x00x\n\n\x00", match="NUL inside")


# The parser as a whole


def test_errors_are_sticky() -> None:
    parser = SERVER.new_parser()
    with pytest.raises(ProtocolError):
        parser.feed(b"NOPE\n\n\x00")
    for _ in range(2):
        with pytest.raises(ProtocolError, match="broke earlier"):
            parser.feed(b"RECEIPT\nreceipt-id:1\n\n\x00")
    with pytest.raises(ProtocolError, match="broke earlier"):
        parser.feed_eof()


def test_frame_too_large_is_sticky() -> None:
    parser = ServerFrameParser(max_frame_size=10)
    with pytest.raises(FrameTooLargeError):
        parser.feed(CONNECTED)
    with pytest.raises(ProtocolError):
        parser.feed(b"\n")


def test_accepts_bytearray_and_memoryview_and_copies_them() -> None:
    data = bytearray(CONNECTED + MSG + b"content-length:3\n\nab")
    parser = ServerFrameParser()
    assert parser.feed(data) == [ConnectedFrame({"version": "1.2"})]
    data[:] = b"\xff" * len(data)
    tail = bytearray(b"c\x00")
    assert parser.feed(memoryview(tail)) == [message({"content-length": "3"}, b"abc")]
    tail[:] = b"zz"
    assert parser.feed(memoryview(b"RECEIPT\nreceipt-id:1\n\n\x00")) == [
        ReceiptFrame({"receipt-id": "1"})
    ]


def test_an_empty_read_changes_nothing() -> None:
    parser = SERVER.new_parser()
    assert parser.feed(b"") == []
    parser.feed(MSG + b"content-length:2\n\n")
    assert parser.feed(b"") == []
    assert parser.feed(b"ab\x00") == [message({"content-length": "2"}, b"ab")]


def test_a_large_counted_body_in_socket_sized_reads() -> None:
    body = bytes(range(256)) * 4096 + b"\x00tail"
    data = MSG + f"content-length:{len(body)}\n\n".encode() + body + b"\x00\n" + CONNECTED
    parser = SERVER.new_parser()
    events: list[AnyFrame | HeartbeatFrame] = []
    for start in range(0, len(data), 65536):
        events.extend(parser.feed(data[start : start + 65536]))
    assert events == [
        message({"content-length": str(len(body))}, body),
        HB,
        ConnectedFrame({"version": "1.2"}),
    ]
    parser.feed_eof()  # a clean end: no error
