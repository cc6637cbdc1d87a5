"""Chromium trusts the till's name-constrained CA for the till, and refuses what the CA's key
signs for any other site. The CA is given to Chromium as an unconstrained trusted root
(``CACertificates`` policy, in a mount namespace of Chromium's own), so that only the CA's own
Name Constraints extension can make the difference."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from posboxless import tls
from posboxless.ops.browser_policies import ca_base64

from ..chromium import launched
from ..live import live_server
from ..ops.certs import mint

pytestmark = pytest.mark.browser


def _site() -> Starlette:
    async def hello(request: Any) -> PlainTextResponse:
        return PlainTextResponse("ping")

    return Starlette(routes=[Route("/hw_proxy/hello", hello)])


def _mint(tmp_path: Path, name: str) -> tuple[Path, Path]:
    """A certificate for ``name`` signed with the till's CA key, as a thief of ca.key would."""
    cert, key = mint(tmp_path / "tls", x509.DNSName(name), common_name=name)
    cert_path, key_path = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[tuple[Any, Path]]:
    files = tls.ensure_certificates(tmp_path, ["till1"], ["127.0.0.1"])
    assert files.ca is not None
    policy = {"CACertificates": [ca_base64(files.ca.read_bytes())]}
    rules = "MAP www.bank.example 127.0.0.1, MAP kitchen.localhost 127.0.0.1"
    args = (f"--host-resolver-rules={rules}",)
    with launched(policy=policy, tmp_path=tmp_path, args=args) as browser:
        yield browser, tmp_path


def _load(browser: Any, url: str) -> str:
    page = browser.new_page()
    try:
        page.goto(url)
        return str(page.text_content("body") or "").strip()
    finally:
        page.close()


def test_chromium_trusts_the_till_and_not_a_site_minted_with_its_key(
    chromium: tuple[Any, Path],
) -> None:
    from playwright.sync_api import Error

    browser, tmp_path = chromium
    tls_dir = tmp_path / "tls"
    https = {
        "ssl_certfile": str(tls_dir / "server.pem"),
        "ssl_keyfile": str(tls_dir / "server.key"),
    }
    with live_server(_site(), **https) as url:
        port = url.rsplit(":", 1)[1]
        assert _load(browser, f"https://localhost:{port}/hw_proxy/hello") == "ping"

    cert, key = _mint(tmp_path, "kitchen.localhost")  # inside the constraints: accepted
    with live_server(_site(), ssl_certfile=str(cert), ssl_keyfile=str(key)) as url:
        port = url.rsplit(":", 1)[1]
        assert _load(browser, f"https://kitchen.localhost:{port}/hw_proxy/hello") == "ping"

    cert, key = _mint(tmp_path, "www.bank.example")
    with live_server(_site(), ssl_certfile=str(cert), ssl_keyfile=str(key)) as url:
        port = url.rsplit(":", 1)[1]
        with pytest.raises(Error, match="ERR_CERT"):
            _load(browser, f"https://www.bank.example:{port}/hw_proxy/hello")
