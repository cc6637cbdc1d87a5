from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def fake_root(tmp_path: Path) -> Path:
    """A tiny Debian-like root: the stock account files with the device groups."""
    root = tmp_path / "root"
    etc = root / "etc"
    etc.mkdir(parents=True)
    (etc / "passwd").write_text(
        "root:x:0:0:root:/root:/bin/bash\nlp:x:7:7:lp:/var/spool/lpd:/usr/sbin/nologin\n"
    )
    (etc / "group").write_text("root:x:0:\nlp:x:7:\ndialout:x:20:\ninput:x:101:\n")
    (etc / "shadow").write_text("root:*:19000:0:99999:7:::\n")
    (etc / "gshadow").write_text("root:*::\nlp:*::\ndialout:*::\ninput:!::\n")
    (etc / "shadow").chmod(0o640)
    return root
