r"""
---
title: The network
description: Stems, stages, global average pooling and the classifier; He initialization, zero_init_residual and every ResNet of the paper as a builder.
---

# The network

A ResNet is a **stem** that turns the image into feature maps, a few **stages** of blocks
(each stage after the first halves the feature map and doubles the width), **global average
pooling** and one fully connected **classifier**. The paper's Table 1 (ImageNet) and
Section 4.2 (CIFAR-10) fill in the numbers:

| | ImageNet ResNet-18/34/50/101/152 | CIFAR-10 ResNet-$(6n+2)$ |
|---|---|---|
| stem | $7 \times 7$ conv, 64, stride 2; BN; ReLU; $3 \times 3$ max-pool, stride 2 | $3 \times 3$ conv, 16; BN; ReLU |
| stages | 4, widths 64, 128, 256, 512 | 3, widths 16, 32, 64 |
| feature maps (224 or 32 in) | 56, 28, 14, 7 | 32, 16, 8 |
| blocks | basic or bottleneck, `n_blocks` per stage | basic, $n$ per stage |
| shortcuts | option B | option A |
| head | average pool, 1000-way fc | average pool, 10-way fc |

<!-- figure: plain-vs-resnet34 -->

**The stride bug this chapter avoids.** Every stage after the first must start with a
stride-2 block. labml-nn's `ResNetBase` writes `stride = 2 if len(blocks) == 0 else 1`:
only the *very first block of the network* gets stride 2, so with its own CIFAR
configuration (a stride-2 stem, then three stages) the feature maps run
32 → 16 → 8 → 8 → 8, and the last two stages never downsample. Our `make_stage` takes the
stride from the stage's position, and a test checks the stage outputs of every builder
(and that labml-nn's peer still stays at 8×8 in every stage, so that this paragraph stays true).
"""

from functools import partial
from typing import Callable, Optional, Sequence, Type, Union

import torch
from torch import nn

from labml_resnet.blocks import BasicBlock, Bottleneck
from labml_resnet.shortcuts import conv3x3

# A block class: `BasicBlock`, `Bottleneck`, or the pre-activation blocks of a later chapter
Block = Type[Union[BasicBlock, Bottleneck]]


#
# ## Stems
#
# The ImageNet stem reduces 224×224 to 56×56 before any block runs: a $7 \times 7$ convolution
# with stride 2 (to 112) and a $3 \times 3$ max-pool with stride 2 (to 56). labml-nn has neither
# the ReLU nor the max-pool. Like torchvision, we keep the stem's layers as attributes of the
# network (`conv1`, `bn1`, `relu`, `maxpool`) rather than in a sub-module, so the state-dict
# keys are `conv1.weight` and `bn1.weight` as in every published checkpoint.
def imagenet_stem(in_channels: int = 3, out_channels: int = 64) -> dict[str, nn.Module]:
    return {
        # 224 → 112
        "conv1": nn.Conv2d(in_channels, out_channels, kernel_size=7, stride=2, padding=3, bias=False),
        "bn1": nn.BatchNorm2d(out_channels),
        "relu": nn.ReLU(inplace=True),
        # 112 → 56
        "maxpool": nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
    }


# The CIFAR-10 stem keeps 32×32: one $3 \times 3$ convolution to 16 channels, and no pooling
# (`nn.Identity` keeps `forward` the same for both stems).
def cifar_stem(in_channels: int = 3, out_channels: int = 16) -> dict[str, nn.Module]:
    return {
        "conv1": conv3x3(in_channels, out_channels),
        "bn1": nn.BatchNorm2d(out_channels),
        "relu": nn.ReLU(inplace=True),
        "maxpool": nn.Identity(),
    }


def make_stage(block: Block, in_channels: int, width: int, n_blocks: int, stride: int,
               **block_options) -> nn.Sequential:
    r"""
    ## A stage

    `n_blocks` blocks at one feature-map size. Only the first block can change the shape:
    it takes the stage's `stride` (2 for every stage after the first) and the channels of the
    previous stage; the others keep `width * block.expansion` channels and stride 1.

    * `width` is the stage's width in the paper's tables (64, 128, …, or 16, 32, 64): the
      channels of a basic block, the bottleneck channels of a bottleneck block
    * `block_options` go to every block (`shortcut`, `stride_on`)
    """
    out_channels = width * block.expansion
    # The first block: stride and width change here
    blocks = [block(in_channels, width, stride, **block_options)]
    # The rest: identity-shaped, so their shortcuts are the identity (except in option C)
    blocks += [block(out_channels, width, 1, **block_options) for _ in range(n_blocks - 1)]
    return nn.Sequential(*blocks)


