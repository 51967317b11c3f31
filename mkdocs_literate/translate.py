r"""Translation at build time: a chapter's notes, the generated tables and the figures in the
edition's language, from the gettext catalogs that `catalogs` keeps (docs/locales/).

* `translator(lang, source)`: each section's English notes -> the catalog's translation, or the
  English in a box that says the translation is behind;
* `translate_tables`: the words of the generated tables and figures, cell by cell, from the
  `tables` catalog (a table writer knows nothing of languages);
* `translate_figure`: the words of an SVG figure, from the `figures` catalog;
* `join_cjk_lines`: line breaks inside Japanese and Chinese paragraphs, which a browser would
  show as spaces, joined;
* `generated_page`: a page made in memory that mkdocs-static-i18n places like a file on disk
  (the one place where the build patches that plugin).
"""

from __future__ import annotations

import html
import logging
import re
from functools import lru_cache
from pathlib import Path
from typing import Callable

import polib

from . import project
from .splitter import split_file

# Language code -> (name in that language, "translation missing" note shown on the page).
LANGUAGES = {
    "ja": ("日本語", "この節の翻訳は英語の原文に追いついていないため、原文を表示しています。"),
    "zh": ("简体中文", "本节的译文尚未跟上英文原文，暂时显示英文原文。"),
}
# The words a chapter page adds around the notes and code (`page.LABELS`), per language.
PAGE_LABELS = {
    "ja": {"source": "ソース", "permalink": "この節へのリンク", "lines": "リポジトリでこの行を見る",
           "runnable": "単体で動くコードをコピー",
           "runnable_title": "{name} を、それが使う定義ごとコピーする（貼り付けてそのまま実行できる）",
           "reading": "読了時間の目安：{minutes} 分", "colon": "："},
    "zh": {"source": "源代码", "permalink": "本节的链接", "lines": "在代码仓库中查看这几行",
           "runnable": "复制可运行代码",
           "runnable_title": "复制 {name} 及其用到的全部定义，粘贴后即可直接运行",
           "reading": "阅读时间约 {minutes} 分钟", "colon": "："},
}
# The title of the exercises' collapsible answers (`??? success "Answer"` in the English notes)
ANSWER = {"ja": "解答", "zh": "答案"}


# The words of a figure: the text of every <title>, <desc> and <text> (or <tspan>) element that
# holds words, not just symbols like `x`, `F(x)` or `×3`.
_SVG_TEXT = re.compile(r"(<(?:title|desc|text|tspan)\b[^>]*>)([^<]*)(?=<)")


def figure_texts(svg: str) -> list[tuple[str, int]]:
    """(text, line) of each translatable piece of text in an SVG figure, in order."""
    return [(html.unescape(m.group(2)), svg.count("\n", 0, m.start()) + 1) for m in _SVG_TEXT.finditer(svg)
            if re.search(r"[A-Za-z]{2}", m.group(2))]


def translate_figure(svg: str, lang: str) -> str:
    """The SVG with its words in `lang` where the figures catalog has them (English elsewhere)."""
    table = _catalog(lang, "figures") if lang in LANGUAGES else {}

    def replace(m: re.Match) -> str:
        text = html.unescape(m.group(2))
        if text not in table:
            return m.group(0)
        return m.group(1) + html.escape(table[text], quote=False)

    return _SVG_TEXT.sub(replace, svg)


# The words of the generated tables. A `<!-- md: … -->` line becomes a table computed from the
# code (`directives.expand_directives`); in the Japanese and Chinese editions its cells are then
# translated one by one from the `tables` catalog (`translate_tables`), so that a writer knows
# nothing of languages. A cell's msgid is its text with each number, and each name with a digit
# in it (`resnet18`, `ResNet-20`, `CIFAR-10`), replaced by {0}, {1}, …: one entry serves every
# row of its kind, and a new measurement changes no msgid. Code spans and math stay in the msgid
# as they are. Cells without a word to translate (numbers, code, names) and tables that already
# hold CJK text (the glossary, a table typed in a translation) are left alone.

