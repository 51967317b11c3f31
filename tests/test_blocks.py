"""Claims of the blocks chapter (and the one-block gradient of the first chapter)."""
import inspect

import pytest
import torch
import torchvision
from torch import nn

import labml_resnet as r
from labml_resnet.blocks import BasicBlock, Bottleneck
from labml_resnet.shapes import count_parameters


@pytest.mark.parametrize("options", [{"shortcut": "A"}, {"shortcut": "B"}, {"shortcut": "C"}, {"plain": True}])
def test_basic_block_shapes(options):
    block = BasicBlock(16, 32, stride=2, **options)
    assert block(torch.randn(2, 16, 32, 32)).shape == (2, 32, 16, 16)


@pytest.mark.parametrize("stride_on", ["1x1", "3x3"])
def test_bottleneck_shapes_and_stride_placement(stride_on):
    # Exercise 2: the outputs agree, the intermediate shapes do not
    block = Bottleneck(64, 64, stride=2, stride_on=stride_on)
    seen = {}
    block.conv1.register_forward_hook(lambda m, i, o: seen.update(conv1_out=tuple(o.shape)))
    block.conv2.register_forward_hook(lambda m, i, o: seen.update(conv2_in=i[0].shape[-1], conv2_out=o.shape[-1]))
    assert block(torch.randn(2, 64, 56, 56)).shape == (2, 256, 28, 28)
    # The paper's placement halves the map before the 3×3, torchvision's inside it
    assert seen["conv1_out"] == ((2, 64, 28, 28) if stride_on == "1x1" else (2, 64, 56, 56))
    assert seen["conv2_in"] == (28 if stride_on == "1x1" else 56)
    assert seen["conv2_out"] == 28


def test_stride_placement_does_not_change_parameters():
    a = Bottleneck(256, 128, stride=2, stride_on="1x1")
    b = Bottleneck(256, 128, stride=2, stride_on="3x3")
    assert [p.shape for p in a.parameters()] == [p.shape for p in b.parameters()]
    with pytest.raises(ValueError):
        Bottleneck(64, 64, stride_on="5x5")


def test_bottleneck_weight_counts_in_the_chapter():
    # "256·64 + 9·64·64 + 64·256 ≈ 70k weights, where a basic block at 256 channels has ≈ 1.2M"
    def conv_weights(block):
        return sum(m.weight.numel() for m in block.modules() if isinstance(m, torch.nn.Conv2d))
    assert conv_weights(Bottleneck(256, 64)) == 256 * 64 + 9 * 64 * 64 + 64 * 256
    assert round(conv_weights(Bottleneck(256, 64)), -4) == 70_000
    assert round(conv_weights(BasicBlock(256, 256)) / 1e6, 1) == 1.2


@pytest.mark.parametrize("option", ["A", "B"])
def test_plain_block_is_the_same_layers_without_shortcut(option):
    plain, residual = BasicBlock(16, 16, plain=True), BasicBlock(16, 16, shortcut=option)
    assert plain.downsample is None and residual.downsample is None  # identity-shaped: no module either way
    assert count_parameters(plain) == count_parameters(residual)
    residual.load_state_dict(plain.state_dict())
    x = torch.randn(2, 16, 8, 8)
    plain.eval(), residual.eval()
    with torch.no_grad():
        # Same F(x); the residual block adds x before the ReLU
        f = plain.bn2(plain.conv2(plain.relu(plain.bn1(plain.conv1(x)))))
        assert torch.allclose(plain(x), torch.relu(f), atol=1e-6)
        assert torch.allclose(residual(x), torch.relu(f + x), atol=1e-6)


def test_plain_block_has_no_shortcut_where_the_shape_changes():
    for block in (BasicBlock(16, 32, stride=2, plain=True), Bottleneck(64, 64, stride=2, plain=True)):
        assert block.downsample is None


def test_relu_comes_after_the_addition():
    block = BasicBlock(8, 8).eval()
    out = block(torch.randn(2, 8, 8, 8))
    assert (out >= 0).all()


