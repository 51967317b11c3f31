"""The splitter (mkdocs_literate/splitter.py): rules, anchors that a new line elsewhere can't move,
the cases that break line-regex splitters like pycco, one-line errors for files that aren't
Python, and invariants checked on generated modules, on the chapters and on every file of
labml-nn."""

import ast
import importlib.util
import io
import json
import random
import re
import subprocess
import sys
import tokenize
import warnings
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from conftest import PROJECT, ROOT
from mkdocs_literate import project, splitter
from mkdocs_literate.page import LABELS, render_page


def split(text):
    return splitter.split_source(text).sections


def table(text):
    """(anchor, notes, code) of each section: what a reader sees, with `masked` anchors."""
    return [(masked(s.anchor), s.notes, s.code) for s in split(text)]


def masked(anchor):
    """The anchor with its hash (`-` and 4 hex digits at the end) written `-####`, so tests can spell it."""
    return re.sub(r"-[0-9a-f]{4}$", "-####", anchor)


# ---------------------------------------------------------------------------------------------
# Invariants, checked on every file the tests split


def check_invariants(text: str) -> splitter.Module:
    module = splitter.split_source(text)
    lines = splitter.split_lines(text.removeprefix("\ufeff"))
    # Every line belongs to exactly one section, in order.
    expected_first = 1
    for section in module.sections:
        assert section.first_line == expected_first
        assert section.last_line >= section.first_line
        assert all(section.first_line <= n <= section.last_line for n in section.code_lines)
        assert section.code_lines == sorted(set(section.code_lines))
        expected_first = section.last_line + 1
    assert expected_first == len(lines) + 1
    # Code is verbatim: exactly the source lines, with their own line endings but the last.
    for section in module.sections:
        raw = "".join(lines[n - 1] for n in section.code_lines)
        for ending in ("\r\n", "\n", "\r"):
            if raw.endswith(ending):
                raw = raw[:-len(ending)]
                break
        assert section.code == raw
    # Nothing that is code is lost: every line holding a token other than a comment or a
    # docstring is shown as code.
    shown = {n for section in module.sections for n in section.code_lines}
    code_token_lines = _code_token_lines(text)
    assert code_token_lines <= shown
    # Anchors: present and unique.
    anchors = [section.anchor for section in module.sections]
    assert all(anchors) and len(set(anchors)) == len(anchors)
    # Every def and class starts a section at its first decorator, and its docstring (where it
    # has lines of its own) is that section's notes, whatever comments stand between them.
    holder = {n: section for section in module.sections for n in range(section.first_line, section.last_line + 1)}
    for node in ast.walk(_parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            first = min([d.lineno for d in node.decorator_list] + [node.lineno])
            section = holder[first]
            assert section.code_lines[0] == first and holder[node.lineno] is section, (node.name, node.lineno)
            docstring = ast.get_docstring(node)
            expr = node.body[0]
            if docstring and not set(range(expr.lineno, expr.end_lineno + 1)) & code_token_lines:
                assert docstring in section.notes, (node.name, node.lineno)
    return module


def _parse(text: str) -> ast.Module:
    normalized = "".join(line.rstrip("\r\n") + "\n" for line in splitter.split_lines(text.removeprefix("\ufeff")))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(normalized)


def _code_token_lines(text: str) -> set[int]:
    """Lines holding a token that isn't a comment or a stand-alone docstring (found independently)."""
    normalized = "".join(line.rstrip("\r\n") + "\n" for line in splitter.split_lines(text.removeprefix("\ufeff")))
    tree = _parse(text)
    docstring_lines = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and \
                ast.get_docstring(node, clean=False) is not None:
            expr = node.body[0]
            docstring_lines |= set(range(expr.lineno, expr.end_lineno + 1))
    found = set()
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
            tokenize.ENDMARKER}
    for tok in tokenize.generate_tokens(io.StringIO(normalized).readline):
        if tok.type in skip:
            continue
        span = set(range(tok.start[0], tok.end[0] + 1))
        if tok.type == tokenize.STRING and span <= docstring_lines:
            continue
        found |= span
    # A docstring that shares its line with code stays code; its lines have other tokens then.
    return found


# ---------------------------------------------------------------------------------------------
# The rules


def test_comment_run_is_the_notes_of_the_code_after_it():
    assert table("import torch\n\n# Two layers\n# of width 3\nx = 1\ny = 2\n") == [
        ("imports", "", "import torch"),
        ("x", "Two layers\nof width 3", "x = 1\ny = 2"),
    ]


