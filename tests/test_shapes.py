"""Claims of the shapes-and-costs chapter."""
import math
import re
import sys
import warnings
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
import torchvision
from hypothesis import given, settings, strategies as st
from torch import nn

import labml_resnet as r
from labml_resnet import shapes
from labml_resnet.shapes import (conv_output_size, count_macs, count_parameters, macs_per_layer, on_meta,
                                 same_padding, shape_trace, small_cnn, stage_sizes)

# The paper's Table 1, ×10⁹ multiply-adds
PAPER_GMACS = {"resnet18": 1.8, "resnet34": 3.6, "resnet50": 3.8, "resnet101": 7.6, "resnet152": 11.3}
# The chapter's text, for the numbers it writes by hand (exercise answers, notes)
SOURCE = Path(shapes.__file__).read_text(encoding="utf-8")


def in_text(number: int) -> bool:
    # `1,849,688,064` as the notes write it
    return f"{number:,}" in SOURCE


# ---------------------------------------------------------------------------------------------
# The output-size formula and its seed topics


@settings(max_examples=300, deadline=None)
@given(n=st.integers(1, 64), k=st.integers(1, 7), s=st.integers(1, 4), p=st.integers(0, 3), d=st.integers(1, 3))
def test_formula_agrees_with_conv2d(n, k, s, p, d):
    if n + 2 * p < d * (k - 1) + 1:
        return  # the kernel does not fit; PyTorch refuses, so does the formula's domain
    conv = nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d)
    assert conv(torch.zeros(1, 1, n, n)).shape[-1] == conv_output_size(n, k, s, p, d)


@settings(max_examples=300, deadline=None)
@given(n=st.integers(1, 64), k=st.integers(1, 7), s=st.integers(1, 4), p=st.integers(0, 3), d=st.integers(1, 3),
       kind=st.sampled_from(["max", "avg"]))
def test_formula_agrees_with_pooling(n, k, s, p, d, kind):
    if p > k // 2 or n + 2 * p < d * (k - 1) + 1:
        return  # PyTorch requires padding ≤ kernel / 2
    if kind == "avg":
        if d != 1:
            return  # AvgPool2d has no dilation
        pool = nn.AvgPool2d(k, stride=s, padding=p)
    else:
        pool = nn.MaxPool2d(k, stride=s, padding=p, dilation=d)
    assert pool(torch.zeros(1, 1, n, n)).shape[-1] == conv_output_size(n, k, s, p, d)


@settings(max_examples=100, deadline=None)
@given(h=st.integers(7, 40), w=st.integers(7, 40), kh=st.integers(1, 5), kw=st.integers(1, 5),
       sh=st.integers(1, 3), sw=st.integers(1, 3), ph=st.integers(0, 2), pw=st.integers(0, 2))
def test_formula_applies_to_each_side_on_its_own(h, w, kh, kw, sh, sw, ph, pw):
    # "The formula applies to H and to W separately, each with its own k, s, p and d"
    conv = nn.Conv2d(1, 1, (kh, kw), stride=(sh, sw), padding=(ph, pw))
    out = conv(torch.zeros(1, 1, h, w)).shape[-2:]
    assert tuple(out) == (conv_output_size(h, kh, sh, ph), conv_output_size(w, kw, sw, pw))


def test_pil_puts_the_width_first():
    # "PIL's `Image.size` says `(320, 240)`" for a `[B, 3, 240, 320]` image
    from PIL import Image
    from torchvision.transforms.functional import pil_to_tensor
    photo = Image.new("RGB", (320, 240))
    assert photo.size == (320, 240) and photo.width == 320 and photo.height == 240
    assert pil_to_tensor(photo).shape == (3, 240, 320)


