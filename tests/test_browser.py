"""The built site in a real browser: headless Chromium (Debian's), driven by Playwright, the site
served from 127.0.0.1 the way GitHub Pages serves it (gzip).

Side by side at 1440 and 1280 px with room for the code (100 and 88 characters), stacked at 1024
and 390 px with nothing wider than the window, copy buttons that never cover code and copy
exactly their block, the navigation drawer, math rendered, dark mode, search, instant
navigation, no request leaving the site, chapter pages under the transfer budget. Screenshots go
to tests/screenshots/ for a person to look at. (test_accessibility.py runs axe-core on the same
site.)
"""

import functools
import gzip
import http.server
import os
import shutil
import threading
from pathlib import Path

import pytest

import site_fixtures
from site_fixtures import CHAPTERS, PAGES, ROOT, SITE_URL

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
SCREENSHOTS = ROOT / "tests" / "screenshots"
PAGE_BUDGET = 500_000  # bytes a chapter page may transfer, everything it loads included
MATH_PAGES = ["", "residual/", "blocks/", "api/"]


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM:
        message = "no Chromium: install Debian's `chromium` (make chromium) or set CHROMIUM"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI must run these
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Static files, gzipped like GitHub Pages gzips text; quiet."""

    compressed: dict[str, bytes] = {}
    text_types = {".html", ".css", ".js", ".json", ".svg", ".xml"}

    def do_GET(self):
        path = Path(self.translate_path(self.path))
        if path.is_dir() and self.path.split("?")[0].endswith("/"):
            path = path / "index.html"
        if not (path.is_file() and path.suffix in self.text_types
                and "gzip" in self.headers.get("Accept-Encoding", "")):
            return super().do_GET()  # fonts, and the redirect of a folder to its slash
        key = f"{self.headers['Host']}{path}"
        body = self.compressed.get(key)
        if body is None:
            data = path.read_bytes()
            if path.name == "sitemap.xml":
                # Instant navigation follows only links listed in the sitemap, which names pages
                # by site_url; serve it as if this server were the site's real address.
                data = data.replace(SITE_URL.encode(), f"http://{self.headers['Host']}/".encode())
            body = self.compressed[key] = gzip.compress(data, compresslevel=6)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def base_url(tmp_path_factory):
    built = site_fixtures.build_site(tmp_path_factory)
    assert built.returncode == 0, f"mkdocs build --strict failed:\n{built.log}"
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(_Handler, directory=str(built.path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()


@pytest.fixture(scope="module")
def outside():
    """Every request that tried to leave the site, from any page of this module."""
    return []


@pytest.fixture
def new_page(browser, base_url, outside):
    """new_page(width) -> a Playwright page in a fresh context (empty cache), whose requests
    outside the site are recorded in `outside` and refused."""
    contexts = []

    def new(width: int = 1280, on_request=None, **context_options):
        context = browser.new_context(viewport={"width": width, "height": 900}, **context_options)
        contexts.append(context)
        if on_request:  # finished requests, the search worker's included
            context.on("requestfinished", lambda request: on_request(request))

        def route(route):
            url = route.request.url
            if url.startswith(base_url) or url.startswith(("data:", "blob:", "about:")):
                route.continue_()
            else:
                outside.append(url)
                route.abort()

        context.route("**/*", route)
        return context.new_page()

    yield new
    for context in contexts:
        context.close()


def visit(page, base_url: str, path: str, wait_until: str = "load"):
    page.goto(base_url + path, wait_until=wait_until)
    page.evaluate("document.fonts.ready.then(() => true)")  # KaTeX's fonts, so layout is final
    return page


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def chapter_screenshots(page, name: str) -> None:
    """The top of the chapter, and further down, from its fourth section with code."""
    screenshot(page, name)
    page.evaluate("document.querySelectorAll('.lit-section:not(.lit-notes-only)')[3].scrollIntoView()")
    page.evaluate("window.scrollBy(0, -80)")  # below the header
    page.wait_for_timeout(400)  # the header's title fades to the chapter's
    screenshot(page, f"{name}-code")


def _name(path: str) -> str:
    return path.strip("/") or "home"


# Geometry of every section, measured in the page.
_LAYOUT = """() => [...document.querySelectorAll('.lit-section:not(.lit-notes-only)')].map(s => {
  const n = s.querySelector('.lit-notes').getBoundingClientRect();
  const c = s.querySelector('.lit-code').getBoundingClientRect();
  return {id: s.id, hasNotes: s.querySelector('.lit-notes').textContent.trim() !== '',
          notes: [n.left, n.right, n.top, n.bottom], code: [c.left, c.right, c.top, c.bottom]};
})"""

# Every code block on the page: the shortest line of a chapter's code that does not fit in its
# block (so scrolls), and any copy button that overlaps the code's box.
_CODE = """() => {
  const out = {blocks: 0, buttons: 0, shortestCut: null, covered: [], widths: []};
  for (const code of document.querySelectorAll('article pre > code')) {
    out.blocks++;
    const box = code.getBoundingClientRect();
    const right = box.left + code.clientLeft + code.clientWidth;  // the visible part
    if (code.closest('.lit-code')) {
      out.widths.push(Math.round(code.closest('.lit-code').getBoundingClientRect().width));
      for (const line of code.querySelectorAll('.lit-line')) {
        const length = line.textContent.length;
        if (line.getBoundingClientRect().right > right + 0.5 && (out.shortestCut === null || length < out.shortestCut))
          out.shortestCut = length;
      }
    }
    for (const button of code.parentElement.querySelectorAll('button')) {
      out.buttons++;
      const b = button.getBoundingClientRect();
      if (b.left < box.right && b.right > box.left && b.top < box.bottom && b.bottom > box.top)
        out.covered.push([code.parentElement.id, button.title]);
    }
  }
  return out;
}"""

# Characters of code visible without scrolling, at each window width (issue 13). Below
# Material's 76.25em (1220 px) sections are stacked and the code has the page's width.
CODE_CHARS = {1440: 100, 1280: 88, 1024: 100}


def check_code(page, path: str, width: int) -> dict:
    code = page.evaluate(_CODE)
    assert code["covered"] == [], (path, width, code["covered"])  # no copy button on code
    assert code["buttons"] == code["blocks"], (path, width, code)  # one each
    if width in CODE_CHARS and code["shortestCut"] is not None:
        assert code["shortestCut"] > CODE_CHARS[width], (path, width, code["shortestCut"])
    return code


def test_chapters_at_1280_beside_and_under_budget(new_page, base_url):
    """Each chapter loaded once, at 1280 px in a fresh context (empty cache): the bytes a first
    visit transfers (HTML, CSS, JS, fonts, search index) under the budget, then the notes
    beside the code and the code's column."""
    for path in CHAPTERS:
        requests = []
        page = visit(new_page(1280, on_request=requests.append), base_url, path, wait_until="networkidle")
        sizes = [request.sizes() for request in requests]
        total = sum(size["responseBodySize"] + size["responseHeadersSize"] for size in sizes)
        print(f"{path}: {len(sizes)} requests, {total / 1000:.0f} kB")
        assert total < PAGE_BUDGET, (path, total)
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], (path, width)  # long code scrolls inside its block
        sections = page.evaluate(_LAYOUT)
        assert sections, path
        for s in sections:
            assert s["notes"][1] <= s["code"][0], (path, s)  # notes end left of the code
            assert abs(s["notes"][2] - s["code"][2]) < 2, (path, s)  # same row
        code = check_code(page, path, 1280)
        assert len(set(code["widths"])) == 1, (path, code["widths"])  # one column down the page
        screenshot(page, f"{_name(path)}-1280")
        page.context.close()