def test_docstring_is_the_notes_of_its_def_line():
    text = 'class A:\n    """## A\n\n    Text."""\n\n    def f(self):\n        """Doc."""\n        return 1\n'
    assert table(text) == [("A", "## A\n\nText.", "class A:"),
                           ("A.f", "Doc.", "    def f(self):\n        return 1")]


def test_module_docstring_is_the_intro_with_front_matter():
    text = 'r"""\n---\ntitle: Residual learning\ndescription: "Why $F(x) + x$"\n---\n# Residual\n\nText.\n"""\nimport torch\n'
    module = splitter.split_source(text)
    assert module.meta == {"title": "Residual learning", "description": "Why $F(x) + x$"}
    assert [(s.anchor, s.notes, s.code) for s in module.sections] == [
        ("intro", "# Residual\n\nText.", "import torch")]


def test_lone_hash_forces_a_new_section():
    assert table("x = 1\n#\ny = 2\n") == [("x", "", "x = 1"), ("y", "", "y = 2")]


def test_hash_inside_a_comment_run_is_a_paragraph_break():
    assert table("# a\n#\n# b\nx = 1\n") == [("x", "a\n\nb", "x = 1")]


def test_trailing_comments_are_a_notes_only_section():
    sections = split("x = 1\n\n# ## Exercises\n#\n# 1. Try stride 3.\n")
    assert [(s.anchor, s.notes, s.code, s.first_line, s.last_line) for s in sections] == [
        ("x", "", "x = 1", 1, 2),
        ("Exercises", "## Exercises\n\n1. Try stride 3.", "", 3, 5),
    ]


def test_comment_between_decorator_and_def_stays_with_the_def():
    text = 'x = 1\n\n# Why f\n@decorator\n# why this decorator\n@other(1)\ndef f():\n    """Doc."""\n    return 1\n'
    assert table(text) == [("x", "", "x = 1"),
                           ("f", "Why f\n\nwhy this decorator\n\nDoc.", "@decorator\n@other(1)\ndef f():\n    return 1")]


def test_comment_between_class_and_docstring_keeps_the_docstring_with_the_class():
    text = 'class X:\n    # A note on X\n    """## X\n\n    Text."""\n\n    def m(self):\n        return 1\n'
    assert table(text) == [("X", "A note on X\n\n## X\n\nText.", "class X:"),
                           ("X.m", "", "    def m(self):\n        return 1")]
    # The same between a def and its docstring; a comment in an undocumented def's body is the
    # notes of the code after it.
    assert table('def f():\n    # a note\n    """Doc."""\n    return 1\n') == [
        ("f", "a note\n\nDoc.", "def f():\n    return 1")]
    assert table("def f():\n    # a note\n    return 1\n") == [
        ("f", "", "def f():"), ("f.return-####", "a note", "    return 1")]


def test_comment_then_documented_def_is_one_section():
    text = '# Why f\n\n@decorator\n@other(1)\ndef f():\n    """Doc."""\n    return 1\n'
    assert table(text) == [("f", "Why f\n\nDoc.", "@decorator\n@other(1)\ndef f():\n    return 1")]


def test_documented_def_starts_at_its_decorators():
    sections = split('x = 1\n@decorator\ndef f():\n    """Doc."""\n')
    assert [(s.anchor, s.first_line, s.code) for s in sections] == [("x", 1, "x = 1"), ("f", 2, "@decorator\ndef f():")]


def test_a_function_without_a_docstring_starts_its_own_section():
    text = ("x = 1\n\n\ndef train_in_world(config):\n    device = 1\n    # Data\n    load(device)\n\n\n"
            "class Refused(Exception):\n    pass\n")
    assert table(text) == [("x", "", "x = 1"),
                           ("train_in_world", "", "def train_in_world(config):\n    device = 1"),
                           ("train_in_world.load-####", "Data", "    load(device)"),
                           ("Refused", "", "class Refused(Exception):\n    pass")]


# ---------------------------------------------------------------------------------------------
# Anchors: made from a section's own text, never from line numbers or counters


BLOCK = '''import torch
# The width of everything
WIDTH = 3


class Block:
    """B."""
    # Output channels per input channel
    expansion = 1

    def forward(self, x):
        """F."""
        # the shortcut
        shortcut = x
        out = x
        # the residual
        out = self.conv(out)
        if self.plain:
            # no shortcut
            return out
        # add the shortcut
        return out + shortcut
'''


