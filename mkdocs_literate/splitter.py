r"""Split a Python file into literate sections: notes on the left, code on the right.

This module knows nothing about MkDocs, so it can be tested and reused on its own:

    python -m mkdocs_literate.splitter labml_resnet/blocks.py

prints the file's sections as JSON. `page.render_page` turns the sections into a page,
`notebooks.chapter_notebook` into a notebook, and `catalogs.messages` into catalog entries.

The rules (the same ones pycco and labml's site follow, but read from the `tokenize` and `ast`
streams instead of guessed from line patterns, so strings and brackets can't fool them):

* a run of full-line comments is the notes of the code that follows it;
* every class and function starts a section at its `def`/`class` line (decorators included),
  and its docstring is that section's notes; so are comments between its decorators and its
  `def`, or between its `def` line and its docstring;
* the module docstring is the page's intro, and its front matter (`title:`, `description:`
  between `---` lines) is the page's metadata;
* a lone `#` (a comment run with no text) starts a new section with no notes;
* a comment run with no code after it (the "Exercises" at the end of a chapter) is a section
  with notes and no code.

Every source line belongs to exactly one section, in order, and code lines are kept verbatim.
Comments inside brackets stay in the code: splitting there would cut a statement in two.

Each section has an anchor (its HTML id) made from its own text, never from line numbers or
from the sections before it, so that adding a line elsewhere does not move it (`_anchor` says
how it is made):

* a class, function or method: its qualified name (`BasicBlock.forward`); a module or class
  attribute, where a section starts at its assignment: the same (`BasicBlock.expansion`);
* code that defines nothing, under notes with a heading: the heading's slug; notes with no
  code: the heading's slug (`Exercises`), else the notes' first words;
* any other code, most often a section that starts inside a function body: the function's
  qualified name, the first name the code assigns or calls, and four hex digits of a hash of
  its first statement (`BasicBlock.forward.out-3c1a`), so two sections that both assign `out`
  differ without a counter.
"""

from __future__ import annotations

import ast
import codecs
import functools
import hashlib
import inspect
import io
import json
import os
import re
import sys
import textwrap
import tokenize
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable


@dataclass
class Section:
    """One row of the page: Markdown notes beside the code they explain."""

    anchor: str  # stable HTML id, e.g. `ResidualBlock.forward`
    first_line: int  # first source line of the section (1-based, inclusive)
    last_line: int  # last source line of the section (inclusive)
    notes: str = ""  # Markdown, from comments and docstrings
    code: str = ""  # exact source text of the code lines, blank lines trimmed at both ends
    code_lines: list[int] = field(default_factory=list)  # source line number of each line of `code`

    def as_json(self) -> dict:
        return {"anchor": self.anchor, "first_line": self.first_line, "last_line": self.last_line,
                "notes": self.notes, "code": self.code}


@dataclass
class Module:
    """A whole file: its front matter and its sections."""

    meta: dict[str, str]  # front matter of the module docstring (`title`, `description`, …)
    sections: list[Section]
    lines: list[str]  # source lines with their line endings, so `lines[n - 1]` is line n


# Comments meant for tools, not readers, stay in the code: directives anywhere (a tool's name
# and a colon, `# type: ignore`, `# fmt: off`, or a bare `# noqa`; "# type of the shortcut" is a
# note), and on the first two lines a shebang or an encoding declaration (PEP 263).
_TOOL_COMMENT = re.compile(r"#\s*(?:(?:type|pragma|fmt|pylint|mypy|pyright|isort|ruff|flake8)\s*:"
                           r"|(?i:noqa)\s*(?::|$))")
_HEADER_COMMENT = re.compile(r"#!|#.*coding[:=]")


class SourceError(Exception):
    """A file that is not valid Python: `str()` is one line, `path:line:column: message`."""

    def __init__(self, path: str | Path, line: int, column: int, message: str):
        super().__init__(f"{path}:{line}:{column}: {message}")
        self.path, self.line, self.column, self.message = str(path), line, column, message


def split_lines(text: str) -> list[str]:
    """Lines with their endings, split where Python splits them (`\n`, `\r\n`, `\r`) and nowhere else.

    `str.splitlines` would also split on form feeds and `\u2028`, which Python treats as text.
    """
    return io.StringIO(text, newline="").readlines()


