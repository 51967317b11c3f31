r"""Translations of the site: gettext catalogs for the chapters, translated Markdown pages.

    python docs/hooks/i18n.py extract   # update docs/locales/<lang>/LC_MESSAGES/*.po from the code
    python docs/hooks/i18n.py check     # list what is missing, fuzzy or broken; exit 1 if anything is

See `docs/locales/README.md` for the workflow. In short:

* **Chapters** (`labml_resnet/*.py`, `experiment.py`) are translated section by section. Each
  catalog entry's `msgid` is the exact English notes of one section, as `literate.py` splits
  them (plus the page's title and description). The site looks each section up with
  `translator(lang, path)`; a missing or fuzzy entry shows the English with a visible note.
* `extract` keeps catalogs in step with the code: new sections get empty entries; a section
  whose English changed keeps its old translation, marked `#, fuzzy` with the old English as
  `#| msgid`, so the translator sees what changed; removed sections become obsolete (`#~`).
* **Markdown pages** (`docs/index.md`, …) are translated whole, as `docs/index.ja.md` (the
  layout of mkdocs-static-i18n). A translated page names the English it was translated from
  with `source_sha` in its front matter; when the English page changes, `check` says so.
* **The generated tables** (`<!-- md: … -->` lines) are translated cell by cell after the site
  has made them, from the `tables` catalog, whose msgids `extract` collects by making every
  table the chapters and pages ask for (`generated_tables`): a table writer knows nothing of
  languages.
* `check` also fails when a translation changed what must not change (math, code, link
  targets, `<!-- figure: … -->` directives), strays from the glossary, or puts a space beside
  full-width punctuation (`stray_spaces`).
"""

from __future__ import annotations

import difflib
import hashlib
import html
import logging
import re
import sys
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

import polib
import yaml

sys.path.insert(0, str(Path(__file__).parent))
import literate  # noqa: E402  (the splitter: the msgids are exactly its notes)

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
LOCALES = DOCS / "locales"

# Language code -> (name in that language, "translation missing" note shown on the page).
LANGUAGES = {
    "ja": ("日本語", "この節の翻訳は英語の原文に追いついていないため、原文を表示しています。"),
    "zh": ("简体中文", "本节的译文尚未跟上英文原文，暂时显示英文原文。"),
}
# The words a chapter page adds around the notes and code (`literate.LABELS`), per language.
PAGE_LABELS = {
    "ja": {"source": "ソース", "permalink": "この節へのリンク", "lines": "リポジトリでこの行を見る"},
    "zh": {"source": "源代码", "permalink": "本节的链接", "lines": "在代码仓库中查看这几行"},
}
# The title of the exercises' collapsible answers (`??? success "Answer"` in the English notes)
ANSWER = {"ja": "解答", "zh": "答案"}
# Languages whose translation is still being written: the tests expect them to fail `check`.
# Remove a language from here once `python docs/hooks/i18n.py check` passes for it.
IN_PROGRESS: set[str] = set()

# The literate chapters: catalog (domain) name -> source file, relative to the repository root.
CHAPTERS = {
    "labml_resnet": "labml_resnet/__init__.py",
    "shortcuts": "labml_resnet/shortcuts.py",
    "blocks": "labml_resnet/blocks.py",
    "resnet": "labml_resnet/resnet.py",
    "preact": "labml_resnet/preact.py",
    "shapes": "labml_resnet/shapes.py",
    "experiment": "experiment.py",
    # The experiment's appendix (labml_resnet/experiments/)
    **{f"experiments-{name}": f"labml_resnet/experiments/{name if name != 'index' else '__init__'}.py"
       for name in ("index", "cifar10", "flags", "runs", "world", "display", "memory", "plot", "reproduce", "records")},
    # Not a chapter: the words in the figures (docs/figures/*.svg), one entry per text element.
    "figures": "docs/figures",
    # Not a chapter: the words in the generated tables, one entry per kind of cell (`table_cells`).
    "tables": "<!-- md: … --> tables",
}
TABLES = CHAPTERS["tables"]
# Markdown pages under docs/ that are not translated (generated from English docstrings).
UNTRANSLATED_PAGES = {"api.md"}