def test_anchors_are_qualified_names():
    anchors = [s.anchor for s in split(BLOCK)]
    assert [masked(a) for a in anchors] == [
        "imports", "WIDTH", "Block", "Block.expansion", "Block.forward",
        # inside a function: the first name assigned or called, and a hash of the statement
        "Block.forward.shortcut-####", "Block.forward.out-####", "Block.forward.out-####", "Block.forward.out-####"]
    assert len(set(anchors)) == len(anchors)  # told apart by their hashes, not by counters


def test_an_inner_anchor_depends_on_its_statement_and_where_it_stands():
    def anchors(text):
        return [s.anchor for s in split(text)]

    base = anchors(BLOCK)
    # Layout and comments inside the statement don't count; its tokens do.
    assert anchors(BLOCK.replace("out = self.conv(out)", "out = self.conv( out )  # W x")) == base
    assert anchors(BLOCK.replace("out = self.conv(out)", "out = self.conv2(out)"))[6] != base[6]
    # `return out` under `if self.plain:` is not `return out` after it: no counter needed.
    changed = anchors(BLOCK.replace("return out + shortcut", "return out"))
    assert changed[:-1] == base[:-1] and changed[-1] != changed[-2]
    assert masked(changed[-1]) == masked(changed[-2]) == "Block.forward.out-####"


def test_a_name_defined_twice_keeps_its_anchor_on_the_first_definition():
    text = ('class A:\n    @property\n    def x(self):\n        return 1\n\n'
            '    @x.setter\n    def x(self, value):\n        pass\n')
    assert [masked(s.anchor) for s in split(text)] == ["A", "A.x", "A.x-####"]


def test_identical_statements_are_the_one_place_a_counter_decides():
    sections = split("def f(x):\n    # one\n    s = x\n    # two\n    s = x\n")
    assert sections[2].anchor == sections[1].anchor + "-2"


def test_top_level_notes_are_named_after_what_they_introduce_or_their_heading():
    text = ("# ## Configuration\n\n@dataclass\nclass Config:\n    lr: float = 0.1\n\n\n"
            "# ## Training\n\ntorch.manual_seed(0)\n\n"
            "# Read the table down each <b>column</b>, then [here](x.md).\n")
    assert [s.anchor for s in split(text)] == ["Config", "Training", "Read-the-table-down"]


def test_inserting_a_line_moves_no_other_anchor_in_an_example():
    # With counters (`out`, `out-2`, …), a comment that split the first `out` section renamed
    # every later one. Now only the section the new line lands in may change its anchor.
    line = BLOCK.split("\n").index("        out = x") + 1  # in the middle of the shortcut's section
    for new in ["", "        # a new note", "        x = x.float()"]:
        assert moved_anchors(BLOCK, line, new) == [], new


def insert_line(text, line, new):
    """`text` with the line `new` inserted before its line number `line`."""
    lines = splitter.split_lines(text)
    ending = lines[line - 1][len(lines[line - 1].rstrip("\r\n")):] or "\n"
    return "".join(lines[:line - 1]) + new + ending + "".join(lines[line - 1:])


def moved_anchors(text, line, new, before=None):
    """(old anchor, new anchor) of each section of `text` whose anchor changes when the line `new`
    is inserted before line number `line`, except the section that the new line lands in.
    Sections are matched by their code lines (one further down after the new line), sections
    without code by their first line."""
    def key(section, shift=lambda number: number):
        return tuple(map(shift, section.code_lines)) or ("notes", shift(section.first_line))

    after = {key(s): s.anchor for s in split(insert_line(text, line, new))}
    moved = []
    for s in before or split(text):
        anchor = after.get(key(s, lambda number: number + (number >= line)))
        if not s.first_line <= line <= s.last_line and anchor != s.anchor:
            moved.append((s.anchor, anchor))
    return moved


def compiles(text):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(text, "<text>", "exec", dont_inherit=True)
    except SyntaxError:
        return False
    return True


# ---------------------------------------------------------------------------------------------
# What breaks line-based splitters (pycco and friends)


def test_one_line_docstrings():
    assert table('def f():\n    """Doc."""\n    return 1\n') == [("f", "Doc.", "def f():\n    return 1")]


