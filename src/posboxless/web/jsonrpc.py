"""The JSON-RPC envelope, exactly as the Odoo POS clients need it (odoo-protocol.md §1.4-1.5).

Pure functions: bytes and headers in, a call or an error out; a result or an error in, bytes out.

* Accepted bodies: the 8-16 envelope ``{"jsonrpc":"2.0","method":"call","params":{...},"id":n}``,
  the 17-18 one (same keys, other order), the bare ``{"params":{...}}`` of the 18 customer display,
  and a bare parameter object (one 18 code path posts ``{"action":"open",...}`` unwrapped).
* Errors are shaped like Odoo's (HTTP 200, ``error.code``, ``error.message`` and
  ``error.data.{name, message, arguments, debug, exception_type, context}``); Odoo 10 reads
  ``error.data.arguments[0]`` unconditionally, so ``arguments`` is always a non-empty list.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

# JSON-RPC 2.0 codes for envelope problems; Odoo's own 200 for errors raised by a handler.
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
SERVER_ERROR = 200

MAX_NUMBER_CHARS = 400
"""Longer numbers are refused while parsing: Python's int() refuses more than 4300 digits (a
``ValueError`` json does not turn into a parse error) and nothing in the Odoo protocol needs more
than a few dozen; JavaScript itself keeps 17 significant digits."""

# A lone surrogate can only come from a \uD800-\uDFFF escape (the body is decoded strictly as
# UTF-8 first): a cheap test on the raw bytes decides whether the parsed strings need checking.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")

# "id" alone does not mark an envelope: the unwrapped Odoo 18 display body has its own "id".
_ENVELOPE_KEYS = {"jsonrpc", "method"}


class RpcError(Exception):
    """An error answered in the JSON-RPC envelope."""

    def __init__(
        self,
        message: str,
        *,
        code: int = SERVER_ERROR,
        name: str = "posboxless.Error",
        arguments: list[Any] | None = None,
        request_id: Any = None,
        exception_type: str = "user_error",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.name = name
        self.arguments = arguments if arguments else [message]
        self.request_id = request_id
        self.exception_type = exception_type


@dataclass(frozen=True)
class RpcCall:
    id: Any
    params: dict[str, Any]


def is_json_content_type(content_type: str | None) -> bool:
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media in ("application/json", "application/json-rpc") or media.endswith("+json")


class _Refused(ValueError):
    def __init__(self, message: str, argument: str) -> None:
        super().__init__(message)
        self.message = message
        self.argument = argument


def _bounded_int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise _Refused(
            f"A number in the request has {len(text)} digits (at most {MAX_NUMBER_CHARS})",
            text[:20] + "…",
        )
    return int(text)


def _bounded_float(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS:
        raise _Refused(
            f"A number in the request has {len(text)} characters (at most {MAX_NUMBER_CHARS})",
            text[:20] + "…",
        )
    value = float(text)
    if not math.isfinite(value):  # 1e999 parses as infinity, which JSON cannot carry back
        raise _Refused(f"The number {text} is too large", text)
    return value


def _no_constant(text: str) -> Any:
    raise _Refused(f"{text} is not a JSON number (JSON has no NaN or Infinity)", text)


def _has_lone_surrogate(payload: Any) -> bool:
    # Iterative: the parser already bounds the nesting, recursion here would not add a limit.
    stack = [payload]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _LONE_SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def loads(body: bytes) -> Any:
    """Parse JSON the way every posboxless front-end must: UTF-8 only, numbers bounded, no
    NaN/Infinity, no lone UTF-16 surrogate (it could be neither stored nor sent back as UTF-8).
    Raises ``RpcError`` (``posboxless.ParseError``) with a plain explanation."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RpcError(
            "The request body is not UTF-8 text", code=PARSE_ERROR, name="posboxless.ParseError"
        ) from None
    try:
        payload = json.loads(
            text,
            parse_int=_bounded_int,
            parse_float=_bounded_float,
            parse_constant=_no_constant,
        )
    except _Refused as exc:
        raise RpcError(
            exc.message,
            code=PARSE_ERROR,
            name="posboxless.ParseError",
            arguments=[exc.message, exc.argument],
        ) from None
    except json.JSONDecodeError as exc:
        raise RpcError(
            f"The request body is not valid JSON: {exc.msg} at line {exc.lineno} "
            f"column {exc.colno}",
            code=PARSE_ERROR,
            name="posboxless.ParseError",
            arguments=[exc.msg, exc.lineno, exc.colno],
        ) from None
    except RecursionError:
        raise RpcError(
            "The request body is nested too deeply", code=PARSE_ERROR, name="posboxless.ParseError"
        ) from None
    if _SURROGATE_ESCAPE.search(body) and _has_lone_surrogate(payload):
        raise RpcError(
            "The request contains a lone UTF-16 surrogate (such as \\ud800), which is not text",
            code=PARSE_ERROR,
            name="posboxless.ParseError",
        )
    return payload


