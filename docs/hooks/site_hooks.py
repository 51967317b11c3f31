r"""The MkDocs hook (`hooks:` in mkdocs.yml) that makes the site out of the code.

* `on_files`: one page per chapter module and language, rendered by `literate.render_page`
  with the notes translated by `i18n.translator`, and beside each chapter page its Jupyter
  notebook, made by `notebooks.chapter_notebook` and linked from the page (nothing is written
  into the repository: pages and notebooks live in memory);
* `on_page_markdown`: build-time directives, in chapter notes and Markdown pages alike —
  `<!-- md: module.function(args) -->` becomes the Markdown that the function returns (tables
  computed from the real model; only functions registered with `@markdown_writer`, with literal
  arguments), `<!-- figure: NAME -->` becomes `docs/figures/NAME.svg`; in
  Japanese and Chinese, line breaks between two CJK characters or beside full-width
  punctuation are joined first (a browser would show them as spaces), and the words in the
  tables are translated after, from the `tables` catalog (`i18n.translate_tables`);
* `on_page_content`: the figures go in as inline SVG, so `currentColor` follows the theme,
  with their words translated from the `figures` catalog in the Japanese and Chinese editions,
  as are the headings' "Permanent link" tooltips;
* `on_post_page`: math becomes KaTeX HTML+MathML (see `katex_math.py`);
* `on_post_build`: the search index, which the i18n plugin writes for all editions at once, is
  split into one per edition (`search/`, `ja/search/`, `zh/search/`), so that a search finds
  pages in the reader's language only (`overrides/main.html` points Material at the edition's).

A directive that names an unregistered function, has non-literal arguments or fails stops the
build with an error; a TeX error is a warning, which
`mkdocs build --strict` turns into a failure.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import re
import sys
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority, get_plugin_logger

import i18n  # MkDocs puts this file's folder on sys.path while it loads the hook
import katex_math
import literate
import notebooks

log = get_plugin_logger("site_hooks")

# Source files that become pages, in reading order: page (its URL is /NAME/) -> file in the repo.
# The nav in mkdocs.yml places them; a module added to the package gets a page on its own.
PACKAGE = "labml_resnet"
FIRST_PAGES = {"residual.md": f"{PACKAGE}/__init__.py"}  # the package's index chapter
LAST_PAGES = {"experiment.md": "experiment.py"}  # then its appendix, `experiments/*.md`

_MD_DIRECTIVE = re.compile(r"^(?P<indent>[ \t]*)<!--\s*md:\s*(?P<call>.*?)\s*-->\s*$")
_FIGURE_DIRECTIVE = re.compile(r"^(?P<indent>[ \t]*)<!--\s*figure:\s*(?P<name>[\w.-]+)\s*-->\s*$")
_FIGURE_PLACEHOLDER = re.compile(r'<div class="lit-figure" data-figure="([\w.-]+)"></div>')
_FENCE = re.compile(r"^[ \t]*(```|~~~)")


def chapter_sources(root: Path) -> dict[str, str]:
    """Page name -> source path (relative to `root`) for every chapter that exists."""
    pages = dict(FIRST_PAGES)
    for path in sorted((root / PACKAGE).glob("*.py")):
        if not path.name.startswith("_"):  # `__init__.py` is the first page; `_site.py` is plumbing
            pages[f"{path.stem}.md"] = f"{PACKAGE}/{path.name}"
    pages.update(LAST_PAGES)
    # The experiment's appendix: one page per module of `labml_resnet.experiments`
    for path in sorted((root / PACKAGE / "experiments").glob("*.py")):
        page = "index" if path.name == "__init__.py" else path.stem
        pages[f"experiments/{page}.md"] = f"{PACKAGE}/experiments/{path.name}"
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
    # which mkdocs-static-i18n publishes at /ja/residual/ like a translated page on disk. Each
    # chapter's notebook goes beside its page, `residual.ipynb` (`residual.ja.ipynb` is published
    # as /ja/residual.ipynb), and the page links to it.
    root = _root(config)
    languages = _translations(config)
    i18n.clear_cache()  # `mkdocs serve` rebuilds in the same process: read edited catalogs again
    try:
        for page, source in chapter_sources(root).items():
            for lang in [notebooks.DEFAULT_LANGUAGE, *languages]:
                translated = lang != notebooks.DEFAULT_LANGUAGE
                translate = i18n.translator(lang, source) if translated else (lambda notes: notes)
                markdown = literate.render_page(root / source, source, config.repo_url, translate=translate,
                                                labels=i18n.PAGE_LABELS[lang] if translated else literate.LABELS)
                if notebooks.has_notebook(page):
                    notebook = _chapter_notebook(config, page, source, lang, translate)
                    files.append(i18n.generated_page(config, notebooks.notebook_name(page, lang), notebook))
                    markdown = notebooks.add_download_link(markdown, page, lang)
                files.append(i18n.generated_page(config, page.replace(".md", f".{lang}.md") if translated else page,
                                                 markdown))
    except literate.SourceError as error:  # `path:line:column: message`, and no traceback
        raise PluginError(str(error)) from None
    return files


def _chapter_notebook(config, page: str, source: str, lang: str, translate) -> str:
    """The chapter's notebook file in `lang` (`notebooks.chapter_notebook`), with the tables of
    its `<!-- md: … -->` lines made by the same directive code as the page's."""
    figures = Path(config.docs_dir) / "figures"
    notebook = notebooks.chapter_notebook(
        _root(config) / source, source, page, site_url=config.site_url, repo_url=config.repo_url,
        figures=figures, lang=lang, translate=translate,
        expand=lambda markdown: _translated_tables(expand_directives(markdown, figures, where=f"{source} (notebook)"),
                                                   lang))
    return notebooks.dumps(notebook)


