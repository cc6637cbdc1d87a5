"""Connection limits for the HTTP and HTTPS servers (one budget for both).

uvicorn has no limit on open connections (``limit_concurrency`` answers 503 to *requests*, idle
connections included, so a flood of idle sockets would turn ``hello`` into 503s) and no timeout for
a connection that sends nothing or sends its headers one byte at a time. Every connection costs a
file descriptor; when they run out, asyncio's accept loop logs each failure (thousands a second) and
the POS cannot connect any more. So:

* ``ConnectionGuard`` keeps the number of open connections under ``max_connections``, itself kept
  under the process's descriptor limit (``fd_budget``). A new connection over the limit first
  closes connections that are not serving a request, oldest first: those that never completed a
  request (idle or slowly sending headers), then idle keep-alive ones. Connections with a request
  in progress (a scanner long-poll, a print) are never closed; when all are, the new one is.
* Timeouts (``GuardedProtocol``): a request's headers must be complete ``header_timeout`` seconds
  after the connection (or the previous answer) -- the slowloris guard; a body that stops
  arriving for ``body_timeout`` seconds ends the connection. The application's own time (a long
  poll) is not limited. Idle keep-alive is uvicorn's ``timeout_keep_alive``.
* Admission happens in ``accept`` itself (``Listener``): asyncio accepts up to ``backlog``
  connections per event-loop turn before any of them reaches a protocol, so a burst would exhaust
  descriptors before a limit checked later could act. At the limit, ``accept`` closes idle
  connections and lets the loop turn (their descriptors are released first), or, when every
  connection is busy, refuses the newcomer (accepted and closed at once: the client sees the
  connection closed rather than hanging in the backlog).
* If descriptors run out all the same (another part of the process holds them), the failure is
  counted and logged at most once per ``REPORT_SECONDS`` (asyncio's own accept loop would log it
  up to ``backlog`` times per turn and re-arm itself as often), and idle connections are closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import resource
import socket
import time
from collections.abc import Callable
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger(__name__)

REPORT_SECONDS = 5.0
FD_LIMIT_CEILING = 65536
"""The soft descriptor limit is raised to the hard one, up to this."""


def raise_fd_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit (systemd's default soft limit is 1024
    whatever ``LimitNOFILE`` allows); returns the soft limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = FD_LIMIT_CEILING if hard == resource.RLIM_INFINITY else min(hard, FD_LIMIT_CEILING)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError):
            pass
    return FD_LIMIT_CEILING if soft == resource.RLIM_INFINITY else soft


def fd_budget(soft_limit: int) -> int:
    """How many connections the descriptor limit leaves room for: a quarter (at least 64) is
    kept for devices, print queues, certificates, listening sockets and connections in the TLS
    handshake."""
    return max(8, soft_limit - max(64, soft_limit // 4))


class ConnectionGuard:
    def __init__(
        self,
        max_connections: int,
        header_timeout: float,
        body_timeout: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_connections = max_connections
        self.header_timeout = header_timeout
        self.body_timeout = body_timeout
        self.clock = clock
        self.open: dict[GuardedProtocol, None] = {}
        """Open connections, oldest first."""
        self.closed_for_room = 0
        self.refused = 0
        self.accept_failures = 0
        self._counts = {"closed": 0, "refused": 0, "accept": 0}
        self._last_report = -REPORT_SECONDS
        self._report_pending = False
        self.accepted_this_turn = 0
        """Accepted in the current event-loop turn, not yet seen by ``admit``."""

    # Accepting ---------------------------------------------------------------------------------
    def may_accept(self) -> bool:
        """Called by ``Listener.accept`` before each accept."""
        if len(self.open) + self.accepted_this_turn < self.max_connections:
            return True
        wanted = len(self.open) + self.accepted_this_turn - self.max_connections + 1
        if self.make_room(wanted) == 0:
            return False  # refuse
        raise BlockingIOError  # the closed ones release their descriptors before the next turn

    def accepted(self) -> None:
        if self.accepted_this_turn == 0:
            with contextlib.suppress(RuntimeError):  # no loop: nothing to reset, tests
                asyncio.get_running_loop().call_soon(self._new_turn)
        self.accepted_this_turn += 1

    def _new_turn(self) -> None:
        self.accepted_this_turn = 0

    def refused_one(self) -> None:
        self.refused += 1
        self._note("refused")

    # Admission ---------------------------------------------------------------------------------
    def admit(self, protocol: GuardedProtocol) -> bool:
        self.accepted_this_turn = max(0, self.accepted_this_turn - 1)
        if len(self.open) >= self.max_connections:
            self.make_room(len(self.open) - self.max_connections + 1)
        if len(self.open) >= self.max_connections:
            self.refused += 1
            self._note("refused")
            return False
        self.open[protocol] = None
        return True

    def forget(self, protocol: GuardedProtocol) -> None:
        self.open.pop(protocol, None)

    def make_room(self, wanted: int) -> int:
        """Close up to ``wanted`` connections that serve no request; returns how many."""
        victims = [p for p in self.open if p.never_served()]
        if len(victims) < wanted:
            victims += [p for p in self.open if p.is_idle() and not p.never_served()]
        victims = victims[:wanted]
        for protocol in victims:
            self.open.pop(protocol, None)
            protocol.close_idle()
        if victims:
            self.closed_for_room += len(victims)
            self._note("closed", len(victims))
        return len(victims)

    def accept_failed(self, exc: BaseException) -> None:
        """asyncio could not accept (EMFILE...): count it, free descriptors."""
        self.accept_failures += 1
        self._note("accept")
        self.make_room(max(1, len(self.open) // 8))

    # Reporting: at most one line per REPORT_SECONDS ---------------------------------------------
    def _note(self, what: str, count: int = 1) -> None:
        self._counts[what] += count
        now = self.clock()
        if now - self._last_report >= REPORT_SECONDS:
            self.report()
        elif not self._report_pending:
            self._report_pending = True
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return
            loop.call_later(REPORT_SECONDS - (now - self._last_report), self.report)

    def report(self) -> None:
        self._report_pending = False
        counts, self._counts = self._counts, {"closed": 0, "refused": 0, "accept": 0}
        if not any(counts.values()):
            return
        self._last_report = self.clock()
        parts = []
        if counts["closed"]:
            parts.append(f"closed {counts['closed']} idle connection(s) to make room")
        if counts["refused"]:
            parts.append(f"refused {counts['refused']} new connection(s), all others busy")
        if counts["accept"]:
            parts.append(f"could not accept {counts['accept']} time(s): out of file descriptors")
        log.warning(
            "%s; %d connection(s) open, limit %d (server.max_connections)",
            "; ".join(parts),
            len(self.open),
            self.max_connections,
        )

    def exception_handler(self, previous: Callable[[dict[str, Any]], object]) -> Any:
        """An event-loop exception handler that takes asyncio's accept failures."""

        def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
            if context.get("message") == "socket.accept() out of system resource":
                self.accept_failed(context.get("exception") or OSError())
                return
            previous(context)

        return handle


