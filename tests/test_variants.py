"""Claims of the chapter "Beyond the paper: ResNeXt and wide ResNets"."""
import inspect
import re

import pytest
import torch
import torchvision

import labml_resnet as r
from labml_resnet import variants
from labml_resnet.blocks import Bottleneck
from labml_resnet.shapes import count_macs, count_parameters, on_meta

BUILDERS = ["resnext50_32x4d", "resnext101_32x8d", "wide_resnet50_2", "wide_resnet101_2"]


@pytest.mark.parametrize("name", BUILDERS)
def test_parameter_counts_equal_torchvision(name):
    ours = on_meta(getattr(variants, name))
    theirs = on_meta(getattr(torchvision.models, name))
    assert count_parameters(ours) == count_parameters(theirs)
    # Same names and shapes: the state dicts are interchangeable
    assert {k: v.shape for k, v in ours.state_dict().items()} == {k: v.shape for k, v in theirs.state_dict().items()}


@pytest.mark.parametrize("name", BUILDERS)
def test_logits_equal_torchvision_with_its_state_dict(name):
    torch.manual_seed(0)
    theirs = getattr(torchvision.models, name)().eval()
    with torch.no_grad():  # non-trivial batch-norm statistics, so that a misplaced layer shows
        for m in theirs.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    ours = getattr(variants, name)().eval()
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), theirs(x))


def test_builders_are_exported_and_default_to_the_stride_on_the_3x3():
    for name in BUILDERS:
        assert getattr(r, name) is getattr(variants, name)
    # The stride is on the grouped 3×3 by default, on the first 1×1 on request
    block = variants.resnext50_32x4d().layer2[0]
    assert (block.conv1.stride, block.conv2.stride) == ((1, 1), (2, 2))
    block = variants.resnext50_32x4d(stride_on="1x1").layer2[0]
    assert (block.conv1.stride, block.conv2.stride) == ((2, 2), (1, 1))


def test_inner_widths_in_the_chapter():
    # ResNeXt-50 32×4d: 128, 256, 512, 1024 with 32 groups; wide: 256-128-256 first, 2048-1024-2048 last
    resnext = on_meta(variants.resnext50_32x4d)
    assert [s[0].conv2.out_channels for s in resnext.stages()] == [128, 256, 512, 1024]
    assert all(s[0].conv2.groups == 32 for s in resnext.stages())
    wide = on_meta(variants.wide_resnet50_2)
    first, last = wide.layer1[1], wide.layer4[-1]
    assert (first.conv1.in_channels, first.conv2.out_channels, first.conv3.out_channels) == (256, 128, 256)
    assert (last.conv1.in_channels, last.conv2.out_channels, last.conv3.out_channels) == (2048, 1024, 2048)
    # The paper's block is unchanged by the defaults
    assert [s[0].conv2.out_channels for s in on_meta(r.resnet50).stages()] == [64, 128, 256, 512]


def test_torchvision_says_what_the_chapter_quotes():
    doc = " ".join(torchvision.models.wide_resnet50_2.__doc__.split())
    assert ("The model is the same as ResNet except for the bottleneck number of channels which is twice "
            "larger in every block. The number of channels in outer 1x1 convolutions is the same") in doc
    assert "arxiv.org/abs/1605.07146" in doc
    source = inspect.getsource(torchvision.models.resnet.Bottleneck.__init__)
    assert "width = int(planes * (base_width / 64.0)) * groups" in source
    assert "conv3x3(width, width, stride, groups, dilation)" in source


def test_groups_table_equals_a_direct_computation():
    table = variants.groups_table_markdown(128, 56)
    rows = [line.split("|")[1:-1] for line in table.splitlines()[2:]]
    assert [int(row[0]) for row in rows] == [1, 2, 32, 64]
    for groups, per_group, shape, params, macs in rows:
        g = int(groups)
        assert int(per_group) == 128 // g
        assert shape.strip() == f"128 × {128 // g} × 3 × 3"
        assert int(params.replace(",", "")) == 9 * 128 * (128 // g)
        assert int(macs.replace(",", "")) == 9 * 128 * (128 // g) * 56 * 56


def test_variants_table_and_the_sentence_under_it():
    table = variants.variants_table_markdown()
    rows = {line.split("|")[1].strip(): line.split("|")[2:-1] for line in table.splitlines()[2:]}
    builds = {"ResNet-50": torchvision.models.resnet50, "ResNeXt-50 32×4d": torchvision.models.resnext50_32x4d,
              "Wide ResNet-50-2": torchvision.models.wide_resnet50_2}
    counts = {}
    for name, build in builds.items():
        _, params, gmacs, top1 = rows[name]
        theirs = on_meta(build)
        assert int(params.replace(",", "")) == count_parameters(theirs)
        assert float(gmacs) == round(count_macs(theirs) / 1e9, 2)
        counts[name] = (count_parameters(theirs), count_macs(theirs))
        assert re.fullmatch(r" \d+\.\d% ", top1)
    # "about ResNet-50's parameters and multiply-adds; the wide network has over twice as many of both"
    base, resnext, wide = counts["ResNet-50"], counts["ResNeXt-50 32×4d"], counts["Wide ResNet-50-2"]
    assert all(abs(a / b - 1) < 0.05 for a, b in zip(resnext, base))
    assert all(a > 2 * b for a, b in zip(wide, base))
    # torchvision's reported top-1 of its own weights, as the table prints it
    assert rows["ResNeXt-50 32×4d"][3].strip() == (
        f"{torchvision.models.ResNeXt50_32X4D_Weights.IMAGENET1K_V1.meta['_metrics']['ImageNet-1K']['acc@1']:.1f}%")


def test_exercise_1_depthwise():
    conv = variants.grouped_conv3x3(128, 128)
    assert conv.weight.shape == (128, 1, 3, 3)
    assert count_parameters(conv) == 1_152
    assert 1_152 * 56 * 56 == 3_612_672 == 9 * 128 * 128 * 56 * 56 // 128


def test_exercise_2_twice_as_wide_for_the_same_price():
    def conv_weights(block):
        return sum(m.weight.numel() for m in block.modules() if isinstance(m, torch.nn.Conv2d))
    assert conv_weights(Bottleneck(256, 64)) == 69_632
    assert conv_weights(Bottleneck(256, 64, groups=32, width_per_group=4)) == 70_144
    assert 9 * 64 * 64 == 8 * 9 * 128 * 4


def test_the_resnext_code_formula_is_torchvisions():
    # D = floor(n * baseWidth / 64), as in the authors' resnext.lua, for the widths of the four builders
    for n in (64, 128, 256, 512):
        for groups, base_width in ((32, 4), (32, 8), (1, 128)):
            assert Bottleneck(4 * n, n, groups=groups, width_per_group=base_width).conv2.out_channels == \
                (n * base_width // 64) * groups
