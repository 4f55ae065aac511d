"""The review site in a real browser (headless Chromium): no console errors, no broken
links, the search works, every team page opens from the graph, the keyboard reaches
everything. Screenshots go to build/site-shots/ for a person to look at.

Skipped when Chromium or its driver is missing, except where the browser is required
(CI=true or MESH_SITE_BROWSER=required, as `make site-test` sets): there it fails.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from .sitecheck import url_problem

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "build" / "site-shots"
CHROME_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--window-size=1280,900",
)


def _required() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes") or os.environ.get("MESH_SITE_BROWSER") == "required"


def _browser_or_skip() -> tuple[str, str]:
    chrome = os.environ.get("CHROME_BIN") or next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
    driver = os.environ.get("CHROMEDRIVER") or shutil.which("chromedriver")
    missing = [name for name, found in (("chromium", chrome), ("chromedriver", driver)) if not found]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("the selenium package")
    if missing:
        reason = f"browser tests need {' and '.join(missing)} (apt-get install chromium chromium-driver; pip install -e '.[test]')"
        if _required():
            pytest.fail(reason + ": required here", pytrace=False)
        pytest.skip(reason)
    return chrome, driver


@pytest.fixture(scope="session")  # session, like the site: without a browser, skip before building it
def browser():
    chrome, driver_path = _browser_or_skip()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="mesh-site-chrome-")
    options.add_argument(f"--user-data-dir={profile}")
    options.binary_location = chrome
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    driver.implicitly_wait(0)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def site(browser, skyflow_site):
    """Open a page of the site; fails on any console message of level error."""
    browser.get_log("browser")  # drop what earlier tests left

    def open_page(relative: str) -> None:
        browser.get((skyflow_site / relative).as_uri() if "?" not in relative else (skyflow_site.as_uri() + "/" + relative))
        assert_no_console_errors(browser)

    open_page.root = skyflow_site
    return open_page


def assert_no_console_errors(browser) -> None:
    errors = [entry for entry in browser.get_log("browser") if entry["level"] in ("SEVERE", "ERROR", "WARNING")]
    assert errors == []


def shot(browser, name: str, full: bool = True) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    if full:
        height = browser.execute_script("return document.documentElement.scrollHeight")
        browser.set_window_size(1280, min(max(height, 900), 4000))
    browser.save_screenshot(str(SHOTS / name))
    browser.set_window_size(1280, 900)


def links_on_page(browser) -> list[str]:
    return browser.execute_script(
        "return Array.from(document.querySelectorAll('a[href], [src], link[href]'))"
        ".map(e => e.href && e.href.baseVal !== undefined ? new URL(e.href.baseVal, document.baseURI).href : (e.href || e.src));"
    )


def visible_rows(browser) -> list[dict]:
    return browser.execute_script(
        "return Array.from(document.querySelectorAll('#index tbody tr')).filter(r => !r.hidden)"
        ".map(r => ({type: r.dataset.type, text: r.dataset.text, waves: r.dataset.waves, kinds: r.dataset.kinds}));"
    )


def test_overview_loads_cleanly_and_every_link_resolves(site, browser, skyflow):
    site("index.html")
    assert browser.title == "Overview · mesh-migrate"
    problems = [p for p in (url_problem(site.root, url) for url in links_on_page(browser)) if p]
    assert problems == []
    shot(browser, "overview.png")
    browser.set_window_size(1100, 860)  # the waves and the top of the graph, as the README shows them
    browser.execute_script("document.getElementById('waves').scrollIntoView()")
    shot(browser, "overview-waves.png", full=False)


def test_every_team_opens_from_the_graph_and_its_links_resolve(site, browser, skyflow):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    site("index.html")
    count = len(browser.find_elements(By.CSS_SELECTOR, "svg.team-graph a.node"))
    assert count == len(skyflow.ownership.teams)
    seen = set()
    for number in range(count):
        site("index.html")
        node = browser.find_elements(By.CSS_SELECTOR, "svg.team-graph a.node")[number]
        team = node.find_element(By.TAG_NAME, "title").get_attribute("textContent").rsplit(" (wave", 1)[0]
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", node)
        node.click()
        WebDriverWait(browser, 10).until(lambda b: b.title == f"Team {team} · mesh-migrate")
        assert_no_console_errors(browser)
        assert browser.find_element(By.CSS_SELECTOR, "h1 .team-name").text == team
        problems = [p for p in (url_problem(site.root, url) for url in links_on_page(browser)) if p]
        assert problems == [], team
        seen.add(team)
        if team == "search":
            shot(browser, "team-search.png")
    assert seen == set(skyflow.ownership.teams)


def test_search_filters_the_index(site, browser, skyflow):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select, WebDriverWait

    site("index.html")
    box = browser.find_element(By.ID, "site-q")
    box.send_keys("flights_bookings", Keys.ENTER)
    WebDriverWait(browser, 10).until(lambda b: b.current_url.endswith("search.html?q=flights_bookings") and b.execute_script(
        "return document.readyState === 'complete' && document.getElementById('shown').textContent !== ''"))
    assert_no_console_errors(browser)
    rows = visible_rows(browser)
    assert rows and all("flights_bookings" in r["text"] for r in rows)
    assert {r["type"] for r in rows} >= {"dag", "file"}

    query = browser.find_element(By.ID, "q")
    assert query.get_attribute("value") == "flights_bookings"
    query.clear()
    query.send_keys("pricing")
    Select(browser.find_element(By.ID, "type")).select_by_value("dag")
    rows = visible_rows(browser)
    assert rows and all(r["type"] == "dag" and "pricing" in r["text"] for r in rows)
    Select(browser.find_element(By.ID, "wave")).select_by_value("7")
    assert all("7" in r["waves"].split() for r in visible_rows(browser))
    Select(browser.find_element(By.ID, "kind")).select_by_value("trigger")
    rows = visible_rows(browser)
    assert all("trigger" in r["kinds"].split() for r in rows)
    assert browser.find_element(By.ID, "shown").text == f"{len(rows)} of {len(skyflow.ownership.teams) + len(skyflow.facts.dags) + len(skyflow.facts.files)} shown"
    Select(browser.find_element(By.ID, "kind")).select_by_value("")
    shot(browser, "search.png", full=False)
    query.clear()
    query.send_keys("no such thing anywhere")
    assert visible_rows(browser) == []


def test_the_keyboard_reaches_everything_with_a_visible_focus(site, browser, skyflow):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    site("index.html")
    focusable = browser.execute_script(
        "return document.querySelectorAll('a[href], input, select, button, [tabindex]:not([tabindex=\"-1\"])').length"
    )
    reached, teams_in_graph = [], set()
    for _ in range(focusable + 2):
        ActionChains(browser).send_keys(Keys.TAB).perform()
        info = browser.execute_script(
            "const e = document.activeElement; const s = getComputedStyle(e);"
            "return {tag: e.tagName, text: e.textContent.trim().slice(0, 60), outline: s.outlineStyle, "
            "graph: !!e.closest('svg'), href: e.getAttribute('href')};"
        )
        reached.append(info)
        if info["graph"]:
            teams_in_graph.add(info["href"])
    assert reached[0]["text"] == "Skip to content"
    assert len(teams_in_graph) == len(skyflow.ownership.teams)
    # Every focused element shows where the focus is (an outline); the page is a cycle, not a trap.
    assert all(r["outline"] != "none" for r in reached if r["tag"] != "BODY")
    ActionChains(browser).send_keys(Keys.SHIFT + Keys.TAB).perform()

    site("index.html")
    ActionChains(browser).send_keys(Keys.TAB, Keys.ENTER).perform()  # the skip link
    assert browser.execute_script("return document.activeElement.id") == "main"
    ActionChains(browser).send_keys("/").perform()
    assert browser.execute_script("return document.activeElement.id") == "site-q"


def test_the_site_reads_without_javascript(site, browser, skyflow):
    from selenium.webdriver.common.by import By

    browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        site("search.html")
        rows = browser.find_elements(By.CSS_SELECTOR, "#index tbody tr")
        assert len(rows) == len(skyflow.ownership.teams) + len(skyflow.facts.dags) + len(skyflow.facts.files)
        assert all(r.is_displayed() for r in rows[:50])
        assert not browser.find_element(By.ID, "filters").is_displayed()
    finally:
        browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})


def test_print_leaves_out_the_navigation(site, browser):
    from selenium.webdriver.common.by import By

    site("teams/search.html")
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        assert not browser.find_element(By.TAG_NAME, "header").is_displayed()
        assert browser.find_element(By.ID, "codemod").is_displayed()
        shot(browser, "team-search-print.png")
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