def test_triple_quotes_inside_strings():
    text = 'a = \'"""\'\n# real note\nb = """\n# not a comment\n"""  # trailing\n'
    assert table(text) == [("a", "", "a = '\"\"\"'"),
                           ("b", "real note", 'b = """\n# not a comment\n"""  # trailing')]


def test_nested_functions():
    text = 'def outer():\n    """O."""\n    def inner():\n        """I."""\n        return 1\n    return inner\n'
    assert table(text) == [("outer", "O.", "def outer():"),
                           ("outer.inner", "I.", "    def inner():\n        return 1\n    return inner")]


def test_comments_inside_expressions_stay_in_the_code():
    text = "x = f(\n    # the first argument\n    1,\n)\n"
    assert table(text) == [("x", "", text.rstrip("\n"))]


def test_docstring_sharing_a_line_with_code_stays_code():
    assert table('def f(): """Doc."""\n') == [("f", "", 'def f(): """Doc."""')]
    assert table('def f():\n    "é"; return 1\n') == [("f", "", 'def f():\n    "é"; return 1')]


def test_a_file_that_is_only_a_docstring():
    assert table('"""Just notes."""\n') == [("intro", "Just notes.", "")]


def test_empty_file():
    assert split("") == []
    assert table("\n\n") == [("notes", "", "")]


def test_crlf():
    sections = split("# note\r\nx = 1\r\ny = 2\r\n")
    assert [(s.notes, s.code) for s in sections] == [("note", "x = 1\r\ny = 2")]


def test_tabs():
    assert table('def f():\n\t"""Doc."""\n\t# note\n\treturn 1\n') == [
        ("f", "Doc.", "def f():"), ("f.return-####", "note", "\treturn 1")]


def test_unicode():
    # ast counts columns in UTF-8 bytes; the docstring test must not be fooled by that.
    text = 'def f():\n    """Résumé × 残差"""  \n    # ∂L/∂x\n    return "é"  # ü\n'
    assert table(text) == [("f", "Résumé × 残差", "def f():"), ("f.return-####", "∂L/∂x", '    return "é"  # ü')]


def test_comments_for_tools_stay_code():
    assert table("#!/usr/bin/env python\n# -*- coding: utf-8 -*-\nx = 1\n# type: ignore\ny = 2\n") == [
        ("x", "", "#!/usr/bin/env python\n# -*- coding: utf-8 -*-\nx = 1\n# type: ignore\ny = 2")]
    directives = ["# noqa", "# NOQA: E402", "# fmt: off", "# pragma: no cover", "# pylint: disable=C0103",
                  "# mypy: ignore-errors", "# isort: skip_file", "#type:ignore"]
    text = "x = 1\n" + "\n".join(directives) + "\ny = 2\n"
    assert table(text) == [("x", "", text.rstrip("\n"))]
    # Further down, "coding:" is just a word in a note.
    assert table("x = 1\n\n# decoding: bytes to text\ny = 2\n")[1] == ("y", "decoding: bytes to text", "y = 2")


def test_notes_that_begin_like_a_directive_are_notes():
    for note in ["type of the shortcut: A, B or C", "noqa is flake8's word for it", "fmt is short for format",
                 "pragmatic: one layer", "typed: every argument"]:
        assert table(f"x = 1\n# {note}\ny = 2\n") == [("x", "", "x = 1"), ("y", note, "y = 2")], note


def test_invalid_escape_sequences_do_not_raise():
    # Valid Python that 3.12 warns about (pytest turns SyntaxWarning into an error here).
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert table('def f():\n    """Matches \\d."""\n    return "\\s"\n') == [
            ("f", "Matches \\d.", 'def f():\n    return "\\s"')]


def test_render_page_translates_notes_and_keeps_code(tmp_path):
    source = tmp_path / "chapter.py"
    source.write_text('r"""\n---\ntitle: Blocks\ndescription: Two layers\n---\n# Blocks\n"""\n'
                      "# add the shortcut\ny = x + 1\n", encoding="utf-8")
    page = render_page(source, "labml_resnet/chapter.py", "https://github.com/o/r",
                                translate=lambda notes: notes.upper())
    assert 'title: "BLOCKS"' in page and 'description: "TWO LAYERS"' in page
    assert "ADD THE SHORTCUT" in page and "add the shortcut" not in page
    assert 'data-line="9"' in page and "https://github.com/o/r/blob/main/labml_resnet/chapter.py#L8-L9" in page
    assert "Source: <a" in page and 'title="Link to this section"' in page


