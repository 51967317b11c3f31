r"""Runnable copies: any class or function of the chapters, as code that runs on its own.

A section's code on the site is the code of that section only: `BasicBlock` pasted alone into a
notebook fails at `conv3x3`. `runnable_source("BasicBlock")` is the code that runs as pasted into
an empty file or notebook cell with only PyTorch installed: a one-line header (where it comes
from, the licence), the imports it needs, then every definition of the package it uses, directly
or through others (functions, classes, module-level constants), in dependency order, and
last the definition itself.

    python -m labml_resnet.standalone BasicBlock   # prints it
    python -m labml_resnet.standalone --list       # the names that have a copy

Everything is found statically: the chapters are read with `ast` and `symtable`, never imported
or run. The definitions are copied as they are in the source, docstrings and comments included;
a block of comments just above a definition comes along unless it opens a section of the page
(a lone `#` or a heading), and links to the site's pages (`pitfalls.md#…`) become links to the
published site. The site's table writers (`@markdown_writer`) have no copy, and the decorator is
dropped wherever it appears: it registers a function with the site, which a copy doesn't need.

The chapters are the modules directly in the package folder, less the private ones (`_site.py`)
and this one. `tests/test_standalone.py` runs every copy in a fresh interpreter that cannot import
`labml_resnet`, and checks that each module a copy builds has the package's state-dict keys
and outputs.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import re
import symtable
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

PACKAGE = "labml_resnet"
FOLDER = Path(__file__).resolve().parent
# Where a copy says it comes from (`tests/test_standalone.py` checks them against `mkdocs.yml`)
REPOSITORY = "https://github.com/labml-resnet/labml_resnet"
SITE = "https://labml-resnet.github.io/labml_resnet/"
LICENCE = "MIT License, Copyright (c) 2026 the labml_resnet authors"
# The site's registry of table writers: its decorator is dropped, its functions have no copy
SITE_ONLY = {(f"{PACKAGE}._site", "markdown_writer")}


@dataclass
class Definition:
    """A top-level statement of a chapter that binds `name`: a def, a class or an assignment."""

    module: str  # `labml_resnet.blocks`
    name: str
    node: ast.stmt
    # (module, name) of every package definition it uses, and the local names of the imports
    uses: set[tuple[str, str]] = field(default_factory=set)
    imports: set[str] = field(default_factory=set)
    site_only: bool = False  # decorated with `@markdown_writer`


@dataclass
class Chapter:
    module: str
    path: Path
    lines: list[str]
    definitions: dict[str, Definition]
    # local name -> ("module", module) for `import a.b as c`, ("from", module, name) for `from … import`
    imports: dict[str, tuple[str, ...]]


def chapter_modules() -> list[str]:
    """The modules whose definitions have copies: `labml_resnet`, `labml_resnet.blocks`, …"""
    modules = [PACKAGE]
    for path in sorted(FOLDER.glob("*.py")):
        if not path.name.startswith("_") and path.stem != "standalone":
            modules.append(f"{PACKAGE}.{path.stem}")
    return modules


def _path(module: str) -> Path:
    if module == PACKAGE:
        return FOLDER / "__init__.py"
    return FOLDER / (module.removeprefix(PACKAGE + ".").replace(".", "/") + ".py")


def _absolute(module: str | None, level: int, here: str) -> str:
    # `from .blocks import x` in `labml_resnet.resnet` is `labml_resnet.blocks`
    if not level:
        return module or ""
    package = here if _path(here).name == "__init__.py" else here.rpartition(".")[0]
    return importlib.util.resolve_name("." * level + (module or ""), package)


def _in_package(module: str) -> bool:
    return module == PACKAGE or module.startswith(PACKAGE + ".")


def _chapter(module: str) -> Chapter:
    # Read again when the file changes (`mkdocs serve` rebuilds in the same process)
    path = _path(module)
    return _parse(module, path, path.stat().st_mtime_ns)


@cache
def _parse(module: str, path: Path, mtime_ns: int) -> Chapter:
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text, str(path))
    table = symtable.symtable(text, str(path), "exec")
    scopes = {}  # name -> symbol table of the top-level def or class
    for child in table.get_children():
        scopes.setdefault(child.get_name(), child)
    chapter = Chapter(module, path, text.splitlines(), {}, {})
    for node in tree.body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    chapter.imports[alias.asname] = ("module", alias.name)
                else:  # `import torch.nn` binds `torch`
                    top = alias.name.split(".")[0]
                    chapter.imports[top] = ("module", top) if top == alias.name else ("import", alias.name, top)
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(node.module, node.level, module)
            for alias in node.names:
                chapter.imports[alias.asname or alias.name] = ("from", source, alias.name)
    for node in tree.body:
        for name in _bound_names(node):
            chapter.definitions[name] = Definition(module, name, node)
    for definition in chapter.definitions.values():
        _resolve(chapter, definition, scopes.get(definition.name))
    return chapter


def _bound_names(node: ast.stmt) -> list[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, ast.Assign):
        return [t.id for t in node.targets if isinstance(t, ast.Name)]
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
        return [node.target.id]
    return []


def _header_names(node: ast.stmt) -> set[str]:
    """The names a statement reads in the module's scope: for a def or class, its decorators,
    defaults, annotations and bases (the body is the symbol table's); else the whole statement."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        args = node.args
        parts = [*node.decorator_list, *args.defaults, *[d for d in args.kw_defaults if d], node.returns,
                 *[a.annotation for a in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg)
                   if a is not None]]
    elif isinstance(node, ast.ClassDef):
        parts = [*node.decorator_list, *node.bases, *node.keywords]
    elif isinstance(node, ast.AnnAssign):
        parts = [node.annotation, node.value]
    else:
        parts = [node.value]
    names = set()
    for part in parts:
        if part is None:
            continue
        # Comprehension variables and lambda arguments are local to them
        local = {n.id for n in ast.walk(part) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        local |= {a.arg for n in ast.walk(part) if isinstance(n, ast.Lambda) for a in ast.walk(n.args)
                  if isinstance(a, ast.arg)}
        names |= {n.id for n in ast.walk(part) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)} - local
    return names


