"""The distribution's Chromium, as the tests launch it: headless, offline, and (for the tests
of the browser policies) with a managed policy of its own."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

# Flags for a closed network: no background calls home, no sandbox as root in CI.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def mount_namespaces_work() -> bool:
    unshare = shutil.which("unshare")
    if unshare is None:
        return False
    probe = subprocess.run(
        [unshare, "-rm", "sh", "-c", "mount --bind /tmp /etc/chromium 2>/dev/null || exit 3"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0 and Path("/etc/chromium").is_dir()


def chromium_with_policy(tmp_path: Path, policy: dict[str, Any]) -> str:
    """A launcher that runs Chromium with ``policy`` as its only managed policy: Chromium reads
    /etc/chromium/policies/managed, replaced in a mount namespace of its own (nothing on the
    machine is changed)."""
    assert CHROMIUM is not None
    etc = tmp_path / "etc-chromium"
    (etc / "policies" / "managed").mkdir(parents=True)
    (etc / "policies" / "managed" / "posboxless.json").write_text(json.dumps(policy))
    launcher = tmp_path / "chromium"
    launcher.write_text(
        "#!/bin/sh\n"
        f"exec unshare -rm sh -c 'mount --bind {etc} /etc/chromium && exec {CHROMIUM} \"$@\"'"
        ' sh "$@"\n'
    )
    launcher.chmod(0o755)
    return str(launcher)


@contextmanager
def launched(
    *,
    policy: dict[str, Any] | None = None,
    tmp_path: Path | None = None,
    args: tuple[str, ...] = (),
) -> Iterator[Any]:
    """A headless Chromium (the test is skipped without one). With ``policy`` (and a
    ``tmp_path`` for its files), Chromium runs with it as its only managed policy; the test is
    skipped where there are no user+mount namespaces to give it."""
    if CHROMIUM is None:
        pytest.skip("the distribution's chromium is not installed (apt-get install chromium)")
    executable = CHROMIUM
    if policy is not None:
        if not mount_namespaces_work():
            pytest.skip("no user+mount namespaces here: the managed policy cannot be given")
        assert tmp_path is not None, "a policy needs a tmp_path for its files"
        executable = chromium_with_policy(tmp_path, policy)
    from playwright.sync_api import sync_playwright

    # The sync API runs its own event loop on this thread while it lives: callers keep it no
    # longer than a module, or the asyncio tests of other modules could not run.
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=executable, args=[*CHROMIUM_ARGS, *args], headless=True
        )
        try:
            yield browser
        finally:
            browser.close()
