"""Headless Chromium for the browser tests (the wallboard's, the day report's): where it is, and how it starts."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    # Headless Chromium still builds a window's omnibox popups (WebUI pages, a renderer each) per browser
    # context: ~0.9 s of CPU a test page, for UI nobody sees.
    "--disable-features=WebUIOmniboxPopup,WebUIOmniboxAimPopup,WebUIOmniboxFullPopup",
]


def chromium(needed_by: str) -> str:
    """The Chromium binary ($CHROMIUM, or Debian's); the test fails naming how to install it."""
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).is_file():
            return candidate
    pytest.fail(
        f"Chromium is not installed: {needed_by} needs it (Debian/Ubuntu: `apt-get install -y chromium`; .ci/run "
        "installs it). Set CHROMIUM=/path/to/chromium to use another.",
        pytrace=False,
    )
