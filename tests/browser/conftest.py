"""The browser tests: Debian's Chromium, driven by Playwright, on the course's Jupyter servers.

Playwright's own browser download is neither needed nor used: Playwright starts the Chromium
that the system's package manager installed (`make test` installs it as root on Debian and
Ubuntu). Where there is none, or no Playwright, every browser test is skipped and the reason is
printed in the run's summary (and at its top when tests/browser is run alone), never silently.

Each test leaves screenshots of its steps in build/browser/ for a person to look at.
"""

import importlib.util
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Debian's package (another system's Chromium can be named by NNCOURSE_CHROMIUM)
CHROMIUM = Path(os.environ.get("NNCOURSE_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = ROOT / "build" / "browser"
# As root, Chromium runs only without its own sandbox; the rest keeps it off a network this
# machine does not have (Google's services, updates, sync) and away from the GPU it lacks.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]


def why_skipped():
    """The reason the browser tests cannot run here, or None."""
    if importlib.util.find_spec("playwright") is None:
        return "Playwright is not installed (pip install -r requirements.txt installs it)"
    if not CHROMIUM.exists():
        return (f"no Chromium at {CHROMIUM} (Debian/Ubuntu: apt-get install chromium, which "
                "`make test` does when run as root; elsewhere set NNCOURSE_CHROMIUM to a "
                "Chromium)")
    return None


def pytest_report_header(config):
    reason = why_skipped()
    return f"browser tests: skipped: {reason}" if reason else f"browser tests: {CHROMIUM}"


def pytest_collection_modifyitems(config, items):
    reason = why_skipped()
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)
            if reason:
                item.add_marker(pytest.mark.skip(reason=f"browser tests: {reason}"))


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, request):
    """A fresh browser tab; `page.shot(step)` saves build/browser/<test>-<step>.png."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    tab = context.new_page()
    name = re.sub(r"[^\w.-]+", "-", request.node.name.removeprefix("test_")).strip("-")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab.shot = lambda step: tab.screenshot(path=SCREENSHOTS / f"{name}-{step}.png")
    yield tab
    context.close()