def test_stride_defaults():
    # A pooling layer's stride defaults to its kernel size, a convolution's to 1
    assert nn.MaxPool2d(2).stride == 2 and nn.AvgPool2d(3).stride == 3
    assert nn.Conv2d(1, 1, 2).stride == (1, 1)
    x = torch.randn(1, 1, 8, 8)
    assert torch.equal(nn.MaxPool2d(2)(x), nn.MaxPool2d(2, stride=2)(x))
    # nn.MaxPool2d(2) halves each side; nn.Conv2d(c_in, c_out, 2) gives n − 1
    assert nn.MaxPool2d(2)(x).shape[-2:] == (4, 4)
    assert nn.Conv2d(1, 4, 2)(x).shape[-2:] == (7, 7)
    # Padding 0 and dilation 1 by default
    assert nn.MaxPool2d(2).padding == 0 and nn.MaxPool2d(2).dilation == 1
    assert nn.Conv2d(1, 1, 3).padding == (0, 0) and nn.Conv2d(1, 1, 3).dilation == (1, 1)


def test_the_floor_at_odd_sizes():
    # "nn.MaxPool2d(2) on a 7×7 map gives 3 … ceil_mode=True rounds up instead, to 4"
    x = torch.arange(49.0).view(1, 1, 7, 7)
    assert nn.MaxPool2d(2)(x).shape[-2:] == (3, 3) == (conv_output_size(7, 2, 2),) * 2
    # The seventh row and column are never read: changing them changes nothing
    y = x.clone()
    y[..., 6, :] = y[..., :, 6] = 1e9
    assert torch.equal(nn.MaxPool2d(2)(x), nn.MaxPool2d(2)(y))
    assert nn.MaxPool2d(2, ceil_mode=True)(x).shape[-2:] == (4, 4)


