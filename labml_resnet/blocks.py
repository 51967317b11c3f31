r"""
---
title: Residual blocks
description: The basic block and the bottleneck block, with their plain counterparts, annotated line by line in PyTorch; and what torchvision's `downsample` is.
---

# Residual blocks

A ResNet is a stack of blocks. Each computes a residual function $\mathcal{F}$ with two or
three convolutions and adds its input back. That is the paper's eq. (1),

$$y = \mathcal{F}(x, \{W_i\}) + x ,$$

and the text under it adds a ReLU after the addition: "We adopt the second nonlinearity after
the addition (i.e., $\sigma(y)$, see Fig. 2)". So a block of
[the paper](https://arxiv.org/abs/1512.03385) outputs

$$\sigma\big(\mathcal{F}(x, \{W_i\}) + x\big)$$

with $\sigma$ the ReLU. (The follow-up paper takes this last ReLU away: the pre-activation
chapter.)

There are two kinds of block:

* the **basic block** (ResNet-18/34 and all the paper's CIFAR-10 nets): two $3 \times 3$
  convolutions, $\mathcal{F} = W_2\, \sigma(W_1 x)$, with batch normalization after each;
* the **bottleneck block** (ResNet-50/101/152): $1 \times 1$ down to the block's bottleneck
  width, a quarter of its output width (256 → 64 inside a stage), $3 \times 3$ at that width,
  $1 \times 1$ up to the output width. It costs about as much as a basic block on a quarter of
  the channels, which is what makes 152 layers affordable.

<!-- figure: bottleneck -->

**The shortcut.** Most blocks keep the shape of their input, and the $+\,x$ is the identity:
no parameters, no computation. The first block of every stage after the first halves the
feature map (stride 2) and widens it, so $x$ must be made to fit, by zero-padding or by a $1 \times 1$ projection $W_s$ (eq. 2);
the next chapter gives the paper's options A, B and C for that. In code, as in torchvision,
the block's attribute `downsample` is `None` where the shortcut is the identity, and the module
that makes $x$ fit where it is not:

```python
identity = x if self.downsample is None else self.downsample(x)
```

(What torchvision's `downsample` is and is not: the section after the bottleneck.)

**Plain blocks.** Each block has a *plain* counterpart, the paper's "plain network": the same
layers with no shortcut, $y = \sigma(\mathcal{F}(x))$. Here it is the same class built with
`plain=True`, so the two can never differ in anything else. The paper compares plain and
residual networks that differ in the shortcuts only. On CIFAR-10 it uses option A, "so our
residual models have exactly the same depth, width, and number of parameters as the plain
counterparts" (Sec. 4.2); on ImageNet, the ResNet-18/34 of its Table 2 and Fig. 4 use option A
too, "so they have no extra parameter compared to the plain counterparts" (Sec. 4.1).

The attribute names (`conv1`, `bn1`, …, `downsample`) are torchvision's, so torchvision's
checkpoints load into these blocks as they are (with option B, the default of the ImageNet builders; an
option A block has no `downsample` weights to load).
"""

import torch
from torch import nn

from labml_resnet.shortcuts import make_shortcut


#
# ## Two convolution helpers
#
# Every convolution of a ResNet is followed by batch normalization (the paper, Sec. 3.4: "right
# after each convolution and before activation"; what goes wrong without it:
# [Common pitfalls](pitfalls.md#no-batch-norm)). Batch normalization subtracts the per-channel
# mean, so a convolution bias would be cancelled straight away: `bias=False`, as in
# torchvision's helpers of the same names. (labml-nn keeps the biases; they cost parameters and
# do nothing.)
#
# ??? note "`nn.Conv2d`'s other arguments, and `nn.Linear`"
#
#     **`groups`** splits the channels into $g$ groups that do not see each other: output
#     channels $j \cdot C_{out}/g$ to $(j + 1) \cdot C_{out}/g - 1$ are computed from input
#     channels $j \cdot C_{in}/g$ to $(j + 1) \cdot C_{in}/g - 1$ only. The weight has shape
#     `[C_out, C_in / groups, k, k]`, so parameters and multiply-adds are divided by $g$;
#     `groups=C_in` (with `C_out = C_in`) gives each channel its own filter, a *depthwise*
#     convolution. The paper's ResNets use `groups=1`; ResNeXt uses 32, and the chapter
#     [ResNeXt and wide ResNets](variants.md) measures what it saves.
#
#     **`dilation`** $d$ spaces the $k$ taps of the kernel $d$ pixels apart. A $3 \times 3$
#     convolution with $d = 2$ reads 9 pixels spread over a $5 \times 5$ window: it sees
#     farther with the same 9 weights and the same multiply-adds per output, but skips the
#     pixels in between. The output-size formula only needs the span, $d(k - 1) + 1$. The
#     paper's ResNets use $d = 1$; torchvision's `ResNet` takes
#     `replace_stride_with_dilation` to trade a stage's stride 2 for dilation, for dense
#     prediction (bottleneck networks only: its `BasicBlock` refuses a dilation above 1).
#
#     **`nn.Linear(in_features, out_features)`** computes $y = x A^T + b$ (PyTorch's
#     documentation): its `weight` $A$ has shape `[out_features, in_features]`, so the `fc`
#     of ResNet-18 has a `[1000, 512]` weight, and a batch `[B, 512]` gives `[B, 1000]`.
#     It is a $1 \times 1$ convolution on a $1 \times 1$ map.
def conv3x3(in_channels: int, out_channels: int, stride: int = 1, groups: int = 1) -> nn.Conv2d:
    # padding 1 keeps $H \times W$ at stride 1; at stride 2 a side $n$ becomes $\lceil n / 2 \rceil$
    # (the output-size formula is in the shapes chapter). `groups` is 1 except in ResNeXt
    return nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=stride, padding=1, groups=groups,
                     bias=False)


