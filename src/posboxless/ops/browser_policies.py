"""Managed browser policies written by ``posboxless install --browser-policies``.

A till's browser otherwise needs two manual steps per machine: importing the local CA (for a POS
served over https) and answering Chrome's Local Network Access prompt (Odoo 19 with
``point_of_sale.use_lna``). Policy names and the Chrome versions that read them, as documented by
Chrome Enterprise and mirrored by Microsoft Edge's and Samsung Internet's policy lists:

* ``LocalNetworkAccessAllowedForUrls`` (139+): origins exempt from LNA checks (local and loopback);
* ``LocalNetworkAllowedForUrls`` and ``LoopbackNetworkAllowedForUrls`` (146+): the same, split by
  target, which take precedence over the former when both are set;
* ``LocalNetworkAccessIpAddressSpaceOverrides`` (146+, read at browser start):
  ``"<ip>:<port>=local"`` makes the LNA listener (``server.lna_address``) a *local* address,
  which is what the 19.0 release's ``hello`` probe asks for;
* ``CACertificatesWithConstraints`` (132+): the local CA, trusted only for the names and address
  ranges given (base64 DER certificate).

Firefox has no name-constrained variant: ``Certificates.Install`` in
``/etc/firefox/policies/policies.json`` (merged with the file's other policies) installs the CA.
Unknown policies are ignored by older browsers, so one file serves every version.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from posboxless import netinfo, tls
from posboxless.config import Config, default_data_dir
from posboxless.ops.layout import Layout
from posboxless.tls import TlsFiles

WriteFile = Callable[[Path, str, int], bool]
"""Writes a file unless it already holds the text; says whether it wrote."""

CHROMIUM_POLICY_DIRS = ("/etc/chromium/policies/managed", "/etc/opt/chrome/policies/managed")
POLICY_FILE_NAME = "posboxless.json"
FIREFOX_POLICIES = "/etc/firefox/policies/policies.json"
FIREFOX_CA = "/usr/lib/mozilla/certificates/posboxless-ca.pem"

LNA_ALLOW_POLICIES = (
    "LocalNetworkAccessAllowedForUrls",
    "LocalNetworkAllowedForUrls",
    "LoopbackNetworkAllowedForUrls",
)
OVERRIDES_POLICY = "LocalNetworkAccessIpAddressSpaceOverrides"
CA_POLICY = "CACertificatesWithConstraints"

# Where a till's own certificate may point: the ranges the CA itself is constrained to (loopback
# and private ones), so the browser's limit and the CA's never disagree.
PERMITTED_CIDRS = tls.PERMITTED_CIDRS


def lna_override(address: str, port: int) -> str:
    shown = f"[{address}]" if ":" in address else address
    return f"{shown}:{port}=local"


def ca_base64(ca_pem: bytes) -> str:
    cert = x509.load_pem_x509_certificate(ca_pem)
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode("ascii")


def extra_cidrs(cert_pem: bytes) -> list[str]:
    """The certificate's IP addresses outside ``PERMITTED_CIDRS`` (a till's public IPv6
    address, say), each as a one-address range: a name constraint must cover every name of the
    certificate, or the browser rejects it whole."""
    cert = x509.load_pem_x509_certificate(cert_pem)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    ranges = [ipaddress.ip_network(c) for c in PERMITTED_CIDRS]
    extra = []
    for address in san.get_values_for_type(x509.IPAddress):
        if not any(address.version == r.version and address in r for r in ranges):
            extra.append(str(ipaddress.ip_network(address)))
    return extra


def chromium_policy(
    origins: Iterable[str],
    lna: tuple[str, int] | None = None,
    ca_pem: bytes | None = None,
    names: Iterable[str] = (),
    cidrs: Iterable[str] = (),
) -> dict[str, Any]:
    """The managed policy for Chrome and Chromium. ``names`` are the DNS names of the till's
    certificate (``localhost`` is always included), ``cidrs`` address ranges it needs besides
    the private and loopback ones."""
    policy: dict[str, Any] = {}
    allowed = list(dict.fromkeys(o.rstrip("/") for o in origins))
    if allowed:
        for name in LNA_ALLOW_POLICIES:
            policy[name] = list(allowed)
    if lna is not None:
        policy[OVERRIDES_POLICY] = [lna_override(*lna)]
    if ca_pem is not None:
        dns = list(dict.fromkeys(["localhost", *(n for n in names if n)]))
        policy[CA_POLICY] = [
            {
                "certificate": ca_base64(ca_pem),
                "constraints": {
                    "permitted_dns_names": dns,
                    "permitted_cidrs": list(dict.fromkeys([*PERMITTED_CIDRS, *cidrs])),
                },
            }
        ]
    return policy


def firefox_merged(existing: dict[str, Any] | None, ca_path: str = FIREFOX_CA) -> dict[str, Any]:
    """``existing`` policies.json with the CA added to ``Certificates.Install``."""
    document: dict[str, Any] = dict(existing or {})
    policies = dict(document.get("policies") or {})
    certificates = dict(policies.get("Certificates") or {})
    install = [p for p in certificates.get("Install") or [] if p != ca_path]
    certificates["Install"] = [*install, ca_path]
    policies["Certificates"] = certificates
    document["policies"] = policies
    return document


def firefox_removed(existing: dict[str, Any], ca_path: str = FIREFOX_CA) -> dict[str, Any] | None:
    """``existing`` without the CA; None when nothing else is left (the file can go)."""
    document = dict(existing)
    policies = dict(document.get("policies") or {})
    certificates = dict(policies.get("Certificates") or {})
    install = [p for p in certificates.get("Install") or [] if p != ca_path]
    if install:
        certificates["Install"] = install
    else:
        certificates.pop("Install", None)
    if certificates:
        policies["Certificates"] = certificates
    else:
        policies.pop("Certificates", None)
    if policies:
        document["policies"] = policies
    else:
        document.pop("policies", None)
    return document or None


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON object from ``path``; None when absent. Invalid JSON raises ``ValueError`` so a
    hand-written file is never silently replaced."""
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return None
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"{path} does not hold a JSON object")
    return data


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


