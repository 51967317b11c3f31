"""The Japanese and Chinese editions in headless Chromium: the right `lang`, notes beside the
code at 1280 px with nothing overflowing, a language switcher that lands on the same chapter,
search in each language, generated tables and the theme's tooltips in the edition's language,
emphasis without fake italics, and no space beside full-width punctuation. Uses the site,
server and browser of test_browser.py.
"""

import re

import pytest
from playwright.sync_api import expect

from site_fixtures import CHAPTERS, ROOT

from mkdocs_literate import translate
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
def test_chapters_at_1280_in_each_language(new_page, base_url, lang):  # noqa: F811
    """Each translated chapter loaded once, in a fresh context (empty cache): its `lang`, the
    bytes a first visit transfers (the search index holds every edition, with the search
    languages' word splitters) under the budget, notes beside the code with nothing
    overflowing, no section that falls back to English (the catalogs are complete), and no
    space beside full-width punctuation (`_STRAY_SPACES`)."""
    for path in CHAPTERS:
        requests = []
        page = visit(new_page(1280, on_request=requests.append), base_url, f"{lang}/{path}", wait_until="networkidle")
        page.evaluate("document.fonts.ready.then(() => true)")  # KaTeX's fonts: final layout
        sizes = [request.sizes() for request in requests]
        total = sum(size["responseBodySize"] + size["responseHeadersSize"] for size in sizes)
        print(f"{lang}/{path}: {len(sizes)} requests, {total / 1000:.0f} kB")
        assert total < PAGE_BUDGET, (lang, path, total)
        assert page.evaluate("document.documentElement.lang") == lang, path
        sections = page.evaluate(_LAYOUT)
        assert sections, path
        for s in sections:
            assert s["notes"][1] <= s["code"][0], (lang, path, s)  # notes end left of the code
            assert abs(s["notes"][2] - s["code"][2]) < 2, (lang, path, s)  # same row
        assert page.evaluate(_OVERFLOW) == [], (lang, path)
        assert page.locator(".i18n-fallback").count() == 0, (lang, path)
        assert page.evaluate(_STRAY_SPACES) == [], (lang, path)  # as the reader sees the text
        screenshot(page, f"{lang}-{path.strip('/')}-1280")
        page.context.close()



@pytest.mark.parametrize("lang", LANGS)
def test_markdown_pages_have_the_right_lang_and_fit_at_390(open_page, lang):
    for path in ["", "pitfalls/", "glossary/", "results/"]:
        page = open_page(f"{lang}/{path}", 390)
        assert page.evaluate("document.documentElement.lang") == lang, path
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], (lang, path, width)
        assert page.evaluate(_STRAY_SPACES) == [], (lang, path)  # generated figures' captions included


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
    page = open_page("ja/blocks/", 1280)
    page.locator('a.md-footer__link--next').click()  # instant navigation to the next chapter
    page.wait_for_url(base_url + "ja/shortcuts/")
    # The URL changes before Material swaps the content in and i18n.js repoints the links:
    # wait for the link as a reader's eye would, then click it.
    link = page.locator('a.md-select__link[hreflang="zh"]')
    expect(link).to_have_attribute("href", base_url + "zh/shortcuts/")
    link.dispatch_event("click")
    page.wait_for_url(base_url + "zh/shortcuts/")
    expect(page.locator("html")).to_have_attribute("lang", "zh")


def test_no_request_left_the_translated_site(outside):  # noqa: F811
    # Runs after the test above, which opened every translated chapter through the same check.
    assert outside == []


# The words of the generated tables, the theme's tooltips, emphasis and spacing, as a reader
# sees them (mkdocs_literate translates and checks the Markdown; this checks the result).

# The text of every header and body cell of the page's tables, code and math left out
_TABLE_CELLS = """() => [...document.querySelectorAll('article table')].flatMap(table =>
  [...table.querySelectorAll('th, td')].map(cell => {
    const copy = cell.cloneNode(true)
    copy.querySelectorAll('code, .katex, .arithmatex').forEach(e => e.remove())
    return copy.textContent.trim()
  }))"""



@pytest.mark.parametrize("lang", LANGS)
def test_generated_tables_are_translated(open_page, lang):
    """Every table on these pages is made by a `<!-- md: … -->` line, and its words are
    translated even in a section whose notes are still shown in English."""
    for path in ["shapes/", "preact/", "resnet/", "variants/", "experiments/memory/"]:
        page = open_page(f"{lang}/{path}", 1280)
        cells = page.evaluate(_TABLE_CELLS)
        assert len(cells) > 20, path
        english = [cell for cell in cells if translate.has_words(translate.cell_template(cell)[0])]
        assert not english, (lang, path, english)


# Material's copy button: md-code__button in the installed Material, md-clipboard in older ones
_COPY_BUTTON = "article button.md-code__button, article button.md-clipboard"



