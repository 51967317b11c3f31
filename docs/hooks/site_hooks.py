r"""The MkDocs hook (`hooks:` in mkdocs.yml) that makes the site out of the code.

* `on_files`: one page per chapter module and language, rendered by `literate.render_page`
  with the notes translated by `i18n.translator` (nothing is written into the repository: the
  pages live in memory);
* `on_page_markdown`: build-time directives, in chapter notes and Markdown pages alike —
  `<!-- md: module.function(args) -->` becomes the Markdown that the function returns (tables
  computed from the real model), `<!-- figure: NAME -->` becomes `docs/figures/NAME.svg`; in
  Japanese and Chinese, line breaks between two CJK characters are joined first (a browser
  would show them as spaces);
* `on_page_content`: the figures go in as inline SVG, so `currentColor` follows the theme,
  with their words translated from the `figures` catalog in the Japanese and Chinese editions;
* `on_post_page`: math becomes KaTeX HTML+MathML (see `katex_math.py`);
* `on_post_build`: the search index, which the i18n plugin writes for all editions at once, is
  split into one per edition (`search/`, `ja/search/`, `zh/search/`), so that a search finds
  pages in the reader's language only (`overrides/main.html` points Material at the edition's).

A missing directive target stops the build with an error; a TeX error is a warning, which
`mkdocs build --strict` turns into a failure.
"""

from __future__ import annotations

import ast
import importlib
import json
import re
import sys
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority, get_plugin_logger

import i18n  # MkDocs puts this file's folder on sys.path while it loads the hook
import katex_math
import literate

log = get_plugin_logger("site_hooks")

# Source files that become pages, in reading order: page (its URL is /NAME/) -> file in the repo.
# The nav in mkdocs.yml places them; a module added to the package gets a page on its own.
PACKAGE = "labml_resnet"
FIRST_PAGES = {"residual.md": f"{PACKAGE}/__init__.py"}  # the package's index chapter
LAST_PAGES = {"experiment.md": "experiment.py"}

_MD_DIRECTIVE = re.compile(r"^(?P<indent>[ \t]*)<!--\s*md:\s*(?P<call>.*?)\s*-->\s*$")
_FIGURE_DIRECTIVE = re.compile(r"^(?P<indent>[ \t]*)<!--\s*figure:\s*(?P<name>[\w.-]+)\s*-->\s*$")
_FIGURE_PLACEHOLDER = re.compile(r'<div class="lit-figure" data-figure="([\w.-]+)"></div>')
_FENCE = re.compile(r"^[ \t]*(```|~~~)")


def chapter_sources(root: Path) -> dict[str, str]:
    """Page name -> source path (relative to `root`) for every chapter that exists."""
    pages = dict(FIRST_PAGES)
    for path in sorted((root / PACKAGE).glob("*.py")):
        if path.name != "__init__.py":
            pages[f"{path.stem}.md"] = f"{PACKAGE}/{path.name}"
    pages.update(LAST_PAGES)
    return {page: source for page, source in pages.items() if (root / source).is_file()}


def _root(config) -> Path:
    return Path(config.config_file_path).resolve().parent


def _translations(config) -> list[str]:
    """The languages of the i18n plugin's editions other than the default (English) one."""
    return [lang.locale for lang in config.plugins["i18n"].config.languages
            if not lang.default] if "i18n" in config.plugins else []


def on_config(config):
    # Directives import the project's modules (`experiment` lives at the top of the repo) and
    # the site's own (this folder, which MkDocs takes off sys.path once the hook is loaded).
    for folder in (str(_root(config)), str(Path(__file__).resolve().parent)):
        if folder not in sys.path:
            sys.path.insert(0, folder)
    return config


def on_files(files, config):
    # English pages as `residual.md`; with the `i18n` plugin, each translation as `residual.ja.md`,
    # which mkdocs-static-i18n publishes at /ja/residual/ like a translated page on disk.
    root = _root(config)
    languages = _translations(config)
    i18n.clear_cache()  # `mkdocs serve` rebuilds in the same process: read edited catalogs again
    for page, source in chapter_sources(root).items():
        files.append(i18n.generated_page(config, page, literate.render_page(root / source, source, config.repo_url)))
        for lang in languages:
            markdown = literate.render_page(root / source, source, config.repo_url,
                                            translate=i18n.translator(lang, source),
                                            labels=i18n.PAGE_LABELS[lang])
            files.append(i18n.generated_page(config, page.replace(".md", f".{lang}.md"), markdown))
    return files


