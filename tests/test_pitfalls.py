"""The pitfalls page, run.

`docs/pitfalls.md` shows, for each pitfall, the wrong code, what it does and the fix. The code
here is not a copy: the tests take the `python title="…"` blocks and the `pycon` sessions from
the page itself, so the page and the tests cannot drift apart.

* every titled block runs on its own, as shown (a block may import an earlier one by its title,
  `from discarded_wrong import ResNet18`, as a reader who saved both files would);
* every session on the page prints what the page says it prints (run with `doctest`);
* for each pitfall, a test builds the wrong version, asserts that the bad thing happens, and
  asserts that the fixed version behaves;
* every pitfall has the anchor that the chapters link to, and every link to the page resolves.
"""
import doctest
import re
import sys
import types
from pathlib import Path
from textwrap import dedent

import pytest
import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "pitfalls.md"

# The chapters link to these (`pitfalls.md#relu-placement`), so they must not change
ANCHORS = ["relu-placement", "no-batch-norm", "shortcut-shape", "projection-in-layer1",
           "layers-in-forward", "relu-after-pooling", "classifier-by-hand",
           "flattening-the-batch", "sigmoid-head"]
# `## 1. Heading {#anchor}`: attr_list gives the heading its id
HEADING = re.compile(r"^## (?P<text>.+?)(?: \{#(?P<anchor>[\w-]+)\})?$", re.MULTILINE)

# A fenced block: ```lang attrs … ``` at any indentation (closed `??? note` blocks indent by four spaces)
FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>[\w-]+)(?P<attrs>[^\n]*)\n(?P<body>.*?)^(?P=indent)```[ \t]*$",
                   re.MULTILINE | re.DOTALL)
TITLE = re.compile(r'title="([^"]+)"')


def _sections():
    """`{"## heading": [(lang, title or None, code, line), …]}` in page order."""
    text = PAGE.read_text(encoding="utf-8")
    sections, heading = {}, None
    starts = [(m.start(), m["text"]) for m in HEADING.finditer(text)]
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
        code = SNIPPETS[title]
        # `from discarded_wrong import …`: the page's earlier block of that title, as a module
        for name in re.findall(r"^from (\w+) import", code, re.MULTILINE):
            if f"{name}.py" in SNIPPETS and name not in sys.modules:
                module = types.ModuleType(name)
                module.__dict__.update(run(f"{name}.py"))
                sys.modules[name] = module
        namespace = {"__name__": title.removesuffix(".py")}
        exec(compile(code, f"{PAGE.name}:{title}", "exec"), namespace)
        _cache[title] = namespace
    return _cache[title]


def test_every_code_block_on_the_page_is_found():
    # Inside closed blocks too: a fence the parser missed would be a session nobody runs
    text = PAGE.read_text(encoding="utf-8")
    openings = re.findall(r"^[ \t]*```[\w-]+", text, re.MULTILINE)
    found = sum(len(blocks) for blocks in SECTIONS.values())
    assert found == len(openings) and found > 40


def test_page_has_nine_pitfalls_each_with_wrong_and_fixed_code():
    numbered = [h for h in SECTIONS if h and re.match(r"\d\. ", h)]
    assert [int(h.split(".")[0]) for h in numbered] == list(range(1, 10))
    front_matter = PAGE.read_text(encoding="utf-8").split("---")[1]
    assert "description: Nine mistakes" in front_matter
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


def _page_html():
    """The page's Markdown as the site turns it into HTML, as far as headings go."""
    markdown = pytest.importorskip("markdown")
    body = PAGE.read_text(encoding="utf-8").split("---", 2)[2]   # without the front matter
    return markdown.markdown(body, extensions=["attr_list", "toc", "pymdownx.superfences",
                                                  "pymdownx.details"])


def test_every_pitfall_has_the_anchor_the_chapters_link_to():
    headings = list(HEADING.finditer(PAGE.read_text(encoding="utf-8")))
    assert all(m["anchor"] for m in headings), [m["text"] for m in headings if not m["anchor"]]
    assert sorted(m["anchor"] for m in headings) == sorted(ANCHORS)   # each exactly once
    assert sorted(re.findall(r'<h2 id="([^"]+)"', _page_html())) == sorted(ANCHORS)


def _links_to_the_page():
    """`(file, anchor)` for every link to an anchor of this page, from the English sources."""
    sources = [*sorted((ROOT / "labml_resnet").glob("*.py")), ROOT / "experiment.py",
               *(path for path in sorted((ROOT / "docs").glob("*.md")) if path.suffixes == [".md"])]
    for path in sources:
        text = path.read_text(encoding="utf-8")
        links = re.findall(r"pitfalls\.md#([\w-]+)", text)
        if path == PAGE:
            links += re.findall(r"\]\(#([\w-]+)\)", text)   # the page's links to itself
        yield from ((path.name, anchor) for anchor in links)


