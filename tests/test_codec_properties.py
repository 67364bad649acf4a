"""Hypothesis properties of the codec: serialize-then-parse is the identity, however the
bytes are cut, and no input makes a parser raise anything but a ProtocolError.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stompio._codec import ClientFrameParser, ServerFrameParser, serialize_frame
from stompio._errors import ConnectionLostError, ProtocolError
from stompio._frames import (
    CLIENT_FRAMES,
    FRAMES_WITH_BODY,
    REQUIRED_HEADERS,
    SERVER_FRAMES,
    UNESCAPED_FRAMES,
    ClientFrame,
    ConnectedFrame,
    HeartbeatFrame,
    ServerFrame,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    Frame = ClientFrame | ServerFrame | HeartbeatFrame
    Parser = ServerFrameParser | ClientFrameParser

# No example database: nothing is written into the repository.
PROPERTY = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

CONNECTED_FRAME = ConnectedFrame(headers={"version": "1.2"})
# Octets that matter to the codec, mixed into arbitrary ones so that they come up often.
SPECIAL_OCTETS = [b":", b"\\", b"\r", b"\n", b"\\c", b"\r\n", "é€😀".encode(), b"\xff", b"\xc3"]


def header_text(*, forbidden: bytes) -> st.SearchStrategy[str]:
    """Header text as the parser would produce it: bytes decoded with surrogateescape.

    Drawing bytes and decoding them (instead of drawing text) keeps lone surrogates to those
    that stand for a byte that is not UTF-8, which is what survives a round trip.
    """
    octets = st.lists(st.one_of(st.binary(max_size=6), st.sampled_from(SPECIAL_OCTETS)), max_size=5)
    return octets.map(
        lambda parts: bytes(b for b in b"".join(parts) if b not in forbidden).decode(
            "utf-8", "surrogateescape"
        )
    )


@st.composite
def frames(
    draw: st.DrawFn, table: dict[bytes, type[ClientFrame]] | dict[bytes, type[ServerFrame]]
) -> ClientFrame | ServerFrame:
    """Any frame of ``table`` that the serializer can write."""
    command = draw(st.sampled_from(sorted(table)))
    frame_type = table[command]
    if command in UNESCAPED_FRAMES:
        names = header_text(forbidden=b"\x00\r\n:").filter(bool)
        values = header_text(forbidden=b"\x00\r\n")
    else:
        names = header_text(forbidden=b"\x00").filter(bool)
        values = header_text(forbidden=b"\x00")
    # content-length is the serializer's own header: it is tested on its own.
    names = names.filter(lambda name: name != "content-length")
    headers = {name: draw(values) for name in REQUIRED_HEADERS.get(command, ())}
    headers.update(draw(st.dictionaries(names, values, max_size=4)))
    if command in FRAMES_WITH_BODY:
        body = draw(st.binary(max_size=300) | st.sampled_from([b"\x00", b"\n", b"\r\n\x00\n"]))
        return frame_type(headers=headers, body=body)  # type: ignore[call-arg]
    return frame_type(headers=headers)


def expected_after_round_trip(frame: ClientFrame | ServerFrame) -> ClientFrame | ServerFrame:
    """``frame`` as it comes back: frames with a body gain their content-length."""
    body = getattr(frame, "body", None)
    if body is None:
        return frame
    headers = {**frame.headers, "content-length": str(len(body))}
    return type(frame)(headers=headers, body=body)  # type: ignore[call-arg]


def cut(data: bytes, points: Sequence[int]) -> list[bytes]:
    """``data`` cut at ``points`` (taken modulo its length, in order)."""
    at = sorted({point % (len(data) + 1) for point in points})
    bounds = [0, *at, len(data)]
    return [data[start:stop] for start, stop in itertools.pairwise(bounds)]


def parse(parser: Parser, chunks: Sequence[bytes]) -> list[Frame]:
    """Feed every chunk, then end the stream; return everything parsed."""
    got: list[Frame] = []
    for chunk in chunks:
        got += parser.feed(chunk)
    parser.feed_eof()
    return got


split_points = st.lists(st.integers(min_value=0), max_size=12)
eols = st.lists(st.sampled_from([b"\n", b"\r\n"]), max_size=2).map(b"".join)


@PROPERTY
@given(
    st.lists(st.tuples(frames(SERVER_FRAMES), eols), min_size=1, max_size=3),
    split_points,
)
def test_server_frames_round_trip(sent: list[tuple[ServerFrame, bytes]], points: list[int]) -> None:
    wire = serialize_frame(CONNECTED_FRAME) + b"".join(
        serialize_frame(frame) + trailer for frame, trailer in sent
    )
    expected: list[Frame] = [CONNECTED_FRAME]
    for frame, trailer in sent:
        expected.append(expected_after_round_trip(frame))
        expected += [HeartbeatFrame()] * trailer.count(b"\n")
    assert parse(ServerFrameParser(), cut(wire, points)) == expected


@PROPERTY
@given(
    st.lists(st.tuples(frames(CLIENT_FRAMES), eols), min_size=1, max_size=3),
    split_points,
)
def test_client_frames_round_trip(sent: list[tuple[ClientFrame, bytes]], points: list[int]) -> None:
    wire = b"".join(serialize_frame(frame) + trailer for frame, trailer in sent)
    expected: list[Frame] = []
    for frame, trailer in sent:
        expected.append(expected_after_round_trip(frame))
        expected += [HeartbeatFrame()] * trailer.count(b"\n")
    assert parse(ClientFrameParser(), cut(wire, points)) == expected


def feed_only_protocol_errors(parser: Parser, chunks: Sequence[bytes]) -> None:
    """Feed ``chunks``: anything but a ProtocolError (or a lost connection at EOF) fails."""
    try:
        for chunk in chunks:
            parser.feed(chunk)
    except ProtocolError:
        return
    try:
        parser.feed_eof()
    except ConnectionLostError:
        return


FUZZ_OCTETS = st.lists(
    st.one_of(
        st.binary(max_size=8),
        st.sampled_from(
            [
                b"\n",
                b"\r\n",
                b"\x00",
                b"\\",
                b":",
                b"CONNECTED\nversion:1.2\n\n\x00",
                b"MESSAGE\n",
                b"RECEIPT\n",
                b"ERROR\n",
                b"SEND\n",
                b"ACK\n",
                b"CONNECT\n",
                b"content-length:",
                b"content-length:3\n",
                b"destination:/q\nmessage-id:1\nsubscription:0\n",
                b"receipt-id:1\n",
                b"\n\n",
            ]
        ),
    ),
    max_size=20,
).map(b"".join)


@PROPERTY
@given(FUZZ_OCTETS, split_points)
def test_arbitrary_bytes_raise_only_protocol_errors(data: bytes, points: list[int]) -> None:
    feed_only_protocol_errors(ServerFrameParser(), cut(data, points))
    feed_only_protocol_errors(ClientFrameParser(), cut(data, points))
    feed_only_protocol_errors(
        ServerFrameParser(max_frame_size=40, max_headers_size=20), cut(data, points)
    )


@st.composite
def mutated_streams(draw: st.DrawFn) -> bytes:
    """A valid server stream with a few octets flipped, inserted or deleted."""
    sent = draw(st.lists(frames(SERVER_FRAMES), min_size=1, max_size=2))
    wire = bytearray(
        serialize_frame(CONNECTED_FRAME) + b"".join(serialize_frame(frame) for frame in sent)
    )
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        at = draw(st.integers(min_value=0, max_value=len(wire)))
        octet = draw(st.sampled_from([0, 10, 13, 58, 92, 99, 255]) | st.integers(0, 255))
        match draw(st.sampled_from(["flip", "insert", "delete"])):
            case "flip" if at < len(wire):
                wire[at] = octet
            case "delete" if at < len(wire):
                del wire[at]
            case _:
                wire.insert(at, octet)
    return bytes(wire)


@PROPERTY
@given(mutated_streams(), split_points)
def test_mutated_frames_raise_only_protocol_errors(data: bytes, points: list[int]) -> None:
    feed_only_protocol_errors(ServerFrameParser(), cut(data, points))
    feed_only_protocol_errors(ClientFrameParser(), cut(data, points))


@PROPERTY
@given(FUZZ_OCTETS, split_points)
def test_the_cut_does_not_change_the_outcome(data: bytes, points: list[int]) -> None:
    # Whatever the bytes, feeding them cut or whole yields the same frames before any error,
    # and an error either way.
    whole, whole_error = outcome([data])
    pieces, pieces_error = outcome(cut(data, points))
    assert type(whole_error) is type(pieces_error)
    if whole_error is None:
        assert pieces == whole
    else:
        assert whole == pieces[: len(whole)]


def outcome(chunks: Sequence[bytes]) -> tuple[list[Frame], Exception | None]:
    """The frames a server parser returns for ``chunks`` and the error it ends with."""
    parser = ServerFrameParser()
    got: list[Frame] = []
    try:
        for chunk in chunks:
            got += parser.feed(chunk)
        parser.feed_eof()
    except (ProtocolError, ConnectionLostError) as error:
        return got, error
    return got, None
