r"""The MkDocs plugin (`literate` in mkdocs.yml's `plugins:`) that makes the site out of the code.

* `on_config`: the project (`project.Project`: the chapters are the nav's pages that are modules);
  a new build forgets the last one's tables and reloads the project's modules that changed;
* `on_files`: one page per chapter and language, rendered by `page.render_page` with the notes
  translated by `translate.translator`, and beside each chapter page its Jupyter notebook
  (`notebooks.chapter_notebook`), linked from the page. Nothing is written into the repository:
  pages and notebooks live in memory, made once per build for all editions;
* `on_page_markdown`: the directives (`directives.expand_directives`); in Japanese and Chinese,
  line breaks between CJK characters joined first and the tables' words translated after;
* `on_page_content`: the figures, inline SVG with their words in the edition's language, and the
  headings' "Permanent link" tooltips translated;
* `on_post_page`: math becomes KaTeX HTML+MathML (`katex.render_math`); the reading time goes
  under the title, from the words open on the page (`reading.open_words`);
* `on_post_build`: one search index per edition (`search.split_search_index`);
* `on_serve`: the chapters' source files are watched, so saving one rebuilds the site.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from mkdocs.config import base
from mkdocs.config import config_options as c
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority, get_plugin_logger

from . import directives, katex, notebooks, project, reading, search, translate
from .page import LABELS, render_page, restore_code
from .splitter import SourceError

log = get_plugin_logger("literate")

_FIGURE_PLACEHOLDER = re.compile(r'<div class="lit-figure" data-figure="([\w.-]+)"></div>')


class LiterateConfig(base.Config):
    # A nav page NAME.md that is not a file in docs_dir is the chapter <package>/NAME.py
    # (DIR/index.md: <package>/DIR/__init__.py) ...
    package = c.Type(str, default="")
    # ... unless named here: page -> source file, relative to mkdocs.yml
    sources = c.Type(dict, default={})
    # "module.NAME" of the dict of functions that `<!-- md: … -->` lines may call, and the modules
    # whose import fills it (their `@markdown_writer`s)
    writers = c.Type(str, default="")
    writer_modules = c.ListOfItems(c.Type(str), default=[])
    # Markdown pages that are not translated (they fall back to English in every edition)
    untranslated = c.ListOfItems(c.Type(str), default=[])
    # Chapter pages, or folders of them ("experiments/"), that get no notebook
    no_notebooks = c.ListOfItems(c.Type(str), default=[])
    # KaTeX's script, run at build time (relative to docs_dir)
    katex = c.Type(str, default="assets/katex/katex.min.js")
    # A Python file (read as a module of its own, without its package) with `names(source)`, the
    # names a chapter defines that have a runnable copy, and `runnable_source(name)`, that copy:
    # each is published as runnable/<chapter>.<name>.py and offered beside the section's code
    runnable = c.Type(str, default="")
    # Where the writers' results are kept across builds (relative to mkdocs.yml; ignored by git)
    cache_dir = c.Type(str, default=".cache/mkdocs_literate")


class LiteratePlugin(BasePlugin[LiterateConfig]):
    supports_multiple_instances = False

    def on_config(self, config):
        try:
            here = project.use(project.Project.from_config(config))
        except project.ProjectError as error:
            raise PluginError(str(error)) from None
        if str(here.root) not in sys.path:  # the project's modules, and a script beside mkdocs.yml
            sys.path.insert(0, str(here.root))
        katex.KATEX_JS[:] = [here.docs_dir / self.config.katex]
        # mkdocs-static-i18n builds the other editions from inside the first build: those are
        # the same build, and share its tables and pages.
        if not getattr(config.plugins.get("i18n"), "building", False):
            directives.new_build()
            _made.clear()
            _heading_ids.clear()
            _deferred.clear()
        return config

    def on_files(self, files, config):
        # English pages as `residual.md`; with the `i18n` plugin, each translation as
        # `residual.ja.md`, which mkdocs-static-i18n publishes at /ja/residual/ like a translated
        # page on disk. Each chapter's notebook goes beside its page, `residual.ipynb`
        # (`residual.ja.ipynb` is published as /ja/residual.ipynb), and the page links to it.
        here = project.current()
        if not _made:  # the first edition of a build: the tables every edition needs, in parallel
            directives.prefetch([here.root / source for source in here.chapters.values()] +
                                sorted(here.docs_dir.rglob("*.md")))
        try:
            for page, source in here.chapters.items():
                for lang in [notebooks.DEFAULT_LANGUAGE, *here.languages]:
                    for name, content in _chapter_files(config, page, source, lang, self.config.runnable):
                        files.append(translate.generated_page(config, name, content))
        except SourceError as error:  # `path:line:column: message`, and no traceback
            raise PluginError(str(error)) from None
        return files

    def on_page_markdown(self, markdown, page, config, files):
        lang = config.theme.get("language", "en")  # the edition being built (the i18n plugin sets it)
        if lang in translate.LANGUAGES:
            markdown = translate.join_cjk_lines(markdown)
        markdown = directives.expand_directives(markdown, project.current().figures, where=page.file.src_uri)
        return _translated_tables(markdown, lang)

    def on_page_content(self, html, page, config, files):
        figures = project.current().figures
        lang = config.theme.get("language", "en")
        html = _FIGURE_PLACEHOLDER.sub(lambda m: directives.figure_html(figures / f"{m.group(1)}.svg", lang), html)
        if lang in translate.LANGUAGES:
            html = _translate_permalinks(html, config, translate.PAGE_LABELS[lang]["permalink"])
            html = _english_heading_ids(translate.join_cjk_html(html), page)
        else:
            _heading_ids[page.url] = _HEADING_ID.findall(html)
        return html

    def on_env(self, env, config, files):
        # The theme's templates, compiled once and kept (each edition's build would compile them again)
        from jinja2 import FileSystemBytecodeCache

        folder = project.current().cache_dir / "jinja"
        folder.mkdir(parents=True, exist_ok=True)
        env.bytecode_cache = FileSystemBytecodeCache(str(folder))
        return env

    def on_post_page(self, output, page, config):
        output = restore_code(output, _deferred)  # the chapters' code, highlighted (after the search index read it)
        try:
            output = katex.render_math(output)
        except katex.MathError as error:
            log.warning(f"{page.file.src_uri}: {error}")
        return _reading_time(output, config.theme.get("language", "en"))

    # After the i18n plugin (priority -100), which builds the other editions and then writes the
    # index of all of them.
    @event_priority(-110)
    def on_post_build(self, config):
        search.split_search_index(Path(config.site_dir), project.current().languages)

    def on_serve(self, server, config, builder):
        here = project.current()
        for source in dict.fromkeys(here.chapters.values()):
            server.watch(str(here.root / source))
        return server


# The chapter files of this build: (page, source, lang) -> [(name, content)], for all editions;
# and the highlighted code of their pages (`page.render_page`'s `deferred`).
_made: dict[tuple[str, str, str], list[tuple[str, str]]] = {}
_deferred: dict[str, str] = {}


def _chapter_files(config, page: str, source: str, lang: str, runnable: str = "") -> list[tuple[str, str]]:
    """The chapter's page in `lang` and, where it has one, its notebook: [(src_uri, content)]."""
    key = (page, source, lang)
    if key in _made:
        return _made[key]
    here = project.current()
    translated = lang != notebooks.DEFAULT_LANGUAGE
    translator = translate.translator(lang, source) if translated else (lambda notes: notes)
    made, links = [], {}
    for name, code in _runnable_copies(source, runnable):
        stem = f"runnable/{Path(source).stem}.{name}"
        made.append((f"{stem}.{lang}.py" if translated else f"{stem}.py", code))
        links[name] = "../" * (page.count("/") + 1) + stem + ".py"  # from the page's folder
    comments = translate.comment_translator(lang, source) if translated else None
    markdown = render_page(here.root / source, source, config.repo_url, translate=translator,
                           labels=translate.PAGE_LABELS[lang] if translated else LABELS, deferred=_deferred,
                           runnable=links, comments=comments)
    if notebooks.has_notebook(page):
        made.append((notebooks.notebook_name(page, lang),
                     _chapter_notebook(config, page, source, lang, translator, comments)))
        markdown = notebooks.add_download_link(markdown, page, lang)
    made.append((page.replace(".md", f".{lang}.md") if translated else page, markdown))
    _made[key] = made
    return made


