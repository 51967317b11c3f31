"""Claims of the network chapter: counts, shapes, torchvision equivalence, initialization,
coursework sessions, exercises."""
import doctest
import pathlib
import re
import textwrap

import pytest
import torch
import torchvision
from torch.utils.flop_counter import FlopCounterMode

import labml_resnet as r
from labml_resnet.shapes import count_macs, count_parameters, on_meta, stage_sizes
from labml_resnet.shortcuts import ProjectionShortcut, ZeroPadShortcut

CHAPTER = pathlib.Path(r.resnet.__file__)

IMAGENET_PARAMS = {"resnet18": 11_689_512, "resnet34": 21_797_672, "resnet50": 25_557_032,
                   "resnet101": 44_549_160, "resnet152": 60_192_808}
# The paper's Table 6 (0.27M … 19.4M), exactly, with option A
CIFAR_PARAMS = {"resnet20": 269_722, "resnet32": 464_154, "resnet44": 658_586, "resnet56": 853_018,
                "resnet110": 1_727_962, "resnet1202": 19_421_274}


@pytest.mark.parametrize("name,expected", IMAGENET_PARAMS.items())
def test_imagenet_parameter_counts(name, expected):
    assert count_parameters(on_meta(getattr(r, name))) == expected
    assert count_parameters(on_meta(getattr(torchvision.models, name))) == expected


@pytest.mark.parametrize("name,expected", CIFAR_PARAMS.items())
def test_cifar_parameter_counts(name, expected):
    assert count_parameters(on_meta(getattr(r, name))) == expected
    plain = name.replace("resnet", "plain")
    if hasattr(r, plain):
        # "exactly the same number of parameters as the plain counterparts"
        assert count_parameters(on_meta(getattr(r, plain))) == expected


@pytest.mark.parametrize("name", ["plain18", "plain34"])
def test_imagenet_plain_counts_match_option_a(name):
    # The paper's Table 2 / Fig. 4 pair: option A, "no extra parameter compared to the plain counterparts"
    residual = getattr(r, name.replace("plain", "resnet"))
    assert count_parameters(on_meta(getattr(r, name))) == count_parameters(on_meta(lambda: residual(shortcut="A")))


def test_exercise_4_option_b_costs_three_projections_in_resnet34():
    plain, a, b = (count_parameters(on_meta(build)) for build in
                   (r.plain34, lambda: r.resnet34(shortcut="A"), r.resnet34))
    assert plain == a
    projections = (64 * 128 + 2 * 128) + (128 * 256 + 2 * 256) + (256 * 512 + 2 * 512)
    assert b - a == projections == 173_824


@pytest.mark.parametrize("name", ["plain18", "plain34", "plain20", "plain110"])
def test_plain_builders_have_no_shortcut_at_all(name):
    model = on_meta(getattr(r, name))
    blocks = [block for stage in model.stages() for block in stage]
    assert all(block.plain and block.downsample is None for block in blocks)


@pytest.mark.parametrize("name", ["resnet18", "resnet50"])
def test_same_weights_same_logits_as_torchvision(name):
    torch.manual_seed(0)
    theirs = getattr(torchvision.models, name)().eval()
    options = {"stride_on": "3x3"} if name == "resnet50" else {}
    ours = getattr(r, name)(**options).eval()
    # torchvision's state dict loads as it is: same names, same shapes
    ours.load_state_dict(theirs.state_dict())
    # Random batch-norm statistics, so that a swapped or skipped layer would show
    with torch.no_grad():
        for m in theirs.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.1, 0.1)
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        assert torch.allclose(ours(x), theirs(x), atol=1e-5)


def test_paper_stride_placement_is_a_different_function():
    torch.manual_seed(0)
    theirs = torchvision.models.resnet50().eval()
    ours = r.resnet50().eval()
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        assert not torch.allclose(ours(x), theirs(x), atol=1e-3)


