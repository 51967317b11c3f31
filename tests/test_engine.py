"""The site engine as a package (mkdocs_literate/): a MkDocs plugin with an entry point and a
config schema, the chapter list read from the nav, and writer results that are kept across
builds but never stale."""

import dataclasses
import os
import subprocess
import sys
import textwrap
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from conftest import PROJECT, ROOT
from mkdocs_literate import directives, project
from mkdocs_literate.plugin import LiteratePlugin


def test_the_plugin_is_installed_under_its_entry_point():
    (entry,) = [e for e in entry_points(group="mkdocs.plugins") if e.name == "literate"]
    assert entry.load() is LiteratePlugin
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert "\n  - literate:\n" in text and "hooks:" not in text


def test_the_config_schema_refuses_a_wrong_option():
    plugin = LiteratePlugin()
    errors, warnings = plugin.load_config({"package": ["not", "a", "string"], "colour": "blue"})
    assert [name for name, _ in errors] == ["package"]
    assert [name for name, _ in warnings] == ["colour"]  # MkDocs warns; `--strict` makes it fail


def test_the_chapters_are_the_nav_pages_that_are_modules():
    assert list(PROJECT.chapters)[:3] == ["residual.md", "blocks.md", "shortcuts.md"]
    assert PROJECT.chapters["residual.md"] == "labml_resnet/__init__.py"
    assert PROJECT.chapters["experiments/index.md"] == "labml_resnet/experiments/__init__.py"
    assert PROJECT.chapters["experiments/cifar10.md"] == "labml_resnet/experiments/cifar10.py"
    assert "index.md" not in PROJECT.chapters and "pitfalls.md" not in PROJECT.chapters  # Markdown files
    # The catalogs follow: one per chapter, named after its page, and the figures' and tables'
    assert set(PROJECT.domains) == {p.removesuffix(".md").replace("/", "-") for p in PROJECT.chapters} | {"figures", "tables"}
    assert {p.stem for p in (PROJECT.locales / "ja" / "LC_MESSAGES").glob("*.po")} == set(PROJECT.domains)


def test_a_nav_page_that_is_neither_markdown_nor_module_stops_the_build(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# Home\n")
    (tmp_path / "mkdocs.yml").write_text(textwrap.dedent("""\
        site_name: t
        nav: [index.md, missing.md]
        plugins:
          - literate:
              package: pkg
        """))
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "-f", str(tmp_path / "mkdocs.yml"),
                             "-d", str(tmp_path / "site")], capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "the nav names missing.md, which is neither docs/missing.md nor a module (pkg/missing.py)" in result.stderr


