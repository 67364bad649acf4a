# Source of truth: scripts/unasync.py generates tests/_sync/test_connect.py from this file.
"""Connecting: the CONNECT bytes, CONNECTED and version negotiation, failures, retries."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import pytest

import stompio
from stompio._frames import ConnectFrame, DisconnectFrame
from tests._async import next_event
from tests.stomp_server import (
    ClientClosedError,
    ServerConnection,
    Signal,
    StompTestServer,
    accept_connect,
    client_options,
    connected_frame,
    refused_port,
    serve,
    serve_until_disconnect,
)

if TYPE_CHECKING:
    from collections.abc import Callable

REFUSED_LOGIN = (
    b"ERROR\nmessage:Bad CONNECT\ncontent-type:text/plain\nversion:1.0,1.1,1.2\n"
    b"content-length:32\n\nAccess refused for user 'guest'\n\x00"
)
VERSION_MISMATCH = (
    b"ERROR\nmessage:Version mismatch\ncontent-type:text/plain\nversion:1.0,1.1,1.2\n"
    b"content-length:35\n\nSupported versions are 1.0,1.1,1.2\n\x00"
)


def connect_lines(conn: ServerConnection) -> list[bytes]:
    """The header lines of the first frame the client sent, command line first."""
    head, _, _ = conn.received.partition(b"\n\n")
    return head.split(b"\n")


def only_reason(error: stompio.FailedAllConnectAttemptsError) -> BaseException:
    [(_, reason)] = error.reasons
    return reason


async def connect_failure(server: StompTestServer, **overrides: object) -> BaseException:
    """Connect to the one ``server``, which must fail; return why."""
    with pytest.raises(stompio.FailedAllConnectAttemptsError) as caught:
        async with stompio.AsyncClient(**client_options(server, **overrides)):
            pass
    assert [parameters.port for parameters, _ in caught.value.reasons] == [server.port]
    return only_reason(caught.value)


def refuse_with(data: bytes) -> Callable[[ServerConnection], None]:
    """A script that answers CONNECT with ``data`` and keeps the socket open."""

    def script(conn: ServerConnection) -> None:
        conn.expect(ConnectFrame)
        conn.send(data)
        conn.wait_closed()

    return script


@pytest.mark.anyio
async def test_c01_c02_c03_c04_c05_connect_frame_bytes() -> None:
    with StompTestServer(serve) as server:
        options = client_options(server, heartbeat=stompio.Heartbeat(1000, 2000))
        async with stompio.AsyncClient(**options):
            pass
    conn = server.connection()
    lines = connect_lines(conn)
    assert lines[0] == b"CONNECT"
    assert sorted(lines[1:]) == [
        b"accept-version:1.2",
        b"heart-beat:1000,2000",
        b"host:/",
        b"login:guest",
        b"passcode:guest",
    ]
    assert conn.frames[0] == ConnectFrame(
        {
            "accept-version": "1.2",
            "host": "/",
            "login": "guest",
            "passcode": "guest",
            "heart-beat": "1000,2000",
        }
    )


@pytest.mark.anyio
async def test_c03_vhost_is_the_host_header_not_the_network_host() -> None:
    with StompTestServer(serve) as server:
        parameters = stompio.ConnectionParameters("127.0.0.1", server.port, vhost="prod")
        async with stompio.AsyncClient(**client_options(servers=[parameters])):
            pass
    assert b"host:prod" in connect_lines(server.connection())


@pytest.mark.anyio
async def test_c04_no_login_lines_when_not_configured() -> None:
    with StompTestServer(serve) as server:
        parameters = stompio.ConnectionParameters("127.0.0.1", server.port)
        async with stompio.AsyncClient(**client_options(servers=[parameters])):
            pass
    lines = connect_lines(server.connection())
    assert not [line for line in lines if line.startswith((b"login", b"passcode"))]


@pytest.mark.anyio
async def test_c05_heartbeat_header_zero_zero() -> None:
    with StompTestServer(serve) as server:
        options = client_options(server, heartbeat=stompio.Heartbeat(0, 0))
        async with stompio.AsyncClient(**options):
            pass
    assert b"heart-beat:0,0" in connect_lines(server.connection())


@pytest.mark.anyio
async def test_c06_connect_carries_no_receipt() -> None:
    with StompTestServer(serve) as server:
        async with stompio.AsyncClient(**client_options(server)):
            pass
    assert "receipt" not in server.connection().frames[0].headers


@pytest.mark.anyio
async def test_c07_nothing_is_sent_before_connecting() -> None:
    with StompTestServer(serve) as server:
        client = stompio.AsyncClient(**client_options(server))
        with pytest.raises(stompio.NotConnectedError):
            await client.send(b"x", "/queue/a")
        with pytest.raises(stompio.NotConnectedError):
            await next_event(client)
    assert server.connections == []


@pytest.mark.anyio
async def test_e04_connect_values_are_written_raw() -> None:
    with StompTestServer(serve) as server:
        parameters = stompio.ConnectionParameters(
            "127.0.0.1", server.port, login="us:er", passcode="p\\w:d"
        )
        async with stompio.AsyncClient(**client_options(servers=[parameters])):
            pass
    conn = server.connection()
    assert b"\nlogin:us:er\n" in conn.received
    assert b"\npasscode:p\\w:d\n" in conn.received
    assert conn.frames[0].headers["passcode"] == "p\\w:d"


@pytest.mark.parametrize("value", ["a\nb", "a\rb", "a\x00b"])
def test_e04_connect_values_that_cannot_be_written_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        stompio.ConnectionParameters("127.0.0.1", 61613, login=value)
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        stompio.ConnectionParameters("127.0.0.1", 61613, passcode=value)
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        stompio.ConnectionParameters("127.0.0.1", 61613, vhost=value)


@pytest.mark.anyio
async def test_c08_silent_server_times_out_the_confirmation() -> None:
    def script(conn: ServerConnection) -> None:
        conn.expect(ConnectFrame)
        conn.wait_closed()

    with StompTestServer(script) as server:
        reason = await connect_failure(server, connection_confirmation_timeout=0.2)
    assert isinstance(reason, stompio.ConnectionConfirmationTimeout)


@pytest.mark.anyio
async def test_c09_refused_login_is_a_server_error_and_the_client_closes() -> None:
    with StompTestServer(refuse_with(REFUSED_LOGIN)) as server:
        reason = await connect_failure(server, connect_retry_attempts=3)
    assert isinstance(reason, stompio.ServerError)
    assert reason.message == "Bad CONNECT"
    assert reason.body == b"Access refused for user 'guest'\n"
    # The server answered: asking again would get the same answer.
    assert len(server.connections) == 1


@pytest.mark.anyio
async def test_c10_eof_before_connected_is_a_lost_connection() -> None:
    def script(conn: ServerConnection) -> None:
        conn.expect(ConnectFrame)
        conn.close()

    with StompTestServer(script) as server:
        reason = await connect_failure(server)
    assert isinstance(reason, stompio.ConnectionLostError)


@pytest.mark.anyio
async def test_n01_a_stomp_1_0_server_is_unsupported() -> None:
    with StompTestServer(refuse_with(b"CONNECTED\nsession:s-1\n\n\x00")) as server:
        reason = await connect_failure(server)
    assert isinstance(reason, stompio.UnsupportedProtocolVersion)
    assert reason.server_versions == ("1.0",)


@pytest.mark.anyio
async def test_n01_a_version_the_client_did_not_offer_is_a_protocol_error() -> None:
    with StompTestServer(refuse_with(b"CONNECTED\nversion:1.1\n\n\x00")) as server:
        reason = await connect_failure(server)
    assert isinstance(reason, stompio.ProtocolError)


@pytest.mark.anyio
async def test_n02_connected_with_only_a_version_is_enough() -> None:
    def script(conn: ServerConnection) -> None:
        conn.expect(ConnectFrame)
        conn.send(b"CONNECTED\nversion:1.2\n\n\x00")
        serve_until_disconnect(conn)

    with StompTestServer(script) as server:
        async with stompio.AsyncClient(**client_options(server)) as client:
            await client.send(b"x", "/queue/a", receipt=True)
            assert client.server.port == server.port


@pytest.mark.anyio
@pytest.mark.parametrize("heartbeat", ["1000", "1000,", "a,b", "1000,1000,1000", "-1,0", " 1,1"])
async def test_n03_a_malformed_heartbeat_header_is_a_protocol_error(heartbeat: str) -> None:
    with StompTestServer(refuse_with(connected_frame(heartbeat))) as server:
        reason = await connect_failure(server)
    assert isinstance(reason, stompio.ProtocolError)


@pytest.mark.anyio
async def test_n04_version_mismatch_error_is_unsupported_protocol_version() -> None:
    # RabbitMQ's answer, verbatim: the version header names the versions the server speaks.
    with StompTestServer(refuse_with(VERSION_MISMATCH)) as server:
        reason = await connect_failure(server, connect_retry_attempts=2)
    assert isinstance(reason, stompio.UnsupportedProtocolVersion)
    assert reason.server_versions == ("1.0", "1.1", "1.2")
    assert len(server.connections) == 1


@pytest.mark.anyio
async def test_n04_version_mismatch_without_1_2() -> None:
    mismatch = b"ERROR\nversion:1.0,1.1\ncontent-type:text/plain\n\nSupported: 1.0 1.1\x00"
    with StompTestServer(refuse_with(mismatch)) as server:
        reason = await connect_failure(server)
    assert isinstance(reason, stompio.UnsupportedProtocolVersion)
    assert reason.server_versions == ("1.0", "1.1")


@pytest.mark.anyio
async def test_n05_message_before_connected_is_a_protocol_error() -> None:
    message = b"MESSAGE\ndestination:/q\nmessage-id:1\nsubscription:0\n\nearly\x00"
    with StompTestServer(refuse_with(message + connected_frame())) as server:
        reason = await connect_failure(server)
    assert isinstance(reason, stompio.ProtocolError)


@pytest.mark.anyio
async def test_n05_eols_before_and_after_connected_are_tolerated() -> None:
    def script(conn: ServerConnection) -> None:
        conn.expect(ConnectFrame)
        conn.send(b"\n\r\n" + connected_frame() + b"\n")
        serve_until_disconnect(conn)

    with StompTestServer(script) as server:
        async with stompio.AsyncClient(**client_options(server)) as client:
            await client.send(b"x", "/queue/a", receipt=True)


@pytest.mark.anyio
async def test_several_servers_all_failing_report_a_reason_each() -> None:
    def eof(conn: ServerConnection) -> None:
        conn.expect(ConnectFrame)
        conn.close()

    with (
        refused_port() as port,
        StompTestServer(refuse_with(REFUSED_LOGIN)) as refusing,
        StompTestServer(eof) as closing,
    ):
        options = client_options(port, refusing, closing, connect_retry_attempts=2)
        with pytest.raises(stompio.FailedAllConnectAttemptsError) as caught:
            async with stompio.AsyncClient(**options):
                pass
    reasons = {server.port: reason for server, reason in caught.value.reasons}
    assert list(reasons) == [port, refusing.port, closing.port]
    assert isinstance(reasons[port], OSError)
    assert isinstance(reasons[refusing.port], stompio.ServerError)
    assert isinstance(reasons[closing.port], stompio.ConnectionLostError)
    assert len(closing.connections) == 2


@pytest.mark.anyio
async def test_several_servers_the_one_that_answers_wins() -> None:
    def broken(conn: ServerConnection) -> None:
        conn.expect(ConnectFrame)
        conn.close()

    with refused_port() as port, StompTestServer(broken) as bad, StompTestServer(serve) as good:
        async with stompio.AsyncClient(**client_options(port, bad, good)) as client:
            assert client.server.port == good.port
            await client.send(b"x", "/queue/a", receipt=True)
    assert [type(frame) for frame in good.connection().frames][-1] is DisconnectFrame


@pytest.mark.anyio
async def test_several_servers_a_dead_one_does_not_delay_the_connect() -> None:
    connected = Signal()

    def dead(conn: ServerConnection) -> None:
        conn.expect(ConnectFrame)
        # The client must not wait for this server once another one answered.
        assert connected.wait(5), "the client waited for the silent server"
        conn.wait_closed()

    with StompTestServer(dead) as silent, StompTestServer(serve) as good:
        options = client_options(silent, good, connection_confirmation_timeout=8)
        async with stompio.AsyncClient(**options) as client:
            connected.set()
            assert client.server.port == good.port
            await client.send(b"x", "/queue/a", receipt=True)


@pytest.mark.anyio
async def test_several_servers_a_late_success_is_disconnected() -> None:
    first_done = Signal()

    def late(conn: ServerConnection) -> None:
        conn.expect(ConnectFrame)
        assert first_done.wait(5)
        # The client may have given this attempt up already, or close it politely now;
        # either way it must not leave it open.
        with contextlib.suppress(OSError):
            conn.send(connected_frame())
        with contextlib.suppress(ClientClosedError):
            serve_until_disconnect(conn)

    def quick(conn: ServerConnection) -> None:
        accept_connect(conn)
        first_done.set()
        serve_until_disconnect(conn)

    with StompTestServer(late) as slow, StompTestServer(quick) as fast:
        # Longer than the test may take: the loser has no reader, so nothing would ever end
        # a wait for its DISCONNECT receipt but this timeout.
        options = client_options(slow, fast, disconnect_timeout=600)
        async with stompio.AsyncClient(**options) as client:
            # Both CONNECTED frames arrive within microseconds; threads may finish them in
            # either order. What matters: one wins, and the other is closed (each script checks).
            assert client.server.port in {fast.port, slow.port}
            await client.send(b"x", "/queue/a", receipt=True)


@pytest.mark.anyio
async def test_retries_count_attempts_and_a_third_attempt_connects() -> None:
    def flaky(conn: ServerConnection) -> None:
        conn.expect(ConnectFrame)
        if conn.index < 2:
            conn.close()
            return
        conn.send(connected_frame())
        serve_until_disconnect(conn)

    with StompTestServer(flaky) as server:
        async with stompio.AsyncClient(**client_options(server, connect_retry_attempts=3)):
            pass
    assert len(server.connections) == 3


@pytest.mark.anyio
async def test_retries_give_up_after_connect_retry_attempts() -> None:
    def closing(conn: ServerConnection) -> None:
        conn.expect(ConnectFrame)
        conn.close()

    with StompTestServer(closing) as server:
        reason = await connect_failure(server, connect_retry_attempts=2)
    assert isinstance(reason, stompio.ConnectionLostError)
    assert len(server.connections) == 2


@pytest.mark.anyio
async def test_retries_a_refused_port() -> None:
    with refused_port() as port:
        options = client_options(port, connect_retry_attempts=2)
        with pytest.raises(stompio.FailedAllConnectAttemptsError) as caught:
            async with stompio.AsyncClient(**options):
                pass
    # The faces differ in the exception they wrap it in, but both are an OSError.
    assert isinstance(only_reason(caught.value), OSError)


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("connect_retry_attempts", 0),
        ("connect_timeout", 0),
        ("connection_confirmation_timeout", -1),
        ("read_timeout", -1),
        ("disconnect_timeout", 0),
        ("receipt_timeout", 0),
        ("servers", []),
    ],
)
def test_bad_options_are_refused_before_connecting(option: str, value: object) -> None:
    with StompTestServer(serve) as server, pytest.raises(ValueError, match=option):
        stompio.AsyncClient(**client_options(server, **{option: value}))
    assert server.connections == []
