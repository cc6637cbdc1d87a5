"""Hostile requests against the real server (uvicorn on a loopback socket, raw HTTP/1.1): every
answer is valid JSON, nothing is buffered beyond the body limit, a foreign Host reads nothing, and
``hello`` keeps answering throughout."""

from __future__ import annotations

import json
import logging
import select
import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from posboxless import tls
from posboxless.app import create_app
from posboxless.config import Config, ServerConfig
from posboxless.services import Services

from ..live import live_server

LIMIT = 1024 * 1024
HUGE = 256 * 1024 * 1024


@pytest.fixture
def server(tmp_path: Path, services: Services) -> Iterator[tuple[str, int]]:
    config = Config(server=ServerConfig(data_dir=tmp_path, max_body_bytes=LIMIT))
    with live_server(create_app(config, services)) as url:
        host, port = url.removeprefix("http://").split(":")
        yield host, int(port)


def _exchange(
    address: tuple[str, int], head: str, body: bytes = b"", wrap: ssl.SSLContext | None = None
) -> tuple[int, dict[str, str], bytes]:
    sock = socket.create_connection(address, timeout=20)
    if wrap is not None:
        sock = wrap.wrap_socket(sock, server_hostname="localhost")
    with sock:
        sock.sendall(head.encode("latin-1") + body)
        return _read_response(sock)


def _read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed before a complete answer: {data!r}")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return status, headers, rest[:length]


def _post(
    address: tuple[str, int], path: str, body: bytes, host: str = "localhost", **extra: str
) -> tuple[int, dict[str, str], bytes]:
    more = "".join(f"{k.replace('_', '-')}: {v}\r\n" for k, v in extra.items())
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n{more}Connection: close\r\n\r\n"
    )
    return _exchange(address, head, body)


def _strict_json(body: bytes) -> Any:
    """As a browser's JSON.parse: no NaN/Infinity, UTF-8 that encodes only real characters."""

    def refuse(constant: str) -> Any:
        raise AssertionError(f"{constant} in the answer")

    text = body.decode("utf-8")  # a lone surrogate cannot be in valid UTF-8
    payload = json.loads(text, parse_constant=refuse)
    json.dumps(payload, ensure_ascii=False).encode("utf-8")  # nor arrive through an escape
    return payload


def assert_hello(address: tuple[str, int]) -> None:
    status, _, body = _exchange(
        address, "GET /hw_proxy/hello HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    assert (status, body) == (200, b"ping")


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b'{"jsonrpc":"2.0","method":"call","params":{},"id":' + b"9" * 5000 + b"}", "digits"),
        (b'{"params":{"data":{"n":' + b"1" * 4301 + b"}}}", "digits"),
        (b'{"params":{},"id":1.' + b"5" * 5000 + b"}", "characters"),
        (b'{"params":{},"id":NaN}', "NaN"),
        (b'{"params":{},"id":Infinity}', "Infinity"),
        (b'{"params":{},"id":-Infinity}', "Infinity"),
        (b'{"params":{},"id":1e999}', "too large"),
        (b'{"params":{},"id":"\\ud800"}', "surrogate"),
        (b'{"params":{"arguments":["\\udfff x"]}}', "surrogate"),
        (b'{"params":{"\\ud800":1}}', "surrogate"),
    ],
)
def test_unrepresentable_input_is_a_parse_error(
    server: tuple[str, int], body: bytes, words: str
) -> None:
    for path in ("/hw_proxy/log", "/point_of_sale/get_serialized_order"):
        status, headers, answer = _post(server, path, body)
        assert status == 200
        assert headers["content-type"] == "application/json"
        payload = _strict_json(answer)
        assert payload["id"] is None
        assert payload["error"]["data"]["name"] == "posboxless.ParseError"
        assert words.lower() in payload["error"]["data"]["message"].lower()
    assert_hello(server)


def test_a_valid_surrogate_pair_is_text(server: tuple[str, int], services: Services) -> None:
    body = b'{"params":{"action":"set","data":{"line":"\\ud83d\\ude00"}},"id":7}'
    _, _, answer = _post(server, "/hw_proxy/customer_facing_display", body)
    assert _strict_json(answer) == {"jsonrpc": "2.0", "id": 7, "result": {"status": "updated"}}
    assert services.display.data == {"line": "\U0001f600"}


