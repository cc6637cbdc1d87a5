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

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from posboxless import tls
from posboxless.app import create_app
from posboxless.config import Config, ServerConfig
from posboxless.ops.browser_policies import OVERRIDES_POLICY, chromium_policy
from posboxless.web.lna import LnaGate, host_values

from ..chromium import launched
from ..live import live_server
from .pages import ODOO_CALLS, pos_site, run_page, till_services

pytestmark = pytest.mark.browser

CALLS = """
const proxy = new URL(location).searchParams.get("proxy");
const space = new URL(location).searchParams.get("space") || "local";  // 19.0: always local
async function hello() {
  return (await fetch(proxy + "/hw_proxy/hello", {targetAddressSpace: space})).ok;
}
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
"""


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


# Module scope: one Chromium for both tests (the sync API holds this thread's event loop).
@pytest.fixture(scope="module")
def till(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp_path = tmp_path_factory.mktemp("lna")
    services, printer = till_services()
    files = tls.ensure_certificates(tmp_path / "site", ["localhost"], ["127.0.0.3", "127.0.0.4"])
    assert files.ca is not None
    https = {"ssl_certfile": str(files.cert), "ssl_keyfile": str(files.key)}
    with ExitStack() as stack:
        pos = pos_site(CALLS, ODOO_CALLS)
        site = stack.enter_context(live_server(pos, host="127.0.0.3", **https))
        foreign = stack.enter_context(live_server(pos, host="127.0.0.4", **https))
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
        with launched(policy=policy, tmp_path=tmp_path) as browser:
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


def test_odoo_19_0_lna_reaches_the_lna_listener_and_a_foreign_origin_does_not(
    till: dict[str, Any],
) -> None:
    browser, printer = till["browser"], till["printer"]
    printer.jobs.clear()
    # The https site loaded at all: its certificate chains to the CA given by the policy.
    result = run_page(browser, till["site"], proxy=till["lna"])
    assert result.get("error") is None, result
    assert result["hello"] is True
    assert result["handshake"] is True
    assert result["status"]["printer"]["status"] == "connected"
    assert result["cashbox"] is True
    assert len(printer.jobs) == 1

    # The same page, another origin not in allowed_origins nor in the policy: no permission
    # (headless Chromium cannot be asked), and posboxless would refuse it anyway.
    refused = run_page(browser, till["foreign"], proxy=till["lna"])
    assert "error" in refused and "hello" not in refused, refused
    assert len(printer.jobs) == 1
    # Chromium stopped it before sending: the proxy never saw that origin.
    assert till["site"] in till["seen"]
    assert till["foreign"] not in till["seen"]


def test_odoo_19_0_lna_fails_on_127_0_0_1_as_reported(till: dict[str, Any]) -> None:
    """The issue itself: 19.0 tags the probe ``local``, the proxy on 127.0.0.1 is loopback."""
    result = run_page(till["browser"], till["site"], proxy=till["loopback"])
    assert "error" in result and "hello" not in result, result


def test_later_19_and_20_reach_localhost_without_a_prompt(till: dict[str, Any]) -> None:
    """Builds after 2026-02-27 tag localhost/127.0.0.1 as loopback: the main listener works, and
    the allow-list policy spares the cashier Chrome's permission prompt."""
    printer = till["printer"]
    printer.jobs.clear()
    result = run_page(till["browser"], till["site"], proxy=till["loopback"], space="loopback")
    assert result.get("error") is None, result
    assert result["hello"] is True and result["cashbox"] is True
    assert len(printer.jobs) == 1
    refused = run_page(till["browser"], till["foreign"], proxy=till["loopback"], space="loopback")
    assert "error" in refused and "hello" not in refused, refused
    assert len(printer.jobs) == 1
    assert till["foreign"] not in till["seen_loopback"]
