"""``posboxless serve`` keeps its data directory private whatever the umask it is started with:
print queues hold receipt contents, tls/ holds keys."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from posboxless import datadir

from .web.test_connections import _free_port, _hello


def _modes(root: Path) -> dict[str, int]:
    return {
        str(p.relative_to(root)): stat.S_IMODE(p.lstat().st_mode)
        for p in [root, *root.rglob("*")]
        if not p.is_symlink()
    }


def test_serve_writes_nothing_readable_by_others(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "old").mkdir(parents=True)
    (data / "old" / "left-by-an-older-version.db").write_text("receipts")
    os.chmod(data / "old" / "left-by-an-older-version.db", 0o644)
    os.chmod(data, 0o755)
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "posboxless",
            "serve",
            "--http-port",
            str(port),
            "--https-port",
            str(_free_port()),
            "--data-dir",
            str(data),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "HOME": str(tmp_path)},
        preexec_fn=lambda: os.umask(0o022),
    )
    try:
        deadline = time.monotonic() + 30
        while not _hello(port, timeout=2):
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.1)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/hw_proxy/print_xml_receipt",
            data=json.dumps({"params": {"receipt": "<receipt>secret</receipt>"}}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as r:
            assert "error" not in json.loads(r.read())
        printed = data / "simulated-printer"
        while not any(printed.glob("*.txt")) if printed.exists() else True:
            assert time.monotonic() < deadline + 30 and process.poll() is None
            time.sleep(0.1)
    finally:
        process.terminate()
        process.wait(timeout=20)
    modes = _modes(data)
    assert any(name.endswith(".pem") for name in modes) and len(modes) > 5, modes
    for name, mode in modes.items():
        wanted = 0o700 if (data / name).is_dir() else 0o600
        assert mode & 0o077 == 0 and mode & wanted == wanted, (name, oct(mode))


def test_make_private_leaves_symlinks_alone(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("not ours")
    os.chmod(outside, 0o644)
    data = tmp_path / "data"
    data.mkdir()
    (data / "link").symlink_to(outside)
    previous = os.umask(0o022)
    try:
        datadir.make_private(data)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(outside.stat().st_mode) == 0o644
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
