"""Remote help without a VPN: the till PUTs its read-only diagnostics and redacted support
bundle to the partner's HTTPS endpoint with basic auth; a loopback receiver stands in for it."""

from __future__ import annotations

import base64
import io
import json
import ssl
import tarfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from posboxless import tls
from posboxless.cli import main
from posboxless.ops.monitoring import remote_help
from tests.ops.monitoring.stack import free_port, posboxless_simulated, running, wait_until_serving

USER, PASSWORD = "shop-42", "s3cret"


class Receiver:
    def __init__(self) -> None:
        self.stored: dict[str, bytes] = {}
        self.refused = 0


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[tuple[str, Receiver, str]]:
    certs = tls.ensure_certificates(tmp_path / "partner", ["localhost"], ["127.0.0.1"])
    state = Receiver()
    expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()

    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            if self.headers.get("Authorization") != expected:
                state.refused += 1
                self.send_response(401)
                self.end_headers()
                return
            length = int(self.headers["Content-Length"])
            state.stored[self.path] = self.rfile.read(length)
            self.send_response(201)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certs.cert, certs.key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        assert certs.ca is not None
        yield f"https://127.0.0.1:{server.server_address[1]}/tills", state, str(certs.ca)
    finally:
        server.shutdown()
        server.server_close()


def test_a_live_tills_diagnostics_reach_the_partner(
    tmp_path: Path, receiver: tuple[str, Receiver, str], capsys: pytest.CaptureFixture[str]
) -> None:
    url, state, ca = receiver
    port = free_port()
    proxy = posboxless_simulated(tmp_path, port)
    config = tmp_path / "config.toml"
    config.write_text(
        f'[server]\nhost = "127.0.0.1"\nhttp_port = {port}\nhttps_port = 0\n'
        f'data_dir = "{tmp_path / "data"}"\nadmin_token = "do-not-leak-this-token"\n'
    )
    password = tmp_path / "password"
    password.write_text(PASSWORD + "\n")
    with running(proxy):
        wait_until_serving(proxy, f"http://127.0.0.1:{port}")
        code = main(
            [
                "remote-help", "--config", str(config), "--url", url, "--user", USER,
                "--password-file", str(password), "--shop", "bakery-lyon", "--till", "till-1",
                "--ca-file", ca,
            ]
        )  # fmt: skip
    assert code == 0, capsys.readouterr()
    assert set(state.stored) == {
        "/tills/bakery-lyon/till-1/diagnostics.json",
        "/tills/bakery-lyon/till-1/support-bundle.tar.gz",
    }
    diagnostics = json.loads(state.stored["/tills/bakery-lyon/till-1/diagnostics.json"])
    kinds = {device["kind"] for device in diagnostics["devices"]}
    assert "printer" in kinds, diagnostics.keys()
    bundle = state.stored["/tills/bakery-lyon/till-1/support-bundle.tar.gz"]
    with tarfile.open(fileobj=io.BytesIO(bundle), mode="r:gz") as tar:
        names = {Path(member.name).name for member in tar.getmembers()}
        config_text = tar.extractfile("posboxless-support/config.toml").read().decode()  # type: ignore[union-attr]
    assert {"diagnostics.json", "logs.txt", "doctor.json", "print_journal.json"} <= names
    assert "do-not-leak-this-token" not in config_text
    assert "do-not-leak-this-token" not in bundle.decode("latin-1")
    assert "Pushed" in capsys.readouterr().out


def test_a_wrong_password_is_a_failure_not_a_silence(
    receiver: tuple[str, Receiver, str],
) -> None:
    url, state, ca = receiver
    with pytest.raises(OSError):
        remote_help.push(url, USER, "wrong", "s", "t", {"diagnostics.json": b"{}"}, ca_file=ca)
    assert state.refused == 1 and state.stored == {}


def test_an_untrusted_certificate_is_refused(receiver: tuple[str, Receiver, str]) -> None:
    url, state, _ = receiver
    with pytest.raises(OSError):
        remote_help.push(url, USER, PASSWORD, "s", "t", {"diagnostics.json": b"{}"})
    assert state.stored == {}


def test_plain_http_only_towards_this_machine() -> None:
    with pytest.raises(ValueError, match="https"):
        remote_help.check_push_url("http://help.partner.example/tills")
