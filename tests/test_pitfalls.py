"""The pitfalls page, run.

`docs/pitfalls.md` shows, for each pitfall, the wrong code, what it does and the fix. The code
here is not a copy: the tests take the `python title="…"` blocks and the `pycon` sessions from
the page itself, so the page and the tests cannot drift apart.

* every titled block runs on its own, as shown;
* every session on the page prints what the page says it prints (run with `doctest`);
* for each pitfall, a test builds the wrong version, asserts that the bad thing happens, and
  asserts that the fixed version behaves.
"""
import doctest
import re
from pathlib import Path
from textwrap import dedent

import pytest
import torch
from torch import nn

PAGE = Path(__file__).resolve().parents[1] / "docs" / "pitfalls.md"

# A fenced block: ```lang attrs … ``` at any indentation (content tabs indent by four spaces)
FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>[\w-]+)(?P<attrs>[^\n]*)\n(?P<body>.*?)^(?P=indent)```[ \t]*$",
                   re.MULTILINE | re.DOTALL)
TITLE = re.compile(r'title="([^"]+)"')


def _sections():
    """`{"## heading": [(lang, title or None, code, line), …]}` in page order."""
    text = PAGE.read_text(encoding="utf-8")
    sections, heading = {}, None
    starts = [(m.start(), m.group(1)) for m in re.finditer(r"^## (.+)$", text, re.MULTILINE)]
    for match in FENCE.finditer(text):
        heading = next((h for start, h in reversed(starts) if start < match.start()), None)
        title = TITLE.search(match["attrs"])
        code = dedent(match["body"])
        line = text.count("\n", 0, match.start()) + 2
        sections.setdefault(heading, []).append((match["lang"], title and title.group(1), code, line))
    return sections


SECTIONS = _sections()
SNIPPETS = {title: code for blocks in SECTIONS.values() for lang, title, code, _ in blocks
            if lang == "python" and title}
_cache = {}


def run(title):
    """Run the page's block `title` in a fresh namespace (once) and return that namespace."""
    if title not in _cache:
        namespace = {"__name__": title.removesuffix(".py")}
        exec(compile(SNIPPETS[title], f"{PAGE.name}:{title}", "exec"), namespace)
        _cache[title] = namespace
    return _cache[title]


def test_page_has_five_pitfalls_each_with_wrong_and_fixed_code():
    numbered = [h for h in SECTIONS if h and re.match(r"\d\. ", h)]
    assert len(numbered) == 5
    for heading in numbered:
        titles = [t for lang, t, _, _ in SECTIONS[heading] if lang == "python"]
        assert any(t.endswith("_wrong.py") for t in titles), heading
        assert any(t.endswith("_fixed.py") for t in titles), heading


@pytest.mark.parametrize("title", sorted(SNIPPETS))
def test_snippet_runs_as_shown(title):
    run(title)


@pytest.mark.parametrize("heading", [h for h, blocks in SECTIONS.items()
                                     if any(lang == "pycon" for lang, *_ in blocks)])
def test_sessions_print_what_the_page_shows(heading):
    # A session sees the classes of every block above it in the same section, as a reader would
    globs, report = {}, []
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for lang, title, code, line in SECTIONS[heading]:
        if lang == "python" and title:
            globs.update({k: v for k, v in run(title).items() if k != "__name__"})
        elif lang == "pycon":
            test = parser.get_doctest(code, globs, f"{heading} (line {line})", str(PAGE), line)
            runner.run(test, out=report.append, clear_globs=False)
            globs = test.globs   # the next session goes on where this one stopped
    assert runner.summarize(verbose=False).failed == 0, "".join(report)


def _same_weights(wrong, fixed):
    fixed.load_state_dict(wrong.state_dict())
    return wrong.eval(), fixed.eval()


# 1. ReLU on the input

def _branch(block, x):
    """F(x): what the block adds to its shortcut, read with a hook on its last BatchNorm."""
    seen = []
    handle = block.bn2.register_forward_hook(lambda module, args, out: seen.append(out))
    block(x)
    handle.remove()
    return seen[0]


def test_relu_on_the_input_leaves_a_single_linear_layer():
    torch.manual_seed(0)
    wrong, fixed = _same_weights(run("relu_wrong.py")["WrongBlock"](4), run("relu_fixed.py")["Block"](4))
    a, b = torch.rand(2, 2, 4, 5, 5)   # inputs ≥ 0, as after the previous block's ReLU
    zero = torch.zeros_like(a)

    def additivity_error(block):  # an affine F satisfies F(a + b) + F(0) = F(a) + F(b)
        F = lambda x: _branch(block, x)
        return (F(a + b) + F(zero) - F(a) - F(b)).abs().max().item()

    with torch.no_grad():
        assert additivity_error(wrong) < 1e-5      # wrong: conv-BN-conv-BN is one affine map
        assert additivity_error(fixed) > 1e-2      # fixed: the ReLU between makes F nonlinear
        assert not torch.allclose(wrong(a), fixed(a))


def test_post_activation_blocks_get_inputs_that_are_already_nonnegative():
    # Why the overwritten shortcut is harmless in the original network (the page says so)
    torchvision = pytest.importorskip("torchvision")
    resnet18 = torchvision.models.resnet18().eval()
    minima = []
    for name in ("layer1", "layer2", "layer3", "layer4"):
        for block in getattr(resnet18, name):
            block.register_forward_pre_hook(lambda module, args: minima.append(args[0].min().item()))
    with torch.no_grad():
        resnet18(torch.randn(1, 3, 64, 64))
    assert len(minima) == 8 and min(minima) >= 0


def test_relu_overwriting_x_loses_the_preactivation_identity():
    torch.manual_seed(0)
    wrong, fixed = _same_weights(run("preact.py")["WrongPreActBlock"](4), run("preact.py")["PreActBlock"](4))
    for block in (wrong, fixed):
        nn.init.zeros_(block.conv2.weight)         # F(x) = 0
    x = torch.randn(2, 4, 5, 5)
    with torch.no_grad():
        assert torch.equal(fixed(x), x)            # x_{l+1} = x_l exactly
        assert (wrong(x) >= 0).all()               # negative inputs are gone from the shortcut
        assert torch.allclose(wrong(x), wrong.bn1(x).relu())


# 2. Layers created inside forward

def test_layer_created_in_forward_is_random_untrained_and_not_moved():
    wrong = run("forward_wrong.py")["WrongNet"]().eval()
    fixed = run("forward_fixed.py")["Net"]().eval()
    x = torch.randn(2, 3, 6, 6)
    with torch.no_grad():
        assert not torch.equal(wrong(x), wrong(x))
        assert torch.equal(fixed(x), fixed(x))
    # What an optimizer would be given, and what a checkpoint would hold: the conv only
    assert sum(p.numel() for p in wrong.parameters()) == 3 * 8 * 3 * 3 + 8
    assert "fc.weight" not in wrong.state_dict() and "fc.weight" in fixed.state_dict()
    with pytest.raises(RuntimeError, match="same dtype"):
        wrong.to(torch.float64)(x.double())
    assert fixed.to(torch.float64)(x.double()).dtype == torch.float64


def test_lazy_linear_is_registered_before_its_first_call():
    lazy = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Flatten(), nn.LazyLinear(10))
    assert "2.weight" in dict(lazy.named_parameters())
    lazy(torch.randn(2, 3, 6, 6))
    assert lazy[2].in_features == 8 * 4 * 4


# 3. Flattening the batch into the features

def test_flatten_without_start_dim_works_for_one_image_only():
    wrong = run("flatten_wrong.py")["WrongHead"](channels=8, n_classes=3).eval()
    fixed = run("flatten_fixed.py")["Head"](channels=8, n_classes=3).eval()
    assert wrong(torch.randn(1, 8, 2, 2)).shape == (3,)          # batch dimension lost
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        wrong(torch.randn(2, 8, 2, 2))
    x = torch.randn(4, 8, 2, 2)
    with torch.no_grad():
        assert fixed(x).shape == (4, 3)
        rows = torch.cat([fixed(x[i:i + 1]) for i in range(4)])
        assert torch.allclose(fixed(x), rows, atol=1e-6)         # each row from its own image


def test_squeeze_fails_the_other_way_round():
    pooled = torch.randn(2, 8, 1, 1)
    assert pooled.squeeze().shape == (2, 8)
    assert pooled[:1].squeeze().shape == (8,)                     # batch of 1: batch dimension lost
    assert pooled.flatten().shape == pooled.view(-1).shape == (16,)  # the batch folded in
    assert torch.flatten(pooled[:1], 1).shape == (1, 8)


# 4. A shortcut that does not fit

@pytest.mark.parametrize("in_channels, out_channels, stride", [(8, 16, 2), (8, 16, 1), (8, 8, 2)])
def test_shortcut_needs_a_projection_when_the_shape_changes(in_channels, out_channels, stride):
    wrong = run("shortcut_wrong.py")["WrongBlock"]
    fixed = run("shortcut_fixed.py")["Block"]
    x = torch.randn(2, in_channels, 6, 6)
    assert wrong(8, 8)(torch.randn(2, 8, 6, 6)).shape == (2, 8, 6, 6)
    assert fixed(8, 8).downsample is None
    with pytest.raises(RuntimeError, match="must match the size"):
        wrong(in_channels, out_channels, stride)(x)
    block = fixed(in_channels, out_channels, stride)
    assert block(x).shape == (2, out_channels, 6 // stride, 6 // stride)
    conv, bn = block.downsample
    assert (conv.kernel_size, conv.stride, conv.bias) == ((1, 1), (stride, stride), None)
    assert isinstance(bn, nn.BatchNorm2d)


def test_torchvision_builds_downsample_only_where_the_shape_changes():
    torchvision = pytest.importorskip("torchvision")
    resnet18 = torchvision.models.resnet18()
    fixed = run("shortcut_fixed.py")["Block"]
    for name in ("layer1", "layer2", "layer3", "layer4"):
        for tv_block in getattr(resnet18, name):
            ours = fixed(tv_block.conv1.in_channels, tv_block.conv1.out_channels, tv_block.stride)
            assert (ours.downsample is None) == (tv_block.downsample is None)
            if ours.downsample is not None:   # same layers, same state-dict names
                assert str(ours.downsample) == str(tv_block.downsample)


# 5. A classifier sized by hand

def test_hand_sized_classifier_fits_one_image_size_only():
    pytest.importorskip("torchvision")
    torch.manual_seed(0)
    wrong = run("fc_size_wrong.py")["WrongResNet"](n_classes=10).eval()
    fixed = run("fc_size_fixed.py")["ResNet"](n_classes=10).eval()
    with torch.no_grad():
        assert wrong(torch.randn(1, 3, 224, 224)).shape == (1, 10)
        for size in (32, 96):   # 1×1 and 3×3 maps
            with pytest.raises(RuntimeError, match="cannot be multiplied"):
                wrong(torch.randn(1, 3, size, size))
        for size in (32, 96, 224):
            assert fixed(torch.randn(1, 3, size, size)).shape == (1, 10)
    # "more than twice as many weights as the whole network before it", at 1000 classes
    hand_sized_fc = 512 * 7 * 7 * 1000 + 1000
    assert hand_sized_fc > 2 * sum(p.numel() for p in wrong.features.parameters())
