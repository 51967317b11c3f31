"""The built site: a clean strict build, one page per chapter in reading order, sections that
match the splitter, math rendered at build time, directives expanded, nothing fetched from
elsewhere, pages small enough. (test_browser.py checks the same site in a real browser.)"""

import gzip
import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from mkdocs.exceptions import PluginError

import site_fixtures
from mkdocs_literate import reading
from site_fixtures import CHAPTERS, PAGES, REPO_URL, ROOT

from mkdocs_literate import directives, katex  # noqa: E402

PAGE_BUDGET = 500_000  # bytes a chapter page may transfer, assets included


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    built = site_fixtures.build_site(tmp_path_factory)
    assert built.returncode == 0, f"mkdocs build --strict failed:\n{built.log}"
    return built


def test_strict_build_is_clean(site):
    # How long it takes is `make bench-site`'s business (benchmarks/site_build.py), not a test's
    assert "WARNING" not in site.log and "ERROR" not in site.log, site.log
    # MkDocs reports a link to a missing anchor at INFO: a broken link in any edition
    assert "anchor" not in site.log, site.log


def test_pages_in_reading_order(site):
    # Follow the "next" links in the footer from the home page (navigation.footer).
    order, page = [""], ""
    while match := re.search(r'href="([^"]*)" class="md-footer__link md-footer__link--next"', site.html(page)):
        page = str((Path("/") / page / match.group(1)).resolve()).strip("/")
        page = page + "/" if page else ""
        order.append(page)
    assert order == PAGES
    assert set(CHAPTERS) <= set(PAGES)  # a new module needs its place in the nav


class _Sections(HTMLParser):
    """Each rendered section: id, code text as the browser has it, line numbers, links."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found, self.in_block, self.in_code = [], False, False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if tag == "div" and "lit-section" in classes:
            self.found.append({"id": attrs["id"], "code": "", "lines": [], "links": []})
        elif tag == "div" and "lit-code" in classes:
            self.in_block = True  # notes come first, so inline <code> in notes is never counted
        elif tag == "code" and self.in_block:
            self.in_code = True
        elif tag == "span" and "lit-line" in classes:
            self.found[-1]["lines"].append(int(attrs["data-line"]))
        elif tag == "a" and "lit-lines" in classes:
            self.found[-1]["links"].append(attrs["href"])

    def handle_endtag(self, tag):
        if tag == "code":
            self.in_block = self.in_code = False

    def handle_data(self, data):
        if self.in_code:
            self.found[-1]["code"] += data


@pytest.mark.parametrize("page", list(CHAPTERS))
def test_sections_match_the_splitter(site, page):
    parser = _Sections()
    parser.feed(site.html(page))
    expected = site_fixtures.sections(page)
    assert [s["id"] for s in parser.found] == [s.anchor for s in expected]
    blob = f"{REPO_URL}/blob/main/{CHAPTERS[page]}"
    assert f'href="{blob}"' in site.html(page)  # the whole file
    for shown, section in zip(parser.found, expected):
        # Browsers read CR LF as LF; otherwise the code is the source, character for character.
        assert shown["code"] == section.code.replace("\r\n", "\n"), section.anchor
        assert shown["lines"] == section.code_lines  # the source file's line numbers
        if section.code:
            assert shown["links"] == [f"{blob}#L{section.first_line}-L{section.code_lines[-1]}"]


@pytest.mark.parametrize("page", list(CHAPTERS))
def test_front_matter_is_title_and_description(site, page):
    meta = site_fixtures.splitter.split_file(ROOT / CHAPTERS[page]).meta
    text = site.html(page)
    title = html.unescape(re.search(r"<title>(.*?)</title>", text).group(1))
    description = html.unescape(re.search(r'<meta name="description" content="(.*?)">', text).group(1))
    assert title == f"{meta['title']} - labml_resnet"
    assert description == meta["description"]


def test_theme_features(site):
    text = site.html("blocks/")
    config = json.loads(re.search(r'<script id="__config" type="application/json">(.*?)</script>', text).group(1))
    assert {"navigation.instant", "navigation.footer", "content.code.copy"} <= set(config["features"])
    assert 'data-md-color-scheme="slate"' in text  # the dark half of the palette toggle
    assert "fonts.googleapis" not in text and "fonts.gstatic" not in text


def test_math_is_rendered_at_build_time(site):
    for page in PAGES:
        text = site.html(page)
        assert 'class="arithmatex">\\(' not in text and 'class="arithmatex">\\[' not in text, page
    for page in ["", "residual/", "api/"]:
        text = site.html(page)
        assert 'class="katex"' in text and "<math" in text, page  # HTML and MathML


def test_directives_are_expanded(site):
    for page in PAGES:
        text = site.html(page)
        assert "<!-- md:" not in text and "<!-- figure:" not in text and 'data-figure="' not in text, page
    for page in ["", "residual/", "blocks/"]:  # pages whose notes place a figure
        assert '<figure class="lit-figure"><svg' in site.html(page), page
    assert "<table>" in site.html("shapes/")


def test_search_covers_notes_and_code(site):
    index = json.loads((site.path / "search" / "search_index.json").read_text(encoding="utf-8"))
    text = " ".join(doc["text"] for doc in index["docs"] if doc["location"].startswith("blocks/"))
    assert "def forward" in text and "self.conv1" in text  # code
    assert "bottleneck" in text.lower()  # notes


def test_each_edition_has_its_own_search_index(site):
    """English pages in `search/`, Japanese in `ja/search/`, Chinese in `zh/search/`: a search
    finds pages of the reader's edition only (the browser test checks what a reader sees)."""
    for edition in ["", "ja/", "zh/"]:
        index = json.loads((site.path / edition / "search" / "search_index.json").read_text(encoding="utf-8"))
        locations = [doc["location"] for doc in index["docs"]]
        found = {where.split("/")[0] + "/" if where.startswith(("ja/", "zh/")) else "" for where in locations}
        assert found == {edition}, edition
        # api/ is English in every edition, and the i18n plugin indexes that text once, in English
        expected = set(PAGES) - ({"api/"} if edition else set())
        assert expected <= {where.removeprefix(edition).split("#")[0] for where in locations}
        assert set(index["config"]["lang"]) == {"en", "ja", "zh"}  # one tokenizer set for all
    for edition in ["ja/", "zh/"]:
        assert f'new URL("{edition}search/search_index.json"' in site.html(f"{edition}shortcuts/")
    assert "search/search_index.json" not in site.html("shortcuts/")  # English: Material's own request


