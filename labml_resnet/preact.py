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

Both equations assume that $f$ is the identity. In the original ResNet it is a ReLU, and the
paper says so (its Sec. 4): eq. (5) is "derived under the assumption that the after-addition
activation $f$ is the identity mapping. But in the above experiments $f$ is ReLU as designed in
[1], so Eqn.(5) and (8) are approximate". Through a ReLU after the addition the shortcut's gradient
passes only where the sum $y_l$ is positive, and "when there are many Residual Units, this
effect becomes prominent and Eqn.(3) (so Eqn.(5)) is not a good approximation" (its Sec. 4.2).

**Why the shortcut must be the identity.** Scale each shortcut by $\lambda_i$ instead and
the first term becomes $\prod_{i=l}^{L-1} \lambda_i \, x_l$, and its gradient
$\prod_{i=l}^{L-1} \lambda_i$: for a hundred blocks with $\lambda < 1$ it vanishes, and the
gradient is left with the path through the weight layers only; with $\lambda > 1$ it explodes.
Gates, $1 \times 1$ convolutions and dropout on the shortcut all trained worse in the paper's
experiments (its Table 1), which it attributes to this: "multiplicative manipulations
(scaling, gating, 1×1 convolutions, and dropout) on the shortcuts can hamper information
propagation" (its Sec. 3.2).

**Pre-activation.** To make $f$ an identity too, move the batch norm and ReLU *before* each
weight layer ("pre-activation"), so that nothing follows the addition:

$$x_{l+1} = x_l + W_2\, \sigma(\mathrm{BN}(W_1\, \sigma(\mathrm{BN}(x_l))))$$

<!-- figure: pre-activation -->

In the paper's Table 3 this takes the CIFAR-10 test error of ResNet-164 from 5.93% to 5.46%,
and of a 1001-layer network, which the original design trains poorly, from 7.61% to 4.92%.

