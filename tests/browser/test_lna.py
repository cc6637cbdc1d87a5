"""Odoo 19.0 with ``point_of_sale.use_lna``, in a real Chromium with Local Network Access on.

The POS page is an https origin that Chromium is told to treat as *public* (the till's Odoo is on
the Internet); it probes the proxy exactly as 19.0 does: ``fetch(url + "/hw_proxy/hello",
{targetAddressSpace: "local"})``, then XHR JSON-RPC. Chromium reads the managed policy that
``posboxless install --browser-policies`` writes, from /etc/chromium/policies/managed, which the
test replaces in a mount namespace of Chromium's own (nothing on the machine is changed). Every
address is in 127.0.0.0/8: 127.0.0.1 the normal listener, 127.0.0.2 the LNA listener, 127.0.0.3
the Odoo site, 127.0.0.4 a foreign site.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from posboxless import tls
from posboxless.app import create_app
from posboxless.config import Config, ServerConfig
from posboxless.ops.browser_policies import OVERRIDES_POLICY, chromium_policy
from posboxless.services import Services
from posboxless.web.lna import LnaGate, host_values

from ..chromium import CHROMIUM, CHROMIUM_ARGS
from ..live import live_server
from ..web.fakes import FakePrinter, FakeScale, FakeScanner

pytestmark = pytest.mark.browser

POS_PAGE = """<!doctype html><html><body><pre id="result">running</pre><script>
const proxy = new URL(location).searchParams.get("proxy");
const space = new URL(location).searchParams.get("space") || "local";  // 19.0: always local
function rpc(name, params) {  // as @web/core/network/rpc: XHR, no targetAddressSpace
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", proxy + "/hw_proxy/" + name);
    xhr.setRequestHeader("Content-Type", "application/json");
    xhr.onload = () => resolve(JSON.parse(xhr.response).result);
    xhr.onerror = () => reject(new Error("XHR failed for " + name));
    xhr.send(JSON.stringify({id: 1, jsonrpc: "2.0", method: "call", params: params}));
  });
}
(async () => {
  const out = {};
  try {
    const hello = await fetch(proxy + "/hw_proxy/hello", {targetAddressSpace: space});
    out.hello = hello.ok;
    out.handshake = await rpc("handshake", {});
    out.status = await rpc("status_json", {});
    out.cashbox = await rpc("default_printer_action", {data: {action: "cashbox"}});
  } catch (e) { out.error = String(e); }
  document.getElementById("result").textContent = JSON.stringify(out);
})();
</script></body></html>"""


def pos_site() -> Starlette:
    async def page(request: Any) -> HTMLResponse:
        return HTMLResponse(POS_PAGE)

    return Starlette(routes=[Route("/pos", page)])


class SeenOrigins:
    """Records the Origin of every request that reached the proxy, refused or not."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.origins: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            self.origins.append(headers.get(b"origin", b"").decode())
        await self.app(scope, receive, send)


