"""HTTPS certificates, made on the machine that uses them.

A POS served over https can only call the proxy over https (odoo-protocol.md §1.2), with a
certificate the cashier's browser trusts. posboxless never ships a key: on first start it creates a
small local certificate authority (kept in the data directory, private key readable by the service
only) and a server certificate signed by it for localhost, 127.0.0.1, ::1, the host name and the
machine's addresses. Import the CA once into the browser (``posboxless export-ca``); the server
certificate is renewed by itself when it nears expiry or when the machine's names change, and the
browser keeps trusting it.

The CA can only vouch for this till: its X.509 Name Constraints permit ``localhost`` (and every
``*.localhost``), the machine's names and ``allowed_hosts``, loopback and private address ranges
and the machine's other addresses; path length 0; valid two years. Whoever copies ``ca.key`` still
cannot mint a certificate a browser would accept for a bank's site. A CA that no longer fits (an
older unconstrained one, one near expiry, one that does not cover a new name of the till) is
replaced; ``ca-replaced.txt`` then says why until ``export-ca`` is run, and the status page and
``export-ca`` say that browsers must import the new CA.
"""

from __future__ import annotations

import datetime
import ipaddress
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from posboxless import netinfo

if TYPE_CHECKING:
    from posboxless.config import Config

log = logging.getLogger(__name__)

CA_DAYS = 730
SERVER_DAYS = 397
"""Under the 398 days browsers accept for a server certificate."""
RENEW_BEFORE = datetime.timedelta(days=30)
REPLACED_MARKER = "ca-replaced.txt"

PERMITTED_CIDRS = (
    "127.0.0.0/8",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "169.254.0.0/16",
    "::1/128",
    "fc00::/7",
    "fe80::/10",
)
"""Address ranges the CA may vouch for besides the machine's own public addresses: loopback and
private ones, so that a new DHCP lease does not need a new CA."""


@dataclass(frozen=True)
class TlsFiles:
    cert: Path
    key: Path
    ca: Path | None
    """The local CA certificate, when posboxless made the server certificate."""


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _write_public(path: Path, data: bytes) -> None:
    # Public, but in the data directory, where every file is the service's alone.
    _write_private(path, data)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _permitted(names: list[str], addresses: list[str]) -> list[x509.GeneralName]:
    subtrees: list[x509.GeneralName] = []
    # "localhost" also permits every *.localhost (a constraint covers the name's subdomains).
    for name in ["localhost", *names]:
        name = name.lower().rstrip(".")
        if name == "localhost" or name.endswith(".localhost") or not name:
            name = "localhost"
        entry = x509.DNSName(name)
        if entry not in subtrees:
            subtrees.append(entry)
    networks = [ipaddress.ip_network(c) for c in PERMITTED_CIDRS]
    for address in addresses:
        ip = ipaddress.ip_address(address)
        if not any(ip.version == n.version and ip in n for n in networks):
            networks.append(ipaddress.ip_network(ip))
    subtrees += [x509.IPAddress(n) for n in networks]
    return subtrees


def not_covered(ca: x509.Certificate, wanted: list[x509.GeneralName]) -> list[str] | None:
    """The wanted names the CA's name constraints do not permit; None when the CA has none."""
    try:
        constraints = ca.extensions.get_extension_for_class(x509.NameConstraints).value
    except x509.ExtensionNotFound:
        return None
    permitted = constraints.permitted_subtrees or []
    dns = [p.value.lower() for p in permitted if isinstance(p, x509.DNSName)]
    networks = [
        p.value
        for p in permitted
        if isinstance(p, x509.IPAddress)
        and isinstance(p.value, (ipaddress.IPv4Network, ipaddress.IPv6Network))
    ]
    missing = []
    for name in wanted:
        if isinstance(name, x509.DNSName):
            value = name.value.lower()
            if not any(value == d or value.endswith("." + d) for d in dns):
                missing.append(value)
        elif isinstance(name, x509.IPAddress):
            ip = name.value
            if isinstance(ip, (ipaddress.IPv4Network, ipaddress.IPv6Network)) or not any(
                ip.version == n.version and ip in n for n in networks
            ):
                missing.append(str(ip))
    return missing


def _load_ca(
    tls_dir: Path, wanted: list[x509.GeneralName]
) -> tuple[tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None, str]:
    """The CA if it can sign for ``wanted``; else None and why a new one is needed."""
    if not (tls_dir / "ca.pem").exists():
        return None, ""
    try:
        cert = x509.load_pem_x509_certificate((tls_dir / "ca.pem").read_bytes())
        key = serialization.load_pem_private_key((tls_dir / "ca.key").read_bytes(), None)
    except (OSError, ValueError):
        return None, "the previous one could not be read"
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        return None, "the previous one could not be read"
    if cert.not_valid_after_utc - _now() < RENEW_BEFORE:
        return None, f"the previous one expires on {cert.not_valid_after_utc:%Y-%m-%d}"
    missing = not_covered(cert, wanted)
    if missing is None:
        return None, (
            "the previous one had no name constraints: it could have vouched for any site"
        )
    if missing:
        return None, f"the previous one does not cover {', '.join(missing)}"
    return (cert, key), ""