_TABLE_ROW = re.compile(r"^[ \t]*\|.*\|[ \t]*$")
_TABLE_RULE = re.compile(r"^[ \t]*\|(?:[ \t]*:?-+:?[ \t]*\|)+[ \t]*$")
# In a cell: what is not words. Code spans and math are kept in the msgid; numbers (`4,850`,
# `+1.5%`, `2.37e+03`, `3×3`, `10⁶`) and names with a digit become {0}, {1}, …
_CELL_KEEP = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)|\$[^$]+\$")
_CELL_VALUE = re.compile(r"(?<![\w.])(?:[A-Za-z][A-Za-z_]*(?:\d[\w]*|-\d+)(?:[.-]\d+)*(?![\w])"
                         r"|[-+−]?\d+(?:,\d{3})*(?:\.\d+)*(?:e[-+]\d+)?(?:×\d+)*%?[⁰¹²³⁴⁵⁶⁷⁸⁹]*)")
_CELL_SLOT = re.compile(r"\{(\d+)\}")
# Words that are names, not translated: besides these, any word with a capital after its first
# letter (ResNet, ReLU, NVIDIA, CPU, MiB)
TABLE_NAMES = {"torch", "torchvision", "Intel", "Xeon"}

def _table_rows(lines: list[str]) -> list[int]:
    """The indices of the rows (the header and the body, not the `|---|` rule) of every Markdown
    table in `lines` outside fenced code that holds no CJK text."""
    rows, fence, i = [], None, 0
    while i < len(lines):
        opening = re.match(r"[ \t]*(```|~~~)", lines[i])
        if opening and (fence is None or opening.group(1) == fence):
            fence = opening.group(1) if fence is None else None
        elif fence is None and i + 1 < len(lines) and _TABLE_ROW.match(lines[i]) and _TABLE_RULE.match(lines[i + 1]):
            end = i + 2
            while end < len(lines) and _TABLE_ROW.match(lines[end]):
                end += 1
            if not any(re.search(f"[{_CJK}]", line) for line in lines[i:end]):
                rows += [i, *range(i + 2, end)]
            i = end
            continue
        i += 1
    return rows


def _cell_spans(row: str) -> list[tuple[int, int]]:
    """(start, end) of the text of each cell of the table row `| a | b |`, without the spaces
    around it. A `|` inside a code span, or escaped as `\\|`, does not end a cell."""
    pipes, i = [], 0
    while i < len(row):
        if row[i] == "\\":
            i += 2
            continue
        if row[i] == "`":
            ticks = re.match(r"`+", row[i:]).group(0)
            close = row.find(ticks, i + len(ticks))
            i = close + len(ticks) if close != -1 else i + len(ticks)
            continue
        if row[i] == "|":
            pipes.append(i)
        i += 1
    spans = []
    for left, right in zip(pipes, pipes[1:]):
        text = row[left + 1:right]
        start = left + 1 + len(text) - len(text.lstrip())
        spans.append((start, max(start, right - (len(text) - len(text.rstrip())))))
    return spans


def _outside_code_and_math(text: str, change: Callable[[str], str]) -> str:
    """`text` with `change` applied to what lies outside its code spans and math."""
    out, last = [], 0
    for match in _CELL_KEEP.finditer(text):
        out += [change(text[last:match.start()]), match.group(0)]
        last = match.end()
    return "".join(out) + change(text[last:])


def cell_template(cell: str) -> tuple[str, list[str]]:
    """(msgid, values) of a table cell: `"3×3 conv, 64 → 128, /2"` gives
    `("{0} conv, {1} → {2}, /{3}", ["3×3", "64", "128", "2"])`."""
    values: list[str] = []

    def slot(match: re.Match) -> str:
        values.append(match.group(0))
        return f"{{{len(values) - 1}}}"

    return _outside_code_and_math(cell, lambda part: _CELL_VALUE.sub(slot, part)), values


