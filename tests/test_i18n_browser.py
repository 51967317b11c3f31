"""The Japanese and Chinese editions in headless Chromium: the right `lang`, notes beside the
code at 1280 px with nothing overflowing, a language switcher that lands on the same chapter,
and search in each language. Uses the site, server and browser of test_browser.py.
"""

import pytest
from playwright.sync_api import expect

from site_fixtures import CHAPTERS, ROOT
from test_browser import (PAGE_BUDGET, _LAYOUT, base_url, browser, new_page, outside,  # noqa: F401  (fixtures)
                          screenshot, visit)

pytestmark = pytest.mark.browser

if "- i18n:" not in (ROOT / "mkdocs.yml").read_text(encoding="utf-8"):  # editions not wired in yet
    pytest.skip("mkdocs.yml builds no /ja/ or /zh/ edition (no i18n plugin)", allow_module_level=True)


@pytest.fixture
def open_page(browser, base_url):  # noqa: F811
    """open_page(path, width) -> the loaded page, in a fresh context (empty cache)."""
    contexts = []

    def open_(path: str, width: int = 1280):
        context = browser.new_context(viewport={"width": width, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.goto(base_url + path, wait_until="networkidle")
        page.evaluate("document.fonts.ready.then(() => true)")  # KaTeX's fonts: final layout
        return page

    yield open_
    for context in contexts:
        context.close()

LANGS = ["ja", "zh"]

# Anything wider than its box: the page itself, or anything sticking out of a notes column (a
# long code span or URL that does not wrap), beyond the 4 px of an inline code span's padding.
# Code blocks and tables scroll in their own boxes.
_OVERFLOW = """() => {
  const out = [];
  const doc = document.documentElement;
  if (doc.scrollWidth > window.innerWidth) out.push(['page', doc.scrollWidth, window.innerWidth]);
  for (const n of document.querySelectorAll('.lit-notes')) {
    const right = n.getBoundingClientRect().right;
    for (const e of n.querySelectorAll('*')) {
      if (e.closest('pre, .md-typeset__scrollwrap, .katex-mathml, .katex-display')) continue;  // scroll or hidden
      if (e.getBoundingClientRect().right > right + 4) out.push([n.parentElement.id, e.tagName, e.textContent.slice(0, 40),
                                                                 e.getBoundingClientRect().right - right]);
    }
  }
  return out;
}"""


@pytest.mark.parametrize("lang", LANGS)
def test_chapters_side_by_side_at_1280_in_each_language(open_page, lang):
    for path in CHAPTERS:
        page = open_page(f"{lang}/{path}", 1280)
        assert page.evaluate("document.documentElement.lang") == lang, path
        sections = page.evaluate(_LAYOUT)
        assert sections, path
        for s in sections:
            assert s["notes"][1] <= s["code"][0], (lang, path, s)  # notes end left of the code
            assert abs(s["notes"][2] - s["code"][2]) < 2, (lang, path, s)  # same row
        assert page.evaluate(_OVERFLOW) == [], (lang, path)
        screenshot(page, f"{lang}-{path.strip('/')}-1280")


@pytest.mark.parametrize("lang", LANGS)
def test_markdown_pages_have_the_right_lang_and_fit_at_390(open_page, lang):
    for path in ["", "pitfalls/", "glossary/", "results/"]:
        page = open_page(f"{lang}/{path}", 390)
        assert page.evaluate("document.documentElement.lang") == lang, path
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], (lang, path, width)


def test_japanese_chapters_are_fully_translated(open_page):
    """No section of a Japanese chapter falls back to English (the catalogs are complete)."""
    for path in CHAPTERS:
        page = open_page(f"ja/{path}", 1280)
        assert page.locator(".i18n-fallback").count() == 0, path


@pytest.mark.parametrize("start, target", [("", "ja"), ("ja/", "zh"), ("zh/", "ja"), ("ja/", "en")])
def test_switcher_lands_on_the_same_chapter(open_page, base_url, start, target):  # noqa: F811
    for path in ["shortcuts/", "preact/"]:
        page = open_page(f"{start}{path}", 1280)
        link = page.locator(f'a.md-select__link[hreflang="{target}"]')
        assert link.count() == 1, (start, path)
        link.dispatch_event("click")  # the menu opens on hover; the link is what matters
        expected = base_url + ("" if target == "en" else f"{target}/") + path
        page.wait_for_url(expected)
        expect(page.locator("html")).to_have_attribute("lang", target)  # retries while it loads


@pytest.mark.parametrize("lang, query, expected", [
    ("ja", "ショートカット", "shortcuts/"),
    ("zh", "快捷连接", "shortcuts/"),
    # A word every edition has: each edition finds its own pages and no other's
    ("en", "ResNet", "resnet/"),
    ("ja", "ResNet", "resnet/"),
    ("zh", "ResNet", "resnet/"),
])
def test_search_in_each_language(open_page, base_url, lang, query, expected):  # noqa: F811
    edition = "" if lang == "en" else f"{lang}/"
    page = open_page(edition, 1280)
    page.locator("label.md-search__icon, .md-search__input").first.click()
    page.locator(".md-search__input").fill(query)
    page.keyboard.press("End")  # Material searches on key events; typing kana would need an IME
    results = page.locator(".md-search-result__item a")
    results.first.wait_for(timeout=15_000)
    pages = [results.nth(i).get_attribute("href").removeprefix(base_url + edition).split("?")[0].split("#")[0]
             for i in range(results.count())]
    assert expected in pages, pages
    assert not [hit for hit in pages if hit.startswith(("http", "ja/", "zh/"))], pages


def test_switcher_follows_instant_navigation(open_page, base_url):  # noqa: F811
    """Material swaps pages without reloading the header; the selector must follow the page."""
    page = open_page("ja/shortcuts/", 1280)
    page.locator('a.md-footer__link--next').click()  # instant navigation to the next chapter
    page.wait_for_url(base_url + "ja/blocks/")
    page.locator('a.md-select__link[hreflang="zh"]').dispatch_event("click")
    page.wait_for_url(base_url + "zh/blocks/")
    expect(page.locator("html")).to_have_attribute("lang", "zh")


@pytest.mark.parametrize("lang", LANGS)
def test_chapter_pages_transfer_under_budget_in_each_language(new_page, base_url, lang):  # noqa: F811
    """A first visit to a translated chapter (empty cache): HTML, CSS, JS, fonts and the search
    index, which holds every edition, with the search languages' word splitters."""
    for path in CHAPTERS:
        requests = []
        page = visit(new_page(1280, on_request=requests.append), base_url, f"{lang}/{path}", wait_until="networkidle")
        sizes = [request.sizes() for request in requests]
        total = sum(size["responseBodySize"] + size["responseHeadersSize"] for size in sizes)
        print(f"{lang}/{path}: {len(sizes)} requests, {total / 1000:.0f} kB")
        assert total < PAGE_BUDGET, (lang, path, total)
        assert page.evaluate("document.documentElement.lang") == lang


def test_no_request_left_the_translated_site(outside):  # noqa: F811
    # Runs after the test above, which opened every translated chapter through the same check.
    assert outside == []
