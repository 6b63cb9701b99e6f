"""Dropping root after the capture socket is open (``--user``): the rest runs with that user's rights."""

from __future__ import annotations

import os
import pwd

from sctpscope.capture.live import LiveCaptureError


def lookup_user(name: str) -> tuple[int, int, str]:
    """(uid, gid, name) of a user name or numeric uid; LiveCaptureError when there is none."""
    try:
        pw = pwd.getpwuid(int(name)) if name.isdigit() else pwd.getpwnam(name)
    except (KeyError, ValueError):
        raise LiveCaptureError(f"--user {name}: no such user") from None
    return pw.pw_uid, pw.pw_gid, pw.pw_name


def drop_privileges(name: str) -> tuple[int, int]:
    """Become `name` for good (supplementary groups, gid, uid; saved ids too). Needs root."""
    uid, gid, user = lookup_user(name)
    if os.geteuid() != 0:
        if os.geteuid() == uid:
            return uid, gid
        raise LiveCaptureError(f"--user {name}: only root can change user")
    try:
        os.initgroups(user, gid)
    except OSError:
        os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.getuid() != uid or os.geteuid() != uid or uid != 0 and _can_regain_root():
        raise LiveCaptureError(f"--user {name}: could not drop privileges")
    return uid, gid


def _can_regain_root() -> bool:
    try:
        os.setuid(0)
    except PermissionError:
        return False
    return True
