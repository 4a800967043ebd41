"""Fixtures of the upload service's tests: a fake reception, and the service in process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from harness.stack import ROOT
from uploads.app import create_app
from uploads.settings import Settings

from .fake_reception import API_TOKEN, FakeReception


@pytest.fixture
async def reception() -> AsyncIterator[tuple[FakeReception, str]]:
    """A fake reception on loopback, and its address."""
    fake = FakeReception()
    server = TestServer(fake.app())
    await server.start_server()
    yield fake, str(server.make_url("")).rstrip("/")
    await server.close()


@pytest.fixture
def settings(reception: tuple[FakeReception, str], tmp_path: Path) -> Settings:
    """Settings pointing at the fake reception, with small limits to test against."""
    return Settings(
        reception_api_token=API_TOKEN,
        reception_url=reception[1],
        uploads_dir=tmp_path / "uploads",
        max_file_bytes=1_000_000,
        max_request_bytes=1_500_000,
        content_dir=ROOT / "content",
    )


@pytest.fixture
async def uploads(settings: Settings) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    """The upload service, built by its own factory, behind a test client."""
    async with TestClient(TestServer(create_app(settings))) as client:
        yield client