def split_source(text: str) -> Module:
    """Split Python source text into sections. Raises `SyntaxError` only if `text` isn't valid Python."""
    text = text.removeprefix("\ufeff")  # a byte-order mark is not part of the first line
    lines = split_lines(text)
    # `ast` and `tokenize` see the same lines with `\n` endings, so line numbers agree everywhere.
    normalized = "".join(line.rstrip("\r\n") + "\n" for line in lines)
    with warnings.catch_warnings():  # `"\d"` is valid Python that 3.12 warns about; not our business here
        warnings.simplefilter("ignore")
        tree = ast.parse(normalized)
    n = len(lines)

    tokens = list(tokenize.generate_tokens(io.StringIO(normalized).readline))
    comments = _note_comments(tokens, normalized)  # line -> comment text, for notes
    # first line -> (last line, text, owner); def/class start -> qualname; comment lines in def headers
    docstrings, headers, in_header = _docstrings(tree, lines)

    sections: list[Section] = []
    meta: dict[str, str] = {}
    # The section being built: where it starts, its notes, its code lines (blank ones too).
    start, notes, code_lines, intro = 1, [], [], False

    def has_content() -> bool:
        return bool(notes) or any(lines[i - 1].strip() for i in code_lines)

    def open_section(line: int) -> None:
        """Close the current section at `line - 1` and start a new one at `line`."""
        nonlocal start, notes, code_lines, intro
        numbers = _trim_blank(code_lines, lines)
        text = "\n\n".join(t for t in notes if t)
        if not (text or numbers or intro):  # nothing to show: a lone `#`, blank lines
            if line <= n:  # what comes next joins it
                return
            if sections:  # at the end of the file, the previous section takes its lines
                sections[-1].last_line = n
                return
        if line > start:  # an empty file has no sections
            sections.append(Section("intro" if intro else "", start, line - 1, text, _join(numbers, lines), numbers))
        start, notes, code_lines, intro = line, [], [], False

    line = 1
    while line <= n:
        if line in comments:  # a comment run: the notes of a new section
            # ... unless it stands between a def's decorators and docstring: then it is the def's.
            if has_content() and line not in in_header:
                open_section(line)
            run = []
            while line in comments:
                run.append(comments[line])
                line += 1
            notes.append(_comment_notes(run))  # "" for a lone `#`: a section with no notes
            continue
        if line in docstrings:
            end, text, owner = docstrings[line]
            if owner == "<module>":
                # The module docstring is the page's intro; comments before it (a licence) stay apart.
                if has_content():
                    open_section(line)
                intro = True
                meta, text = parse_front_matter(text)
            notes.append(text)
            line = end + 1
            continue
        if line in headers and any(lines[i - 1].strip() for i in code_lines):
            # Every def/class starts its own section, unless comments just opened one for it.
            open_section(line)
        code_lines.append(line)
        line += 1
    open_section(n + 1)

    index = _Index(tree, tokens)
    _make_unique(sections, [_anchor(section, index) for section in sections])
    return Module(meta, sections, lines)


def split_file(path: str | Path) -> Module:
    """Read a file the way Python does (PEP 263 encoding cookie, BOM) and split it.

    A file that can't be decoded or parsed raises `SourceError`, whose message is one line that
    names the file and the position: `path:line:column: message`. The result is kept for as long
    as the file keeps its size and modification time: a build asks for each chapter's sections
    several times (its page and notebook in each edition, its catalog), and `mkdocs serve` splits
    again only the file that was saved. Treat it as read-only.
    """
    stat = os.stat(path)
    return _split_file(str(Path(path).resolve()), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=256)
def _split_file(path: str, mtime_ns: int, size: int) -> Module:
    with open(path, "rb") as f:
        data = f.read()
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:  # an unknown encoding, or a cookie that contradicts the BOM
        cookie = next((number for number, line in enumerate(data.splitlines()[:2], 1)
                       if re.match(rb"[ \t\f]*#.*coding[:=]", line)), 1)
        why = " (the file starts with a UTF-8 byte-order mark)" if data.startswith(codecs.BOM_UTF8) else ""
        raise SourceError(path, cookie, 1, f"{error}{why}") from None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        raise SourceError(path, *_position(data[:error.start].decode(encoding)),
                          f"can't decode byte 0x{data[error.start]:02x} as {encoding}: {error.reason}") from None
    try:
        return split_source(text)
    except SyntaxError as error:
        if error.lineno is None:  # "source code string cannot contain null bytes" has no position
            raise SourceError(path, *_position(text.removeprefix("\ufeff").split("\0")[0]), error.msg) from None
        raise SourceError(path, error.lineno, error.offset or 1, error.msg) from None