def _local_assets(site, page: str) -> list[Path]:
    """Files a page loads at once: stylesheets, scripts."""
    text = site.html(page)
    refs = re.findall(r'<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"', text)
    refs += re.findall(r'<script[^>]+src="([^"]+)"', text)
    return [(site.path / page / ref.split("?")[0]).resolve() for ref in refs]


def test_nothing_is_fetched_from_elsewhere(site):
    for page in PAGES:
        text = site.html(page)
        for tag in re.findall(r"<(?:script|link|img|iframe|source|video|audio)\b[^>]*>", text):
            if re.search(r'\b(?:src|href)="(?:https?:)?//', tag) and 'rel="canonical"' not in tag:
                pytest.fail(f"{page or 'home'}: {tag}")
        for asset in _local_assets(site, page):
            assert asset.is_file(), asset
    for css in site.path.rglob("*.css"):
        text = css.read_text(encoding="utf-8")
        assert not re.search(r"url\(\s*['\"]?(?:https?:)?//|@import", text), css
    assert not (site.path / "assets" / "katex" / "katex.min.js").exists()  # build-time only


@pytest.mark.parametrize("page", list(CHAPTERS))
def test_chapter_page_size(site, page):
    """What a first visit transfers, gzipped as GitHub Pages serves it: the HTML, its stylesheets
    and scripts, the search worker and index (test_browser.py measures the real transfer,
    KaTeX's fonts included)."""
    files = [site.path / page / "index.html", *_local_assets(site, page),
             site.path / "search" / "search_index.json",
             *(site.path / "assets" / "javascripts" / "workers").glob("search.*.min.js")]
    raw = sum(f.stat().st_size for f in files)
    sent = sum(len(gzip.compress(f.read_bytes(), compresslevel=6)) for f in files)
    print(f"{page}: {sent / 1000:.0f} kB sent ({raw / 1000:.0f} kB before compression)")
    assert sent < PAGE_BUDGET
    assert (site.path / page / "index.html").stat().st_size < PAGE_BUDGET  # the HTML alone, uncompressed