# ---------------------------------------------------------------------------------------------
# The glossary: one translation per term, everywhere. `pattern` is a regex over the English
# prose (math and code removed); wherever it matches a msgid, the msgstr must contain the
# term's translation. `AVOID` below lists the variants machine translation produces instead.

@dataclass(frozen=True)
class Term:
    en: str  # the English term, as shown in the glossary
    ja: str
    zh: str
    pattern: str  # regex over English prose


GLOSSARY = [
    Term("residual learning", "残差学習", "残差学习", r"residual learning"),
    Term("identity mapping", "恒等写像", "恒等映射", r"identity mappings?"),
    Term("shortcut connection", "ショートカット接続", "快捷连接", r"shortcut connections?"),
    Term("projection shortcut", "射影ショートカット", "投影快捷连接", r"projection shortcuts?"),
    Term("zero-padding shortcut", "ゼロパディングショートカット", "零填充快捷连接", r"zero-padding shortcuts?"),
    Term("bottleneck block", "ボトルネックブロック", "瓶颈块", r"bottleneck blocks?"),
    Term("degradation problem", "劣化問題", "退化问题", r"degradation problem"),
    Term("pre-activation", "事前活性化", "预激活", r"pre-?activation"),
    Term("feature map", "特徴マップ", "特征图", r"feature maps?"),
    Term("stride", "ストライド", "步幅", r"\bstrides?\b"),
    Term("downsampling", "ダウンサンプリング", "下采样", r"\bdownsampl(e|es|ed|ing)\b"),
    Term("global average pooling", "グローバル平均プーリング", "全局平均池化", r"global average pool(ing)?"),
    Term("batch normalization", "バッチ正規化", "批量归一化", r"batch[ -]?norm(alization)?\b"),
]


def glossary_markdown() -> str:
    """The glossary as a Markdown table, for `<!-- md: i18n.glossary_markdown() -->` on the site.

    Each language is named in itself, so the same table serves every edition."""
    rows = ["| English | 日本語 | 简体中文 |", "|---|---|---|"]
    rows += [f"| {term.en} | {term.ja} | {term.zh} |" for term in GLOSSARY]
    return "\n".join(rows) + "\n"


# Paper titles stay in English, so the glossary doesn't apply to them.
PAPER_TITLES = ["Deep Residual Learning for Image Recognition", "Identity Mappings in Deep Residual Networks"]

# Variants that must never appear (the same idea, translated another way).
AVOID = {
    "ja": ["残余", "残留", "リネット", "恒等マッピング", "恒等関数", "恒等変換", "近道", "ショートカット結合",
           "スキップ接続", "瓶首", "バッチノーマライゼーション", "バッチ正則化", "バッチ標準化", "特徴量マップ",
           "特徴図", "前活性化", "プレアクティベーション", "大域平均", "全体平均プーリング", "歩幅", "劣化問題点",
           "退化問題", "投影ショートカット"],
    "zh": ["残余", "残留", "捷径连接", "跳跃连接", "短路连接", "恒等变换", "特征映射", "批归一化", "批标准化",
           "批量标准化", "批规范化", "步长", "降采样", "瓶颈层", "预先激活", "前置激活", "退化现象",
           "投射快捷连接", "全局均值池化"],
}


# ---------------------------------------------------------------------------------------------
# Extraction

@dataclass
class Message:
    msgid: str
    where: list[tuple[str, int]]  # (path, line) of each section with these notes
    anchors: list[str]  # the section anchors (or "title", "description")
    example: str = ""  # for a table cell with {0}, {1}, …: one cell as the page shows it


