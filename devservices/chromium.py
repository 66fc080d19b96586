"""Debian's chromium, which the dashboard's browser tests drive with Playwright (never a
browser Playwright downloads)."""

from __future__ import annotations

import shutil

from ._base import apt_install

CHROMIUM = "/usr/bin/chromium"


def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        apt_install("chromium")
        path = shutil.which("chromium")
    if path is None:
        raise RuntimeError("chromium still not on PATH after installing it")
    return path
