from __future__ import annotations

import datetime
import ipaddress
import ssl
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from posboxless import tls

from .ops.certs import mint


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


# The CA can only vouch for this till ------------------------------------------------------------
def _ca(files: tls.TlsFiles) -> x509.Certificate:
    assert files.ca is not None
    return x509.load_pem_x509_certificate(files.ca.read_bytes())


def _mint(tmp_path: Path, name: x509.GeneralName) -> x509.Certificate:
    return mint(tmp_path / "tls", name)[0]


def _verifies(ca: x509.Certificate, leaf: x509.Certificate, name: x509.GeneralName) -> bool:
    from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

    verifier = PolicyBuilder().store(Store([ca])).build_server_verifier(name)
    try:
        verifier.verify(leaf, [])
    except VerificationError:
        return False
    return True


def test_the_ca_is_name_constrained_short_lived_and_ends_chains(tmp_path: Path) -> None:
    files = tls.ensure_certificates(
        tmp_path, ["till1", "till1.local"], ["127.0.0.1", "::1", "192.168.1.20", "203.0.113.7"]
    )
    ca = _ca(files)
    constraints = ca.extensions.get_extension_for_class(x509.NameConstraints)
    assert constraints.critical
    basic = ca.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert basic.ca and basic.path_length == 0
    assert ca.not_valid_after_utc - ca.not_valid_before_utc <= datetime.timedelta(days=731)
    leaf = x509.load_pem_x509_certificate(files.cert.read_bytes())
    assert leaf.not_valid_after_utc <= ca.not_valid_after_utc
    # The till's own certificate verifies for each of its names (a path-validating verifier
    # that applies the constraints, as browsers do)...
    for name in (
        x509.DNSName("localhost"),
        x509.DNSName("till1.local"),
        x509.IPAddress(ipaddress.ip_address("192.168.1.20")),
        x509.IPAddress(ipaddress.ip_address("203.0.113.7")),
    ):
        assert _verifies(ca, leaf, name), name
    # A certificate minted with the stolen key verifies for the till's own names only.
    for name in (
        x509.DNSName("kitchen.localhost"),
        x509.DNSName("till1.local"),
        x509.IPAddress(ipaddress.ip_address("10.9.8.7")),
    ):
        assert _verifies(ca, _mint(tmp_path, name), name), name
    for name in (
        x509.DNSName("www.bank.example"),
        x509.DNSName("localhost.bank.example"),
        x509.IPAddress(ipaddress.ip_address("8.8.8.8")),
    ):
        assert not _verifies(ca, _mint(tmp_path, name), name), name


def _old_unconstrained_ca(tmp_path: Path) -> bytes:
    """A CA as posboxless made them before: ten years, no name constraints."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "posboxless local CA (till1)")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "tls").mkdir(parents=True)
    pem = cert.public_bytes(serialization.Encoding.PEM)
    (tmp_path / "tls" / "ca.pem").write_bytes(pem)
    (tmp_path / "tls" / "ca.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return pem


def test_an_old_unconstrained_ca_is_replaced_and_everyone_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from posboxless.app import create_app
    from posboxless.cli import main
    from posboxless.config import Config, ServerConfig
    from posboxless.services import Services

    old = _old_unconstrained_ca(tmp_path)
    files = tls.ensure_certificates(tmp_path, ["till1"], ["127.0.0.1"])
    assert files.ca is not None and files.ca.read_bytes() != old
    assert _ca(files).extensions.get_extension_for_class(x509.NameConstraints)
    notice = tls.replaced_notice(tmp_path)
    assert notice is not None and "no name constraints" in notice and "import the new" in notice

    app = create_app(
        Config(server=ServerConfig(data_dir=tmp_path)),
        Services(printers={}, default_printer_name=None),
    )
    assert notice in app.state.posboxless.warnings()  # shown on the status page

    out = tmp_path / "ca-export.pem"
    assert main(["export-ca", "--data-dir", str(tmp_path), "-o", str(out)]) == 0
    assert "import the new one" in capsys.readouterr().err
    assert out.read_bytes() == files.ca.read_bytes()
    assert tls.replaced_notice(tmp_path) is None  # exported: the page stops asking


def test_a_new_name_needs_a_new_ca_a_new_lease_does_not(tmp_path: Path) -> None:
    first = tls.ensure_certificates(tmp_path, ["till1"], ["127.0.0.1", "192.168.1.20"])
    ca_before = first.ca.read_bytes()  # type: ignore[union-attr]
    moved = tls.ensure_certificates(tmp_path, ["till1"], ["127.0.0.1", "10.0.0.5"])
    assert moved.ca.read_bytes() == ca_before  # type: ignore[union-attr]
    assert tls.replaced_notice(tmp_path) is None
    renamed = tls.ensure_certificates(tmp_path, ["till1", "till1.shop.lan"], ["127.0.0.1"])
    assert renamed.ca.read_bytes() != ca_before  # type: ignore[union-attr]
    assert "till1.shop.lan" in (tls.replaced_notice(tmp_path) or "")


def test_tls_files_are_private(tmp_path: Path) -> None:
    tls.ensure_certificates(tmp_path, ["till1"], ["127.0.0.1"])
    for path in (tmp_path / "tls").iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE((tmp_path / "tls").stat().st_mode) == 0o700


def test_doctor_warns_about_an_unconstrained_ca_until_it_is_replaced(tmp_path: Path) -> None:
    from posboxless.ops.certificate import CertificateFiles, check_certificate

    _old_unconstrained_ca(tmp_path)
    now = datetime.datetime.now(datetime.timezone.utc)
    tls_dir = tmp_path / "tls"
    files = CertificateFiles(tls_dir / "server.pem", tls_dir / "server.key", tls_dir / "ca.pem")
    # A server certificate signed by the old CA, as an older version left it.
    (tls_dir / "server.pem").write_bytes(
        _mint(tmp_path, x509.DNSName("localhost")).public_bytes(serialization.Encoding.PEM)
    )
    results = check_certificate(files, ["localhost"], now)
    assert any("no name constraints" in r.message for r in results), results

    tls.ensure_certificates(tmp_path, ["localhost"], ["127.0.0.1"])
    results = check_certificate(files, ["localhost"], now)
    assert [r.level for r in results] == ["warn"]
    assert "replaced" in results[0].message and "export-ca" in results[0].fix
    tls.clear_replaced_notice(tmp_path)
    assert [r.level for r in check_certificate(files, ["localhost"], now)] == ["ok"]
