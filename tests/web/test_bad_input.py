"""Every kind of malformed request gets a JSON-RPC error (HTTP 200, Odoo's shape, a non-empty
``data.arguments``) and a log line; never an HTML page, never a crash."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

from posboxless.services import Services


def assert_rpc_error(response: httpx.Response, name: str, words: str) -> dict[str, Any]:
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    payload = response.json()
    assert payload["jsonrpc"] == "2.0"
    error = payload["error"]
    assert isinstance(error["code"], int)
    assert error["message"]
    data = error["data"]
    assert data["name"] == name
    assert words.lower() in data["message"].lower()
    assert isinstance(data["arguments"], list) and data["arguments"]
    return payload


@pytest.mark.parametrize(
    ("body", "name", "words"),
    [
        (b"{not json", "posboxless.ParseError", "not valid JSON"),
        (b"\xff\xfe\x00", "posboxless.ParseError", "not"),
        (b"", "posboxless.InvalidRequest", "Empty request body"),
        (b"[1, 2]", "posboxless.InvalidRequest", "Expected a JSON object"),
        (b'"call"', "posboxless.InvalidRequest", "Expected a JSON object"),
        (b'{"jsonrpc":"2.0","params":[1]}', "posboxless.InvalidParams", "'params' must be"),
        (b"[" * 100000 + b"]" * 100000, "posboxless.ParseError", "nested too deeply"),
    ],
)
async def test_malformed_json(
    client: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
    body: bytes,
    name: str,
    words: str,
) -> None:
    with caplog.at_level(logging.WARNING):
        response = await client.post(
            "/hw_proxy/handshake", content=body, headers={"Content-Type": "application/json"}
        )
    assert_rpc_error(response, name, words)
    assert "bad request to /hw_proxy/handshake" in caplog.text


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
async def test_non_json_content_type(client: httpx.AsyncClient, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = await client.post("/hw_proxy/handshake", content=b'{"params":{}}', headers=headers)
    assert_rpc_error(response, "posboxless.InvalidContentType", "Content-Type: application/json")


async def test_json_content_type_variants_accepted(client: httpx.AsyncClient) -> None:
    for content_type in ("application/json", "application/json; charset=utf-8", "APPLICATION/JSON"):
        response = await client.post(
            "/hw_proxy/handshake", content=b"{}", headers={"Content-Type": content_type}
        )
        assert response.json()["result"] is True


async def test_unknown_method(client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        response = await client.post("/hw_proxy/print_the_moon", json={"id": 9, "params": {}})
    payload = assert_rpc_error(response, "posboxless.UnknownMethod", "Unknown call")
    assert payload["id"] == 9
    assert payload["error"]["code"] == -32601
    assert "print_the_moon" in caplog.text


async def test_get_on_a_json_route(client: httpx.AsyncClient) -> None:
    response = await client.get("/hw_proxy/status_json")
    assert_rpc_error(response, "posboxless.MethodNotAllowed", "send it with POST")


async def test_unknown_printer_action(client: httpx.AsyncClient, services: Services) -> None:
    response = await client.post(
        "/hw_proxy/default_printer_action", json={"params": {"data": {"action": "explode"}}}
    )
    assert_rpc_error(response, "posboxless.InvalidInput", "Unknown printer action 'explode'")
    for params in ({}, {"data": "not json"}, {"data": [1]}, {"data": {"action": "print_receipt"}}):
        response = await client.post("/hw_proxy/default_printer_action", json={"params": params})
        assert_rpc_error(response, "posboxless.InvalidInput", "")
    assert services.default_printer.jobs == []  # type: ignore[union-attr]


async def test_invalid_receipt_reported_by_the_service(client: httpx.AsyncClient) -> None:
    action = {"params": {"data": {"action": "print_receipt", "receipt": "!!"}}}
    response = await client.post("/hw_proxy/default_printer_action", json=action)
    assert_rpc_error(response, "posboxless.InvalidInput", "not valid base64")
    response = await client.post("/hw_proxy/print_xml_receipt", json={"params": {"receipt": 3}})
    assert_rpc_error(response, "posboxless.InvalidInput", "needs 'receipt'")


async def test_huge_body_refused_without_losing_accepted_jobs(
    make_client: Any, services: Services
) -> None:
    async with make_client(max_body_bytes=4096) as http:
        ok = await http.post("/hw_proxy/print_xml_receipt", json={"params": {"receipt": "<r/>"}})
        assert ok.json()["result"] is None
        big = {"params": {"receipt": "<r>" + "x" * 10000 + "</r>"}}
        response = await http.post("/hw_proxy/print_xml_receipt", json=big)
        assert_rpc_error(response, "posboxless.RequestTooLarge", "larger than 4096 bytes")

        async def chunks():  # no Content-Length: the limit holds while streaming
            for _ in range(10):
                yield b"x" * 1000

        response = await http.post(
            "/hw_proxy/handshake", content=chunks(), headers={"Content-Type": "application/json"}
        )
        assert_rpc_error(response, "posboxless.RequestTooLarge", "larger than")
    assert len(services.default_printer.jobs) == 1  # type: ignore[union-attr]


async def test_query_string_and_trailing_slash_ignored(client: httpx.AsyncClient) -> None:
    for path in (
        "/hw_proxy/handshake?session_id=abc",
        "/hw_proxy/handshake/",
        "/hw_proxy/handshake//",
    ):
        response = await client.post(path, json={"jsonrpc": "2.0", "params": {}, "id": 1})
        assert response.json() == {"jsonrpc": "2.0", "id": 1, "result": True}


async def test_handler_crash_is_an_rpc_error(
    client: httpx.AsyncClient, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> dict[str, Any]:
        raise RuntimeError("boom")

    services.scale.reading = broken  # type: ignore[method-assign, union-attr]
    with caplog.at_level(logging.ERROR):
        response = await client.post("/hw_proxy/scale_read", json={"params": {}})
    assert_rpc_error(response, "posboxless.InternalError", "boom")
    assert "crashed" in caplog.text


async def test_unknown_page_is_json_not_html(client: httpx.AsyncClient) -> None:
    response = await client.get("/web/login")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")


async def test_the_page_icon_is_nothing_rather_than_an_error(client: httpx.AsyncClient) -> None:
    # Every browser opening the diagnostics page asks for it; a 404 shows as a console error.
    response = await client.get("/favicon.ico")
    assert response.status_code == 204 and response.content == b""
