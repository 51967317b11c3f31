r"""
---
title: Pre-activation ResNets
description: "Identity Mappings in Deep Residual Networks": why a clean identity path matters, the propagation equations, and the pre-activation blocks in PyTorch.
---

# Pre-activation ResNets

The follow-up paper, [Identity Mappings in Deep Residual Networks](https://arxiv.org/abs/1603.05027)
(He et al. 2016), asks what makes residual networks train so well, and answers: the
*identity* in the shortcut. It writes a block as

$$y_l = h(x_l) + \mathcal{F}(x_l, \mathcal{W}_l), \qquad x_{l+1} = f(y_l)$$

In the original ResNet $h$ is the identity but $f$ is a ReLU, applied after the addition.
If both are identities, then $x_{l+1} = x_l + \mathcal{F}(x_l, \mathcal{W}_l)$, and unrolling
it from any shallower block $l$ to any deeper block $L$ gives (its eq. 4)

$$x_L = x_l + \sum_{i=l}^{L-1} \mathcal{F}(x_i, \mathcal{W}_i)$$

The feature of any deep block is the feature of any shallow block plus a sum of residuals.
Back-propagating a loss $\mathcal{E}$ through it gives (its eq. 5)

$$\frac{\partial \mathcal{E}}{\partial x_l}
  = \frac{\partial \mathcal{E}}{\partial x_L}
    \left(1 + \frac{\partial}{\partial x_l} \sum_{i=l}^{L-1} \mathcal{F}(x_i, \mathcal{W}_i)\right)$$

The $1$ carries the gradient of the deepest layer to every shallower one directly, through no
weight layer at all; the sum would have to be exactly $-1$ for a whole mini-batch to cancel it.

**Why the shortcut must be the identity.** Scale each shortcut by $\lambda_i$ instead and
the first term becomes $\prod_{i=l}^{L-1} \lambda_i \, x_l$, and its gradient
$\prod_{i=l}^{L-1} \lambda_i$: for a hundred blocks with $\lambda < 1$ it vanishes, with
$\lambda > 1$ it explodes. Gates, $1 \times 1$ convolutions and dropout on the shortcut all
trained worse in the paper's experiments, for this reason.

**Pre-activation.** To make $f$ an identity too, move the batch norm and ReLU *before* each
weight layer ("pre-activation"), so that nothing follows the addition:

$$x_{l+1} = x_l + W_2\, \sigma(\mathrm{BN}(W_1\, \sigma(\mathrm{BN}(x_l))))$$

<!-- figure: pre-activation -->

In the paper's Table 3 this takes the CIFAR-10 test error of ResNet-164 from 5.93% to 5.46%,
and of a 1001-layer network, which the original design trains poorly, from 7.61% to 4.92%.

Two things change in the network: the stem is a lone convolution (the first block normalizes
its input), and since the last block ends with a convolution, one last batch norm and ReLU
come before the pooling.
"""

from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from labml_resnet.resnet import CIFAR_WIDTHS, ResNet, cifar_resnet, plain_cifar
from labml_resnet.shortcuts import ZeroPadShortcut, conv1x1, conv3x3


def preact_shortcut(option: str, in_channels: int, out_channels: int, stride: int) -> nn.Module:
    r"""
    ## Shortcuts for pre-activation blocks

    Identity where the shape stays. Where it changes, option `"A"` zero-pads as before, and
    option `"B"` is a lone $1 \times 1$ convolution: its input is already batch-normalized and
    activated (see `forward` below), so no batch norm follows it.
    """
    if stride == 1 and in_channels == out_channels:
        return nn.Identity()
    if option == "A":
        return ZeroPadShortcut(in_channels, out_channels, stride)
    if option == "B":
        return conv1x1(in_channels, out_channels, stride)
    raise ValueError(f"pre-activation shortcut must be 'A' or 'B', not {option!r}")


