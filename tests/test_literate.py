"""The splitter (docs/hooks/literate.py): rules, the cases that break line-regex splitters like
pycco, and invariants checked on generated modules and on every file of labml-nn."""

import ast
import importlib.util
import io
import json
import subprocess
import sys
import tokenize
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "docs" / "hooks"))
import literate  # noqa: E402


def split(text):
    return literate.split_source(text).sections


def table(text):
    """(anchor, notes, code) of each section: what a reader sees."""
    return [(s.anchor, s.notes, s.code) for s in split(text)]


# ---------------------------------------------------------------------------------------------
# Invariants, checked on every file the tests split


def check_invariants(text: str) -> literate.Module:
    module = literate.split_source(text)
    lines = literate.split_lines(text.removeprefix("\ufeff"))
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
    assert _code_token_lines(text) <= shown
    # Anchors: present and unique.
    anchors = [section.anchor for section in module.sections]
    assert all(anchors) and len(set(anchors)) == len(anchors)
    return module


def _code_token_lines(text: str) -> set[int]:
    """Lines holding a token that isn't a comment or a stand-alone docstring (found independently)."""
    normalized = "".join(line.rstrip("\r\n") + "\n" for line in literate.split_lines(text.removeprefix("\ufeff")))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tree = ast.parse(normalized)
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
    module = literate.split_source(text)
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


def test_comment_then_documented_def_is_one_section():
    text = '# Why f\n\n@decorator\n@other(1)\ndef f():\n    """Doc."""\n    return 1\n'
    assert table(text) == [("f", "Why f\n\nDoc.", "@decorator\n@other(1)\ndef f():\n    return 1")]


def test_documented_def_starts_at_its_decorators():
    sections = split('x = 1\n@decorator\ndef f():\n    """Doc."""\n')
    assert [(s.anchor, s.first_line, s.code) for s in sections] == [("x", 1, "x = 1"), ("f", 2, "@decorator\ndef f():")]


def test_anchors_are_qualified_and_unique():
    text = ('class Block:\n    """B."""\n    def forward(self, x):\n        """F."""\n'
            '        # shortcut\n        s = x\n        # again\n        s = x\n        return s\n')
    assert [s.anchor for s in split(text)] == ["Block", "Block.forward", "Block.forward.s", "Block.forward.s-2"]


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
        ("f", "Doc.", "def f():"), ("f.return", "note", "\treturn 1")]


def test_unicode():
    # ast counts columns in UTF-8 bytes; the docstring test must not be fooled by that.
    text = 'def f():\n    """Résumé × 残差"""  \n    # ∂L/∂x\n    return "é"  # ü\n'
    assert table(text) == [("f", "Résumé × 残差", "def f():"), ("f.return", "∂L/∂x", '    return "é"  # ü')]


def test_comments_for_tools_stay_code():
    assert table("#!/usr/bin/env python\n# -*- coding: utf-8 -*-\nx = 1\n# type: ignore\ny = 2\n") == [
        ("x", "", "#!/usr/bin/env python\n# -*- coding: utf-8 -*-\nx = 1\n# type: ignore\ny = 2")]
    # Further down, "coding:" is just a word in a note.
    assert table("x = 1\n\n# decoding: bytes to text\ny = 2\n")[1] == ("y", "decoding: bytes to text", "y = 2")


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
    page = literate.render_page(source, "labml_resnet/chapter.py", "https://github.com/o/r",
                                translate=lambda notes: notes.upper())
    assert 'title: "BLOCKS"' in page and 'description: "TWO LAYERS"' in page
    assert "ADD THE SHORTCUT" in page and "add the shortcut" not in page
    assert 'data-line="9"' in page and "https://github.com/o/r/blob/main/labml_resnet/chapter.py#L8-L9" in page
    assert "Source: <a" in page and 'title="Link to this section"' in page


def test_render_page_puts_its_own_words_in_the_pages_language(tmp_path):
    source = tmp_path / "chapter.py"
    source.write_text("# add the shortcut\ny = x + 1\n", encoding="utf-8")
    labels = {"source": "ソース", "permalink": "この節へのリンク", "lines": "この行"}
    page = literate.render_page(source, "m.py", "https://github.com/o/r", labels=labels)
    assert "ソース: <a" in page and 'title="この節へのリンク"' in page and 'title="この行"' in page
    assert "Source" not in page and "Link to this section" not in page


def test_command_line_prints_sections_as_json(tmp_path):
    source = tmp_path / "m.py"
    source.write_text('"""Intro."""\n# note\nx = 1\n', encoding="utf-8")
    out = subprocess.run([sys.executable, str(ROOT / "docs" / "hooks" / "literate.py"), str(source)],
                         capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == [
        {"anchor": "intro", "first_line": 1, "last_line": 1, "notes": "Intro.", "code": ""},
        {"anchor": "x", "first_line": 2, "last_line": 3, "notes": "note", "code": "x = 1"},
    ]


# ---------------------------------------------------------------------------------------------
# Property tests on generated modules


@st.composite
def modules(draw):
    """Valid Python in the shapes chapters take: docstrings, comment runs, lone `#`, decorators,
    nested defs, strings holding quotes and hashes, comments inside brackets, unicode."""
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
                keyword = "class C" if kind == 2 else "def f(a, b=(1, 2))"
                if draw(st.booleans()):
                    lines.append(f"{pad}{keyword}: pass")
                    continue
                lines.append(f"{pad}{keyword}:")
                if draw(st.booleans()):
                    lines += docstring(depth + 1)
                lines += block(depth + 1, budget - 1)
                if not any(l.strip() and not l.strip().startswith("#") for l in lines[-1:]):
                    lines.append(f"{pad}{indent_unit}pass")
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


def test_every_chapter_splits():
    for path in [*sorted((ROOT / "labml_resnet").glob("*.py")), ROOT / "experiment.py"]:
        if path.exists():
            check_invariants(path.read_text(encoding="utf-8"))