def conv1x1(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    # A 1×1 convolution mixes channels at each pixel; with stride 2 it also keeps every other pixel
    return nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride, bias=False)



class BasicBlock(nn.Module):
    r"""
    ## The basic block

    $\mathcal{F}(x) = \mathrm{BN}(W_2\, \sigma(\mathrm{BN}(W_1 x)))$ with two $3 \times 3$
    convolutions $W_1, W_2$: the paper's Fig. 2, with a batch norm after each convolution.
    The first convolution carries the stride, so a stride-2 block halves the feature map on its
    way in.
    """

    # The output has `expansion × out_channels` channels; 1 here, 4 in the bottleneck.
    # The network reads it to size the next stage and the classifier.
    expansion = 1

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1,
                 shortcut: str = "B", plain: bool = False):
        r"""
        * `in_channels` is the number of channels of $x$
        * `out_channels` is the number of channels of both convolutions and of the output
        * `stride` is 2 in the first block of a stage that halves the feature map, else 1
        * `shortcut` is the option `"A"`, `"B"` or `"C"` of the shortcuts chapter: what
          `downsample` is where the block changes shape (and, with `"C"`, everywhere)
        * `plain` drops the shortcut: the plain block of the degradation experiment
        """
        super().__init__()
        # Every layer is made here, once, so that it is registered and its weights are
        # trained and saved; never in `forward` ([Common pitfalls](pitfalls.md#layers-in-forward)).
        # $W_1$: 3×3, carries the stride
        self.conv1 = conv3x3(in_channels, out_channels, stride)
        self.bn1 = nn.BatchNorm2d(out_channels)
        # One ReLU module, used twice: it has no state
        self.relu = nn.ReLU(inplace=True)
        # $W_2$: 3×3, keeps the shape
        self.conv2 = conv3x3(out_channels, out_channels)
        # The last batch norm of $\mathcal{F}$; `zero_init_residual` sets its scale to 0
        self.bn2 = nn.BatchNorm2d(out_channels)
        # The shortcut: `None` where it is the identity, as in torchvision, else the module of
        # the shortcuts chapter that makes $x$ fit; a plain block has none at all
        self.plain = plain
        self.downsample = None if plain else make_shortcut(shortcut, in_channels, out_channels, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r"""
        `x` is `[B, in_channels, H, W]`; the output is
        `[B, out_channels, ceil(H / stride), ceil(W / stride)]`.
        """
        # The shortcut: $x$ itself, or $x$ made to fit where the block changes shape
        identity = x if self.downsample is None else self.downsample(x)
        # $\sigma(\mathrm{BN}(W_1 x))$
        out = self.relu(self.bn1(self.conv1(x)))
        # $\mathcal{F}(x) = \mathrm{BN}(W_2 \cdot)$: no ReLU yet, it comes after the addition
        out = self.bn2(self.conv2(out))
        # $\mathcal{F}(x) + x$, unless this is a plain block
        if not self.plain:
            out = out + identity
        # $\sigma(\cdot)$ of the sum. `out` carries both convolutions; a ReLU of `x` here would
        # throw them away ([Common pitfalls](pitfalls.md#relu-placement))
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
    stride of 2", and in a bottleneck block the first layer is the $1 \times 1$. The authors'
    released ResNet-50 confirms the reading: in
    [`ResNet-50-deploy.prototxt`](https://github.com/KaimingHe/deep-residual-networks/blob/master/prototxt/ResNet-50-deploy.prototxt),
    `res3a_branch2a`, the first layer of conv3_1, has `kernel_size: 1` and `stride: 2`, and
    the $3 \times 3$ after it, `res3a_branch2b`, has `stride: 1`. So the paper's
    ResNet-50 subsamples *before* its $3 \times 3$, throwing away three pixels in four unseen.
    torchvision moved the stride to the $3 \times 3$ ("ResNet V1.5"), which is slightly more
    accurate and costs more: about 4.1 billion multiply-adds for ResNet-50 against 3.9
    (3.8 in the paper's Table 1; the shapes-and-costs chapter computes all three). `stride_on` picks: `"1x1"` is the paper's,
    `"3x3"` is torchvision's. The parameters are the same either way, so the weights load
    into both; only torchvision's placement reproduces torchvision's outputs. (labml-nn's
    `BottleneckResidualBlock` strides on the $3 \times 3$ too, like torchvision.)

    **`groups` and `width_per_group`** are for the next-generation blocks of the chapter
    [ResNeXt and wide ResNets](variants.md): the $1 \times 1$ and $3 \times 3$ convolutions get
    `width = int(bottleneck_channels * width_per_group / 64) * groups` channels, torchvision's
    formula, and the $3 \times 3$ is split into `groups` groups. The defaults, 1 and 64, give
    `width = bottleneck_channels`: the paper's block.
    """

    # The output is `4 × bottleneck_channels` wide
    expansion = 4

    def __init__(self, in_channels: int, bottleneck_channels: int, stride: int = 1,
                 shortcut: str = "B", stride_on: str = "1x1", plain: bool = False,
                 groups: int = 1, width_per_group: int = 64):
        r"""
        * `in_channels` is the number of channels of $x$
        * `bottleneck_channels` is the reduced width of the $1 \times 1$ and $3 \times 3$
          convolutions; the output has `4 * bottleneck_channels` channels
        * `stride` is 2 in the first block of a stage that halves the feature map, else 1
        * `shortcut` is `"A"`, `"B"` or `"C"`, as in the basic block
        * `stride_on` is `"1x1"` (the paper) or `"3x3"` (torchvision's "V1.5")
        * `plain` drops the shortcut
        * `groups` is the number of groups of the $3 \times 3$ (ResNeXt's cardinality)
        * `width_per_group` is 64 for the paper's block; the inner width scales with it
        """
        super().__init__()
        if stride_on not in ("1x1", "3x3"):
            raise ValueError(f"stride_on must be '1x1' or '3x3', not {stride_on!r}")
        out_channels = bottleneck_channels * self.expansion
        # The width of the inner layers: `bottleneck_channels` unless ResNeXt or wide
        width = int(bottleneck_channels * (width_per_group / 64)) * groups
        # Only one of the two layers gets the block's stride
        stride_1x1, stride_3x3 = (stride, 1) if stride_on == "1x1" else (1, stride)
        # 1×1: reduce the channels
        self.conv1 = conv1x1(in_channels, width, stride_1x1)
        self.bn1 = nn.BatchNorm2d(width)
        # 3×3 at the reduced width: where most of the computation is
        self.conv2 = conv3x3(width, width, stride_3x3, groups)
        self.bn2 = nn.BatchNorm2d(width)
        # 1×1: expand to `4 * bottleneck_channels`
        self.conv3 = conv1x1(width, out_channels)
        # The last batch norm of $\mathcal{F}$, after the third convolution
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        # No shortcut in a plain block; `None` for the identity, as in the basic block
        self.plain = plain
        self.downsample = None if plain else make_shortcut(shortcut, in_channels, out_channels, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r"""
        `x` is `[B, in_channels, H, W]`; the output is
        `[B, 4 * bottleneck_channels, ceil(H / stride), ceil(W / stride)]`.
        """
        # The shortcut, as in the basic block
        identity = x if self.downsample is None else self.downsample(x)
        # Reduce: `[B, width, H', W']` (`width = bottleneck_channels` in the paper's block)
        out = self.relu(self.bn1(self.conv1(x)))
        # Transform at the reduced width
        out = self.relu(self.bn2(self.conv2(out)))
        # Expand: $\mathcal{F}(x)$ is `[B, 4 * bottleneck_channels, H', W']`
        out = self.bn3(self.conv3(out))
        # Add the shortcut, unless this is a plain block; then the ReLU of the sum
        if not self.plain:
            out = out + identity
        return self.relu(out)

    def last_bn(self) -> nn.BatchNorm2d:
        # The batch norm at the end of $\mathcal{F}$, for `zero_init_residual`
        return self.bn3


#
# ## What is `downsample`?
#
# Readers of torchvision's `models/resnet.py` meet `downsample` in every block. Directly:
#
# * **It is not a PyTorch layer.** `torch.nn` has no `downsample`; it is the name torchvision
#   chose for the attribute that holds a block's shortcut module, and we keep it so that
#   state-dict keys such as `layer2.0.downsample.0.weight` match torchvision's checkpoints.
# * **torchvision's `ResNet._make_layer` builds it**, once per stage, for the stage's first
#   block: a $1 \times 1$ convolution with the stage's stride and a batch norm, when
#   `stride != 1 or self.inplanes != planes * block.expansion`, that is when the block changes
#   the shape of its input. It passes it to the block's constructor; every other block gets
#   `None`. Here `make_shortcut` (next chapter) makes the same decision for option B.
# * **`None` means the identity.** torchvision's `forward` sets `identity = x` and replaces it
#   by `self.downsample(x)` only `if self.downsample is not None`; then `out += identity`.
#   The blocks above do the same. (A block that must change shape but gets `None` fails at the
#   addition: [Common pitfalls](pitfalls.md#shortcut-shape).)
# * **It is not pooling.** In torchvision (and in option B here) it is a strided $1 \times 1$
#   convolution and a batch norm: it keeps every other pixel and learns a mix of channels;
#   nothing is averaged or maxed. Option A's zero-padding shortcut subsamples without pooling too.
# * **The name is a misnomer where it only widens.** In ResNet-50, `layer1.0` turns the stem's
#   64 channels into 256 at stride 1. Its `downsample` is a $1 \times 1$ projection from 64 to
#   256 channels with stride 1, and it downsamples nothing. (torchvision's comment in
#   `BasicBlock.__init__` says where the name comes from: "Both self.conv1 and
#   self.downsample layers downsample the input when stride != 1".)
# * **Why `self.downsample(x)` can be called.** The attribute holds a module, and calling a
#   module runs `nn.Module.__call__`, which runs the module's `forward` (and any hooks
#   registered on it); an `nn.Sequential`'s `forward` calls its modules in order. So
#   `self.downsample(x)` is the convolution, then the batch norm. Call the module, not
#   `.forward`, or the hooks are skipped.
# * **`conv1x1` alone is a different shortcut.** A `downsample = conv1x1(in, out, stride)`
#   without the batch norm, as sometimes suggested, is a projection too, but not
#   torchvision's: its output is not normalized like $\mathcal{F}(x)$, whose last layer is a
#   batch norm, and torchvision's checkpoints do not load into it: its weight is named
#   `downsample.weight`, not `downsample.0.weight`, and there is no `downsample.1` for the
#   batch norm's scale, shift and running statistics.
#
# `tests/test_blocks.py` checks each point against the installed torchvision.

#
# ## Exercises
#
# 1. **Options A and B in numbers.** Build `BasicBlock(64, 128, stride=2, shortcut="A")` and
#    the same block with `shortcut="B"`. Which has more parameters, and how many more?
#    *Hint:* `sum(p.numel() for p in block.parameters())`.
#
#     ??? success "Answer"
#
#         Option B, by $64 \cdot 128 + 2 \cdot 128 = 8{,}448$: the weights of the $1 \times 1$
#         projection from 64 to 128 channels (no bias) and the scale and shift of its batch norm.
#         Option A's zero-padding has no parameters. (`tests/test_blocks.py` checks the number.)
#
# 2. **Where the stride goes.** Feed a `[2, 64, 56, 56]` tensor to
#    `Bottleneck(64, 64, stride=2, stride_on=s)` for both values of `s`. The output shapes
#    agree; where do the intermediate shapes differ? *Hint:* register a forward hook on
#    `conv1` and `conv2`.
#
#     ??? success "Answer"
#
#         Both give `[2, 256, 28, 28]`. With `"1x1"` (the paper's) `conv1` already outputs
#         `[2, 64, 28, 28]`, so the $3 \times 3$ runs on 28×28 maps. With `"3x3"` (torchvision's)
#         `conv1` outputs `[2, 64, 56, 56]` and the $3 \times 3$ takes 56×56 maps to 28×28.
#         (`tests/test_blocks.py` checks these shapes.)
#
# 3. **Why the ReLU comes after the addition.** Suppose the block's last ReLU moved onto the
#    residual: $y = x + \sigma(\mathcal{F}(x))$. What could a block then no longer do to its
#    input? *Hint:* what sign can $\sigma(\mathcal{F}(x))$ have?
#
#     ??? success "Answer"
#
#         It could never decrease an activation: $\sigma(\mathcal{F}(x)) \ge 0$, so $y \ge x$
#         everywhere, and a stack of such blocks can only add. The pre-activation paper tried this
#         ("ReLU before addition", its Fig. 4(c)): "this leads to a non-negative output from the
#         transform $\mathcal{F}$, while intuitively a 'residual' function should take values in
#         $(-\infty, +\infty)$. As a result, the forward propagated signal is monotonically
#         increasing", and it trained to a higher test error than the original block (that paper's
#         Table 2). The pre-activation chapter shows the order it chose instead.