def test_the_odoo18_display_cannot_be_poisoned(server: tuple[str, int]) -> None:
    good = b'{"params":{"action":"set","data":{"total":"12.00"}}}'
    assert _strict_json(_post(server, "/hw_proxy/customer_facing_display", good)[2])["result"]
    for bad in (
        b'{"params":{"action":"set","data":{"total":"\\ud800"}}}',
        b'{"params":{"action":"set","data":{"total":NaN}}}',
    ):
        payload = _strict_json(_post(server, "/hw_proxy/customer_facing_display", bad)[2])
        assert payload["error"]["data"]["name"] == "posboxless.ParseError"
    get = b'{"params":{"action":"get"},"id":2}'
    payload = _strict_json(_post(server, "/hw_proxy/customer_facing_display", get)[2])
    assert payload["result"] == {"status": "retrieved", "data": {"total": "12.00"}}


def test_the_display_service_refuses_what_it_could_not_send_back(services: Services) -> None:
    """Whatever front-end calls it (the JSON parser already refuses these)."""
    from posboxless.device import InvalidInput

    for data in ({"total": "\ud800"}, {"total": float("nan")}):
        with pytest.raises(InvalidInput):
            services.display.action({"action": "set", "data": data})
    with pytest.raises(InvalidInput):
        services.display.take_control("127.0.0.1", {"html": "<b>\udfff</b>"})
    assert services.display.action({"action": "get"})["data"] is None


# Bodies ----------------------------------------------------------------------------------------
def _post_routes() -> list[str]:
    """Every POST route of the application, a concrete path for each template."""
    from .fakes import FakePrinter

    services = Services(printers={"receipt": FakePrinter()}, default_printer_name="receipt")
    app = create_app(Config(server=ServerConfig(data_dir=Path("/nonexistent"))), services)
    paths = [
        r.path.replace("{name:path}", "print_xml_receipt").replace("{rest:path}", "x")
        for r in app.routes
        if "POST" in (getattr(r, "methods", None) or ())
    ]
    assert "/api/simulate_weight" in paths and "/point_of_sale/get_serialized_order" in paths
    return [*paths, "/hw_proxy/default_printer_action", "/hw_proxy/no_such_call"]


POST_ROUTES = _post_routes()


def _stream_until_answered(
    address: tuple[str, int], path: str, *, chunked: bool
) -> tuple[int, bytes, int]:
    """Announce (or stream chunked) 256 MB and keep sending until the server answers; returns
    the status, the body and how much was sent before the answer came."""
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {HUGE}"
    head = (
        f"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        f"{framing}\r\n\r\n"
    )
    piece = b"x" * 65536
    if chunked:
        piece = b"10000\r\n" + piece + b"\r\n"
    sent = 0
    with socket.create_connection(address, timeout=20) as sock:
        sock.sendall(head.encode())
        sock.setblocking(False)
        while sent < HUGE:
            readable, writable, _ = select.select([sock], [sock], [], 20)
            if readable:
                break
            if not writable:
                raise AssertionError("the server neither read nor answered for 20 s")
            try:
                sent += sock.send(piece)
            except (BlockingIOError, InterruptedError):
                continue
            except (BrokenPipeError, ConnectionResetError):
                break
        sock.setblocking(True)
        status, _, body = _read_response(sock)
    return status, body, sent


@pytest.mark.parametrize("path", POST_ROUTES)
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_256mb_body_is_refused_early(server: tuple[str, int], path: str, chunked: bool) -> None:
    status, body, sent = _stream_until_answered(server, path, chunked=chunked)
    if path.startswith("/cgi-bin/epos/"):  # an ePOS printer answers in ePOS-Print XML
        assert b'success="false" code="RequestEntityTooLarge"' in body, body
    else:
        payload = _strict_json(body)
        assert payload["error"]["data"]["name"] == "posboxless.RequestTooLarge", payload
    assert status in (200, 413)
    # Refused once the limit is passed (or at once, on Content-Length): socket buffers aside,
    # nowhere near the 256 MB a route that buffers first would have waited for.
    assert sent < 64 * LIMIT
    assert_hello(server)