def messages(rel_path: str) -> list[Message]:
    """The translatable strings of one chapter, in page order: title, description, each section's
    notes. For the figures folder, the words of each figure (`figure_texts`); for `TABLES`,
    the words of the generated tables (`table_cells` of `generated_tables`)."""
    found: dict[str, Message] = {}

    def add(text: str, line: int, anchor: str, where: str = rel_path, example: str = "") -> None:
        if not text.strip():
            return
        message = found.setdefault(text, Message(text, [], [], example))
        message.where.append((where, line))
        message.anchors.append(anchor)

    if rel_path == TABLES:
        for where, line, call, markdown in generated_tables():
            writer = "table " + call.split("(")[0].rsplit(".", 1)[-1]
            for template, cell in table_cells(markdown):
                known = found.get(template)
                if known is None or (where, line) not in known.where:  # once per table, not per row
                    add(template, line, writer, where, cell if cell != template else "")
        for message in found.values():
            message.anchors = list(dict.fromkeys(message.anchors))
        return list(found.values())
    if (ROOT / rel_path).is_dir():
        for svg in sorted((ROOT / rel_path).glob("*.svg")):
            for text, line in figure_texts(svg.read_text(encoding="utf-8")):
                add(text, line, f"figure {svg.stem}", f"{rel_path}/{svg.name}")
        return list(found.values())
    module = literate.split_file(ROOT / rel_path)
    for key in ("title", "description"):
        add(module.meta.get(key, ""), 1, key)
    for section in module.sections:
        add(section.notes, section.first_line, section.anchor)
    return list(found.values())


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
# code (`site_hooks.expand_directives`); in the Japanese and Chinese editions its cells are then
# translated one by one from the `tables` catalog (`translate_tables`), so that a writer knows
# nothing of languages. A cell's msgid is its text with each number, and each name with a digit
# in it (`resnet18`, `ResNet-20`, `CIFAR-10`), replaced by {0}, {1}, …: one entry serves every
# row of its kind, and a new measurement changes no msgid. Code spans and math stay in the msgid
# as they are. Cells without a word to translate (numbers, code, names) and tables that already
# hold CJK text (the glossary, a table typed in a translation) are left alone.

# A directive line, in a page or in a chapter's notes (after the `#` of a comment)
_TABLE_DIRECTIVE = re.compile(r"^[ \t]*(?:#[ \t]?)?[ \t]*<!--\s*md:\s*(?P<call>.*?)\s*-->[ \t]*$")
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


def generated_tables() -> list[tuple[str, int, str, str]]:
    """(path, line, call, Markdown) for each `<!-- md: … -->` line of the chapters and the English
    pages, outside fenced code: the calls the site makes, made the way the site makes them
    (`site_hooks.call_directive`, which keeps each call's Markdown for the rest of the process)."""
    here = Path(__file__).resolve().parent
    for folder in (str(here.parents[1]), str(here)):  # the package and `experiment.py`; the site's hooks
        if folder not in sys.path:
            sys.path.insert(0, folder)
    import site_hooks

    sources = [path for path in CHAPTERS.values() if path.endswith(".py")]
    sources += [str(page.relative_to(ROOT)) for page in english_pages()]
    found, fence = [], None
    for rel_path in sources:
        for number, line in enumerate((ROOT / rel_path).read_text(encoding="utf-8").split("\n"), 1):
            text = re.sub(r"^[ \t]*#[ \t]?", "", line) if rel_path.endswith(".py") else line
            opening = re.match(r"[ \t]*(```|~~~)", text)
            if opening and (fence is None or opening.group(1) == fence):
                fence = opening.group(1) if fence is None else None
            elif fence is None and (match := _TABLE_DIRECTIVE.match(line)):
                call = match.group("call")
                found.append((rel_path, number, call, site_hooks.call_directive(call, f"{rel_path}:{number}")))
        fence = None
    return found


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
# are translated from the same catalog, each piece templated like a cell.
_HTML_LINE = re.compile(r"^[ \t]*<(?:figure|div)\b")
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
    return LOCALES / lang / "LC_MESSAGES" / f"{domain}.po"


