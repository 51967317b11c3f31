r"""
---
title: The network
description: Stems, stages, global average pooling and the classifier; He initialization, zero_init_residual, every ResNet of the paper as a builder, its ImageNet results beside our counts, and how to use them in coursework.
---

# The network

A ResNet is a **stem** that turns the image into feature maps, a few **stages** of blocks
(each stage after the first halves the feature map and doubles the width), **global average
pooling** and one fully connected **classifier**. The paper's Table 1 (ImageNet) and
Section 4.2 (CIFAR-10) fill in the numbers:

| part | ImageNet ResNet-18/34/50/101/152 | CIFAR-10 ResNet-$(6n+2)$ |
|---|---|---|
| stem | $7 \times 7$ conv, 64, stride 2; BN; ReLU; $3 \times 3$ max-pool, stride 2 | $3 \times 3$ conv, 16; BN; ReLU |
| stages | 4, widths 64, 128, 256, 512 | 3, widths 16, 32, 64 |
| feature maps (224 or 32 in) | 56, 28, 14, 7 | 32, 16, 8 |
| blocks | basic or bottleneck, `n_blocks` per stage | basic, $n$ per stage |
| shortcuts | option B (ResNet-50/101/152, torchvision); option A where ResNet-18/34 are compared with plain nets (Table 2, Fig. 4) | option A |
| head | average pool, 1000-way fc | average pool, 10-way fc |

<!-- figure: plain-vs-resnet34 -->

**Why the width doubles when the map halves.** The paper's plain networks, and so its
ResNets, follow two rules (Sec. 3.3): "(i) for the same output feature map size, the layers
have the same number of filters; and (ii) if the feature map size is halved, the number of
filters is doubled so as to preserve the time complexity per layer." A $3 \times 3$
convolution from $C$ to $C$ channels on an $H \times W$ map costs $9\, C^2 H W$ multiply-adds;
halving $H$ and $W$ divides that by 4, and doubling $C$ multiplies it by 4 again. So in
ResNet-34 a $3 \times 3$ of `layer2` (128 channels, 28×28) costs exactly as much as one of
`layer1` (64 channels, 56×56); `tests/test_resnet.py` counts both.

**The stride bug this chapter avoids.** Every stage after the first must start with a
stride-2 block. labml-nn's `ResNetBase` writes `stride = 2 if len(blocks) == 0 else 1`:
only the *very first block of the network* gets stride 2, so with its own CIFAR
configuration (a stride-2 stem, then three stages) the feature maps run
32 → 16 → 8 → 8 → 8, and the last two stages never downsample. Our `make_stage` takes the
stride from the stage's position, and a test checks the stage outputs of every builder
(and that labml-nn's peer still stays at 8×8 in every stage, so that this paragraph stays true).
"""

from functools import partial
from typing import Callable, Sequence, Type, Union

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from labml_resnet._site import markdown_writer
from labml_resnet.blocks import BasicBlock, Bottleneck, conv3x3
from labml_resnet.shortcuts import check_shortcut_option

# A block class: `BasicBlock`, `Bottleneck`, or the pre-activation blocks of a later chapter
Block = Type[Union[BasicBlock, Bottleneck]]


