r"""
---
title: Shortcut connections
description: The identity shortcut and the paper's three options A, B and C for when a block changes shape, in PyTorch.
---

# Shortcut connections

A residual block computes $y = \mathcal{F}(x, \{W_i\}) + x$ (eq. 1 of
[Deep Residual Learning for Image Recognition](https://arxiv.org/abs/1512.03385)).
The sum needs $\mathcal{F}(x)$ and $x$ to have the same shape. Inside a stage they do,
and the shortcut is the **identity**: no parameters, no computation.

The first block of a stage halves the feature map (stride 2) and widens it (more channels),
so $x$ no longer fits. Section 3.3 of the paper gives three ways out:

* **Option A — zero-padding.** Subsample $x$ with stride 2 and append zero channels.
  No parameters at all. The paper's CIFAR-10 networks (its Table 6) use this.
* **Option B — projection where the shape changes.** eq. (2),
  $y = \mathcal{F}(x, \{W_i\}) + W_s x$, with $W_s$ a $1 \times 1$ convolution of stride 2
  (plus batch normalization), used only in the blocks that change shape; identity elsewhere.
  torchvision's ResNets are option B.
* **Option C — projection everywhere.** Every block has its own $W_s$, even when the identity
  would do.

On ImageNet (the paper's Table 3) B is slightly better than A and C slightly better than B,
and the paper concludes that projections "are not essential for addressing the degradation
problem"; it keeps B because C costs parameters and time for little gain.

<!-- figure: shortcut-options -->

This chapter also holds the two convolution helpers every later chapter uses.
"""

import torch
import torch.nn.functional as F
from torch import nn


#
# ## Two convolution helpers
#
# Every convolution in a ResNet is followed by batch normalization, which subtracts the
# per-channel mean, so a convolution bias would be cancelled straight away: `bias=False`.
# (labml-nn keeps the biases; they cost parameters and do nothing.)
def conv3x3(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    # padding 1 keeps $H \times W$ when stride is 1 and halves it when stride is 2
    return nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=stride, padding=1, bias=False)


def conv1x1(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    # A 1×1 convolution mixes channels at each pixel; with stride 2 it also keeps every other pixel
    return nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride, bias=False)


class ZeroPadShortcut(nn.Module):
    r"""
    ## Option A: the zero-padding shortcut

    The parameter-free shortcut for a block that changes shape: take every `stride`-th
    pixel of $x$, then add `out_channels - in_channels` channels of zeros, so that
    the sum $\mathcal{F}(x) + x$ is defined. The new channels carry no information from
    $x$; only $\mathcal{F}$ can fill them, which is the paper's explanation for why B beats A
    ("the zero-padded dimensions in A indeed have no residual learning").
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int):
        r"""
        * `in_channels` is the number of channels of $x$
        * `out_channels` is the number of channels of $\mathcal{F}(x)$; at least `in_channels`
        * `stride` is the stride of the block, the subsampling factor of the shortcut
        """
        super().__init__()
        if out_channels < in_channels:
            raise ValueError("zero-padding can only add channels")
        self.extra_channels = out_channels - in_channels
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r"""
        `x` is `[B, in_channels, H, W]`; the result is
        `[B, out_channels, ceil(H / stride), ceil(W / stride)]`, which is what a 3×3
        convolution with padding 1 and the same stride produces.
        """
        # Subsample: the pixels a stride-2 convolution is centred on
        x = x[:, :, ::self.stride, ::self.stride]
        # Append zero channels. `F.pad` pads the last dimensions first:
        # (W left, W right, H top, H bottom, C front, C back)
        return F.pad(x, (0, 0, 0, 0, 0, self.extra_channels))

    def extra_repr(self) -> str:
        return f"extra_channels={self.extra_channels}, stride={self.stride}"


class ProjectionShortcut(nn.Sequential):
    r"""
    ## Options B and C: the projection shortcut

    $W_s x$ of eq. (2): a $1 \times 1$ convolution with the block's stride, then batch
    normalization, as in torchvision. It is an `nn.Sequential`, so its parameters are named
    `downsample.0.weight` (the convolution) and `downsample.1.*` (the batch norm), the names
    torchvision's checkpoints use.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int):
        r"""
        * `in_channels`, `out_channels` are the channels of $x$ and of $\mathcal{F}(x)$
        * `stride` is the stride of the block
        """
        super().__init__(conv1x1(in_channels, out_channels, stride), nn.BatchNorm2d(out_channels))


def make_shortcut(option: str, in_channels: int, out_channels: int, stride: int) -> nn.Module:
    r"""
    ## Choosing the shortcut

    Returns the shortcut of one block for `option` `"A"`, `"B"` or `"C"`. The identity is
    `nn.Identity()`: it has no parameters, so it adds nothing to the state dict, and
    `forward` can always add `shortcut(x)` without an `if`.
    """
    # Does the block change the shape of its input?
    same_shape = stride == 1 and in_channels == out_channels
    if option == "A":
        # Identity inside a stage, zero-padding where the shape changes
        return nn.Identity() if same_shape else ZeroPadShortcut(in_channels, out_channels, stride)
    if option == "B":
        # Identity inside a stage, a projection $W_s$ where the shape changes
        return nn.Identity() if same_shape else ProjectionShortcut(in_channels, out_channels, stride)
    if option == "C":
        # A projection in every block
        return ProjectionShortcut(in_channels, out_channels, stride)
    raise ValueError(f"shortcut must be 'A', 'B' or 'C', not {option!r}")


#
# ## Exercises
#
# 1. Build `make_shortcut("A", 16, 32, 2)` and feed it a `[1, 16, 32, 32]` tensor of ones.
#    Which channels of the output are zero? *Hint:* `F.pad` appended them at the end.
# 2. Count the parameters that option C adds to a block with 64 input and output channels.
#    *Hint:* a 1×1 convolution has `in × out` weights, batch norm 2 per channel.
# 3. Why does `ZeroPadShortcut` subsample with `[::2]` rather than average 2×2 pixels?
#    *Hint:* which input pixels does a 3×3 convolution with stride 2 and padding 1 centre on?
