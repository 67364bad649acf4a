# Source of truth: scripts/unasync.py generates tests/_sync/test_send.py from this file.
"""SEND on the wire: canonical bytes, bodies, escaping, and the caller's mistakes."""

from __future__ import annotations

from typing import Any

import pytest

import stompio
from stompio._frames import ConnectFrame, DisconnectFrame, SendFrame
from tests._async import next_event
from tests.stomp_server import (
    ServerConnection,
    StompTestServer,
    accept_connect,
    client_options,
    receipt_frame,
    serve,
    serve_until_disconnect,
)


def sends(server: StompTestServer) -> list[SendFrame]:
    return [frame for frame in server.connection().frames if isinstance(frame, SendFrame)]


@pytest.mark.anyio
async def test_f14_send_bytes_are_canonical() -> None:
    with StompTestServer(serve) as server:
        async with stompio.AsyncClient(**client_options(server)) as client:
            await client.send(b"hi", "/queue/a", content_type="text/plain")
    assert (
        b"SEND\ndestination:/queue/a\ncontent-type:text/plain\ncontent-length:2\n\nhi\x00"
        in server.connection().received
    )


@pytest.mark.anyio
async def test_b06_a_body_with_nul_is_counted() -> None:
    with StompTestServer(serve) as server:
        async with stompio.AsyncClient(**client_options(server)) as client:
            await client.send(b"a\x00b", "/queue/a", receipt=True)
    [send] = sends(server)
    assert send.body == b"a\x00b"
    assert send.headers["content-length"] == "3"
    assert "content-type" not in send.headers


class _Payload(bytes):
    pass


@pytest.mark.anyio
async def test_bytes_like_bodies_are_sent_as_they_are() -> None:
    with StompTestServer(serve) as server:
        async with stompio.AsyncClient(**client_options(server)) as client:
            await client.send(bytearray(b"ab"), "/queue/a")  # type: ignore[arg-type]
            await client.send(memoryview(b"cd"), "/queue/a")  # type: ignore[arg-type]
            await client.send(_Payload(b"ef"), "/queue/a", receipt=True)
    assert [(send.body, send.headers["content-length"]) for send in sends(server)] == [
        (b"ab", "2"),
        (b"cd", "2"),
        (b"ef", "2"),
    ]
    assert b"content-type" not in server.connection().received


@pytest.mark.anyio
async def test_b07_b08_a_str_body_is_utf8_text() -> None:
    with StompTestServer(serve) as server:
        async with stompio.AsyncClient(**client_options(server)) as client:
            await client.send("é€", "/queue/a")
            await client.send("x", "/queue/a", content_type="application/json")
    first, second = sends(server)
    assert first.body == b"\xc3\xa9\xe2\x82\xac"
    assert first.headers["content-length"] == "5"
    assert first.headers["content-type"] == "text/plain;charset=utf-8"
    assert second.headers["content-type"] == "application/json"


@pytest.mark.anyio
async def test_e03_header_names_and_values_are_escaped() -> None:
    with StompTestServer(serve) as server:
        async with stompio.AsyncClient(**client_options(server)) as client:
            await client.send(b"", "/queue/a", headers={"k:1": "a:b\\c\nd\re"})
    assert b"\nk\\c1:a\\cb\\\\c\\nd\\re\n" in server.connection().received
    [send] = sends(server)
    assert send.headers["k:1"] == "a:b\\c\nd\re"


@pytest.mark.anyio
async def test_s03_user_headers_pass_through() -> None:
    with StompTestServer(serve) as server:
        async with stompio.AsyncClient(**client_options(server)) as client:
            await client.send(b"x", "/queue/a", headers={"persistent": "true", "x-empty": ""})
    [send] = sends(server)
    assert send.headers["persistent"] == "true"
    assert send.headers["x-empty"] == ""


