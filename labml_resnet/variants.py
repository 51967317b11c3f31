r"""
---
title: ResNeXt and wide ResNets
description: Beyond the paper, two successors that change only the bottleneck's inner width, ResNeXt (grouped 3×3 convolutions) and torchvision's wide ResNets; what `groups` costs, and builders whose outputs equal torchvision's.
---

# ResNeXt and wide ResNets

Two later families keep everything of ResNet-50 and ResNet-101 (stem, stages, shortcuts,
classifier) except the *inner* width of the bottleneck block, the channels of its first
$1 \times 1$ and of its $3 \times 3$. Both are in torchvision, and both come out of one
formula in the bottleneck of the blocks chapter:

$$\text{width} = \left\lfloor \text{bottleneck\_channels} \cdot \frac{\text{width\_per\_group}}{64} \right\rfloor \cdot \text{groups}$$

with `groups=1, width_per_group=64` for the paper's block (width = 64, 128, 256, 512 in the
four stages).

* **ResNeXt** ([Aggregated Residual Transformations for Deep Neural Networks](https://arxiv.org/abs/1611.05431),
  Xie et al. 2017) replaces the block's one transformation by a set of parallel
  low-dimensional bottleneck paths of the same shape, and adds a dimension it calls
  "cardinality" ("the size of the set of transformations"). The paper shows an equivalent
  form, a grouped $3 \times 3$ between wider $1 \times 1$ convolutions, and the authors'
  code builds that form, the paths as one *grouped* convolution:
  `resnext_bottleneck_C` in [`models/resnext.lua`](https://github.com/facebookresearch/ResNeXt/blob/master/models/resnext.lua)
  is a $1 \times 1$ to `D*C` channels, a $3 \times 3$ with `C` groups, and a $1 \times 1$ back,
  with `D = math.floor(n * (opt.baseWidth/64))`, the formula above. "32×4d" is cardinality
  32 with 4 channels per group in the first stage: `groups=32, width_per_group=4`, so the
  inner width is 128, 256, 512, 1024.
* **Wide ResNet-50-2** is torchvision's `wide_resnet50_2`. Its documentation links
  [Wide Residual Networks](https://arxiv.org/abs/1605.07146) (Zagoruyko & Komodakis 2016)
  and says exactly what it builds: "The model is the same as ResNet except for the
  bottleneck number of channels which is twice larger in every block. The number of
  channels in outer 1x1 convolutions is the same". That is ResNet-50 with
  `width_per_group=128`: blocks of 256-128-256 channels instead of 256-64-256 in the first
  stage, 2048-1024-2048 instead of 2048-512-2048 in the last. The paper trains it in its
  ImageNet experiments, as WRN-50-2-bottleneck ("ResNet-50 with wider inner bottleneck 3x3
  convolution", in the [authors' README](https://github.com/szagoruyko/wide-residual-networks));
  most of the paper is about its WRN-$n$-$k$ networks for CIFAR, with depth $n$ and widening
  factor $k$, which this package does not build.

**Where the stride goes.** The builders below default to `stride_on="3x3"`, unlike ResNet-50
here: the ResNeXt code above puts the stride on its grouped $3 \times 3$
(`Convolution(D*C,D*C,3,3,stride,stride,1,1,C)`), and so does torchvision in all four
networks. With this default, torchvision's state dicts load into the builders and give
torchvision's logits, which `tests/test_variants.py` checks for all four.
"""

from functools import partial

from torch import nn

from labml_resnet._site import markdown_writer
from labml_resnet.blocks import Bottleneck
from labml_resnet.resnet import IMAGENET_WIDTHS, ResNet, imagenet_stem, resnet50
from labml_resnet.shapes import count_macs, count_parameters, on_meta


#
# ## What `groups` costs
#
# A $3 \times 3$ convolution from 128 to 128 channels on a 56×56 map, the size of the grouped
# $3 \times 3$ in the first stage of ResNeXt-50 32×4d, with 1, 2, 32 and 64 groups. Each
# output channel reads $128 / g$ input channels, so the weights and the multiply-adds are
# divided by $g$ while the output stays `[128, 56, 56]`:
#
# <!-- md: labml_resnet.variants.groups_table_markdown(128, 56) -->
#
# ResNeXt spends what the groups save on width. In the first stage, ResNet-50's block is
# 256 → 64 → 64 → 256 and ResNeXt-50's is 256 → 128 → 128 → 256 with 32 groups: twice as wide,
# at about the same cost (exercise 2).
def grouped_conv3x3(channels: int, groups: int) -> nn.Conv2d:
    # The $3 \times 3$ of the table: `channels` in and out, no bias (a batch norm follows)
    return nn.Conv2d(channels, channels, kernel_size=3, padding=1, groups=groups, bias=False)


#
# ## The builders
#
# The options are `resnet50`'s (`num_classes`, `shortcut`, `zero_init_residual`, `stride_on`),
# by keyword; `groups` and `width_per_group` go through `ResNet` to
# every `Bottleneck`. The module names are torchvision's, so
# `resnext50_32x4d().load_state_dict(torchvision.models.resnext50_32x4d().state_dict())` works.
def _bottleneck_resnet(n_blocks: list[int], groups: int, width_per_group: int, num_classes: int = 1000,
                       shortcut: str = "B", zero_init_residual: bool = False, stride_on: str = "3x3") -> ResNet:
    return ResNet(Bottleneck, n_blocks, IMAGENET_WIDTHS, stem=imagenet_stem, num_classes=num_classes,
                  shortcut=shortcut, zero_init_residual=zero_init_residual, stride_on=stride_on,
                  groups=groups, width_per_group=width_per_group)


