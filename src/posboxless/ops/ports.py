"""Is a TCP port free, taken by posboxless, or taken by something else?"""

from __future__ import annotations

import errno
import http.client
import socket
import ssl
from typing import Literal

PortState = Literal["free", "in-use", "denied", "bad-address"]


def port_state(host: str, port: int) -> PortState:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        # As the server binds it: SO_REUSEADDR makes a port in TIME_WAIT count as free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return "in-use"
            if exc.errno == errno.EACCES:
                return "denied"
            return "bad-address"
    return "free"


def local_address(host: str) -> str:
    """Where to connect to reach a server listening on ``host``."""
    return {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)


def answers_as_posboxless(host: str, port: int, tls: bool, timeout: float = 2.0) -> bool:
    """True when the port answers ``/hw_proxy/hello`` like a hardware proxy does."""
    address = local_address(host)
    conn: http.client.HTTPConnection
    if tls:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # only identifying the program, not trusting it
        conn = http.client.HTTPSConnection(address, port, timeout=timeout, context=context)
    else:
        conn = http.client.HTTPConnection(address, port, timeout=timeout)
    try:
        conn.request("GET", "/hw_proxy/hello")
        response = conn.getresponse()
        return response.status == 200 and response.read(64).strip() == b"ping"
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def tcp_reachable(host: str, port: int, timeout: float = 2.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
