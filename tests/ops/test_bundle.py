from __future__ import annotations

import argparse
import json
import socket
import stat
import tarfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from posboxless.app import create_app
from posboxless.config import Config, ServerConfig
from posboxless.ops import bundle
from posboxless.ops.checks import Probe
from posboxless.ops.layout import Layout
from posboxless.ops.redact import redact_toml, redact_values
from posboxless.printer.queue import JobQueue
from posboxless.services import Services

from ..live import live_server
from .certs import write_certificate

TOKEN = "s3cret-admin-token"


@pytest.fixture
def proxy_port(tmp_path: Path) -> Iterator[int]:
    """The real web application on a loopback port, run with the till's configuration file and
    data directory (``make_till`` writes them)."""
    root = tmp_path / "root"
    config = Config(
        server=ServerConfig(data_dir=root / "data"), source=root / "etc/posboxless/config.toml"
    )
    with live_server(create_app(config, Services())) as url:
        yield int(urlsplit(url).port or 0)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_till(root: Path, http_port: int) -> Path:
    config = root / "etc/posboxless/config.toml"
    config.parent.mkdir(parents=True)
    data_dir = root / "data"
    config.write_text(
        "[server]\n"
        f"http_port = {http_port}\n"
        f'admin_token = "{TOKEN}"  # keep it secret\n'
        'data_dir = "/data"\n'
        'tls_cert = "/etc/posboxless/server.pem"\ntls_key = "/etc/posboxless/server.key"\n'
    )
    write_certificate(root / "etc/posboxless", ["localhost"])
    queue = JobQueue(data_dir / "printers" / "receipt.sqlite3")
    for _ in range(3):
        queue.mark_done(queue.enqueue("text", b"hello"))
    queue.enqueue("drawer", b"\x1bp\x00\x19\x19")
    queue.close()
    return config


def sources(root: Path, journal: str | None = None) -> bundle.Sources:
    return bundle.Sources(
        probe=Probe(layout=Layout(root), service_active=lambda unit: None, hostname=lambda: "t1"),
        journal=lambda: journal,
        recent_lines=lambda: ["INFO posboxless: started", f"DEBUG token is {TOKEN}"],
        versions=lambda: {"posboxless": "0.1.0"},
        now=lambda: 1_780_000_000.0,
    )


def read_bundle(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        members = tar.getmembers()
        assert all(m.mode == 0o600 for m in members)
        return {
            m.name.split("/", 1)[1]: tar.extractfile(m).read()  # type: ignore[union-attr]
            for m in members
        }


def test_bundle_holds_everything_and_no_secret(tmp_path: Path, proxy_port: int) -> None:
    root = tmp_path / "root"
    config = make_till(root, proxy_port)
    out = bundle.make_bundle(tmp_path / "out" / "b.tar.gz", config, sources(root))
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    files = read_bundle(out)
    assert set(files) == {
        "config.toml",
        "logs.txt",
        "status.json",
        "diagnostics.json",
        "print_journal.json",
        "payment_journal.json",
        "versions.json",
        "doctor.json",
        "manifest.json",
    }
    everything = b"".join(files.values())
    assert TOKEN.encode() not in everything
    assert b"PRIVATE KEY" not in everything
    assert b'admin_token = "<redacted>"' in files["config.toml"]
    assert f"http_port = {proxy_port}".encode() in files["config.toml"]

    status = json.loads(files["status.json"])
    assert "result" in status and "printer" in status["result"]

    journal = json.loads(files["print_journal.json"])["receipt"]
    assert journal["jobs_by_state"] == {"done": 3, "queued": 1}
    assert [j["kind"] for j in journal["recent"]] == ["drawer", "text", "text", "text"]
    assert "data" not in journal["recent"][0]

    assert b"recent lines from the memory of the running proxy" in files["logs.txt"]
    diagnostics = json.loads(files["diagnostics.json"])
    assert {"devices", "warnings", "clients", "printers", "scale", "logs"} <= set(diagnostics)
    doctor = json.loads(files["doctor.json"])
    assert any(r["name"] == "configuration" and r["level"] == "ok" for r in doctor)
    manifest = json.loads(files["manifest.json"])
    assert manifest["hostname"] == "t1" and "logs.txt" in manifest["files"]


def test_bundle_without_a_running_proxy_or_journal_still_works(tmp_path: Path) -> None:
    root = tmp_path / "root"
    config = make_till(root, closed_port())
    (root / "data/printers/receipt.sqlite3").write_bytes(b"not a database")
    files = read_bundle(bundle.make_bundle(tmp_path / "b.tar.gz", config, sources(root, "J1\n")))
    assert "did not answer" in json.loads(files["status.json"])["error"]
    assert files["logs.txt"] == b"# journalctl -u posboxless:\nJ1\n"
    assert "no posboxless answered" in json.loads(files["diagnostics.json"])["error"]
    files = read_bundle(bundle.make_bundle(tmp_path / "c.tar.gz", config, sources(root, None)))
    assert b"lines logged by this process" in files["logs.txt"]
    assert b"DEBUG token is <redacted>" in files["logs.txt"]
    assert "error" in json.loads(files["print_journal.json"])["receipt"]


def test_print_journal_is_opened_read_only(tmp_path: Path) -> None:
    root = tmp_path / "root"
    make_till(root, closed_port())
    db = root / "data/printers/receipt.sqlite3"
    before = db.read_bytes()
    bundle.collect(root / "etc/posboxless/config.toml", sources(root))
    assert db.read_bytes() == before


def test_redaction_of_configuration_text() -> None:
    text = (
        '[server]\nadmin_token = "abc123"\nhost = "0.0.0.0"\n'
        '# admin_token = "documented"\n'
        '[[printer]]\nname = "receipt"\npassword=\'x y\'\napi_key = "k"\n'
    )
    red = redact_toml(text)
    assert "abc123" not in red and "x y" not in red and '"k"' not in red
    assert 'host = "0.0.0.0"' in red and 'name = "receipt"' in red
    assert '# admin_token = "documented"' in red
    pem = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----"
    assert "MIIE" not in redact_values(f"x {pem} y", [])
    assert redact_values("token=abcd!", ["abcd"]) == "token=<redacted>!"


def test_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "root"
    config = make_till(root, closed_port())
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", type=Path)
    bundle.add_arguments(parser)
    args = parser.parse_args(
        ["--config", str(config), "--root", str(root), "-o", str(tmp_path / "x.tar.gz")]
    )
    assert bundle.run(args) == 0
    assert "Support bundle written" in capsys.readouterr().out
    assert "config.toml" in read_bundle(tmp_path / "x.tar.gz")
