from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from posboxless.cli import build_parser, main

COMMANDS = [
    "serve",
    "export-ca",
    "check-config",
    "install",
    "uninstall",
    "doctor",
    "support-bundle",
]


def test_help_on_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    top = capsys.readouterr().out
    for command in COMMANDS:
        assert command in top
        with pytest.raises(SystemExit) as info:
            main([command, "--help"])
        assert info.value.code == 0
        assert "usage: posboxless " + command in capsys.readouterr().out


def test_invalid_configuration_exits_with_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[server]\nhttp_port = 'eighty'\n")
    assert main(["serve", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "server.http_port: expected an integer" in err


def test_check_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[server]\nallowed_origins = ['https://coop.example.com']\n")
    assert main(["check-config", "--config", str(config)]) == 0
    assert "https://coop.example.com" in capsys.readouterr().out


def test_check_config_names_every_device_kind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        "[[printer]]\nname = 'receipt'\nhost = '127.0.0.1:9'\n"
        "[[payment_terminal]]\nport = 'loop://'\n"
        "[customer_display]\nport = 'loop://?pole'\n"
    )
    main(["check-config", "--config", str(config)])
    out = capsys.readouterr().out
    assert "printers: receipt" in out
    assert "payment terminals: terminal" in out
    assert "customer pole display: loop://?pole" in out


def test_check_config_on_the_shipped_commented_configuration(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # What an IT partner copies by hand (or reads before installing) is a valid configuration.
    from posboxless.ops.resources import template

    shipped = Path(__file__).parents[1] / "src/posboxless/ops/templates/config.toml"
    assert shipped.read_text("utf-8") == template("config.toml")
    assert main(["check-config", "--config", str(shipped)]) == 0
    out = capsys.readouterr().out
    assert "listen: 127.0.0.1 http 8069 https 443" in out
    assert "simulated devices: yes" in out


def test_export_ca(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "ca.pem"
    assert main(["export-ca", "--data-dir", str(tmp_path / "data"), "-o", str(out)]) == 0
    assert out.read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert "SHA-256 fingerprint:" in capsys.readouterr().err
    assert "PRIVATE" not in out.read_text()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_answers_over_http_and_https(tmp_path: Path) -> None:
    """The real command on real sockets: simulated devices by default, HTTP and HTTPS."""
    import ssl

    http_port, https_port = free_port(), free_port()
    env = {**os.environ, "HOME": str(tmp_path)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "posboxless",
            "serve",
            "--http-port",
            str(http_port),
            "--https-port",
            str(https_port),
            "--data-dir",
            str(tmp_path / "data"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/hw_proxy/hello") as r:
                    assert r.read() == b"ping"
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
        context = ssl.create_default_context(cafile=str(tmp_path / "data" / "tls" / "ca.pem"))
        request = urllib.request.Request(
            f"https://localhost:{https_port}/hw_proxy/status_json",
            data=json.dumps({"jsonrpc": "2.0", "method": "call", "params": {}, "id": 1}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, context=context) as r:
            status = json.loads(r.read())["result"]
        assert {"printer", "escpos", "scale", "scanner"} <= set(status)
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=20)
    assert process.returncode == 0, output
    assert "listening on" in output
    assert "allowed_origins" in output  # the open-policy warning


def test_serve_reports_a_busy_port(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "posboxless",
                "serve",
                "--http-port",
                str(port),
                "--https-port",
                "0",
                "--data-dir",
                str(tmp_path),
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 1
    assert f"port {port} is already in use" in result.stderr


def test_parser_builds() -> None:
    assert build_parser().prog == "posboxless"
