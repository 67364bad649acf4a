"""A round trip through a STOMP broker with both faces of stompio.

The blocking ``stompio.Client`` sends a batch and drains it with acks, then the async
``stompio.AsyncClient`` (on asyncio, and on trio when it is installed) does the same; each run
prints how many messages went through and at what rate.

    python examples/roundtrip.py --server 127.0.0.1:61613 --login guest --passcode guest
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
import uuid

import anyio

import stompio


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default="127.0.0.1:61613", help="host:port of the broker")
    parser.add_argument("--login", default="guest")
    parser.add_argument("--passcode", default="guest")
    parser.add_argument("--vhost", default="/", help="the CONNECT host header (RabbitMQ vhost)")
    parser.add_argument("--count", type=int, default=10_000, help="messages per face")
    parser.add_argument("--size", type=int, default=100, help="body size in bytes")
    return parser.parse_args(argv)


def server_of(arguments: argparse.Namespace) -> stompio.ConnectionParameters:
    """Build the connection parameters from the command line."""
    host, _, port = arguments.server.rpartition(":")
    return stompio.ConnectionParameters(
        host=host or "127.0.0.1",
        port=int(port),
        login=arguments.login,
        passcode=arguments.passcode,
        vhost=arguments.vhost,
    )


def report(face: str, count: int, sent: float, received: float) -> None:
    """Print one line of the summary."""
    print(
        f"{face:<22} {count:>7} messages   send {count / sent:>9,.0f} msg/s   "
        f"receive+ack {count / received:>9,.0f} msg/s"
    )


def blocking_round_trip(server: stompio.ConnectionParameters, count: int, body: bytes) -> None:
    """Send ``count`` messages and receive them back with the blocking client."""
    queue = f"/queue/stompio-demo-{uuid.uuid4().hex}"
    with stompio.Client([server]) as client:
        started = time.perf_counter()
        for _ in range(count - 1):
            client.send(body, queue)
        client.send(body, queue, receipt=True)
        sent = time.perf_counter() - started
        started = time.perf_counter()
        received = 0
        with client.subscribe(queue, ack="client-individual"):
            for event in client.listen():
                match event:
                    case stompio.MessageEvent():
                        event.ack()
                        received += 1
                        if received == count:
                            break
                    case stompio.ErrorEvent(message_header=message):
                        print(f"the broker refused: {message}", file=sys.stderr)
                    case _:
                        pass
        report("Client (threads)", received, sent, time.perf_counter() - started)


async def async_round_trip(
    server: stompio.ConnectionParameters, count: int, body: bytes, face: str
) -> None:
    """Send ``count`` messages and receive them back with the async client."""
    queue = f"/queue/stompio-demo-{uuid.uuid4().hex}"
    async with stompio.AsyncClient([server]) as client:
        started = time.perf_counter()
        for _ in range(count - 1):
            await client.send(body, queue)
        await client.send(body, queue, receipt=True)
        sent = time.perf_counter() - started
        started = time.perf_counter()
        received = 0
        async with client.subscribe(queue, ack="client-individual"):
            async for event in client.listen():
                match event:
                    case stompio.MessageEvent():
                        await event.ack()
                        received += 1
                        if received == count:
                            break
                    case stompio.ErrorEvent(message_header=message):
                        print(f"the broker refused: {message}", file=sys.stderr)
                    case _:
                        pass
        report(face, received, sent, time.perf_counter() - started)


def main(argv: list[str]) -> int:
    """Run the round trips and print the summary."""
    arguments = parse_arguments(argv)
    server = server_of(arguments)
    body = bytes(range(256)) * (arguments.size // 256) + b"x" * (arguments.size % 256)
    print(f"stompio round trip through {server.host}:{server.port}, {arguments.size} B bodies")
    try:
        blocking_round_trip(server, arguments.count, body)
        anyio.run(async_round_trip, server, arguments.count, body, "AsyncClient (asyncio)")
        if importlib.util.find_spec("trio") is not None:
            anyio.run(
                async_round_trip,
                server,
                arguments.count,
                body,
                "AsyncClient (trio)",
                backend="trio",
            )
    except stompio.Error as error:
        print(f"failed: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