def test_exercise_1_option_b_costs_8448_parameters_more():
    a = BasicBlock(64, 128, stride=2, shortcut="A")
    b = BasicBlock(64, 128, stride=2, shortcut="B")
    assert count_parameters(b) - count_parameters(a) == 64 * 128 + 2 * 128 == 8_448


def test_one_block_jacobian_is_relu_mask_times_identity_plus_branch():
    # The first chapter: dy/dx = D (I + dF/dx) with D = diag(1[x + F(x) > 0]); its exercise 2
    torch.manual_seed(0)
    block = BasicBlock(2, 2).eval()
    x = torch.relu(torch.randn(1, 2, 4, 4))  # a block's input is a ReLU's output
    with torch.no_grad():
        for bn in (block.bn1, block.bn2):  # non-trivial statistics, so that F is not tiny
            bn.running_var.uniform_(0.5, 1.5)
            bn.running_mean.uniform_(-0.2, 0.2)

    def branch(x):
        return block.bn2(block.conv2(block.relu(block.bn1(block.conv1(x)))))
    n = x.numel()
    jacobian = torch.autograd.functional.jacobian(block, x).reshape(n, n)
    branch_jacobian = torch.autograd.functional.jacobian(branch, x).reshape(n, n)
    with torch.no_grad():
        mask = ((x + branch(x)) > 0).flatten().float()
    assert 0 < mask.sum() < n  # the ReLU after the addition cuts some positions and not others
    assert torch.allclose(jacobian, torch.diag(mask) @ (torch.eye(n) + branch_jacobian), atol=1e-5)


# What `downsample` is: each point of the chapter's answer, against the installed torchvision

def test_downsample_is_not_a_pytorch_layer():
    assert not any("downsample" in name.lower() for name in dir(nn))


@pytest.mark.parametrize("name", ["resnet18", "resnet34", "resnet50"])
def test_downsample_is_built_where_torchvision_builds_it(name):
    # torchvision's `_make_layer`: `stride != 1 or self.inplanes != planes * block.expansion`
    theirs, ours = getattr(torchvision.models, name)(), getattr(r, name)()
    for stage in ("layer1", "layer2", "layer3", "layer4"):
        for tv_block, block in zip(getattr(theirs, stage), getattr(ours, stage)):
            in_channels = tv_block.conv1.in_channels
            out_channels = (tv_block.conv3 if hasattr(tv_block, "conv3") else tv_block.conv2).out_channels
            changes_shape = tv_block.stride != 1 or in_channels != out_channels
            assert (tv_block.downsample is not None) == changes_shape
            assert (block.downsample is not None) == changes_shape
            if changes_shape:  # same layers, same names: `downsample.0` conv, `downsample.1` batch norm
                assert str(block.downsample).replace("ProjectionShortcut", "Sequential") == str(tv_block.downsample)


def test_torchvision_adds_x_itself_where_downsample_is_none():
    torch.manual_seed(0)
    tv_block = torchvision.models.resnet18().layer1[0].eval()
    assert tv_block.downsample is None
    x = torch.randn(2, 64, 8, 8)
    with torch.no_grad():
        f = tv_block.bn2(tv_block.conv2(tv_block.relu(tv_block.bn1(tv_block.conv1(x)))))
        assert torch.allclose(tv_block(x), torch.relu(f + x), atol=1e-6)


def test_downsample_is_not_pooling():
    pooling = (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)
    for model in (torchvision.models.resnet50(), r.resnet50(), r.resnet20()):
        for name, module in model.named_modules():
            if name.endswith("downsample"):
                assert not any(isinstance(m, pooling) for m in module.modules())


def test_resnet50_layer1_downsample_only_widens():
    for model in (torchvision.models.resnet50(), r.resnet50()):
        conv, bn = model.layer1[0].downsample
        assert (conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride) == (64, 256, (1, 1), (1, 1))
        x = torch.randn(1, 64, 56, 56)
        assert model.layer1[0].downsample(x).shape == (1, 256, 56, 56)  # no pixel dropped
    # The comment the chapter quotes for where the name comes from
    source = inspect.getsource(torchvision.models.resnet.BasicBlock.__init__)
    assert "Both self.conv1 and self.downsample layers downsample the input when stride != 1" in source