def test_render_page_puts_its_own_words_in_the_pages_language(tmp_path):
    source = tmp_path / "chapter.py"
    source.write_text("# add the shortcut\ny = x + 1\n", encoding="utf-8")
    labels = {"source": "ソース", "permalink": "この節へのリンク", "lines": "この行", "colon": "："}
    page = render_page(source, "m.py", "https://github.com/o/r", labels=labels)
    assert "ソース：<a" in page and 'title="この節へのリンク"' in page and 'title="この行"' in page
    assert "Source" not in page and "Link to this section" not in page


def test_command_line_prints_sections_as_json(tmp_path):
    source = tmp_path / "m.py"
    source.write_text('"""Intro."""\n# note\nx = 1\n', encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "mkdocs_literate.splitter", str(source)],
                         capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == [
        {"anchor": "intro", "first_line": 1, "last_line": 1, "notes": "Intro.", "code": ""},
        {"anchor": "x", "first_line": 2, "last_line": 3, "notes": "note", "code": "x = 1"},
    ]


# ---------------------------------------------------------------------------------------------
# A file that is not Python: one line that names the file and the place, no traceback

NOT_PYTHON = [
    (b"x = 1\ndef f(:\n", "2:7: invalid syntax"),
    (b"x = 1\nif x:\ny = 2\n", "3:1: expected an indented block after 'if' statement on line 2"),
    (b'x = "\xc3\xa9"; y = (\n', "1:14: '(' was never closed"),  # columns count characters, not bytes
    (b'x = 1\r\ny = "caf\xe9"\r\n', "2:9: can't decode byte 0xe9 as utf-8: invalid continuation byte"),
    (b"# -*- coding: nope -*-\nx = 1\n", "1:1: unknown encoding: nope"),
    (b"x = 1\ny = 2\0\n", "2:6: source code string cannot contain null bytes"),
]


@pytest.mark.parametrize("data, message", NOT_PYTHON, ids=[m.split(": ")[1] for _, m in NOT_PYTHON])
def test_a_file_that_is_not_python_raises_one_line(tmp_path, data, message):
    path = tmp_path / "bad.py"
    path.write_bytes(data)
    with pytest.raises(splitter.SourceError) as caught:
        splitter.split_file(path)
    assert str(caught.value) == f"{path}:{message}"


def test_command_line_names_the_file_and_the_place(tmp_path):
    path = tmp_path / "bad.py"
    path.write_bytes(b"x = 1\ndef f(:\n")
    result = subprocess.run([sys.executable, "-m", "mkdocs_literate.splitter", str(path)],
                            capture_output=True, text=True)
    assert (result.returncode, result.stdout, result.stderr) == (1, "", f"{path}:2:7: invalid syntax\n")


def test_the_build_stops_with_one_line_naming_the_file(tmp_path, monkeypatch):
    import dataclasses

    from mkdocs.exceptions import PluginError  # MkDocs prints its message alone, without a traceback

    from mkdocs_literate.plugin import LiteratePlugin, _made

    path = tmp_path / "labml_resnet" / "chapter.py"
    path.parent.mkdir()
    path.write_bytes(b"x = 1\ndef f(:\n")
    monkeypatch.setattr(project, "_current", dataclasses.replace(
        PROJECT, root=tmp_path, docs_dir=tmp_path / "docs", chapters={"chapter.md": "labml_resnet/chapter.py"}, languages=[]))
    _made.clear()
    config = SimpleNamespace(repo_url="https://github.com/o/r", site_url="https://o.github.io/r/")
    with pytest.raises(PluginError) as caught:
        plugin = LiteratePlugin()
        plugin.load_config({})  # the schema's defaults, as mkdocs.yml's `- literate` gives them
        plugin.on_files([], config)
    assert str(caught.value) == f"{path}:2:7: invalid syntax"


# ---------------------------------------------------------------------------------------------
# Property tests on generated modules


