"""The headless-Chromium check of rendered pages, shared by the report, drift-risk and drift-monitor tests."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
             f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0", "--hide-scrollbars"]
    return subprocess.run([CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=120)


def _rendered(tmp_path: Path, page: Path) -> tuple[str, list[str]]:
    """(the data-plots-rendered attribute the page's own check sets after load, console messages)."""
    proc = _chromium(tmp_path, "--virtual-time-budget=10000", "--dump-dom", page.as_uri())
    found = re.search(r'data-plots-rendered="(\d+/\d+)"', proc.stdout)
    return (found.group(1) if found else ""), [ln for ln in proc.stderr.splitlines() if ":CONSOLE" in ln]


@pytest.fixture(scope="module")  # module scope: decided before the module-scoped run is made
def chromium() -> str:
    """The browser, or a visible skip (a failure when MLENGINE_REQUIRE_BROWSER is set, as in CI)."""
    if CHROMIUM is None:
        message = "no Chromium on PATH (Debian: apt-get install chromium; .ci/run installs it)"
        if os.environ.get("MLENGINE_REQUIRE_BROWSER"):
            pytest.fail(message + " but MLENGINE_REQUIRE_BROWSER is set")
        pytest.skip(message + ": the report's browser check is skipped")
    return CHROMIUM