def test_the_command_line_lists_the_chapters():
    out = subprocess.run([sys.executable, "-m", "mkdocs_literate", "chapters"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[0] == "residual.md\tlabml_resnet/__init__.py"
    assert len(out.splitlines()) == len(PROJECT.chapters)


def test_no_module_of_the_package_imports_a_script():
    import ast

    for path in (ROOT / "labml_resnet").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            assert not any(name.split(".")[0] in ("experiment", "benchmarks", "mkdocs_literate") for name in names), path


# ---------------------------------------------------------------------------------------------
# The writers' cache: a result is kept until the code or data it depends on change


@pytest.fixture
def tiny_project(tmp_path, monkeypatch):
    """A project in tmp_path with one writer module, `tinypkg.tables`, that reads a data file."""
    package = tmp_path / "tinypkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "helpers.py").write_text('def unit():\n    """The unit."""\n    return "cm"\n')
    (package / "tables.py").write_text(textwrap.dedent('''\
        """Tables."""
        import json
        import os
        from tinypkg.helpers import unit

        CALLS = []
        WRITERS = {}


        def table(name):
            """A table made from a data file."""
            CALLS.append(name)
            with open(os.path.join(os.path.dirname(__file__), "..", "data", name)) as f:
                return f"| size |\\n|---|\\n| {json.load(f)} {unit()} |"


        WRITERS["tinypkg.tables.table"] = table
        '''))
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.json").write_text("3")
    monkeypatch.syspath_prepend(str(tmp_path))
    here = dataclasses.replace(PROJECT, root=tmp_path.resolve(), docs_dir=tmp_path / "docs", chapters={},
                               writer_registry="tinypkg.tables.WRITERS", writer_modules=("tinypkg.tables",),
                               cache_dir=tmp_path / ".cache")
    monkeypatch.setattr(project, "_current", here)
    yield tmp_path
    for name in [n for n in sys.modules if n.startswith("tinypkg")]:
        del sys.modules[name]
    directives.new_build()


def _build(call='tinypkg.tables.table("a.json")'):
    """One build's worth of the directive: a new build, then the call."""
    directives.new_build()
    return directives.call_directive(call, "page.md:1")


def _calls():
    return sys.modules["tinypkg.tables"].CALLS if "tinypkg.tables" in sys.modules else []


def test_a_writer_runs_once_per_build_and_is_kept_across_builds(tiny_project):
    first = _build()
    assert "| 3 cm |" in first
    # The same call, however it is spaced, on another page of the same build: no second run
    assert directives.call_directive('tinypkg.tables.table( "a.json" )', "other.md:9") == first
    assert _calls() == ["a.json"]
    for name in [n for n in sys.modules if n.startswith("tinypkg")]:  # a new process: nothing imported
        del sys.modules[name]
    assert "| 3 cm |" in _build()
    assert "tinypkg.tables" not in sys.modules  # the kept result needed neither the module nor its imports


def test_a_changed_data_file_is_read_again(tiny_project):
    _build()
    (tiny_project / "data" / "a.json").write_text("4")
    assert "| 4 cm |" in _build()


def test_changed_code_runs_again_even_in_a_module_it_imports(tiny_project):
    _build()
    helpers = tiny_project / "tinypkg" / "helpers.py"
    helpers.write_text(helpers.read_text().replace('"cm"', '"mm"'))
    os.utime(helpers, ns=(1, 10 ** 18))  # a new mtime, whatever the file system's resolution
    assert "| 3 mm |" in _build()  # and the changed module was reloaded, as under `mkdocs serve`


def test_edited_notes_keep_the_tables(tiny_project):
    _build()
    helpers = tiny_project / "tinypkg" / "helpers.py"
    helpers.write_text(helpers.read_text().replace('"""The unit."""', '"""The unit, explained again."""\n    # why'))
    os.utime(helpers, ns=(1, 10 ** 18))
    for name in [n for n in sys.modules if n.startswith("tinypkg")]:
        del sys.modules[name]
    _build()
    assert _calls() == []  # not run again: only a docstring and a comment changed


def test_the_cache_lists_what_each_result_depends_on(tiny_project):
    _build()
    (record,) = (tiny_project / ".cache" / "writers").glob("*.json")
    import json

    depends = {(kind, path) for kind, path, _ in json.loads(record.read_text())["depends"]}
    assert depends == {("code", "tinypkg/__init__.py"), ("code", "tinypkg/tables.py"), ("code", "tinypkg/helpers.py"),
                       ("data", "data/a.json")}


def test_an_unregistered_name_is_refused_before_any_cache(tiny_project):
    from mkdocs.exceptions import PluginError

    with pytest.raises(PluginError, match="is not a registered Markdown writer"):
        _build('os.system("true")')


# ---------------------------------------------------------------------------------------------
# The reading time: what is open on a page


def test_open_words_leave_closed_blocks_out_but_read_their_summary():
    from mkdocs_literate import reading
    html = """<article><h1>Title<a class="headerlink" href="#t">&para;</a></h1>
    <p>one two three</p>
    <details class="note"><summary>A summary line</summary><p>hidden words here</p>
      <pre><code>hidden_code()</code></pre></details>
    <details class="note" open><summary>Open</summary><p>shown words</p></details>
    <div class="lit-code"><div class="highlight"><pre><code>x = self.conv1(x)</code></pre></div></div>
    <table><tr><th>depth</th><td>20 layers</td></tr></table>
    <svg><text>figure words</text></svg><span aria-hidden="true">hidden</span>
    <p>残差学习 and <code>stride</code><br>two</p></article>"""
    counts = reading.open_words(html)
    # Title; one two three; A summary line; Open; shown words; and, stride, two: 13 prose words
    assert counts == {"prose": 13, "code": 4, "tables": 3, "cjk": 4}
    assert reading.reading_minutes(counts) == 1
    assert reading.reading_minutes({"prose": 2000, "code": 500, "tables": 0, "cjk": 1000}) == 17