class PreActBasicBlock(nn.Module):
    r"""
    ## The pre-activation basic block

    $\mathcal{F}(x) = W_2\, \sigma(\mathrm{BN}(W_1\, \sigma(\mathrm{BN}(x))))$ and
    $y = \mathcal{F}(x) + x$: no ReLU after the addition.
    """

    expansion = 1

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, shortcut: str = "A"):
        r"""
        * `in_channels`, `out_channels`, `stride` as in the post-activation `BasicBlock`
        * `shortcut` is `"A"` (zero-padding) or `"B"` (projection) where the shape changes
        """
        super().__init__()
        # The batch norms now normalize the *inputs* of the convolutions
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv1 = conv3x3(in_channels, out_channels, stride)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.conv2 = conv3x3(out_channels, out_channels)
        self.downsample = preact_shortcut(shortcut, in_channels, out_channels, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r"""
        `x` is `[B, in_channels, H, W]`; the output is `[B, out_channels, H / stride, W / stride]`.
        """
        # Pre-activation: $\sigma(\mathrm{BN}(x))$
        out = F.relu(self.bn1(x))
        # A projection sees the pre-activated input, as the convolution does; the identity and
        # zero-padding shortcuts carry $x$ itself, so the identity path stays clean
        shortcut = self.downsample(out) if isinstance(self.downsample, nn.Conv2d) else self.downsample(x)
        out = self.conv1(out)
        # $W_2\, \sigma(\mathrm{BN}(\cdot))$
        out = self.conv2(F.relu(self.bn2(out)))
        # $x_{l+1} = \text{shortcut}(x_l) + \mathcal{F}(x_l)$, with nothing after it
        return out + shortcut


class PreActBottleneck(nn.Module):
    r"""
    ## The pre-activation bottleneck

    BN-ReLU-$1 \times 1$, BN-ReLU-$3 \times 3$, BN-ReLU-$1 \times 1$, then the addition. The
    stride is on the $3 \times 3$, so that no pixel is skipped before a convolution has seen it.
    """

    expansion = 4

    def __init__(self, in_channels: int, bottleneck_channels: int, stride: int = 1, shortcut: str = "B"):
        r"""
        * `in_channels`, `bottleneck_channels`, `stride` as in the post-activation `Bottleneck`
        * `shortcut` is `"A"` or `"B"` where the shape changes
        """
        super().__init__()
        out_channels = bottleneck_channels * self.expansion
        self.bn1 = nn.BatchNorm2d(in_channels)
        # 1×1: reduce
        self.conv1 = conv1x1(in_channels, bottleneck_channels)
        self.bn2 = nn.BatchNorm2d(bottleneck_channels)
        # 3×3 with the stride
        self.conv2 = conv3x3(bottleneck_channels, bottleneck_channels, stride)
        self.bn3 = nn.BatchNorm2d(bottleneck_channels)
        # 1×1: expand
        self.conv3 = conv1x1(bottleneck_channels, out_channels)
        self.downsample = preact_shortcut(shortcut, in_channels, out_channels, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r"""
        `x` is `[B, in_channels, H, W]`; the output is `[B, 4 * bottleneck_channels, H / stride, W / stride]`.
        """
        out = F.relu(self.bn1(x))
        # As in the basic block: a projection takes the pre-activated input
        shortcut = self.downsample(out) if isinstance(self.downsample, nn.Conv2d) else self.downsample(x)
        out = self.conv1(out)
        out = self.conv2(F.relu(self.bn2(out)))
        out = self.conv3(F.relu(self.bn3(out)))
        return out + shortcut


# The pre-activation stem: one 3×3 convolution, no batch norm or ReLU after it, because the
# first block normalizes and activates its input itself.
def preact_stem(in_channels: int = 3, out_channels: int = 16) -> dict[str, nn.Module]:
    return {"conv1": conv3x3(in_channels, out_channels)}


class PreActResNet(ResNet):
    r"""
    ## The pre-activation network

    The stages of `ResNet` with pre-activation blocks; the stem is a lone convolution, and
    `bn_final` with a ReLU activates the output of the last block before the pooling.
    """

    def __init__(self, block, n_blocks, widths=CIFAR_WIDTHS, num_classes: int = 10, shortcut: str = "A"):
        r"""
        * `block` is `PreActBasicBlock` or `PreActBottleneck`
        * `n_blocks`, `widths`, `num_classes`, `shortcut` as in `ResNet`
        """
        super().__init__(block, n_blocks, widths, preact_stem, num_classes, shortcut)
        # The last block's output has not been normalized or activated yet
        self.bn_final = nn.BatchNorm2d(widths[-1] * block.expansion)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r"""
        `x` is `[B, 3, 32, 32]`; the output is the logits `[B, num_classes]`.
        """
        # The stem
        x = self.conv1(x)
        for stage in self.stages():
            x = stage(x)
        # The activation that the last block did not apply
        x = F.relu(self.bn_final(x))
        return self.fc(torch.flatten(self.avgpool(x), 1))


#
# ## The pre-activation builders
#
# With basic blocks, depth $6n + 2$ (ResNet-110 is $n = 18$); with bottlenecks, $9n + 2$
# (ResNet-164 is $n = 18$, ResNet-1001 is $n = 111$). The basic-block networks default to
# option A, like the original ResNet-110, so the two differ only in the order of the layers.
# The bottleneck networks default to option B: their first block widens 16 channels to 64,
# and zero-padding would leave three quarters of them without any information from $x$.
def preact_cifar_resnet(depth: int, num_classes: int = 10, shortcut: str = "A") -> PreActResNet:
    if (depth - 2) % 6 != 0:
        raise ValueError(f"a pre-activation basic-block ResNet has 6n + 2 layers, not {depth}")
    n = (depth - 2) // 6
    return PreActResNet(PreActBasicBlock, [n, n, n], CIFAR_WIDTHS, num_classes, shortcut)


def preact_cifar_bottleneck_resnet(depth: int, num_classes: int = 10, shortcut: str = "B") -> PreActResNet:
    if (depth - 2) % 9 != 0:
        raise ValueError(f"a pre-activation bottleneck ResNet has 9n + 2 layers, not {depth}")
    n = (depth - 2) // 9
    return PreActResNet(PreActBottleneck, [n, n, n], CIFAR_WIDTHS, num_classes, shortcut)


preact_resnet20 = partial(preact_cifar_resnet, 20)
preact_resnet56 = partial(preact_cifar_resnet, 56)
preact_resnet110 = partial(preact_cifar_resnet, 110)
preact_resnet164 = partial(preact_cifar_bottleneck_resnet, 164)
preact_resnet1001 = partial(preact_cifar_bottleneck_resnet, 1001)


#
# ## Measuring the gradient that reaches the first layer
#
# The equations above are about the gradient, so we measure it: one forward and backward pass
# at initialization (training mode, as in the first step of training) on a random batch, and
# the norm of the gradient of the loss with respect to the stem's weights, `conv1.weight`,
# the layer farthest from the loss, beside the gradient norm of the classifier `fc.weight`,
# the nearest.
def gradient_norms(model: nn.Module, batch_size: int = 8, seed: int = 0) -> tuple[float, float]:
    r"""
    Returns `(first, last)`: the gradient norms of `conv1.weight` and `fc.weight` after one
    backward pass of the cross-entropy loss on a random `[batch_size, 3, 32, 32]` batch.
    """
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(batch_size, 3, 32, 32, generator=generator)
    labels = torch.randint(0, model.fc.out_features, (batch_size,), generator=generator)
    model.train()
    model.zero_grad()
    F.cross_entropy(model(x), labels).backward()
    return model.conv1.weight.grad.norm().item(), model.fc.weight.grad.norm().item()


def gradient_flow_markdown(depth: int = 110, seed: int = 0) -> str:
    r"""
    A Markdown table of `gradient_norms` for the plain, original and pre-activation networks
    of `depth` layers, each initialized with the same seed. The site builds it, so the numbers
    on the page are the ones this code computes.
    """
    networks = {
        f"plain-{depth}": partial(plain_cifar, depth),
        f"ResNet-{depth}": partial(cifar_resnet, depth),
        f"pre-activation ResNet-{depth}": partial(preact_cifar_resnet, depth),
    }
    rows = ["| network | ‖∂E/∂W‖ first layer (`conv1`) | ‖∂E/∂W‖ last layer (`fc`) | first / last |",
            "|---|---:|---:|---:|"]
    for name, build in networks.items():
        torch.manual_seed(seed)
        first, last = gradient_norms(build(), seed=seed)
        rows.append(f"| {name} | {first:.3g} | {last:.3g} | {first / last:.3g} |")
    return "\n".join(rows)


# Here is that table, computed when this page was built (seed 0, a batch of 8 random images):
#
# <!-- md: labml_resnet.preact.gradient_flow_markdown(110) -->
#
# The gradient of the plain network does not *vanish*: as the ResNet paper says of its plain
# networks, batch normalization prevents that. It *explodes*: its first layer receives a
# gradient orders of magnitude larger than its classifier does, so no single learning rate
# suits both ends of the network. The residual networks keep the two ends within a small
# factor of each other, as the $1$ in eq. (5) promises. `tests/test_preact.py` asserts this.

#
# ## Exercises
#
# 1. Change `PreActBasicBlock.forward` to return `F.relu(out + shortcut)` and rerun
#    `gradient_flow_markdown()`. What happens to the first-layer gradient? *Hint:* that ReLU
#    is $f$ in $x_{l+1} = f(y_l)$.
# 2. Scale the shortcut: return `out + 0.5 * shortcut`. Predict the first-layer gradient of a
#    110-layer network from $\prod \lambda_i$ before you measure it. *Hint:* 54 blocks.
# 3. `preact_resnet110()` and `resnet110()` have exactly the same number of parameters, although
#    their batch norms sit in different places. Account for every batch norm. *Hint:* the stem,
#    the first block of each stage, and `bn_final`.