def _make_ca(
    tls_dir: Path, common_name: str, permitted: list[x509.GeneralName]
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "posboxless"),
            # Dated: a browser's list of authorities then tells a replaced CA from the current.
            x509.NameAttribute(NameOID.COMMON_NAME, f"{common_name} {now:%Y-%m-%d}"),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.NameConstraints(permitted_subtrees=permitted, excluded_subtrees=None),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(tls_dir / "ca.key", _key_pem(key))
    _write_public(tls_dir / "ca.pem", cert.public_bytes(serialization.Encoding.PEM))
    log.info("created a local certificate authority in %s", tls_dir)
    return cert, key


def replaced_notice(data_dir: Path) -> str | None:
    """Why the CA was replaced, while browsers may still hold the old one (until export-ca)."""
    try:
        reason = (data_dir / "tls" / REPLACED_MARKER).read_text("utf-8").strip()
    except OSError:
        return None
    return (
        f"The local certificate authority was replaced ({reason}): import the new one into "
        "every browser that used the old one (posboxless export-ca), or HTTPS calls to the "
        "proxy fail."
    )


def clear_replaced_notice(data_dir: Path) -> None:
    (data_dir / "tls" / REPLACED_MARKER).unlink(missing_ok=True)


def _wanted_names(names: list[str], addresses: list[str]) -> list[x509.GeneralName]:
    general: list[x509.GeneralName] = []
    for name in ["localhost", *names]:
        entry = x509.DNSName(name)
        if entry not in general:
            general.append(entry)
    for address in addresses:
        ip = x509.IPAddress(ipaddress.ip_address(address))
        if ip not in general:
            general.append(ip)
    return general


def _server_is_good(tls_dir: Path, ca: x509.Certificate, wanted: list[x509.GeneralName]) -> bool:
    try:
        cert = x509.load_pem_x509_certificate((tls_dir / "server.pem").read_bytes())
        serialization.load_pem_private_key((tls_dir / "server.key").read_bytes(), None)
    except (OSError, ValueError):
        return False
    if cert.issuer != ca.subject or cert.not_valid_after_utc - _now() < RENEW_BEFORE:
        return False
    try:
        cert.verify_directly_issued_by(ca)
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, TypeError, x509.ExtensionNotFound, Exception):
        return False
    return all(name in san for name in wanted)


def ensure_certificates(data_dir: Path, names: list[str], addresses: list[str]) -> TlsFiles:
    """Create or renew the local CA and server certificate under ``<data_dir>/tls``."""
    tls_dir = data_dir / "tls"
    tls_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(tls_dir, 0o700)
    wanted = _wanted_names(names, addresses)
    ca_pair, reason = _load_ca(tls_dir, wanted)
    if ca_pair is None:
        ca_pair = _make_ca(
            tls_dir,
            f"posboxless local CA ({names[0] if names else 'localhost'})",
            _permitted(names, addresses),
        )
        if reason:
            _write_private(
                tls_dir / REPLACED_MARKER, f"{reason}; new CA made {_now():%Y-%m-%d}".encode()
            )
            log.warning(
                "replaced the local certificate authority: %s. Browsers must import the new "
                "one: posboxless export-ca",
                reason,
            )
    ca_cert, ca_key = ca_pair
    if not _server_is_good(tls_dir, ca_cert, wanted):
        key = ec.generate_private_key(ec.SECP256R1())
        now = _now()
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(
                min(now + datetime.timedelta(days=SERVER_DAYS), ca_cert.not_valid_after_utc)
            )
            .add_extension(x509.SubjectAlternativeName(wanted), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())
        )
        _write_private(tls_dir / "server.key", _key_pem(key))
        _write_public(tls_dir / "server.pem", cert.public_bytes(serialization.Encoding.PEM))
        log.info("issued a server certificate for %s", ", ".join(str(n.value) for n in wanted))
    return TlsFiles(cert=tls_dir / "server.pem", key=tls_dir / "server.key", ca=tls_dir / "ca.pem")


def ensure_for_config(config: Config) -> TlsFiles:
    """The generated certificates for this configuration. ``serve`` and ``export-ca`` both come
    here, so neither reissues the server certificate with fewer names than the other."""
    names = [*netinfo.host_names(), *config.server.allowed_hosts]
    # Named printers are reached as <name>.localhost (see printer/selection.py).
    names += [f"{printer.name}.localhost" for printer in config.printers]
    return ensure_certificates(config.server.data_dir, names, netinfo.machine_addresses())


def fingerprint(cert_path: Path) -> str:
    """SHA-256 fingerprint as browsers show it (``AB:CD:...``)."""
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    return ":".join(f"{b:02X}" for b in cert.fingerprint(hashes.SHA256()))
