r"""
---
title: Residual blocks
description: The basic block, the bottleneck block and their plain counterparts, annotated line by line in PyTorch.
---

# Residual blocks

A ResNet is a stack of identical-looking blocks. Each computes a residual function
$\mathcal{F}$ with a few convolutions and adds its input back (eq. 1 of
[the paper](https://arxiv.org/abs/1512.03385)):

$$y = \sigma\big(\mathcal{F}(x, \{W_i\}) + \text{shortcut}(x)\big)$$

where $\sigma$ is the ReLU, applied *after* the addition, and the shortcut is the identity
unless the block changes shape (see the chapter on shortcuts).

There are two kinds of block:

* the **basic block** (ResNet-18/34 and all the paper's CIFAR-10 nets): two $3 \times 3$
  convolutions, $\mathcal{F} = W_2\, \sigma(W_1 x)$, with batch normalization after each;
* the **bottleneck block** (ResNet-50/101/152): $1 \times 1$ to reduce the channels four times,
  $3 \times 3$ at the reduced width, $1 \times 1$ to expand them back. It costs about as much as
  a basic block on a quarter of the channels, which is what makes 152 layers affordable.

<!-- figure: bottleneck -->

Each block also has a **plain** counterpart, the same layers with no shortcut,
$y = \sigma(\mathcal{F}(x))$. The paper trains plain and residual networks of equal depth, width
and parameter count side by side: that is the degradation experiment (its Fig. 4 and Fig. 6).
Here a plain block is the same class built with `shortcut=None`, so the two can never
differ in anything else.

The attribute names (`conv1`, `bn1`, …, `downsample`) are torchvision's, so torchvision's
checkpoints load into these blocks as they are.
"""

from typing import Optional

import torch
from torch import nn

from labml_resnet.shortcuts import conv1x1, conv3x3, make_shortcut


