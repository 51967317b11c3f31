r"""How long a page takes to read: the words a reader sees open, counted at build time.

A page's open text is its prose, code and tables outside closed `<details>` blocks; figures,
scripts, permalink marks and what screen readers skip (`aria-hidden`) are not read. The
count is split three ways, so that a page that is long because of a table can be told from
one that is long because of its prose. `python -m mkdocs_literate.reading SITE` prints the
counts of a built site's pages.

The reading time under each chapter's title uses common rates: 200 English words a minute
for prose, half that for code and tables, which are read slower; 500 characters a minute for
Japanese and Chinese prose.
"""

import re
import sys
from html.parser import HTMLParser
from pathlib import Path

# Elements with no end tag: they never enclose text
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
# What is not read: pictures, machinery, a formula's TeX source (KaTeX keeps it beside the
# MathML, whose symbols are read), and the permalink mark after each heading
_SKIPPED = {"script", "style", "svg", "template", "button", "annotation"}
_WORD = re.compile(r"\w+")  # `self.conv1(x)` is three words, `=` none
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
WORDS_PER_MINUTE = {"prose": 200, "code": 100, "tables": 100}
CJK_CHARACTERS_PER_MINUTE = 500


class _Counter(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        # (tag, skipped, kind, outer) of each open element; `outer`: whether its parent was skipped
        self.stack: list[tuple[str, bool, str, bool]] = []
        self.counts = {"prose": 0, "code": 0, "tables": 0, "cjk": 0}

    def handle_starttag(self, tag, attrs):
        if tag in _VOID:
            return
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        parent, parent_skipped, kind, parent_outer = self.stack[-1] if self.stack else ("", False, "prose", False)
        skipped = (parent_skipped or tag in _SKIPPED or attributes.get("aria-hidden") == "true"
                   or (tag == "details" and "open" not in attributes) or "headerlink" in classes)
        if tag == "summary" and parent == "details" and not parent_outer:
            skipped = False  # a closed block's summary is read: it is the one line the block shows
        if tag in ("table",):
            kind = "tables"
        elif tag == "pre" or "lit-code" in classes or "highlight" in classes:
            kind = "code" if kind == "prose" else kind
        self.stack.append((tag, skipped, kind, parent_skipped))

    def handle_startendtag(self, tag, attrs):
        pass  # `<br/>`, `<img/>`: no text

    def handle_endtag(self, tag):
        # Close up to the matching element (HTML allows some end tags to be left out)
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        if self.stack and self.stack[-1][1]:
            return
        kind = self.stack[-1][2] if self.stack else "prose"
        cjk = len(_CJK.findall(data))
        self.counts["cjk"] += cjk
        self.counts[kind] += len(_WORD.findall(_CJK.sub(" ", data)))


def open_words(html: str) -> dict[str, int]:
    r"""The words of `html` a reader sees open: `prose`, `code`, `tables` (runs of letters, digits
    and underscores, CJK characters left out) and `cjk` (Japanese and Chinese characters, of any kind)."""
    counter = _Counter()
    counter.feed(html)
    counter.close()
    return counter.counts


def reading_minutes(counts: dict[str, int]) -> int:
    r"""Whole minutes, at least one, to read text of these `open_words` counts."""
    minutes = sum(counts[kind] / rate for kind, rate in WORDS_PER_MINUTE.items())
    minutes += counts["cjk"] / CJK_CHARACTERS_PER_MINUTE
    return max(1, round(minutes))


def article(page_html: str) -> str:
    r"""The `<article>` of a built page: what the page says, without the theme's navigation."""
    start = page_html.find("<article")
    end = page_html.rfind("</article>")
    return page_html[start:end] if start >= 0 <= end else page_html


def main(site: str) -> None:
    for path in sorted(Path(site).glob("**/index.html")):
        counts = open_words(article(path.read_text(encoding="utf-8")))
        total = counts["prose"] + counts["code"] + counts["tables"]
        print(f"{str(path.parent.relative_to(site)) or '.':28} {total:6} open words "
              f"({counts['prose']} prose, {counts['code']} code, {counts['tables']} tables, "
              f"{counts['cjk']} CJK characters), {reading_minutes(counts)} min")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "site")