# ---------------------------------------------------------------------------------------------
# Comments that stay in the code (trailing ones, and those inside brackets): a translated edition
# shows them in its language, line for line, so that the code column keeps its line numbers.

@dataclass
class CodeComment:
    """A comment in a section's code: one trailing comment, or a run of full-line comments at the
    same column on consecutive lines (a sentence may go on over several)."""

    lines: list[int]  # its source lines
    column: int  # where its `#` stands
    text: str  # the words after `# `, one line per source line
    anchor: str  # the section it is in


_WORDS = re.compile(r"[^\W\d_]{2}")  # a comment with words in it, not `# [B, C, H, W]` alone


def code_comments(module: Module) -> list[CodeComment]:
    """The comments in the code of `module`'s sections that have words in them; not the notes,
    and not a tool's (`# noqa`, `# type: ignore`)."""
    owner = {number: section.anchor for section in module.sections for number in section.code_lines}
    normalized = "".join(line.rstrip("\r\n") + "\n" for line in module.lines)
    found: list[CodeComment] = []
    for token in tokenize.generate_tokens(io.StringIO(normalized).readline):
        if token.type != tokenize.COMMENT or token.start[0] not in owner or _TOOL_COMMENT.match(token.string):
            continue
        number, column = token.start
        text = re.sub(r"^# ?", "", token.string).rstrip()
        full_line = not module.lines[number - 1][:column].strip()
        previous = found[-1] if found else None
        if (previous and full_line and previous.column == column and previous.lines[-1] == number - 1
                and not module.lines[number - 2][:column].strip()):
            previous.lines.append(number)
            previous.text += "\n" + text
        else:
            found.append(CodeComment([number], column, text, owner[number]))
    return [comment for comment in found if _WORDS.search(comment.text)]


def translate_code_comments(module: Module, translate: Callable[[str], str | None]) -> Module:
    """`module` with each code comment (`code_comments`) replaced by `translate(text)`, where that
    gives a text of as many lines; the code itself, and every line number, stay as they are."""
    lines = list(module.lines)
    changed = False
    for comment in code_comments(module):
        translated = translate(comment.text)
        if not translated or translated == comment.text or translated.count("\n") != comment.text.count("\n"):
            continue
        for number, text in zip(comment.lines, translated.split("\n")):
            line = lines[number - 1]
            body = line.rstrip("\r\n")
            lines[number - 1] = f"{body[:comment.column]}# {text}".rstrip() + line[len(body):]
        changed = True
    if not changed:
        return module
    sections = [replace(section, code=_join(section.code_lines, lines)) for section in module.sections]
    return Module(module.meta, sections, lines)


def _position(before: str) -> tuple[int, int]:
    """(line, column), both from 1, of the character that follows the text `before`."""
    head = split_lines(before) or [""]
    if head[-1].endswith(("\n", "\r")):
        return len(head) + 1, 1
    return len(head), len(head[-1]) + 1


def parse_front_matter(text: str) -> tuple[dict[str, str], str]:
    """Split `---\ntitle: …\ndescription: …\n---\n` off the top of a docstring.

    YAML-ish: one `key: value` a line, optional quotes. Returns (metadata, the rest of the text).
    """
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return {}, text
    for end in range(1, len(lines)):
        if lines[end].strip() == "---":
            break
    else:
        return {}, text
    meta = {}
    for entry in lines[1:end]:
        key, sep, value = entry.partition(":")
        if sep and key.strip():
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            meta[key.strip()] = value
    return meta, "\n".join(lines[end + 1:]).strip()


def _note_comments(tokens: list[tokenize.TokenInfo], normalized: str) -> dict[int, str]:
    """Full-line comments outside brackets: line number -> comment text (without `#`)."""
    found = {}
    depth = 0  # bracket depth: a comment inside (...) is part of an expression, so it stays code
    source_lines = normalized.split("\n")
    for tok in tokens:
        if tok.type == tokenize.OP and tok.string in "([{":
            depth += 1
        elif tok.type == tokenize.OP and tok.string in ")]}":
            depth -= 1
        elif tok.type == tokenize.COMMENT and depth == 0:
            row, col = tok.start
            for_tools = _TOOL_COMMENT.match(tok.string) or row <= 2 and _HEADER_COMMENT.match(tok.string)
            if source_lines[row - 1][:col].strip() == "" and not for_tools:
                found[row] = tok.string[1:]
    return found


