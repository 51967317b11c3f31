r"""Split a Python file into literate sections: notes on the left, code on the right.

This module knows nothing about MkDocs, so it can be tested and reused on its own:

    python docs/hooks/literate.py labml_resnet/blocks.py

prints the file's sections as JSON.

The rules (the same ones pycco and labml's site follow, but read from the `tokenize` and `ast`
streams instead of guessed from line patterns, so strings and brackets can't fool them):

* a run of full-line comments is the notes of the code that follows it;
* a class or function docstring is the notes of its `def`/`class` line (decorators included);
* the module docstring is the page's intro, and its front matter (`title:`, `description:`
  between `---` lines) is the page's metadata;
* a lone `#` (a comment run with no text) starts a new section with no notes;
* a comment run with no code after it (the "Exercises" at the end of a chapter) is a section
  with notes and no code.

Every source line belongs to exactly one section, in order, and code lines are kept verbatim.
Comments inside brackets stay in the code: splitting there would cut a statement in two.
"""

from __future__ import annotations

import ast
import html
import inspect
import io
import json
import re
import sys
import textwrap
import tokenize
import warnings
from dataclasses import dataclass, field
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


# Comments meant for tools, not readers, stay in the code: directives anywhere, and on the first
# two lines a shebang or an encoding declaration (PEP 263).
_TOOL_COMMENT = re.compile(r"#\s*(type|noqa|pragma|fmt|pylint|mypy)\b")
_HEADER_COMMENT = re.compile(r"#!|#.*coding[:=]")


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

    comments = _note_comments(normalized)  # line -> comment text, for notes
    docstrings, headers = _docstrings(tree, lines)  # first line -> (last line, text); def start -> qualname
    statements = _statements(tree)  # first statement on each line, with its scope

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
        if line > start:  # an empty file has no sections
            sections.append(Section("intro" if intro else "", start, line - 1,
                                    "\n\n".join(t for t in notes if t), _join(numbers, lines), numbers))
        start, notes, code_lines, intro = line, [], [], False

    line = 1
    while line <= n:
        if line in comments:  # a comment run: the notes of a new section
            if has_content():
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
            # A documented def/class starts its own section, unless comments just opened one for it.
            open_section(line)
        code_lines.append(line)
        line += 1
    open_section(n + 1)

    for section in sections:
        if not section.anchor:
            section.anchor = _anchor(section, statements)
    _make_unique(sections)
    return Module(meta, sections, lines)


def split_file(path: str | Path) -> Module:
    """Read a file the way Python does (PEP 263 encoding cookie, BOM) and split it."""
    with open(path, "rb") as f:
        data = f.read()
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    return split_source(data.decode(encoding))


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


def _note_comments(normalized: str) -> dict[int, str]:
    """Full-line comments outside brackets: line number -> comment text (without `#`)."""
    found = {}
    depth = 0  # bracket depth: a comment inside (...) is part of an expression, so it stays code
    source_lines = normalized.split("\n")
    for tok in tokenize.generate_tokens(io.StringIO(normalized).readline):
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
    """Docstrings that fill their own lines, and where each documented def/class starts.

    Returns ({first line: (last line, cleaned text, owner qualname)}, {first line of def: qualname}).
    A docstring sharing a line with code (`def f(): "doc"`) stays in the code: taking its lines
    away would take code with them.
    """
    docstrings, headers = {}, {}

    def visit(node, scope: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                qualname = f"{scope}.{child.name}" if scope else child.name
                if _own_docstring(child, lines, docstrings, qualname):
                    first = min([d.lineno for d in child.decorator_list] + [child.lineno])
                    headers[first] = qualname
                visit(child, qualname)
            else:
                visit(child, scope)

    _own_docstring(tree, lines, docstrings, "<module>")
    visit(tree, "")
    return docstrings, headers


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


def _statements(tree: ast.Module) -> dict[int, tuple[ast.stmt, str]]:
    """The outermost statement starting on each line, with the qualname of its scope."""
    found: dict[int, tuple[ast.stmt, str]] = {}

    def visit(node, scope: str) -> None:
        for child in ast.iter_child_nodes(node):
            inner = scope
            if isinstance(child, ast.stmt):
                found.setdefault(child.lineno, (child, scope))
                for decorator in getattr(child, "decorator_list", []):
                    found.setdefault(decorator.lineno, (child, scope))
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    inner = f"{scope}.{child.name}" if scope else child.name
            visit(child, inner)

    visit(tree, "")
    return found


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


def _anchor(section: Section, statements: dict) -> str:
    """A stable id: the qualified name of what the section defines, else a name from its code or notes."""
    stmt = None
    for number in section.code_lines:
        if number in statements:
            stmt, scope = statements[number]
            break
    if stmt is not None:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return f"{scope}.{stmt.name}" if scope else stmt.name
        name = _statement_name(stmt)
        return f"{scope}.{name}" if scope else name
    heading = _HEADING.search(section.notes)
    if heading:
        words = re.findall(r"\w+", heading.group(1))
        if words:
            return "-".join(words)
    return "notes"


def _statement_name(stmt: ast.stmt) -> str:
    """What a statement is about: the name it assigns or calls, else its keyword."""
    target = None
    if isinstance(stmt, ast.Assign):
        target = stmt.targets[0]
    elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign)):
        target = stmt.target
    elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        target = stmt.value.func
    elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return "imports"
    elif isinstance(stmt, ast.If) and "__name__" in ast.unparse(stmt.test):
        return "main"
    while isinstance(target, (ast.Tuple, ast.List, ast.Starred, ast.Subscript)):
        target = target.value if not isinstance(target, (ast.Tuple, ast.List)) else (target.elts or [None])[0]
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute):
        return target.attr
    return type(stmt).__name__.lower()