def _runnable_copies(source: str, runnable: str) -> list[tuple[str, str]]:
    """(name, runnable copy) of each definition of the chapter that has one, made by the file
    `runnable` (the plugin's option; none if it is empty)."""
    if not runnable:
        return []
    module = _load_file(str(project.current().root / runnable))
    if _module_name(source) not in module.chapter_modules():  # a script, the experiment's plumbing
        return []
    return [(name, module.runnable_source(f"{_module_name(source)}.{name}")) for name in module.names(source)]


def _module_name(source: str) -> str:
    return source.removesuffix(".py").removesuffix("/__init__").replace("/", ".")


def _load_file(path: str):
    """The Python file at `path` as a module of its own: not through its package, whose
    `__init__` may import much more (here: torch)."""
    import importlib.util

    stat = Path(path).stat()
    key = (path, stat.st_mtime_ns)
    if key not in _loaded_files:
        spec = importlib.util.spec_from_file_location(f"_literate_runnable_{len(_loaded_files)}", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
        _loaded_files[key] = module
    return _loaded_files[key]


_loaded_files: dict = {}


def _chapter_notebook(config, page: str, source: str, lang: str, translator, comments=None) -> str:
    """The chapter's notebook file in `lang` (`notebooks.chapter_notebook`), with the tables of
    its `<!-- md: … -->` lines made by the same directive code as the page's."""
    here = project.current()
    notebook = notebooks.chapter_notebook(
        here.root / source, source, page, site_url=config.site_url, repo_url=config.repo_url,
        figures=here.figures, lang=lang, translate=translator, comments=comments,
        expand=lambda markdown: _translated_tables(
            directives.expand_directives(markdown, here.figures, where=f"{source} (notebook)"), lang))
    return notebooks.dumps(notebook)


_TITLE_END = re.compile(r"</h1>")


def _reading_time(output: str, lang: str) -> str:
    """The page with its reading time under its title: "12 min read", from what is open on the
    page (closed blocks left out). The count is kept in `data-open-words` for the tests."""
    start = output.find("<article")
    match = _TITLE_END.search(output, start) if start >= 0 else None
    if match is None:
        return output
    counts = reading.open_words(reading.article(output))
    labels = translate.PAGE_LABELS.get(lang, LABELS)
    words = counts["prose"] + counts["code"] + counts["tables"]
    text = labels["reading"].format(minutes=reading.reading_minutes(counts))
    line = f'\n<p class="lit-reading-time" data-open-words="{words}" data-cjk="{counts["cjk"]}">{text}</p>'
    return output[:match.end()] + line + output[match.end():]


# Each English page's heading ids, in order (page URL -> ids), for the translations' headings:
# a heading's id comes from its words, which makes `_2` or `gpu` of a translated heading, where
# the English page has `the-degradation-problem`. Every edition uses the English ids, so a link
# to a section works in every edition, and the language switcher keeps the reader's place.
_heading_ids: dict[str, list[str]] = {}
_HEADING_ID = re.compile(r'<h[1-6] id="([^"]+)"')


def _english_heading_ids(html: str, page) -> str:
    """`html`, a translated page, with the ids of its headings (and the links to them, and the
    page's table of contents) replaced by the English page's, heading by heading, where the two
    pages have the same headings (a translation keeps the English structure; a test checks it)."""
    english = _heading_ids.get(page.url.split("/", 1)[1] if "/" in page.url else "")
    ids = _HEADING_ID.findall(html)
    if english is None or len(english) != len(ids):
        return html
    renamed = {old: new for old, new in zip(ids, english) if old != new}
    if not renamed:
        return html
    pattern = re.compile(r'(<h[1-6] id="|href="#)(' + "|".join(map(re.escape, renamed)) + ')"')
    html = pattern.sub(lambda m: f'{m.group(1)}{renamed[m.group(2)]}"', html)

    def rename(items):
        for item in items:
            item.id = renamed.get(item.id, item.id)
            rename(item.children)
    rename(page.toc or [])
    if getattr(page, "present_anchor_ids", None) is not None:
        # What MkDocs checks links against: the English ids, and the old ones its own record of
        # this page's links (the permalinks, made before the renaming) still names
        page.present_anchor_ids = page.present_anchor_ids | set(renamed.values())
    return html


def _translated_tables(markdown: str, lang: str) -> str:
    """The words of the generated tables and figures in `lang`, from the tables catalog."""
    return translate.translate_tables(markdown, lang) if lang in translate.LANGUAGES else markdown


def _translate_permalinks(html: str, config, title: str) -> str:
    """The headings' permalinks with `title` for the `toc` extension's English tooltip, which
    Markdown extensions (configured once for every edition) cannot take per language."""
    english = config.mdx_configs.get("toc", {}).get("permalink_title", "Permanent link")
    return re.sub(r'(<a class="headerlink" [^>]*\btitle=")' + re.escape(english) + '"',
                  lambda m: m.group(1) + title + '"', html)
