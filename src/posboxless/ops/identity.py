"""Who the service runs as, and whether that identity may open a device node."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass

from posboxless.ops.accounts import UserDatabase


@dataclass(frozen=True)
class Identity:
    name: str
    uid: int
    gids: frozenset[int]
    is_service_user: bool

    @classmethod
    def current(cls) -> Identity:
        gids = frozenset({os.getegid(), *os.getgroups()})
        try:
            import pwd

            name = pwd.getpwuid(os.geteuid()).pw_name
        except (ImportError, KeyError):
            name = str(os.geteuid())
        return cls(name, os.geteuid(), gids, False)

    @classmethod
    def of_user(cls, db: UserDatabase, name: str) -> Identity | None:
        user = db.user(name)
        if user is None:
            return None
        return cls(name, user.uid, frozenset(db.gids_of(name)), True)


def may_access(st: os.stat_result, who: Identity, read: bool = True, write: bool = True) -> bool:
    """Unix permission bits as the kernel applies them (ACLs aside)."""
    if who.uid == 0:
        return True
    mode = stat.S_IMODE(st.st_mode)
    if st.st_uid == who.uid:
        bits = (mode >> 6) & 7
    elif st.st_gid in who.gids:
        bits = (mode >> 3) & 7
    else:
        bits = mode & 7
    return (not read or bool(bits & 4)) and (not write or bool(bits & 2))