def _global_names(table: symtable.SymbolTable) -> set[str]:
    """The module-level names a def or class body reads, nested functions and methods included."""
    names = {s.get_name() for s in table.get_symbols()
             if s.is_referenced() and (s.is_global() or (table.get_type() == "class" and not s.is_assigned()))}
    for child in table.get_children():
        names |= _global_names(child)
    return names


def _resolve(chapter: Chapter, definition: Definition, scope: symtable.SymbolTable | None) -> None:
    node = definition.node
    names = _header_names(node)
    if scope is not None and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        names |= _global_names(scope)
    for decorator in getattr(node, "decorator_list", []):
        if _target(chapter, decorator) in SITE_ONLY:
            definition.site_only = True
    for name in names:
        if name in chapter.definitions:
            if name != definition.name:
                definition.uses.add((chapter.module, name))
        elif name in chapter.imports:
            imported = chapter.imports[name]
            if imported[0] == "from" and _in_package(imported[1]):
                definition.uses.add((imported[1], imported[2]))
            elif imported[0] != "from" and _in_package(imported[1]):
                definition.uses.add((chapter.module, f"<module {name}>"))
            else:
                definition.imports.add(name)
        # Anything else is a builtin (`super`, `ValueError`) or local to a comprehension


def _target(chapter: Chapter, expr: ast.expr) -> tuple[str, str] | None:
    # What a decorator names, as (module, name)
    if isinstance(expr, ast.Call):
        expr = expr.func
    if isinstance(expr, ast.Name):
        imported = chapter.imports.get(expr.id)
        if imported and imported[0] == "from":
            return imported[1], imported[2]
        return chapter.module, expr.id
    return None


def _lookup(module: str, name: str, seen: frozenset = frozenset()) -> Definition:
    """The definition that `name` is in `module`, following re-exports (`from x import name`)."""
    chapter = _chapter(module)
    if name.startswith("<module "):
        raise ValueError(f"{module} uses the module {name[8:-1]} itself, which a copy cannot carry")
    if name in chapter.definitions:
        return chapter.definitions[name]
    imported = chapter.imports.get(name)
    if imported and imported[0] == "from" and _in_package(imported[1]) and (module, name) not in seen:
        return _lookup(imported[1], imported[2], seen | {(module, name)})
    if (module, name) in SITE_ONLY:
        raise ValueError(f"{name} belongs to the site, not to a chapter")
    raise ValueError(f"{name!r} is not defined in {module}")