def parse_call(body: bytes, content_type: str | None) -> RpcCall:
    """Read one JSON-RPC call; raise ``RpcError`` with a plain explanation otherwise."""
    if not is_json_content_type(content_type):
        raise RpcError(
            f"JSON-RPC calls must be sent with 'Content-Type: application/json' "
            f"(got {content_type or 'no Content-Type'!r})",
            code=INVALID_REQUEST,
            name="posboxless.InvalidContentType",
            arguments=[content_type or ""],
        )
    if not body.strip():
        raise RpcError(
            'Empty request body: expected a JSON object such as {"params": {}}',
            code=INVALID_REQUEST,
            name="posboxless.InvalidRequest",
        )
    payload = loads(body)
    if not isinstance(payload, dict):
        raise RpcError(
            f"Expected a JSON object, got a JSON {type(payload).__name__}",
            code=INVALID_REQUEST,
            name="posboxless.InvalidRequest",
        )
    request_id = payload.get("id")
    if "params" in payload:
        params = payload["params"]
    elif payload.keys() & _ENVELOPE_KEYS:
        params = {}
    else:
        params = payload
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise RpcError(
            f"'params' must be a JSON object, got a JSON {type(params).__name__}",
            code=INVALID_PARAMS,
            name="posboxless.InvalidParams",
            request_id=request_id,
        )
    return RpcCall(id=request_id, params=params)


def dumps(payload: Any) -> bytes:
    """Strict JSON as UTF-8; raises ``ValueError`` (or ``UnicodeEncodeError``, a subclass) rather
    than write what a browser's ``JSON.parse`` would refuse."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode(
        "utf-8"
    )


def _dump_error(payload: dict[str, Any]) -> bytes:
    try:
        return dumps(payload)
    except (ValueError, TypeError):
        pass
    # Something the client sent made it into the id or the arguments: answer without them rather
    # than not at all (the message is ours; a stray surrogate in it becomes "?").
    data = payload["error"]["data"]
    error = {**payload["error"], "data": {**data, "arguments": [str(data["message"])]}}
    text = json.dumps({**payload, "id": None, "error": error}, ensure_ascii=False, default=str)
    return text.encode("utf-8", "replace")


def result_body(request_id: Any, result: Any) -> bytes:
    try:
        return dumps({"jsonrpc": "2.0", "id": request_id, "result": result})
    except (ValueError, TypeError) as exc:
        return error_body(
            RpcError(
                f"posboxless could not encode its answer as JSON: {exc}",
                name="posboxless.InternalError",
                exception_type="internal_error",
            ),
            request_id,
        )


def error_body(error: RpcError, request_id: Any = None) -> bytes:
    rid = request_id if request_id is not None else error.request_id
    return _dump_error(
        {
            "jsonrpc": "2.0",
            "id": rid,
            "error": {
                "code": error.code,
                "message": "Odoo Server Error" if error.code == SERVER_ERROR else error.message,
                "data": {
                    "name": error.name,
                    "message": error.message,
                    "arguments": error.arguments,
                    "debug": "",
                    "exception_type": error.exception_type,
                    "context": {},
                },
            },
        }
    )
