"""The data directory (print queues with receipt contents, TLS keys, simulated receipts) is the
service's alone: the directory 0700, every file 0600, whatever the umask ``serve`` was started
with (systemd's ``UMask=0077`` covers only the installed service).

``make_private`` runs once when ``serve`` starts, before any device or queue opens a file: it sets
the process umask to 077, so that everything created afterwards (SQLite databases and their
WAL files, images, certificates) is private without each writer having to ask, and tightens what
an older version or another umask left readable.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

PRIVATE_UMASK = 0o077


def make_private(data_dir: Path) -> None:
    os.umask(PRIVATE_UMASK)
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    _tighten(data_dir)
    for root, dirs, files in os.walk(data_dir):
        for name in [*dirs, *files]:
            _tighten(Path(root) / name)


def _tighten(path: Path) -> None:
    try:
        mode = path.lstat().st_mode
    except OSError:
        return
    if stat.S_ISLNK(mode) or not mode & 0o077:
        return
    wanted = 0o700 if stat.S_ISDIR(mode) else stat.S_IMODE(mode) & 0o700
    # A file that is not ours (left by root) stays as it is: doctor reports ownership problems.
    with contextlib.suppress(OSError):
        os.chmod(path, wanted)