_OUT_OF_RESOURCES = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)


class Listener(socket.socket):
    """A listening socket whose ``accept`` asks the guard first (see the module)."""

    guard: ConnectionGuard | None = None

    def accept(self) -> tuple[socket.socket, Any]:
        guard = self.guard
        if guard is None:
            return super().accept()
        refuse = not guard.may_accept()
        try:
            conn, address = super().accept()  # BlockingIOError when nobody is waiting
        except OSError as exc:
            if exc.errno not in _OUT_OF_RESOURCES:
                raise
            guard.accept_failed(exc)
            raise BlockingIOError from None
        if refuse:
            conn.close()
            guard.refused_one()
            raise BlockingIOError
        guard.accepted()
        return conn, address


class GuardedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with admission and read timeouts (see the module)."""

    guard: ConnectionGuard

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._timer: asyncio.TimerHandle | None = None
        self._phase = "request"  # request (waiting) -> headers -> body -> app -> request
        self._served = 0
        super().connection_made(transport)
        if not self.guard.admit(self):
            transport.close()
            return
        self._arm(self.guard.header_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self.guard.forget(self)
        super().connection_lost(exc)

    # State ---------------------------------------------------------------------------------------
    def never_served(self) -> bool:
        return self._served == 0 and self._phase in ("request", "headers")

    def is_idle(self) -> bool:
        return self._phase == "request" and not self.pipeline

    def close_idle(self) -> None:
        self._disarm()
        if not self.transport.is_closing():
            self.transport.close()

    # Timers --------------------------------------------------------------------------------------
    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._timer = self.loop.call_later(seconds, self._expired)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expired(self) -> None:
        self._timer = None
        if self.transport.is_closing():
            return
        if self._phase == "body":
            log.info(
                "closed the connection of %s: its request body stopped arriving for %.0f s",
                self.client[0] if self.client else "?",
                self.guard.body_timeout,
            )
        elif self._phase == "headers":
            log.debug("closed a connection whose request headers did not arrive in time")
        self.transport.close()

    # Parser callbacks ----------------------------------------------------------------------------
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._phase = "headers"
        if self._timer is None:  # the deadline runs from the connection or the last answer
            self._arm(self.guard.header_timeout)

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._phase = "body"
        self._arm(self.guard.body_timeout)

    def on_body(self, body: bytes) -> None:
        super().on_body(body)
        self._arm(self.guard.body_timeout)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._phase = "app"
        self._served += 1
        self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self._phase == "app":
            self._phase = "request"
            if not self.transport.is_closing():
                # uvicorn's keep-alive timer now runs; ours covers a request that starts and stalls.
                self._disarm()


def protocol_class(guard: ConnectionGuard) -> type[GuardedProtocol]:
    """A protocol class bound to ``guard``, for ``uvicorn.Config(http=...)``."""
    return type("GuardedProtocol", (GuardedProtocol,), {"guard": guard})
