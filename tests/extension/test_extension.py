"""The browser extension: its manifest, and the extension itself loaded unpacked in the
distribution's Chromium (driven by Playwright) against a live gunicorn on the seed store.

Context menus cannot be clicked from Playwright, so the test takes the code paths behind
them: "Check this quote" opens ``popup.html?text=...``, which the test opens itself, and
"Scan this page" calls the service worker's ``scanTab``, which the test calls through the
worker. A user's click on the toolbar button or a menu entry grants the extension
``activeTab`` on the page; the test cannot click, so its copy of the extension holds host
permissions for the two local servers (the API's port and the test page's) instead.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler
from pathlib import Path
from urllib.parse import quote

import pytest
from conftest import loopback_site, make_key
from playwright.sync_api import expect, sync_playwright

from bench.server import served
from quotes_db.seeding import load_seeds
from quotes_db.sqlite_store import SQLiteQuoteStore

ROOT = Path(__file__).resolve().parents[2]
EXTENSION = ROOT / "extension"
HERE = Path(__file__).resolve().parent
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = os.environ.get("QUOTECHECK_TEST_CHROMIUM", "/usr/bin/chromium")
ALTERED = (
    "If we're going to pay millions of dollars a year, tell them we're not going to give "
    "them the money unless they give back our military equipment"
)
MANIFEST = json.loads((EXTENSION / "manifest.json").read_text())


# the manifest ------------------------------------------------------------------------------


def _referenced_files(manifest: dict) -> list[str]:
    background = manifest["background"]
    files = [background["service_worker"], *background["scripts"]]
    files += [manifest["action"]["default_popup"], manifest["options_ui"]["page"]]
    files += list(manifest.get("icons", {}).values())
    for page in (manifest["action"]["default_popup"], manifest["options_ui"]["page"]):
        html = (EXTENSION / page).read_text()
        files += re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]+)"', html)
    # what the service worker imports or injects
    for script in (EXTENSION / "background.js").read_text(), (EXTENSION / "popup.js").read_text():
        files += re.findall(r'(?:importScripts\(|files: \[)"([^"]+)"', script)
    return files


def test_the_manifest_is_version_3_for_chromium_and_firefox() -> None:
    assert MANIFEST["manifest_version"] == 3
    assert MANIFEST["background"]["service_worker"] == "background.js"  # Chromium
    assert "background.js" in MANIFEST["background"]["scripts"]  # Firefox
    assert MANIFEST["browser_specific_settings"]["gecko"]["id"]


def test_the_manifest_asks_for_the_fewest_permissions() -> None:
    assert sorted(MANIFEST["permissions"]) == ["activeTab", "contextMenus", "scripting", "storage"]
    # only the default server up front; any other is asked for when the options name it
    assert MANIFEST["host_permissions"] == ["http://127.0.0.1:8000/*"]
    assert MANIFEST["optional_host_permissions"] == ["http://*/*", "https://*/*"]
    assert "content_scripts" not in MANIFEST  # injected on a click only, never on every page
    assert "content_security_policy" not in MANIFEST  # the MV3 default: no remote code


def test_every_file_the_manifest_references_exists() -> None:
    files = _referenced_files(MANIFEST)
    assert {"client.js", "mark.js", "mark.css", "popup.js", "options.js"} <= set(files)
    for name in files:
        assert (EXTENSION / name).is_file(), name


@pytest.mark.parametrize("path", sorted(p.name for p in EXTENSION.iterdir()))
def test_no_file_loads_remote_code(path: str) -> None:
    text = (EXTENSION / path).read_text()
    assert not re.search(r'(?:src|href)="(?:https?:)?//', text), "an asset from another host"
    assert not re.search(r"\b(?:eval|new Function|importScripts\(\s*['\"]https?:)", text)
    assert "innerHTML" not in text  # server answers go in as text, never as markup


def test_the_default_server_is_the_host_permission() -> None:
    client = (EXTENSION / "client.js").read_text()
    default = re.search(r'server: "([^"]+)"', client)
    assert default
    assert f"{default.group(1)}/*" in MANIFEST["host_permissions"]


# the extension in Chromium -----------------------------------------------------------------


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """gunicorn on 127.0.0.1 serving a SQLite store with the seed quotes, reads behind a
    key (so that the test sees the extension send it); yield its URL and a key."""
    tmp = tmp_path_factory.mktemp("extension-api")
    store = SQLiteQuoteStore(tmp / "quotes.db")
    store.migrate()
    load_seeds(store)
    key = make_key(store, "write")  # the lowest scope; reads take any key
    store.close()
    env = {"QUOTECHECK_READS_NEED_KEY": "true"}
    with served(f"sqlite:///{tmp / 'quotes.db'}", 1, tmp / "gunicorn.log", env) as running:
        yield running.base, key


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def api_url(api: tuple[str, str]) -> str:
    return api[0]


@pytest.fixture(scope="module")
def page_url() -> Iterator[str]:
    """A local web server with the test page (the web never gets a request)."""
    with loopback_site(handler=functools.partial(_QuietHandler, directory=str(HERE))) as base:
        yield f"{base}/test_page.html"


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory, api: tuple[str, str], page_url: str):
    """Chromium with the unpacked extension; yields (context, service worker)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (see .ci/run)")
    api_url, key = api
    tmp = tmp_path_factory.mktemp("extension-browser")
    extension = tmp / "extension"
    shutil.copytree(EXTENSION, extension)
    manifest = dict(MANIFEST)
    # stands in for the activeTab grant a user's click gives (see the module docstring)
    manifest["host_permissions"] = [f"{api_url}/*", f"{page_url.rsplit('/', 1)[0]}/*"]
    (extension / "manifest.json").write_text(json.dumps(manifest, indent=2))
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp / "profile"),
            executable_path=CHROMIUM,
            headless=False,
            args=[
                "--headless=new",
                f"--disable-extensions-except={extension}",
                f"--load-extension={extension}",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            workers = context.service_workers
            worker = workers[0] if workers else context.wait_for_event("serviceworker")
            worker.evaluate(
                "([server, apiKey]) => chrome.storage.local.set({server, apiKey})", [api_url, key]
            )
            yield context, worker
        finally:
            context.close()


def _extension_id(worker) -> str:
    return worker.url.split("/")[2]


def test_check_a_selection_shows_the_verdict_source_and_diff(browser) -> None:
    context, worker = browser
    page = context.new_page()
    page.goto(f"chrome-extension://{_extension_id(worker)}/popup.html?text={quote(ALTERED)}")
    verdict = page.locator("#verdict")
    verdict.wait_for(timeout=20_000)
    assert verdict.get_attribute("data-verdict") == "altered"
    assert "Altered" in verdict.inner_text()  # in words, not colour alone
    assert page.locator("#diff del").all_inner_texts() == ["billions"]
    assert page.locator("#diff ins").all_inner_texts() == ["millions"]
    assert page.locator("del").first.evaluate("e => getComputedStyle(e).textDecorationLine") == (
        "line-through"
    )
    facts = page.locator("dl").inner_text()
    assert "Donald Trump" in facts
    assert "Seed article: the Taliban rejects Donald Trump" in facts
    assert re.search(r"Confidence\s+\d+(\.\d)?%", facts)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "extension-check.png"), full_page=True)
    page.close()


