"""Raw TCP network printers ("port 9100", JetDirect / AppSocket)."""

from __future__ import annotations

import contextlib
import select
import socket

from posboxless.transports.base import TransportError


class TcpTransport:
    """A TCP connection to ``host:port``. Every operation is bounded by a timeout."""

    bidirectional = True
    reset_breaks_link = True
    """A power cycle of the printer breaks this link (the worker relies on it)."""

    def __init__(
        self,
        host: str,
        port: int = 9100,
        *,
        connect_timeout: float = 3.0,
        write_timeout: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port
        self.connect_timeout = connect_timeout
        self.write_timeout = write_timeout
        self._sock: socket.socket | None = None

    @property
    def description(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def is_open(self) -> bool:
        return self._sock is not None

    def open(self) -> None:
        self.close()
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
        except TimeoutError as exc:
            raise TransportError(f"Unreachable at {self.description} (no answer)") from exc
        except OSError as exc:
            raise TransportError(f"Unreachable at {self.description} ({_reason(exc)})") from exc
        # Small status queries must leave at once instead of waiting for Nagle's delayed ACK.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        self._sock = sock

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()

    def _socket(self) -> socket.socket:
        if self._sock is None:
            raise TransportError(f"{self.description} is not connected")
        return self._sock

    def write(self, data: bytes) -> None:
        sock = self._socket()
        try:
            sock.settimeout(self.write_timeout)
            sock.sendall(data)
        except TimeoutError as exc:
            self.close()
            raise TransportError(
                f"{self.description} did not accept data within {self.write_timeout:g} s"
            ) from exc
        except OSError as exc:
            self.close()
            raise TransportError(f"Write to {self.description} failed: {_reason(exc)}") from exc

    def read(self, size: int, timeout: float) -> bytes:
        sock = self._socket()
        try:
            ready, _, _ = select.select([sock], [], [], max(0.0, timeout))
            if not ready:
                return b""
            sock.settimeout(0)
            data = sock.recv(size)
        except BlockingIOError:
            return b""
        except OSError as exc:
            self.close()
            raise TransportError(f"Read from {self.description} failed: {_reason(exc)}") from exc
        if not data:
            self.close()
            raise TransportError(f"{self.description} closed the connection")
        return data

    def discard_input(self) -> None:
        while self._sock is not None and self.read(4096, 0.0):
            pass


def _reason(exc: OSError) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused: printer off or port closed"
    if isinstance(exc, (ConnectionResetError, BrokenPipeError)):
        return "connection lost"
    return exc.strerror or str(exc) or exc.__class__.__name__
