from __future__ import annotations

import datetime
import ipaddress
import ssl
import stat
from pathlib import Path

from cryptography import x509

from posboxless import tls


def san(path: Path) -> x509.SubjectAlternativeName:
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    return cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value


def test_generates_ca_and_server_certificate(tmp_path: Path) -> None:
    files = tls.ensure_certificates(
        tmp_path, ["till1", "till1.local"], ["127.0.0.1", "::1", "192.168.1.20"]
    )
    names = san(files.cert)
    assert set(names.get_values_for_type(x509.DNSName)) == {"localhost", "till1", "till1.local"}
    assert set(names.get_values_for_type(x509.IPAddress)) == {
        ipaddress.ip_address(a) for a in ("127.0.0.1", "::1", "192.168.1.20")
    }
    assert files.ca is not None
    for key in (files.key, tmp_path / "tls" / "ca.key"):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    # The server certificate chains to the CA, as a browser that imported the CA will check.
    context = ssl.create_default_context(cafile=str(files.ca))
    context.load_cert_chain(files.cert, files.key)
    cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert lifetime <= datetime.timedelta(days=398)


def test_kept_when_valid_renewed_when_names_change(tmp_path: Path) -> None:
    first = tls.ensure_certificates(tmp_path, ["till1"], ["127.0.0.1"])
    ca_before = first.ca.read_bytes()  # type: ignore[union-attr]
    cert_before = first.cert.read_bytes()
    again = tls.ensure_certificates(tmp_path, ["till1"], ["127.0.0.1"])
    assert again.cert.read_bytes() == cert_before
    moved = tls.ensure_certificates(tmp_path, ["till1"], ["127.0.0.1", "10.1.2.3"])
    assert moved.cert.read_bytes() != cert_before
    assert moved.ca.read_bytes() == ca_before  # type: ignore[union-attr]  # browsers keep trusting it
    assert ipaddress.ip_address("10.1.2.3") in san(moved.cert).get_values_for_type(x509.IPAddress)


def test_corrupt_files_are_replaced(tmp_path: Path) -> None:
    files = tls.ensure_certificates(tmp_path, ["till1"], ["127.0.0.1"])
    files.cert.write_text("garbage")
    files = tls.ensure_certificates(tmp_path, ["till1"], ["127.0.0.1"])
    x509.load_pem_x509_certificate(files.cert.read_bytes())


def test_fingerprint_format(tmp_path: Path) -> None:
    files = tls.ensure_certificates(tmp_path, ["till1"], ["127.0.0.1"])
    fingerprint = tls.fingerprint(files.ca)  # type: ignore[arg-type]
    assert len(fingerprint.split(":")) == 32


def test_no_private_key_in_the_project() -> None:
    root = Path(__file__).resolve().parents[1]
    for path in root.rglob("*"):
        if ".venv" in path.parts or ".git" in path.parts or not path.is_file():
            continue
        if path.suffix in (".pem", ".key"):
            raise AssertionError(f"key material shipped in the project: {path}")
        if path.suffix in (".py", ".toml", ".md", ".txt", ".service", ".rules"):
            assert "PRIVATE KEY-----\nMI" not in path.read_text(errors="ignore"), path


def test_serve_and_export_ca_ask_for_the_same_names(tmp_path: Path) -> None:
    """One definition of the names: export-ca must not reissue a certificate missing some."""
    from posboxless.config import parse_config

    config = parse_config(
        {
            "server": {"data_dir": str(tmp_path), "allowed_hosts": ["till1.shop.lan"]},
            "printer": [{"name": "kitchen", "host": "192.168.1.50"}],
        }
    )
    files = tls.ensure_for_config(config)
    names = set(san(files.cert).get_values_for_type(x509.DNSName))
    assert {"localhost", "till1.shop.lan", "kitchen.localhost"} <= names
    before = files.cert.read_bytes()
    assert tls.ensure_for_config(config).cert.read_bytes() == before  # nothing reissued