def _module_rank() -> dict[str, int]:
    """The package's modules in an order where each comes after the modules it imports from."""
    order: list[str] = []

    def visit(module: str, stack: tuple[str, ...] = ()) -> None:
        if module in order or module in stack or not _path(module).is_file():
            return
        for imported in _chapter(module).imports.values():
            if _in_package(imported[1]) and imported[1] != module:
                visit(imported[1], (*stack, module))
        order.append(module)

    for module in chapter_modules():
        visit(module)
    return {module: rank for rank, module in enumerate(order)}


def _public(definition: Definition) -> bool:
    """A name with a copy: a class or function, or a function made with `functools.partial`."""
    node = definition.node
    if definition.name.startswith("_") or definition.site_only:
        return False
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return True
    value = getattr(node, "value", None)
    chapter = _chapter(definition.module)
    return (isinstance(value, ast.Call) and isinstance(value.func, ast.Name)
            and chapter.imports.get(value.func.id) == ("from", "functools", "partial"))


def names(module: str | None = None) -> list[str]:
    """The names that have a runnable copy, in reading order: all of them, or those that
    `module` defines (`"labml_resnet.blocks"`, or its file, `"labml_resnet/blocks.py"`)."""
    if module is not None and module.endswith(".py"):
        module = PACKAGE if module.endswith("__init__.py") else module.removesuffix(".py").replace("/", ".")
    modules = chapter_modules() if module is None else [module]
    rank = _module_rank()
    found = []
    for name in sorted(modules, key=lambda m: rank.get(m, -1)):
        found += [d.name for d in _chapter(name).definitions.values() if _public(d)]
    return list(dict.fromkeys(found))


def _find(name: str) -> Definition:
    # `BasicBlock`, or qualified: `labml_resnet.blocks.BasicBlock`, `blocks.BasicBlock`
    if "." in name:
        module, _, short = name.rpartition(".")
        module = module if _in_package(module) else f"{PACKAGE}.{module}"
        return _lookup(module, short)
    found = [_chapter(m).definitions[name] for m in chapter_modules() if name in _chapter(m).definitions]
    if not found:
        raise KeyError(f"no chapter defines {name!r}; `python -m labml_resnet.standalone --list` lists the names")
    if len(found) > 1:
        raise KeyError(f"{name!r} is defined in {', '.join(d.module for d in found)}: name the module too")
    return found[0]


def dependencies(name: str) -> list[Definition]:
    """Every definition the copy of `name` holds, in dependency order, `name` itself last."""
    return _closure([_find(name)])


def _closure(targets: list[Definition]) -> list[Definition]:
    # The targets and everything they use, in an order that runs
    needed: dict[tuple[str, str], Definition] = {}

    def visit(definition: Definition) -> None:
        key = (definition.module, definition.name)
        if key in needed:
            return
        needed[key] = definition
        for module, used in sorted(definition.uses):
            visit(_lookup(module, used))

    for target in targets:
        visit(target)
    rank = _module_rank()
    # Sources run top to bottom, and modules after those they import from: that order is safe.
    # A single target goes last, unless something it uses needs it (functions that call each other).
    last = targets[0] if len(targets) == 1 else None
    if last and any((last.module, last.name) in d.uses for d in needed.values()):
        last = None
    return sorted(needed.values(), key=lambda d: (d is last, rank[d.module], d.node.lineno))


_LINK = re.compile(r"\]\((?!https?:|#)([\w./-]+?)\.md(#[\w.-]+)?\)")


def _site_link(match: re.Match) -> str:
    # a link to `pitfalls.md` and its anchor `#x` becomes `https://…/pitfalls/#x`
    page = match.group(1).removesuffix("index")
    return f"]({SITE}{page}/{match.group(2) or ''})".replace("//#", "/#").replace("//)", "/)")


def _text(definition: Definition) -> str:
    """The source of one definition: its comment block, decorators (less the site's) and body."""
    chapter = _chapter(definition.module)
    node = definition.node
    lines = chapter.lines
    first = min([d.lineno for d in getattr(node, "decorator_list", [])] + [node.lineno])
    dropped = {n for d in getattr(node, "decorator_list", []) if _target(chapter, d) in SITE_ONLY
               for n in range(d.lineno, d.end_lineno + 1)}
    body = [lines[n - 1] for n in range(first, node.end_lineno + 1) if n not in dropped]
    # The comments just above, unless they open a section of the page (a lone `#`, a heading)
    above = []
    n = first - 1
    while n >= 1 and lines[n - 1].lstrip().startswith("#"):
        above.insert(0, lines[n - 1])
        n -= 1
    if any(line.strip() == "#" or re.match(r"#\s*#", line.strip()) or "<!--" in line for line in above):
        above = []
    return _LINK.sub(_site_link, "\n".join(line.rstrip() for line in above + body))


