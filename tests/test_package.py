"""Package-wide checks: the chapters compile cleanly, the public API is there."""
import pathlib
import subprocess
import sys
import warnings

import pytest

import labml_resnet

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
    for path in (ROOT / "labml_resnet").glob("*.py"):
        doc = (labml_resnet.__doc__ if path.name == "__init__.py"
               else __import__(f"labml_resnet.{path.stem}", fromlist=["_"]).__doc__)
        lines = doc.strip().splitlines()
        assert lines[0] == "---" and lines[1].startswith("title: ") and lines[2].startswith("description: ")


def test_public_api():
    names = ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
             "resnet20", "resnet32", "resnet44", "resnet56", "resnet110", "resnet1202",
             "plain20", "plain32", "plain44", "plain56", "plain110", "plain18", "plain34",
             "preact_resnet110", "preact_resnet164"]
    for name in names:
        assert callable(getattr(labml_resnet, name)), name
    assert set(labml_resnet.__all__) >= set(names)


def test_readme_import_command():
    out = subprocess.run([sys.executable, "-c", "import labml_resnet as r; print(r.resnet20())"],
                         capture_output=True, text=True, check=True).stdout
    assert out.startswith("ResNet(")
