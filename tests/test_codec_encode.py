"""The encoder: canonical bytes, escaping per frame type, content-length, refusals."""

from __future__ import annotations

import pytest

from stompio._codec import (
    ClientFrameParser,
    ServerFrameParser,
    encode_send,
    escape_header,
    serialize_frame,
    unescape_header,
)
from stompio._errors import ProtocolError
from stompio._frames import (
    REQUIRED_HEADERS,
    AbortFrame,
    AckFrame,
    AnyFrame,
    BeginFrame,
    ClientFrame,
    CommitFrame,
    ConnectedFrame,
    ConnectFrame,
    DisconnectFrame,
    ErrorFrame,
    HeartbeatFrame,
    MessageFrame,
    NackFrame,
    ReceiptFrame,
    SendFrame,
    StompFrame,
    SubscribeFrame,
    UnsubscribeFrame,
)

CONNECT_HEADERS = {"accept-version": "1.2", "host": "/"}


def test_f14_canonical_bytes() -> None:
    frame = SendFrame(headers={"destination": "/queue/a", "content-type": "text/plain"}, body=b"hi")
    assert serialize_frame(frame) == (
        b"SEND\ndestination:/queue/a\ncontent-type:text/plain\ncontent-length:2\n\nhi\x00"
    )


def test_f14_bodiless_frames_and_header_order() -> None:
    assert serialize_frame(AckFrame({"id": "1", "transaction": "t1"})) == (
        b"ACK\nid:1\ntransaction:t1\n\n\x00"
    )
    assert serialize_frame(AckFrame({"transaction": "t1", "id": "1"})) == (
        b"ACK\ntransaction:t1\nid:1\n\n\x00"
    )
    assert serialize_frame(DisconnectFrame()) == b"DISCONNECT\n\n\x00"
    assert serialize_frame(ReceiptFrame({"receipt-id": "9"})) == b"RECEIPT\nreceipt-id:9\n\n\x00"


def test_f14_heartbeat_is_one_lf() -> None:
    assert serialize_frame(HeartbeatFrame()) == b"\n"


BODILESS: list[AnyFrame] = [
    ConnectFrame(dict(CONNECT_HEADERS)),
    StompFrame(dict(CONNECT_HEADERS)),
    SubscribeFrame({"destination": "/q", "id": "0"}),
    UnsubscribeFrame({"id": "0"}),
    AckFrame({"id": "1"}),
    NackFrame({"id": "1"}),
    BeginFrame({"transaction": "t"}),
    CommitFrame({"transaction": "t"}),
    AbortFrame({"transaction": "t"}),
    DisconnectFrame({"receipt": "r"}),
    ConnectedFrame({"version": "1.2"}),
    ReceiptFrame({"receipt-id": "r"}),
]


@pytest.mark.parametrize("frame", BODILESS, ids=lambda frame: type(frame).__name__)
def test_f13_frames_without_a_body_end_with_blank_line_and_nul(frame: AnyFrame) -> None:
    data = serialize_frame(frame)
    assert data.startswith(frame.command + b"\n")
    assert data.endswith(b"\n\n\x00")
    assert b"content-length" not in data


def test_f13_content_length_is_dropped_from_frames_without_a_body() -> None:
    assert serialize_frame(AckFrame({"id": "1", "content-length": "5"})) == b"ACK\nid:1\n\n\x00"
    assert serialize_frame(ReceiptFrame({"content-length": "0"})) == b"RECEIPT\n\n\x00"


def test_e03_escape_backslash_first() -> None:
    frame = SendFrame({"destination": "/q", "k:1": "a:b\\c\nd\re"})
    assert serialize_frame(frame) == (
        b"SEND\ndestination:/q\nk\\c1:a\\cb\\\\c\\nd\\re\ncontent-length:0\n\n\x00"
    )


def test_e03_escaping_applies_to_every_frame_but_connect_stomp_connected() -> None:
    assert serialize_frame(AckFrame({"id": "ID:vm-1:2"})) == b"ACK\nid:ID\\cvm-1\\c2\n\n\x00"
    assert serialize_frame(MessageFrame({"x\n": "\\"})) == (
        b"MESSAGE\nx\\n:\\\\\ncontent-length:0\n\n\x00"
    )
    assert serialize_frame(ErrorFrame({"message": "a:b"}, b"x")) == (
        b"ERROR\nmessage:a\\cb\ncontent-length:1\n\nx\x00"
    )