def on_page_markdown(markdown, page, config, files):
    figures = Path(config.docs_dir) / "figures"
    if config.theme.get("language") in ("ja", "zh"):
        markdown = i18n.join_cjk_lines(markdown)
    return expand_directives(markdown, figures, where=page.file.src_uri)


def on_page_content(html, page, config, files):
    figures = Path(config.docs_dir) / "figures"
    lang = config.theme.get("language", "en")  # the edition being built (the i18n plugin sets it)
    return _FIGURE_PLACEHOLDER.sub(lambda m: _figure_html(figures / f"{m.group(1)}.svg", lang), html)


def on_post_page(output, page, config):
    try:
        return katex_math.render_math(output)
    except katex_math.MathError as error:
        log.warning(f"{page.file.src_uri}: {error}")
        return output


# After the i18n plugin (priority -100), which builds the other editions and then writes the
# index of all of them.
@event_priority(-110)
def on_post_build(config):
    split_search_index(Path(config.site_dir), _translations(config))


def split_search_index(site_dir: Path, languages: list[str]) -> None:
    """Rewrite `search/search_index.json` as one index per edition: the default language's pages
    stay at `search/`, each other language's go to `<lang>/search/`. Locations stay relative to
    the site root, where Material resolves them."""
    path = site_dir / "search" / "search_index.json"
    if not path.exists():  # the search plugin is off
        return
    index = json.loads(path.read_text(encoding="utf-8"))
    editions = {lang: [] for lang in ["", *languages]}
    for doc in index["docs"]:
        first = doc["location"].split("/", 1)[0]
        editions[first if first in languages else ""].append(doc)
    for lang, docs in editions.items():
        out = site_dir / lang / "search" / "search_index.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({**index, "docs": docs}, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")


def expand_directives(markdown: str, figures: Path, where: str = "<page>") -> str:
    """Replace directive lines (outside fenced code) with tables and figure placeholders."""
    out, fence = [], None
    for number, line in enumerate(markdown.split("\n"), 1):
        opening = _FENCE.match(line)
        if opening and (fence is None or opening.group(1) == fence):
            fence = opening.group(1) if fence is None else None
        if fence is None and (match := _MD_DIRECTIVE.match(line)):
            text = call_directive(match.group("call"), f"{where}:{number}")
            out.extend(match.group("indent") + row if row else row for row in text.strip("\n").split("\n"))
        elif fence is None and (match := _FIGURE_DIRECTIVE.match(line)):
            name = match.group("name")
            if not (figures / f"{name}.svg").is_file():
                raise PluginError(f"{where}:{number}: figure '{name}' not found: no {figures / name}.svg")
            # A placeholder until the page is HTML: Markdown must not touch the SVG.
            out.append(f'{match.group("indent")}<div class="lit-figure" data-figure="{name}"></div>')
        else:
            out.append(line)
    return "\n".join(out)


def call_directive(call: str, where: str) -> str:
    """Run `module.function(literal args)` and return its Markdown. No eval: arguments are literals.

    The Markdown of each call is kept for the rest of the process: the three editions show the
    same tables, and counting ResNet-1202's multiply-adds once is enough."""
    if call not in _directive_results:
        _directive_results[call] = _run_directive(call, where)
    return _directive_results[call]


_directive_results: dict[str, str] = {}


def _run_directive(call: str, where: str) -> str:
    try:
        node = ast.parse(call, mode="eval").body
        if not isinstance(node, ast.Call):
            raise ValueError("expected module.function(arguments)")
        dotted = ast.unparse(node.func)
        module_name, _, function_name = dotted.rpartition(".")
        if not module_name or not re.fullmatch(r"[\w.]+", dotted):
            raise ValueError(f"'{dotted}' is not module.function")
        args = [ast.literal_eval(arg) for arg in node.args]
        kwargs = {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords}
        function = getattr(importlib.import_module(module_name), function_name)
        text = function(*args, **kwargs)
    except Exception as error:  # any failure here is a broken page: stop the build, say where
        raise PluginError(f"{where}: <!-- md: {call} --> failed: {type(error).__name__}: {error}") from error
    if not isinstance(text, str):
        raise PluginError(f"{where}: <!-- md: {call} --> returned {type(text).__name__}, not Markdown text")
    return text


def _figure_html(path: Path, lang: str = "en") -> str:
    """The SVG file's markup, its words in `lang`, without the XML prolog that isn't allowed inside HTML."""
    svg = i18n.translate_figure(path.read_text(encoding="utf-8"), lang)
    svg = re.sub(r"^\s*(<\?xml[^>]*\?>|<!DOCTYPE[^>]*>|<!--.*?-->|\s)*", "", svg, flags=re.S)
    return f'<figure class="lit-figure">{svg.strip()}</figure>'
