"""Playwright (Python) driving Debian's chromium; never `playwright install`."""
import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("URBANGRID_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
# Playwright's sync API runs an event loop in this thread; Django's ORM must still be allowed here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"chromium not found at {CHROMIUM}: `make test` installs it (scripts/system-deps)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    # Playwright's wait_for_function evaluates strings in the page, which our CSP forbids; the flows run with
    # the policy bypassed and test_csp.py checks every main page under the real policy.
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}, bypass_csp=True)
    pg = context.new_page()
    yield pg
    context.close()


@pytest.fixture
def demo(settings, tmp_path):
    """The demo city (seed 5, no case history) for a live server's tests: its logins."""
    return _demo_logins(settings, tmp_path)


@pytest.fixture
def demo_history(settings, tmp_path):
    """The demo city with 3,000 cases of history (tallied by the build): its logins. The same arguments as the
    assessment tests' and the KPI drill-down's history, so the session builds one history and restores it."""
    return _demo_logins(settings, tmp_path, seed=11, history=True, cases=3000)


def _demo_logins(settings, tmp_path, seed=5, **history):
    from demo_snapshot import build_demo

    settings.VAR_DIR = tmp_path
    settings.MEDIA_ROOT = tmp_path / "media"
    _, logins, _ = build_demo(seed=seed, log=lambda m: None, **history)
    return logins


def screenshot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def log_in(page, base_url, username, password):
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    # Home sends each person on to the workbench of their role.
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