@pytest.mark.parametrize("n", range(1, 80))
def test_resnet_stride_2_layers_all_round_up(n):
    # The 7×7 stem (padding 3), 3×3 max-pool and convolutions (padding 1), the 1×1 projection
    # (padding 0) and option A's x[:, :, ::2, ::2] all give ⌈n / 2⌉
    x = torch.zeros(1, 1, n, n)
    layers = [nn.Conv2d(1, 1, 7, 2, 3), nn.MaxPool2d(3, 2, 1), nn.Conv2d(1, 1, 3, 2, 1), nn.Conv2d(1, 1, 1, 2, 0)]
    sides = {layer(x).shape[-1] for layer in layers} | {x[:, :, ::2, ::2].shape[-1]}
    assert sides == {math.ceil(n / 2)} == {(n - 1) // 2 + 1}
    assert conv_output_size(7, 3, 2, 1) == 4  # "(7 → 4)"


def test_resnets_run_on_odd_sides():
    # "A block's branch and its shortcut therefore agree on odd sides too"
    for build in (r.resnet18, r.resnet50, r.resnet20):
        assert on_meta(build)(torch.zeros(1, 3, 225, 99, device="meta")).shape[-1] in (10, 1000)


@settings(max_examples=150, deadline=None)
@given(n=st.integers(1, 20), k=st.integers(1, 6), d=st.integers(1, 3), axis=st.sampled_from([0, 1]))
def test_same_padding_is_pytorchs(n, k, d, axis):
    # padding="same" is same_padding's split: the smaller half before, the larger after
    size, kernel, dilation = [n + 3, n + 3], [k, k], [d, d]
    size[axis], kernel[1 - axis] = n, 1  # pad along one axis only, the other kernel side 1
    conv = nn.Conv2d(1, 1, tuple(kernel), padding="same", dilation=tuple(dilation), bias=False)
    x = torch.randn(1, 1, *size)
    before, after = same_padding(k, d)
    # F.pad takes (left, right, top, bottom)
    pad = (before, after, 0, 0) if axis == 1 else (0, 0, before, after)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "may require a zero-padded copy"
        same = conv(x)
    by_hand = F.conv2d(F.pad(x, pad), conv.weight, dilation=tuple(dilation))
    assert same.shape == x.shape
    torch.testing.assert_close(same, by_hand)


def test_same_padding_examples_and_what_pytorch_refuses():
    assert same_padding(3) == (1, 1) and same_padding(4) == (1, 2)
    # The extra pixel of an even kernel goes at the bottom and on the right
    assert nn.Conv2d(1, 1, 4, padding="same")._reversed_padding_repeated_twice == [1, 2, 1, 2]
    with pytest.raises(ValueError, match=re.escape("padding='same' is not supported for strided convolutions")):
        nn.Conv2d(8, 8, 3, stride=2, padding="same")
    # "valid" is padding 0
    x = torch.randn(1, 2, 9, 11)
    valid, zero = nn.Conv2d(2, 3, 3, padding="valid"), nn.Conv2d(2, 3, 3, padding=0)
    zero.load_state_dict(valid.state_dict())
    torch.testing.assert_close(valid(x), zero(x))


def test_small_cnn_in_features():
    model = small_cnn().eval()
    # 240 high, 320 wide: [B, 3, 240, 320]
    assert model(torch.zeros(2, 3, 240, 320)).shape == (2, 10)
    assert model.fc.in_features == 128 * 13 * 18 == 29_952
    # "The last max-pool floors both sides (27 → 13 and 37 → 18)"
    pool4 = next(row for row in shape_trace(model, (1, 3, 240, 320)) if row.name == "pool4")
    assert pool4.in_shape[-2:] == (27, 37) and pool4.out_shape[-2:] == (13, 18)
    # Height and width swapped: runs without complaint
    assert model(torch.zeros(1, 3, 320, 240)).shape == (1, 10)
    table = shapes.small_cnn_table_markdown()
    assert "$C \\cdot H' \\cdot W'$ = 128·13·18 = 29,952" in table
    assert "| `pool4` | 2×2 max-pool, /2 | 128 × 13 × 18 |" in table
    assert "⌊(240 + 2·1 − (3 − 1) − 1) / 1⌋ + 1 = 240 | ⌊(320 + 2·1 − (3 − 1) − 1) / 1⌋ + 1 = 320 |" in table


# ---------------------------------------------------------------------------------------------
# Traces and counts


def test_trace_is_in_execution_order_and_complete():
    rows = shape_trace(r.resnet20(), (1, 3, 32, 32))
    names = [row.name for row in rows]
    assert names[0] == "conv1" and names[-1] == "fc"
    assert rows[-1].out_shape == (1, 10)
    # Every convolution of the model appears once
    convs = [n for n, m in r.resnet20().named_modules() if isinstance(m, nn.Conv2d)]
    assert [n for n in names if n in convs] == convs


def test_trace_removes_its_hooks():
    model = r.resnet20()
    shape_trace(model, (1, 3, 32, 32))
    assert all(not m._forward_hooks for m in model.modules())


@pytest.mark.parametrize("name", ["resnet18", "resnet50", "resnet20"])
def test_macs_per_layer_adds_up_to_count_macs(name):
    model = on_meta(getattr(r, name))
    size = 32 if name == "resnet20" else 224
    per_layer = macs_per_layer(model, size)
    assert sum(per_layer.values()) == count_macs(model, size)
    # Convolutions and fc only, each by the formula k² · C_in · C_out · H' · W'
    modules = dict(model.named_modules())
    assert {type(modules[n]) for n in per_layer} == {nn.Conv2d, nn.Linear}
    for row in shape_trace(model, (1, 3, size, size)):
        if isinstance(row.module, nn.Conv2d):
            k_h, k_w = row.module.kernel_size
            assert per_layer[row.name] == k_h * k_w * row.module.in_channels * row.module.out_channels * math.prod(row.out_shape[-2:])
    if name == "resnet18":
        assert per_layer["conv1"] == 118_013_952 and in_text(118_013_952) and '"conv1": 118013952' in SOURCE


@pytest.mark.parametrize("name,paper", PAPER_GMACS.items())
def test_macs_within_2_percent_of_table_1(name, paper):
    # "Our counts are within 2% of the paper's Table 1"
    ours = count_macs(on_meta(getattr(r, name))) / 1e9
    assert abs(ours - paper) / paper < 0.02


@pytest.mark.parametrize("name", ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152"])
def test_counts_agree_with_torchvisions_documentation(name):
    weights = getattr(torchvision.models, f"ResNet{name[6:]}_Weights").IMAGENET1K_V1
    model = on_meta(getattr(torchvision.models, name))
    # num_params is the sum over model.parameters(), without batch norm's buffers
    assert count_parameters(model) == weights.meta["num_params"] == count_parameters(on_meta(getattr(r, name)))
    # The "GFLOPS" of torchvision's documentation are multiply-adds
    assert round(count_macs(model) / 1e9, 3) == weights.meta["_ops"]
    # stride_on="3x3" counts exactly what torchvision's networks do
    ours = on_meta(lambda: getattr(r, name)(stride_on="3x3")) if name in ("resnet50", "resnet101", "resnet152") \
        else on_meta(getattr(r, name))
    assert count_macs(ours) == count_macs(model)
    assert in_text(25_557_032) and "4.089 for ResNet-50" in SOURCE
    assert torchvision.models.ResNet50_Weights.IMAGENET1K_V1.meta["_ops"] == 4.089


def test_v15_resnet50_costs_4_1_billion():
    ours_v15 = count_macs(on_meta(lambda: r.resnet50(stride_on="3x3"))) / 1e9
    theirs = count_macs(on_meta(torchvision.models.resnet50)) / 1e9
    paper_placement = count_macs(on_meta(r.resnet50)) / 1e9
    assert round(theirs, 2) == 4.09 and ours_v15 == theirs
    # The blocks chapter says "about 4.1 … against 3.9"
    assert round(ours_v15, 1) == 4.1 and round(paper_placement, 1) == 3.9


# ---------------------------------------------------------------------------------------------
# Where the stride placements differ (the sentence this used to get wrong)


def test_stride_placement_moves_cost_to_the_first_1x1_only():
    paper = on_meta(lambda: r.resnet50(stride_on="1x1"))
    v15 = on_meta(lambda: r.resnet50(stride_on="3x3"))
    macs_paper, macs_v15 = macs_per_layer(paper), macs_per_layer(v15)
    modules = dict(paper.named_modules())
    # The 3×3 convolutions cost the same under both placements: same output positions
    three = [n for n, m in modules.items() if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3)]
    assert len(three) == 16 and all(macs_paper[n] == macs_v15[n] for n in three)
    # The whole difference is in the first 1×1 of each stage's first block
    differing = {n: macs_v15[n] - macs_paper[n] for n in macs_paper if macs_paper[n] != macs_v15[n]}
    assert set(differing) == {"layer2.0.conv1", "layer3.0.conv1", "layer4.0.conv1"}
    # … which runs on four times as many positions: 256·128·(56² − 28²) and the like, all equal
    assert all(macs_v15[n] == 4 * macs_paper[n] for n in differing)
    assert differing == {"layer2.0.conv1": 256 * 128 * (56 ** 2 - 28 ** 2),
                         "layer3.0.conv1": 512 * 256 * (28 ** 2 - 14 ** 2),
                         "layer4.0.conv1": 1024 * 512 * (14 ** 2 - 7 ** 2)}
    assert len(set(differing.values())) == 1
    total = sum(differing.values())
    assert total == count_macs(v15) - count_macs(paper) == 231_211_008
    table = shapes.stride_placement_table_markdown("resnet50")
    assert table.count("\n| `layer") == 3 and f"**{total:+,}**" in table
    assert "| `layer2.0.conv1` | 1×1 conv, 256 → 128, /2 (paper) | 1²·256·128·28·28 = 25,690,112 | 1²·256·128·56·56 = 102,760,448 | +77,070,336 |" in table
    # The strided 3×3 "still outputs 28×28, 14×14 and 7×7"
    strided = [row.out_shape[-1] for row in shape_trace(v15) if row.name in ("layer2.0.conv2", "layer3.0.conv2", "layer4.0.conv2")]
    assert strided == [28, 14, 7]


# ---------------------------------------------------------------------------------------------
# One block by hand: ResNet-18's layer2.0


def test_block_walkthrough_agrees_with_the_counts_and_the_trace():
    model = on_meta(r.resnet18)
    per_layer = macs_per_layer(model)
    block = {n.removeprefix("layer2.0."): v for n, v in per_layer.items() if n.startswith("layer2.0.")}
    assert block == {"conv1": 9 * 64 * 128 * 28 * 28, "conv2": 9 * 128 * 128 * 28 * 28,
                     "downsample.0": 1 * 64 * 128 * 28 * 28}
    # "conv2 costs twice as much … the projection … a ninth of conv1"
    assert block["conv2"] == 2 * block["conv1"] and block["conv1"] == 9 * block["downsample.0"]
    total = sum(block.values())
    assert total == 179_830_784
    walk = shapes.block_walkthrough_markdown("resnet18", "layer2.0", 224)
    assert f"| **total** | | | | **{total:,}** |" in walk
    assert "| input | | 64 × 56 × 56 | | |" in walk
    assert "| `conv1` | 3×3 conv, 64 → 128, /2, padding 1 | 128 × 28 × 28 | ⌊(56 + 2·1 − (3 − 1) − 1) / 2⌋ + 1 = 28 | 3²·64·128·28·28 = 57,802,752 |" in walk
    assert "3²·128·128·28·28 = 115,605,504" in walk and "1²·64·128·28·28 = 6,422,528" in walk
    # "it comes just before the last ReLU, where the branch and the shortcut meet at 128 × 28 × 28"
    rows = [row for row in shape_trace(model) if row.name.startswith("layer2.0.")]
    assert isinstance(rows[-1].module, nn.ReLU) and rows[-1].in_shape == (1, 128, 28, 28)
    assert walk.rstrip().split("\n")[-2].startswith("| `relu` | ReLU | 128 × 28 × 28 |")
    # The same shapes as the ResNet-18 table: "64 channels at 56×56 to 128 channels at 28×28"
    table = shapes.shape_table_markdown("resnet18", 224)
    assert "| `layer2.0.conv1` | 3×3 conv, 64 → 128, /2 | 64 × 56 × 56 | 128 × 28 × 28 |" in table
    assert "| `layer2.0.downsample.0` | 1×1 conv, 64 → 128, /2 | 64 × 56 × 56 | 128 × 28 × 28 |" in table


def test_block_walkthrough_refuses_a_wrong_product(monkeypatch):
    # The build stops if the written-out product and FlopCounterMode disagree
    real = shapes.macs_per_layer
    monkeypatch.setattr(shapes, "macs_per_layer", lambda *a: {**real(*a), "layer2.0.conv2": 1})
    with pytest.raises(AssertionError, match="layer2.0.conv2"):
        shapes.block_walkthrough_markdown("resnet18", "layer2.0", 224)


# ---------------------------------------------------------------------------------------------
# Generated tables


def test_generated_tables_agree_with_the_tests():
    table = shapes.parameter_table_markdown()
    assert "| resnet50 | 25,557,032 | torchvision | 25,557,032 |" in table
    assert "| resnet20 | 269,722 | paper, Table 6 | 0.27M; plain: 269,722 |" in table
    flops = shapes.flop_table_markdown()
    assert "| resnet50 | 3.86 | 3.8 | +1.5% | 4.09 |" in flops
    assert "| resnet18 | 1.81 | 1.8 | +0.8% | 1.81 |" in flops
    walk = shapes.shape_table_markdown("resnet18", 224)
    assert "| `conv1` | 7×7 conv, 3 → 64, /2 | 3 × 224 × 224 | 64 × 112 × 112 | ⌊(224 + 2·3 − (7 − 1) − 1) / 2⌋ + 1 = 112 |" in walk
    assert "| `maxpool` | 3×3 max-pool, /2 |" in walk
    assert "`layer4.1.conv2`" in walk and "512 × 7 × 7" in walk
    assert "zero-pad shortcut" in shapes.shape_table_markdown("resnet20", 32)



def test_stage_tables_summarize_the_traces():
    table = shapes.stage_table_markdown("resnet50", 224)
    assert "| `conv1` | 7×7 conv, 3 → 64, /2 | 3 × 224 × 224 | 64 × 112 × 112 | `conv1` |" in table
    assert "| `layer1` | 3 blocks | 64 × 56 × 56 | 256 × 56 × 56 | — |" in table
    # "the first 1×1 of layer2.0, layer3.0 and layer4.0 halves the side" (and the projection beside it)
    for stage, blocks, c, n in (("layer2", 4, 256, 56), ("layer3", 6, 512, 28), ("layer4", 3, 1024, 14)):
        assert (f"| `{stage}` | {blocks} blocks | {c} × {n} × {n} | {2 * c} × {n // 2} × {n // 2} "
                f"| `{stage}.0.downsample.0`, `{stage}.0.conv1` |") in table
    # ResNet-18: "the stem takes 224 to 56 in two steps; each stage after the first halves the side once"
    sizes = stage_sizes(on_meta(r.resnet18), 224)
    assert (sizes["conv1"], sizes["maxpool"]) == (112, 56)
    assert [sizes[f"layer{i}"] for i in range(1, 5)] == [56, 28, 14, 7]
    assert "| `layer1` | 2 blocks | 64 × 56 × 56 | 64 × 56 × 56 | — |" in shapes.stage_table_markdown("resnet18", 224)
    # ResNet-20: "the CIFAR stem keeps 32×32; stages run at 32, 16 and 8", option A's shortcut strides
    cifar = shapes.stage_table_markdown("resnet20", 32)
    assert "| `conv1` | 3×3 conv, 3 → 16 | 3 × 32 × 32 | 16 × 32 × 32 | — |" in cifar
    assert "| `layer3` | 3 blocks | 32 × 16 × 16 | 64 × 8 × 8 | `layer3.0.downsample`, `layer3.0.conv1` |" in cifar
    assert [size for name, size in stage_sizes(r.resnet20(), 32).items() if name.startswith("layer")] == [32, 16, 8]


def test_long_traces_are_closed_and_the_tables_are_site_machinery():
    # Every layer-by-layer trace sits in a closed block, under its stage summary
    lines = SOURCE.split("\n")
    traces = [i for i, line in enumerate(lines) if "<!-- md: labml_resnet.shapes.shape_table_markdown(" in line]
    assert len(traces) == 3
    for i in traces:
        assert lines[i].startswith("#     <!--") and lines[i - 2].startswith('# ??? note "')
        assert "stage_table_markdown" in lines[i - 4]
    # The chapter formats no tables: the writers live in labml_resnet/_tables.py, under the chapter's names
    from labml_resnet._site import MARKDOWN_WRITERS
    assert "@markdown_writer" not in SOURCE and "def shape_table_markdown" not in SOURCE
    for name in ("shape_table_markdown", "stage_table_markdown", "small_cnn_table_markdown", "block_walkthrough_markdown",
                 "parameter_table_markdown", "flop_table_markdown", "stride_placement_table_markdown",
                 "cifar_cost_table_markdown"):
        assert MARKDOWN_WRITERS[f"labml_resnet.shapes.{name}"] is getattr(shapes, name)

# ---------------------------------------------------------------------------------------------
# Exercises: every one has a closed answer, and the numbers in the answers are right


def test_exercise_1_answer():
    assert conv_output_size(225, 7, 2, 3) == 113 == math.ceil(225 / 2)
    assert nn.Conv2d(3, 8, 7, 2, 3)(torch.zeros(1, 3, 225, 225)).shape == (1, 8, 113, 113)
    assert "`torch.Size([1, 8, 113, 113])`" in SOURCE
    assert stage_sizes(on_meta(r.resnet18), 225) == {"conv1": 113, "maxpool": 57, "layer1": 57,
                                                     "layer2": 29, "layer3": 15, "layer4": 8}


def test_exercise_2_answer():
    from labml_nn.resnet import ResNetBase
    model = ResNetBase([3, 3, 3], [16, 32, 64], first_kernel_size=3)
    rows = shape_trace(model, (1, 3, 32, 32))
    changed = {row.name: (row.in_shape[-1], row.out_shape[-1]) for row in rows
               if len(row.in_shape) == 4 and row.in_shape[-1] != row.out_shape[-1]}
    assert changed == {"conv": (32, 16), "blocks.0.conv1": (16, 8), "blocks.0.shortcut.conv": (16, 8)}
    # blocks.3 and blocks.6 change only the channels
    by_name = {row.name: row for row in rows}
    assert by_name["blocks.3.conv1"].in_shape[1:] == (16, 8, 8) and by_name["blocks.3.conv1"].out_shape[1:] == (32, 8, 8)
    assert by_name["blocks.6.conv1"].in_shape[1:] == (32, 8, 8) and by_name["blocks.6.conv1"].out_shape[1:] == (64, 8, 8)


def test_exercise_3_answer():
    def by_kind(model):
        modules, groups = dict(model.named_modules()), {}
        for name, macs in macs_per_layer(model).items():
            module = modules[name]
            kind = f"{module.kernel_size[0]}x{module.kernel_size[1]}" if isinstance(module, nn.Conv2d) else "fc"
            kind += " shortcut" if ".downsample." in name else ""
            groups[kind] = groups.get(kind, 0) + macs
        return groups

    model = on_meta(r.resnet50)
    groups, total = by_kind(model), count_macs(model)
    assert groups == {"7x7": 118_013_952, "1x1": 1_528_561_664, "3x3": 1_849_688_064,
                      "1x1 shortcut": 359_661_568, "fc": 2_048_000}
    assert all(in_text(n) for n in groups.values())
    percent = {k: round(100 * v / total, 1) for k, v in groups.items()}
    assert (percent["3x3"], percent["1x1"], percent["1x1 shortcut"], percent["7x7"]) == (47.9, 39.6, 9.3, 3.1)
    all_1x1 = groups["1x1"] + groups["1x1 shortcut"]
    assert all_1x1 == 1_888_223_232 and in_text(all_1x1) and round(100 * all_1x1 / total, 1) == 48.9
    assert all_1x1 > groups["3x3"] > groups["1x1"]  # "the projections tip the balance"
    # "the four projection shortcuts"
    assert sum(".downsample.0" in n for n in macs_per_layer(model)) == 4
    v15 = by_kind(on_meta(lambda: r.resnet50(stride_on="3x3")))
    assert v15["1x1"] == 1_759_772_672 == groups["1x1"] + 231_211_008 and in_text(v15["1x1"])


def test_exercise_4_answer():
    rows = shape_trace(small_cnn()[:-2], (1, 3, 480, 640))
    assert rows[-1].out_shape == (1, 128, 28, 38) and 128 * 28 * 38 == 136_192
    pools = [row.out_shape[-2:] for row in rows if isinstance(row.module, (nn.MaxPool2d, nn.Conv2d))
             and row.in_shape[-1] != row.out_shape[-1]]
    assert [h for h, _ in pools] == [240, 236, 118, 114, 57, 28]
    assert [w for _, w in pools] == [320, 316, 158, 154, 77, 38]
    assert "480 → 240 → 236 → 118 → 114 → 57 → 28" in SOURCE and "640 → 320 → 316 → 158 → 154 → 77 → 38" in SOURCE
    message = "mat1 and mat2 shapes cannot be multiplied (1x136192 and 29952x10)"
    with pytest.raises(RuntimeError, match=re.escape(message)):
        small_cnn()(torch.zeros(1, 3, 480, 640))
    assert message in SOURCE and "128 \\cdot 28 \\cdot 38 = 136{,}192" in SOURCE