def _new_catalog(lang: str, domain: str) -> polib.POFile:
    po = polib.POFile(wrapwidth=0)
    po.metadata = {
        "Project-Id-Version": f"labml_resnet {domain}",
        "Language": lang,
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
        "Plural-Forms": "nplurals=1; plural=0;",
    }
    po.header = (f"{LANGUAGES[lang][0]} translation of {CHAPTERS[domain]}.\n"
                 "Each msgid is the English notes of one section; update with\n"
                 "`python docs/hooks/i18n.py extract`, see docs/locales/README.md.")
    if domain == "tables":
        po.header = (f"{LANGUAGES[lang][0]} translation of the words in the generated tables.\n"
                     "Each msgid is one kind of table cell: {0}, {1}, … stand for its numbers and\n"
                     "names, which the site puts back as they are. Update with\n"
                     "`python docs/hooks/i18n.py extract`, see docs/locales/README.md.")
    return po


def _load(lang: str, domain: str) -> polib.POFile | None:
    path = catalog_path(lang, domain)
    if not path.exists():
        return None
    po = polib.pofile(str(path), wrapwidth=0)
    po.wrapwidth = 0
    return po


def _anchors(entry: polib.POEntry) -> set[str]:
    lines = (entry.comment or "").split("\n")  # "section: …" lines, and a table cell's "e.g. …"
    return {line.removeprefix("section: ") for line in lines if line.startswith("section: ")}


def update_catalog(lang: str, domain: str) -> tuple[polib.POFile, Counter]:
    """The catalog for `domain` brought in step with its source; counts what changed."""
    old = _load(lang, domain) or _new_catalog(lang, domain)
    old.wrapwidth = 0
    po = _new_catalog(lang, domain)
    po.header, po.metadata = old.header or po.header, {**po.metadata, **old.metadata, "Language": lang}
    stats: Counter = Counter()
    current = messages(CHAPTERS[domain])
    by_id = {e.msgid: e for e in old if not e.obsolete}
    # Old translations whose English is gone: candidates for fuzzy matching, then obsolete.
    orphans = [e for e in old if e.msgstr and (e.obsolete or e.msgid not in {m.msgid for m in current})]

    for message in current:
        entry = by_id.get(message.msgid)
        if entry is None:
            entry = polib.POEntry(msgid=message.msgid, msgstr="")
            previous = _closest(message, orphans)
            if previous is not None:
                orphans.remove(previous)
                entry.msgstr = previous.msgstr
                entry.flags = ["fuzzy"]
                entry.previous_msgid = previous.previous_msgid if "fuzzy" in previous.flags and \
                    previous.previous_msgid else previous.msgid
                stats["fuzzy (English changed)"] += 1
            else:
                stats["new"] += 1
        entry.occurrences = message.where
        entry.comment = "\n".join([f"section: {a}" for a in message.anchors] +
                                  ([f"e.g. {message.example}"] if message.example else []))
        entry.obsolete = False
        po.append(entry)

    for entry in orphans:  # kept at the end, so a section that comes back finds its translation
        entry.obsolete = True
        entry.occurrences = []
        if entry.msgid not in {e.msgid for e in po}:
            po.append(entry)
            stats["obsolete"] += 1
    return po, stats


def _closest(message: Message, orphans: list[polib.POEntry]) -> polib.POEntry | None:
    """The old entry this message most likely replaces: same section anchor, else similar English."""
    same_anchor = [e for e in orphans if _anchors(e) & set(message.anchors)]
    best, best_ratio = None, 0.0
    for entry in same_anchor or orphans:
        ratio = difflib.SequenceMatcher(None, entry.msgid, message.msgid, autojunk=False).ratio()
        if ratio > best_ratio:
            best, best_ratio = entry, ratio
    threshold = 0.3 if same_anchor else 0.6
    return best if best_ratio >= threshold else None


def extract(langs=None) -> dict[str, Counter]:
    """Update every catalog of `langs` (default: all); returns what changed per catalog."""
    report = {}
    for lang in langs or LANGUAGES:
        for domain in CHAPTERS:
            po, stats = update_catalog(lang, domain)
            path = catalog_path(lang, domain)
            path.parent.mkdir(parents=True, exist_ok=True)
            text = str(po) + "\n"
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                path.write_text(text, encoding="utf-8")
            report[f"{lang}/{domain}"] = stats
    return report


