r"""
---
title: Shapes and costs
description: The output-size formula (defaults, "same" padding, odd and non-square sides), a layer-by-layer shape trace with forward hooks, one block worked by hand, and parameter and multiply-add counts checked against the paper's tables.
---

# Shapes and costs

Every number in this chapter is computed by the code below when the site is built, or checked
by a test (`tests/test_shapes.py`); the paper's own figures are quoted beside ours.

## The output-size formula

A convolution or pooling layer with kernel size $k$, stride $s$, padding $p$ and dilation $d$
turns a side of $n$ pixels into

$$n' = \left\lfloor \frac{n + 2p - d(k - 1) - 1}{s} \right\rfloor + 1$$

pixels: the padded side has $n + 2p$ pixels, one window spans $d(k - 1) + 1$ of them, and
after the first window, $\lfloor \cdot / s \rfloor$ more fit in steps of $s$. With $k = 3$,
$p = 1$ (and $d = 1$): stride 1 keeps $n$, stride 2 gives $\lceil n / 2 \rceil$, which is why
every $3 \times 3$ convolution in a ResNet has padding 1.

**One side at a time.** PyTorch's images are `[B, C, H, W]`: batch, channels, height, width.
The formula applies to $H$ and to $W$ separately, each with its own $k$, $s$, $p$ and $d$
(a single number, as in `kernel_size=3`, is used for both). A 320×240 photo, 320 pixels wide
and 240 high, is a `[B, 3, 240, 320]` tensor, although PIL's `Image.size` says `(320, 240)`:
PIL puts the width first.

**Defaults.** A convolution's `stride` defaults to 1; a pooling layer's defaults to its
`kernel_size` (PyTorch's documentation of `nn.MaxPool2d`: "Default value is `kernel_size`").
So `nn.MaxPool2d(2)` is `nn.MaxPool2d(2, stride=2)` and halves each side, while
`nn.Conv2d(c_in, c_out, 2)` moves one pixel at a time and gives $n - 1$. Padding defaults to
0 in both, and dilation to 1 (`nn.AvgPool2d` has no dilation).

**The floor.** Pixels that do not fill a whole window are dropped: `nn.MaxPool2d(2)` on a 7×7
map gives $\lfloor (7 - 2) / 2 \rfloor + 1 = 3$, and the seventh row and column are never read
(`ceil_mode=True` rounds up instead, to 4). ResNet's stride-2 layers all round *up*: the
$7 \times 7$ stem convolution with padding 3, the $3 \times 3$ max-pool and convolutions with
padding 1, and the $1 \times 1$ projection with padding 0 each give
$\lfloor (n - 1) / 2 \rfloor + 1 = \lceil n / 2 \rceil$ (7 → 4), and so does option A's
`x[:, :, ::2, ::2]`. A block's branch and its shortcut therefore agree on odd sides too.
"""

from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


