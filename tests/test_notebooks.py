"""Every chapter as a Jupyter notebook (mkdocs_literate/notebooks.py): the built site has one per
chapter and edition, each valid (nbformat) and linked from its page; the English ones run top to
bottom on a CPU (nbclient, in a kernel of this interpreter); building one runs nothing."""

from __future__ import annotations

import ast
import base64
import json
import os
import posixpath
import re
import textwrap
import time
from pathlib import Path

import nbclient
import nbformat
import pytest

import site_fixtures
from site_fixtures import ROOT

from conftest import PROJECT  # noqa: E402
from mkdocs_literate import directives, notebooks, splitter, translate  # noqa: E402
from mkdocs_literate.page import render_page  # noqa: E402
from mkdocs.exceptions import PluginError  # noqa: E402

SITE_URL, REPO_URL = site_fixtures.SITE_URL, site_fixtures.REPO_URL
EDITIONS = [notebooks.DEFAULT_LANGUAGE, *translate.LANGUAGES]
# Chapter page (`blocks.md`) -> source, for the chapters that have a notebook
CHAPTERS = {page: source for page, source in PROJECT.chapters.items() if notebooks.has_notebook(page)}


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    built = site_fixtures.build_site(tmp_path_factory)
    assert built.returncode == 0, f"mkdocs build --strict failed:\n{built.log}"
    return built


def published(site, page: str, lang: str) -> Path:
    """Where the site publishes a chapter's notebook: `blocks.ipynb`, `ja/blocks.ipynb`."""
    prefix = "" if lang == notebooks.DEFAULT_LANGUAGE else f"{lang}/"
    return site.path / f"{prefix}{page.removesuffix('.md')}.ipynb"


def read_notebook(path: Path) -> nbformat.NotebookNode:
    notebook = nbformat.reads(path.read_text(encoding="utf-8"), as_version=nbformat.NO_CONVERT)
    nbformat.validate(notebook)  # raises ValidationError with the offending cell
    assert notebook.nbformat == 4 and notebook.nbformat_minor == 5
    return notebook


def test_the_appendix_gets_no_notebooks():
    assert set(CHAPTERS) == {page for page in PROJECT.chapters if not page.startswith("experiments/")}
    assert "experiment.md" in CHAPTERS and "residual.md" in CHAPTERS


# ---------------------------------------------------------------------------------------------
# The notebooks in the built site


@pytest.mark.parametrize("lang", EDITIONS)
@pytest.mark.parametrize("page", list(CHAPTERS))
def test_every_notebook_is_valid_and_holds_the_whole_chapter(site, page, lang):
    notebook = read_notebook(published(site, page, lang))
    rel_path = CHAPTERS[page]
    assert notebook.metadata.labml_resnet.source == rel_path and notebook.metadata.labml_resnet.language == lang
    assert notebook.metadata.kernelspec.name == "python3"
    code_cells = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    markdown = [cell for cell in notebook.cells if cell.cell_type == "markdown"]
    assert not any(cell.outputs for cell in notebook.cells if cell.cell_type == "code")  # never executed
    # Each code cell is whole statements, and none runs the command line
    for code in code_cells:
        tree = ast.parse(code)
        assert not any(notebooks.is_main_block(statement) for statement in tree.body), code
    # Every code line of the chapter is there, in order (the `__main__` block apart), with the
    # comments in the code in the edition's language (`translate.comment_translator`)
    module = splitter.split_file(ROOT / rel_path)
    if lang != notebooks.DEFAULT_LANGUAGE:
        module = splitter.translate_code_comments(module, translate.comment_translator(lang, rel_path))
    main_lines = {n for s in ast.parse("".join(module.lines)).body if notebooks.is_main_block(s)
                  for n in range(s.lineno, s.end_lineno + 1)}
    expected = [module.lines[n - 1].rstrip("\r\n") for section in module.sections for n in section.code_lines
                if n not in main_lines and module.lines[n - 1].strip()]
    shown = iter(line for code in code_cells for line in code.split("\n"))
    missing = [line for line in expected if not any(line == other for other in shown)]
    assert not missing, f"code lines missing or out of order, from: {missing[0]!r}"
    # Directives are expanded, figures attached, links absolute
    for cell in markdown:
        text = cell.source
        assert not re.search(r"<!--\s*(md|figure)\s*:", text), text
        assert not re.search(r"\]\((?![a-z]+:)[^)]*\.md\b", text), "a link to a page that is not on the site's address"
        assert not re.search(r"^\s*(\?\?\?|!!!)", text, re.M), "Material's syntax, which Jupyter doesn't render"
        for name in re.findall(r"\(attachment:([^)]+)\)", text):
            assert name in cell.get("attachments", {}), name
    assert markdown[0].source.count(f"/blob/main/{rel_path}") == 1  # says where it comes from


