"""Runnable copies (`labml_resnet/standalone.py`): every copy runs where `labml_resnet` cannot be
imported, and every module a copy builds is the package's module: the same state-dict keys and,
with the same weights, the same outputs."""

import importlib
import importlib.util
import json
import re
import site
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from labml_resnet import standalone
from labml_resnet._site import MARKDOWN_WRITERS

ROOT = Path(__file__).resolve().parents[1]
NAMES = standalone.names()
PACKAGE_MODULES = [importlib.import_module(m) for m in standalone.chapter_modules()]

# Name -> (an expression that builds a module from the copy's names, the input's shape, copies pasted
# into the same namespace before this one). Every nn.Module subclass of the chapters is here (a test
# checks it), and builders of each kind. The others run too, in `test_every_copy_runs`.
MODULES = {
    "ZeroPadShortcut": ("ZeroPadShortcut(4, 8, 2)", (2, 4, 7, 7), []),
    "ProjectionShortcut": ("ProjectionShortcut(4, 8, 2)", (2, 4, 7, 7), []),
    "BasicBlock": ("BasicBlock(4, 8, 2, shortcut='B')", (2, 4, 7, 7), []),
    "Bottleneck": ("Bottleneck(8, 4, 2, stride_on='3x3')", (2, 8, 7, 7), []),
    "PreActBasicBlock": ("PreActBasicBlock(4, 8, 2, shortcut='B')", (2, 4, 7, 7), []),
    "PreActBottleneck": ("PreActBottleneck(8, 4, 2)", (2, 8, 7, 7), []),
    "ResNet": ("ResNet(Bottleneck, [1, 2], [4, 8], num_classes=3, shortcut='C')", (2, 3, 32, 32), []),
    # A network of pre-activation blocks: the reader pastes the block's copy too
    "PreActResNet": ("PreActResNet(PreActBasicBlock, [1, 1], [4, 8], num_classes=3)", (2, 3, 16, 16),
                     ["PreActBasicBlock"]),
    "TraceRow": None,  # a dataclass, not a module
    "conv3x3": ("conv3x3(4, 8, 2)", (2, 4, 7, 7), []),
    "conv1x1": ("conv1x1(4, 8, 2)", (2, 4, 7, 7), []),
    "make_shortcut": ("make_shortcut('A', 4, 8, 2)", (2, 4, 7, 7), []),
    "preact_shortcut": ("preact_shortcut('B', 4, 8, 2)", (2, 4, 7, 7), []),
    "make_stage": ("make_stage(BasicBlock, 4, 8, 2, 2, shortcut='A')", (2, 4, 8, 8), []),
    "resnet18": ("resnet18(num_classes=5)", (1, 3, 32, 32), []),
    "resnet50": ("resnet50(num_classes=5, stride_on='3x3')", (1, 3, 32, 32), []),
    "plain18": ("plain18(num_classes=5)", (1, 3, 32, 32), []),
    "cifar_resnet": ("cifar_resnet(8, shortcut='B')", (2, 3, 16, 16), []),
    "resnet20": ("resnet20()", (2, 3, 32, 32), []),
    "plain20": ("plain20()", (2, 3, 32, 32), []),
    "preact_resnet20": ("preact_resnet20()", (2, 3, 32, 32), []),
    "preact_cifar_bottleneck_resnet": ("preact_cifar_bottleneck_resnet(11, stride_on='3x3')", (2, 3, 16, 16), []),
    "small_cnn": ("small_cnn()", (1, 3, 240, 320), []),
}
# Name -> an expression whose value (by `repr`) must be the package's
VALUES = {
    "conv_output_size": "conv_output_size(225, 7, 2, 3)",
    "same_padding": "same_padding(4, 3)",
    "check_shortcut_option": "check_shortcut_option('B')",
    "count_parameters": "count_parameters(nn.Conv2d(3, 8, 3))",
    "count_macs": "count_macs(nn.Conv2d(3, 8, 3), 16)",
    "macs_per_layer": "macs_per_layer(nn.Sequential(nn.Conv2d(3, 8, 3), nn.Conv2d(8, 4, 1)), 16)",
    "shape_trace": "[(r.name, r.in_shape, r.out_shape) for r in shape_trace(nn.Sequential(nn.Conv2d(3, 4, 3, 2)), (1, 3, 9, 7))]",
    "stage_sizes": "stage_sizes(resnet18(), 225)",
    "gradient_norms": "[round(v, 4) for v in gradient_norms(resnet20(), 2)]",
    "on_meta": "str(on_meta(lambda: nn.Linear(3, 4)).weight.device)",
    "imagenet_stem": "list(imagenet_stem())",
}
# Where an expression needs a builder that the copy does not carry, the reader pastes it too
VALUE_EXTRAS = {"stage_sizes": ["resnet18"], "gradient_norms": ["resnet20"]}