@pytest.mark.parametrize("width", [1440, 1024])
def test_room_for_code(new_page, base_url, width):
    """1440 px: side by side, lines of 100 characters in view. 1024 px: stacked, code the page's width."""
    page = new_page(width)
    for path in CHAPTERS:
        visit(page, base_url, path)
        size = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert size[0] <= size[1], (path, size)
        for s in page.evaluate(_LAYOUT):
            if width >= 1220:
                assert s["notes"][1] <= s["code"][0] and abs(s["notes"][2] - s["code"][2]) < 2, (path, s)
            elif s["hasNotes"]:
                assert s["notes"][3] <= s["code"][2] + 1, (path, s)  # notes above their code
        check_code(page, path, width)
    if width == 1440:
        chapter_screenshots(visit(page, base_url, "blocks/"), "blocks-1440")


def test_stacked_and_never_wider_than_the_window_at_390(new_page, base_url):
    page = new_page(390)
    for path in PAGES:
        visit(page, base_url, path)
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], (path, width)
        for s in page.evaluate(_LAYOUT):
            if s["hasNotes"]:
                assert s["notes"][3] <= s["code"][2] + 1, (path, s)  # notes above their code
        check_code(page, path, 390)
        if path == "blocks/":
            chapter_screenshots(page, "blocks-390")
        else:
            screenshot(page, f"{_name(path)}-390")


