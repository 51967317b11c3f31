r"""Translations of the site: gettext catalogs for the chapters, translated Markdown pages.

    python -m mkdocs_literate extract   # update docs/locales/<lang>/LC_MESSAGES/*.po from the code
    python -m mkdocs_literate check     # list what is missing, fuzzy or broken; exit 1 if anything is

See `docs/locales/README.md` for the workflow. In short:

* **Chapters** (`labml_resnet/*.py`, `experiment.py`) are translated section by section. Each
  catalog entry's `msgid` is the exact English notes of one section, as `splitter.py` splits
  them (plus the page's title and description). The site looks each section up with
  `translator(lang, path)`; a missing or fuzzy entry shows the English with a visible note.
  The comments that stay in the code (`splitter.code_comments`) are entries too, translated
  line for line, so the code column and the notebooks show them in the edition's language.
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
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import polib
import yaml

from . import project
from .splitter import code_comments, split_file
from .translate import (LANGUAGES, _CELL_SLOT, _STRAY_SPACE, _load, catalog_path, figure_texts, join_cjk_lines,
                        table_cells)

# Languages whose translation is still being written: the tests expect them to fail `check`.
# Remove a language from here once `python -m mkdocs_literate check` passes for it.
IN_PROGRESS: set[str] = set()


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
    Term("grouped convolution", "グループ畳み込み", "分组卷积", r"grouped (\S+ )?convolutions?"),
    Term("cardinality", "カーディナリティ", "基数", r"\bcardinality\b"),
    Term("residual branch", "残差ブランチ", "残差分支", r"residual branch(es)?"),
    Term("padding", "パディング", "填充", r"\bpadding\b"),
    Term("data pipeline", "データパイプライン", "数据流水线", r"data pipelines?"),
]


def glossary_markdown() -> str:
    """The glossary as a Markdown table, for `<!-- md: mkdocs_literate.glossary_markdown() -->` on the site.

    Each language is named in itself, so the same table serves every edition."""
    rows = ["| English | 日本語 | 简体中文 |", "|---|---|---|"]
    rows += [f"| {term.en} | {term.ja} | {term.zh} |" for term in GLOSSARY]
    return "\n".join(rows) + "\n"


# Paper titles stay in English, so the glossary doesn't apply to them.
PAPER_TITLES = ["Deep Residual Learning for Image Recognition", "Identity Mappings in Deep Residual Networks"]

# Variants that must never appear (the same idea, translated another way).
AVOID = {
    "ja": ["残差の枝", "当て推量", "残余", "残留", "リネット", "恒等マッピング", "恒等関数", "恒等変換", "近道", "ショートカット結合",
           "スキップ接続", "瓶首", "バッチノーマライゼーション", "バッチ正則化", "バッチ標準化", "特徴量マップ",
           "特徴図", "前活性化", "プレアクティベーション", "大域平均", "全体平均プーリング", "歩幅", "劣化問題点",
           "退化問題", "投影ショートカット"],
    "zh": ["数据管道", "残余", "残留", "捷径连接", "跳跃连接", "短路连接", "恒等变换", "特征映射", "批归一化", "批标准化",
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

    root = project.current().root
    if rel_path == project.current().domains[project.TABLES]:
        for where, line, call, markdown in generated_tables():
            writer = "table " + call.split("(")[0].rsplit(".", 1)[-1]
            for template, cell in table_cells(markdown):
                known = found.get(template)
                if known is None or (where, line) not in known.where:  # once per table, not per row
                    add(template, line, writer, where, cell if cell != template else "")
        for message in found.values():
            message.anchors = list(dict.fromkeys(message.anchors))
        return list(found.values())
    if rel_path == project.current().domains[project.FIGURES]:
        for svg in sorted((root / rel_path).glob("*.svg")):
            for text, line in figure_texts(svg.read_text(encoding="utf-8")):
                add(text, line, f"figure {svg.stem}", f"{rel_path}/{svg.name}")
        return list(found.values())
    module = split_file(root / rel_path)
    for key in ("title", "description"):
        add(module.meta.get(key, ""), 1, key)
    for section in module.sections:
        add(section.notes, section.first_line, section.anchor)
    # The comments that stay in the code column (and the notebook's code cells), after the notes
    for comment in code_comments(module):
        add(comment.text, comment.lines[0], f"{CODE_COMMENT}{comment.anchor}")
    return list(found.values())


# The anchor of a code comment's entry: "code comment in BasicBlock.forward". Its translation has
# as many lines as the English, so that the code keeps its line numbers.
CODE_COMMENT = "code comment in "



def generated_tables() -> list[tuple[str, int, str, str]]:
    """(path, line, call, Markdown) for each `<!-- md: … -->` line of the chapters and the English
    pages, outside fenced code: the calls the site makes, made the way the site makes them
    (`directives.call_directive`, which keeps each call's Markdown)."""
    from .directives import call_directive, directive_calls

    here = project.current()
    sources = list(here.chapters.values())
    sources += [str(page.relative_to(here.root)) for page in english_pages()]
    return [(rel_path, number, call, call_directive(call, f"{rel_path}:{number}"))
            for rel_path in sources for number, call in directive_calls(here.root / rel_path)]


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
    po.header = (f"{LANGUAGES[lang][0]} translation of {project.current().domains[domain]}.\n"
                 "Each msgid is the English notes of one section; update with\n"
                 "`python -m mkdocs_literate extract`, see docs/locales/README.md.")
    if domain == "tables":
        po.header = (f"{LANGUAGES[lang][0]} translation of the words in the generated tables.\n"
                     "Each msgid is one kind of table cell: {0}, {1}, … stand for its numbers and\n"
                     "names, which the site puts back as they are. Update with\n"
                     "`python -m mkdocs_literate extract`, see docs/locales/README.md.")
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
    current = messages(project.current().domains[domain])
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
    for lang in langs or project.current().languages:
        for domain in project.current().domains:
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
    here = project.current()
    return sorted(p for p in here.docs_dir.glob("*.md") if not p.name.startswith("_")
                  and p.name not in here.untranslated and Path(p.stem).suffix not in suffixes)


def translated_page(page: Path, lang: str) -> Path:
    return page.with_name(f"{page.stem}.{lang}.md")


def source_sha(page: Path) -> str:
    """What a translated page records as `source_sha`: the English page's git blob id.

    So `git show SHA` prints the English a translation was made from, once it is committed,
    and `git show OLD | diff - PAGE` what changed since (the new English may not be committed)."""
    data = page.read_bytes()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()[:12]


def page_meta(text: str) -> dict:
    """A page's front matter, read as YAML the way MkDocs reads it."""
    match = re.match(r"---[ \t]*\n(.*?\n)---[ \t]*\n", text, re.S)
    return (yaml.safe_load(match.group(1)) or {}) if match else {}


def page_problems(page: Path, lang: str) -> list[str]:
    target = translated_page(page, lang)
    root = project.current().root
    rel = target.relative_to(root)
    if not target.exists():
        return [f"{rel}: missing (translate {page.relative_to(root)})"]
    text = target.read_text(encoding="utf-8")
    sha = str(page_meta(text).get("source_sha") or "")
    if not sha:
        return [f"{rel}: not translated yet (when it is, set source_sha: {source_sha(page)})"]
    problems = []
    if sha != source_sha(page):
        problems.append(f"{rel}: translated from an older {page.name} (source_sha {sha}, now "
                        f"{source_sha(page)}): `git show {sha} | diff - {page.relative_to(root)}` shows what changed")
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
    for lang in langs or project.current().languages:
        for domain, rel_path in project.current().domains.items():
            po = _load(lang, domain)
            where = catalog_path(lang, domain).relative_to(project.current().root)
            if po is None:
                problems.append(f"{where}: missing; run `python -m mkdocs_literate extract`")
                continue
            entries = {e.msgid: e for e in po if not e.obsolete}
            for message in messages(rel_path):
                line = f"{where}: {message.where[0][0]}:{message.where[0][1]} ({message.anchors[0]})"
                entry = entries.get(message.msgid)
                if entry is None:
                    problems.append(f"{line}: not in the catalog; run `python -m mkdocs_literate extract`")
                elif not entry.msgstr:
                    problems.append(f"{line}: untranslated")
                elif "fuzzy" in entry.flags:
                    problems.append(f"{line}: fuzzy (the English changed; compare with `#| msgid`)")
                else:
                    problems += [f"{line}: {p}" for p in translation_problems(lang, entry.msgid, entry.msgstr)]
                    if message.anchors[0].startswith(CODE_COMMENT) and \
                            entry.msgstr.count("\n") != entry.msgid.count("\n"):
                        problems.append(f"{line}: a code comment's translation must have as many lines as "
                                        f"the English ({entry.msgid.count(chr(10)) + 1})")
        for page in english_pages():
            problems += page_problems(page, lang)
    return problems