def _docstrings(tree: ast.Module, lines: list[str]):
    """Docstrings that fill their own lines, where each def/class starts, and its header lines.

    Returns ({first line: (last line, cleaned text, owner qualname)}, {first line of def: qualname},
    {line between a def's first decorator and its `def`, or between its `def` and its docstring}).
    A docstring sharing a line with code (`def f(): "doc"`) stays in the code: taking its lines
    away would take code with them.
    """
    docstrings, headers, in_header = {}, {}, set()

    def visit(node, scope: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, _DEFINITIONS):
                qualname = f"{scope}.{child.name}" if scope else child.name
                first = min([d.lineno for d in child.decorator_list] + [child.lineno])
                headers[first] = qualname
                in_header.update(range(first, child.lineno))
                if _own_docstring(child, lines, docstrings, qualname):
                    in_header.update(range(child.lineno + 1, child.body[0].lineno))
                visit(child, qualname)
            elif isinstance(child, (ast.stmt, ast.excepthandler, ast.match_case)):  # expressions hold no defs
                visit(child, scope)

    _own_docstring(tree, lines, docstrings, "<module>")
    visit(tree, "")
    return docstrings, headers, in_header


def _own_docstring(node, lines: list[str], found: dict, owner: str) -> bool:
    """Record `node`'s docstring in `found` if it stands on lines of its own."""
    body = getattr(node, "body", None)
    if not body or not isinstance(body[0], ast.Expr):
        return False
    expr = body[0]
    if not (isinstance(expr.value, ast.Constant) and isinstance(expr.value.value, str)):
        return False
    first, last = lines[expr.lineno - 1], lines[expr.end_lineno - 1]
    # ast counts columns in UTF-8 bytes.
    before = first.encode()[:expr.col_offset].decode(errors="replace")
    after = last.rstrip("\r\n").encode()[expr.end_col_offset:].decode(errors="replace")
    if before.strip() or after.strip():
        return False
    found[expr.lineno] = (expr.end_lineno, inspect.cleandoc(expr.value.value), owner)
    return True


_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
# The fields of a compound statement that hold statements; the others are its header.
_BODIES = {"body", "orelse", "handlers", "finalbody", "cases"}


class _Index:
    """What anchors are made of: a module's statements by line, the scope of each line, the
    statements that define a name, where each statement sits, and the code tokens of each line."""

    def __init__(self, tree: ast.Module, tokens: list[tokenize.TokenInfo]):
        self.statements: dict[int, list[ast.stmt]] = {}  # line -> statements starting there, outermost first
        self.scopes: list[tuple[int, int, str]] = []  # (def line, last line, qualname) of each def/class
        # definition -> (qualified name, whether it is the first statement to define that name)
        self.definitions: dict[ast.stmt, tuple[str, bool]] = {}
        # statement -> the headers of the `if`/`for`/`try`… around it in its scope, and the branch
        # (`body`, `orelse`, …) of each: `return x` under `if a:` is not `return x` under `else:`
        self.context: dict[ast.stmt, tuple[str, ...]] = {}
        self.tokens: dict[int, list[str]] = {}  # line -> the code tokens (no comments) starting on it
        self._visit(tree, "", in_function=False, seen=set(), context=())
        layout = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
                  tokenize.ENDMARKER}
        for tok in tokens:
            if tok.type not in layout:
                self.tokens.setdefault(tok.start[0], []).append(tok.string)

    def _visit(self, node, scope: str, in_function: bool, seen: set[str], context: tuple[str, ...]) -> None:
        for field, value in ast.iter_fields(node):
            for child in value if isinstance(value, list) else [value]:
                if isinstance(child, (ast.excepthandler, ast.match_case)):  # they hold statements
                    self._visit(child, scope, in_function, seen, (*context, field, _header(child)))
                if not isinstance(child, ast.stmt):
                    continue
                self.statements.setdefault(child.lineno, []).append(child)
                for decorator in getattr(child, "decorator_list", []):
                    self.statements.setdefault(decorator.lineno, []).append(child)
                self.context[child] = (*context, field)
                name = _defined_name(child, in_function)
                if name:
                    qualname = f"{scope}.{name}" if scope else name
                    self.definitions[child] = (qualname, qualname not in seen)
                    seen.add(qualname)
                if isinstance(child, _DEFINITIONS):
                    self.scopes.append((child.lineno, child.end_lineno, qualname))
                    self._visit(child, qualname, not isinstance(child, ast.ClassDef), seen, ())
                elif _is_compound(child):
                    self._visit(child, scope, in_function, seen, (*context, field, _header(child)))

    def scope_at(self, line: int) -> str:
        """The qualified name of the innermost def/class whose body holds `line` ("" at top level)."""
        inner = [(first, qualname) for first, last, qualname in self.scopes if first < line <= last]
        return max(inner)[1] if inner else ""