def fill_template(template: str, values: list[str]) -> str:
    """`template` (a translated cell) with {0}, {1}, … replaced by `values`, outside code and math."""
    def value(match: re.Match) -> str:
        index = int(match.group(1))
        return values[index] if index < len(values) else match.group(0)

    return _outside_code_and_math(template, lambda part: _CELL_SLOT.sub(value, part))


def has_words(template: str) -> bool:
    """Whether a cell's msgid has a word to translate: not only numbers, code, math and names."""
    text = _CELL_SLOT.sub(" ", _CELL_KEEP.sub(" ", template))
    return any(word not in TABLE_NAMES and not re.match(r"[A-Za-z][a-z]*[A-Z]", word)
               for word in re.findall(r"[A-Za-z]{2,}", text))


# A generated figure (the learning curves and image grids of `labml_resnet.experiments.records`)
# is one line of HTML: its words (the text between tags, and `aria-label` and `alt` attributes)
# are translated from the same catalog, each piece templated like a cell. A chapter's code column
# is HTML too, and never translated: `self.plain` must not become `self.プレーンネットワーク`.
_HTML_LINE = re.compile(r'^[ \t]*<(?:figure|div)\b(?![^>]*\bclass="lit-code")')
_HTML_WORDS = [re.compile(r"(>)([^<>]+)(?=<)"), re.compile(r'(\b(?:aria-label|alt)=")([^"]+)(?=")')]


def _html_lines(lines: list[str]) -> list[int]:
    """The indices of the lines of generated HTML in `lines` that hold no CJK text."""
    return [i for i, line in enumerate(lines) if _HTML_LINE.match(line) and not re.search(f"[{_CJK}]", line)]


def _html_pieces(line: str) -> list[tuple[int, int]]:
    """(start, end) of each piece of text with words in a line of generated HTML, in order."""
    spans = sorted((m.start(2), m.end(2)) for pattern in _HTML_WORDS for m in pattern.finditer(line))
    return [(start, end) for start, end in spans if has_words(cell_template(html.unescape(line[start:end]))[0])]


def table_cells(markdown: str) -> list[tuple[str, str]]:
    """(msgid, cell) for every cell with words of the tables `translate_tables` would translate,
    and every piece of text with words of the generated figures."""
    lines = markdown.split("\n")
    found = []
    for i in _table_rows(lines):
        for start, end in _cell_spans(lines[i]):
            cell = lines[i][start:end]
            template, _ = cell_template(cell)
            if has_words(template):
                found.append((template, cell))
    for i in _html_lines(lines):
        for start, end in _html_pieces(lines[i]):
            text = html.unescape(lines[i][start:end])
            found.append((cell_template(text)[0], text))
    return found


def translate_tables(markdown: str, lang: str) -> str:
    """`markdown` with the words in its tables and generated figures in `lang`, where the tables
    catalog has them (English elsewhere, and `check` lists what is missing). Tables with CJK
    text are left alone."""
    table = _catalog(lang, "tables") if lang in LANGUAGES else {}
    if not table:
        return markdown
    lines = markdown.split("\n")
    # Table cells are Markdown; a figure's pieces are HTML text, unescaped to look up, escaped back
    kinds = [(_table_rows(lines), _cell_spans, str, str), (_html_lines(lines), _html_pieces, html.unescape, html.escape)]
    for rows, spans, read, write in kinds:
        for i in rows:
            row, pieces, last = lines[i], [], 0
            for start, end in spans(row):
                template, values = cell_template(read(row[start:end]))
                if template in table:
                    pieces += [row[last:start], write(fill_template(table[template], values))]
                    last = end
            lines[i] = "".join(pieces) + row[last:]
    return "\n".join(lines)


def catalog_path(lang: str, domain: str) -> Path:
    return project.current().locales / lang / "LC_MESSAGES" / f"{domain}.po"