# The child: no site-packages processing (`-S`), so the editable install's finder is not loaded;
# the environment's site-packages are put on the path by hand, for torch and nothing of ours.
CHILD = r"""
import json, sys, traceback
sys.path += SITE_PACKAGES
import torch
results = {}
try:
    import labml_resnet
    results["<import labml_resnet>"] = "imported from " + str(labml_resnet.__file__)
except ModuleNotFoundError as error:
    results["<import labml_resnet>"] = "ModuleNotFoundError"
codes = json.load(open("codes.json", encoding="utf-8"))
cases = torch.load("cases.pt", weights_only=True)
for name, code in codes.items():
    try:
        # A fresh namespace per copy, as in a new notebook; `extra` copies first, as pasted above it
        namespace = {"__name__": "__main__"}
        case = cases.get(name)
        for extra in case["extra"] if case else []:
            exec(compile(codes[extra], f"<copy of {extra}>", "exec"), namespace)
        exec(compile(code, f"<copy of {name}>", "exec"), namespace)
        assert name.startswith("<") or name in namespace, f"the copy does not define {name}"
        torch.manual_seed(1)
        if case and "expr" in case:
            module = eval(case["expr"], namespace)
            keys = list(module.state_dict())
            assert keys == case["keys"], f"state-dict keys {keys} != {case['keys']}"
            module.load_state_dict(case["state"])
            with torch.no_grad():
                out = module.eval()(case["input"])
            assert out.shape == case["output"].shape, f"output {tuple(out.shape)} != {tuple(case['output'].shape)}"
            torch.testing.assert_close(out, case["output"], rtol=0, atol=0)
        elif case and "value" in case:
            value = repr(eval(case["value"], namespace))
            assert value == case["expected"], f"{value} != {case['expected']}"
        results[name] = "ok"
    except Exception:
        results[name] = traceback.format_exc()
json.dump(results, open("results.json", "w", encoding="utf-8"))
"""


# Chapters whose code runs without the package once `chapter_imports_source` stands in for their
# imports of the other chapters (what a notebook that needs no install would do)
CHAPTERS_WITHOUT_THE_PACKAGE = ["labml_resnet/blocks.py", "labml_resnet/resnet.py", "labml_resnet/preact.py"]


def chapter_without_the_package(chapter: str) -> str:
    lines = (ROOT / chapter).read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if not re.match(r"(from|import) labml_resnet|@markdown_writer", line)]
    return standalone.chapter_imports_source(chapter) + "\n" + "\n".join(kept) + "\n"


@pytest.mark.parametrize("chapter", CHAPTERS_WITHOUT_THE_PACKAGE)
def test_a_chapter_runs_with_the_copies_of_what_it_imports(results, chapter):
    assert results[f"<chapter {chapter}>"] == "ok", results[f"<chapter {chapter}>"]


def package_namespace() -> dict:
    namespace = {}
    for module in PACKAGE_MODULES:
        namespace.update(vars(module))
    return namespace


def randomized(module: torch.nn.Module) -> torch.nn.Module:
    # Batch norms that do something in eval mode: scales, shifts and statistics other than 1 and 0
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.1)
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    return module


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    folder = tmp_path_factory.mktemp("standalone")
    codes = {name: standalone.runnable_source(name) for name in NAMES}
    for chapter in CHAPTERS_WITHOUT_THE_PACKAGE:
        codes[f"<chapter {chapter}>"] = chapter_without_the_package(chapter)
    (folder / "codes.json").write_text(json.dumps(codes), encoding="utf-8")
    namespace = package_namespace()
    cases = {}
    for name, case in MODULES.items():
        if case is None:
            continue
        expr, shape, extra = case
        torch.manual_seed(1)
        module = randomized(eval(expr, namespace))
        x = torch.randn(shape)
        with torch.no_grad():
            out = module.eval()(x)
        cases[name] = {"expr": expr, "extra": extra, "keys": list(module.state_dict()),
                       "state": module.state_dict(), "input": x, "output": out}
    for name, expr in VALUES.items():
        torch.manual_seed(1)
        cases[name] = {"value": expr, "expected": repr(eval(expr, namespace)), "extra": VALUE_EXTRAS.get(name, [])}
    torch.save(cases, folder / "cases.pt")
    child = CHILD.replace("SITE_PACKAGES", repr(site.getsitepackages()))
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", child], cwd=folder, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    return json.loads((folder / "results.json").read_text(encoding="utf-8"))