def test_figures_and_tables_are_the_pages(site):
    """The residual chapter's figure, with its words in the edition's language, and the tables of
    `<!-- md: … -->` lines, as the page shows them."""
    original = (ROOT / "docs" / "figures" / "residual-block.svg").read_text(encoding="utf-8")
    for lang in EDITIONS:
        cells = read_notebook(published(site, "residual.md", lang)).cells
        (svg,) = [data["image/svg+xml"] for cell in cells for data in cell.get("attachments", {}).values()]
        svg = base64.b64decode(svg).decode()
        assert svg.startswith("<svg") and '<rect width="100%" height="100%" fill="#fff"/>' in svg
        assert [text for text, _ in translate.figure_texts(svg)] == \
            [text for text, _ in translate.figure_texts(translate.translate_figure(original, lang))]
    from labml_resnet.shapes import small_cnn_table_markdown

    for lang in EDITIONS:  # in the Japanese and Chinese notebooks, with the page's translated words
        shapes = "\n".join(cell.source for cell in read_notebook(published(site, "shapes.md", lang)).cells)
        table = small_cnn_table_markdown()
        assert (translate.translate_tables(table, lang) if lang in translate.LANGUAGES else table).strip() in shapes
        assert lang == "en" or translate.translate_tables(table, lang) != table


@pytest.mark.parametrize("lang", EDITIONS)
@pytest.mark.parametrize("page", list(CHAPTERS))
def test_each_chapter_page_links_to_its_notebook(site, page, lang):
    prefix = "" if lang == notebooks.DEFAULT_LANGUAGE else f"{lang}/"
    url = f"{prefix}{page.removesuffix('.md')}/"
    html = site.html(url)
    (tag,) = re.findall(r'<a\b[^>]*class="lit-notebook"[^>]*>', html)
    href = re.search(r'href="([^"]+)"', tag).group(1)
    target = site.path / posixpath.normpath(posixpath.join(url, href))
    assert target == published(site, page, lang) and target.is_file(), (tag, target)
    assert 'download="' in tag
    assert notebooks.WORDS[lang]["download"] in html
    assert read_notebook(target).metadata.labml_resnet.language == lang


# ---------------------------------------------------------------------------------------------
# The English notebooks run, top to bottom


KERNEL = "labml-resnet-tests"


@pytest.fixture(scope="session")
def kernel_specs(tmp_path_factory) -> Path:
    """A kernel spec for this interpreter (the venv's, with the package installed), in a folder of
    its own, under a name of its own: a `python3` spec elsewhere on the machine
    (~/.local/share/jupyter) can't stand in for it."""
    from ipykernel.kernelspec import write_kernel_spec

    folder = tmp_path_factory.mktemp("jupyter")
    write_kernel_spec(folder / "kernels" / KERNEL)
    return folder


TIMES: dict[str, float] = {}


@pytest.mark.slow
@pytest.mark.parametrize("page", list(CHAPTERS))
def test_the_english_notebook_runs_top_to_bottom(site, kernel_specs, page, tmp_path, monkeypatch):
    notebook = read_notebook(published(site, page, notebooks.DEFAULT_LANGUAGE))
    monkeypatch.setenv("JUPYTER_PATH", str(kernel_specs))  # where Jupyter looks first for kernel specs
    work, temporary = tmp_path / "work", tmp_path / "tmp"
    work.mkdir(), temporary.mkdir()
    # nbclient starts the kernel, and shuts it down when the notebook has run
    client = nbclient.NotebookClient(notebook, kernel_name=KERNEL, timeout=300,
                                     resources={"metadata": {"path": str(work)}})
    start = time.perf_counter()
    # One thread, as in tests/test_experiment.py: faster on a small shared machine. The experiment's
    # temporary data set goes under tmp_path.
    client.execute(env={**os.environ, "OMP_NUM_THREADS": "1", "TMPDIR": str(temporary)})  # fails on a cell's error
    TIMES[page] = time.perf_counter() - start
    print(f"{page}: ran in {TIMES[page]:.1f} s; all so far: {sum(TIMES.values()):.1f} s")
    assert all(cell.execution_count for cell in notebook.cells if cell.cell_type == "code" and cell.source.strip())
    if page == "experiment.md":  # the short run trained and reported its two epochs
        result = notebook.cells[[c.id for c in notebook.cells].index("demo-code")].outputs[-1]
        assert result.output_type == "execute_result" and "'epoch': 2" in result.data["text/plain"]
    assert not list(work.iterdir()), "a notebook wrote into its working folder"