def _load(lang: str, domain: str) -> polib.POFile | None:
    path = catalog_path(lang, domain)
    if not path.exists():
        return None
    po = polib.pofile(str(path), wrapwidth=0)
    po.wrapwidth = 0
    return po


# Full-width punctuation carries its own spacing: a space beside it shows as a gap ("。 ResNet",
# "`x` 、"). A typed one is a problem for `check`; a line break there is joined by `join_cjk_lines`.
_PUNCT = "、。：；，！？"
_STRAY_SPACE = re.compile(rf"[{_PUNCT}][*_]*[ \t]+[*_]*(?=[^\s|])|[^\s|][*_]*[ \t]+[*_]*[{_PUNCT}]")

# ---------------------------------------------------------------------------------------------
# The site

def _catalog(lang: str, domain: str) -> dict[str, str]:
    """msgid -> msgstr of the finished entries; read again only when the file changes."""
    path = catalog_path(lang, domain)
    try:
        stat = path.stat()
    except FileNotFoundError:
        return {}
    return _read_catalog(lang, domain, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=None)
def _read_catalog(lang: str, domain: str, mtime_ns: int, size: int) -> dict[str, str]:
    po = _load(lang, domain)
    if po is None:
        return {}
    return {e.msgid: e.msgstr for e in po.translated_entries() if not e.obsolete}


def translator(lang: str, rel_path: str) -> Callable[[str], str]:
    """`translate(notes)` for the chapter at `rel_path` in `lang`, for `page.render_page`.

    Section notes with no finished translation (missing, or fuzzy because the English changed)
    come back in English inside a box that says so; a title or description comes back in English.
    """
    if lang not in LANGUAGES:
        return lambda notes: notes
    here = project.current()
    domain = here.source_domain(rel_path)
    table = _catalog(lang, domain) if domain else {}
    module = split_file(here.root / rel_path)
    front_matter = set(module.meta.values())
    note = LANGUAGES[lang][1]

    def translate(notes: str) -> str:
        if notes in table:
            # The collapsible answers' title, which the catalogs keep as the English marker
            return table[notes].replace('??? success "Answer"', f'??? success "{ANSWER[lang]}"')
        if notes in front_matter or not notes.strip():
            return notes
        return (f'<div class="i18n-fallback" lang="en" markdown>\n'
                f'<p class="i18n-fallback-note" lang="{lang}">{note}</p>\n\n{notes}\n\n</div>')

    return translate


def comment_translator(lang: str, rel_path: str) -> Callable[[str], str | None]:
    """`translate(comment)` for the code comments of the chapter at `rel_path` in `lang`
    (`splitter.translate_code_comments`): the finished translation, or None (the English stays)."""
    if lang not in LANGUAGES:
        return lambda comment: None
    domain = project.current().source_domain(rel_path)
    table = _catalog(lang, domain) if domain else {}
    return table.get


def generated_page(config, src_uri: str, content: str):
    """A page made in memory (a chapter) that mkdocs-static-i18n will place like a file on disk.

    The plugin (1.3) rebuilds every `File` from its path in `docs_dir`, which would lose the
    content of a generated one: give it a path there, and carry the content across.
    """
    import os
    from mkdocs.structure.files import File
    import mkdocs_static_i18n.suffix as suffix

    if not getattr(suffix.create_i18n_file, "keeps_content", False):
        create = suffix.create_i18n_file

        def create_i18n_file(file, *args, **kwargs):
            new = create(file, *args, **kwargs)
            if getattr(file, "generated_content", None) is not None:
                new.content_string = file.generated_content
                new.generated_content = file.generated_content
                new.generated_by = file.generated_by
            return new

        create_i18n_file.keeps_content = True
        suffix.create_i18n_file = create_i18n_file
    file = File.generated(config, src_uri, content=content)
    file.generated_content = content
    file.abs_src_path = os.path.normpath(os.path.join(config.docs_dir, src_uri))
    return file