def _translated_tables(markdown: str, lang: str) -> str:
    """The words of the generated tables and figures in `lang`, from the tables catalog."""
    return i18n.translate_tables(markdown, lang) if lang in i18n.LANGUAGES else markdown


def on_page_markdown(markdown, page, config, files):
    figures = Path(config.docs_dir) / "figures"
    lang = config.theme.get("language", "en")  # the edition being built (the i18n plugin sets it)
    if lang in i18n.LANGUAGES:
        markdown = i18n.join_cjk_lines(markdown)
    markdown = expand_directives(markdown, figures, where=page.file.src_uri)
    return _translated_tables(markdown, lang)  # the tables' words, from the tables catalog


def on_page_content(html, page, config, files):
    figures = Path(config.docs_dir) / "figures"
    lang = config.theme.get("language", "en")
    html = _FIGURE_PLACEHOLDER.sub(lambda m: _figure_html(figures / f"{m.group(1)}.svg", lang), html)
    if lang in i18n.LANGUAGES:
        html = _translate_permalinks(html, config, i18n.PAGE_LABELS[lang]["permalink"])
    return html


def _translate_permalinks(html: str, config, title: str) -> str:
    """The headings' permalinks with `title` for the `toc` extension's English tooltip, which
    Markdown extensions (configured once for every edition) cannot take per language."""
    english = config.mdx_configs.get("toc", {}).get("permalink_title", "Permanent link")
    return re.sub(r'(<a class="headerlink" [^>]*\btitle=")' + re.escape(english) + '"',
                  lambda m: m.group(1) + title + '"', html)


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
    """Return the Markdown of `<!-- md: module.function(literal args) -->`.

    The call is parsed, never evaluated: `module.function` must be a registered Markdown writer
    (`labml_resnet._site.MARKDOWN_WRITERS`) and every argument a literal, or the build stops
    with the page and line before anything named by the page is imported or called. The
    Markdown of each call is kept for the rest of the process: the three editions show the
    same tables, and counting ResNet-1202's multiply-adds once is enough."""
    function, args, kwargs = parse_directive(call, where)
    if call not in _directive_results:
        try:
            text = function(*args, **kwargs)
        except Exception as error:  # a writer that fails is a broken page: stop the build, say where
            raise PluginError(f"{where}: <!-- md: {call} --> failed: {type(error).__name__}: {error}") from error
        if not isinstance(text, str):
            raise PluginError(f"{where}: <!-- md: {call} --> returned {type(text).__name__}, not Markdown text")
        _directive_results[call] = text
    return _directive_results[call]


_directive_results: dict[str, str] = {}


def markdown_writers() -> dict:
    """The closed list of functions that pages may call: the `@markdown_writer`s of the package,
    and the site's own glossary."""
    from labml_resnet._site import MARKDOWN_WRITERS

    # The chapters and the experiment's appendix register their writers when they are imported
    for module in (PACKAGE, f"{PACKAGE}.experiments"):
        importlib.import_module(module)
    # By its name on the pages (`i18n` may be running as `__main__`, from its command line)
    MARKDOWN_WRITERS["i18n.glossary_markdown"] = i18n.glossary_markdown
    return MARKDOWN_WRITERS


def parse_directive(call: str, where: str) -> tuple:
    """`(function, args, kwargs)` of a directive, or a `PluginError` that says what is wrong."""
    def refuse(why: str):
        raise PluginError(f"{where}: <!-- md: {call} --> refused: {why}")

    try:
        node = ast.parse(call, mode="eval").body
    except SyntaxError:
        refuse("not a call of the form module.function(arguments)")
    if not isinstance(node, ast.Call):
        refuse("not a call of the form module.function(arguments)")
    name = ast.unparse(node.func)
    writers = markdown_writers()
    if name not in writers:
        refuse(f"{name} is not a registered Markdown writer; pages may call only "
               f"{', '.join(sorted(writers))} (decorate a new one with @markdown_writer)")
    function = writers[name]
    try:
        args = [ast.literal_eval(arg) for arg in node.args]
        kwargs = {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords}
    except ValueError:
        refuse("its arguments must be literals (numbers, strings, lists, …)")
    if None in kwargs:  # `**mapping`
        refuse("its arguments must be literals (numbers, strings, lists, …)")
    try:
        inspect.signature(function).bind(*args, **kwargs)
    except TypeError as error:
        refuse(f"{error} for {name}{inspect.signature(function)}")
    return function, args, kwargs


def _figure_html(path: Path, lang: str = "en") -> str:
    """The SVG file's markup, its words in `lang`, without the XML prolog that isn't allowed inside HTML."""
    svg = i18n.translate_figure(path.read_text(encoding="utf-8"), lang)
    svg = re.sub(r"^\s*(<\?xml[^>]*\?>|<!DOCTYPE[^>]*>|<!--.*?-->|\s)*", "", svg, flags=re.S)
    return f'<figure class="lit-figure">{svg.strip()}</figure>'