@st.composite
def modules(draw, unique=False):
    """Valid Python in the shapes chapters take: docstrings, comment runs, lone `#`, decorators,
    comments between a def's decorators and its docstring, nested defs, strings holding quotes
    and hashes, comments inside brackets, unicode.

    With `unique`, no two statements are the same (each holds a number of its own), though many
    assign the same names (`x0`) or define the same ones (`f0`): the modules where an anchor must
    never depend on a counter. Their names hold digits, which comments never do, so a heading's
    slug can't be a name either.
    """
    numbers = iter(range(1, 10**6))
    indent_unit = draw(st.sampled_from(["    ", "\t", "  "]))
    words = st.text(alphabet=st.sampled_from(list("abc xyz$_\\*é×残#'\"")), max_size=12)

    def comment(depth):
        text = draw(words).replace("\n", " ")
        return [indent_unit * depth + draw(st.sampled_from(["# ", "#", "#  "])) + text]

    def docstring(depth):
        pad = indent_unit * depth
        body = draw(words).replace('"', "'").replace("\\", "/")
        form = draw(st.integers(0, 2))
        if form == 0:
            return [f'{pad}"""{body}"""']
        if form == 1:
            return [f'{pad}r"""', f"{pad}{body}", f'{pad}"""']
        return [f"{pad}'{body.replace(chr(39), '')}'"]

    def simple(depth):
        pad = indent_unit * depth
        if unique:
            k = next(numbers)
            choices = [
                [f"{pad}x0 = {k}"],
                [f"{pad}y0 = f(", f"{pad}    # inside brackets", f"{pad}    {k},", f"{pad})"],
                [f"{pad}s0 = '\"\"\" # not a comment {k}'"],
                [f'{pad}t0 = """', f"# inside a string {k}", '"""'],
                [f'{pad}u0 = "é × 残差 {k}"  # trailing'],
                [f"{pad}x0 += {k}"],
                [""],
                [f"{pad}#"],
            ]
        else:
            choices = [
                [f"{pad}x = 1"],
                [f"{pad}y = f(", f"{pad}    # inside brackets", f"{pad}    2,", f"{pad})"],
                [f"{pad}s = '\"\"\" # not a comment'"],
                [f'{pad}t = """', "# inside a string", '"""'],
                [f'{pad}u = "é × 残差"  # trailing'],
                [f"{pad}pass"],
                [""],
                [f"{pad}#"],
            ]
        return draw(st.sampled_from(choices))

    def block(depth, budget):
        lines = []
        for _ in range(draw(st.integers(1, 4))):
            kind = draw(st.integers(0, 4 if depth < 3 and budget > 0 else 1))
            if kind == 0:
                lines += simple(depth)
            elif kind == 1:
                lines += comment(depth) * draw(st.integers(1, 3))
            else:
                pad = indent_unit * depth
                for _ in range(draw(st.integers(0, 2))):
                    lines.append(f"{pad}@decorator")
                    if draw(st.integers(0, 3)) == 0:  # a comment between the decorator and the def
                        lines += comment(depth)
                if unique:
                    k = next(numbers)
                    keyword = f"class C0(B{k})" if kind == 2 else f"def f0(a, b=(1, {k}))"
                else:
                    keyword = "class C" if kind == 2 else "def f(a, b=(1, 2))"
                if draw(st.booleans()):
                    lines.append(f"{pad}{keyword}: {f'x0 = {next(numbers)}' if unique else 'pass'}")
                    continue
                lines.append(f"{pad}{keyword}:")
                if draw(st.booleans()):
                    if draw(st.integers(0, 3)) == 0:  # a comment between the def and its docstring
                        lines += comment(depth + 1)
                    lines += docstring(depth + 1)
                lines += block(depth + 1, budget - 1)
                if not any(l.strip() and not l.strip().startswith("#") for l in lines[-1:]):
                    lines.append(f"{pad}{indent_unit}{f'x0 = {next(numbers)}' if unique else 'pass'}")
        return lines

    lines = []
    if draw(st.booleans()):
        lines += ['r"""', "---", "title: T", "description: D", "---", "# T", '"""']
    lines += block(0, 2)
    ending = draw(st.sampled_from(["\n", "\r\n"]))
    text = ending.join(lines) + (ending if draw(st.booleans()) else "")
    return text


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(modules())
def test_invariants_on_generated_modules(text):
    try:
        compile(text, "<generated>", "exec", dont_inherit=True)
    except SyntaxError:  # the generator aims for valid Python; skip the rare miss
        return
    check_invariants(text)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(modules(unique=True), st.data())
