"""Claims of the pre-activation chapter."""
import pytest
import torch

import torch.nn.functional as F

import labml_resnet as r
from labml_resnet.preact import (PreActBasicBlock, PreActBottleneck, PreActResNet, gradient_flow, gradient_norms,
                                 preact_shortcut, shortcut_of)
from labml_resnet.shapes import count_parameters, on_meta, stage_sizes
from labml_resnet.shortcuts import ZeroPadShortcut


def test_nothing_follows_the_addition():
    # x_{l+1} = x_l + F(x_l): outputs can be negative, and with F = 0 the block is the identity
    block = PreActBasicBlock(16, 16)
    torch.nn.init.zeros_(block.conv2.weight)
    x = torch.randn(2, 16, 8, 8)
    assert torch.equal(block(x), x)


def test_unrolled_propagation_equation():
    # x_L = x_l + sum_i F(x_i): the sum of the residuals of every block in between
    torch.manual_seed(0)
    stage = r.preact_resnet20().layer1.eval()
    x = torch.randn(2, 16, 8, 8)
    residuals, xi = [], x
    with torch.no_grad():
        for block in stage:
            out = block(xi)
            residuals.append(out - xi)
            xi = out
        assert torch.allclose(stage(x), x + sum(residuals), atol=1e-5)


def test_projection_takes_the_preactivated_input():
    block = PreActBottleneck(16, 16, stride=1, shortcut="B").eval()
    seen = {}
    block.downsample.register_forward_hook(lambda m, i, o: seen.update(inp=i[0]))
    x = torch.randn(2, 16, 8, 8)
    block(x)
    assert torch.allclose(seen["inp"], torch.relu(block.bn1(x)))


def test_parameter_counts():
    # The paper quotes 1.7M for both ResNet-110 and ResNet-164
    assert round(count_parameters(on_meta(r.preact_resnet110)) / 1e6, 1) == 1.7
    assert round(count_parameters(on_meta(r.preact_resnet164)) / 1e6, 1) == 1.7
    # The chapter's exercise: same count as the original ResNet-110
    assert count_parameters(on_meta(r.preact_resnet110)) == count_parameters(on_meta(r.resnet110))


def test_depth_checks():
    with pytest.raises(ValueError):
        r.preact.preact_cifar_bottleneck_resnet(111)
    with pytest.raises(ValueError):
        r.preact.preact_cifar_resnet(165)
    with pytest.raises(ValueError):
        r.preact.preact_shortcut("C", 16, 32, 2)


def test_identity_shortcut_is_none():
    assert preact_shortcut("A", 16, 16, 1) is None and preact_shortcut("B", 64, 64, 1) is None
    assert isinstance(preact_shortcut("A", 16, 32, 2), ZeroPadShortcut)
    assert isinstance(preact_shortcut("B", 16, 64, 1), torch.nn.Conv2d)
    assert r.preact_resnet20().layer1[0].downsample is None


def test_plain_preactivation_block_drops_the_addition():
    block = PreActBasicBlock(16, 16, plain=True)
    torch.nn.init.zeros_(block.conv2.weight)
    assert block.downsample is None
    assert torch.count_nonzero(block(torch.randn(2, 16, 8, 8))) == 0


@pytest.mark.parametrize("stride_on", ["1x1", "3x3"])
def test_bottleneck_stride_placement(stride_on):
    # The authors' resnet-pre-act.lua strides the first 1×1 (the default); "3x3" is the other option
    block = PreActBottleneck(64, 32, stride=2, stride_on=stride_on)
    assert block.conv1.stride == ((2, 2) if stride_on == "1x1" else (1, 1))
    assert block.conv2.stride == ((1, 1) if stride_on == "1x1" else (2, 2))
    assert block.downsample.stride == (2, 2)  # the projection shortcut subsamples either way
    assert block(torch.randn(2, 64, 16, 16)).shape == (2, 128, 8, 8)
    model = on_meta(lambda: r.preact.preact_cifar_bottleneck_resnet(164, stride_on=stride_on))
    assert stage_sizes(model, 32) == {"conv1": 32, "layer1": 32, "layer2": 16, "layer3": 8}


def test_bottleneck_default_is_the_authors_placement_with_the_same_parameters():
    assert PreActBottleneck(64, 32, stride=2).conv1.stride == (2, 2)
    assert r.preact_resnet164().layer2[0].conv1.stride == (2, 2)
    paper, v15 = (on_meta(lambda s=s: r.preact.preact_cifar_bottleneck_resnet(164, stride_on=s)) for s in ("1x1", "3x3"))
    assert [p.shape for p in paper.parameters()] == [p.shape for p in v15.parameters()]
    with pytest.raises(ValueError):
        PreActBottleneck(64, 32, stride_on="5x5")


