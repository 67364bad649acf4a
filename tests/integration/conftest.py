"""Fixtures for the integration suite: the real brokers that scripts/brokers runs on loopback.

Every test under this folder is marked ``integration``. A test that asks for a broker which
does not answer a STOMP CONNECT fails: a silent skip would let a run pass without testing.
"""

from __future__ import annotations

import socket
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
PROBE_TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class BrokerInfo:
    """Where a real broker listens and how to log in to it."""

    name: str
    host: str
    port: int
    login: str
    passcode: str
    vhost: str


BROKERS = {
    "rabbitmq": BrokerInfo("rabbitmq", "127.0.0.1", 61613, "guest", "guest", "/"),
    "activemq": BrokerInfo("activemq", "127.0.0.1", 61614, "guest", "guest", "/"),
}


def connect_answer(info: BrokerInfo) -> str:
    """Send a raw CONNECT and return the command of the first frame back, or what went wrong.

    This deliberately does not use stompio: the fixture must not depend on the code under test.
    """
    connect = (
        f"CONNECT\naccept-version:1.2\nhost:{info.vhost}\n"
        f"login:{info.login}\npasscode:{info.passcode}\n\n\x00"
    )
    deadline = time.monotonic() + PROBE_TIMEOUT
    received = b""
    try:
        with socket.create_connection((info.host, info.port), timeout=PROBE_TIMEOUT) as sock:
            sock.sendall(connect.encode())
            while b"\x00" not in received:
                sock.settimeout(max(deadline - time.monotonic(), 0.001))
                chunk = sock.recv(4096)
                if not chunk:
                    return "the connection was closed without an answer"
                received += chunk
            command = received.split(b"\x00", 1)[0].lstrip(b"\r\n").split(b"\n", 1)[0]
            if command.strip() == b"CONNECTED":
                sock.sendall(b"DISCONNECT\n\n\x00")
    except OSError as error:
        return f"no answer ({error or type(error).__name__})"
    return command.strip().decode(errors="replace")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # tryfirst: the marker must be in place before `-m` deselects anything.
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session", params=sorted(BROKERS))
def broker(request: pytest.FixtureRequest) -> BrokerInfo:
    info = BROKERS[request.param]
    answer = connect_answer(info)
    if answer != "CONNECTED":
        pytest.fail(
            f"brokers not running: run scripts/brokers start"
            f" ({info.name} at {info.host}:{info.port}: {answer})",
            pytrace=False,
        )
    return info


@pytest.fixture
def unique_queue() -> str:
    return f"/queue/stompio-test-{uuid.uuid4().hex}"
