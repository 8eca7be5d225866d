"""Browser fixtures of the console tests: Debian's chromium driven by Playwright for Python.

`playwright install` cannot download browsers here, so the tests launch the system's chromium
(`/usr/bin/chromium`, or `CHROMIUM_PATH`). Without one the browser tests are skipped, and the
run's summary says so; with `REQUIRE_BROWSER=1` (as `.ci/run` sets) they fail instead.

    browser       one headless chromium per test module (started in about a second)
    page          a fresh context (own cookies, German, 1280×900) on the live server; fails the
                  test when the page broke its own Content-Security-Policy or threw
    console_url   the live server's base URL ("http://127.0.0.1:PORT")
    login(page, url, user, code=None)   through the real form (and the code form after it)
    axe(page)     axe-core (tests/console/vendor/axe.min.js) on the page: no WCAG 2.0/2.1 A or AA violations
    screenshot(page, name)   docs/console/NAME.png when CONSOLE_SCREENSHOTS=1

Browser tests carry the `browser` marker (`-m "not browser"` deselects them).
"""
from __future__ import annotations

import os
import shutil
from io import BytesIO
from pathlib import Path

import pytest

from console.texts import TEXTS

HERE = Path(__file__).resolve().parent
AXE_SOURCE = HERE / "vendor" / "axe.min.js"
SCREENSHOTS = HERE.parents[1] / "docs" / "console"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
VIEWPORT = {"width": 1280, "height": 900}
# Bounds: no step waits longer than this; Playwright's auto-waiting does the rest (no sleeps).
ACTION_TIMEOUT_MS = 10_000
NAVIGATION_TIMEOUT_MS = 15_000


def de(key: str, **params) -> str:
    """The console's German words for `key` (the browser asks for German)."""
    text = TEXTS[key][0]
    return text.format(**params) if params else text


def _chromium_path() -> str | None:
    """CHROMIUM_PATH when set (and nothing else then), else Debian's /usr/bin/chromium or one on PATH."""
    explicit = os.environ.get("CHROMIUM_PATH")
    for path in [explicit] if explicit else ["/usr/bin/chromium", shutil.which("chromium")]:
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def _no_browser(reason: str):
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"a browser is required (REQUIRE_BROWSER=1): {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    # One chromium per test module, not per session: while Playwright's sync API is started,
    # its event loop counts as running in the main thread, and every later test's
    # asyncio.run() (firebase-admin closing its HTTP client, for one) would fail.
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        _no_browser("the playwright package is not installed (pip install -r requirements.txt)")
    path = _chromium_path()
    if path is None:
        _no_browser(f"no chromium at {os.environ.get('CHROMIUM_PATH') or '/usr/bin/chromium'} (apt-get install chromium, or set CHROMIUM_PATH)")
    manager = sync_playwright().start()
    try:
        # --no-sandbox: CI and these machines run as root, where chromium's sandbox refuses to start.
        launched = manager.chromium.launch(executable_path=path, headless=True, args=["--no-sandbox"], timeout=30_000)
    except Error as error:
        manager.stop()
        _no_browser(f"chromium at {path} did not start: {str(error).splitlines()[0]}")
    yield launched
    launched.close()
    manager.stop()


@pytest.fixture
def console_url(live_server):
    return live_server


@pytest.fixture
def page(browser, console_url):
    # The pages are visited with their Content-Security-Policy in force (no bypass_csp): the
    # flows prove that htmx and console.js work under `script-src 'self'` and no inline style,
    # and every violation the browser reports fails the test. axe is injected through the
    # DevTools protocol instead of a <script> tag (see `axe` below), which the policy does not govern.
    context = browser.new_context(base_url=console_url, viewport=VIEWPORT, locale="de-DE", timezone_id="Europe/Berlin")
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
    tab = context.new_page()
    problems: list[str] = []
    tab.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}")
           if "Content Security Policy" in msg.text or "Content-Security-Policy" in msg.text else None)
    tab.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    tab.on("response", lambda r: problems.append(f"{r.status} for {r.url}")
           if "/console/static/" in r.url and r.status >= 400 else None)
    yield tab
    context.close()
    if problems:
        pytest.fail("the page reported problems:\n  " + "\n  ".join(problems), pytrace=False)