# Installing ------------------------------------------------------------------------------------


def chromium_policy_files(layout: Layout) -> list[Path]:
    return [layout.at(directory) / POLICY_FILE_NAME for directory in CHROMIUM_POLICY_DIRS]


def _service_tls(layout: Layout, config: Config, owner: tuple[int, int] | None) -> TlsFiles:
    """The service's CA (made now when the service has not made it yet), in the directory the
    service uses, owned by the service user."""
    server = config.server
    default = server.data_dir == default_data_dir()
    data_dir = layout.state_dir if default else layout.at(str(server.data_dir))
    names = [*netinfo.host_names(), *server.allowed_hosts]
    names += [f"{printer.name}.localhost" for printer in config.printers]
    files = tls.ensure_certificates(data_dir, names, netinfo.machine_addresses())
    if owner is not None and os.geteuid() == 0:
        for path in (data_dir, data_dir / "tls", *sorted((data_dir / "tls").iterdir())):
            os.chown(path, *owner)
    return files


def install_policies(
    layout: Layout, config: Config, owner: tuple[int, int] | None, write: WriteFile
) -> tuple[list[str], list[str]]:
    """Write the Chromium/Chrome and Firefox policies; returns (changes, notes)."""
    changes: list[str] = []
    notes: list[str] = []
    server = config.server
    lna = (server.lna_address, server.http_port) if server.lna_address else None
    if server.tls_cert:
        # A certificate of the shop's own: its authority is the shop's business.
        ca_pem = None
        policy = chromium_policy(server.allowed_origins, lna)
        notes.append("tls_cert is set: the browsers are not told to trust any posboxless CA.")
    else:
        files = _service_tls(layout, config, owner)
        assert files.ca is not None
        ca_pem = files.ca.read_bytes()
        names = [*netinfo.host_names(), *server.allowed_hosts]
        cidrs = extra_cidrs(files.cert.read_bytes())
        policy = chromium_policy(server.allowed_origins, lna, ca_pem, names, cidrs)
        if cidrs:
            notes.append(
                f"The certificate names public addresses ({', '.join(cidrs)}): re-run "
                "install --browser-policies when they change."
            )
    if not server.allowed_origins:
        notes.append(
            "No server.allowed_origins: the browser policies trust the CA but cannot exempt "
            "Odoo from Chrome's Local Network Access prompt. Set them and re-run."
        )
    for path in chromium_policy_files(layout):
        if write(path, dumps(policy), 0o644):
            changes.append(f"wrote {path}")

    if ca_pem is not None:
        if write(layout.at(FIREFOX_CA), ca_pem.decode("ascii"), 0o644):
            changes.append(f"wrote {layout.at(FIREFOX_CA)}")
        firefox = layout.at(FIREFOX_POLICIES)
        try:
            existing = read_json(firefox)
        except ValueError as exc:
            notes.append(f"{firefox} was left alone: it is not valid JSON ({exc}).")
        else:
            if write(firefox, dumps(firefox_merged(existing)), 0o644):
                changes.append(f"wrote {firefox}")
    notes.append("Restart the browsers so that they read the new policies.")
    return changes, notes


def remove_policies(layout: Layout) -> list[str]:
    changes: list[str] = []
    for path in [*chromium_policy_files(layout), layout.at(FIREFOX_CA)]:
        if path.exists():
            path.unlink()
            changes.append(f"removed {path}")
    firefox = layout.at(FIREFOX_POLICIES)
    try:
        existing = read_json(firefox)
    except ValueError:
        return changes
    if existing is None or FIREFOX_CA not in json.dumps(existing):
        return changes
    remaining = firefox_removed(existing)
    if remaining is None:
        firefox.unlink()
        changes.append(f"removed {firefox}")
    else:
        firefox.write_text(dumps(remaining), "utf-8")
        changes.append(f"removed the posboxless CA from {firefox}")
    return changes