# ---------------------------------------------------------------------------------------------
# The builder, without a site

HOSTILE = '''r"""
# A chapter

<!-- figure: residual-block -->
"""
import os
open({marker!r}, "w").write("module level")  # must never run at build time


class Holder:
    """## A holder

    See [the pitfalls](pitfalls.md#shortcut-shape).
    """

    # A comment inside the class, with $x$
    value = 1

    def method(self):
        """Only a docstring."""


class Empty:
    """Only a docstring."""


if __name__ == "__main__":
    open({marker!r}, "w").write("main")

#
# ## Exercises
#
# 1. **Try it.** Question?
#
#     ??? success "Answer"
#
#         An answer with $y$.
#
#
# <!-- md: os.system("touch {marker}") -->
'''


def build(path: Path, lang: str = "en", expand=lambda markdown: markdown) -> dict:
    return notebooks.chapter_notebook(path, "labml_resnet/holder.py", "holder.md", site_url=SITE_URL,
                                      repo_url=REPO_URL, figures=ROOT / "docs" / "figures", lang=lang,
                                      expand=expand)


def test_building_a_notebook_runs_nothing_from_the_file(tmp_path):
    marker = tmp_path / "ran"
    chapter = tmp_path / "holder.py"
    chapter.write_text(HOSTILE.format(marker=str(marker)), encoding="utf-8")
    notebook = build(chapter)
    nbformat.validate(nbformat.from_dict(json.loads(notebooks.dumps(notebook))))
    assert not marker.exists()
    # The site's directive code refuses the page's call before importing or calling anything
    with pytest.raises(PluginError, match="not a registered Markdown writer"):
        build(chapter, expand=lambda markdown: directives.expand_directives(markdown, ROOT / "docs" / "figures"))
    assert not marker.exists()


def test_sections_become_cells_of_whole_statements(tmp_path):
    chapter = tmp_path / "holder.py"
    chapter.write_text(HOSTILE.format(marker=str(tmp_path / "ran")), encoding="utf-8")
    cells = build(chapter, lang="ja")["cells"]
    kinds = [(cell["cell_type"], cell["id"]) for cell in cells]
    assert kinds == [("markdown", "intro-md"), ("code", "intro-code"), ("markdown", "Holder-md"),
                     ("code", "Holder-code"), ("markdown", "Empty-md"), ("code", "Empty-code"),
                     ("markdown", "Exercises-md")]
    text = {cell["id"]: "".join(cell["source"]) for cell in cells}
    # The class is one cell; the notes inside it are comments where they were; empty bodies get `...`
    assert text["Holder-code"] == textwrap.dedent('''\
        class Holder:

            # A comment inside the class, with $x$
            value = 1

            # Only a docstring.
            def method(self):
                ...''')
    assert text["Empty-code"] == "class Empty:\n    ..."
    assert "__main__" not in "".join(text.values())
    # Links go to the same edition of the site; the figure is attached, in Japanese
    assert f"]({SITE_URL}ja/pitfalls/#shortcut-shape)" in text["Holder-md"]
    assert "](attachment:residual-block.svg)" in text["intro-md"]
    assert list(cells[0]["attachments"]) == ["residual-block.svg"]
    assert f"]({SITE_URL}ja/holder/)" in text["intro-md"]  # where it comes from
    # Material's collapsible answer, as HTML that Jupyter renders
    assert "<details><summary>Answer</summary>\n\n    An answer with $y$.\n\n    </details>" in text["Exercises-md"]


def test_a_docstring_on_the_def_line_stays_code(tmp_path):
    chapter = tmp_path / "inline.py"
    chapter.write_text('def inline(): "on the def line: code, not notes"\n', encoding="utf-8")
    (cell,) = [cell for cell in build(chapter)["cells"] if cell["cell_type"] == "code"]
    assert "".join(cell["source"]) == 'def inline(): "on the def line: code, not notes"'


def test_the_page_link_goes_under_the_title():
    page = render_page(ROOT / "labml_resnet" / "blocks.py", "labml_resnet/blocks.py", REPO_URL)
    linked = notebooks.add_download_link(page, "blocks.md", "zh")
    title = re.search(r"^# .*$", page, re.M).group(0)
    assert f'{title}\n\n[下载本章的 Jupyter 笔记本](blocks.ipynb){{ .lit-notebook download="blocks.ipynb" }}\n\n' in linked
    assert notebooks.notebook_name("blocks.md", "zh") == "blocks.zh.ipynb"
    assert notebooks.notebook_name("blocks.md") == "blocks.ipynb"
