"""Checks the HTTPS certificate a browser will see: readable, in date, naming this till, and
matching its key."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from posboxless.ops.results import CheckResult, fail, ok, warn

NAME = "certificate"
RENEW_WITHIN = timedelta(days=30)


@dataclass(frozen=True)
class CertificateFiles:
    cert: Path
    key: Path
    ca: Path | None
    """The local CA when posboxless generated the certificate, else None."""

    @property
    def generated(self) -> bool:
        return self.ca is not None


def _names(cert: x509.Certificate) -> set[str]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set()
    names = {n.lower() for n in san.get_values_for_type(x509.DNSName)}
    names |= {str(ip) for ip in san.get_values_for_type(x509.IPAddress)}
    return names


def _is_named(name: str, names: set[str]) -> bool:
    try:
        return str(ipaddress.ip_address(name)) in names
    except ValueError:
        pass
    name = name.lower().rstrip(".")
    if name in names:
        return True
    _, _, rest = name.partition(".")
    return bool(rest) and f"*.{rest}" in names


def _regenerate_hint(files: CertificateFiles) -> str:
    if files.generated:
        return (
            f"Delete {files.cert} and {files.key}, then `sudo systemctl restart posboxless`: "
            "a new certificate is generated (the CA, and so the browsers' trust, is kept)."
        )
    return "Obtain a new certificate and set server.tls_cert / server.tls_key to it."


def check_certificate(
    files: CertificateFiles, required_names: list[str], now: datetime
) -> list[CheckResult]:
    if not files.cert.exists():
        if files.generated:
            return [
                warn(
                    NAME,
                    f"No certificate yet at {files.cert}; posboxless creates one when it starts.",
                    "Start the service (sudo systemctl start posboxless) and run doctor again.",
                )
            ]
        return [
            fail(
                NAME,
                f"The certificate file {files.cert} does not exist.",
                "Fix server.tls_cert in the configuration, or remove it to use a "
                "generated certificate.",
            )
        ]
    try:
        cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
    except PermissionError:
        return [warn(NAME, f"Cannot read {files.cert} as this user.", "Run doctor with sudo.")]
    except ValueError:
        return [fail(NAME, f"{files.cert} is not a PEM certificate.", _regenerate_hint(files))]

    results: list[CheckResult] = []
    not_before = cert.not_valid_before_utc
    not_after = cert.not_valid_after_utc
    if now < not_before:
        results.append(
            fail(
                NAME,
                f"The certificate is only valid from {not_before:%Y-%m-%d %H:%M} UTC; "
                "is this computer's clock right?",
                "Check the date (timedatectl) and time synchronisation.",
            )
        )
    elif now > not_after:
        results.append(
            fail(
                NAME,
                f"The certificate expired on {not_after:%Y-%m-%d}: browsers refuse "
                "HTTPS connections to the till.",
                _regenerate_hint(files),
            )
        )
    elif now + RENEW_WITHIN > not_after:
        results.append(
            warn(NAME, f"The certificate expires on {not_after:%Y-%m-%d}.", _regenerate_hint(files))
        )

    names = _names(cert)
    missing = [n for n in required_names if not _is_named(n, names)]
    if missing:
        results.append(
            fail(
                NAME,
                "The certificate does not name "
                + ", ".join(missing)
                + ": a browser reaching the till by that name refuses it "
                f"(it names: {', '.join(sorted(names)) or 'nothing'}).",
                _regenerate_hint(files),
            )
        )

    results.append(_check_key(files, cert))
    results.append(_check_ca(files))
    if not any(r.level != "ok" for r in results):
        trust = (
            f" Browsers trust it once {files.ca} is imported as an authority."
            if files.ca is not None
            else ""
        )
        return [
            ok(NAME, f"Valid until {not_after:%Y-%m-%d}, names {', '.join(sorted(names))}.{trust}")
        ]
    return [r for r in results if r.level != "ok"]


def _check_ca(files: CertificateFiles) -> CheckResult:
    """The generated CA must be name-constrained (older versions made it without)."""
    if files.ca is None:
        return ok(NAME, "own certificate")
    try:
        ca = x509.load_pem_x509_certificate(files.ca.read_bytes())
    except (OSError, ValueError):
        return ok(NAME, "no readable CA (serve makes one)")
    try:
        is_ca = ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    if not is_ca:
        return ok(NAME, "not a CA posboxless made")
    try:
        ca.extensions.get_extension_for_class(x509.NameConstraints)
    except x509.ExtensionNotFound:
        return warn(
            NAME,
            f"The local CA {files.ca} has no name constraints (made by an older posboxless): "
            "whoever copies its key could make certificates a browser trusting it accepts for "
            "any site.",
            "Restart the service (sudo systemctl restart posboxless): a name-constrained CA "
            "replaces it; then import the new one into the browsers (posboxless export-ca).",
        )
    replaced = files.ca.parent / "ca-replaced.txt"
    if replaced.exists():
        return warn(
            NAME,
            f"The local CA was replaced ({replaced.read_text('utf-8', 'replace').strip()}).",
            "Import the new one into every browser that used the old one: posboxless export-ca.",
        )
    return ok(NAME, "CA name-constrained")


def _check_key(files: CertificateFiles, cert: x509.Certificate) -> CheckResult:
    try:
        key = serialization.load_pem_private_key(files.key.read_bytes(), password=None)
    except FileNotFoundError:
        return fail(NAME, f"The key {files.key} is missing.", _regenerate_hint(files))
    except PermissionError:
        return warn(NAME, f"Cannot read {files.key} as this user.", "Run doctor with sudo.")
    except (ValueError, TypeError):
        return fail(
            NAME, f"{files.key} is not an unencrypted PEM private key.", _regenerate_hint(files)
        )
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    if key.public_key().public_bytes(der, public) != cert.public_key().public_bytes(der, public):
        return fail(NAME, f"{files.key} does not belong to {files.cert}.", _regenerate_hint(files))
    return ok(NAME, "key matches")