def test_links_to_the_page_point_at_anchors_that_exist():
    ids = set(re.findall(r'\sid="([^"]+)"', _page_html()))
    assert not [link for link in _links_to_the_page() if link[1] not in ids]


def _same_weights(wrong, fixed):
    fixed.load_state_dict(wrong.state_dict())
    return wrong.eval(), fixed.eval()


# 1. ReLU in the wrong place

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


def test_blog_stem_throws_conv1_away_and_layer1_gets_the_image():
    ResNet18 = run("discarded_wrong.py")["ResNet18"]
    torch.manual_seed(0)
    model = ResNet18()
    seen = []
    model.layer1.register_forward_pre_hook(lambda module, args: seen.append(args[0].shape))
    with pytest.raises(RuntimeError, match=r"expected input\[2, 3, 32, 32\] to have 64 channels, but got 3"):
        model(torch.randn(2, 3, 32, 32))
    assert seen == [(2, 3, 32, 32)]                      # the image itself reached layer1
    with pytest.raises(RuntimeError, match="expected input.*to have 3 channels"):
        model(torch.randn(2, 64, 32, 32))                # "no input gets through": conv1 wants 3


def test_fixed_stem_feeds_conv1_to_layer1_and_trains_it():
    FixedResNet18 = run("discarded_fixed.py")["FixedResNet18"]
    torch.manual_seed(0)
    model = FixedResNet18()
    shapes = {}
    for name in ("layer1", "layer2", "layer3", "layer4"):
        getattr(model, name).register_forward_hook(    # a hook that returns None keeps the output
            lambda module, args, out, name=name: shapes.update({name: tuple(out.shape)}))
    model(torch.randn(2, 3, 32, 32)).sum().backward()
    assert shapes == {"layer1": (2, 64, 32, 32), "layer2": (2, 128, 16, 16),
                      "layer3": (2, 256, 8, 8), "layer4": (2, 512, 4, 4)}   # the comments' shapes
    assert model.conv1.weight.grad is not None and model.conv1.weight.grad.abs().sum() > 0


# 2. No batch normalization

def _first_layer_gradient(model, x):
    model(x).square().mean().backward()
    return model[0].weight.grad.norm().item()


@pytest.mark.parametrize("seed", [1, 2, 3])   # the page's session has its own draw
def test_default_init_without_batch_norm_vanishes_and_either_remedy_prevents_it(seed):
    conv_stack = run("batchnorm_wrong.py")["conv_stack"]
    conv_bn_stack = run("batchnorm_fixed.py")["conv_bn_stack"]
    he_init = run("batchnorm_fixed.py")["he_init"]
    torch.manual_seed(seed)
    x = torch.randn(16, 16, 16, 16)
    plain, he, with_bn = [], [], []
    for depth in (10, 20, 30):                   # drawn in the page's order
        models = conv_stack(depth), he_init(conv_stack(depth)), conv_bn_stack(depth)
        for column, model in zip((plain, he, with_bn), models):
            column.append(_first_layer_gradient(model, x))
    assert 1e7 < plain[0] / plain[2] < 1e10      # "seven to nine orders of magnitude"
    assert all(1e-3 < g < 1 for g in he)         # "between 10^-3 and 1 at every depth"
    assert min(with_bn) > 0.1 and with_bn[2] > with_bn[0]   # does not vanish; grows here


def test_he_init_draws_the_variance_he_et_al_derive():
    he_init = run("batchnorm_fixed.py")["he_init"]
    torch.manual_seed(0)
    conv = he_init(nn.Sequential(nn.Conv2d(16, 16, 3)))[0]
    k = 16 * 3 * 3                                # fan-in = fan-out here
    assert abs(conv.weight.var().item() * k / 2 - 1) < 0.15 and torch.equal(conv.bias, torch.zeros(16))