@pytest.mark.anyio
async def test_send_with_receipt_true_waits_for_the_receipt() -> None:
    def script(conn: ServerConnection) -> None:
        accept_connect(conn)
        send = conn.expect(SendFrame)
        # Something else first: the wait must end on the matching id only.
        conn.send(receipt_frame("someone-else") + receipt_frame(send.headers["receipt"]))
        serve_until_disconnect(conn)

    with StompTestServer(script) as server:
        async with stompio.AsyncClient(**client_options(server)) as client:
            await client.send(b"x", "/queue/a", receipt=True)


@pytest.mark.anyio
async def test_send_with_a_named_receipt_reports_it_from_listen() -> None:
    with StompTestServer(serve) as server:
        async with stompio.AsyncClient(**client_options(server)) as client:
            await client.send(b"x", "/queue/a", receipt="my-id")
            assert await next_event(client) == stompio.ReceiptEvent("my-id")
    [send] = sends(server)
    assert send.headers["receipt"] == "my-id"


@pytest.mark.anyio
async def test_receipt_timeout() -> None:
    def script(conn: ServerConnection) -> None:
        accept_connect(conn)
        unanswered = conn.expect(SendFrame)
        send = conn.expect(SendFrame)
        # The late answer to the first SEND must be ignored.
        conn.send(receipt_frame(unanswered.headers["receipt"]))
        conn.send(receipt_frame(send.headers["receipt"]))
        serve_until_disconnect(conn)

    with StompTestServer(script) as server:
        options = client_options(server, receipt_timeout=0.3)
        async with stompio.AsyncClient(**options) as client:
            with pytest.raises(stompio.ReceiptTimeoutError):
                await client.send(b"lost", "/queue/a", receipt=True)
            # The connection is still good.
            await client.send(b"x", "/queue/a", receipt=True)


def send_mistakes() -> list[tuple[dict[str, Any], type[Exception]]]:
    return [
        ({"destination": ""}, ValueError),  # S-01
        ({"destination": None}, TypeError),
        ({"body": 42}, TypeError),
        ({"transaction": stompio.Transaction(id="t9")}, ValueError),  # S-02
        ({"transaction": "t9"}, TypeError),
        ({"headers": {"content-length": "999"}}, ValueError),  # S-03
        ({"headers": {"destination": "/queue/b"}}, ValueError),
        ({"headers": {"receipt": "r"}}, ValueError),
        ({"headers": {"transaction": "t"}}, ValueError),
        ({"headers": {"": "v"}}, ValueError),
        ({"headers": {"k": 1}}, TypeError),
        ({"headers": {"k": "a\x00b"}}, ValueError),
        ({"content_type": 1}, TypeError),
        ({"receipt": ""}, TypeError),
        ({"receipt": "stompio-1"}, ValueError),
    ]


@pytest.mark.anyio
@pytest.mark.parametrize(("mistake", "error"), send_mistakes())
async def test_send_mistakes_raise_before_anything_is_sent(
    mistake: dict[str, Any], error: type[Exception]
) -> None:
    arguments: dict[str, Any] = {"body": b"x", "destination": "/queue/a", **mistake}
    with StompTestServer(serve) as server:
        async with stompio.AsyncClient(**client_options(server)) as client:
            with pytest.raises(error):
                await client.send(**arguments)
            # The client is still fine: the mistake cost nothing but the exception.
            await client.send(b"after", "/queue/a", receipt=True)
    frames = server.connection().frames
    assert [type(frame) for frame in frames] == [ConnectFrame, SendFrame, DisconnectFrame]
    assert frames[1].headers["destination"] == "/queue/a"


@pytest.mark.anyio
async def test_a_pending_receipt_id_cannot_be_reused() -> None:
    def script(conn: ServerConnection) -> None:
        accept_connect(conn)
        conn.wait_closed()

    with StompTestServer(script) as server:
        async with stompio.AsyncClient(**client_options(server, disconnect_timeout=0.1)) as client:
            await client.send(b"x", "/queue/a", receipt="r1")
            with pytest.raises(ValueError, match="r1"):
                await client.send(b"y", "/queue/a", receipt="r1")
    assert len(sends(server)) == 1