def _is_compound(stmt: ast.stmt) -> bool:
    """Whether the statement holds others (`if`, `for`, `try`, `match`, a def…)."""
    return any(isinstance(getattr(stmt, body, None), list) for body in _BODIES)


def _header(node: ast.AST) -> str:
    """A compound statement's header (`if a:`, `except E:`) as text that ignores layout and comments."""
    parts = [ast.dump(item) if isinstance(item, ast.AST) else repr(item)
             for field, value in ast.iter_fields(node) if field not in _BODIES
             for item in (value if isinstance(value, list) else [value])]
    return f"{type(node).__name__}({', '.join(parts)})"


def _defined_name(stmt: ast.stmt, in_function: bool) -> str | None:
    """The name a statement defines: a def or class anywhere; outside functions, an assigned
    name (a module or class attribute), `imports`, or `__main__` for `if __name__ == "__main__":`."""
    if isinstance(stmt, _DEFINITIONS):
        return stmt.name
    if in_function:
        return None  # a local variable is not worth a name of its own
    target = stmt.targets[0] if isinstance(stmt, ast.Assign) else \
        stmt.target if isinstance(stmt, ast.AnnAssign) else None
    while isinstance(target, (ast.Tuple, ast.List)) and target.elts:
        target = target.elts[0]
    if isinstance(target, ast.Starred):
        target = target.value
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return "imports"
    if isinstance(stmt, ast.If) and ast.unparse(stmt.test).replace("'", '"') == '__name__ == "__main__"':
        return "__main__"
    return None


def _comment_notes(run: list[str]) -> str:
    """Markdown from the text of a comment run: `#` removed, common indentation removed."""
    return textwrap.dedent("\n".join(text.rstrip() for text in run)).strip()


def _trim_blank(numbers: list[int], lines: list[str]) -> list[int]:
    """Drop blank lines at both ends: they separate sections, they aren't code."""
    keep = [i for i, number in enumerate(numbers) if lines[number - 1].strip()]
    return numbers[keep[0]:keep[-1] + 1] if keep else []


def _join(numbers: list[int], lines: list[str]) -> str:
    """The exact text of these source lines, without the last line's ending."""
    text = "".join(lines[number - 1] for number in numbers)
    for ending in ("\r\n", "\n", "\r"):
        if text.endswith(ending):
            return text[:-len(ending)]
    return text


_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)


def _anchor(section: Section, index: _Index) -> tuple[str, str, bool]:
    """A section's anchor, made from its own text, so that a line added elsewhere can't move it.

    Returns (anchor, a hash of the section's text that tells it apart should another section
    want the same anchor, whether it has first claim to the anchor). The anchor is

    * `intro` for the module docstring's section;
    * a definition's qualified name (`BasicBlock.forward`, `BasicBlock.expansion`, `PRESETS`)
      where the section's code starts at the first definition of that name;
    * the slug of the notes' first heading (`Exercises`) where the section defines nothing, its
      first words where it also has no code and no heading;
    * for any other code (most often a section that starts inside a function body) the qualified
      name of its scope, the first name its first statement assigns or calls, and 4 hex digits of
      a hash of that statement's tokens and of the `if`/`for`/… headers around it:
      `BasicBlock.forward.out-3c1a`. No counter: inserting a section before it changes nothing,
      and editing the statement's layout or comments neither.
    """
    if section.anchor == "intro":
        return "intro", _digest([section.notes]), True
    heading = _HEADING.search(section.notes)
    slug = "-".join(re.findall(r"\w+", heading.group(1))) if heading else ""
    if not section.code_lines:
        words = re.findall(r"\w+", re.sub(r"<[^>]*>|\]\([^)]*\)", " ", section.notes))[:4]
        return slug or "-".join(words) or "notes", _digest([section.notes]), False
    lead, statements = _lead(section, index)
    digest = _digest([*(index.context[statements[0]] if statements else ()),
                      *(token for number in lead for token in index.tokens.get(number, []))])
    if statements and statements[0] in index.definitions:
        qualname, first = index.definitions[statements[0]]
        if first:
            return qualname, digest, True
        return f"{qualname}-{digest}", "", False
    scope = index.scope_at(section.code_lines[0])
    if slug:
        return f"{scope}.{slug}" if scope else slug, digest, False
    name = _statement_name(statements) or next(  # a lone `else:` or `try:`: its keyword
        (token for number in lead for token in index.tokens.get(number, [])), "code")
    return f"{scope}.{name}-{digest}" if scope else f"{name}-{digest}", "", False