@pytest.mark.parametrize(
    ("ack_id", "wire"),
    [
        ("plain-1", b"plain-1"),
        ("T_1@@session-x@@1@@5", b"T_1@@session-x@@1@@5"),
        ("caf\u00e9", "caf\u00e9".encode()),
        ("a:b", b"a\\cb"),
        ("a\\b", b"a\\\\b"),
        ("ID:vm\\c:1", b"ID\\cvm\\\\c\\c1"),
        ("a\nb", b"a\\nb"),
        ("a\rb", b"a\\rb"),
        ("\udcff", b"\xff"),
        ("", b""),
    ],
)
@pytest.mark.parametrize("frame_type", [AckFrame, NackFrame, UnsubscribeFrame])
def test_e03_id_only_frames_escape_like_every_frame(
    frame_type: type[AckFrame | NackFrame | UnsubscribeFrame], ack_id: str, wire: bytes
) -> None:
    # One header named id takes a shorter path; it must give the same bytes.
    frame = frame_type({"id": ack_id})
    assert serialize_frame(frame) == frame.command + b"\nid:" + wire + b"\n\n\x00"


def test_e03_an_id_only_frame_refuses_a_nul() -> None:
    with pytest.raises(ValueError, match="NUL"):
        serialize_frame(AckFrame({"id": "a\x00b"}))


def test_e03_escaped_headers_parse_back() -> None:
    headers = {"destination": "/q", "k:1": "a:b\\c\nd\re", "\\": ":\r\n"}
    parser = ClientFrameParser()
    assert parser.feed(serialize_frame(SendFrame(headers, b"x"))) == [
        SendFrame({**headers, "content-length": "1"}, b"x")
    ]


def test_e04_connect_headers_are_written_raw() -> None:
    frame = ConnectFrame({**CONNECT_HEADERS, "login": "us:er", "passcode": "p\\w:d"})
    assert serialize_frame(frame) == (
        b"CONNECT\naccept-version:1.2\nhost:/\nlogin:us:er\npasscode:p\\w:d\n\n\x00"
    )
    assert serialize_frame(ConnectedFrame({"version": "1.2", "server": "X\\cY"})) == (
        b"CONNECTED\nversion:1.2\nserver:X\\cY\n\n\x00"
    )


@pytest.mark.parametrize("frame_type", [ConnectFrame, StompFrame, ConnectedFrame])
@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("passcode", "a\rb"),
        ("passcode", "a\nb"),
        ("passcode", "a\x00b"),
        ("log\nin", "x"),
        ("log\rin", "x"),
        ("log\x00in", "x"),
        ("log:in", "x"),
        ("", "x"),
    ],
)
def test_e04_unrepresentable_connect_headers_are_refused(
    frame_type: type[ConnectFrame | StompFrame | ConnectedFrame], name: str, value: str
) -> None:
    frame = frame_type({**CONNECT_HEADERS, "version": "1.2", name: value})
    with pytest.raises(ValueError, match="header"):
        serialize_frame(frame)


@pytest.mark.parametrize(
    "frame",
    [
        SendFrame({"destination": "/q\x00"}),
        SendFrame({"destination": "/q", "receipt": "r\x00"}),
        AckFrame({"id": "1", "i\x00d": "1"}),
    ],
)
def test_nul_cannot_be_escaped(frame: AnyFrame) -> None:
    with pytest.raises(ValueError, match="NUL"):
        serialize_frame(frame)


def test_e03_a_send_carries_its_own_escaped_receipt_after_a_cached_head() -> None:
    headers = {"destination": "/queue/a", "x": "y"}
    first = serialize_frame(SendFrame({**headers, "receipt": "r:1"}, b"b"))
    second = serialize_frame(SendFrame({**headers, "receipt": "r\n2"}, b"b"))
    plain = serialize_frame(SendFrame(headers, b"b"))
    head = b"SEND\ndestination:/queue/a\nx:y\n"
    assert first == head + b"receipt:r\\c1\ncontent-length:1\n\nb\x00"
    assert second == head + b"receipt:r\\n2\ncontent-length:1\n\nb\x00"
    assert plain == head + b"content-length:1\n\nb\x00"
    with pytest.raises(ValueError, match="destination"):
        serialize_frame(SendFrame({"receipt": "r"}, b"b"))


@pytest.mark.parametrize("destination", ["/queue/a", "/queue/a:b\\c", "/topic/é", "/q/\udcff"])
@pytest.mark.parametrize("body", [b"", b"x" * 100, b"\x00\n"])
def test_a_plain_send_encodes_as_the_general_way_does(destination: str, body: bytes) -> None:
    general = serialize_frame(SendFrame({"destination": destination}, body))
    assert encode_send(destination, body) == general


@pytest.mark.parametrize("destination", ["/q\x00", "/q\ud800x"])
def test_a_plain_send_refuses_what_the_general_way_refuses(destination: str) -> None:
    with pytest.raises(ValueError) as general:
        serialize_frame(SendFrame({"destination": destination}, b""))
    with pytest.raises(ValueError) as plain:
        encode_send(destination, b"")
    assert str(plain.value) == str(general.value)