def test_default_conv_init_and_torchvision_convs_have_no_bias():
    torch.manual_seed(0)
    conv = nn.Conv2d(16, 16, 3)                   # U(-1/sqrt(k), 1/sqrt(k)), k = 16 * 3 * 3
    k = 16 * 3 * 3
    bound = 1 / k ** 0.5
    assert conv.weight.abs().max() <= bound and conv.weight.abs().max() > 0.95 * bound
    assert abs(conv.weight.var().item() * 3 * k - 1) < 0.15   # variance 1/(3k): a sixth of 2/k
    torchvision = pytest.importorskip("torchvision")
    convs = [m for m in torchvision.models.resnet18().modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 20 and all(m.bias is None for m in convs)


def test_bias_before_batch_norm_is_cancelled():
    torch.manual_seed(0)
    x = torch.randn(8, 4, 5, 5)
    conv, bn = nn.Conv2d(4, 4, 3), nn.BatchNorm2d(4)
    without_bias = bn(nn.functional.conv2d(x, conv.weight))
    assert torch.allclose(bn(conv(x)), without_bias, atol=1e-5)


def test_resnet18_without_batch_norm_drifts_from_stage_to_stage():
    # The page's session shows seed 0; another seed, so that the page is not one lucky draw
    torchvision = pytest.importorskip("torchvision")
    torch.manual_seed(1)
    images = torch.randn(2, 3, 224, 224)

    def stage_stds(model):
        stds = []
        for stage in (model.layer1, model.layer2, model.layer3, model.layer4):
            stage.register_forward_hook(lambda module, args, out: stds.append(out.std().item()))
        with torch.no_grad():
            model(images)
        return stds

    assert all(0.9 < s < 1.4 for s in stage_stds(torchvision.models.resnet18()))
    no_bn = stage_stds(torchvision.models.resnet18(norm_layer=nn.Identity))
    assert no_bn == sorted(no_bn) and no_bn[-1] > 2 * no_bn[0]


# 3. A shortcut that does not fit

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


# 4. A projection where the identity fits

def test_projection_in_layer1_adds_parameters_and_keys_that_torchvision_lacks():
    torchvision = pytest.importorskip("torchvision")
    stages = [(64, 64, 3, 1), (64, 128, 4, 2), (128, 256, 6, 2), (256, 512, 3, 2)]

    def resnet34(make_layer):
        model = torchvision.models.resnet34()
        model.layer1, model.layer2, model.layer3, model.layer4 = (make_layer(*s) for s in stages)
        return model

    wrong = resnet34(run("projection_wrong.py")["make_layer"])
    fixed = resnet34(run("projection_fixed.py")["make_layer"])
    reference = torchvision.models.resnet34()
    n = lambda model: sum(p.numel() for p in model.parameters())
    assert n(wrong) - n(reference) == 64 * 64 + 64 + 64 == 4224   # 1×1 conv, BN scales and shifts
    names = ("layer1", "layer2", "layer3", "layer4")
    assert [s for s in names if str(getattr(wrong, s)) != str(getattr(reference, s))] == ["layer1"]
    assert str(fixed) == str(reference)                            # option B, as torchvision
    projections = lambda model: [f"{s}.{i}" for s in names
                                 for i, block in enumerate(getattr(model, s)) if block.downsample]
    assert projections(fixed) == ["layer2.0", "layer3.0", "layer4.0"]
    assert projections(wrong) == ["layer1.0", "layer2.0", "layer3.0", "layer4.0"]


# 5. Layers created inside forward

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


# 6. A ReLU after pooling

@pytest.mark.parametrize("seed", range(3))
def test_relu_after_max_pool_is_a_no_op_and_after_average_pool_not_always(seed):
    torch.manual_seed(seed)
    x = torch.randn(2, 4, 9, 9)     # odd size: padded windows at the border
    relu = nn.ReLU()
    for pool in (nn.MaxPool2d(3, 2, padding=1), nn.MaxPool2d(2)):
        assert torch.equal(relu(pool(relu(x))), pool(relu(x)))
        assert torch.equal(relu(pool(x)), pool(relu(x)))                   # they commute
    for pool in (nn.AdaptiveAvgPool2d(1), nn.AvgPool2d(3, 2, padding=1)):
        assert torch.equal(relu(pool(relu(x))), pool(relu(x)))             # averages of values ≥ 0
        assert not torch.equal(relu(pool(x)), pool(x))                     # signed: it clamps
        assert not torch.equal(relu(pool(x)), pool(relu(x)))               # and order matters


def test_stem_with_a_second_relu_computes_torchvisions_stem():
    torchvision = pytest.importorskip("torchvision")
    torch.manual_seed(0)
    wrong = run("pool_relu_wrong.py")["WrongStem"]()
    resnet18 = torchvision.models.resnet18()
    wrong.load_state_dict({k: v for k, v in resnet18.state_dict().items()
                           if k.startswith(("conv1.", "bn1."))})
    stem = nn.Sequential(resnet18.conv1, resnet18.bn1, resnet18.relu, resnet18.maxpool)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(wrong.eval()(x), stem.eval()(x))


# 7. A classifier sized by hand

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

def test_avg_pool_of_seven_is_global_only_at_224():
    pytest.importorskip("torchvision")
    torch.manual_seed(0)
    model = run("avgpool_wrong.py")["WrongPoolResNet"](n_classes=10).eval()
    F = run("avgpool_wrong.py")["F"]
    with torch.no_grad():
        assert model(torch.randn(1, 3, 224, 224)).shape == (1, 10)
        maps = model.features(torch.randn(1, 3, 256, 256))
        assert maps.shape[-2:] == (8, 8) and 8 * 8 - 7 * 7 == 15          # 15 of 64 positions left out
        assert torch.allclose(F.avg_pool2d(maps, 7), maps[..., :7, :7].mean((2, 3), keepdim=True), atol=1e-6)
        assert not torch.allclose(F.avg_pool2d(maps, 7), maps.mean((2, 3), keepdim=True), atol=1e-3)
        with pytest.raises(RuntimeError, match="cannot be multiplied"):   # 448: a 2×2 map left
            model(torch.randn(1, 3, 448, 448))
        with pytest.raises(RuntimeError, match="too small"):              # 32: a 1×1 map
            model(torch.randn(1, 3, 32, 32))


# 8. Flattening the batch into the features

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

def test_unbatched_test_input_passes_the_wrong_head_only():
    wrong = run("flatten_wrong.py")["WrongHead"](channels=8, n_classes=3).eval()
    fixed = run("flatten_fixed.py")["Head"](channels=8, n_classes=3).eval()
    image = torch.randn(3, 20, 20)                                      # [C, H, W], no batch
    assert nn.Conv2d(3, 8, 3, padding=1)(image).shape == (8, 20, 20)
    for pool in (nn.MaxPool2d(2), nn.AvgPool2d(2), nn.AdaptiveAvgPool2d(1)):
        assert pool(image).dim() == 3
    assert wrong(torch.randn(8, 5, 5)).shape == (3,)                      # looks like one image's output
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        fixed(torch.randn(8, 5, 5))
    with pytest.raises(ValueError, match="expected 4D input"):
        nn.BatchNorm2d(3)(image)
    # A network without BatchNorm takes the unbatched image all the way to its last map
    torchvision = pytest.importorskip("torchvision")
    no_bn = torchvision.models.resnet18(norm_layer=nn.Identity)
    features = nn.Sequential(*list(no_bn.children())[:-2])
    assert features(torch.randn(3, 64, 64)).shape == (512, 2, 2)


# 9. A Sigmoid head, or a softmax in the model

def test_probabilities_in_the_model_break_each_loss():
    WrongHead = run("sigmoid_wrong.py")["WrongHead"]
    torch.manual_seed(0)
    x = torch.randn(4, 8, 3, 3)
    # Cross-entropy over one class: loss 0 and gradient 0, whatever the head says
    head = WrongHead(channels=8, num_classes=1)
    loss = nn.CrossEntropyLoss()(head(x), torch.zeros(4, dtype=torch.long))
    loss.backward()
    assert loss.item() == 0 and head.fc.weight.grad.abs().max().item() == 0
    # BCELoss on sigmoid outputs: the same loss as BCEWithLogitsLoss while sigmoid has not rounded…
    z, y = torch.tensor([[3.0], [-2.0]]), torch.tensor([[0.0], [1.0]])
    assert torch.allclose(nn.BCELoss()(torch.sigmoid(z), y), nn.BCEWithLogitsLoss()(z, y))
    # …and a clamped 100 with zero gradient once it has: sigmoid(20) is 1.0 in float32
    assert torch.sigmoid(torch.tensor(20.0)).item() == 1.0
    # Softmax in the model, cross-entropy on top: over 1000 classes the loss stays within 1 of 6.9
    head = WrongHead(channels=8, num_classes=1000)
    probabilities = head(x)
    assert torch.allclose(probabilities.sum(1), torch.ones(4))
    losses = nn.CrossEntropyLoss(reduction="none")(probabilities, torch.arange(4))
    assert ((losses > 5.909) & (losses < 6.910)).all()


def test_logit_head_and_the_two_ways_of_writing_two_classes():
    Head = run("sigmoid_fixed.py")["Head"]
    torch.manual_seed(0)
    head = Head(channels=8, num_classes=1)
    assert not any(isinstance(m, (nn.Sigmoid, nn.Softmax)) for m in head.modules())
    z = head(torch.randn(16, 8, 3, 3)) * 10                     # logits, [16, 1]
    labels = torch.randint(0, 2, (16,))
    one_logit = nn.BCEWithLogitsLoss()(z, labels[:, None].float())
    two_logits = nn.CrossEntropyLoss()(torch.cat([torch.zeros_like(z), z], 1), labels)
    assert torch.allclose(one_logit, two_logits, atol=1e-6)
    many = torch.randn(8, 5)                                   # softmax does not change the argmax
    assert torch.equal(many.argmax(1), many.softmax(1).argmax(1))
    torchvision = pytest.importorskip("torchvision")
    assert isinstance(list(torchvision.models.resnet18().children())[-1], nn.Linear)