def test_a_selection_nobody_said_is_not_in_our_records(browser) -> None:
    context, worker = browser
    page = context.new_page()
    text = "The Taliban will return all equipment next week."
    page.goto(f"chrome-extension://{_extension_id(worker)}/popup.html?text={quote(text)}")
    page.locator("#verdict").wait_for(timeout=20_000)
    assert page.locator("#verdict").inner_text().endswith("Not in our records")
    assert page.locator("#diff").count() == 0
    page.close()


def test_scan_this_page_marks_the_quotation_with_its_verdict(browser, page_url: str) -> None:
    context, worker = browser
    page = context.new_page()
    page.goto(page_url)
    tab_ids = worker.evaluate(
        "async url => (await chrome.tabs.query({url})).map(t => t.id)", page_url
    )
    assert len(tab_ids) == 1
    result = worker.evaluate("tabId => scanTab(tabId)", tab_ids[0])
    assert result["marked"] >= 1
    assert result["marked"] <= result["found"]
    marks = page.locator("mark.quotecheck-mark[data-verdict='altered']")
    # the quotation crosses an <em>: one mark per text node, together the whole passage
    text = " ".join(t.strip() for t in marks.all_inner_texts())
    assert text.startswith("If we’re going to pay")
    assert "millions" in text
    assert text.endswith("give back our military equipment")
    assert "Altered" in (marks.first.get_attribute("title") or "")
    label = page.locator(".quotecheck-label[data-verdict='altered']")
    assert label.count() == 1
    assert label.inner_text() == "quotecheck: Altered"
    # a second scan replaces the marks instead of nesting them
    worker.evaluate("tabId => scanTab(tabId)", tab_ids[0])
    assert page.locator(".quotecheck-label[data-verdict='altered']").count() == 1
    assert page.locator("mark.quotecheck-mark mark.quotecheck-mark").count() == 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "extension-scan.png"), full_page=True)
    page.close()


def test_the_options_keep_the_server_and_send_the_key(browser, api: tuple[str, str]) -> None:
    context, worker = browser
    api_url, key = api
    base = f"chrome-extension://{_extension_id(worker)}"
    page = context.new_page()
    page.goto(f"{base}/options.html")
    assert page.locator("#server").input_value() == api_url  # what the fixture stored
    assert page.locator("#api-key").input_value() == key
    page.fill("#server", "ftp://127.0.0.1/")
    page.click("button[type=submit]")
    expect(page.locator("#status")).to_contain_text("http:// or https://")
    page.fill("#server", f"{api_url}/")
    page.fill("#api-key", "not-a-real-key")
    page.click("button[type=submit]")
    expect(page.locator("#status")).to_have_text(f"Saved. Checks go to {api_url}.")
    stored = worker.evaluate("() => chrome.storage.local.get(null)")
    assert stored == {"server": api_url, "apiKey": "not-a-real-key"}
    # the key goes out as a Bearer token: the server refuses one it does not know
    page.goto(f"{base}/popup.html?text={quote(ALTERED)}")
    expect(page.locator("#status.error")).to_contain_text("The server answered 401")
    page.goto(f"{base}/options.html")
    page.fill("#api-key", key)
    page.click("button[type=submit]")
    expect(page.locator("#status")).to_have_text(f"Saved. Checks go to {api_url}.")
    page.goto(f"{base}/popup.html?text={quote(ALTERED)}")
    expect(page.locator("#verdict")).to_have_attribute("data-verdict", "altered")
    page.close()


def test_the_readme_explains_every_permission() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The browser extension\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (?:host |optional hosts )?`([^|]+)` \|", section, re.M)
    hosts = [h for row in rows for h in row.split("`, `")]
    expected = MANIFEST["permissions"] + MANIFEST["host_permissions"]
    assert sorted(hosts) == sorted(expected + MANIFEST["optional_host_permissions"])
    assert "Load unpacked" in section and "Load Temporary Add-on" in section