def test_inserting_a_line_moves_no_other_anchor_in_generated_modules(text, data):
    lines = splitter.split_lines(text)
    assume(lines)
    line = data.draw(st.integers(1, len(lines)), label="line")
    indent = lines[line - 1][:len(lines[line - 1]) - len(lines[line - 1].lstrip(" \t"))]
    new = data.draw(st.sampled_from(["", f"{indent}# inserted", f"{indent}#"]), label="new line")
    assume(compiles(text) and compiles(insert_line(text, line, new)))
    assert moved_anchors(text, line, new) == []


# ---------------------------------------------------------------------------------------------
# Every file of labml-nn: real annotated code, read (not imported)


def _labml_nn_files():
    spec = importlib.util.find_spec("labml_nn")
    if spec is None or not spec.submodule_search_locations:
        return []
    root = Path(next(iter(spec.submodule_search_locations)))
    return sorted(root.rglob("*.py"))


@pytest.mark.skipif(not _labml_nn_files(), reason="labml-nn is not installed")
def test_invariants_on_every_labml_nn_file():
    files = _labml_nn_files()
    for path in files:
        text = path.read_bytes().decode(tokenize.detect_encoding(io.BytesIO(path.read_bytes()).readline)[0])
        try:
            check_invariants(text)
        except Exception as error:  # name the file that failed
            raise AssertionError(f"{path}: {error!r}") from error
    assert len(files) > 100


CHAPTERS = [*sorted((ROOT / "labml_resnet").rglob("*.py")), ROOT / "experiment.py"]


def test_every_chapter_splits():
    for path in CHAPTERS:
        check_invariants(path.read_text(encoding="utf-8"))


def test_every_class_and_function_of_the_chapters_is_an_anchor():
    for path in CHAPTERS:
        anchors = {s.anchor for s in splitter.split_file(path).sections}
        defined = set()

        def visit(node, scope):
            for child in ast.iter_child_nodes(node):
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    defined.add(f"{scope}{child.name}")
                    visit(child, f"{scope}{child.name}.")
                else:
                    visit(child, scope)

        visit(ast.parse(path.read_text(encoding="utf-8")), "")
        assert defined - anchors == set(), path.name
    assert "train_in_world" in {s.anchor for s in splitter.split_file(ROOT / "experiment.py").sections}


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_inserting_a_line_moves_no_other_anchor_in_the_chapters(path):
    text = path.read_text(encoding="utf-8")
    before = split(text)
    lines = splitter.split_lines(text)
    # A dozen places in each chapter, the same ones from run to run
    for line in sorted(random.Random(path.name).sample(range(1, len(lines) + 1), min(12, len(lines)))):
        indent = lines[line - 1][:len(lines[line - 1]) - len(lines[line - 1].lstrip(" \t"))]
        for new in ["", f"{indent}# a new note"]:
            if compiles(insert_line(text, line, new)):
                assert moved_anchors(text, line, new, before) == [], (line, new)


# ---------------------------------------------------------------------------------------------
# Comments that stay in the code, translated line for line

_CODE_WITH_COMMENTS = '''import torch


def f(x):
    y = g(x,  # a trailing comment
          # a run inside
          # the brackets
          2)  # noqa
    return y  # [B, C]
'''


def test_code_comments_are_the_comments_left_in_the_code():
    found = splitter.code_comments(splitter.split_source(_CODE_WITH_COMMENTS))
    # Not the tool's `# noqa`, not `# [B, C]` (no words); a run on consecutive lines is one comment
    assert [(c.lines, c.column, c.text, c.anchor) for c in found] == [
        ([5], 14, "a trailing comment", "f"), ([6, 7], 10, "a run inside\nthe brackets", "f")]


def test_translated_code_comments_keep_the_code_and_its_line_numbers():
    module = splitter.split_source(_CODE_WITH_COMMENTS)
    table = {"a trailing comment": "末尾のコメント", "a run inside\nthe brackets": "括弧の中の\n連なり"}
    translated = splitter.translate_code_comments(module, table.get)
    assert len(translated.lines) == len(module.lines)
    assert translated.lines[4] == "    y = g(x,  # 末尾のコメント\n"
    assert translated.lines[5:7] == ["          # 括弧の中の\n", "          # 連なり\n"]
    assert translated.sections[-1].code.endswith("2)  # noqa\n    return y  # [B, C]")
    # A translation with another number of lines would move the code: the English stays
    assert splitter.translate_code_comments(module, {"a run inside\nthe brackets": "一行"}.get) is module