# One sitting per page: what is open on a page (prose, code and tables outside closed blocks)
OPEN_WORDS_BUDGET = 4000


@pytest.mark.parametrize("page", PAGES)
def test_each_page_reads_in_one_sitting(site, page):
    """Every page shows its reading time under its title, in every edition, computed from the
    words open on the page; an English page has at most OPEN_WORDS_BUDGET of them."""
    for edition in ["", "ja/", "zh/"]:
        html = site.html(edition + page)
        times = re.findall(r'</h1>\s*<p class="lit-reading-time" data-open-words="(\d+)" data-cjk="(\d+)">([^<]+)</p>', html)
        assert len(times) == 1 and len(re.findall("lit-reading-time", html)) == 1, (edition + page, times)
        words, cjk, text = times[0]
        counts = reading.open_words(reading.article(html.replace(text, "")))
        assert int(words) == counts["prose"] + counts["code"] + counts["tables"]
        assert str(reading.reading_minutes(counts)) in text
        if edition:
            assert int(cjk) > 0 or page == "api/", edition + page  # the API reference stays English
    words = int(re.search(r'data-open-words="(\d+)"', site.html(page)).group(1))
    print(f"{page or 'index'}: {words} open words")
    assert words <= OPEN_WORDS_BUDGET, f"{page}: {words} open words"


@pytest.mark.parametrize("page", list(CHAPTERS))
def test_the_source_line_uses_the_editions_colon(site, page):
    assert '<p class="lit-source">Source: <a' in site.html(page)
    for edition, label in [("ja/", "ソース："), ("zh/", "源代码：")]:  # full-width, with no space after it
        assert f'<p class="lit-source">{label}<a' in site.html(edition + page)


@pytest.mark.parametrize("page", PAGES)
def test_headings_have_the_english_ids_in_every_edition(site, page):
    """A link to a section (`pitfalls.md#relu-placement`, or a copied address) works in every
    edition: a translated page's headings have the English page's ids, in the same order, and
    its own links to them follow."""
    english = re.findall(r'<h[1-6] id="([^"]+)"', site.html(page))
    for edition in ["ja/", "zh/"]:
        html = site.html(edition + page)
        assert re.findall(r'<h[1-6] id="([^"]+)"', html) == english, edition + page
        ids = set(re.findall(r'\bid="([^"]+)"', html))
        assert {target for target in re.findall(r'href="#([^"]+)"', html)} <= ids, edition + page


# ---------------------------------------------------------------------------------------------
# The hook's parts, without a build


def test_md_directive_inserts_the_function_result(tmp_path, monkeypatch):
    from labml_resnet._site import MARKDOWN_WRITERS
    import html
    monkeypatch.setitem(MARKDOWN_WRITERS, "demo.escape", html.escape)
    text = "a\n  <!-- md: demo.escape('<b>') -->\n```\n<!-- md: nope.nope() -->\n```\n"
    assert directives.expand_directives(text, tmp_path) == "a\n  &lt;b&gt;\n```\n<!-- md: nope.nope() -->\n```\n"


def test_md_directive_fails_loudly(tmp_path, monkeypatch):
    """A registered writer that fails, or returns something that is not Markdown, stops the build
    (tests/test_untrusted.py has the calls that are refused before anything runs)."""
    from labml_resnet._site import MARKDOWN_WRITERS
    import math
    monkeypatch.setitem(MARKDOWN_WRITERS, "demo.sqrt", math.sqrt)
    for call in ["demo.sqrt(-1.0)", "demo.sqrt(4.0)"]:
        with pytest.raises(PluginError):
            directives.expand_directives(f"<!-- md: {call} -->\n", tmp_path)


