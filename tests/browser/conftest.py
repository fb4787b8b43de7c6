"""A real embedded academy and Debian's Chromium driven by Playwright; skipped where Chromium is missing, except
under CI=true, where that fails the run."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.system.mailbox import Mailbox
from tests.system.processes import REPO, EmbeddedProcess
from tests.system.slice import Academy

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Written by every run, so the README can point at pictures of the pages as they are now.
SCREENSHOTS = Path(os.environ.get("ACADEMY_SCREENSHOTS", REPO / "var" / "screenshots"))
# Without these Chromium reaches out to Google's hosts at start, which this machine's closed network refuses.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def _chromium_missing(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}, and CI=true forbids skipping the browser tests", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        _chromium_missing(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _chromium_missing("Playwright for Python is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def academy(tmp_path_factory):
    """`academy run` with one web process, to spare the CPU of a small machine."""
    folder = tmp_path_factory.mktemp("embedded")
    process = EmbeddedProcess(folder / "data", folder, web_workers=1)
    # Every journey registers and signs in from the same loopback address; the limits per address are tested
    # elsewhere (and the page's answer to a 429 was seen here when they were not raised).
    process.process.env.update(REGISTRATION_RATE_LIMIT="1000/hour", LOGIN_RATE_LIMIT="1000/minute")
    process.start()
    MAILBOXES[process.url] = Mailbox(folder / "data" / "mail")
    try:
        yield process
    finally:
        process.kill(signal.SIGTERM)  # stopped as an operator would, so it tidies its metrics folder away
        del MAILBOXES[process.url]


# The mails each running academy wrote (no SMTP server), by its address: where a journey opens its links.
MAILBOXES: dict[str, Mailbox] = {}


def mailbox_of(page) -> Mailbox:
    origin = urlsplit(page.url)
    return MAILBOXES[f"{origin.scheme}://{origin.netloc}"]


@pytest.fixture
def api(academy) -> Academy:
    """A client of the same public API, for the data a journey starts from (a provider's published offer)."""
    return Academy(academy.url, academy.keys_dir)


@pytest.fixture
def page(browser, academy, request):
    """A fresh browser context (no tokens kept) in English; console errors fail the test."""
    locale = getattr(request, "param", "en-GB")
    context = browser.new_context(base_url=academy.url, locale=locale, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.set_default_timeout(15_000)
    yield page
    context.close()
    # The API's own refusals (a 401, a 422) are logged by the browser as failed loads; scripts must not fail.
    script_errors = [error for error in errors if "Failed to load resource" not in error]
    assert not script_errors, script_errors


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def accessibility_violations(page, name: str) -> list[str]:
    """axe-core (through axe-playwright-python) on the page as it is; the serious and critical findings."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"resultTypes": ["violations"],
                                       "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21aa",
                                                                             "best-practice"]}})
    return [f"{name}: {violation['id']} ({violation['impact']}): {violation['help']} at "
            f"{[node['target'] for node in violation['nodes']]}"
            for violation in results.response["violations"] if violation["impact"] in ("serious", "critical")]