@pytest.mark.parametrize("lang", LANGS)
def test_theme_tooltips_are_translated(open_page, lang):
    """The palette toggle (its names come from mkdocs.yml, per edition), the headings' permalinks
    (the `toc` extension's title, replaced by the site hook) and the copy button (Material's own
    translation) speak the edition's language."""
    cjk = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
    page = open_page(f"{lang}/shapes/", 1280)
    toggles = page.evaluate("[...document.querySelectorAll('[for^=__palette]')].map(e => e.title)")
    assert len(toggles) == 2 and all(cjk.search(title) for title in toggles), toggles
    permalinks = page.evaluate("[...document.querySelectorAll('a.headerlink')].map(e => e.title)")
    assert permalinks and set(permalinks) == {translate.PAGE_LABELS[lang]["permalink"]}, set(permalinks)
    page.locator(_COPY_BUTTON).first.wait_for(state="attached")
    copy = page.evaluate(f"[...document.querySelectorAll('{_COPY_BUTTON}')].map(e => e.title)")
    assert copy and all(cjk.search(title) for title in copy), set(copy)
    english = page.evaluate("""[...document.querySelectorAll('[title], [aria-label]')]
      .flatMap(e => [e.title, e.getAttribute('aria-label')])
      .filter(t => /Switch to|Permanent link|Copy to clipboard/.test(t || ''))""")
    assert english == []



@pytest.mark.parametrize("lang", LANGS)
def test_emphasis_is_not_italic(open_page, lang):
    """CJK fonts have no italics (a browser would slant the glyphs): emphasis is marked with
    dots instead, except in an English passage."""
    page = open_page(f"{lang}/preact/", 1280)
    page.evaluate("document.querySelector('article').insertAdjacentHTML('beforeend', "
                  "'<p id=\"cjk-em\"><em>強調</em></p><p lang=\"en\"><em id=\"en-em\">stress</em></p>')")
    style = "e => [getComputedStyle(e).fontStyle, getComputedStyle(e).textEmphasisStyle]"
    assert page.locator("#cjk-em em").evaluate(style) == ["normal", "sesame" if lang == "ja" else "dot"]
    assert page.locator("#en-em").evaluate(style)[0] == "italic"
    styles = page.evaluate(f"[...document.querySelectorAll('article em')].filter(e => !e.closest('[lang=en]')).map({style})")
    assert all(font == "normal" for font, _ in styles), styles  # the page's own, outside English passages


# A space a reader sees beside full-width punctuation or between two CJK characters (a line
# break next to a link or code span, say), in the text as laid out (innerText), without code
# blocks, hidden MathML and English passages
_STRAY_SPACES = r"""() => {
  const hidden = [...document.querySelectorAll('article pre, article .katex-mathml, article [lang=en], .lit-links')]
  hidden.forEach(e => e.style.display = 'none')
  const text = document.querySelector('article').innerText
  hidden.forEach(e => e.style.display = '')
  const cjk = '[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff01-\uff60\u3000-\u303f]'
  const stray = new RegExp(`.{0,8}(?:[、。：；，！？][ \u00a0]+\\S|\\S[ \u00a0]+[、。：；，！？]|${cjk}[ \u00a0]+${cjk}).{0,8}`, 'g')
  return [...text.matchAll(stray)].map(m => m[0])
}"""


@pytest.mark.parametrize("lang", LANGS)
def test_no_space_beside_full_width_punctuation(open_page, lang):
    found = {}
    for path in ["", "pitfalls/", "results/", "glossary/"]:  # the chapters: in test_chapters_at_1280_in_each_language
        spaces = open_page(f"{lang}/{path}", 1280).evaluate(_STRAY_SPACES)
        if spaces:
            found[path] = spaces
    assert not found, found


# Any word of a generated figure outside it: an SVG text drawn past the figure's edge is cut
# (a translated label is longer than the English one), a caption wider than its box
_FIGURE_TEXT_OUTSIDE = """() => [...document.querySelectorAll('figure.lit-generated')].flatMap(figure => {
  const out = [];
  for (const svg of figure.querySelectorAll('svg')) {
    const box = svg.getBoundingClientRect();
    for (const text of svg.querySelectorAll('text')) {
      const r = text.getBoundingClientRect();  // after any rotation
      if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1)
        out.push(text.textContent);
    }
  }
  for (const caption of figure.querySelectorAll('figcaption'))
    if (caption.scrollWidth > caption.clientWidth + 1 || caption.getBoundingClientRect().right > figure.getBoundingClientRect().right + 1)
      out.push(caption.textContent);
  return out;
})"""


@pytest.mark.parametrize("lang", ["en", *LANGS])
def test_every_word_of_a_generated_figure_fits_in_it(open_page, lang):
    """The learning curves (stacked in chapter 1, single panels on the results page), the lesion
    figure and the confusion heat map, in every edition, on a phone and on a desktop."""
    prefix = "" if lang == "en" else f"{lang}/"
    for width in (390, 1280):
        for path in ["residual/", "results/"]:
            page = open_page(prefix + path, width)
            assert page.locator("figure.lit-generated").count() >= 3, (lang, path)
            assert page.evaluate(_FIGURE_TEXT_OUTSIDE) == [], (lang, path, width)
