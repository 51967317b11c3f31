r"""Build-time directives, in chapter notes and Markdown pages alike.

* `<!-- md: module.function(args) -->` becomes the Markdown that the function returns (tables
  computed from the real model). The call is parsed, never evaluated: only functions of the
  project's registry (`@markdown_writer`) and the engine's own glossary may be named, with
  literal arguments. Each call runs once per build for every edition and notebook, and its
  result is kept across builds (`cache.WriterCache`) until the code or data it depends on change.
* `<!-- figure: NAME -->` becomes `docs/figures/NAME.svg`, inline, so `currentColor` follows the
  theme (a placeholder until the page is HTML: Markdown must not touch the SVG).

A directive that names an unregistered function, has non-literal arguments or fails stops the
build with the page and line.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import multiprocessing
import os
import re
import sys
from pathlib import Path

from mkdocs.exceptions import PluginError

from . import project
from .cache import WriterCache
from .translate import translate_figure

_MD_DIRECTIVE = re.compile(r"^(?P<indent>[ \t]*)<!--\s*md:\s*(?P<call>.*?)\s*-->\s*$")
_FIGURE_DIRECTIVE = re.compile(r"^(?P<indent>[ \t]*)<!--\s*figure:\s*(?P<name>[\w.-]+)\s*-->\s*$")
_FIGURE_PLACEHOLDER = re.compile(r'<div class="lit-figure" data-figure="([\w.-]+)"></div>')
_FENCE = re.compile(r"^[ \t]*(```|~~~)")


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
    (the plugin's `writers`) and every argument a literal, or the build stops with the page and
    line before anything named by the page is called. Each call runs once per build, for every
    edition and notebook; its result is kept across builds (`cache.WriterCache`), and a build
    that finds every table it needs there never imports the project (nor torch)."""
    name, args, kwargs = parse_call(call, where)
    key = _key(name, args, kwargs)
    if key in _results:
        return _results[key]
    cache = _writer_cache()
    # A kept result was checked against the registry when it was made, by code that hasn't changed since
    text = cache.get(key) if cache else None
    if text is None:
        function = writer(name, args, kwargs, call, where)
        try:
            run = lambda: function(*args, **kwargs)  # noqa: E731
            text = cache.compute(key, function.__module__, run) if cache else run()
        except Exception as error:  # a writer that fails is a broken page: stop the build, say where
            raise PluginError(f"{where}: <!-- md: {call} --> failed: {type(error).__name__}: {error}") from error
        if not isinstance(text, str):
            raise PluginError(f"{where}: <!-- md: {call} --> returned {type(text).__name__}, not Markdown text")
    _results[key] = text
    return text


def prefetch(sources: list[Path]) -> int:
    """Make, in parallel, the tables that the `<!-- md: … -->` lines of `sources` ask for and
    that the cache doesn't have: one process per core (forked, so each starts with what this
    one imported), each keeping its results in the cache, where the pages then find them. A
    cold build waits for the slowest table instead of all of them in a row. Returns how many
    were made. A call that fails here is left to the page, which reports it with its line."""
    cache = _writer_cache()
    missing, seen = [], set()
    for path in sources:
        for number, call in directive_calls(path):
            where = f"{path.name}:{number}"
            try:
                name, args, kwargs = parse_call(call, where)
            except PluginError:
                continue
            key = _key(name, args, kwargs)
            if key in seen or key in _results:
                continue
            seen.add(key)
            if cache is not None and cache.get(key) is None:
                missing.append((cache.seconds(key), call, where))
    workers = min(len(missing), os.cpu_count() or 1)
    if cache is None or workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return 0
    missing.sort(key=lambda item: -item[0])  # the longest first (by their last time), so none comes last alone
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        pool.starmap(_make_quietly, [(call, where) for _, call, where in missing], chunksize=1)
    return len(missing)


# A directive line, in a page or in a chapter's notes (after the `#` of a comment)
_DIRECTIVE_LINE = re.compile(r"^[ \t]*(?:#[ \t]?)?[ \t]*<!--\s*md:\s*(?P<call>.*?)\s*-->[ \t]*$")


def directive_calls(path: Path) -> list[tuple[int, str]]:
    """(line, call) of each `<!-- md: … -->` line of a page or a chapter (in its comments),
    outside fenced code: the calls its page will make."""
    found, fence = [], None
    python = path.suffix == ".py"
    for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
        text = re.sub(r"^[ \t]*#[ \t]?", "", line) if python else line
        opening = re.match(r"[ \t]*(```|~~~)", text)
        if opening and (fence is None or opening.group(1) == fence):
            fence = opening.group(1) if fence is None else None
        elif fence is None and (match := _DIRECTIVE_LINE.match(line)):
            found.append((number, match.group("call")))
    return found


def _make_quietly(call: str, where: str) -> None:
    # One thread each: the processes already share the cores (and torch reads this when imported)
    os.environ["OMP_NUM_THREADS"] = "1"
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)
    try:
        call_directive(call, where)
    except Exception:  # noqa: BLE001  (the page makes it again, and says what failed and where)
        pass