@pytest.mark.parametrize("name", list(r.IMAGENET_BUILDERS))
def test_imagenet_stage_shapes(name):
    model = on_meta(r.IMAGENET_BUILDERS[name])
    assert list(stage_sizes(model, 224).values()) == [112, 56, 56, 28, 14, 7]


@pytest.mark.parametrize("name", [n for n in r.CIFAR_BUILDERS if n not in ("resnet1202", "preact_resnet1001")])
def test_cifar_stage_shapes(name):
    model = on_meta(r.CIFAR_BUILDERS[name])
    assert stage_sizes(model, 32) == {"conv1": 32, "layer1": 32, "layer2": 16, "layer3": 8}


def test_labml_nn_peer_keeps_8x8_in_every_stage():
    # labml-nn's ResNetBase with its CIFAR experiment's configuration (labml_nn/resnet/experiment.py)
    from labml_nn.resnet import ResNetBase
    peer = ResNetBase(n_blocks=[3, 3, 3], n_channels=[16, 32, 64], img_channels=3, first_kernel_size=3)
    sides = []
    for block in peer.blocks:
        block.register_forward_hook(lambda m, i, o: sides.append(o.shape[-1]))
    peer.eval()(torch.zeros(1, 3, 32, 32))
    # 32 → 16 in the stem, 16 → 8 in the very first block, then never again
    assert sides == [8] * 9
    assert peer.conv.stride == (2, 2)
    # The other differences the chapters and the home page name: no max-pool, biases before batch norm
    assert not any(isinstance(m, torch.nn.MaxPool2d) for m in peer.modules())
    assert peer.conv.bias is not None and peer.blocks[0].conv1.bias is not None


@pytest.mark.parametrize("name", list(r.IMAGENET_BUILDERS) + list(r.CIFAR_BUILDERS))
def test_every_builder_takes_num_classes(name):
    builder = {**r.IMAGENET_BUILDERS, **r.CIFAR_BUILDERS}[name]
    model = on_meta(lambda: builder(num_classes=7))
    assert model.fc.out_features == 7


@pytest.mark.parametrize("name", ["resnet18", "resnet50", "resnet20", "resnet56"])
@pytest.mark.parametrize("option", ["A", "B", "C"])
def test_builders_take_shortcut(name, option):
    model = on_meta(lambda: getattr(r, name)(shortcut=option))
    size = 224 if name in r.IMAGENET_BUILDERS else 32
    assert model(torch.zeros(1, 3, size, size, device="meta")).shape[-1] == model.fc.out_features


def test_state_dict_names_follow_torchvision():
    keys = set(r.resnet50().state_dict())
    assert {"conv1.weight", "bn1.weight", "layer1.0.conv1.weight", "layer2.0.downsample.0.weight",
            "layer2.0.downsample.1.running_mean", "fc.weight", "fc.bias"} <= keys
    assert keys == set(torchvision.models.resnet50().state_dict())


@pytest.mark.parametrize("name", ["resnet18", "resnet50", "resnet20", "resnet56"])
def test_zero_init_residual_makes_every_block_relu_of_shortcut(name):
    torch.manual_seed(0)
    model = getattr(r, name)(zero_init_residual=True)
    blocks = [b for stage in model.stages() for b in stage]
    checked = []
    for block in blocks:
        def hook(m, inputs, output):
            x = inputs[0]
            with torch.no_grad():
                identity = x if m.downsample is None else m.downsample(x)
                assert torch.allclose(output, torch.relu(identity), atol=1e-6)
            checked.append(m)
        block.register_forward_hook(hook)
    size = 224 if name in r.IMAGENET_BUILDERS else 32
    for mode in (model.train, model.eval):
        checked.clear()
        mode()
        model(torch.randn(2, 3, size, size))
        assert len(checked) == len(blocks)


def test_zero_init_residual_is_refused_for_plain_networks():
    with pytest.raises(ValueError, match="plain"):
        r.resnet.cifar_resnet(20, plain=True, zero_init_residual=True)


