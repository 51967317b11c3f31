"""Claims of the pre-activation chapter."""
import pytest
import torch

import labml_resnet as r
from labml_resnet.preact import PreActBasicBlock, PreActBottleneck, gradient_norms
from labml_resnet.shapes import count_parameters, on_meta


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


@pytest.mark.slow
def test_gradient_flow_at_init():
    # The claim of the chapter's generated table: at initialization the plain network's first-layer
    # gradient explodes (it does not vanish: batch norm prevents that), orders of magnitude above
    # the residual network's, which keeps both ends of the network within a small factor.
    torch.manual_seed(0)
    plain_first, plain_last = gradient_norms(r.plain110())
    torch.manual_seed(0)
    res_first, res_last = gradient_norms(r.resnet110())
    print(f"plain110 first {plain_first:.3g} last {plain_last:.3g}; resnet110 first {res_first:.3g} last {res_last:.3g}")
    assert plain_first / res_first > 1e3
    assert plain_first / plain_last > 1e3
    assert 0.1 < res_first / res_last < 10
