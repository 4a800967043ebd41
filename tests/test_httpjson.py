"""The shared JSON call, against a real aiohttp server on a local port."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from httpjson import Answer, JsonService, TokenIn, Unreachable


@pytest.fixture
async def service() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """Serve a few answers and record what each request carried."""
    seen: list[dict[str, Any]] = []

    async def echo(request: web.Request) -> web.Response:
        seen.append(
            {
                "authorization": request.headers.get("Authorization"),
                "token": request.query.get("token"),
                "key": request.headers.get("Idempotency-Key"),
                "body": await request.json() if request.can_read_body else None,
            }
        )
        return web.json_response({"ok": True}, status=201)

    async def refuse(request: web.Request) -> web.Response:
        return web.json_response({"error": {"message": " not this one "}}, status=422)

    async def garbled(request: web.Request) -> web.Response:
        return web.Response(text="<html>proxy error</html>", status=200)

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.json_response({})

    async def empty(request: web.Request) -> web.Response:
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/echo", echo)
    app.router.add_get("/refuse", refuse)
    app.router.add_get("/garbled", garbled)
    app.router.add_get("/slow", slow)
    app.router.add_get("/empty", empty)
    server = TestServer(app)
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/"), seen
    finally:
        await server.close()


async def test_the_token_goes_as_a_bearer_header_with_the_body_and_extra_headers(service) -> None:
    url, seen = service
    answer = await JsonService(url, "s3cret").call(
        "POST", "/echo", body={"a": 1}, headers={"Idempotency-Key": "k1"}
    )
    assert (answer.status, answer.ok, answer.json()) == (201, True, {"ok": True})
    expected = {"authorization": "Bearer s3cret", "token": None, "key": "k1", "body": {"a": 1}}
    assert seen == [expected]


async def test_a_query_token_goes_in_the_address_and_a_session_can_be_shared(service) -> None:
    url, seen = service
    async with aiohttp.ClientSession() as session:
        rasa = JsonService(url, "t0k", session=session, token_in=TokenIn.QUERY)
        await rasa.call("POST", "/echo", body={})
        await rasa.call("POST", "/echo", body={})
        assert not session.closed
    assert [(s["authorization"], s["token"]) for s in seen] == [(None, "t0k")] * 2


async def test_a_refusal_is_an_answer_with_our_error_message(service) -> None:
    url, _ = service
    answer = await JsonService(url, "x").call("GET", "/refuse")
    assert (answer.status, answer.ok, answer.error_message()) == (422, False, "not this one")


async def test_a_body_that_is_not_json_says_so_only_when_read(service) -> None:
    url, _ = service
    answer = await JsonService(url, "x").call("GET", "/garbled")
    assert answer.ok and answer.error_message() == ""
    with pytest.raises(ValueError):
        answer.json()
    assert (await JsonService(url, "x").call("GET", "/empty")).json() is None


async def test_a_timeout_is_no_answer(service) -> None:
    url, _ = service
    with pytest.raises(Unreachable, match="TimeoutError"):
        await JsonService(url, "x", timeout_seconds=0.2).call("GET", "/slow")


async def test_a_closed_port_is_no_answer_and_names_no_address() -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    with pytest.raises(Unreachable) as raised:
        await JsonService(f"http://127.0.0.1:{port}", "s3cret").call("GET", "/")
    assert "127.0.0.1" not in str(raised.value) and "s3cret" not in str(raised.value)


def test_an_answer_reads_its_body_lazily() -> None:
    assert Answer(200, b'{"error": "flat"}').error_message() == ""
    assert Answer(503, b"").ok is False


async def test_a_file_is_sent_as_it_is_with_its_length(tmp_path: Any) -> None:
    """`data` sends raw bytes (an open file, streamed), with Content-Length, not JSON."""
    seen: list[tuple[str | None, int | None, bytes]] = []

    async def keep(request: web.Request) -> web.Response:
        seen.append((request.content_type, request.content_length, await request.read()))
        return web.json_response({}, status=201)

    app = web.Application()
    app.router.add_post("/files", keep)
    server = TestServer(app)
    await server.start_server()
    path = tmp_path / "file.bin"
    path.write_bytes(b"\x00\x01raw bytes")
    try:
        service = JsonService(str(server.make_url("")).rstrip("/"), "t")
        with path.open("rb") as file:
            headers = {"Content-Type": "application/octet-stream"}
            answer = await service.call("POST", "/files", data=file, headers=headers)
    finally:
        await server.close()
    assert answer.status == 201
    assert seen == [("application/octet-stream", 11, b"\x00\x01raw bytes")]