def _import_lines(definitions: list[Definition]) -> list[str]:
    """The import statements the definitions need, grouped as isort does: standard library,
    then the rest; `import x` before `from x import y`."""
    plain: dict[str, set[str]] = {}  # statement -> the local names it binds
    froms: dict[str, dict[str, str]] = {}  # module -> {local name: `name` or `name as local`}
    bound: dict[str, tuple[str, ...]] = {}
    for definition in definitions:
        chapter = _chapter(definition.module)
        for local in definition.imports:
            imported = chapter.imports[local]
            if bound.setdefault(local, imported) != imported:
                raise ValueError(f"{local!r} means {bound[local]} in one chapter and {imported} in another")
            if imported[0] == "from":
                as_ = "" if imported[2] == local else f" as {local}"
                froms.setdefault(imported[1], {})[local] = imported[2] + as_
            elif imported[0] == "import":
                plain.setdefault(f"import {imported[1]}", set()).add(local)
            else:
                as_ = "" if imported[1] == local else f" as {local}"
                plain.setdefault(f"import {imported[1]}{as_}", set()).add(local)
    groups: dict[bool, list[str]] = {True: [], False: []}
    stdlib = sys.stdlib_module_names
    for statement in sorted(plain, key=str.lower):
        groups[statement.split()[1].split(".")[0] in stdlib].append(statement)
    for module in sorted(froms, key=str.lower):
        names_ = ", ".join(sorted(froms[module].values(), key=str.lower))
        groups[module.split(".")[0] in stdlib].append(f"from {module} import {names_}")
    return groups[True] + ([""] if groups[True] and groups[False] else []) + groups[False]


def header(name: str) -> str:
    """The copy's first line: what it is, where it comes from, the licence."""
    definition = _find(name)
    source = _chapter(definition.module).path.relative_to(FOLDER.parent).as_posix()
    return f"# {definition.name} from {source} and what it uses: labml_resnet, {REPOSITORY}, {LICENCE}"


def runnable_source(name: str) -> str:
    """The code of `name` that runs as pasted into an empty file or notebook cell with PyTorch
    installed: a one-line header, the imports, every definition it uses, then its own."""
    if _find(name).site_only:
        raise ValueError(f"{name} writes a table for the site: it has no runnable copy")
    return f"{header(name)}\n{_code(dependencies(name))}\n"


def _code(definitions: list[Definition]) -> str:
    imports = "\n".join(_import_lines(definitions))
    return "\n\n\n".join(([imports] if imports else []) + [_text(d) for d in definitions])


def chapter_imports_source(module: str) -> str:
    """For a chapter's notebook that should run without the package: the code that stands in
    for the chapter's `from labml_resnet.… import …` statements: the runnable copies of every
    name it imports from the other chapters, together, each definition once. (The site's
    `labml_resnet._site` import and `@markdown_writer` lines are not covered: leave them out.)
    Empty for a chapter that imports nothing from the others."""
    if module.endswith(".py"):
        module = PACKAGE if module.endswith("__init__.py") else module.removesuffix(".py").replace("/", ".")
    chapter = _chapter(module)
    targets = [_lookup(imported[1], imported[2]) for imported in chapter.imports.values()
               if imported[0] == "from" and _in_package(imported[1]) and imported[1:] not in SITE_ONLY]
    if not targets:
        return ""
    source = chapter.path.relative_to(FOLDER.parent).as_posix()
    return (f"# What {source} uses from the other chapters: labml_resnet, {REPOSITORY}, {LICENCE}\n"
            f"{_code(_closure(targets))}\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m labml_resnet.standalone",
        description="Print a class or function of labml_resnet as code that runs on its own: "
                    "paste it into a file or notebook cell with only PyTorch installed.")
    parser.add_argument("name", nargs="?", help="a class or function, e.g. BasicBlock or resnet20")
    parser.add_argument("--list", action="store_true", help="list the names that have a copy, by module")
    args = parser.parse_args(argv)
    if args.list:
        for name in names():
            print(f"{name:32} {_find(name).module}")
        return 0
    if not args.name:
        parser.error("name a class or function, or ask for --list")
    try:
        print(runnable_source(args.name), end="")
    except (KeyError, ValueError) as error:
        print(f"error: {error.args[0]}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
