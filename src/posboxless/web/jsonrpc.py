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
from dataclasses import dataclass
from typing import Any

# JSON-RPC 2.0 codes for envelope problems; Odoo's own 200 for errors raised by a handler.
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
SERVER_ERROR = 200

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
    try:
        payload = json.loads(body)
    except UnicodeDecodeError:
        raise RpcError(
            "The request body is not UTF-8 text", code=PARSE_ERROR, name="posboxless.ParseError"
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


def _dump(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def result_body(request_id: Any, result: Any) -> bytes:
    return _dump({"jsonrpc": "2.0", "id": request_id, "result": result})


def error_body(error: RpcError, request_id: Any = None) -> bytes:
    rid = request_id if request_id is not None else error.request_id
    return _dump(
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
