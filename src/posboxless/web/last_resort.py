"""The outermost guard of the application: whatever escapes a route becomes an answer in JSON.

* A client that leaves before its body arrived: one INFO line, no traceback, nothing to answer.
* A body over the limit read by a route that did not shape the refusal itself: the same JSON-RPC
  error as ``/hw_proxy`` (``posboxless.RequestTooLarge``), and the connection is closed.
* Any other exception: logged once with its traceback, answered as a JSON-RPC error
  (``posboxless.InternalError``) with HTTP 500, never Starlette's plain-text page.
"""

from __future__ import annotations

import logging

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from posboxless.web import jsonrpc
from posboxless.web.body import BodyTooLarge

log = logging.getLogger(__name__)


class LastResortMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except ClientDisconnect:
            client = scope.get("client")
            log.info(
                "%s left before sending the whole request to %s %s",
                client[0] if client else "a client",
                scope["method"],
                scope["path"],
            )
        except BodyTooLarge as exc:
            log.warning("refused %s %s: %s", scope["method"], scope["path"], exc)
            if not started:
                error = jsonrpc.RpcError(
                    str(exc),
                    code=jsonrpc.INVALID_REQUEST,
                    name="posboxless.RequestTooLarge",
                    arguments=[exc.limit],
                )
                await _send(send, 413, jsonrpc.error_body(error), close=True)
        except Exception as exc:
            log.exception("%s %s crashed", scope["method"], scope["path"])
            if not started:
                error = jsonrpc.RpcError(
                    f"Internal error in posboxless: {type(exc).__name__}: {exc}",
                    name="posboxless.InternalError",
                    exception_type="internal_error",
                )
                await _send(send, 500, jsonrpc.error_body(error))


async def _send(send: Send, status: int, body: bytes, *, close: bool = False) -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
