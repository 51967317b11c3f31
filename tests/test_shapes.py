"""Claims of the shapes-and-costs chapter."""
import pytest
import torch
import torchvision
from hypothesis import given, settings, strategies as st
from torch import nn

import labml_resnet as r
from labml_resnet import shapes
from labml_resnet.shapes import conv_output_size, count_macs, on_meta, shape_trace

# The paper's Table 1, ×10⁹ multiply-adds
PAPER_GMACS = {"resnet18": 1.8, "resnet34": 3.6, "resnet50": 3.8, "resnet101": 7.6, "resnet152": 11.3}


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


@pytest.mark.parametrize("name,paper", PAPER_GMACS.items())
def test_macs_within_5_percent_of_table_1(name, paper):
    ours = count_macs(on_meta(getattr(r, name))) / 1e9
    assert abs(ours - paper) / paper < 0.05


def test_v15_resnet50_costs_4_1_billion():
    ours_v15 = count_macs(on_meta(lambda: r.resnet50(stride_on="3x3"))) / 1e9
    theirs = count_macs(on_meta(torchvision.models.resnet50)) / 1e9
    paper_placement = count_macs(on_meta(r.resnet50)) / 1e9
    assert round(theirs, 2) == 4.09 and ours_v15 == theirs
    # The blocks chapter says "about 4.1 … against 3.9"
    assert round(ours_v15, 1) == 4.1 and round(paper_placement, 1) == 3.9


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


def test_generated_tables_agree_with_the_tests():
    table = shapes.parameter_table_markdown()
    assert "| resnet50 | 25,557,032 | torchvision | 25,557,032 |" in table
    assert "| resnet20 | 269,722 | paper, Table 6 | 0.27M; plain: 269,722 |" in table
    flops = shapes.flop_table_markdown()
    assert "| resnet50 | 3.86 | 3.8 |" in flops
    walk = shapes.shape_table_markdown("resnet18", 224)
    assert "| `conv1` | 7×7 conv, /2 | 3 × 224 × 224 | 64 × 112 × 112 | ⌊(224 + 2·3 − (7 − 1) − 1) / 2⌋ + 1 = 112 |" in walk
    assert "| `maxpool` | 3×3 max-pool, /2 |" in walk
    assert "`layer4.1.conv2`" in walk and "512 × 7 × 7" in walk
    assert "zero-pad shortcut" in shapes.shape_table_markdown("resnet20", 32)
