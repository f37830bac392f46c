"""Headless Chromium for the HTML report: its rendered DOM and a screenshot, fully offline.

Debian's ``chromium`` (``make test`` installs it). The flags keep it off the network: with
background networking on it keeps dialling Google's hosts, which a closed network refuses.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


class BrowserError(RuntimeError):
    """Chromium is missing or failed to render the page."""


def chromium() -> str:
    """The Chromium executable; a clear error names the package otherwise."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise BrowserError("no Chromium found: install Debian's package `chromium` (make test does)")


def _run(page: Path, *args: str, timeout: float = 120) -> str:
    with tempfile.TemporaryDirectory(prefix="trustir-chromium-") as profile:
        cmd = [chromium(), *FLAGS, f"--user-data-dir={profile}", *args, page.resolve().as_uri()]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)  # noqa: S603  the browser binary found by shutil.which, fixed flags
    if proc.returncode != 0:
        raise BrowserError(f"chromium exited {proc.returncode} on {page}: {proc.stderr[-2000:]}")
    return proc.stdout


def dump_dom(page: str | Path) -> str:
    """The DOM of ``page`` after Chromium rendered it (serialised HTML)."""
    return _run(Path(page), "--dump-dom")


def screenshot(
    page: str | Path, out_png: str | Path, width: int = 1280, height: int = 2400
) -> Path:
    """A PNG screenshot of ``page`` at ``width`` x ``height`` pixels."""
    out_png = Path(out_png).resolve()
    out_png.parent.mkdir(parents=True, exist_ok=True)
    _run(Path(page), f"--screenshot={out_png}", f"--window-size={width},{height}")
    if not out_png.exists():
        raise BrowserError(f"chromium wrote no screenshot of {page}")
    return out_png
