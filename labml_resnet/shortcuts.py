r"""
---
title: Shortcut connections
description: The identity shortcut and the paper's options A, B and C for the blocks that change shape, in PyTorch.
---

# Shortcut connections

A residual block computes $y = \mathcal{F}(x, \{W_i\}) + x$ (eq. 1 of
[Deep Residual Learning for Image Recognition](https://arxiv.org/abs/1512.03385)).
The sum needs $\mathcal{F}(x)$ and $x$ to have the same shape. Inside a stage they do,
and the shortcut is the **identity**: no parameters, no computation, and in code no module at
all: a block whose `downsample` is `None` adds $x$ itself (the previous chapter).

The first block of every stage after the first halves the feature map (stride 2) and widens
it (more channels), so $x$ no longer fits, and adding it anyway fails
([Common pitfalls](pitfalls.md#shortcut-shape)). The paper's Section 3.3 gives two options: "When the dimensions
increase (dotted line shortcuts in Fig. 3), we consider two options", A and B; Section 4.1
adds a third, C, when it compares all three in its Table 3:

* **Option A — zero-padding.** "The shortcut still performs identity mapping, with extra
  zero entries padded for increasing dimensions. This option introduces no extra parameter".
  Subsample $x$ with stride 2 and append zero channels. The paper uses it where it compares
  residual networks with plain ones: ResNet-18/34 against plain-18/34 on ImageNet (its Table 2
  and Fig. 4) and every CIFAR-10 network (Sec. 4.2).
* **Option B — projection where the shape changes.** eq. (2),
  $y = \mathcal{F}(x, \{W_i\}) + W_s x$, with $W_s$ "done by $1 \times 1$ convolutions" of
  stride 2 (plus batch normalization, which follows every convolution in the paper), used only
  in the blocks that change shape; identity elsewhere. The paper's ResNet-50/101/152 use it
  ("We use option B for increasing dimensions"), and so do all of torchvision's ResNets.
* **Option C — projection everywhere.** "(C) all shortcuts are projections": every block has
  its own $W_s$, even where the identity would do.

In Table 3 (ResNet-34 on ImageNet, top-1 error with 10-crop testing: A 25.03%, B 24.52%,
C 24.19%) "B is slightly better than A" and "C is marginally better than B", and the paper
concludes that "projection shortcuts are not essential for addressing the degradation
problem"; it does not use C afterwards, "to reduce memory/time complexity and model sizes".
So where the shapes match, the identity was chosen for its cost, not for its accuracy:
projections there (C) did slightly better. labml-nn's notes say the opposite ("when the
feature map sizes match they found identity mapping to be better than linear projections"),
which Table 3 does not show.

<!-- figure: shortcut-options -->
"""

from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn


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

    $W_s x$ of eq. (2): a $1 \times 1$ convolution with the block's stride (no bias, since a
    batch norm follows), then batch normalization, as in torchvision. It is an
    `nn.Sequential`, so its parameters are named `downsample.0.weight` (the convolution) and
    `downsample.1.*` (the batch norm), the names torchvision's checkpoints use.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int):
        r"""
        * `in_channels`, `out_channels` are the channels of $x$ and of $\mathcal{F}(x)$
        * `stride` is the stride of the block
        """
        super().__init__(nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride, bias=False),
                         nn.BatchNorm2d(out_channels))


def check_shortcut_option(option: str, options: tuple[str, ...] = ("A", "B", "C")):
    r"""
    Refuses anything but the paper's options. `None` gets its own message: it does not mean
    "no shortcut" (that is `plain=True`); inside a block, `downsample is None` is the identity.
    """
    if option not in options:
        hint = "; for a network without shortcuts pass plain=True" if option is None else ""
        allowed = ", ".join(map(repr, options[:-1])) + f" or {options[-1]!r}"
        raise ValueError(f"shortcut must be {allowed}, not {option!r}{hint}")


def make_shortcut(option: str, in_channels: int, out_channels: int, stride: int) -> Optional[nn.Module]:
    r"""
    ## Choosing the shortcut

    The `downsample` of one block for option `"A"`, `"B"` or `"C"`: `None` for the identity
    (torchvision's convention: the block then adds $x$ itself), else the module that makes
    $x$ fit. An identity has no parameters, so it adds nothing to the state dict either way.
    """
    check_shortcut_option(option)
    # Does the block change the shape of its input?
    same_shape = stride == 1 and in_channels == out_channels
    if option == "C":
        # A projection in every block
        return ProjectionShortcut(in_channels, out_channels, stride)
    if same_shape:
        # Options A and B: the identity inside a stage
        return None
    if option == "A":
        # Zero-padding where the shape changes
        return ZeroPadShortcut(in_channels, out_channels, stride)
    # Option B: a projection $W_s$ where the shape changes
    return ProjectionShortcut(in_channels, out_channels, stride)


#
# ## Exercises
#
# 1. **What zero-padding adds.** Build `make_shortcut("A", 16, 32, 2)` and feed it a
#    `[1, 16, 32, 32]` tensor of ones. What is the output's shape, and which of its channels
#    are zero? *Hint:* `F.pad` appended them at the end.
#
#     ??? success "Answer"
#
#         `[1, 32, 16, 16]`. Channels 0–15 are the subsampled input (all ones); channels 16–31, the
#         last 16, are zero at every pixel. (`tests/test_shortcuts.py` checks it.)
#
# 2. **The price of option C.** Count the parameters that option C adds to a block with 64
#    input and output channels. *Hint:* a $1 \times 1$ convolution without bias has
#    `in × out` weights, a batch norm 2 per channel.
#
#     ??? success "Answer"
#
#         $64 \cdot 64 + 2 \cdot 64 = 4{,}224$, in a block whose two $3 \times 3$ convolutions
#         already have $2 \cdot 9 \cdot 64^2 = 73{,}728$ weights. (`tests/test_shortcuts.py` checks
#         both.)
#
# 3. **Why `[::2]`.** `ZeroPadShortcut` keeps every other pixel. Which input pixels does a
#    $3 \times 3$ convolution with stride 2 and padding 1 centre its outputs on?
#    *Hint:* output pixel $i$ covers input pixels $2i - 1$, $2i$ and $2i + 1$.
#
#     ??? success "Answer"
#
#         On input pixel $2i$: the even pixels $0, 2, 4, \ldots$, exactly the ones
#         `x[:, :, ::2, ::2]` keeps. So at every output position the shortcut carries the input
#         pixel that the residual branch is centred on, and the two summands line up. A $3 \times 3$
#         convolution with stride 2 and padding 1 whose kernel is 1 at the centre and 0 elsewhere
#         computes exactly `x[:, :, ::2, ::2]`; `tests/test_shortcuts.py` checks that too.
