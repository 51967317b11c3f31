"""Package-wide checks: the chapters compile cleanly, the public API is there."""
import ast
import pathlib
import re
import subprocess
import sys
import warnings

import pytest
import torch

import labml_resnet
from conftest import PROJECT

ROOT = pathlib.Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "labml_resnet").glob("*.py")) + [p for p in [ROOT / "experiment.py"] if p.exists()]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_compiles_with_warnings_as_errors(path):
    # An invalid escape such as "\times" in a non-raw string is a SyntaxWarning: here an error
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compile(path.read_text(encoding="utf-8"), str(path), "exec")


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_docstrings_with_backslashes_are_raw(path):
    import ast
    tree = ast.parse(path.read_text(encoding="utf-8"))
    source_lines = path.read_text(encoding="utf-8").splitlines()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and ast.get_docstring(node, clean=False):
            doc = node.body[0].value
            opening = source_lines[doc.lineno - 1][doc.col_offset:doc.col_offset + 2]
            if "\\" in ast.get_docstring(node, clean=False) or "$" in ast.get_docstring(node, clean=False):
                assert opening.lower().startswith("r"), f"{path.name}:{doc.lineno} docstring with math must be r\"\"\""


def test_module_docstrings_have_front_matter():
    # Every chapter: the nav's pages that are modules (private modules like `_site.py` and
    # `_tables.py`, and the runnable copies' tool `standalone.py`, are no pages)
    for source in PROJECT.chapters.values():
        doc = ast.get_docstring(ast.parse((ROOT / source).read_text(encoding="utf-8")), clean=False)
        lines = doc.strip().splitlines()
        assert lines[0] == "---" and lines[1].startswith("title: ") and lines[2].startswith("description: ")


def test_public_api():
    names = ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
             "resnet20", "resnet32", "resnet44", "resnet56", "resnet110", "resnet1202",
             "plain20", "plain32", "plain44", "plain56", "plain110", "plain18", "plain34",
             "preact_resnet110", "preact_resnet164",
             "resnext50_32x4d", "resnext101_32x8d", "wide_resnet50_2", "wide_resnet101_2"]
    for name in names:
        assert callable(getattr(labml_resnet, name)), name
    assert set(labml_resnet.__all__) >= set(names)


def test_readme_import_command():
    out = subprocess.run([sys.executable, "-c", "import labml_resnet as r; print(r.resnet20())"],
                         capture_output=True, text=True, check=True).stdout
    assert out.startswith("ResNet(")


def _chapter_title(page: str) -> str:
    """The front-matter title of the chapter that becomes `page` (e.g. "blocks.md")."""
    source = ROOT / ("labml_resnet/__init__.py" if page == "residual.md" else
                     "experiment.py" if page == "experiment.md" else f"labml_resnet/{page[:-3]}.py")
    return re.search(r"^title: (.*)$", source.read_text(encoding="utf-8"), re.M).group(1)


def test_reading_order_is_the_same_everywhere():
    # The nav of mkdocs.yml, the chapter list of the first chapter and that of the home page
    nav = re.findall(r"^  - (\w+\.md)\s+# (?:labml_resnet/|experiment)", (ROOT / "mkdocs.yml").read_text(), re.M)
    assert nav[0] == "residual.md" and nav[-1] == "experiment.md" and len(nav) == 8
    first_chapter = re.findall(r"^\d\. \*\*(.+?)\*\*", labml_resnet.__doc__, re.M)
    assert first_chapter == [_chapter_title(page) for page in nav]
    home = re.findall(r"^\d\. \[.+?\]\((\w+\.md)\)", (ROOT / "docs" / "index.md").read_text(), re.M)
    assert home == nav


def test_public_api_example_runs():
    # The code block of "The public API" in the first chapter
    source = (ROOT / "labml_resnet" / "__init__.py").read_text(encoding="utf-8")
    comments = "\n".join(re.sub(r"^# ?", "", line) for line in source.splitlines() if line.startswith("#"))
    code = re.search(r"## The public API\n\n```python\n(.*?)```", comments, re.S).group(1)
    assert "r.resnet34(shortcut=\"A\")" in code
    exec(code, {})


def test_exercise_1_resnet32_contains_resnet20():
    # The first chapter: with F = 0 a block is the identity (its input is a ReLU's output), so a
    # ResNet-32 can compute exactly what a ResNet-20 computes
    torch.manual_seed(0)
    shallow, deep = labml_resnet.resnet20(), labml_resnet.resnet32()
    for name in ("conv1", "bn1", "fc"):
        getattr(deep, name).load_state_dict(getattr(shallow, name).state_dict())
    for shallow_stage, deep_stage in zip(shallow.stages(), deep.stages()):
        for i in range(3):
            deep_stage[i].load_state_dict(shallow_stage[i].state_dict())
        for block in deep_stage[3:]:
            torch.nn.init.zeros_(block.bn2.weight)
            torch.nn.init.zeros_(block.bn2.bias)
    shallow.eval(), deep.eval()
    x = torch.randn(4, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(deep(x), shallow(x), atol=1e-5)


# Every chapter's exercises have answers, closed, and the answers render as Markdown (math and
# code included): pymdownx.details' `??? success "Answer"`, indented under its list item.
CHAPTER_SOURCES = [ROOT / source for source in PROJECT.chapters.values()]  # the nav's chapters


@pytest.mark.parametrize("path", CHAPTER_SOURCES, ids=lambda p: p.name)
def test_every_exercise_has_a_closed_answer_that_renders(path):
    import re

    import markdown
    from mkdocs_literate import splitter
    sections = [s for s in splitter.split_file(path).sections if "## Exercises" in s.notes]
    if not sections:
        return
    (section,) = sections
    questions = re.findall(r"^(\d+)\. \*\*", section.notes, flags=re.M)
    assert questions == [str(i) for i in range(1, len(questions) + 1)] and questions, path.name
    assert section.notes.count('??? success "Answer"') == len(questions), path.name
    assert "???+" not in section.notes  # closed by default
    page = markdown.markdown(section.notes, extensions=["md_in_html", "tables", "attr_list", "pymdownx.details",
                                                        "pymdownx.superfences", "pymdownx.arithmatex"],
                             extension_configs={"pymdownx.arithmatex": {"generic": True}})
    answers = re.findall(r'<details class="success">\s*<summary>Answer</summary>(.*?)</details>', page, flags=re.S)
    assert len(answers) == len(questions), path.name
    assert re.findall(r"^<ol>", page, flags=re.M) == ["<ol>"]  # one list: the answers do not break it
    for answer in answers:
        text = re.sub(r'<span class="arithmatex">.*?</span>', "", answer, flags=re.S)
        assert "<p>" in answer and "`" not in text and "$" not in text, (path.name, answer[:200])