def login(page, user, code: str | None = None, expect_in: bool = True) -> None:
    """Log in through the console's form (and its code form when `code` is given)."""
    from playwright.sync_api import expect

    page.goto("/console/login")
    page.get_by_label(de("email")).fill(user.email)
    page.get_by_label(de("password")).fill(user.password)
    page.get_by_role("button", name=de("login_button")).click()
    if code is not None:
        expect(page).to_have_url(_path_re("/console/login/code"))
        page.get_by_label(de("two_factor_code")).fill(code)
        page.get_by_role("button", name=de("confirm")).click()
    if expect_in:
        expect(page.get_by_role("button", name=de("logout"))).to_be_visible()
    # The deferred scripts (htmx, console.js) have run once the page has loaded: keys work.
    page.wait_for_load_state("load")


def logout(page) -> None:
    from playwright.sync_api import expect

    page.get_by_role("button", name=de("logout")).click()
    expect(page).to_have_url(_path_re("/console/login"))


def _path_re(path: str):
    import re

    return re.compile(rf"^https?://[^/]+{re.escape(path)}(\?.*)?$")


_AXE_RUN = """async (tags) => {
  const result = await window.axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary || ""})),
  }));
}"""


def axe(page, where: str | None = None) -> None:
    """axe-core on the page as it is now: fails with every WCAG 2.0/2.1 level A and AA violation.

    `page.add_script_tag(path=...)` would insert an inline <script>, which the console's
    `script-src 'self'` refuses (the point of the policy); `bypass_csp=True` on the context would
    let it in, but would then also hide every violation of the pages' own. So the vendored
    source is evaluated through the DevTools protocol (`page.evaluate`), which no page policy
    governs, and the pages keep being checked under their real policy.
    """
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SOURCE.read_text(encoding="utf-8") + "\n;undefined")
    violations = page.evaluate(_AXE_RUN, AXE_TAGS)
    if violations:
        lines = [f"axe: {len(violations)} WCAG A/AA violation(s) on {where or page.url}:"]
        for v in violations:
            lines.append(f"  {v['id']} ({v['impact']}): {v['help']}")
            for node in v["nodes"]:
                lines.append(f"    at {node['target']}")
                if node["summary"]:
                    lines.extend(f"       {line}" for line in node["summary"].splitlines())
        print("\n".join(lines))
        pytest.fail("\n".join(lines), pytrace=False)


def screenshot(page, name: str) -> None:
    """docs/console/NAME.png of the viewport (1280×900) when CONSOLE_SCREENSHOTS=1.

    Re-encoded with an adaptive palette: the console's flat colours survive, and a page stays
    well under 200 KB in the repository.
    """
    if os.environ.get("CONSOLE_SCREENSHOTS") != "1":
        return
    from PIL import Image

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    raw = page.screenshot(full_page=False, animations="disabled", caret="hide")
    image = Image.open(BytesIO(raw)).convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    image.save(SCREENSHOTS / f"{name}.png", optimize=True)


# ---------------------------------------------------------------------------- marker and summary
def pytest_collection_modifyitems(config, items):  # noqa: ARG001
    # Every test that opens the browser is a browser test, whoever wrote it.
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()) and not item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.browser)


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # noqa: ARG001
    """Say clearly when the browser tests did not run (`make test` prints this on both databases)."""
    reports = [r for key in ("passed", "failed", "skipped", "error") for r in terminalreporter.stats.get(key, [])
               if getattr(r, "keywords", {}).get("browser")]
    skipped = [r for r in reports if r.when == "setup" and r.skipped]
    not_started = [r for r in reports if r.when == "setup" and r.failed]
    ran = {r.nodeid for r in reports if r.when == "call"}
    if skipped:
        reason = skipped[0].longrepr[2] if isinstance(skipped[0].longrepr, tuple) else str(skipped[0].longrepr)
        terminalreporter.write_line(
            f"BROWSER TESTS SKIPPED: {len(skipped)} console browser test(s) did not run ({reason.removeprefix('Skipped: ')}); "
            "set REQUIRE_BROWSER=1 to fail instead", yellow=True, bold=True)
    if not_started and not ran:
        terminalreporter.write_line(f"BROWSER TESTS FAILED TO START: {len(not_started)} console browser test(s) (see the errors above)",
                                    red=True, bold=True)
    if ran:
        terminalreporter.write_line(f"browser tests: {len(ran)} console browser test(s) ran in chromium ({_chromium_path()})")