# ResNeXt: 32 groups of 4 (ResNeXt-50) or of 8 (ResNeXt-101) channels in the first stage
def resnext50_32x4d(**options) -> ResNet:
    return _bottleneck_resnet([3, 4, 6, 3], groups=32, width_per_group=4, **options)


def resnext101_32x8d(**options) -> ResNet:
    return _bottleneck_resnet([3, 4, 23, 3], groups=32, width_per_group=8, **options)


# torchvision's wide ResNets: one group, twice the paper's inner width
def wide_resnet50_2(**options) -> ResNet:
    return _bottleneck_resnet([3, 4, 6, 3], groups=1, width_per_group=128, **options)


def wide_resnet101_2(**options) -> ResNet:
    return _bottleneck_resnet([3, 4, 23, 3], groups=1, width_per_group=128, **options)


#
# ## Three networks of about ResNet-50's depth
#
# Parameters and multiply-adds at 224×224, counted as in the shapes chapter, all three with
# the stride on the $3 \times 3$. The last column is not from the papers: it is the top-1
# accuracy that torchvision's documentation gives for its own `IMAGENET1K_V1` weights of each
# network, read from the installed torchvision.
#
# <!-- md: labml_resnet.variants.variants_table_markdown() -->
#
# ResNeXt-50 has about ResNet-50's parameters and multiply-adds; the wide network has over
# twice as many of both.


#
# ## Generated tables
#
# The two tables above, written as Markdown when the site is built.
@markdown_writer
def groups_table_markdown(channels: int, side: int) -> str:
    r"""Markdown table: weights and multiply-adds of a 3×3 convolution at `channels` for 1, 2, 32, 64 groups."""
    rows = [f"| `groups` | input channels per output channel | weight shape | parameters | multiply-adds at {side}×{side} |",
            "|---:|---:|---|---:|---:|"]
    for groups in (1, 2, 32, 64):
        conv = on_meta(lambda groups=groups: grouped_conv3x3(channels, groups))
        shape = " × ".join(str(d) for d in conv.weight.shape)
        macs = count_macs(conv, side, in_channels=channels)
        rows.append(f"| {groups} | {channels // groups} | {shape} | {count_parameters(conv):,} | {macs:,} |")
    return "\n".join(rows)


# The three networks of the comparison, with torchvision's weights enum for the last column
VARIANTS = {
    "ResNet-50": (partial(resnet50, stride_on="3x3"), "ResNet50_Weights"),
    "ResNeXt-50 32×4d": (resnext50_32x4d, "ResNeXt50_32X4D_Weights"),
    "Wide ResNet-50-2": (wide_resnet50_2, "Wide_ResNet50_2_Weights"),
}


@markdown_writer
def variants_table_markdown() -> str:
    r"""Markdown table: parameters, multiply-adds and torchvision's reported top-1 of ResNet-50 and two variants."""
    import torchvision

    header = ("| network | inner width, first stage | parameters | multiply-adds ×10⁹ "
              "| top-1 accuracy of torchvision's `IMAGENET1K_V1` weights (its documentation) |")
    rows = [header, "|---|---|---:|---:|---:|"]
    for name, (build, weights) in VARIANTS.items():
        model = on_meta(build)
        conv2 = model.layer1[0].conv2
        width = f"{conv2.out_channels} ({conv2.groups} × {conv2.out_channels // conv2.groups})"
        top1 = getattr(torchvision.models, weights).IMAGENET1K_V1.meta["_metrics"]["ImageNet-1K"]["acc@1"]
        rows.append(f"| {name} | {width} | {count_parameters(model):,} | {count_macs(model) / 1e9:.2f} "
                    f"| {top1:.1f}% |")
    return "\n".join(rows)


#
# ## Exercises
#
# 1. **Depthwise.** Add a row to the `groups` table for `groups=128`. What does each output
#    channel see, and what does the layer cost? *Hint:* `grouped_conv3x3(128, 128)`.
#
#     ??? success "Answer"
#
#         One input channel: each of the 128 channels is filtered on its own by one $3 \times 3$
#         kernel, a depthwise convolution. The weight is `[128, 1, 3, 3]`, $9 \cdot 128 = 1{,}152$
#         parameters, and $1{,}152 \cdot 56^2 = 3{,}612{,}672$ multiply-adds, 128 times fewer than
#         with one group. Nothing mixes the channels any more; in a bottleneck block the
#         $1 \times 1$ layers around it do. (`tests/test_variants.py` checks the numbers.)
#
# 2. **Twice as wide for the same price.** Count the convolution weights of the first
#    stage's identity-shaped block in ResNet-50 (`Bottleneck(256, 64)`) and in ResNeXt-50
#    32×4d (`Bottleneck(256, 64, groups=32, width_per_group=4)`).
#
#     ??? success "Answer"
#
#         ResNet-50: $256 \cdot 64 + 9 \cdot 64 \cdot 64 + 64 \cdot 256 = 69{,}632$. ResNeXt-50:
#         $256 \cdot 128 + 9 \cdot 128 \cdot 4 + 128 \cdot 256 = 70{,}144$, where $9 \cdot 128 \cdot 4$
#         is the grouped $3 \times 3$ (each of its 128 output channels reads 4). The grouped
#         $3 \times 3$ is eight times cheaper than ResNet-50's; the $1 \times 1$ layers, twice as
#         wide, cost twice as much. (`tests/test_variants.py` checks both sums.)