class _InstantNavigationHandled(logging.Filter):
    """mkdocs-static-i18n warns that its language links go stale under Material's instant
    navigation; `docs/assets/i18n.js` re-points them after each navigation, so the warning
    (which `mkdocs build --strict` would turn into a failure) is taken care of."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "not compatible with theme.features = navigation.instant" not in record.getMessage()


logging.getLogger("mkdocs.plugins.mkdocs_static_i18n.reconfigure").addFilter(_InstantNavigationHandled())


# Chinese and Japanese put no spaces between words, but a browser shows the line break inside a
# paragraph as one ("两个\n阶段" reads "两个 阶段"). The source keeps its short lines, for review
# beside the English; the page joins them where a CJK character ends one line and starts the next,
# also when one of them is inside an inline link, code span or emphasis ("コードは\n[よくある落と
# し穴](…)"), and around full-width punctuation and brackets, which carry their own space
# ("。\nResNet" would read "。 ResNet", "ResNet\n（" "ResNet （"). A line break between CJK
# text and Latin text stays: it shows as the space that belongs there ("ストライド\n2" reads
# "ストライド 2").
_CJK = "\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff01-\uff60"
# A line that starts a block of its own (a heading, list item, quote, table, HTML, fence,
# display math, definition, admonition, setext underline; a blank line), not the paragraph's next line
_BLOCK_START = r"(?:[#>|<{:]|[-+*][ \t]|\d+[.)][ \t]|```|~~~|\$\$|!!!|\?\?\?|\[[^\]\n]*\]:|[=-]+[ \t]*$|$)"
_CJK_BREAK = re.compile(rf"(?<=[{_CJK}])((?:\]\([^()\n]*\)|[*_`\]])*)\n[ \t]*(?=[*_`\[]*[{_CJK}])"
                        rf"|(?<=[{_PUNCT}）」』】])([*_]*)\n[ \t]*(?!{_BLOCK_START})"
                        rf"|(?<=\S)([*_]*)\n[ \t]*(?=[*_]*[{_PUNCT}（「『【])", re.M)


# A space between two CJK characters with only tags between them (a generated figure's pieces,
# each translated in an element of its own: `<span>予測：</span> <span>犬</span>`); not in code
_CJK_HTML_SPACE = re.compile(rf"(?<=[{_CJK}])((?:<[^<>]*>)*)[ \t]+((?:<[^<>]*>)*)(?=[{_CJK}])")
_PRE = r"<pre\b.*?</pre>"  # a code block in HTML (in a chapter's Markdown too, where it stays raw)


def join_cjk_html(html: str) -> str:
    """`html` without spaces between CJK characters that only tags separate, outside `<pre>`."""
    parts = re.split(f"({_PRE})", html, flags=re.S)
    parts[::2] = [_CJK_HTML_SPACE.sub(r"\1\2", part) for part in parts[::2]]
    return "".join(parts)


def join_cjk_lines(markdown: str) -> str:
    """`markdown` with the line breaks between two CJK characters, and those after or before
    full-width punctuation within a paragraph, removed; outside code, never after a heading."""
    def join(match: re.Match) -> str:
        line = match.string[match.string.rfind("\n", 0, match.start()) + 1:match.start()]
        if re.match(r"[ \t]*#", line):  # "## 演習" ends the heading: the next line is not part of it
            return match.group(0)
        return next(group for group in match.groups() if group is not None)

    # Fenced code, and a chapter's code blocks (raw `<pre>` HTML, whose comments may be CJK)
    parts = re.split(rf"(^[ \t]*(?:```|~~~)[^\n]*\n.*?^[ \t]*(?:```|~~~)[ \t]*$|{_PRE})", markdown,
                     flags=re.M | re.S)
    return "".join(part if i % 2 else _CJK_BREAK.sub(join, part) for i, part in enumerate(parts))