def test_exercise_3_batch_norm_channels_add_up():
    def bn_channels(model):
        return sum(m.num_features for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d))
    original, preact = on_meta(r.resnet110), on_meta(r.preact_resnet110)
    assert bn_channels(original) == bn_channels(preact)
    assert original.bn1.num_features == 16 and not hasattr(preact, "bn1")  # the stem's batch norm is gone
    assert (preact.layer2[0].bn1.num_features, preact.layer3[0].bn1.num_features) == (16, 32)
    assert (original.layer2[0].bn1.num_features, original.layer3[0].bn1.num_features) == (32, 64)
    assert preact.bn_final.num_features == 64


class ReluAfterAddition(PreActBasicBlock):
    """Exercise 1: f = ReLU again, after the addition."""

    def forward(self, x):
        out = F.relu(self.bn1(x))
        shortcut = shortcut_of(self, x, out)
        out = self.conv2(F.relu(self.bn2(self.conv1(out))))
        return F.relu(out + shortcut)


class HalfShortcut(PreActBasicBlock):
    """Exercise 2: the shortcut scaled by 0.5."""

    def forward(self, x):
        out = F.relu(self.bn1(x))
        shortcut = shortcut_of(self, x, out)
        out = self.conv2(F.relu(self.bn2(self.conv1(out))))
        return out + 0.5 * shortcut


def ratio(model, seed=0):
    torch.manual_seed(seed)
    first, last = gradient_norms(model(), seed=seed)
    return first / last


@pytest.mark.slow
def test_gradient_flow_at_init():
    # The claims beside the generated table (this chapter and the first one), at initialization:
    # the plain network's first-layer gradient does not vanish at any depth, and grows with depth
    # relative to the classifier's; the residual networks keep both ends within a factor of ten.
    norms = gradient_flow((20, 56, 110))
    ratios = {name: first / last for name, (first, last) in norms.items()}
    print({name: f"{value:.3g}" for name, value in ratios.items()})
    plain = [ratios[f"plain-{d}"] for d in (20, 56, 110)]
    assert 1 < plain[0] < 10  # "a few times"
    assert plain[0] < plain[1] < plain[2]
    assert plain[1] > 1e3 and plain[2] > 1e7  # "thousands", "over ten million"
    for kind in ("ResNet", "pre-activation ResNet"):
        for depth in (20, 56, 110):
            assert 0.1 < ratios[f"{kind}-{depth}"] < 10
    # The table is the one the writer prints
    table = r.preact.gradient_flow_markdown((20,))
    assert "| plain-20 |" in table and "| pre-activation ResNet-20 |" in table


@pytest.mark.slow
def test_exercise_1_relu_after_the_addition():
    depths = (20, 56, 110)
    original = [ratio(lambda d=d: PreActResNet(PreActBasicBlock, [(d - 2) // 6] * 3)) for d in depths]
    with_f = [ratio(lambda d=d: PreActResNet(ReluAfterAddition, [(d - 2) // 6] * 3)) for d in depths]
    print(original, with_f)
    assert all(a > b for a, b in zip(with_f, original))  # larger at every depth
    assert with_f[0] < with_f[1] < with_f[2]  # grows with depth
    assert with_f[2] / with_f[0] > original[2] / original[0]  # faster than before
    # far below the plain network's at 56 and 110 layers (at 20 it is about half of it)
    assert with_f[1] * 100 < ratio(r.plain56) and with_f[2] * 1e3 < ratio(r.plain110)


@pytest.mark.slow
def test_exercise_2_half_shortcut():
    assert f"{0.5 ** 54:.1e}" == "5.6e-17"
    unscaled = ratio(lambda: PreActResNet(PreActBasicBlock, [18] * 3))
    halved = ratio(lambda: PreActResNet(HalfShortcut, [18] * 3))
    print(unscaled, halved)
    assert halved > 1e3 * unscaled


def test_the_first_unit_activates_the_stem_output_on_both_paths():
    """The paper's appendix: "For the first Residual Unit (that follows a stand-alone
    convolutional layer, conv1), we adopt the first activation right after conv1 and before
    splitting into two paths". With F = 0 the first unit returns relu(BN(conv1 output)); every
    later identity unit returns its input untouched."""
    torch.manual_seed(0)
    net = r.preact_resnet20().eval()
    first, second = net.layer1[0], net.layer1[1]
    assert first.first_unit and not second.first_unit
    for block in (first, second):
        torch.nn.init.zeros_(block.conv2.weight)  # F = 0
    x = torch.randn(2, 16, 8, 8)
    assert torch.equal(first(x), torch.relu(first.bn1(x)))
    assert torch.equal(second(x), x)
    # The bottleneck nets' first unit projects the activated input, as the authors' code does
    bottleneck = r.preact_resnet164().eval()
    assert bottleneck.layer1[0].first_unit and bottleneck.layer1[0].downsample is not None