# Host ------------------------------------------------------------------------------------------
ROUTES = [
    ("GET", "/"),
    ("GET", "/hw_proxy/status"),
    ("GET", "/hw_proxy/status/"),
    ("GET", "/hw_proxy/hello"),
    ("POST", "/hw_proxy/status_json"),
    ("POST", "/hw_proxy/open_cashbox"),
    ("GET", "/api/diagnostics"),
    ("POST", "/api/drawer_test"),
    ("GET", "/metrics"),
    ("GET", "/point_of_sale/display"),
    ("POST", "/point_of_sale/get_serialized_order"),
    ("GET", "/no/such/page"),
    ("HEAD", "/"),
    ("OPTIONS", "/hw_proxy/open_cashbox"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize("origin", [None, "http://evil.example:8069", "https://coop.example.com"])
def test_a_foreign_host_reads_and_does_nothing(
    server: tuple[str, int], services: Services, method: str, path: str, origin: str | None
) -> None:
    extra = f"Origin: {origin}\r\nAccess-Control-Request-Method: POST\r\n" if origin else ""
    body = b"{}" if method == "POST" else b""
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: evil.example:{server[1]}\r\n{extra}"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    status, headers, answer = _exchange(server, head, body)
    assert status == 421
    assert headers["content-type"] == "application/json"
    assert "access-control-allow-origin" not in headers
    if method != "HEAD":
        text = json.dumps(_strict_json(answer))
        assert "HostNotAllowed" in text and "allowed_hosts" in text
    assert services.default_printer.jobs == []  # type: ignore[union-attr]
    assert_hello(server)


@pytest.mark.parametrize(
    "host", ["localhost", "LOCALHOST.", "127.0.0.1", "127.1.2.3", "[::1]", "kitchen.localhost"]
)
def test_local_names_are_served(server: tuple[str, int], host: str) -> None:
    head = f"GET /api/diagnostics HTTP/1.1\r\nHost: {host}:{server[1]}\r\nConnection: close\r\n\r\n"
    status, _, answer = _exchange(server, head)
    assert status == 200
    assert "devices" in _strict_json(answer) or _strict_json(answer)


def test_a_foreign_host_is_refused_over_https(tmp_path: Path, services: Services) -> None:
    files = tls.ensure_certificates(tmp_path, ["till1"], ["127.0.0.1"])
    config = Config(server=ServerConfig(data_dir=tmp_path))
    context = ssl.create_default_context(cafile=str(files.ca))
    with live_server(
        create_app(config, services), ssl_certfile=str(files.cert), ssl_keyfile=str(files.key)
    ) as url:
        host, port = url.removeprefix("https://").split(":")
        address = (host, int(port))
        for name, expected in (("evil.example", 421), ("localhost", 200)):
            head = (
                f"GET /api/diagnostics HTTP/1.1\r\nHost: {name}:{port}\r\nConnection: close\r\n\r\n"
            )
            status, _, answer = _exchange(address, head, wrap=context)
            assert status == expected
            _strict_json(answer)


# Disconnects and crashes -----------------------------------------------------------------------
def test_a_client_leaving_mid_body_is_one_info_line(
    server: tuple[str, int], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        for path in ("/hw_proxy/print_xml_receipt", "/api/drawer_test"):
            with socket.create_connection(server) as sock:
                sock.sendall(
                    f"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json"
                    '\r\nContent-Length: 1000\r\n\r\n{"params":'.encode()
                )
        assert_hello(server)
        deadline = time.monotonic() + 10
        while len(_left(caplog)) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
    left = _left(caplog)
    assert len(left) == 2
    assert all(r.levelno == logging.INFO for r in left)
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


def _left(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if "left before sending the whole request" in r.message]


async def test_an_unexpected_exception_is_a_json_rpc_error(
    make_client: Any, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> Any:
        raise RuntimeError("status exploded")

    services.scale.status = broken  # type: ignore[method-assign, union-attr]
    with caplog.at_level(logging.ERROR):
        async with make_client() as http:
            for path in ("/api/diagnostics", "/"):
                response = await http.get(path)
                assert response.status_code == 500
                assert response.headers["content-type"] == "application/json"
                data = response.json()["error"]["data"]
                assert data["name"] == "posboxless.InternalError"
                assert "status exploded" in data["message"]
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert len(tracebacks) == 2  # once per request, not twice