def test_figure_directive(tmp_path):
    (tmp_path / "block.svg").write_text('<?xml version="1.0"?>\n<svg viewBox="0 0 1 1"></svg>\n')
    text = directives.expand_directives("<!-- figure: block -->", tmp_path)
    assert text == '<div class="lit-figure" data-figure="block"></div>'
    assert directives.figure_html(tmp_path / "block.svg") == '<figure class="lit-figure"><svg viewBox="0 0 1 1"></svg></figure>'
    with pytest.raises(PluginError):
        directives.expand_directives("<!-- figure: missing -->", tmp_path)


def test_katex():
    out = katex.render_math('<p><span class="arithmatex">\\(x_1 &lt; \\mathcal{F}\\)</span></p>')
    assert out.startswith('<p><span class="katex"><span class="katex-mathml"><math')
    assert 'display="block"' in katex.render("y = x", display=True)
    with pytest.raises(katex.MathError):
        katex.render("\\frac{")


def _code_text(page_html: str) -> list[str]:
    """The text of each code block of a chapter page, as a reader copies it."""
    blocks = re.findall(r'<pre id="L\d+"><code>(.*?)</code></pre>', page_html, re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", block)) for block in blocks]


def _without_comments(blocks: list[str]) -> list[str]:
    return [re.sub(r"#.*", "", block) for block in blocks]


@pytest.mark.parametrize("page", list(CHAPTERS))
def test_the_code_is_the_same_in_every_edition(site, page):
    """The notes are translated, the code never is (`self.plain` stays `self.plain` in /ja/);
    the comments in it are, line for line, so every line keeps its number."""
    english = _code_text(site.html(page))
    for edition in ("ja/", "zh/"):
        translated = _code_text(site.html(edition + page))
        assert [block.count("\n") for block in translated] == [block.count("\n") for block in english]
        assert _without_comments(translated) == _without_comments(english), edition
    if english:  # every line keeps its number, and its highlighting (put back after search read the page)
        assert 'class="lit-line" data-line=' in site.html(page) and '<span class="n">' in site.html(page)


@pytest.mark.parametrize("page", list(CHAPTERS))
def test_the_comments_in_the_code_are_translated(site, page):
    """Each comment that stays in the code (`splitter.code_comments`) shows in the edition's
    language in its code column and its notebook: the catalogs have them all (`check`)."""
    from mkdocs_literate import splitter, translate
    comments = splitter.code_comments(splitter.split_file(ROOT / CHAPTERS[page]))
    for lang in ("ja", "zh"):
        code = "\n".join(_code_text(site.html(f"{lang}/{page}")))
        notebook = site.path / lang / (page.rstrip("/") + ".ipynb")
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"] if page and notebook.exists() else []
        notebook_code = "\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "code")
        for comment in comments:
            translated = translate.comment_translator(lang, CHAPTERS[page])(comment.text)
            assert translated, (lang, page, comment.text)
            for line in translated.split("\n"):
                assert f"# {line}".rstrip() in code, (lang, page, line)
                assert not cells or f"# {line}".rstrip() in notebook_code, (lang, page, line)


def test_copy_runnable_links_in_every_edition(site):
    """Each class and function of a chapter has a "copy runnable" link to a file that holds it
    and what it uses (`labml_resnet.standalone`), in each edition's words."""
    from labml_resnet import standalone

    for edition, label in (("", "copy runnable"), ("ja/", "単体で動くコードをコピー"), ("zh/", "复制可运行代码")):
        text = site.html(edition + "blocks/")
        links = re.findall(r'<a class="lit-runnable" href="([^"]+)" download title="[^"]+" aria-label="([^"]+)">([^<]+)</a>', text)
        assert [aria.split(": ")[-1] for _, aria, _ in links] == standalone.names("labml_resnet/blocks.py")
        assert {shown for _, _, shown in links} == {label}
        for href, aria, _ in links:
            assert aria.startswith(label)  # the name a screen reader reads starts with the words on screen
            published = (site.path / edition / "blocks" / href).resolve()
            name = aria.split(": ")[-1]
            assert published.read_text(encoding="utf-8") == standalone.runnable_source(f"labml_resnet.blocks.{name}")
