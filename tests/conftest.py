"""Fixtures for the whole suite: every async test runs on asyncio and on trio."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """The anyio backend an ``@pytest.mark.anyio`` test runs on: each test runs on both."""
    backend: str = request.param
    return backend