#
# ## Stems
#
# The ImageNet stem reduces 224×224 to 56×56 before any block runs: a $7 \times 7$ convolution
# with stride 2 (to 112) and a $3 \times 3$ max-pool with stride 2 (to 56). labml-nn has neither
# the ReLU nor the max-pool. The ReLU comes once, before the max-pool; a second one after it
# would change nothing, since the maximum of non-negative numbers is non-negative
# ([Common pitfalls](pitfalls.md#relu-after-pooling)). Like torchvision, we keep the stem's
# layers as attributes of the network (`conv1`, `bn1`, `relu`, `maxpool`) rather than in a
# sub-module, so the state-dict keys are `conv1.weight` and `bn1.weight` as in every published
# checkpoint.
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
    * `block_options` go to every block (`shortcut`, `plain`, `stride_on`)

    **Where the shortcut is decided.** Each block asks `make_shortcut` whether its input fits
    its output. In ResNet-18/34, `layer1` goes from 64 to 64 channels at stride 1, so even its
    first block gets the identity (`downsample is None`) with options A and B; only `layer2.0`,
    `layer3.0` and `layer4.0` change shape. A `make_layer` that gives `layer1.0` a projection
    anyway, as some blog code does, adds parameters that the paper's option B does not have
    ([Common pitfalls](pitfalls.md#projection-in-layer1)). In ResNet-50, `layer1.0` does change
    the shape (64 channels in, 256 out), so it gets a projection.
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
                 num_classes: int = 1000, shortcut: str = "B",
                 zero_init_residual: bool = False, plain: bool = False, **block_options):
        r"""
        * `block` is `BasicBlock` or `Bottleneck`
        * `n_blocks` is the number of blocks in each stage, e.g. `[3, 4, 6, 3]` for ResNet-34
        * `widths` is the width of each stage, e.g. `[64, 128, 256, 512]`
        * `stem` is `imagenet_stem` or `cifar_stem`; its output has `widths[0]` channels
        * `num_classes` is the number of outputs of `fc`
        * `shortcut` is the option `"A"`, `"B"` or `"C"`
        * `zero_init_residual` starts every residual branch at zero
        * `plain` builds the plain network: the same layers, no shortcuts
        * `block_options` go to the blocks (`stride_on` for bottlenecks)
        """
        super().__init__()
        if len(n_blocks) != len(widths):
            raise ValueError("n_blocks and widths need one entry per stage")
        # `shortcut=None` once meant "plain"; now it is refused with a pointer to `plain=True`
        check_shortcut_option(shortcut)
        if zero_init_residual and plain:
            raise ValueError("zero_init_residual would zero every block of a plain network")
        # The stem: `conv1`, `bn1`, `relu`, `maxpool`
        for name, module in stem(3, widths[0]).items():
            self.add_module(name, module)
        # The stages: `layer1` keeps the stem's resolution, each later one halves it
        in_channels = widths[0]
        for i, (n, width) in enumerate(zip(n_blocks, widths)):
            stride = 1 if i == 0 else 2
            stage = make_stage(block, in_channels, width, n, stride, shortcut=shortcut, plain=plain,
                               **block_options)
            self.add_module(f"layer{i + 1}", stage)
            in_channels = width * block.expansion
        # The number of stages, for `forward`
        self.n_stages = len(widths)
        # Global average pooling: one number per channel, whatever the input size; so `fc` is
        # sized from the channels alone, never from a hand-computed $512 \cdot 7 \cdot 7$
        # ([Common pitfalls](pitfalls.md#classifier-by-hand))
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
        logits, `[B, num_classes]`. The batch dimension is required: `bn1` refuses a
        `[3, H, W]` image (use `x.unsqueeze(0)` for one image).
        """
        # Stem: `[B, widths[0], H/4, W/4]` on ImageNet, `[B, 16, H, W]` on CIFAR
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        # Stages: each after the first halves H and W
        for stage in self.stages():
            x = stage(x)
        # `[B, C, h, w]` → `[B, C, 1, 1]` → `[B, C]`. `flatten(x, 1)` keeps the batch dimension;
        # `x.view(-1)` would merge the batch into the features, which a test input without a
        # batch dimension hides ([Common pitfalls](pitfalls.md#flattening-the-batch))
        x = torch.flatten(self.avgpool(x), 1)
        # `[B, num_classes]`: logits, no softmax (see "Using it in coursework" below)
        return self.fc(x)


#
# ## The ImageNet networks (the paper's Table 1)
#
# ResNet-18 and 34 stack basic blocks; 50, 101 and 152 stack bottlenecks. Every builder takes
# `num_classes`, `shortcut` and `zero_init_residual`; the bottleneck networks also take
# `stride_on` (default `"1x1"`, the paper's; use `"3x3"` with torchvision's pretrained weights).
#
# **Which shortcut option.** The default is B: torchvision's, and the paper's for its
# ResNet-50/101/152 (the caption of its Table 3: "ResNet-50/101/152 are of option B that only
# uses projections for increasing dimensions"). The paper's plain-versus-residual comparison
# on ImageNet, its Table 2 and Fig. 4, uses option A: "In the first comparison (Table 2 and
# Fig. 4 right), we use identity mapping for all shortcuts and zero-padding for increasing
# dimensions (option A)", so that the ResNets "have no extra parameter compared to the plain
# counterparts". That pair is `resnet34(shortcut="A")` and `plain34()` (or the 18-layer
# ones), and `tests/test_resnet.py` checks that their parameter counts are equal. The default
# `resnet34()` has three projection shortcuts more (exercise 4); Table 3 compares A, B and C
# for ResNet-34.
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


# The plain ImageNet networks of the degradation experiment (the paper's Table 2 and Fig. 4,
# left): the same layers with `plain=True`. Their residual counterparts in that experiment are
# `resnet18(shortcut="A")` and `resnet34(shortcut="A")`.
def plain18(num_classes: int = 1000) -> ResNet:
    return ResNet(BasicBlock, [2, 2, 2, 2], IMAGENET_WIDTHS, imagenet_stem, num_classes, plain=True)


def plain34(num_classes: int = 1000) -> ResNet:
    return ResNet(BasicBlock, [3, 4, 6, 3], IMAGENET_WIDTHS, imagenet_stem, num_classes, plain=True)


#
# ## What the paper measured on ImageNet
#
# The paper's Tables 2 and 3 compare these networks on the ImageNet validation set, with
# 10-crop testing. The error rates below are the paper's; the parameters and multiply-adds
# (the paper's "FLOPs") are ours, counted when this page was built:
#
# <!-- md: labml_resnet.resnet.paper_imagenet_table_markdown() -->
#
# **Table 2: depth hurts the plain net and helps the ResNet.** Each pair has the same layers
# and parameters (option A), yet plain-34's error is higher than plain-18's and ResNet-34's is
# lower than ResNet-18's. Plain-34 is worse in *training* too, "throughout the whole training
# procedure" (Fig. 4), and a longer schedule does not rescue it (footnote 3): "We have
# experimented with more training iterations (3×) and still observed the degradation problem,
# suggesting that this problem cannot be feasibly addressed by simply using more iterations."
#
# **Table 3: the options matter little.** B is slightly better than A, "because the
# zero-padded dimensions in A indeed have no residual learning", and C slightly better than B,
# which the paper attributes "to the extra parameters introduced by many (thirteen) projection
# shortcuts" (`resnet34(shortcut="C")` has 16 projections, the default B has 3). "But the small
# differences among A/B/C indicate that projection shortcuts are not essential for addressing
# the degradation problem", so the deeper networks use B.
#
# **Why the identity matters most in a bottleneck.** "If the identity shortcut in Fig. 5
# (right) is replaced with projection, one can show that the time complexity and model size are
# doubled, as the shortcut is connected to the two high-dimensional ends" (Sec. 4.1). Counted
# for that block, 256 channels in and out, on 56×56 maps:
#
# <!-- md: labml_resnet.resnet.bottleneck_shortcut_markdown() -->
#
# A 256 → 256 projection has $256^2$ weights, nearly as many as the three convolutions
# ($256 \cdot 64 + 9 \cdot 64^2 + 64 \cdot 256$): "doubled" is close, not exact.
#
# **Smaller than VGG.** "Our 34-layer baseline has 3.6 billion FLOPs (multiply-adds), which is
# only 18% of VGG-19 (19.6 billion FLOPs)" (Sec. 3.3). Counted the same way, with torchvision's
# `vgg19` (its fully connected layers included):
#
# <!-- md: labml_resnet.resnet.vgg_scale_markdown() -->
#
# ??? note "How the paper trained and tested them (Sec. 3.4)"
#
#     **Training.** "The image is resized with its shorter side randomly sampled in [256, 480]
#     for scale augmentation [41]. A 224×224 crop is randomly sampled from an image or its
#     horizontal flip, with the per-pixel mean subtracted [21]." Then: "We use SGD with a
#     mini-batch size of 256. The learning rate starts from 0.1 and is divided by 10 when the
#     error plateaus, and the models are trained for up to 60 × 10⁴ iterations. We use a weight
#     decay of 0.0001 and a momentum of 0.9. We do not use dropout [14], following the practice
#     in [16]." That is about 120 epochs of the 1.28 million training images
#     ($60 \cdot 10^4 \cdot 256 / (1.28 \cdot 10^6)$).
#
#     **Testing.** "In testing, for comparison studies we adopt the standard 10-crop testing
#     [21]. For best results, we adopt the fully-convolutional form as in [41, 13], and average
#     the scores at multiple scales (images are resized such that the shorter side is in
#     {224, 256, 384, 480, 640})." Tables 2 and 3 are such comparison studies: 10-crop.
#
# The paper's numbers, as printed (error rates in %). Table 2 gives top-1 only; Table 3 gives
# top-1 and top-5.
PAPER_TABLE2 = {"plain-18": 27.94, "ResNet-18 A": 27.88, "plain-34": 28.54, "ResNet-34 A": 25.03}
PAPER_TABLE3 = {"plain-34": (28.54, 10.02), "ResNet-34 A": (25.03, 7.76), "ResNet-34 B": (24.52, 7.46),
                "ResNet-34 C": (24.19, 7.40), "ResNet-50": (22.85, 6.71), "ResNet-101": (21.75, 6.05),
                "ResNet-152": (21.43, 5.71)}
# Sec. 3.3: multiply-adds (×10⁹) of the plain-34 and of VGG-19, and their ratio in %
PAPER_GMACS = {"plain-34": 3.6, "VGG-19": 19.6}
PAPER_PLAIN34_OF_VGG19 = 18

# Each network of the two tables as a builder and its options
PAPER_IMAGENET_NETWORKS = {
    "plain-18": (plain18, {}), "ResNet-18 A": (resnet18, {"shortcut": "A"}),
    "plain-34": (plain34, {}), "ResNet-34 A": (resnet34, {"shortcut": "A"}),
    "ResNet-34 B": (resnet34, {}), "ResNet-34 C": (resnet34, {"shortcut": "C"}),
    "ResNet-50": (resnet50, {}), "ResNet-101": (resnet101, {}), "ResNet-152": (resnet152, {}),
}


def _paper(value) -> str:
    # A number of the paper as printed (`7.40`), or a dash where its table has none
    return "—" if value is None else f"{value:.2f}"


@markdown_writer
def paper_imagenet_table_markdown() -> str:
    r"""Markdown table: the networks of the paper's Tables 2 and 3, our counts, its error rates."""
    # `shapes` imports this module, so its counters are imported here, not at the top
    from labml_resnet.shapes import count_macs, count_parameters, on_meta

    rows = ["| network | built by | parameters | multiply-adds ×10⁹ | top-1 err., Table 2 "
            "| top-1 err., Table 3 | top-5 err., Table 3 |", "|---|---|---:|---:|---:|---:|---:|"]
    for name, (build, options) in PAPER_IMAGENET_NETWORKS.items():
        model = on_meta(partial(build, **options))
        call = ", ".join(f'{key}="{value}"' for key, value in options.items())
        top1, top5 = PAPER_TABLE3.get(name, (None, None))
        rows.append(f"| {name} | `{build.__name__}({call})` | {count_parameters(model):,} "
                    f"| {count_macs(model) / 1e9:.2f} | {_paper(PAPER_TABLE2.get(name))} "
                    f"| {_paper(top1)} | {_paper(top5)} |")
    return "\n".join(rows)


def bottleneck_costs(shortcut: str, side: int = 56) -> tuple[int, int]:
    r"""
    Parameters and multiply-adds of `Bottleneck(256, 64)` on a `side`×`side` map: option
    `"B"` keeps the identity there, `"C"` puts a 256 → 256 projection in its place.
    """
    block = Bottleneck(256, 64, shortcut=shortcut).eval()
    # `FlopCounterMode` counts 2 FLOPs per multiply-add, as in the shapes chapter
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        block(torch.zeros(1, 256, side, side))
    return sum(p.numel() for p in block.parameters()), counter.get_total_flops() // 2


@markdown_writer
def bottleneck_shortcut_markdown() -> str:
    r"""Markdown table: `bottleneck_costs` with the identity and with a projection, and their ratio."""
    (p_id, m_id), (p_proj, m_proj) = bottleneck_costs("B"), bottleneck_costs("C")
    return "\n".join([
        "| shortcut of `Bottleneck(256, 64)` | parameters | multiply-adds |", "|---|---:|---:|",
        f"| identity | {p_id:,} | {m_id:,} |", f"| 256 → 256 projection | {p_proj:,} | {m_proj:,} |",
        f"| projection / identity | {p_proj / p_id:.2f}× | {m_proj / m_id:.2f}× |"])


@markdown_writer
def vgg_scale_markdown() -> str:
    r"""Markdown table: multiply-adds of our plain-34 and torchvision's VGG-19 beside the paper's."""
    import torchvision
    from labml_resnet.shapes import count_macs, on_meta

    plain, vgg = count_macs(on_meta(plain34)) / 1e9, count_macs(on_meta(torchvision.models.vgg19)) / 1e9
    return "\n".join([
        "| at 224×224 | multiply-adds ×10⁹, ours | paper (Sec. 3.3) |", "|---|---:|---:|",
        f"| plain-34 | {plain:.2f} | {PAPER_GMACS['plain-34']} |",
        f"| VGG-19 | {vgg:.2f} | {PAPER_GMACS['VGG-19']} |",
        f"| plain-34 / VGG-19 | {100 * plain / vgg:.1f}% | {PAPER_PLAIN34_OF_VGG19}% |"])


#
# ## The CIFAR-10 networks (the paper's Section 4.2)
#
# $6n + 2$ weighted layers: the stem convolution, $3n$ basic blocks of two convolutions each,
# and `fc`. $n = 3, 5, 7, 9, 18, 200$ give ResNet-20, 32, 44, 56, 110 and 1202.
# The paper uses option A here: "On this dataset we use identity shortcuts in all cases (i.e.,
# option A), so our residual models have exactly the same depth, width, and number of
# parameters as the plain counterparts."
CIFAR_WIDTHS = (16, 32, 64)


def cifar_resnet(depth: int, num_classes: int = 10, shortcut: str = "A",
                 zero_init_residual: bool = False, plain: bool = False) -> ResNet:
    r"""
    The CIFAR-10 ResNet of `depth` $= 6n + 2$ layers; `plain=True` gives the plain network.
    """
    if (depth - 2) % 6 != 0:
        raise ValueError(f"a CIFAR ResNet has 6n + 2 layers, not {depth}")
    n = (depth - 2) // 6
    return ResNet(BasicBlock, [n, n, n], CIFAR_WIDTHS, cifar_stem, num_classes, shortcut,
                  zero_init_residual, plain)


# One line per network of the paper's Table 6, and the plain networks of its Fig. 6.
resnet20 = partial(cifar_resnet, 20)
resnet32 = partial(cifar_resnet, 32)
resnet44 = partial(cifar_resnet, 44)
resnet56 = partial(cifar_resnet, 56)
resnet110 = partial(cifar_resnet, 110)
resnet1202 = partial(cifar_resnet, 1202)


def plain_cifar(depth: int, num_classes: int = 10) -> ResNet:
    # The same network with no shortcuts
    return cifar_resnet(depth, num_classes, plain=True)


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
# ## Using it in coursework
#
# Three things that come up when a ResNet meets a course project. Every session below is run by
# `tests/test_resnet.py`, and its printed output must match.
#
# ??? note "Fine-tuning torchvision's weights: freeze them, replace the classifier, mind the batch norms"
#
#     Keep what was learned on ImageNet, replace the
#     classifier with one for your classes, and train only the classifier (or, later, unfreeze
#     more). `weights=None` builds the same network with random weights, so the session runs
#     without a network connection; `weights="IMAGENET1K_V1"` downloads the trained ones.
#
#     ```pycon
#     >>> import torch, torchvision
#     >>> from torch import nn
#     >>> model = torchvision.models.resnet18(weights=None)  # weights="IMAGENET1K_V1": the trained ones
#     >>> for p in model.parameters():   # freeze everything learned on ImageNet
#     ...     p.requires_grad = False
#     >>> model.fc = nn.Linear(model.fc.in_features, 10)  # a new classifier, trainable
#     >>> trainable = [p for p in model.parameters() if p.requires_grad]
#     >>> sum(p.numel() for p in trainable)  # 512 · 10 weights + 10 biases
#     5130
#     >>> optimizer = torch.optim.SGD(trainable, lr=0.01, momentum=0.9)
#     ```
#
#     Freezing stops the gradient, not the batch norms: in `model.train()` they still update their
#     running statistics from your data. Put the frozen part in `eval()` mode if you want them
#     fixed, as the paper does when it fine-tunes for detection ("the BN layers are fixed during
#     fine-tuning", its Appendix A). Our `labml_resnet.resnet18()` takes the same weights through
#     `load_state_dict`, and its `fc` is replaced the same way.
#
# ??? note "An ImageNet stem on 32×32 images: 1×1 maps in the last stage, and the usual fix"
#
#     The ImageNet stem divides the side by 4 before the
#     first block, which is right for 224×224 images and wrong for CIFAR's 32×32: `layer1` gets
#     8×8 maps and `layer4` a single pixel. The CIFAR networks keep 32×32 until `layer2`:
#
#     ```pycon
#     >>> from labml_resnet import resnet18, resnet20, stage_sizes
#     >>> stage_sizes(resnet18(num_classes=10), 32)
#     {'conv1': 16, 'maxpool': 8, 'layer1': 8, 'layer2': 4, 'layer3': 2, 'layer4': 1}
#     >>> stage_sizes(resnet20(), 32)
#     {'conv1': 32, 'layer1': 32, 'layer2': 16, 'layer3': 8}
#     ```
#
#     To train a ResNet-18 on 32×32 images from scratch, a common change is a $3 \times 3$,
#     stride-1 stem without the max-pool (the paper's CIFAR networks are narrower and deeper
#     instead: the table at the top of this chapter):
#
#     ```pycon
#     >>> model = resnet18(num_classes=10)
#     >>> model.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
#     >>> model.maxpool = nn.Identity()
#     >>> stage_sizes(model, 32)
#     {'conv1': 32, 'layer1': 32, 'layer2': 16, 'layer3': 8, 'layer4': 4}
#     ```
#
#     A new `conv1` starts from random weights, so with ImageNet weights the usual choice is to
#     keep the stem and resize the images up to the size the weights were trained at instead.
#
# ??? note "Logits and cross-entropy: no softmax in the model"
#
#     `forward` returns logits, one unbounded score per class, with
#     no softmax. `nn.CrossEntropyLoss` takes logits and applies the log-softmax itself, so a
#     softmax in the model would be applied twice. For probabilities (to report a confidence)
#     apply `softmax` outside the model; the predicted class is the largest logit either way. (A
#     `Sigmoid` head with `num_classes=1` is a different mistake:
#     [Common pitfalls](pitfalls.md#sigmoid-head).)
#
#     ```pycon
#     >>> model = resnet18(num_classes=10)
#     >>> logits = model(torch.randn(4, 3, 224, 224))   # [B, 10]
#     >>> labels = torch.tensor([3, 1, 4, 1])
#     >>> loss = nn.CrossEntropyLoss()(logits, labels)  # log-softmax + negative log-likelihood
#     >>> torch.allclose(loss, nn.NLLLoss()(logits.log_softmax(dim=1), labels))
#     True
#     >>> torch.equal(logits.argmax(dim=1), logits.softmax(dim=1).argmax(dim=1))
#     True
#     ```

#
# ## Exercises
#
# 1. **Count the zero-padding shortcuts.** Print `resnet20()` and find the blocks whose
#    shortcut is a `ZeroPadShortcut`. How many are there, and why does `layer1.0` not have
#    one? How many projection shortcuts would `shortcut="C"` give? *Hint:*
#    `[name for name, m in model.named_modules() if isinstance(m, ZeroPadShortcut)]`.
#
#     ??? success "Answer"
#
#         Two: `layer2.0.downsample` (16 → 32 channels, stride 2) and `layer3.0.downsample` (32 →
#         64, stride 2). `layer1.0` takes the stem's 16 channels to 16 at stride 1, so its input
#         fits and its shortcut is the identity (`downsample is None`). With `shortcut="C"` every
#         block has a projection: $3 \cdot 3 = 9$. (`tests/test_resnet.py` checks these.)
#
# 2. **labml-nn's strides.** Build labml-nn's network:
#    `labml_nn.resnet.ResNetBase([3, 3, 3], [16, 32, 64], first_kernel_size=3)` and print the
#    shape after each block for a `[1, 3, 32, 32]` input. Which blocks should have had
#    stride 2? *Hint:* compare with `resnet20()`; the shapes chapter's `stage_sizes` does this
#    in one line.
#
#     ??? success "Answer"
#
#         Every one of its nine blocks outputs 8×8: its stem already halves 32 to 16, its very first
#         block halves 16 to 8, and no other block has stride 2. The first blocks of the second and
#         third stages (our `layer2.0` and `layer3.0`) should have stride 2, and the stem stride 1,
#         to give the paper's 32, 16 and 8. (`tests/test_resnet.py` checks labml-nn's shapes.)
#
# 3. **The degradation problem.** Train `plain20` and `resnet20` with
#    `python experiment.py --model plain20` and `--model resnet20`, then plot both runs.
#    Which has the lower *training* error? Then try 56 layers.
#    *Hint:* the paper's Fig. 6.
#
#     ??? success "Answer"
#
#         The numbers depend on your runs; the paper's Fig. 6 is what to compare with. There the
#         plain nets get worse with depth, on the training set itself: "The deep plain nets suffer
#         from increased depth, and exhibit higher training error when going deeper". The ResNets
#         get better: they "manage to overcome the optimization difficulty and demonstrate accuracy
#         gains when the depth increases". The results page records what this repository's runs
#         measured.
#
# 4. **What option B costs in ResNet-34.** How many parameters does `resnet34()` (option B)
#    have more than `resnet34(shortcut="A")` and `plain34()`? *Hint:* three blocks change
#    shape; each projection is a $1 \times 1$ convolution and a batch norm.
#
#     ??? success "Answer"
#
#         $(64 \cdot 128 + 2 \cdot 128) + (128 \cdot 256 + 2 \cdot 256) + (256 \cdot 512 + 2 \cdot 512) = 173{,}824$,
#         in `layer2.0`, `layer3.0` and `layer4.0`. `resnet34(shortcut="A")` and `plain34()` have
#         the same count, which is why the paper's Table 2 compares those two.
#         (`tests/test_resnet.py` checks all three counts.)