def conv_output_size(n: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    r"""
    The formula above, for one side of the input: `n` pixels in, the number of pixels out.
    It holds for `nn.Conv2d`, `nn.MaxPool2d` and `nn.AvgPool2d` (with `ceil_mode=False`).
    """
    return (n + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1


#
# ### `padding="valid"` and `padding="same"`
#
# `nn.Conv2d` also takes its padding as a word. `"valid"` is padding 0: the kernel visits
# only the positions where it fits whole. `"same"` pads so that the output has the input's
# size, which at stride 1 takes $d(k - 1)$ pixels of padding along each dimension, split
# between its two ends. At a larger stride no
# padding could keep the size, and PyTorch refuses:
# `nn.Conv2d(8, 8, 3, stride=2, padding="same")` raises
# `ValueError: padding='same' is not supported for strided convolutions`.
# When $d(k - 1)$ is odd (an even kernel with an odd dilation, such as the default 1), the two
# ends cannot get the same padding: PyTorch puts the smaller half before and the larger after,
# so the extra pixel goes at the bottom and on the right (and it warns that it may have to make
# a zero-padded copy of the input). The function below is that rule; a test compares it with
# PyTorch.
def same_padding(kernel_size: int, dilation: int = 1) -> tuple[int, int]:
    r"""
    The pixels `padding="same"` adds to one side at stride 1: `(before, after)`, before being
    the top or the left. `same_padding(3)` is `(1, 1)`, `same_padding(4)` is `(1, 2)`.
    """
    total = dilation * (kernel_size - 1)
    return total // 2, total - total // 2


#
# ### Try your own layers
#
# The calculator below applies these rules, and the checks and error messages of PyTorch, to
# an input size and a stack of layers of your choice, and shows each layer's output shape, its
# parameters and the `in_features` that a `Linear` after it needs.
#
# <div class="shape-calculator"></div>

#
# ### A non-square image, by hand
#
# The question every small network in a blog post has to answer is what to write for the
# classifier's `in_features`: the channels times the height times the width of the last
# feature map, $C \cdot H' \cdot W'$. Here is such a network for 320×240 photos, with the
# answer worked out by applying the formula to $H = 240$ and $W = 320$ in turn:
#
# <!-- md: labml_resnet.shapes.small_cnn_table_markdown() -->
#
# The last max-pool floors both sides (27 → 13 and 37 → 18). A batch with height and width
# swapped, `[B, 3, 320, 240]`, runs without complaint: both sides go through the same layers,
# the product is the same, and the network quietly sees every image transposed. And the
# number holds for one input size only (exercise 4). A ResNet never has to ask: global average
# pooling gives $C$ numbers whatever $H$ and $W$ are (see the pitfall
# [a classifier sized by hand](pitfalls.md#classifier-by-hand)).
def small_cnn(num_classes: int = 10) -> nn.Sequential:
    r"""A blog-style network: `[B, 3, 240, 320]` in (240 high, 320 wide), `[B, num_classes]` out."""
    return nn.Sequential(OrderedDict(
        # 3×3 with padding 1 keeps both sides
        conv1=nn.Conv2d(3, 16, kernel_size=3, padding=1), relu1=nn.ReLU(),
        # The stride defaults to the kernel size: halves both sides
        pool1=nn.MaxPool2d(2),
        # 5×5 without padding: H and W each lose k − 1 = 4 pixels
        conv2=nn.Conv2d(16, 32, kernel_size=5), relu2=nn.ReLU(),
        pool2=nn.MaxPool2d(2),
        conv3=nn.Conv2d(32, 64, kernel_size=5), relu3=nn.ReLU(),
        pool3=nn.MaxPool2d(2),
        conv4=nn.Conv2d(64, 128, kernel_size=3, padding=1), relu4=nn.ReLU(),
        # Odd sides: the floor drops the last row and column
        pool4=nn.MaxPool2d(2),
        # `[B, C, H', W']` → `[B, C · H' · W']`, keeping the batch dimension
        flatten=nn.Flatten(),
        # C · H' · W' from the table above: right for 240×320 inputs only
        fc=nn.Linear(128 * 13 * 18, num_classes),
    ))


#
# ## Tracing shapes with forward hooks
#
# Rather than printing inside `forward`, we ask PyTorch to call us after every layer:
# `register_forward_hook(fn)` calls `fn(module, inputs, output)` each time the module runs.
# One hook on every leaf module records what went in and what came out, in execution order.
@dataclass
class TraceRow:
    # Qualified name, as in the state dict: `layer2.0.conv1`
    name: str
    # The module itself, to read its kernel size, stride and padding
    module: nn.Module
    # Input and output shapes, `[B, C, H, W]`
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]


def shape_trace(model: nn.Module, input_size: tuple[int, ...] = (1, 3, 224, 224)) -> list[TraceRow]:
    r"""
    Runs `model` once on zeros of `input_size` (on the model's device: a model built on the
    `meta` device is traced without computing anything) and returns one `TraceRow` per leaf
    module call.
    """
    rows: list[TraceRow] = []
    handles = []
    for name, module in model.named_modules():
        # Leaf modules only: a block's shape is its last layer's
        if next(module.children(), None) is None:
            def hook(mod, inputs, output, name=name):
                rows.append(TraceRow(name, mod, tuple(inputs[0].shape), tuple(output.shape)))
            handles.append(module.register_forward_hook(hook))
    try:
        device = next(model.parameters()).device
        with torch.no_grad():
            model.eval()(torch.zeros(input_size, device=device))
    finally:
        # Hooks outlive the call unless removed
        for handle in handles:
            handle.remove()
    return rows


def stage_sizes(model: nn.Module, image_size: int) -> dict[str, int]:
    r"""
    The side of the feature map after the stem convolution `conv1`, the max-pool (ImageNet
    networks only) and each stage `layer1`, `layer2`, …, for a square `image_size` input:
    for ResNet-18 at 224, `{"conv1": 112, "maxpool": 56, "layer1": 56, "layer2": 28, …}`.
    """
    sizes = {}
    handles = []
    for name, module in model.named_children():
        # The CIFAR networks' `maxpool` is an `nn.Identity`: not a stage of its own
        if name == "conv1" or name.startswith("layer") or isinstance(module, nn.MaxPool2d):
            def hook(mod, inputs, output, name=name):
                sizes[name] = output.shape[-1]
            handles.append(module.register_forward_hook(hook))
    try:
        device = next(model.parameters()).device
        with torch.no_grad():
            model.eval()(torch.zeros(1, 3, image_size, image_size, device=device))
    finally:
        for handle in handles:
            handle.remove()
    return sizes


#
# ## Counting parameters and multiply-adds
#
# Parameters are the elements of `model.parameters()`; batch norm's running statistics are
# buffers and not counted. torchvision counts the same way: the `num_params` it lists for
# its pretrained weights (25,557,032 for ResNet-50) is this sum.
def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# Multiply-adds are counted by `torch.utils.flop_counter`, which intercepts every
# convolution and matrix product and works out its FLOPs from the shapes alone, 2 per
# multiply-add. The paper's "FLOPs" are multiply-adds ("Our 34-layer baseline has 3.6
# billion FLOPs (multiply-adds)", Section 3.3), so we halve the count. `FlopCounterMode` has
# formulas for convolutions and matrix products (the fully connected layer), not for batch
# norm, ReLU, pooling or the shortcut additions, so those count nothing; the paper does not say
# what it counted. On the `meta` device tensors have shapes but no data, so even ResNet-152 is
# counted without computing anything or storing a single activation.
def _flop_counter(model: nn.Module, image_size: int, in_channels: int = 3) -> FlopCounterMode:
    # One forward pass of one image under the counter
    device = next(model.parameters()).device
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model.eval()(torch.zeros(1, in_channels, image_size, image_size, device=device))
    return counter


def count_macs(model: nn.Module, image_size: int = 224, in_channels: int = 3) -> int:
    r"""Multiply-adds of one forward pass of one `image_size`×`image_size` image (of
    `in_channels` channels: a layer or block inside a network can be counted on its own)."""
    return _flop_counter(model, image_size, in_channels).get_total_flops() // 2


def macs_per_layer(model: nn.Module, image_size: int = 224) -> dict[str, int]:
    r"""
    The same count, layer by layer: `{"conv1": 118013952, "layer1.0.conv1": …}`, for the
    leaf modules that count anything (convolutions and `fc`).
    """
    counter = _flop_counter(model, image_size)
    # The counter names a layer after the model's class and its path: `ResNet.layer1.0.conv1`
    prefix = type(model).__name__ + "."
    leaves = {name for name, module in model.named_modules() if next(module.children(), None) is None}
    counts = {}
    for name, flops_by_op in counter.get_flop_counts().items():
        name = name.removeprefix(prefix)
        if name in leaves:
            counts[name] = sum(flops_by_op.values()) // 2
    return counts


def on_meta(build: Callable[[], nn.Module]) -> nn.Module:
    # Builds a model whose tensors have shapes but no data: fast to trace and count
    with torch.device("meta"):
        return build()


#
# ### One block by hand
#
# A convolution computes, for each of its $C_{out}$ output channels at each of its $H' W'$
# output positions, a weighted sum over a $k \times k$ window of all $C_{in}$ input channels:
# $k^2 C_{in}$ multiply-adds each. In all,
#
# $$\text{multiply-adds} = k^2 \cdot C_{in} \cdot C_{out} \cdot H' \cdot W'$$
#
# (the bias, where there is one, adds $C_{out} H' W'$ additions, which are not counted). The
# positions are the *output's*: a stride-2 layer reads the large map but does a quarter of the
# work of the same layer at stride 1.
#
# Here is the first block of ResNet-18's second stage, `layer2.0`, layer by layer: a basic
# block from 64 channels at 56×56 to 128 channels at 28×28, with an option B projection
# shortcut beside it. The table is generated from the shape trace, and the build stops if a
# number in its last column differs from `FlopCounterMode`'s count of that layer:
#
# <!-- md: labml_resnet.shapes.block_walkthrough_markdown("resnet18", "layer2.0", 224) -->
#
# `conv1` carries the stride and takes the side from 56 to 28. `conv2` costs twice as much
# with the same output: its input has 128 channels, not 64. The projection `downsample.0`
# sees the same channels and positions as `conv1` and costs a ninth of it, $1^2$ against
# $3^2$. Batch norm and ReLU keep the shape and count nothing, and neither does the addition
# $\mathcal{F}(x) + W_s x$, which is not a module and so has no row: it comes just before the
# last ReLU, where the branch and the shortcut meet at 128 × 28 × 28. (The rows are in the
# order the layers run.)
# The ResNet-18 table below has the same shapes, and the sum is this block's share of the
# ResNet-18 total in the multiply-adds table.

#
# ## The tables
#
# `labml_resnet/_tables.py`, part of the site's machinery, writes this page's tables from
# `shape_trace`, `count_parameters` and `count_macs`; the site calls it when it builds the page.
from labml_resnet._tables import (block_walkthrough_markdown, cifar_cost_table_markdown,  # noqa: E402, F401
                                  flop_table_markdown, parameter_table_markdown, shape_table_markdown,
                                  small_cnn_table_markdown, stage_table_markdown, stride_placement_table_markdown)

#
# ### Stage by stage
#
# ResNet-18 at 224×224: the stem takes 224 to 56 in two steps; each stage after the first
# halves the side once, in its first block (with a $1 \times 1$ projection shortcut beside it):
#
# <!-- md: labml_resnet.shapes.stage_table_markdown("resnet18", 224) -->
#
# ??? note "ResNet-18 layer by layer: every convolution and pooling layer, with the formula"
#
#     <!-- md: labml_resnet.shapes.shape_table_markdown("resnet18", 224) -->
#
# ResNet-50 at 224×224: with the paper's stride placement the first $1 \times 1$ of
# `layer2.0`, `layer3.0` and `layer4.0` halves the side, and the $3 \times 3$ after it works
# on the smaller map:
#
# <!-- md: labml_resnet.shapes.stage_table_markdown("resnet50", 224) -->
#
# ??? note "ResNet-50 layer by layer: every convolution and pooling layer, with the formula"
#
#     <!-- md: labml_resnet.shapes.shape_table_markdown("resnet50", 224) -->
#
# ResNet-20 at 32×32: the CIFAR stem keeps 32×32; stages run at 32, 16 and 8, and option A's
# zero-padding shortcuts subsample with stride 2:
#
# <!-- md: labml_resnet.shapes.stage_table_markdown("resnet20", 32) -->
#
# ??? note "ResNet-20 layer by layer, with the formula"
#
#     <!-- md: labml_resnet.shapes.shape_table_markdown("resnet20", 32) -->
#
# ### Parameters
#
# <!-- md: labml_resnet.shapes.parameter_table_markdown() -->
#
# The plain networks have exactly the parameters of the residual ones: option A adds none. The
# paper says so of its CIFAR-10 networks, "our residual models have exactly the same depth,
# width, and number of parameters as the plain counterparts" (Section 4.2).
#
# ### Multiply-adds
#
# <!-- md: labml_resnet.shapes.flop_table_markdown() -->
#
# Our counts are within 2% of the paper's Table 1. torchvision's column is its own `resnet*`
# counted the same way, and agrees with the "GFLOPS" its documentation lists for its weights
# (`meta["_ops"]`, 4.089 for ResNet-50): those are multiply-adds too. The basic-block networks
# are the same in both; the bottleneck networks cost more in torchvision, and
# `stride_on="3x3"` here counts exactly what torchvision's do.
#
# **Where the extra multiply-adds come from.** Moving the stride from the first $1 \times 1$
# of a bottleneck to its $3 \times 3$ does not make the $3 \times 3$ any dearer: multiply-adds
# scale with the *output* positions, and the strided $3 \times 3$ still outputs 28×28, 14×14
# and 7×7. What changes is the first $1 \times 1$ in the first block of each later stage, which
# no longer strides and so runs at its input's resolution: four times as many positions. For
# ResNet-50 those are the only three layers whose counts differ:
#
# <!-- md: labml_resnet.shapes.stride_placement_table_markdown("resnet50") -->
#
# Each of the three rows is the same number: $C_{in} C_{out}$ grows four times from stage to
# stage while $H' W'$ shrinks four times, so $256 \cdot 128 \cdot (56^2 - 28^2)$,
# $512 \cdot 256 \cdot (28^2 - 14^2)$ and $1024 \cdot 512 \cdot (14^2 - 7^2)$ are equal.
#
# The CIFAR-10 networks, at 32×32:
#
# <!-- md: labml_resnet.shapes.cifar_cost_table_markdown() -->

#
# ## Exercises
#
# 1. **The formula against PyTorch.** Check the formula for a $7 \times 7$ convolution with
#    stride 2 and padding 3 on 225 pixels.
#    *Hint:* `nn.Conv2d(3, 8, 7, 2, 3)(torch.zeros(1, 3, 225, 225)).shape`.
#
#     ??? success "Answer"
#
#         $\lfloor (225 + 2 \cdot 3 - (7 - 1) - 1) / 2 \rfloor + 1 = \lfloor 224 / 2 \rfloor + 1 = 113$,
#         and PyTorch agrees: `torch.Size([1, 8, 113, 113])`. That is $\lceil 225 / 2 \rceil$: the
#         stem rounds up, like every stride-2 layer of a ResNet. `stage_sizes(resnet18(), 225)` goes
#         on from there: 113 after `conv1`, 57 after the max-pool and `layer1`, then 29, 15 and 8.
#
# 2. **labml-nn's network.** Trace `labml_nn.resnet.ResNetBase([3, 3, 3], [16, 32, 64],
#    first_kernel_size=3)` with `shape_trace` at 32×32. In which layers does the side change?
#    *Hint:* the network chapter.
#
#     ??? success "Answer"
#
#         In three: the stem convolution `conv` (32 → 16, it has stride 2), and in the first block
#         `blocks.0.conv1` and its projection `blocks.0.shortcut.conv` (16 → 8). `blocks.3` and
#         `blocks.6`, which start the second and third stages, have stride 1 and change only the
#         channels (16 → 32 and 32 → 64): all three stages run at 8×8. That is the stride bug of
#         the network chapter.
#
# 3. **1×1 or 3×3?** Where do most of ResNet-50's multiply-adds go: $1 \times 1$ or
#    $3 \times 3$ convolutions? *Hint:* group `macs_per_layer(on_meta(resnet50))` by each
#    layer's kernel size, or multiply out $k^2 \cdot C_{in} \cdot C_{out} \cdot H' \cdot W'$
#    over the rows of `shape_trace`.
#
#     ??? success "Answer"
#
#         About half each. With the paper's stride placement, the $3 \times 3$ convolutions take
#         1,849,688,064 (47.9%), the $1 \times 1$ convolutions of the residual branches
#         1,528,561,664 (39.6%) and the four projection shortcuts 359,661,568 (9.3%): all
#         $1 \times 1$ layers together take 1,888,223,232 (48.9%), a little more than the
#         $3 \times 3$. The stem's $7 \times 7$ takes 118,013,952 (3.1%) and `fc` 2,048,000.
#         Inside a block of width $C$ that keeps its shape, the two $1 \times 1$ layers cost
#         $4C \cdot C + C \cdot 4C = 8C^2$ per position and the $3 \times 3$ costs $9C^2$; the
#         projections tip the balance. With `stride_on="3x3"` the branches' $1 \times 1$ layers grow
#         to 1,759,772,672, by the difference in the table above.
#
# 4. **A larger photo.** What must `in_features` of `small_cnn` be for 640×480 photos?
#    *Hint:* `shape_trace(small_cnn()[:-2], (1, 3, 480, 640))` traces the layers before
#    `flatten` and `fc`.
#
#     ??? success "Answer"
#
#         $H$ goes 480 → 240 → 236 → 118 → 114 → 57 → 28 and $W$ goes
#         640 → 320 → 316 → 158 → 154 → 77 → 38 (the padded convolutions keep the side and are
#         left out), so `in_features` must be $128 \cdot 28 \cdot 38 = 136{,}192$. The network as
#         written fails on such a photo, in `fc`:
#         `RuntimeError: mat1 and mat2 shapes cannot be multiplied (1x136192 and 29952x10)`.
#