def test_downsample_is_called_through_module_call_and_hooks_run():
    block = r.resnet18().layer2[0]
    seen = []
    block.downsample.register_forward_hook(lambda m, i, o: seen.append(o.shape))
    x = torch.randn(1, 64, 8, 8)
    # `block.downsample(x)` is `nn.Module.__call__`: conv then batch norm, with the hook
    assert torch.equal(block.downsample(x), block.downsample[1](block.downsample[0](x)))
    assert len(seen) == 1
    block.downsample.forward(x)  # `.forward` skips the hooks
    assert len(seen) == 1


def test_conv1x1_alone_does_not_load_torchvisions_downsample():
    from labml_resnet.blocks import conv1x1
    model = r.resnet18()
    model.layer2[0].downsample = conv1x1(64, 128, 2)
    result = model.load_state_dict(torchvision.models.resnet18().state_dict(), strict=False)
    assert result.missing_keys == ["layer2.0.downsample.weight"]
    assert {k for k in result.unexpected_keys if k.startswith("layer2.0.")} == {
        "layer2.0.downsample.0.weight", "layer2.0.downsample.1.weight", "layer2.0.downsample.1.bias",
        "layer2.0.downsample.1.running_mean", "layer2.0.downsample.1.running_var",
        "layer2.0.downsample.1.num_batches_tracked"}


def test_labml_bottleneck_strides_on_the_3x3():
    from labml_nn.resnet import BottleneckResidualBlock
    block = BottleneckResidualBlock(64, 64, 256, stride=2)
    assert (block.conv1.stride, block.conv2.stride, block.conv2.kernel_size) == ((1, 1), (2, 2), (3, 3))


@pytest.mark.parametrize("groups", [1, 2, 32])
def test_groups_divide_the_weights_and_keep_the_output(groups):
    # The note on `nn.Conv2d`: weight `[C_out, C_in / groups, k, k]`; group j reads only its inputs
    conv = nn.Conv2d(64, 64, 3, padding=1, groups=groups, bias=False)
    assert conv.weight.shape == (64, 64 // groups, 3, 3)
    x = torch.randn(1, 64, 8, 8)
    y = conv(x)
    x2 = x.clone()
    x2[:, 64 // groups:] += 1  # change every input channel outside the first group
    if groups > 1:
        assert torch.equal(conv(x2)[:, :64 // groups], y[:, :64 // groups])


def test_dilation_same_weights_wider_window():
    torch.manual_seed(0)
    dilated = nn.Conv2d(1, 1, 3, dilation=2, bias=False)
    wide = nn.Conv2d(1, 1, 5, bias=False)
    with torch.no_grad():  # a 5×5 kernel that is zero between the taps of the dilated 3×3
        wide.weight.zero_()
        wide.weight[:, :, ::2, ::2] = dilated.weight
    x = torch.randn(1, 1, 9, 9)
    assert dilated.weight.numel() == 9
    torch.testing.assert_close(dilated(x), wide(x))
    assert "replace_stride_with_dilation" in inspect.signature(torchvision.models.ResNet).parameters


def test_linear_is_x_a_transpose_plus_b():
    fc = r.resnet18().fc
    assert fc.weight.shape == (1000, 512)
    x = torch.randn(3, 512)
    torch.testing.assert_close(fc(x), x @ fc.weight.T + fc.bias)
    assert "y = xA^T + b" in nn.Linear.__doc__
    # A 1×1 convolution on a 1×1 map
    conv = nn.Conv2d(512, 1000, 1)
    with torch.no_grad():
        conv.weight.copy_(fc.weight[:, :, None, None])
        conv.bias.copy_(fc.bias)
        torch.testing.assert_close(conv(x[:, :, None, None]).flatten(1), fc(x))


def test_default_groups_and_width_keep_the_papers_bottleneck():
    block = Bottleneck(256, 64)
    assert [m.out_channels for m in (block.conv1, block.conv2, block.conv3)] == [64, 64, 256]
    assert block.conv2.groups == 1
