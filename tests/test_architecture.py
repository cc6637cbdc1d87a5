"""The shape of the code: no import cycle, dependencies point down, protocol cores stay pure.

The import graph is read from the source with ``ast``: imports at module level, inside
functions and under ``TYPE_CHECKING`` all count, so a cycle cannot hide behind a lazy import.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import posboxless
from posboxless import kinds

ROOT = Path(posboxless.__file__).parent

PROTOCOL_CORES = (
    # Sans-I/O: bytes and objects in and out, their own error types, no logging, no I/O.
    # A new device kind's core goes here.
    "posboxless.printer.escpos",
    "posboxless.printer.profiles",
    "posboxless.scale.toledo8217",
    "posboxless.scale.adam",
    "posboxless.scanner.keymaps",
    "posboxless.scanner.keyboard",
    "posboxless.scanner.serial_lines",
    "posboxless.terminal.telium",
    "posboxless.linedisplay.commands",
    "posboxless.linedisplay.text",
    "posboxless.epos.protocol",
    "posboxless.epos.addresses",
)
TRANSPORTS = ("posboxless.transports",)
WEB_PART, OPS_PART = "hw_proxy", "checks"
"""A device kind's package holds its web part (``<kind>/hw_proxy.py``: its ``/hw_proxy`` calls,
``status_json`` entries, page section) and its operations part (``<kind>/checks.py``: doctor
checks, metrics), found by these names (``posboxless/kind.py``)."""


def _kind_parts(part: str) -> tuple[str, ...]:
    return tuple(
        f"{kind.package}.{part}"
        for kind in kinds.installed()
        if f"{kind.package}.{part}" in modules()
    )


def _web() -> tuple[str, ...]:
    top = ("posboxless.web", "posboxless.app", "posboxless.cli", "posboxless.__main__")
    return (*top, *_kind_parts(WEB_PART))


def _ops() -> tuple[str, ...]:
    return ("posboxless.ops", *_kind_parts(OPS_PART))


def _above_devices() -> tuple[str, ...]:
    """Device packages, ``device``, ``config``, ``settings`` and ``services`` never import these."""
    return (*_web(), *_ops())


def _within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


@cache
def modules() -> dict[str, Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


@cache
def imports() -> dict[str, frozenset[tuple[str, int]]]:
    """module -> {(imported posboxless module, line)}; ``from a import b`` counts as ``a.b``
    when ``b`` is a module."""
    known = modules()
    graph: dict[str, frozenset[tuple[str, int]]] = {}
    for name, path in known.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found: set[tuple[str, int]] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, *([base] if base else [])])
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                    for alias in node.names
                ]
            else:
                continue
            found |= {(t, node.lineno) for t in targets if t in known and t != name}
        graph[name] = frozenset(found)
    # The kinds' parts are imported by name (importlib) where they are looked up: edges too.
    for finder, part in (("posboxless.web.kinds", WEB_PART), ("posboxless.ops.kinds", OPS_PART)):
        if finder in graph:
            graph[finder] = graph[finder] | {(m, 0) for m in _kind_parts(part)}
    return graph


def _cycles() -> list[list[str]]:
    graph = {m: sorted({t for t, _ in edges}) for m, edges in imports().items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _violations(sources: tuple[str, ...], allowed: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{module} imports {target} (line {line})"
        for module, edges in imports().items()
        if _within(module, sources)
        for target, line in edges
        if not _within(target, allowed)
    )


def test_the_graph_is_read() -> None:
    edges = {t for t, _ in imports()["posboxless.app"]}
    assert "posboxless.web.state" in edges and "posboxless.services" in edges
    lazy = {t for t, _ in imports()["posboxless.cli"]}
    assert "posboxless.app" in lazy  # a function-level import counts


def test_no_import_cycle() -> None:
    """Function-level and ``TYPE_CHECKING`` imports count too: a cycle dodged by a lazy import
    is still a cycle. ``ServiceContext`` lives in ``posboxless.device`` (factories import it
    from there), ``AppState`` in ``posboxless.web.state``."""
    assert _cycles() == []


def test_protocol_cores_import_only_protocol_cores() -> None:
    assert _violations(PROTOCOL_CORES, PROTOCOL_CORES) == []


def test_transports_import_only_transports() -> None:
    assert _violations(TRANSPORTS, TRANSPORTS) == []


def test_device_layers_never_import_web_or_ops() -> None:
    above = _above_devices()
    upward = [
        f"{module} imports {target} (line {line})"
        for module, edges in imports().items()
        if module != "posboxless" and not _within(module, above)
        for target, line in edges
        if _within(target, above)
    ]
    assert upward == []


def test_ops_never_imports_the_web_layer() -> None:
    assert [v for v in _violations(_ops(), ()) if _within(v.split()[2], _web())] == []


def test_kind_parts_are_in_their_layers() -> None:
    """The printer's web part is web code and the device layer never reaches it, nor a kind's
    checks; the registry and the finders are where the test above expects them."""
    assert "posboxless.printer.hw_proxy" in _web()
    assert "posboxless.terminal.checks" in _ops()
    for module in ("posboxless.kinds", "posboxless.kind", "posboxless.services"):
        assert not _within(module, _above_devices())
    assert ("posboxless.printer.hw_proxy", 0) in imports()["posboxless.web.kinds"]
    assert ("posboxless.terminal.checks", 0) in imports()["posboxless.ops.kinds"]


def test_web_pages_never_import_the_app_or_cli() -> None:
    web = ("posboxless.web", *_kind_parts(WEB_PART))
    top = ("posboxless.app", "posboxless.cli", "posboxless.__main__")
    assert [v for v in _violations(web, ()) if _within(v.split()[2], top)] == []


def test_protocol_cores_never_log() -> None:
    """Cores return their warnings (``RenderedJob.warnings``); the services log and journal them
    with the device's name."""
    logging_cores = []
    for name, path in modules().items():
        if not _within(name, PROTOCOL_CORES):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import) and any(
                a.name.split(".")[0] == "logging" for a in node.names
            ):
                logging_cores.append(name)
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("logging"):
                logging_cores.append(name)
    assert logging_cores == []
