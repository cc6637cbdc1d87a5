"""``posboxless serve`` with ``lna_address``: the second listener is up beside the first, and
serves only the POS API to the allowed origin."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ORIGIN = "https://shop.example.com"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_starts_the_lna_listener(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[server]\nhttp_port = {port}\nhttps_port = 0\nlna_address = "127.0.0.2"\n'
        f'allowed_origins = ["{ORIGIN}"]\ndata_dir = "{tmp_path}"\nsimulate = true\n'
    )
    command = [sys.executable, "-m", "posboxless", "serve", "--config", str(config)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        with httpx.Client() as http:
            lna = f"http://127.0.0.2:{port}"
            deadline = time.monotonic() + 60
            while True:  # until both listeners answer (start-up takes a moment)
                try:
                    http.get(f"{lna}/hw_proxy/hello", headers={"Origin": ORIGIN})
                    http.get(f"http://127.0.0.1:{port}/hw_proxy/hello")
                    break
                except httpx.TransportError:
                    assert process.poll() is None, process.stdout.read()  # type: ignore[union-attr]
                    assert time.monotonic() < deadline, "serve did not start"
                    time.sleep(0.05)
            assert http.get(f"{lna}/hw_proxy/hello", headers={"Origin": ORIGIN}).text == "ping"
            assert http.get(f"{lna}/hw_proxy/hello").status_code == 403
            assert http.get(f"{lna}/", headers={"Origin": ORIGIN}).status_code == 404
            # The status page on localhost lists the second address.
            page = http.get(f"http://127.0.0.1:{port}/api/diagnostics").json()
            assert f"http://127.0.0.2:{port} (POS API only)" in page["listen"]
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_check_config_names_the_lna_address_and_the_scale_owner(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from posboxless.cli import main

    config = tmp_path / "c.toml"
    config.write_text(
        f'[server]\nlna_address = "127.0.0.2"\nallowed_origins = ["{ORIGIN}"]\n'
        f'data_dir = "{tmp_path}"\n[scale]\nowner = "browser"\n'
    )
    assert main(["check-config", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "Local Network Access address: 127.0.0.2 http 8069 (POS API only)" in out
    assert "scale: read by the browser" in out