def _mount_namespaces_work() -> bool:
    unshare = shutil.which("unshare")
    if unshare is None:
        return False
    probe = subprocess.run(
        [unshare, "-rm", "sh", "-c", "mount --bind /tmp /etc/chromium 2>/dev/null || exit 3"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0 and Path("/etc/chromium").is_dir()


def chromium_with_policy(tmp_path: Path, policy: dict[str, Any]) -> str:
    """A launcher that runs Chromium with ``policy`` as its only managed policy."""
    etc = tmp_path / "etc-chromium"
    (etc / "policies" / "managed").mkdir(parents=True)
    (etc / "policies" / "managed" / "posboxless.json").write_text(json.dumps(policy))
    launcher = tmp_path / "chromium"
    launcher.write_text(
        "#!/bin/sh\n"
        f"exec unshare -rm sh -c 'mount --bind {etc} /etc/chromium && exec {CHROMIUM} \"$@\"'"
        ' sh "$@"\n'
    )
    launcher.chmod(0o755)
    return str(launcher)


def run_page(browser: Any, site: str, proxy: str, space: str = "local") -> dict[str, Any]:
    page = browser.new_page()
    try:
        page.goto(f"{site}/pos?proxy={proxy}&space={space}")
        page.wait_for_function(
            "document.getElementById('result').textContent !== 'running'", timeout=30000
        )
        result: dict[str, Any] = json.loads(page.text_content("#result") or "{}")
        return result
    finally:
        page.close()


# Module scope: one Chromium for both tests (the sync API holds this thread's event loop).
@pytest.fixture(scope="module")
def till(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp_path = tmp_path_factory.mktemp("lna")
    if CHROMIUM is None:
        pytest.skip("the distribution's chromium is not installed (apt-get install chromium)")
    if not _mount_namespaces_work():
        pytest.skip("no user+mount namespaces here: the managed policy cannot be given")
    printer = FakePrinter()
    services = Services(
        printers={"receipt": printer},
        default_printer_name="receipt",
        scale=FakeScale(),  # type: ignore[arg-type]
        scanner=FakeScanner(),  # type: ignore[arg-type]
    )
    files = tls.ensure_certificates(tmp_path / "site", ["localhost"], ["127.0.0.3", "127.0.0.4"])
    assert files.ca is not None
    https = {"ssl_certfile": str(files.cert), "ssl_keyfile": str(files.key)}
    with ExitStack() as stack:
        site = stack.enter_context(live_server(pos_site(), host="127.0.0.3", **https))
        foreign = stack.enter_context(live_server(pos_site(), host="127.0.0.4", **https))
        config = Config(
            server=ServerConfig(data_dir=tmp_path, allowed_origins=(site,), lna_address="127.0.0.2")
        )
        app = create_app(config, services)
        gate = LnaGate(app, "127.0.0.2", 0, config.server.allowed_origins)
        seen = SeenOrigins(gate)
        lna = stack.enter_context(live_server(seen, host="127.0.0.2"))
        port = int(lna.rsplit(":", 1)[1])
        gate.hosts = host_values("127.0.0.2", port)  # the port is known only once bound
        seen_loopback = SeenOrigins(app)
        loopback = stack.enter_context(live_server(seen_loopback, host="127.0.0.1"))

        # What install --browser-policies writes for this till, plus what the test needs: the
        # two https sites are on loopback, and must count as public as a real Odoo would.
        policy = chromium_policy([site], ("127.0.0.2", port), files.ca.read_bytes())
        for url in (site, foreign):
            policy[OVERRIDES_POLICY].append(url.removeprefix("https://") + "=public")
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=chromium_with_policy(tmp_path, policy),
                args=CHROMIUM_ARGS,
                headless=True,
            )
            try:
                yield {
                    "browser": browser,
                    "site": site,
                    "foreign": foreign,
                    "lna": lna,
                    "loopback": loopback,
                    "printer": printer,
                    "seen": seen.origins,
                    "seen_loopback": seen_loopback.origins,
                }
            finally:
                browser.close()


def test_odoo_19_0_lna_reaches_the_lna_listener_and_a_foreign_origin_does_not(
    till: dict[str, Any],
) -> None:
    browser, printer = till["browser"], till["printer"]
    printer.jobs.clear()
    # The https site loaded at all: its certificate chains to the CA given by the policy.
    result = run_page(browser, till["site"], till["lna"])
    assert result.get("error") is None, result
    assert result["hello"] is True
    assert result["handshake"] is True
    assert result["status"]["printer"]["status"] == "connected"
    assert result["cashbox"] is True
    assert len(printer.jobs) == 1

    # The same page, another origin not in allowed_origins nor in the policy: no permission
    # (headless Chromium cannot be asked), and posboxless would refuse it anyway.
    refused = run_page(browser, till["foreign"], till["lna"])
    assert "error" in refused and "hello" not in refused, refused
    assert len(printer.jobs) == 1
    # Chromium stopped it before sending: the proxy never saw that origin.
    assert till["site"] in till["seen"]
    assert till["foreign"] not in till["seen"]


def test_odoo_19_0_lna_fails_on_127_0_0_1_as_reported(till: dict[str, Any]) -> None:
    """The issue itself: 19.0 tags the probe ``local``, the proxy on 127.0.0.1 is loopback."""
    result = run_page(till["browser"], till["site"], till["loopback"])
    assert "error" in result and "hello" not in result, result


def test_later_19_and_20_reach_localhost_without_a_prompt(till: dict[str, Any]) -> None:
    """Builds after 2026-02-27 tag localhost/127.0.0.1 as loopback: the main listener works, and
    the allow-list policy spares the cashier Chrome's permission prompt."""
    printer = till["printer"]
    printer.jobs.clear()
    result = run_page(till["browser"], till["site"], till["loopback"], space="loopback")
    assert result.get("error") is None, result
    assert result["hello"] is True and result["cashbox"] is True
    assert len(printer.jobs) == 1
    refused = run_page(till["browser"], till["foreign"], till["loopback"], space="loopback")
    assert "error" in refused and "hello" not in refused, refused
    assert len(printer.jobs) == 1
    assert till["foreign"] not in till["seen_loopback"]