def test_he_initialization():
    torch.manual_seed(0)
    conv = r.resnet50().layer3[1].conv2  # 3×3, 256 → 256
    fan_out = conv.out_channels * 9
    assert abs(conv.weight.std().item() - (2 / fan_out) ** 0.5) < 0.002


def test_cifar_depth_must_be_6n_plus_2():
    with pytest.raises(ValueError, match="6n"):
        r.resnet.cifar_resnet(21)


def test_readme_one_liner():
    # `python -c "import labml_resnet as r; print(r.resnet20())"`
    text = repr(r.resnet20())
    assert "ZeroPadShortcut" in text and "layer3" in text


def test_width_doubles_so_that_a_3x3_costs_the_same_in_every_stage():
    # Sec. 3.3: "the number of filters is doubled so as to preserve the time complexity per layer"
    def macs(conv, side):
        counter = FlopCounterMode(display=False)
        with counter, torch.no_grad():
            conv(torch.zeros(1, conv.in_channels, side, side))
        return counter.get_total_flops() // 2
    model = r.resnet34()
    layer1, layer2 = macs(model.layer1[1].conv1, 56), macs(model.layer2[1].conv1, 28)
    assert layer1 == layer2 == 9 * 64 * 64 * 56 * 56


def test_forward_needs_a_batch_dimension():
    model = r.resnet20().eval()
    with pytest.raises(ValueError, match="expected 4D input"):
        model(torch.randn(3, 32, 32))
    assert model(torch.randn(3, 32, 32).unsqueeze(0)).shape == (1, 10)


def test_exercise_1_zero_padding_shortcuts_of_resnet20():
    names = [name for name, m in r.resnet20().named_modules() if isinstance(m, ZeroPadShortcut)]
    assert names == ["layer2.0.downsample", "layer3.0.downsample"]
    assert r.resnet20().layer1[0].downsample is None  # 16 → 16 at stride 1: the identity
    assert sum(isinstance(m, ProjectionShortcut) for m in r.resnet20(shortcut="C").modules()) == 9


def _sessions(path: pathlib.Path) -> str:
    """The ```pycon blocks of a chapter's notes (full-line comments), as one doctest text; a block
    inside a closed `??? note` is indented, and is dedented here."""
    comments = [re.sub(r"^\s*# ?", "", line) if line.lstrip().startswith("#") else ""
                for line in path.read_text(encoding="utf-8").splitlines()]
    blocks = re.findall(r"^( *)```pycon\n(.*?)^\1```", "\n".join(comments), flags=re.M | re.S)
    return "\n".join(textwrap.dedent(block) for _, block in blocks)


def test_coursework_sessions_run_as_shown():
    # "Every session below is run by tests/test_resnet.py, and its printed output must match."
    text = _sessions(CHAPTER)
    assert text.count(">>>") >= 15  # the four sessions of "Using it in coursework"
    torch.manual_seed(0)
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    report = []
    runner.run(parser.get_doctest(text, {}, "coursework", str(CHAPTER), 0), out=report.append)
    assert runner.summarize(verbose=False).failed == 0, "".join(report)


def test_frozen_batch_norms_still_update_their_statistics_in_train_mode():
    # "Freezing stops the gradient, not the batch norms"
    model = torchvision.models.resnet18(weights=None)
    for p in model.parameters():
        p.requires_grad = False
    before = model.bn1.running_mean.clone()
    model.train()(torch.randn(2, 3, 64, 64))
    assert not torch.equal(model.bn1.running_mean, before)
    after_train = model.bn1.running_mean.clone()
    model.eval()(torch.randn(2, 3, 64, 64))
    assert torch.equal(model.bn1.running_mean, after_train)


