"""Debian's prometheus package in the tests: found, or skipped outside CI (run-tests installs
it; in CI a missing binary is a failure, never a skip)."""

from __future__ import annotations

import os
import shutil

import pytest


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{tool} is missing in CI: run-tests installs Debian's prometheus package")
        pytest.skip(f"{tool} is not installed (Debian package prometheus; run-tests installs it)")
    return path
