"""Claims of the shortcuts chapter."""
import pytest
import torch
from torch import nn

import labml_resnet as r
from labml_resnet.shortcuts import ProjectionShortcut, ZeroPadShortcut, make_shortcut


def test_zero_pad_subsamples_and_appends_zero_channels():
    x = torch.randn(2, 16, 32, 32)
    y = make_shortcut("A", 16, 32, 2)(x)
    assert y.shape == (2, 32, 16, 16)
    assert torch.equal(y[:, :16], x[:, :, ::2, ::2])
    assert torch.count_nonzero(y[:, 16:]) == 0


def test_zero_pad_matches_a_strided_3x3_convolution_on_odd_sizes():
    for side in (7, 8, 15, 32):
        conv = nn.Conv2d(4, 8, 3, stride=2, padding=1)
        x = torch.randn(1, 4, side, side)
        assert ZeroPadShortcut(4, 8, 2)(x).shape == conv(x).shape


@pytest.mark.parametrize("option", ["A", "B", "C"])
def test_identity_where_shape_is_kept(option):
    shortcut = make_shortcut(option, 64, 64, 1)
    expected = ProjectionShortcut if option == "C" else nn.Identity
    assert isinstance(shortcut, expected)


def test_option_b_projects_only_where_shape_changes():
    assert isinstance(make_shortcut("B", 64, 128, 2), ProjectionShortcut)
    assert isinstance(make_shortcut("A", 64, 128, 2), ZeroPadShortcut)


def test_option_a_adds_no_parameters():
    for depth in (20, 56):
        residual = r.CIFAR_BUILDERS[f"resnet{depth}"]()
        plain = r.CIFAR_BUILDERS[f"plain{depth}"]()
        assert r.count_parameters(residual) == r.count_parameters(plain)


def test_option_c_adds_13_projections_over_b_in_resnet34():
    # The paper: "C, all shortcuts are projections", 13 more than B in ResNet-34 (16 blocks, 3 projected in B)
    def projections(model):
        return sum(isinstance(m, ProjectionShortcut) for m in model.modules())
    b, c = r.resnet34(shortcut="B"), r.resnet34(shortcut="C")
    assert projections(b) == 3
    assert projections(c) - projections(b) == 13
    assert r.count_parameters(c) > r.count_parameters(b)


def test_unknown_option_is_refused():
    with pytest.raises(ValueError, match="'A', 'B' or 'C'"):
        make_shortcut("D", 16, 16, 1)
    with pytest.raises(ValueError):
        ZeroPadShortcut(32, 16, 2)