def _lead(section: Section, index: _Index) -> tuple[list[int], list[ast.stmt]]:
    """The section's first statement: its code lines and the statements that start on them.

    For a def or class, its decorators and signature; for a compound statement (`if`, `for`,
    `with`, …), its header down to the end of the first simple statement in it.
    """
    code = section.code_lines
    first = index.statements.get(code[0], [None])[0]
    if isinstance(first, _DEFINITIONS):
        end = max(first.lineno, first.body[0].lineno - 1)
    else:
        end = code[-1]
        for number in code:
            simple = [s for s in index.statements.get(number, []) if not _is_compound(s)]
            if simple:
                end = simple[0].end_lineno
                break
    lead = [number for number in code if number <= end]
    statements = list(dict.fromkeys(s for number in lead for s in index.statements.get(number, [])))
    return lead, statements


def _statement_name(statements: list[ast.stmt]) -> str:
    """What statements are about: the first name they assign or call (in a compound statement,
    in its header), else the first name they use, else the first one's keyword."""
    # ((line, column, 0 if assigned else 1, order of the walk: outer nodes first), name)
    assigned, used = [], []
    for stmt in statements:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            assigned.append(((stmt.lineno, stmt.col_offset, 0, 0), "imports"))
            continue
        header = [value for field, value in ast.iter_fields(stmt) if field not in _BODIES]
        nodes = (node for part in header for item in (part if isinstance(part, list) else [part])
                 if isinstance(item, ast.AST) for node in ast.walk(item))
        for order, node in enumerate(nodes):
            name = _name_of(node.func if isinstance(node, ast.Call) else node)
            if name is None or not hasattr(node, "lineno"):
                continue
            if isinstance(node, ast.Call):
                assigned.append(((node.lineno, node.col_offset, 1, order), name))
            elif isinstance(getattr(node, "ctx", None), ast.Store):
                assigned.append(((node.lineno, node.col_offset, 0, order), name))
            elif name not in ("self", "cls"):
                used.append(((node.lineno, node.col_offset, 0, order), name))
    for found in (assigned, used):
        if found:
            return min(found)[1]
    return type(statements[0]).__name__.lower() if statements else ""


def _name_of(node: ast.AST) -> str | None:
    """`x` for `x`, `self.x`, `x[i]` or `self.x[i]`; None for anything else."""
    while isinstance(node, ast.Subscript):
        node = node.value
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _digest(parts: list[str]) -> str:
    """4 hex digits that change when `parts` do."""
    return hashlib.sha1("\0".join(parts).encode()).hexdigest()[:4]


def _make_unique(sections: list[Section], anchors: list[tuple[str, str, bool]]) -> None:
    """Give each section its anchor (from `_anchor`), unique in the page.

    Anchors with first claim (the first definition of a name, `intro`) are given first. A section
    whose anchor is taken gets its hash appended; only where that is taken too (two statements
    with the same tokens) does a counter decide.
    """
    taken: set[str] = set()
    for section, (anchor, _, first) in zip(sections, anchors):
        section.anchor = anchor if first and anchor not in taken else ""
        taken.add(section.anchor)
    for section, (anchor, digest, _) in zip(sections, anchors):
        if section.anchor:
            continue
        if anchor in taken and digest:
            anchor = f"{anchor}-{digest}"
        candidate, number = anchor, 2
        while candidate in taken:
            candidate, number = f"{anchor}-{number}", number + 1
        section.anchor = candidate
        taken.add(candidate)



def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m mkdocs_literate.splitter PATH.py", file=sys.stderr)
        return 2
    try:
        module = split_file(argv[0])
    except SourceError as error:  # one line that names the file and the place, no traceback
        print(error, file=sys.stderr)
        return 1
    json.dump([s.as_json() for s in module.sections], sys.stdout, indent=2, ensure_ascii=False)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
