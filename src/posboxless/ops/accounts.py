"""The service's system user and its device groups.

On the live system the distribution's tools (``useradd``, ``usermod``, ``userdel``) do the work:
they take the database locks and keep nscd/sssd caches right. Below an alternate root
(``--root``, used by image builders and the tests) the files ``etc/passwd``, ``group``,
``shadow`` and ``gshadow`` are edited directly, since those tools would chroot into a tree that
may hold no binaries. Both paths decide *what* to change from the same reading of the files, so
running either twice changes nothing the second time.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from posboxless.ops.layout import Layout

Runner = Callable[[Sequence[str]], None]
"""Runs a command, raising ``subprocess.CalledProcessError`` on failure."""

SYSTEM_ID_MAX = 999
SYSTEM_ID_MIN = 100
HOME = "/var/lib/posboxless"
SHELL = "/usr/sbin/nologin"
GECOS = "posboxless hardware proxy"


def run_command(command: Sequence[str]) -> None:
    subprocess.run(list(command), check=True, capture_output=True, text=True, timeout=60)


@dataclass(frozen=True)
class User:
    name: str
    uid: int
    gid: int
    home: str


@dataclass(frozen=True)
class Group:
    name: str
    gid: int
    members: tuple[str, ...]


def _rows(path: Path) -> list[list[str]]:
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return []
    return [line.split(":") for line in text.splitlines() if line and not line.startswith("#")]


class UserDatabase:
    """A read-only snapshot of ``etc/passwd`` and ``etc/group`` below a root."""

    def __init__(self, layout: Layout) -> None:
        self.users: dict[str, User] = {}
        for row in _rows(layout.passwd):
            if len(row) >= 6 and row[2].isdigit() and row[3].isdigit():
                self.users.setdefault(row[0], User(row[0], int(row[2]), int(row[3]), row[5]))
        self.groups: dict[str, Group] = {}
        for row in _rows(layout.group):
            if len(row) >= 4 and row[2].isdigit():
                members = tuple(m for m in row[3].split(",") if m)
                self.groups.setdefault(row[0], Group(row[0], int(row[2]), members))

    def user(self, name: str) -> User | None:
        return self.users.get(name)

    def group_names_of(self, name: str) -> set[str]:
        """Primary and supplementary groups of a user."""
        user = self.users.get(name)
        names = {g.name for g in self.groups.values() if name in g.members}
        if user is not None:
            names |= {g.name for g in self.groups.values() if g.gid == user.gid}
        return names

    def gids_of(self, name: str) -> set[int]:
        user = self.users.get(name)
        gids = {g.gid for g in self.groups.values() if name in g.members}
        if user is not None:
            gids.add(user.gid)
        return gids

    def free_system_id(self, taken: set[int]) -> int:
        # Downwards from 999, as useradd allocates system ids.
        for candidate in range(SYSTEM_ID_MAX, SYSTEM_ID_MIN - 1, -1):
            if candidate not in taken:
                return candidate
        raise RuntimeError("no free system user or group id between 100 and 999")


def _rewrite(path: Path, transform: Callable[[list[str]], list[str]]) -> None:
    """Replace a colon file atomically, keeping its mode and owner."""
    lines = path.read_text("utf-8").splitlines()
    new = transform(lines)
    if new == lines:
        return
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write("\n".join(new) + "\n")
        shutil.copystat(path, tmp)
        st = path.stat()
        if os.geteuid() == 0:
            os.chown(tmp, st.st_uid, st.st_gid)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _append(path: Path, line: str, *, create: bool = False) -> None:
    """Add a line; shadow files are only ever extended when the system has them."""
    if not path.exists():
        if not create:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("", "utf-8")
        path.chmod(0o644)
    _rewrite(path, lambda lines: [*lines, line])


def _with_member(line: str, member: str, field: int) -> str:
    parts = line.split(":")
    members = [m for m in parts[field].split(",") if m]
    if member not in members:
        members.append(member)
    parts[field] = ",".join(members)
    return ":".join(parts)


def _without_member(line: str, member: str, field: int) -> str:
    parts = line.split(":")
    if len(parts) > field:
        parts[field] = ",".join(m for m in parts[field].split(",") if m and m != member)
    return ":".join(parts)


def _named(line: str, name: str) -> bool:
    return line.split(":", 1)[0] == name


def _adding_member(group: str, member: str) -> Callable[[list[str]], list[str]]:
    def transform(lines: list[str]) -> list[str]:
        return [_with_member(x, member, 3) if _named(x, group) else x for x in lines]

    return transform


class FileAccounts:
    """Edits the account files below an alternate root."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout

    def ensure(self, name: str, groups: Sequence[str]) -> list[str]:
        done: list[str] = []
        db = UserDatabase(self.layout)
        taken_gids = {g.gid for g in db.groups.values()}
        for group in [name, *groups]:
            if group not in db.groups:
                gid = db.free_system_id(taken_gids)
                taken_gids.add(gid)
                _append(self.layout.group, f"{group}:x:{gid}:", create=True)
                _append(self.layout.gshadow, f"{group}:!::")
                done.append(f"created group {group} ({gid})")
        db = UserDatabase(self.layout)
        if db.user(name) is None:
            taken_uids = {u.uid for u in db.users.values()}
            gid = db.groups[name].gid
            uid = gid if gid not in taken_uids else db.free_system_id(taken_uids)
            _append(self.layout.passwd, f"{name}:x:{uid}:{gid}:{GECOS}:{HOME}:{SHELL}", create=True)
            days = int(time.time() // 86400)
            _append(self.layout.shadow, f"{name}:!:{days}::::::")
            done.append(f"created system user {name} ({uid})")
        for group in groups:
            if name in db.groups[group].members:
                continue
            for path in (self.layout.group, self.layout.gshadow):
                if path.exists():
                    _rewrite(path, _adding_member(group, name))
            done.append(f"added {name} to group {group}")
        return done

    def remove(self, name: str) -> list[str]:
        db = UserDatabase(self.layout)
        if db.user(name) is None and name not in db.groups:
            return []
        for path in (self.layout.passwd, self.layout.shadow):
            if path.exists():
                _rewrite(path, lambda lines: [x for x in lines if not _named(x, name)])
        for path in (self.layout.group, self.layout.gshadow):
            if path.exists():
                _rewrite(
                    path,
                    lambda lines: [
                        _without_member(x, name, 3) for x in lines if not _named(x, name)
                    ],
                )
        return [f"removed user and group {name}"]


class ToolAccounts:
    """Uses useradd/usermod/userdel on the live system."""

    def __init__(self, layout: Layout, run: Runner = run_command) -> None:
        self.layout = layout
        self.run = run

    def ensure(self, name: str, groups: Sequence[str]) -> list[str]:
        done: list[str] = []
        db = UserDatabase(self.layout)
        for group in groups:
            if group not in db.groups:
                self.run(["groupadd", "--system", group])
                done.append(f"created group {group}")
        if db.user(name) is None:
            self.run(
                [
                    "useradd",
                    "--system",
                    "--user-group",
                    "--home-dir",
                    HOME,
                    "--no-create-home",
                    "--shell",
                    SHELL,
                    "--comment",
                    GECOS,
                    name,
                ]
            )
            done.append(f"created system user {name}")
        missing = [g for g in groups if g not in db.group_names_of(name)]
        if missing:
            self.run(["usermod", "--append", "--groups", ",".join(missing), name])
            done.append(f"added {name} to group(s) {', '.join(missing)}")
        return done

    def remove(self, name: str) -> list[str]:
        if UserDatabase(self.layout).user(name) is None:
            return []
        self.run(["userdel", name])
        return [f"removed user {name}"]


def accounts_for(layout: Layout, run: Runner = run_command) -> FileAccounts | ToolAccounts:
    if layout.is_live_system and shutil.which("useradd"):
        return ToolAccounts(layout, run)
    return FileAccounts(layout)
