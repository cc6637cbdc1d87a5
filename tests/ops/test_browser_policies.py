"""``install --browser-policies`` writes valid managed policies; ``uninstall`` takes them back."""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

from cryptography import x509

from posboxless.ops import browser_policies as bp
from posboxless.ops import install as inst
from posboxless.ops.layout import Layout

POSBOXLESS = str(Path(sys.executable).parent / "posboxless")
ORIGIN = "https://shop.example.com"


def refuse_commands(command: object) -> None:
    raise AssertionError(f"no command may run for an alternate root: {command}")


def install(root: Path, **kw: object) -> inst.Outcome:
    options = inst.InstallOptions(
        root=root,
        command=[POSBOXLESS],
        browser_policies=True,
        allowed_origins=[ORIGIN],
        **kw,  # type: ignore[arg-type]
    )
    return inst.install(options, refuse_commands)


def chromium_files(root: Path) -> list[Path]:
    return [
        root / "etc/chromium/policies/managed/posboxless.json",
        root / "etc/opt/chrome/policies/managed/posboxless.json",
    ]


def test_install_writes_chromium_chrome_and_firefox_policies(fake_root: Path) -> None:
    layout = Layout(fake_root)
    install(fake_root)
    layout.config_file.write_text(
        layout.config_file.read_text().replace(
            "[server]\n", '[server]\nlna_address = "127.0.0.2"\n', 1
        )
    )
    outcome = install(fake_root)  # the policies follow the configuration file
    assert any("chromium" in change for change in outcome.changes)

    ca_pem = (layout.state_dir / "tls" / "ca.pem").read_bytes()
    ca = x509.load_pem_x509_certificate(ca_pem)
    for path in chromium_files(fake_root):
        policy = json.loads(path.read_text())
        assert oct(path.stat().st_mode & 0o777) == "0o644"
        for name in (
            "LocalNetworkAccessAllowedForUrls",
            "LocalNetworkAllowedForUrls",
            "LoopbackNetworkAllowedForUrls",
        ):
            assert policy[name] == [ORIGIN]
        assert policy["LocalNetworkAccessIpAddressSpaceOverrides"] == ["127.0.0.2:8069=local"]
        [trusted] = policy["CACertificatesWithConstraints"]
        der = base64.b64decode(trusted["certificate"])
        assert x509.load_der_x509_certificate(der) == ca
        assert "localhost" in trusted["constraints"]["permitted_dns_names"]
        assert "127.0.0.0/8" in trusted["constraints"]["permitted_cidrs"]
        assert not any(c.startswith("0.0.0.0") for c in trusted["constraints"]["permitted_cidrs"])

    firefox = json.loads((fake_root / "etc/firefox/policies/policies.json").read_text())
    assert firefox["policies"]["Certificates"]["Install"] == [bp.FIREFOX_CA]
    assert (fake_root / bp.FIREFOX_CA.lstrip("/")).read_bytes() == ca_pem

    # Idempotent.
    assert install(fake_root).changes == []


def test_firefox_policies_of_the_admin_are_kept(fake_root: Path) -> None:
    firefox = fake_root / "etc/firefox/policies/policies.json"
    firefox.parent.mkdir(parents=True)
    mine = {"policies": {"DisableTelemetry": True, "Certificates": {"Install": ["/x/corp.pem"]}}}
    firefox.write_text(json.dumps(mine))
    install(fake_root)
    merged = json.loads(firefox.read_text())
    assert merged["policies"]["DisableTelemetry"] is True
    assert merged["policies"]["Certificates"]["Install"] == ["/x/corp.pem", bp.FIREFOX_CA]

    inst.uninstall(fake_root, run=refuse_commands)
    assert json.loads(firefox.read_text()) == mine
    for path in chromium_files(fake_root):
        assert not path.exists()
    assert not (fake_root / bp.FIREFOX_CA.lstrip("/")).exists()


def test_uninstall_removes_every_policy_file(fake_root: Path) -> None:
    install(fake_root)
    outcome = inst.uninstall(fake_root, run=refuse_commands)
    for path in [*chromium_files(fake_root), fake_root / "etc/firefox/policies/policies.json"]:
        assert not path.exists()
        assert any(str(path) in change for change in outcome.changes)


def test_a_broken_firefox_file_is_left_alone(fake_root: Path) -> None:
    firefox = fake_root / "etc/firefox/policies/policies.json"
    firefox.parent.mkdir(parents=True)
    firefox.write_text("{not json")
    outcome = install(fake_root)
    assert firefox.read_text() == "{not json"
    assert any("not valid JSON" in note for note in outcome.notes)
    inst.uninstall(fake_root, run=refuse_commands)
    assert firefox.read_text() == "{not json"


def test_without_the_option_nothing_is_written(fake_root: Path) -> None:
    inst.install(inst.InstallOptions(root=fake_root, command=[POSBOXLESS]), refuse_commands)
    for path in chromium_files(fake_root):
        assert not path.exists()
    assert not (fake_root / "etc/firefox").exists()


def test_cli_flag(fake_root: Path) -> None:
    import argparse

    parser = argparse.ArgumentParser()
    inst.add_install_arguments(parser)
    args = parser.parse_args(["--root", str(fake_root), "--browser-policies"])
    assert inst.run_install(args, refuse_commands) == 0
    policy = json.loads(chromium_files(fake_root)[0].read_text())
    assert "CACertificatesWithConstraints" in policy
    assert "LocalNetworkAccessAllowedForUrls" not in policy  # no origin configured


def test_policy_shapes() -> None:
    assert bp.lna_override("::1", 8069) == "[::1]:8069=local"
    assert bp.firefox_removed(bp.firefox_merged(None)) is None
    assert bp.chromium_policy([]) == {}


def test_public_addresses_of_the_certificate_are_permitted_exactly(tmp_path: Path) -> None:
    from posboxless import tls

    files = tls.ensure_certificates(tmp_path, ["till"], ["127.0.0.1", "192.168.1.5", "2001:db8::5"])
    assert bp.extra_cidrs(files.cert.read_bytes()) == ["2001:db8::5/128"]
    policy = bp.chromium_policy([], None, files.ca.read_bytes() if files.ca else None, ["till"])
    cidrs = policy["CACertificatesWithConstraints"][0]["constraints"]["permitted_cidrs"]
    assert "192.168.0.0/16" in cidrs and "2001:db8::5/128" not in cidrs


def test_an_own_certificate_gets_no_ca_policy(fake_root: Path) -> None:
    install(fake_root)
    layout = Layout(fake_root)
    text = layout.config_file.read_text().replace(
        "[server]\n", '[server]\ntls_cert = "/etc/c.pem"\ntls_key = "/etc/c.key"\n', 1
    )
    layout.config_file.write_text(text)
    for path in [*chromium_files(fake_root), fake_root / "etc/firefox/policies/policies.json"]:
        path.unlink()
    outcome = install(fake_root)
    policy = json.loads(chromium_files(fake_root)[0].read_text())
    assert "CACertificatesWithConstraints" not in policy
    assert policy["LocalNetworkAccessAllowedForUrls"] == [ORIGIN]
    assert not (fake_root / "etc/firefox/policies/policies.json").exists()
    assert any("tls_cert" in note for note in outcome.notes)