def test_navigation_drawer_on_chapter_pages(new_page, base_url):
    """At 1440 px a chapter gives the sidebar's width to its code: the navigation is a drawer,
    opened by a button the keyboard reaches (Enter) and closed by Escape. Other pages keep
    Material's sidebar."""
    page = visit(new_page(1440), base_url, "blocks/")
    link = page.locator(".md-sidebar--primary a.md-nav__link--active")
    assert not link.is_visible()
    button = page.locator("button.lit-drawer-button")
    assert button.is_visible() and button.get_attribute("aria-expanded") == "false"
    button.focus()
    page.keyboard.press("Enter")
    page.wait_for_timeout(400)  # the drawer slides in
    assert link.is_visible() and button.get_attribute("aria-expanded") == "true"
    assert 0 <= link.bounding_box()["x"] < 300
    page.keyboard.press("Escape")
    page.wait_for_timeout(400)
    assert not link.is_visible() and page.evaluate("document.activeElement.classList.contains('lit-drawer-button')")

    visit(page, base_url, "pitfalls/")
    assert page.locator(".md-sidebar--primary a.md-nav__link--active").is_visible()
    assert not page.locator("button.lit-drawer-button").is_visible()


def test_math_is_rendered(new_page, base_url):
    page = new_page(1280)
    for path in MATH_PAGES:
        visit(page, base_url, path)
        found = page.evaluate("""() => {
          const article = document.querySelector('article').cloneNode(true);
          article.querySelectorAll('pre, code, .katex').forEach(e => e.remove());
          return {text: article.textContent,
                  katex: document.querySelectorAll('article .katex').length,
                  mathml: document.querySelectorAll('article .katex-mathml math').length,
                  html: document.querySelectorAll('article .katex-html').length};
        }""")
        assert "$" not in found["text"] and "\\(" not in found["text"] and "\\[" not in found["text"], path
        assert found["katex"] > 0 and found["mathml"] == found["katex"] == found["html"], (path, found)
        # KaTeX's fonts are the site's own and did load.
        assert page.evaluate("document.fonts.check('16px KaTeX_Main')"), path


@pytest.mark.parametrize("width", [1280, 390])
def test_copy_button_copies_exactly_the_code(new_page, base_url, width):
    """Each section's button copies that section's code, and nothing else: no line numbers."""
    path = "blocks/"
    page = visit(new_page(width, permissions=["clipboard-read", "clipboard-write"]), base_url, path)
    expected = [s for s in site_fixtures.sections(path) if s.code]
    # The first sections, and the longest one.
    for section in [*expected[:3], max(expected, key=lambda s: len(s.code_lines))]:
        page.evaluate("navigator.clipboard.writeText('')")
        block = page.locator(f'[id="{section.anchor}"] .lit-code')
        block.hover()
        block.locator('button[data-md-type="copy"]').click()
        for _ in range(40):  # the copy lands a moment after the click
            copied = page.evaluate("navigator.clipboard.readText()")
            if copied:
                break
            page.wait_for_timeout(50)
        assert copied == section.code.replace("\r\n", "\n").rstrip(), section.anchor  # no line numbers


@pytest.mark.parametrize("width", [1440, 390])
def test_dark_mode_toggle(new_page, base_url, width):
    page = visit(new_page(width), base_url, "blocks/")
    assert page.evaluate("document.body.dataset.mdColorScheme") == "default"
    page.locator('label[for="__palette_1"]').click()
    assert page.evaluate("document.body.dataset.mdColorScheme") == "slate"
    page.wait_for_timeout(300)  # Material's colour transitions
    chapter_screenshots(page, f"blocks-{width}-dark")


def test_search_finds_code(new_page, base_url):
    page = visit(new_page(1280), base_url, "")
    page.locator(".md-search__input").click()
    page.keyboard.type("make_shortcut")  # Material searches as keys are typed
    page.wait_for_selector(".md-search-result__item", timeout=15_000)
    assert page.locator(".md-search-result__item").count() > 0


def test_instant_navigation_and_footer(new_page, base_url):
    page = visit(new_page(1280), base_url, "blocks/", wait_until="networkidle")  # sitemap read
    page.evaluate("window.__stillHere = true")
    page.locator(".md-footer__link--next").click()
    page.wait_for_url(base_url + PAGES[PAGES.index("blocks/") + 1])
    assert page.evaluate("window.__stillHere === true")  # no full reload: navigation.instant


def test_no_request_left_the_site(outside):
    # Runs last: every page opened above went through the same check.
    assert outside == []