def _key(name: str, args: list, kwargs: dict) -> str:
    """The same call with the same literals is the same call, however it is spaced."""
    return f"{name}{json.dumps([args, kwargs], ensure_ascii=False, sort_keys=True)}"


# Each call's Markdown for the rest of the build (all editions and notebooks); `new_build` empties it.
_results: dict[str, str] = {}
_cache: list[tuple] = []  # (project, its WriterCache or None)


def _writer_cache() -> WriterCache | None:
    here = project.current()
    if not _cache or _cache[0][0] is not here:
        _cache[:] = [(here, None if os.environ.get("LITERATE_NO_CACHE") else WriterCache(here.cache_dir / "writers", here.root))]
    return _cache[0][1]


def new_build() -> None:
    """Start a build: forget the results of the last one (the disk cache checks what changed), and
    reload the project's modules if a file of theirs changed since they were imported, so that
    `mkdocs serve` runs the code on disk, not the code it started with."""
    _results.clear()
    _cache.clear()
    _writers.clear()
    root = project.current().root
    # The modules the writers brought in (recorded when they were imported), under this root
    ours = [name for name in _loaded if name in sys.modules
            and _project_file(getattr(sys.modules[name], "__file__", None), root)]
    if any(_loaded[name] != _mtime(sys.modules[name].__file__) for name in ours):
        for name in ours:
            del sys.modules[name]
            del _loaded[name]
        importlib.invalidate_caches()


_loaded: dict[str, int] = {}  # project module -> the mtime of its file when it was imported


def _project_file(path: str | None, root: Path) -> bool:
    if not path:
        return False
    path = os.path.realpath(path)
    engine = os.path.dirname(os.path.realpath(__file__))
    return path.startswith(str(root) + os.sep) and "site-packages" not in path and not path.startswith(engine)


def _mtime(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return -1


def markdown_writers() -> dict:
    """The closed list of functions that pages may call: the project's registry (the plugin's
    `writers`, filled by importing its `writer_modules`), and the engine's glossary."""
    from .catalogs import glossary_markdown

    here = project.current()
    if not (_writers and _writers[0][0] is here):  # import the writers' modules once per build
        registry = {}
        if here.writer_registry:
            if str(here.root) not in sys.path:  # the project's modules, and a script beside mkdocs.yml
                sys.path.insert(0, str(here.root))
            for module in here.writer_modules:
                importlib.import_module(module)
            name, _, attribute = here.writer_registry.rpartition(".")
            registry = getattr(importlib.import_module(name), attribute)
            for name, module in list(sys.modules.items()):
                if _project_file(getattr(module, "__file__", None), here.root) and name not in _loaded:
                    _loaded[name] = _mtime(module.__file__)
        _writers[:] = [(here, registry)]
    return {**_writers[0][1], "mkdocs_literate.glossary_markdown": glossary_markdown}


_writers: list[tuple] = []  # (project, its registry of writers), for this build


def parse_directive(call: str, where: str) -> tuple:
    """`(function, args, kwargs)` of a directive, or a `PluginError` that says what is wrong."""
    name, args, kwargs = parse_call(call, where)
    return writer(name, args, kwargs, call, where), args, kwargs


def _refuse(call: str, where: str, why: str):
    raise PluginError(f"{where}: <!-- md: {call} --> refused: {why}")


def parse_call(call: str, where: str) -> tuple[str, list, dict]:
    """`(name, args, kwargs)` of a directive, read with `ast` (nothing imported), or a `PluginError`."""
    try:
        node = ast.parse(call, mode="eval").body
    except SyntaxError:
        node = None
    if not isinstance(node, ast.Call):
        _refuse(call, where, "not a call of the form module.function(arguments)")
    try:
        args = [ast.literal_eval(arg) for arg in node.args]
        kwargs = {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords}
    except ValueError:
        _refuse(call, where, "its arguments must be literals (numbers, strings, lists, …)")
    if None in kwargs:  # `**mapping`
        _refuse(call, where, "its arguments must be literals (numbers, strings, lists, …)")
    return ast.unparse(node.func), args, kwargs


def writer(name: str, args: list, kwargs: dict, call: str, where: str):
    """The registered writer `name`, if it takes these arguments; else a `PluginError`."""
    writers = markdown_writers()
    if name not in writers:
        _refuse(call, where, f"{name} is not a registered Markdown writer; pages may call only "
                             f"{', '.join(sorted(writers))} (decorate a new one with @markdown_writer)")
    function = writers[name]
    try:
        inspect.signature(function).bind(*args, **kwargs)
    except TypeError as error:
        _refuse(call, where, f"{error} for {name}{inspect.signature(function)}")
    return function


def figure_html(path: Path, lang: str = "en") -> str:
    """The SVG file's markup, its words in `lang`, without the XML prolog that isn't allowed inside HTML."""
    svg = translate_figure(path.read_text(encoding="utf-8"), lang)
    svg = re.sub(r"^\s*(<\?xml[^>]*\?>|<!DOCTYPE[^>]*>|<!--.*?-->|\s)*", "", svg, flags=re.S)
    return f'<figure class="lit-figure">{svg.strip()}</figure>'