def _make_unique(sections: list[Section]) -> None:
    """Number repeated anchors in order: `forward`, `forward-2`, …"""
    seen: dict[str, int] = {}
    for section in sections:
        base = section.anchor
        seen[base] = seen.get(base, 0) + 1
        if seen[base] > 1:
            candidate = f"{base}-{seen[base]}"
            while candidate in seen:
                seen[base] += 1
                candidate = f"{base}-{seen[base]}"
            seen[candidate] = 1
            section.anchor = candidate


# ---------------------------------------------------------------------------------------------
# The page: Markdown that MkDocs renders, with each section's notes beside its code.
#
# Notes stay Markdown (inside `<div markdown>`, Python-Markdown's md_in_html), so MkDocs'
# table of contents, search and math see them like any other page. Code is highlighted here,
# line by line, so each line can carry its own source line number.


# The words the page itself adds around the notes and code; `render_page` takes them translated.
LABELS = {"source": "Source", "permalink": "Link to this section", "lines": "These lines in the repository"}


def render_page(path: str | Path, rel_path: str, repo_url: str,
                translate: Callable[[str], str] = lambda notes: notes, branch: str = "main",
                labels: dict[str, str] = LABELS) -> str:
    """The Markdown page for the Python file at `path`.

    * `rel_path` is the file's path in the repository, for links to it;
    * `translate` maps each section's English notes (and the title and description) to the
      page's language: a gettext catalog's `gettext` for a translated site;
    * `labels` are the page's own words (`LABELS`), in the page's language.
    """
    module = split_file(path)
    highlighted = _highlight(module.lines)
    blob = f"{repo_url.rstrip('/')}/blob/{branch}/{rel_path}"
    # (`translate` never sees an empty string: gettext's translation of "" is the catalog header.)
    title, description = (translate(module.meta[key]) if module.meta.get(key) else ""
                          for key in ("title", "description"))
    front = {"title": title or rel_path, "description": description,
             "hide": ["toc"]}  # the sections are the page's structure; the width goes to the code
    out = ["---", *(f"{key}: {json.dumps(value, ensure_ascii=False)}" for key, value in front.items()
                    if value), "---", "",
           f'<p class="lit-source">{html.escape(labels["source"])}: <a href="{html.escape(blob)}"><code>{html.escape(rel_path)}</code></a></p>',
           ""]
    for section in module.sections:
        out.append(_render_section(section, translate(section.notes) if section.notes else "",
                                   highlighted, blob, labels))
    return "\n".join(out) + "\n"


def _render_section(section: Section, notes: str, highlighted: list[str], blob: str,
                    labels: dict[str, str] = LABELS) -> str:
    anchor = html.escape(section.anchor)
    permalink = f'<a class="lit-permalink" href="#{anchor}" title="{html.escape(labels["permalink"])}">#</a>'
    if not section.code:  # notes only: full width
        return (f'<div class="lit-section lit-notes-only" id="{anchor}" markdown>\n'
                f'<div class="lit-notes" markdown>\n<div class="lit-links" data-search-exclude>{permalink}</div>\n\n'
                f'{notes}\n\n</div>\n</div>\n')
    # The link covers the notes too: on GitHub the comments are part of the story.
    first, last = section.first_line, section.code_lines[-1]
    span = f"L{first}" if first == last else f"L{first}–{last}"
    lines_link = (f'<a class="lit-lines" href="{html.escape(blob)}#L{first}-L{last}" '
                  f'title="{html.escape(labels["lines"])}">{span}</a>')
    # One span per line; CSS draws `data-line` before it, so numbers are shown but never copied.
    code = "\n".join(f'<span class="lit-line" data-line="{number}">{highlighted[number - 1]}</span>'
                     for number in section.code_lines)
    return (f'<div class="lit-section" id="{anchor}" markdown>\n'
            f'<div class="lit-notes" markdown>\n\n{notes}\n\n</div>\n'
            # Material names a code block after the nearest id for its copy button, and uses it
            # in a CSS selector, where the dots of `Block.forward` would break it: give the <pre>
            # a plain id of its own.
            f'<div class="lit-code"><div class="highlight"><pre id="L{section.code_lines[0]}"><code>{code}</code></pre></div>'
            f'<div class="lit-links" data-search-exclude>{permalink}{lines_link}</div></div>\n'
            f'</div>\n')


def _highlight(lines: list[str]) -> list[str]:
    """HTML for each source line, highlighted as part of the whole file (strings span lines)."""
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer

    text = "".join(line.rstrip("\r\n") + "\n" for line in lines)
    # nowrap: no <pre> around it; the formatter closes and reopens spans at each newline.
    out = highlight(text, PythonLexer(stripnl=False, ensurenl=True), HtmlFormatter(nowrap=True))
    # Whitespace needs no span of its own: dropping them makes pages a tenth smaller.
    out = re.sub(r'<span class="w">(\s*)</span>', r"\1", out)
    result = out.split("\n")
    if len(result) < len(lines):  # never expected; plain text beats misnumbered lines
        result = [html.escape(line.rstrip("\r\n")) for line in lines]
    return result


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python docs/hooks/literate.py PATH.py")
    module = split_file(sys.argv[1])
    json.dump([s.as_json() for s in module.sections], sys.stdout, indent=2, ensure_ascii=False)
    print()