def test_the_copies_run_where_labml_resnet_cannot_be_imported(results):
    assert results["<import labml_resnet>"] == "ModuleNotFoundError"


@pytest.mark.parametrize("name", NAMES)
def test_every_copy_runs(results, name):
    assert results[name] == "ok", results[name]


def test_every_module_class_is_compared_with_the_package():
    classes = {name for name in NAMES for module in PACKAGE_MODULES
               if isinstance(getattr(module, name, None), type) and issubclass(getattr(module, name), torch.nn.Module)}
    assert classes and classes <= {name for name, case in MODULES.items() if case}
    assert set(MODULES) | set(VALUES) <= set(NAMES)


def test_names_cover_the_chapters():
    # Every public class and function of the chapters, and nothing of the site's
    writers = set(MARKDOWN_WRITERS.values())
    assert writers
    expected = set()
    for module in PACKAGE_MODULES:
        for name, value in vars(module).items():
            if (not name.startswith("_") and callable(value) and getattr(value, "__module__", None) == module.__name__
                    and value not in writers):
                expected.add(name)
    partials = {name for module in PACKAGE_MODULES for name, value in vars(module).items()
                if type(value).__name__ == "partial"}
    assert set(NAMES) == expected | partials
    assert "shape_table_markdown" not in NAMES and "gradient_flow_markdown" not in NAMES
    assert standalone.names("labml_resnet/blocks.py") == ["conv3x3", "conv1x1", "BasicBlock", "Bottleneck"]


def test_a_copy_is_made_without_importing_the_package():
    # `standalone.py` loaded on its own: making every copy imports no chapter (and no torch)
    code = ("import importlib.util, sys\n"
            f"spec = importlib.util.spec_from_file_location('standalone', {str(ROOT / 'labml_resnet/standalone.py')!r})\n"
            "m = sys.modules['standalone'] = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
            "n = sum(len(m.runnable_source(name)) > 0 for name in m.names())\n"
            "print(n, sorted(k for k in sys.modules if k.startswith(('labml_resnet', 'torch'))))\n")
    out = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split()[0] == str(len(NAMES)) and out.strip().endswith("[]")


def test_the_command_prints_a_file_that_runs(tmp_path):
    out = subprocess.run([sys.executable, "-m", "labml_resnet.standalone", "BasicBlock"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    assert out == standalone.runnable_source("BasicBlock")
    header = out.splitlines()[0]
    assert header.startswith("# BasicBlock from labml_resnet/blocks.py") and "MIT License" in header
    assert standalone.REPOSITORY in header
    # Pasted into an empty file, with a use after it
    script = tmp_path / "coursework.py"
    script.write_text(out + "\nprint(BasicBlock(16, 32, stride=2)(torch.zeros(1, 16, 8, 8)).shape)\n", encoding="utf-8")
    child = (f"import sys, runpy; sys.path += {site.getsitepackages()!r}; "
             f"runpy.run_path({str(script)!r}, run_name='__main__')")
    run = subprocess.run([sys.executable, "-I", "-S", "-c", child], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "torch.Size([1, 32, 4, 4])"
    listed = subprocess.run([sys.executable, "-m", "labml_resnet.standalone", "--list"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout
    assert [line.split()[0] for line in listed.splitlines()] == NAMES


def test_copies_keep_comments_and_drop_the_site():
    block = standalone.runnable_source("BasicBlock")
    # The comments inside the code, and the docstrings
    assert "# $W_1$: 3×3, carries the stride" in block and "## The basic block" in block
    # Site links point at the published site
    assert "(pitfalls.md#" not in block and f"({standalone.SITE}pitfalls/#layers-in-forward)" in block
    # In dependency order: what BasicBlock uses comes before it
    assert block.index("def make_shortcut") < block.index("def conv3x3") < block.index("class BasicBlock")
    for name in NAMES:
        code = standalone.runnable_source(name)
        assert "markdown_writer" not in code and "labml_resnet." not in code.split("\n", 1)[1], name
        assert not re.search(r"^(from|import) labml_resnet", code, re.M), name


def test_the_header_names_the_published_places():
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert re.search(r"^repo_url:\s*(\S+)", config, re.M).group(1) == standalone.REPOSITORY
    assert re.search(r"^site_url:\s*(\S+)", config, re.M).group(1) == standalone.SITE
    assert "Copyright (c) 2026 the labml_resnet authors" in (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert standalone.LICENCE.startswith("MIT License")