# ---------------------------------------------------------------------------------------------
# What a translation must keep

_FENCE = re.compile(r"^( *)(```|~~~)[^\n]*\n.*?^\1\2[ \t]*$", re.M | re.S)
_CODE = re.compile(r"(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.S)
_DISPLAY_MATH = re.compile(r"\$\$.+?\$\$", re.S)
_MATH = re.compile(r"(?<![\\$])\$(?!\s)[^$\n]+?(?<![\s\\])\$(?!\d)")
_LINK_TARGET = re.compile(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_DIRECTIVE = re.compile(r"^[ \t]*<!--\s*(?:md|figure)\s*:.*?-->[ \t]*$", re.M)
_HTML_ATTR = re.compile(r"""\b(?:href|src|id|class)="[^"]*\"""")


def placeholders(text: str) -> Counter:
    """What a translation must carry over verbatim: code blocks and spans, math, link targets,
    `<!-- md: … -->`/`<!-- figure: … -->` directives, HTML attributes, and the {0}, {1}, … of a
    table cell."""
    found: Counter = Counter()
    for pattern in (_DIRECTIVE, _FENCE):
        found.update(m.group(0).strip() for m in pattern.finditer(text))
        text = pattern.sub("\n", text)
    found.update(m.group(0) for m in _CODE.finditer(text))
    text = _CODE.sub(" ", text)
    for pattern in (_DISPLAY_MATH, _MATH):
        found.update(m.group(0) for m in pattern.finditer(text))
        text = pattern.sub(" ", text)
    found.update("](" + m.group(1) for m in _LINK_TARGET.finditer(text))
    found.update(m.group(0) for m in _HTML_ATTR.finditer(text))
    found.update(m.group(0) for m in _CELL_SLOT.finditer(text))  # a table cell's {0}, {1}, …
    return found


def prose(text: str) -> str:
    """`text` without code, math, link targets and directives: what the glossary applies to."""
    for pattern in (_DIRECTIVE, _FENCE, _CODE, _DISPLAY_MATH, _MATH, _LINK_TARGET, _HTML_ATTR):
        text = pattern.sub(" ", text)
    for title in PAPER_TITLES:
        text = re.sub(r"\s+".join(title.split()), " ", text)
    return text


def translation_problems(lang: str, english: str, translated: str) -> list[str]:
    """What is wrong with `translated` as the `lang` translation of `english` (empty: nothing)."""
    problems = []
    lost = placeholders(english) - placeholders(translated)
    for item in lost:
        problems.append(f"changed or lost {item!r}")
    for slot in sorted(set(_CELL_SLOT.findall(prose(translated))) - set(_CELL_SLOT.findall(prose(english)))):
        problems.append(f"'{{{slot}}}' is not in the English")  # a table cell would show it as it is
    english_prose, translated_prose = prose(english), prose(translated)
    for term in GLOSSARY:
        required = getattr(term, lang)
        if re.search(term.pattern.replace(" ", r"\s+"), english_prose, re.I) and required not in translated_prose:
            problems.append(f"{term.en!r} should be translated as {required!r}")
    without_terms = translated  # so that 前活性化 isn't found inside 事前活性化
    for term in GLOSSARY:
        without_terms = without_terms.replace(getattr(term, lang), "")
    # A variant in quotation marks is mentioned, not used (the Glossary says 步幅 is also called “步长”)
    without_terms = re.sub(r"“[^”]*”|「[^」]*」", "", without_terms)
    for variant in AVOID.get(lang, []):
        if variant in without_terms:
            problems.append(f"uses {variant!r}; the glossary term is another")
    if "ResNet" in english_prose and "ResNet" not in translated_prose:
        problems.append("'ResNet' is a name: keep it as is")
    if lang in LANGUAGES:
        problems += [f"space beside full-width punctuation: {snippet!r}" for snippet in stray_spaces(translated)]
    return problems


# Full-width punctuation carries its own spacing: a space beside it shows as a gap ("。 ResNet",
# "`x` 、"). A typed one is a problem for `check`; a line break there is joined by `join_cjk_lines`.
_PUNCT = "、。：；，！？"
_STRAY_SPACE = re.compile(rf"[{_PUNCT}][*_]*[ \t]+[*_]*(?=[^\s|])|[^\s|][*_]*[ \t]+[*_]*[{_PUNCT}]")


def stray_spaces(markdown: str) -> list[str]:
    """Each space a reader would see beside full-width punctuation in `markdown`, as the site
    renders it (lines joined by `join_cjk_lines`; code and front matter aside), with a few
    characters around it."""
    text = join_cjk_lines(_body(markdown))
    text = _FENCE.sub("\n", text)
    text = _CODE.sub(lambda m: m.group(1) + "code" + m.group(1), text)
    return [text[max(0, m.start() - 6):m.end() + 6].replace("\n", "⏎") for m in _STRAY_SPACE.finditer(text)]


# ---------------------------------------------------------------------------------------------
# Markdown pages: docs/NAME.md translated as docs/NAME.LANG.md

def english_pages() -> list[Path]:
    suffixes = {f".{lang}" for lang in LANGUAGES}
    return sorted(p for p in DOCS.glob("*.md") if not p.name.startswith("_")
                  and p.name not in UNTRANSLATED_PAGES and Path(p.stem).suffix not in suffixes)


def translated_page(page: Path, lang: str) -> Path:
    return page.with_name(f"{page.stem}.{lang}.md")


def source_sha(page: Path) -> str:
    """What a translated page records as `source_sha`: the English page's git blob id.

    So `git show SHA` prints the English a translation was made from, once it is committed,
    and `git diff OLD NEW` what changed since (NEW is what `check` reports)."""
    data = page.read_bytes()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()[:12]


def page_meta(text: str) -> dict:
    """A page's front matter, read as YAML the way MkDocs reads it."""
    match = re.match(r"---[ \t]*\n(.*?\n)---[ \t]*\n", text, re.S)
    return (yaml.safe_load(match.group(1)) or {}) if match else {}


def page_problems(page: Path, lang: str) -> list[str]:
    target = translated_page(page, lang)
    rel = target.relative_to(ROOT)
    if not target.exists():
        return [f"{rel}: missing (translate {page.relative_to(ROOT)})"]
    text = target.read_text(encoding="utf-8")
    sha = str(page_meta(text).get("source_sha") or "")
    if not sha:
        return [f"{rel}: not translated yet (when it is, set source_sha: {source_sha(page)})"]
    problems = []
    if sha != source_sha(page):
        problems.append(f"{rel}: translated from an older {page.name} (source_sha {sha}, now "
                        f"{source_sha(page)}): `git diff {sha} {source_sha(page)}` shows what changed")
    english = page.read_text(encoding="utf-8")
    problems += [f"{rel}: {p}" for p in translation_problems(lang, _body(english), _body(text))]
    return problems


def _body(text: str) -> str:
    """A page without its front matter."""
    match = re.match(r"---[ \t]*\n.*?\n---[ \t]*\n", text, re.S)
    return text[match.end():] if match else text


# ---------------------------------------------------------------------------------------------
# Check

def check(langs=None) -> list[str]:
    """Everything that keeps a language from being complete, one line each."""
    problems = []
    for lang in langs or LANGUAGES:
        for domain, rel_path in CHAPTERS.items():
            po = _load(lang, domain)
            where = catalog_path(lang, domain).relative_to(ROOT)
            if po is None:
                problems.append(f"{where}: missing; run `python docs/hooks/i18n.py extract`")
                continue
            entries = {e.msgid: e for e in po if not e.obsolete}
            for message in messages(rel_path):
                line = f"{where}: {message.where[0][0]}:{message.where[0][1]} ({message.anchors[0]})"
                entry = entries.get(message.msgid)
                if entry is None:
                    problems.append(f"{line}: not in the catalog; run `python docs/hooks/i18n.py extract`")
                elif not entry.msgstr:
                    problems.append(f"{line}: untranslated")
                elif "fuzzy" in entry.flags:
                    problems.append(f"{line}: fuzzy (the English changed; compare with `#| msgid`)")
                else:
                    problems += [f"{line}: {p}" for p in translation_problems(lang, entry.msgid, entry.msgstr)]
        for page in english_pages():
            problems += page_problems(page, lang)
    return problems


# ---------------------------------------------------------------------------------------------
# The site

@lru_cache(maxsize=None)
def _catalog(lang: str, domain: str) -> dict[str, str]:
    po = _load(lang, domain)
    if po is None:
        return {}
    return {e.msgid: e.msgstr for e in po.translated_entries() if not e.obsolete}


def translator(lang: str, rel_path: str) -> Callable[[str], str]:
    """`translate(notes)` for the chapter at `rel_path` in `lang`, for `literate.render_page`.

    Section notes with no finished translation (missing, or fuzzy because the English changed)
    come back in English inside a box that says so; a title or description comes back in English.
    """
    if lang not in LANGUAGES:
        return lambda notes: notes
    domain = next((d for d, p in CHAPTERS.items() if p == rel_path), None)
    table = _catalog(lang, domain) if domain else {}
    module = literate.split_file(ROOT / rel_path)
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
# and around full-width punctuation, which carries its own space ("。\nResNet" would read
# "。 ResNet"). A line break between CJK text and Latin text stays: it shows as the space that
# belongs there ("ストライド\n2" reads "ストライド 2").
_CJK = "\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff01-\uff60"
# A line that starts a block of its own (a heading, list item, quote, table, HTML, fence,
# display math, definition, admonition, setext underline; a blank line), not the paragraph's next line
_BLOCK_START = r"(?:[#>|<{:]|[-+*][ \t]|\d+[.)][ \t]|```|~~~|\$\$|!!!|\?\?\?|\[[^\]\n]*\]:|[=-]+[ \t]*$|$)"
_CJK_BREAK = re.compile(rf"(?<=[{_CJK}])([*_]*)\n[ \t]*(?=[*_]*[{_CJK}])"
                        rf"|(?<=[{_PUNCT}])([*_]*)\n[ \t]*(?!{_BLOCK_START})"
                        rf"|(?<=\S)([*_]*)\n[ \t]*(?=[*_]*[{_PUNCT}])", re.M)


def join_cjk_lines(markdown: str) -> str:
    """`markdown` with the line breaks between two CJK characters, and those after or before
    full-width punctuation within a paragraph, removed; outside fenced code, never after a heading."""
    def join(match: re.Match) -> str:
        line = match.string[match.string.rfind("\n", 0, match.start()) + 1:match.start()]
        if re.match(r"[ \t]*#", line):  # "## 演習" ends the heading: the next line is not part of it
            return match.group(0)
        return next(group for group in match.groups() if group is not None)

    parts = re.split(r"(^[ \t]*(?:```|~~~)[^\n]*\n.*?^[ \t]*(?:```|~~~)[ \t]*$)", markdown, flags=re.M | re.S)
    return "".join(part if i % 2 else _CJK_BREAK.sub(join, part) for i, part in enumerate(parts))


def clear_cache() -> None:
    """Forget loaded catalogs (for `mkdocs serve`, which rebuilds in the same process)."""
    _catalog.cache_clear()


def main(argv: list[str]) -> int:
    sys.modules.setdefault("i18n", sys.modules[__name__])  # for site_hooks, which runs the tables' writers
    if len(argv) < 1 or argv[0] not in ("extract", "check"):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    langs = argv[1:] or None
    if argv[0] == "extract":
        for name, stats in extract(langs).items():
            if stats:
                print(f"{name}: " + ", ".join(f"{n} {what}" for what, n in stats.items()))
        print("Catalogs updated; now run `python docs/hooks/i18n.py check`.")
        return 0
    problems = check(langs)
    for problem in problems:
        print(problem)
    if problems:
        print(f"\n{len(problems)} problem(s).", file=sys.stderr)
        return 1
    print("All translations complete.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