Two things change in the network: the stem is a lone convolution, whose output the first
block normalizes and activates on both of its paths ("we adopt the first activation right
after conv1 and before splitting into two paths", the paper's appendix), and since the last
block ends with a convolution, one last batch norm and ReLU come before the pooling.
"""

from functools import partial
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from labml_resnet._site import markdown_writer
from labml_resnet.blocks import conv1x1, conv3x3
from labml_resnet.resnet import CIFAR_WIDTHS, ResNet, cifar_resnet, plain_cifar
from labml_resnet.shortcuts import ZeroPadShortcut, check_shortcut_option


def preact_shortcut(option: str, in_channels: int, out_channels: int, stride: int) -> Optional[nn.Module]:
    r"""
    ## Shortcuts for pre-activation blocks

    `None` (the identity) where the shape stays, as for the original blocks. Where it changes,
    option `"A"` zero-pads as before, and option `"B"` is a lone $1 \times 1$ convolution: its
    input is already batch-normalized and activated (see `forward` below), so no batch norm
    follows it.
    """
    check_shortcut_option(option, ("A", "B"))
    if stride == 1 and in_channels == out_channels:
        return None
    if option == "A":
        return ZeroPadShortcut(in_channels, out_channels, stride)
    return conv1x1(in_channels, out_channels, stride)


def shortcut_of(block: nn.Module, x: torch.Tensor, preactivated: torch.Tensor) -> torch.Tensor:
    r"""
    The shortcut term of a pre-activation block: $x$ itself where `downsample` is `None`,
    zero-padded $x$ (option A), or the projection of the *pre-activated* input (option B), as
    in the authors' code (its projection follows the unit's "common BN, ReLU"). So the identity
    and the zero-padding carry $x$ untouched, and the identity path stays clean.

    One exception, the network's first unit (`block.first_unit`): it follows the lone stem
    convolution, and the paper's appendix says "we adopt the first activation right after conv1
    and before splitting into two paths", so there both paths carry the pre-activated input.
    """
    if block.first_unit:
        x = preactivated
    if block.downsample is None:
        return x
    if isinstance(block.downsample, ZeroPadShortcut):
        return block.downsample(x)
    return block.downsample(preactivated)


class PreActBasicBlock(nn.Module):
    r"""
    ## The pre-activation basic block

    $\mathcal{F}(x) = W_2\, \sigma(\mathrm{BN}(W_1\, \sigma(\mathrm{BN}(x))))$ and
    $y = \mathcal{F}(x) + x$: no ReLU after the addition.
    """

    expansion = 1

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, shortcut: str = "A",
                 plain: bool = False):
        r"""
        * `in_channels`, `out_channels`, `stride` as in the post-activation `BasicBlock`
        * `shortcut` is `"A"` (zero-padding) or `"B"` (projection) where the shape changes
        * `plain` drops the shortcut, as in the post-activation blocks
        """
        super().__init__()
        # The batch norms now normalize the *inputs* of the convolutions
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv1 = conv3x3(in_channels, out_channels, stride)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.conv2 = conv3x3(out_channels, out_channels)
        self.plain = plain
        self.downsample = None if plain else preact_shortcut(shortcut, in_channels, out_channels, stride)
        # Set by the network for its first unit (see `shortcut_of`)
        self.first_unit = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r"""
        `x` is `[B, in_channels, H, W]`; the output is
        `[B, out_channels, ceil(H / stride), ceil(W / stride)]`.
        """
        # Pre-activation: $\sigma(\mathrm{BN}(x))$
        out = F.relu(self.bn1(x))
        # $x$, or $x$ made to fit (a projection sees the pre-activated input, as `conv1` does)
        shortcut = shortcut_of(self, x, out)
        out = self.conv1(out)
        # $W_2\, \sigma(\mathrm{BN}(\cdot))$
        out = self.conv2(F.relu(self.bn2(out)))
        # $x_{l+1} = \text{shortcut}(x_l) + \mathcal{F}(x_l)$, with nothing after it
        return out if self.plain else out + shortcut


class PreActBottleneck(nn.Module):
    r"""
    ## The pre-activation bottleneck

    BN-ReLU-$1 \times 1$, BN-ReLU-$3 \times 3$, BN-ReLU-$1 \times 1$, then the addition.

    **Where the stride goes.** The authors' released code settles it:
    [`resnet-pre-act.lua`](https://github.com/KaimingHe/resnet-1k-layers/blob/master/resnet-pre-act.lua)
    in KaimingHe/resnet-1k-layers, the repository the paper links to (its header calls it a
    re-implementation, contributed by Xiang Ming), puts the stride on the *first* $1 \times 1$,
    `Convolution(nInputPlane,nBottleneckPlane,1,1,stride,stride,0,0)`, and runs the
    $3 \times 3$ with stride 1: the placement of the original ResNet's bottleneck. That is the
    default here, `stride_on="1x1"`. `stride_on="3x3"` moves the stride to the $3 \times 3$,
    as torchvision's "V1.5" does for the original bottleneck, so that no pixel is dropped before
    a $3 \times 3$ has seen it; the parameters are the same, the multiply-adds are more (the
    network chapter's bottleneck has the same option, and the shapes chapter counts the cost).
    """

    expansion = 4

    def __init__(self, in_channels: int, bottleneck_channels: int, stride: int = 1, shortcut: str = "B",
                 stride_on: str = "1x1", plain: bool = False):
        r"""
        * `in_channels`, `bottleneck_channels`, `stride` as in the post-activation `Bottleneck`
        * `shortcut` is `"A"` or `"B"` where the shape changes
        * `stride_on` is `"1x1"` (the authors' code) or `"3x3"`
        * `plain` drops the shortcut
        """
        super().__init__()
        if stride_on not in ("1x1", "3x3"):
            raise ValueError(f"stride_on must be '1x1' or '3x3', not {stride_on!r}")
        out_channels = bottleneck_channels * self.expansion
        # Only one of the two layers gets the block's stride
        stride_1x1, stride_3x3 = (stride, 1) if stride_on == "1x1" else (1, stride)
        self.bn1 = nn.BatchNorm2d(in_channels)
        # 1×1: reduce
        self.conv1 = conv1x1(in_channels, bottleneck_channels, stride_1x1)
        self.bn2 = nn.BatchNorm2d(bottleneck_channels)
        # 3×3 at the reduced width
        self.conv2 = conv3x3(bottleneck_channels, bottleneck_channels, stride_3x3)
        self.bn3 = nn.BatchNorm2d(bottleneck_channels)
        # 1×1: expand
        self.conv3 = conv1x1(bottleneck_channels, out_channels)
        self.plain = plain
        self.downsample = None if plain else preact_shortcut(shortcut, in_channels, out_channels, stride)
        # Set by the network for its first unit (see `shortcut_of`)
        self.first_unit = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r"""
        `x` is `[B, in_channels, H, W]`; the output is
        `[B, 4 * bottleneck_channels, ceil(H / stride), ceil(W / stride)]`.
        """
        out = F.relu(self.bn1(x))
        # As in the basic block: a projection takes the pre-activated input
        shortcut = shortcut_of(self, x, out)
        out = self.conv1(out)
        out = self.conv2(F.relu(self.bn2(out)))
        out = self.conv3(F.relu(self.bn3(out)))
        return out if self.plain else out + shortcut


# The pre-activation stem: one 3×3 convolution, no batch norm or ReLU of its own: the first
# unit's pre-activation, applied before that unit splits into its two paths, does that job.
def preact_stem(in_channels: int = 3, out_channels: int = 16) -> dict[str, nn.Module]:
    return {"conv1": conv3x3(in_channels, out_channels)}


class PreActResNet(ResNet):
    r"""
    ## The pre-activation network

    The stages of `ResNet` with pre-activation blocks; the stem is a lone convolution, whose
    output the first unit normalizes and activates before it splits into its two paths, and
    `bn_final` with a ReLU activates the output of the last block before the pooling.
    """

    def __init__(self, block, n_blocks, widths=CIFAR_WIDTHS, num_classes: int = 10, shortcut: str = "A",
                 **block_options):
        r"""
        * `block` is `PreActBasicBlock` or `PreActBottleneck`
        * `n_blocks`, `widths`, `num_classes`, `shortcut` as in `ResNet`
        * `block_options` go to the blocks (`stride_on` for bottlenecks)
        """
        super().__init__(block, n_blocks, widths, preact_stem, num_classes, shortcut, **block_options)
        # The first unit activates the stem's output on both of its paths
        self.layer1[0].first_unit = True
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
# The bottleneck networks default to option B, as in the authors' code: their first block
# widens 16 channels to 64, and zero-padding would leave three quarters of them without any
# information from $x$. They also take `stride_on` (default `"1x1"`, the authors' code).
def preact_cifar_resnet(depth: int, num_classes: int = 10, shortcut: str = "A") -> PreActResNet:
    if (depth - 2) % 6 != 0:
        raise ValueError(f"a pre-activation basic-block ResNet has 6n + 2 layers, not {depth}")
    n = (depth - 2) // 6
    return PreActResNet(PreActBasicBlock, [n, n, n], CIFAR_WIDTHS, num_classes, shortcut)


def preact_cifar_bottleneck_resnet(depth: int, num_classes: int = 10, shortcut: str = "B",
                                   stride_on: str = "1x1") -> PreActResNet:
    if (depth - 2) % 9 != 0:
        raise ValueError(f"a pre-activation bottleneck ResNet has 9n + 2 layers, not {depth}")
    n = (depth - 2) // 9
    return PreActResNet(PreActBottleneck, [n, n, n], CIFAR_WIDTHS, num_classes, shortcut, stride_on=stride_on)


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


def gradient_flow(depths: Sequence[int] = (20, 56, 110), seed: int = 0) -> dict[str, tuple[float, float]]:
    r"""
    `gradient_norms` of the plain, original and pre-activation networks of each depth, each
    built after `torch.manual_seed(seed)`: `{"plain-20": (first, last), …}`.
    """
    networks = {"plain": plain_cifar, "ResNet": cifar_resnet, "pre-activation ResNet": preact_cifar_resnet}
    norms = {}
    for kind, build in networks.items():
        for depth in depths:
            torch.manual_seed(seed)
            norms[f"{kind}-{depth}"] = gradient_norms(build(depth), seed=seed)
    return norms


@markdown_writer
def gradient_flow_markdown(depths: Sequence[int] = (20, 56, 110), seed: int = 0) -> str:
    r"""
    `gradient_flow` as a Markdown table. The site builds it, so the numbers on the page are the
    ones this code computes.
    """
    rows = ["| network | ‖∂E/∂W‖ first layer (`conv1`) | ‖∂E/∂W‖ last layer (`fc`) | first / last |",
            "|---|---:|---:|---:|"]
    for name, (first, last) in gradient_flow(depths, seed).items():
        rows.append(f"| {name} | {first:.3g} | {last:.3g} | {first / last:.3g} |")
    return "\n".join(rows)


# Here is that table for three depths, computed when this page was built (seed 0, a batch of 8
# random images, the networks in training mode at initialization):
#
# <!-- md: labml_resnet.preact.gradient_flow_markdown([20, 56, 110]) -->
#
# Read the last column down each group of three rows.
#
# **The plain network's gradient does not vanish; it grows with depth.** Its first layer gets
# a gradient a few times its classifier's at 20 layers, and more than a thousand times at 56
# and 110. That does not contradict the ResNet paper, which says of its plain networks: "These
# plain networks are trained with BN [16], which ensures forward propagated signals to have
# non-zero variances. We also verify that the backward propagated gradients exhibit healthy
# norms with BN. So neither forward nor backward signals vanish." (its Sec. 4.1). That claim is
# about *vanishing*, and it is made for the ImageNet plain-18 and plain-34 in training; the
# CIFAR-10 plain nets of its Fig. 6 go to 56 layers (plain-110's error "is higher than 60% and
# not displayed"). The table measures something narrower, one batch of random images at
# initialization, and it agrees on vanishing: at no depth is the first layer's gradient smaller
# than the classifier's. What it adds is that in a plain network the first layer's gradient
# outgrows the classifier's as the network deepens: at 110 layers it *explodes*, over ten million
# times the classifier's, which the paper does not discuss.
#
# **The residual networks keep both ends within a factor of ten at every depth here.** For the
# pre-activation network that is the $1$ of eq. (5). For the original ResNet, eq. (5) is only
# an approximation ($f$ is a ReLU, see above), but its shortcuts still carry the gradient past
# every weight layer, cut by a ReLU only where a sum is negative.
#
# `tests/test_preact.py` asserts each of these statements (a slow test: it builds the nine
# networks).

#
# ## Exercises
#
# 1. **Put $f$ back.** Change `PreActBasicBlock.forward` to return `F.relu(out + shortcut)`
#    and rerun `gradient_flow_markdown()`. What happens to the first-layer gradient of the
#    pre-activation networks? *Hint:* that ReLU is $f$ in $x_{l+1} = f(y_l)$.
#
#     ??? success "Answer"
#
#         The first/last ratio gets larger at every depth, and grows with depth faster than before,
#         yet stays far below the plain network's at 56 and 110 layers: the ReLU after the addition cuts the shortcut's
#         gradient wherever a sum is negative, so eq. (5) no longer holds exactly, but most of the
#         identity path survives at initialization. The paper's difference between $f$ = ReLU and
#         $f$ = identity shows in training, and most at 1001 layers (its Fig. 1).
#         (`tests/test_preact.py` builds this variant and checks each statement.)
#
# 2. **Scale the shortcut.** Return `out + 0.5 * shortcut` instead. Predict what eq. (8) of
#    the paper, $\frac{\partial \mathcal{E}}{\partial x_l} = \frac{\partial \mathcal{E}}{\partial x_L}
#    \big(\prod_{i=l}^{L-1} \lambda_i + \frac{\partial}{\partial x_l} \sum_i \hat{\mathcal{F}}_i\big)$,
#    says about the first-layer gradient of the 110-layer network, then measure it.
#    *Hint:* ResNet-110 has 54 blocks.
#
#     ??? success "Answer"
#
#         The shortcut's term is $0.5^{54} \approx 5.6 \cdot 10^{-17}$: it is gone, which "blocks
#         the backpropagated signal from the shortcut and forces it to flow through the weight
#         layers" (the paper, Sec. 3). The gradient does not vanish with it, because the weight
#         layers still carry one: the network behaves like a plain one, and its first/last ratio at
#         110 layers is more than a thousand times larger than the unscaled network's. The paper's
#         constant-scaling experiments with $\lambda = 0.5$ either did not converge well or reached
#         a much higher test error (its Table 1). (`tests/test_preact.py` checks both numbers.)
#
# 3. **The same parameter count.** `preact_resnet110()` and `resnet110()` have exactly the same
#    number of parameters, although their batch norms sit in different places. Account for
#    every batch norm. *Hint:* the stem, the first block of each stage, and `bn_final`.
#
#     ??? success "Answer"
#
#         Count batch-norm channels (each has 2 parameters). The original has one after the stem
#         (16) and two per block, on the block's output width. The pre-activation blocks normalize
#         their input and their middle: a block that keeps the shape has the same two, but the first
#         blocks of `layer2` and `layer3` normalize their 16- and 32-channel inputs where the
#         original normalizes 32 and 64. So the pre-activation network lacks the stem's 16 channels
#         and 16 + 32 more in those two blocks, $16 + 16 + 32 = 64$ in all, and `bn_final` adds 64
#         back. The convolutions and `fc` are the same.
#         (`tests/test_preact.py` checks that the batch-norm channels add up to the same number.)