class BasicBlock(nn.Module):
    r"""
    ## The basic block

    $\mathcal{F}(x) = \mathrm{BN}(W_2\, \sigma(\mathrm{BN}(W_1 x)))$ with two $3 \times 3$
    convolutions $W_1, W_2$, the paper's Fig. 2. The first convolution carries the stride,
    so a stride-2 block halves the feature map on its way in.
    """

    # The output has `expansion × out_channels` channels; 1 here, 4 in the bottleneck.
    # The network reads it to size the next stage and the classifier.
    expansion = 1

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1,
                 shortcut: Optional[str] = "B"):
        r"""
        * `in_channels` is the number of channels of $x$
        * `out_channels` is the number of channels of both convolutions and of the output
        * `stride` is 2 in the first block of a stage that halves the feature map, else 1
        * `shortcut` is the option `"A"`, `"B"` or `"C"` of the shortcuts chapter,
          or `None` for the plain block without a shortcut
        """
        super().__init__()
        # $W_1$: 3×3, carries the stride
        self.conv1 = conv3x3(in_channels, out_channels, stride)
        self.bn1 = nn.BatchNorm2d(out_channels)
        # One ReLU module, used twice: it has no state
        self.relu = nn.ReLU(inplace=True)
        # $W_2$: 3×3, keeps the shape
        self.conv2 = conv3x3(out_channels, out_channels)
        # The last batch norm of $\mathcal{F}$; `zero_init_residual` sets its scale to 0
        self.bn2 = nn.BatchNorm2d(out_channels)
        # The shortcut. torchvision calls it `downsample` even where it is the identity;
        # we keep the name so that state-dict keys match (`layer2.0.downsample.0.weight`)
        self.downsample = None if shortcut is None else make_shortcut(shortcut, in_channels, out_channels, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r"""
        `x` is `[B, in_channels, H, W]`; the output is `[B, out_channels, H / stride, W / stride]`.
        """
        # $\sigma(\mathrm{BN}(W_1 x))$
        out = self.relu(self.bn1(self.conv1(x)))
        # $\mathcal{F}(x) = \mathrm{BN}(W_2 \cdot)$: no ReLU yet, it comes after the addition
        out = self.bn2(self.conv2(out))
        # $\mathcal{F}(x) + \text{shortcut}(x)$; a plain block skips this line
        if self.downsample is not None:
            out = out + self.downsample(x)
        # $y = \sigma(\cdot)$
        return self.relu(out)

    def last_bn(self) -> nn.BatchNorm2d:
        # The batch norm at the end of $\mathcal{F}$, for `zero_init_residual`
        return self.bn2


class Bottleneck(nn.Module):
    r"""
    ## The bottleneck block

    $1 \times 1$ reduce, $3 \times 3$, $1 \times 1$ expand (the paper's Fig. 5, right): with
    256 channels in and out and a bottleneck of 64, it has
    $256 \cdot 64 + 9 \cdot 64 \cdot 64 + 64 \cdot 256 \approx 70\text{k}$ weights, where a basic block
    at 256 channels has $2 \cdot 9 \cdot 256^2 \approx 1.2\text{M}$.

    **Where the stride goes.** The paper downsamples "by conv3_1, conv4_1, and conv5_1 with a
    stride of 2", and in a bottleneck block the first layer is the $1 \times 1$: so the paper's
    ResNet-50 subsamples *before* its $3 \times 3$, throwing away three pixels in four unseen.
    torchvision moved the stride to the $3 \times 3$ ("ResNet V1.5"), which is slightly more
    accurate and costs more: about 4.1 billion multiply-adds for ResNet-50 against 3.9
    (3.8 in the paper's Table 1; the shapes-and-costs chapter computes all three). `stride_on` picks: `"1x1"` is the paper's,
    `"3x3"` is torchvision's. The parameters are the same either way, so the weights load
    into both; only torchvision's placement reproduces torchvision's outputs.
    """

    # The output is `4 × bottleneck_channels` wide
    expansion = 4

    def __init__(self, in_channels: int, bottleneck_channels: int, stride: int = 1,
                 shortcut: Optional[str] = "B", stride_on: str = "1x1"):
        r"""
        * `in_channels` is the number of channels of $x$
        * `bottleneck_channels` is the reduced width of the $1 \times 1$ and $3 \times 3$
          convolutions; the output has `4 * bottleneck_channels` channels
        * `stride` is 2 in the first block of a stage that halves the feature map, else 1
        * `shortcut` is `"A"`, `"B"`, `"C"`, or `None` for the plain block
        * `stride_on` is `"1x1"` (the paper) or `"3x3"` (torchvision's "V1.5")
        """
        super().__init__()
        if stride_on not in ("1x1", "3x3"):
            raise ValueError(f"stride_on must be '1x1' or '3x3', not {stride_on!r}")
        out_channels = bottleneck_channels * self.expansion
        # Only one of the two layers gets the block's stride
        stride_1x1, stride_3x3 = (stride, 1) if stride_on == "1x1" else (1, stride)
        # 1×1: reduce the channels
        self.conv1 = conv1x1(in_channels, bottleneck_channels, stride_1x1)
        self.bn1 = nn.BatchNorm2d(bottleneck_channels)
        # 3×3 at the reduced width: where most of the computation is
        self.conv2 = conv3x3(bottleneck_channels, bottleneck_channels, stride_3x3)
        self.bn2 = nn.BatchNorm2d(bottleneck_channels)
        # 1×1: expand the channels four times
        self.conv3 = conv1x1(bottleneck_channels, out_channels)
        # The last batch norm of $\mathcal{F}$, after the third convolution
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        # The shortcut, as in the basic block
        self.downsample = None if shortcut is None else make_shortcut(shortcut, in_channels, out_channels, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r"""
        `x` is `[B, in_channels, H, W]`; the output is
        `[B, 4 * bottleneck_channels, H / stride, W / stride]`.
        """
        # Reduce: `[B, bottleneck_channels, H', W']`
        out = self.relu(self.bn1(self.conv1(x)))
        # Transform at the reduced width
        out = self.relu(self.bn2(self.conv2(out)))
        # Expand: $\mathcal{F}(x)$ is `[B, 4 * bottleneck_channels, H', W']`
        out = self.bn3(self.conv3(out))
        # Add the shortcut, unless this is a plain block
        if self.downsample is not None:
            out = out + self.downsample(x)
        return self.relu(out)

    def last_bn(self) -> nn.BatchNorm2d:
        # The batch norm at the end of $\mathcal{F}$, for `zero_init_residual`
        return self.bn3


#
# ## Exercises
#
# 1. Build `BasicBlock(64, 128, stride=2, shortcut="A")` and `shortcut="B"`. Which has more
#    parameters, and by how many? *Hint:* `sum(p.numel() for p in block.parameters())`.
# 2. Feed a `[2, 64, 56, 56]` tensor to `Bottleneck(64, 64, stride=2, stride_on=s)` for both
#    values of `s`. The output shapes agree; where do the intermediate shapes differ?
#    *Hint:* register a forward hook on `conv2`, or read the shapes chapter's trace.
# 3. Why is the ReLU applied after the addition and not to $\mathcal{F}(x)$ alone?
#    *Hint:* what would $\sigma(\mathcal{F}(x)) + x$ be able to represent that $\mathcal{F}(x) + x$
#    can, and what not? The pre-activation chapter comes back to this question.