class ResNet(nn.Module):
    r"""
    ## The ResNet

    Stem, stages `layer1`, `layer2`, …, global average pooling and `fc`.

    **Initialization.** Convolutions get He (Kaiming) normal initialization, the one the
    paper cites ([He et al. 2015](https://arxiv.org/abs/1502.01852)): variance $2 / n$ so that
    ReLU layers keep the scale of their signal. Like torchvision we take $n$ as the fan-out
    (`mode="fan_out"`), which keeps the scale of the gradients rather than of the activations;
    the two differ only in layers that change the number of channels. Batch norms start at
    scale 1 and shift 0.

    **`zero_init_residual`** (not in the paper; from
    [Goyal et al. 2017](https://arxiv.org/abs/1706.02677), and an option in torchvision)
    sets the scale of the last batch norm of every residual branch to 0. Then
    $\mathcal{F}(x) = 0$ at the start and every block computes $\sigma(\text{shortcut}(x))$:
    the network begins as a shallow one and grows its depth as it learns. It is refused for
    plain networks, where it would zero the only path.
    """

    def __init__(self, block: Block, n_blocks: Sequence[int], widths: Sequence[int],
                 stem: Callable[..., dict[str, nn.Module]] = imagenet_stem,
                 num_classes: int = 1000, shortcut: Optional[str] = "B",
                 zero_init_residual: bool = False, **block_options):
        r"""
        * `block` is `BasicBlock` or `Bottleneck`
        * `n_blocks` is the number of blocks in each stage, e.g. `[3, 4, 6, 3]` for ResNet-34
        * `widths` is the width of each stage, e.g. `[64, 128, 256, 512]`
        * `stem` is `imagenet_stem` or `cifar_stem`; its output has `widths[0]` channels
        * `num_classes` is the number of outputs of `fc`
        * `shortcut` is `"A"`, `"B"`, `"C"`, or `None` for a plain network
        * `zero_init_residual` starts every residual branch at zero
        * `block_options` go to the blocks (`stride_on` for bottlenecks)
        """
        super().__init__()
        if len(n_blocks) != len(widths):
            raise ValueError("n_blocks and widths need one entry per stage")
        if zero_init_residual and shortcut is None:
            raise ValueError("zero_init_residual would zero every block of a plain network")
        # The stem: `conv1`, `bn1`, `relu`, `maxpool`
        for name, module in stem(3, widths[0]).items():
            self.add_module(name, module)
        # The stages: `layer1` keeps the stem's resolution, each later one halves it
        in_channels = widths[0]
        for i, (n, width) in enumerate(zip(n_blocks, widths)):
            stride = 1 if i == 0 else 2
            stage = make_stage(block, in_channels, width, n, stride, shortcut=shortcut, **block_options)
            self.add_module(f"layer{i + 1}", stage)
            in_channels = width * block.expansion
        # The number of stages, for `forward`
        self.n_stages = len(widths)
        # Global average pooling: one number per channel, whatever the input size
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(in_channels, num_classes)
        self.init_weights(zero_init_residual)

    def init_weights(self, zero_init_residual: bool = False):
        # He initialization for every convolution, including the projection shortcuts
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        # $\mathcal{F}(x) = 0$ at initialization: scale 0 on the last batch norm of each branch
        if zero_init_residual:
            for m in self.modules():
                if hasattr(m, "last_bn"):
                    nn.init.zeros_(m.last_bn().weight)

    def stages(self) -> list[nn.Sequential]:
        # `[layer1, layer2, …]`, in order
        return [getattr(self, f"layer{i + 1}") for i in range(self.n_stages)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r"""
        `x` is `[B, 3, H, W]` (224×224 on ImageNet, 32×32 on CIFAR-10); the output is the
        logits, `[B, num_classes]`.
        """
        # Stem: `[B, widths[0], H/4, W/4]` on ImageNet, `[B, 16, H, W]` on CIFAR
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        # Stages: each after the first halves H and W
        for stage in self.stages():
            x = stage(x)
        # `[B, C, h, w]` → `[B, C, 1, 1]` → `[B, C]`; `flatten(x, 1)` keeps the batch dimension
        x = torch.flatten(self.avgpool(x), 1)
        # `[B, num_classes]`
        return self.fc(x)


#
# ## The ImageNet networks (the paper's Table 1)
#
# ResNet-18 and 34 stack basic blocks; 50, 101 and 152 stack bottlenecks. Every builder takes
# `num_classes`, `shortcut` (default B, as in the paper's ImageNet results and torchvision)
# and `zero_init_residual`; the bottleneck networks also take `stride_on` (default `"1x1"`,
# the paper's; use `"3x3"` with torchvision's pretrained weights).
IMAGENET_WIDTHS = (64, 128, 256, 512)


def resnet18(num_classes: int = 1000, shortcut: str = "B", zero_init_residual: bool = False) -> ResNet:
    return ResNet(BasicBlock, [2, 2, 2, 2], IMAGENET_WIDTHS, imagenet_stem, num_classes, shortcut, zero_init_residual)


def resnet34(num_classes: int = 1000, shortcut: str = "B", zero_init_residual: bool = False) -> ResNet:
    return ResNet(BasicBlock, [3, 4, 6, 3], IMAGENET_WIDTHS, imagenet_stem, num_classes, shortcut, zero_init_residual)


def resnet50(num_classes: int = 1000, shortcut: str = "B", zero_init_residual: bool = False,
             stride_on: str = "1x1") -> ResNet:
    return ResNet(Bottleneck, [3, 4, 6, 3], IMAGENET_WIDTHS, imagenet_stem, num_classes, shortcut,
                  zero_init_residual, stride_on=stride_on)


def resnet101(num_classes: int = 1000, shortcut: str = "B", zero_init_residual: bool = False,
              stride_on: str = "1x1") -> ResNet:
    return ResNet(Bottleneck, [3, 4, 23, 3], IMAGENET_WIDTHS, imagenet_stem, num_classes, shortcut,
                  zero_init_residual, stride_on=stride_on)


def resnet152(num_classes: int = 1000, shortcut: str = "B", zero_init_residual: bool = False,
              stride_on: str = "1x1") -> ResNet:
    return ResNet(Bottleneck, [3, 8, 36, 3], IMAGENET_WIDTHS, imagenet_stem, num_classes, shortcut,
                  zero_init_residual, stride_on=stride_on)


# The plain ImageNet networks of the degradation experiment (the paper's Fig. 4, left):
# the same layers with `shortcut=None`.
def plain18(num_classes: int = 1000) -> ResNet:
    return ResNet(BasicBlock, [2, 2, 2, 2], IMAGENET_WIDTHS, imagenet_stem, num_classes, shortcut=None)


def plain34(num_classes: int = 1000) -> ResNet:
    return ResNet(BasicBlock, [3, 4, 6, 3], IMAGENET_WIDTHS, imagenet_stem, num_classes, shortcut=None)


#
# ## The CIFAR-10 networks (the paper's Section 4.2)
#
# $6n + 2$ weighted layers: the stem convolution, $3n$ basic blocks of two convolutions each,
# and `fc`. $n = 3, 5, 7, 9, 18, 200$ give ResNet-20, 32, 44, 56, 110 and 1202.
# The paper uses option A here "so the residual models have exactly the same number of
# parameters as the plain counterparts".
CIFAR_WIDTHS = (16, 32, 64)


def cifar_resnet(depth: int, num_classes: int = 10, shortcut: Optional[str] = "A",
                 zero_init_residual: bool = False) -> ResNet:
    r"""
    The CIFAR-10 ResNet of `depth` $= 6n + 2$ layers; `shortcut=None` gives the plain network.
    """
    if (depth - 2) % 6 != 0:
        raise ValueError(f"a CIFAR ResNet has 6n + 2 layers, not {depth}")
    n = (depth - 2) // 6
    return ResNet(BasicBlock, [n, n, n], CIFAR_WIDTHS, cifar_stem, num_classes, shortcut, zero_init_residual)


# One line per network of the paper's Table 6, and the plain networks of its Fig. 6.
resnet20 = partial(cifar_resnet, 20)
resnet32 = partial(cifar_resnet, 32)
resnet44 = partial(cifar_resnet, 44)
resnet56 = partial(cifar_resnet, 56)
resnet110 = partial(cifar_resnet, 110)
resnet1202 = partial(cifar_resnet, 1202)


def plain_cifar(depth: int, num_classes: int = 10) -> ResNet:
    # The same network with no shortcuts: `shortcut=None`
    return cifar_resnet(depth, num_classes, shortcut=None)


plain20 = partial(plain_cifar, 20)
plain32 = partial(plain_cifar, 32)
plain44 = partial(plain_cifar, 44)
plain56 = partial(plain_cifar, 56)
plain110 = partial(plain_cifar, 110)

#
# ## Loading torchvision's weights
#
# The module names are torchvision's, so its checkpoints load as they are:
#
# ```python
# import torchvision, labml_resnet
# weights = torchvision.models.ResNet50_Weights.IMAGENET1K_V2
# model = labml_resnet.resnet50(stride_on="3x3")  # torchvision's "V1.5" placement
# model.load_state_dict(torchvision.models.resnet50(weights=weights).state_dict())
# ```
#
# With the paper's `stride_on="1x1"` the weights load too (the shapes are the same), but the
# network is a different function from the one they were trained for.

#
# ## Exercises
#
# 1. Print `resnet20()` and find the three blocks whose shortcut is a `ZeroPadShortcut`.
#    How many would `shortcut="C"` give? *Hint:* one per block.
# 2. Build labml-nn's network: `labml_nn.resnet.ResNetBase([3, 3, 3], [16, 32, 64],
#    first_kernel_size=3)` and print the shape after each block for a `[1, 3, 32, 32]` input.
#    Which blocks should have had stride 2? *Hint:* compare with `resnet20()`; the shapes
#    chapter's `stage_sizes` does this in one line.
# 3. Train `plain20` and `resnet20` with `python experiment.py --model plain20` and
#    `--model resnet20`, then plot both runs. Which has the lower *training* error?
#    *Hint:* that is the degradation problem; try 56 layers too.
