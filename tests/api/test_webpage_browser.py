"""The web page in a real browser: headless Chromium from the distribution's packages,
driven by Playwright (never `playwright install`: no browser downloads), against gunicorn
on 127.0.0.1 serving the seed store.

Screenshots of a check, on a desktop and on a phone, are saved in .cache/artifacts/.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import requests
from conftest import SEED_QUOTE
from playwright.sync_api import Browser, Page, expect, sync_playwright
from test_api_page import site  # noqa: F401 -- the fixture: a news page on 127.0.0.1

from quotes_db.seeding import load_seeds
from quotes_db.sqlite_store import SQLiteQuoteStore

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / ".cache" / "artifacts"
CHROMIUM = os.environ.get("QUOTECHECK_TEST_CHROMIUM") or shutil.which("chromium")
ALTERED = SEED_QUOTE.replace("billions", "millions")
LAUNCH_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """gunicorn, one worker, on a seeded SQLite file; its base URL."""
    folder = tmp_path_factory.mktemp("webpage")
    db = folder / "page.db"
    store = SQLiteQuoteStore(db)
    store.migrate()
    load_seeds(store)
    store.close()
    port = _free_port()
    env = {
        **os.environ,
        "QUOTECHECK_DATABASE_URL": f"sqlite:///{db}",
        "QUOTECHECK_WORKERS": "1",
        "QUOTECHECK_FETCH_ALLOW_PRIVATE": "true",  # the news page below is on 127.0.0.1
    }
    log = folder / "gunicorn.log"
    gunicorn = Path(sys.executable).with_name("gunicorn")
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [str(gunicorn), "--config", str(ROOT / "docker" / "gunicorn.conf.py")]
            + ["--bind", f"127.0.0.1:{port}", "--log-level", "warning", "api:create_app()"],
            cwd=ROOT,
            env=env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{url}/readyz", timeout=(1, 2)).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            pytest.fail(f"gunicorn did not become ready:\n{log.read_text()[-2000:]}")
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if CHROMIUM is None:
        pytest.fail("no chromium on PATH: apt-get install chromium (see .ci/run)", pytrace=False)
    with sync_playwright() as playwright:
        # launch() gives the browser a fresh temporary profile of its own (--user-data-dir)
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()


def _screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path


def _assert_altered(page: Page) -> None:
    verdict = page.locator("[data-verdict]")
    expect(verdict).to_have_attribute("data-verdict", "altered")
    expect(verdict).to_contain_text("Altered")
    expect(page.locator(".best-match .diff del")).to_have_text("billions")
    expect(page.locator(".best-match .diff ins")).to_have_text("millions")
    # struck through, as the reader sees it
    line = page.locator(".best-match .diff del").evaluate(
        "e => getComputedStyle(e).textDecorationLine"
    )
    assert "line-through" in line


@pytest.mark.parametrize(
    ("name", "viewport"),
    [("desktop", {"width": 1280, "height": 900}), ("phone", {"width": 390, "height": 844})],
)
def test_type_the_altered_quote_and_see_what_changed(browser, server, name, viewport):
    context = browser.new_context(viewport=viewport, is_mobile=name == "phone")
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.goto(f"{server}/")
    page.get_by_label("The quote, as you read it").fill(ALTERED)
    page.get_by_label("Who said it").fill("Donald Trump")
    page.get_by_role("button", name="Check").click()
    _assert_altered(page)
    expect(page.locator(".speaker")).to_have_text("Donald Trump")
    # the script put the check's link in the address bar
    query = dict(parse_qsl(urlsplit(page.url).query))
    assert query == {"text": ALTERED, "speaker": "Donald Trump"}
    # nothing overflows sideways on a phone
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    _screenshot(page, f"webpage-{name}")
    assert problems == []  # no CSP violations, no script errors
    context.close()


def test_a_shared_link_renders_on_the_server_without_javascript(browser, server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{server}/?" + urlencode({"text": ALTERED}))
    _assert_altered(page)
    # and the form still works as a plain GET
    page.get_by_label("The quote, as you read it").fill("Bananas are the currency of the future")
    page.get_by_role("button", name="Check").click()
    expect(page.locator("[data-verdict]")).to_contain_text("Not in our records")
    assert "text=Bananas" in page.url
    context.close()


def test_keyboard_only(browser, server):
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{server}/")
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    page.keyboard.press("Enter")  # skip the header
    page.keyboard.press("Tab")
    expect(page.locator("#text")).to_be_focused()
    page.keyboard.type(ALTERED)
    page.keyboard.press("Tab")
    expect(page.locator("#speaker")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator("#url")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Check")).to_be_focused()
    page.keyboard.press("Enter")
    _assert_altered(page)
    context.close()


def test_a_page_address_lists_its_quotations(browser, server, site):  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{server}/")
    page.get_by_label("Or the address of a web page").fill(f"{site}/news.html")
    page.get_by_role("button", name="Check").click()
    verdicts = page.locator(".page-quotation [data-verdict]")
    expect(verdicts).to_have_count(2)
    expect(verdicts.nth(0)).to_have_attribute("data-verdict", "altered")
    expect(verdicts.nth(1)).to_contain_text("Not in our records")
    assert dict(parse_qsl(urlsplit(page.url).query)) == {"url": f"{site}/news.html"}
    _screenshot(page, "webpage-address")
    # each quotation's own check is one click away
    page.get_by_role("link", name="The full check of this quotation").first.click()
    _assert_altered(page)
    context.close()