def test_e06_nothing_is_trimmed_or_padded() -> None:
    assert serialize_frame(AckFrame({"id": " 1 ", " x": "\t"})) == b"ACK\nid: 1 \n x:\t\n\n\x00"
    connect = ConnectFrame({**CONNECT_HEADERS, "login": "  me  "})
    assert b"\nlogin:  me  \n" in serialize_frame(connect)


def test_e07_headers_encode_as_utf8_with_surrogateescape() -> None:
    assert serialize_frame(AckFrame({"id": "é\udcff"})) == b"ACK\nid:\xc3\xa9\xff\n\n\x00"


def test_e07_text_that_cannot_encode_is_refused() -> None:
    with pytest.raises(ValueError, match="surrogate"):
        serialize_frame(AckFrame({"id": "\ud800"}))


def test_b06_content_length_always_on_body_frames() -> None:
    assert serialize_frame(SendFrame({"destination": "/q"}, b"a\x00b")) == (
        b"SEND\ndestination:/q\ncontent-length:3\n\na\x00b\x00"
    )
    assert serialize_frame(SendFrame({"destination": "/q"})) == (
        b"SEND\ndestination:/q\ncontent-length:0\n\n\x00"
    )
    assert serialize_frame(MessageFrame(body=b"x")) == b"MESSAGE\ncontent-length:1\n\nx\x00"


def test_b07_content_length_counts_octets() -> None:
    body = "é€".encode()
    assert body == b"\xc3\xa9\xe2\x82\xac"
    assert serialize_frame(SendFrame({"destination": "/q"}, body)) == (
        b"SEND\ndestination:/q\ncontent-length:5\n\n\xc3\xa9\xe2\x82\xac\x00"
    )


@pytest.mark.parametrize("frame_type", [SendFrame, MessageFrame, ErrorFrame])
def test_s03_a_given_content_length_is_replaced(
    frame_type: type[SendFrame | MessageFrame | ErrorFrame],
) -> None:
    frame = frame_type(
        {"content-length": "999", "destination": "/q", "Content-Length": "7"}, body=b"abc"
    )
    assert serialize_frame(frame) == (
        frame.command + b"\ndestination:/q\nContent-Length:7\ncontent-length:3\n\nabc\x00"
    )


def test_s03_user_headers_pass_through() -> None:
    frame = SendFrame({"destination": "/q", "persistent": "true", "x-a": ""}, b"")
    assert b"\npersistent:true\nx-a:\n" in serialize_frame(frame)


CLIENT_FRAME_TYPES: list[type[ClientFrame]] = [
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
]


@pytest.mark.parametrize("frame_type", CLIENT_FRAME_TYPES, ids=lambda t: t.__name__)
def test_required_headers_on_client_frames(frame_type: type[ClientFrame]) -> None:
    required = REQUIRED_HEADERS[frame_type.command]
    complete = dict.fromkeys(required, "v")
    assert serialize_frame(frame_type(complete))
    for missing in required:
        partial = {name: value for name, value in complete.items() if name != missing}
        with pytest.raises(ValueError, match=f"required {missing!r} header"):
            serialize_frame(frame_type(partial))


def test_server_frames_are_written_as_given() -> None:
    # The test server sends broken frames on purpose; the parser is where rules are enforced.
    assert serialize_frame(ReceiptFrame()) == b"RECEIPT\n\n\x00"
    assert serialize_frame(ConnectedFrame()) == b"CONNECTED\n\n\x00"


def test_empty_header_name_is_refused() -> None:
    with pytest.raises(ValueError, match="empty header name"):
        serialize_frame(SendFrame({"destination": "/q", "": "x"}))


def test_serialized_frames_parse_back() -> None:
    server = ServerFrameParser()
    frames: list[AnyFrame] = [
        ConnectedFrame({"version": "1.2", "session": "a:b"}),
        MessageFrame({"destination": "/q", "message-id": "m:1", "subscription": "0"}, b"\x00"),
        ReceiptFrame({"receipt-id": "r\n1"}),
        ErrorFrame({"message": "bad"}, b"x"),
    ]
    events = server.feed(b"".join(serialize_frame(frame) for frame in frames))
    assert events == [
        frames[0],
        MessageFrame({**frames[1].headers, "content-length": "1"}, b"\x00"),
        frames[2],
        ErrorFrame({"message": "bad", "content-length": "1"}, b"x"),
    ]


def test_escape_header_and_unescape_header() -> None:
    assert escape_header("a:b\\c\nd\re€") == b"a\\cb\\\\c\\nd\\re\xe2\x82\xac"
    assert unescape_header(b"a\\cb\\\\c\\nd\\re\xe2\x82\xac") == "a:b\\c\nd\re€"
    assert unescape_header(b"\xff") == "\udcff"
    with pytest.raises(ValueError, match="NUL"):
        escape_header("\x00")
    with pytest.raises(ProtocolError, match="undefined escape"):
        unescape_header(b"a\\tb")
