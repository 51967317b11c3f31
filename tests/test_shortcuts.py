"""Claims of the shortcuts chapter."""
import pytest
import torch
from torch import nn

import labml_resnet as r
from labml_resnet.blocks import BasicBlock
from labml_resnet.shortcuts import ProjectionShortcut, ZeroPadShortcut, make_shortcut


def test_zero_pad_subsamples_and_appends_zero_channels():
    x = torch.randn(2, 16, 32, 32)
    y = make_shortcut("A", 16, 32, 2)(x)
    assert y.shape == (2, 32, 16, 16)
    assert torch.equal(y[:, :16], x[:, :, ::2, ::2])
    assert torch.count_nonzero(y[:, 16:]) == 0


def test_exercise_1_ones_through_zero_padding():
    y = make_shortcut("A", 16, 32, 2)(torch.ones(1, 16, 32, 32))
    assert y.shape == (1, 32, 16, 16)
    assert torch.all(y[:, :16] == 1) and torch.all(y[:, 16:] == 0)


def test_zero_pad_matches_a_strided_3x3_convolution_on_odd_sizes():
    for side in (7, 8, 15, 32):
        conv = nn.Conv2d(4, 8, 3, stride=2, padding=1)
        x = torch.randn(1, 4, side, side)
        assert ZeroPadShortcut(4, 8, 2)(x).shape == conv(x).shape


def test_exercise_3_strided_convolution_is_centred_on_the_even_pixels():
    # A 3×3, stride-2, padding-1 convolution whose kernel is 1 at the centre computes x[::2, ::2]
    conv = nn.Conv2d(1, 1, 3, stride=2, padding=1, bias=False)
    with torch.no_grad():
        conv.weight.zero_()
        conv.weight[0, 0, 1, 1] = 1
        for side in (7, 8):
            x = torch.randn(1, 1, side, side)
            assert torch.equal(conv(x), x[:, :, ::2, ::2])


@pytest.mark.parametrize("option", ["A", "B", "C"])
def test_identity_is_none_where_shape_is_kept(option):
    # torchvision's convention: `downsample is None` means the identity
    shortcut = make_shortcut(option, 64, 64, 1)
    if option == "C":
        assert isinstance(shortcut, ProjectionShortcut)
    else:
        assert shortcut is None


def test_option_b_projects_only_where_shape_changes():
    assert isinstance(make_shortcut("B", 64, 128, 2), ProjectionShortcut)
    assert isinstance(make_shortcut("A", 64, 128, 2), ZeroPadShortcut)
    # A width change alone (ResNet-50's layer1.0) needs a shortcut too, and zero-padding can't subsample by 1
    assert isinstance(make_shortcut("B", 64, 256, 1), ProjectionShortcut)


def test_projection_is_a_1x1_convolution_without_bias_then_batch_norm():
    conv, bn = make_shortcut("B", 64, 128, 2)
    assert (conv.kernel_size, conv.stride, conv.bias) == ((1, 1), (2, 2), None)
    assert isinstance(bn, nn.BatchNorm2d) and bn.num_features == 128


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


def test_exercise_2_what_option_c_adds_to_a_64_channel_block():
    b, c = BasicBlock(64, 64, shortcut="B"), BasicBlock(64, 64, shortcut="C")
    assert r.count_parameters(c) - r.count_parameters(b) == 64 * 64 + 2 * 64 == 4_224
    assert b.conv1.weight.numel() + b.conv2.weight.numel() == 2 * 9 * 64 ** 2 == 73_728


def test_unknown_option_is_refused():
    with pytest.raises(ValueError, match="'A', 'B' or 'C'"):
        make_shortcut("D", 16, 16, 1)
    with pytest.raises(ValueError):
        ZeroPadShortcut(32, 16, 2)


def test_none_is_not_a_way_to_say_plain():
    # `shortcut=None` once meant "plain"; now it is refused with a pointer to `plain=True`
    with pytest.raises(ValueError, match="plain=True"):
        make_shortcut(None, 16, 16, 1)
    with pytest.raises(ValueError, match="plain=True"):
        BasicBlock(16, 16, shortcut=None)
    with pytest.raises(ValueError, match="plain=True"):
        r.resnet20(shortcut=None)


def test_labml_nn_claims_identity_beat_projections():
    # The chapter quotes labml-nn's notes, and says Table 3 shows the opposite (C 24.19 < B 24.52)
    import inspect

    import labml_nn.resnet
    text = " ".join(inspect.getsource(labml_nn.resnet).split())
    assert "when the feature map sizes match they found identity mapping to be better than linear projections" in text
