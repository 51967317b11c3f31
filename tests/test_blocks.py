"""Claims of the blocks chapter."""
import pytest
import torch

from labml_resnet.blocks import BasicBlock, Bottleneck
from labml_resnet.shapes import count_parameters


@pytest.mark.parametrize("shortcut", ["A", "B", "C", None])
def test_basic_block_shapes(shortcut):
    block = BasicBlock(16, 32, stride=2, shortcut=shortcut)
    assert block(torch.randn(2, 16, 32, 32)).shape == (2, 32, 16, 16)


@pytest.mark.parametrize("stride_on", ["1x1", "3x3"])
def test_bottleneck_shapes_and_stride_placement(stride_on):
    block = Bottleneck(64, 64, stride=2, stride_on=stride_on)
    seen = {}
    block.conv2.register_forward_hook(lambda m, i, o: seen.update(conv2_in=i[0].shape[-1]))
    assert block(torch.randn(1, 64, 56, 56)).shape == (1, 256, 28, 28)
    # The paper's placement halves the map before the 3×3, torchvision's inside it
    assert seen["conv2_in"] == (28 if stride_on == "1x1" else 56)


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


def test_plain_block_is_the_same_layers_without_shortcut():
    plain, residual = BasicBlock(16, 16, shortcut=None), BasicBlock(16, 16, shortcut="A")
    assert count_parameters(plain) == count_parameters(residual)
    residual.load_state_dict(plain.state_dict())
    x = torch.randn(2, 16, 8, 8)
    plain.eval(), residual.eval()
    with torch.no_grad():
        # Same F(x); the residual block adds x before the ReLU
        f = plain.bn2(plain.conv2(plain.relu(plain.bn1(plain.conv1(x)))))
        assert torch.allclose(plain(x), torch.relu(f), atol=1e-6)
        assert torch.allclose(residual(x), torch.relu(f + x), atol=1e-6)


def test_relu_comes_after_the_addition():
    block = BasicBlock(8, 8).eval()
    out = block(torch.randn(2, 8, 8, 8))
    assert (out >= 0).all()