def test_paper_imagenet_tables_say_what_the_chapter_says():
    t2, t3 = r.resnet.PAPER_TABLE2, r.resnet.PAPER_TABLE3
    # Table 2: depth hurts the plain net and helps the ResNet
    assert t2["plain-34"] > t2["plain-18"] and t2["ResNet-34 A"] < t2["ResNet-18 A"]
    # The rows the two tables share agree
    assert all(t3[name][0] == t2[name] for name in ("plain-34", "ResNet-34 A"))
    # Table 3: B slightly better than A, C slightly better than B, all better than plain-34
    top1 = {o: t3[f"ResNet-34 {o}"][0] for o in "ABC"}
    assert t3["plain-34"][0] > top1["A"] > top1["B"] > top1["C"]
    # Every row of the table names a builder of this chapter
    assert set(r.resnet.PAPER_IMAGENET_NETWORKS) == set(t2) | set(t3)


def test_option_c_has_thirteen_projections_more_than_b_in_resnet34():
    # "the extra parameters introduced by many (thirteen) projection shortcuts"
    def projections(option):
        return sum(isinstance(m, ProjectionShortcut) for m in on_meta(lambda: r.resnet34(shortcut=option)).modules())
    assert (projections("C"), projections("B")) == (16, 3)
    assert projections("C") - projections("B") == 13


def test_option_a_pairs_cost_the_same_multiply_adds():
    for depth in (18, 34):
        plain, residual = getattr(r, f"plain{depth}"), getattr(r, f"resnet{depth}")
        assert count_macs(on_meta(plain)) == count_macs(on_meta(lambda: residual(shortcut="A")))


def test_a_projection_nearly_doubles_a_bottleneck():
    (params_id, macs_id), (params_proj, macs_proj) = r.resnet.bottleneck_costs("B"), r.resnet.bottleneck_costs("C")
    convs = 256 * 64 + 9 * 64 * 64 + 64 * 256
    assert params_id == convs + 2 * (64 + 64 + 256)
    assert params_proj - params_id == 256 * 256 + 2 * 256
    # "nearly as many as the three convolutions": doubled, close but not exact
    assert 0.9 * convs < 256 * 256 < convs
    assert 1.9 < params_proj / params_id < 2 and 1.9 < macs_proj / macs_id < 2
    assert macs_id == convs * 56 * 56 and macs_proj == (convs + 256 * 256) * 56 * 56


def test_plain34_against_vgg19():
    paper = r.resnet.PAPER_GMACS
    plain = count_macs(on_meta(r.plain34)) / 1e9
    vgg = count_macs(on_meta(torchvision.models.vgg19)) / 1e9
    assert round(plain, 1) == paper["plain-34"] and round(vgg, 1) == paper["VGG-19"]
    # "only 18% of VGG-19": the paper's own numbers give 18.4%, ours 18.6%
    assert int(100 * paper["plain-34"] / paper["VGG-19"]) == int(100 * plain / vgg) == r.resnet.PAPER_PLAIN34_OF_VGG19


def test_sixty_thousand_iterations_of_256_are_about_120_epochs():
    # "trained for up to 60 × 10⁴ iterations", "a mini-batch size of 256", "1.28 million training images"
    assert 60e4 * 256 / 1.28e6 == 120


def test_the_chapter_shows_the_paper_tables():
    text = CHAPTER.read_text(encoding="utf-8")
    for writer in ("paper_imagenet_table_markdown", "bottleneck_shortcut_markdown", "vgg_scale_markdown"):
        assert f"# <!-- md: labml_resnet.resnet.{writer}() -->" in text
    table = r.resnet.paper_imagenet_table_markdown()
    assert "| ResNet-34 C | `resnet34(shortcut=\"C\")` | 22,716,840 | 3.83 | — | 24.19 | 7.40 |" in table
    assert "| plain-18 | `plain18()` | 11,515,688 | 1.79 | 27.94 | — | — |" in table
    assert "| 256 → 256 projection | 136,448 | 423,886,848 |" in r.resnet.bottleneck_shortcut_markdown()
    assert "| VGG-19 | 19.63 | 19.6 |" in r.resnet.vgg_scale_markdown()
