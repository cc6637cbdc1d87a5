"""Reading a request body with a size limit checked before (``Content-Length``) and while
(chunked uploads) it is read: the one way every route reads a body, so that no route can be made
to buffer more than ``server.max_body_bytes``."""

from __future__ import annotations

from starlette.requests import Request


class BodyTooLarge(Exception):
    """The body is (or announces to be) larger than ``limit``; nothing more was read."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"Request body larger than {limit} bytes (server.max_body_bytes)")
        self.limit = limit


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def body_limit(request: Request) -> int:
    """``server.max_body_bytes`` of the application serving ``request``."""
    limit: int = request.app.state.max_body_bytes
    return limit
