"""Listening sockets: Nagle off (no 40 ms keep-alive stall), loopback on both families."""

from __future__ import annotations

import socket

from posboxless.app import _explain_bind_error, bind_sockets


def test_accepted_connections_have_nodelay() -> None:
    sockets = bind_sockets("127.0.0.1", 0)
    try:
        listener = sockets[0]
        listener.setblocking(True)
        port = listener.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port)):
            accepted, _ = listener.accept()
            with accepted:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    finally:
        for s in sockets:
            s.close()


def test_bind_error_messages() -> None:
    import errno

    assert "already in use" in _explain_bind_error(OSError(errno.EADDRINUSE, "x"), "h", 8069)
    assert "CAP_NET_BIND_SERVICE" in _explain_bind_error(OSError(errno.EACCES, "x"), "h", 443)


def test_ticket_urls(monkeypatch: object) -> None:
    from posboxless import app, netinfo

    setattr_ = monkeypatch.setattr  # type: ignore[attr-defined]
    setattr_(netinfo, "machine_addresses", lambda: ["127.0.0.1", "::1", "192.168.1.20"])
    urls = [app._url("http", "0.0.0.0", 8069), app._url("https", "0.0.0.0", 443)]
    assert app.ticket_urls("0.0.0.0", urls) == ["http://192.168.1.20:8069", "https://192.168.1.20"]
    local = [app._url("http", "127.0.0.1", 8069)]
    assert app.ticket_urls("127.0.0.1", local) == ["http://localhost:8069"]
