r"""
---
title: Shapes and costs
description: The output-size formula, a layer-by-layer shape trace with forward hooks, and parameter and multiply-add counts checked against the paper's tables.
---

# Shapes and costs

Every number in this chapter is computed by the code below when the site is built, and the
tests check the same functions against the paper's tables. Nothing here is typed in by hand
except the paper's own figures, which are quoted beside ours.

## The output-size formula

A convolution or pooling layer with kernel size $k$, stride $s$, padding $p$ and dilation $d$
turns a side of $n$ pixels into

$$n' = \left\lfloor \frac{n + 2p - d(k - 1) - 1}{s} \right\rfloor + 1$$

pixels. With $k = 3$, $p = 1$ (and $d = 1$): stride 1 keeps $n$, stride 2 gives
$\lceil n / 2 \rceil$, which is why every $3 \times 3$ convolution in a ResNet has padding 1.
"""

from dataclasses import dataclass
from typing import Callable, Optional

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

import labml_resnet.preact as preact
import labml_resnet.resnet as resnet


def conv_output_size(n: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    r"""
    The formula above, for one side of the input: `n` pixels in, the number of pixels out.
    It holds for `nn.Conv2d`, `nn.MaxPool2d` and `nn.AvgPool2d` (with `ceil_mode=False`).
    """
    return (n + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1


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
# buffers and not counted, as in the paper and torchvision.
def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# Multiply-adds are counted by `torch.utils.flop_counter`, which intercepts every
# convolution and matrix product and adds up its FLOPs from the shapes alone. It counts a
# multiply-add as 2 FLOPs, and the paper's "FLOPs" in its Table 1 are multiply-adds,
# so we halve it. Only convolutions and the fully connected layer are counted, as in the paper:
# batch norm, ReLU, pooling and the shortcut additions are not. On the `meta` device nothing is
# computed, so even ResNet-152 is counted in milliseconds.
def count_macs(model: nn.Module, image_size: int = 224) -> int:
    device = next(model.parameters()).device
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model.eval()(torch.zeros(1, 3, image_size, image_size, device=device))
    return counter.get_total_flops() // 2


def on_meta(build: Callable[[], nn.Module]) -> nn.Module:
    # Builds a model whose tensors have shapes but no data: fast to trace and count
    with torch.device("meta"):
        return build()


#
# ## Generated tables
#
# The functions below write the tables of this chapter as Markdown; the site calls them
# when it is built. First, a layer-by-layer walk-through: every convolution and pooling layer
# with the output-size formula applied to its input.
def _formula(module: nn.Module, n: int) -> str:
    # The formula with this layer's numbers, as plain text: ⌊(n + 2p − d(k − 1) − 1) / s⌋ + 1
    pair = lambda v: v[0] if isinstance(v, tuple) else v  # noqa: E731 (square kernels only)
    k, s, p = pair(module.kernel_size), pair(module.stride), pair(module.padding)
    d = pair(getattr(module, "dilation", 1))
    out = conv_output_size(n, k, s, p, d)
    dilation = f"{d}·" if d != 1 else ""
    return f"⌊({n} + 2·{p} − {dilation}({k} − 1) − 1) / {s}⌋ + 1 = {out}"


def _shape(shape: tuple[int, ...]) -> str:
    # `[1, 64, 56, 56]` without the batch dimension: `64 × 56 × 56`
    return " × ".join(str(d) for d in shape[1:])


def shape_table_markdown(model_name: str, image_size: int) -> str:
    r"""
    Markdown table of the layers of `model_name` (a builder of this package) that change
    shape or define it: convolutions, pooling and the classifier, with the formula applied.
    """
    builder = getattr(resnet, model_name, None) or getattr(preact, model_name)
    model = on_meta(builder)
    rows = ["| layer | kind | input | output | output side |", "|---|---|---|---|---|"]
    for row in shape_trace(model, (1, 3, image_size, image_size)):
        module = row.module
        if isinstance(module, (nn.Conv2d, nn.MaxPool2d)):
            pair = lambda v: v[0] if isinstance(v, tuple) else v  # noqa: E731
            kind = (f"{pair(module.kernel_size)}×{pair(module.kernel_size)} "
                    f"{'conv' if isinstance(module, nn.Conv2d) else 'max-pool'}, /{pair(module.stride)}")
            side = _formula(module, row.in_shape[-1])
        elif isinstance(module, (nn.AdaptiveAvgPool2d, nn.Linear)):
            kind = "global average pool" if isinstance(module, nn.AdaptiveAvgPool2d) else "fully connected"
            side = "1" if isinstance(module, nn.AdaptiveAvgPool2d) else "—"
        elif type(module).__name__ == "ZeroPadShortcut":
            kind, side = f"zero-pad shortcut, /{module.stride}", f"⌈{row.in_shape[-1]} / {module.stride}⌉ = {row.out_shape[-1]}"
        else:
            # Batch norm, ReLU and identities keep the shape
            continue
        rows.append(f"| `{row.name}` | {kind} | {_shape(row.in_shape)} | {_shape(row.out_shape)} | {side} |")
    return "\n".join(rows)


#
# Parameter counts beside the published ones. For the ImageNet networks the reference is
# torchvision's implementation, counted live; for CIFAR-10 it is the paper's Table 6, which
# gives them in millions.
PAPER_CIFAR_PARAMS = {"resnet20": "0.27M", "resnet32": "0.46M", "resnet44": "0.66M",
                      "resnet56": "0.85M", "resnet110": "1.7M", "resnet1202": "19.4M"}


def parameter_table_markdown() -> str:
    r"""Markdown table: our parameter count of each network beside torchvision's or the paper's."""
    import torchvision

    rows = ["| network | parameters (this package) | reference | reference count |",
            "|---|---:|---|---:|"]
    for name in ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152"):
        ours = count_parameters(on_meta(getattr(resnet, name)))
        theirs = count_parameters(on_meta(getattr(torchvision.models, name)))
        rows.append(f"| {name} | {ours:,} | torchvision | {theirs:,} |")
    for name, paper in PAPER_CIFAR_PARAMS.items():
        ours = count_parameters(on_meta(getattr(resnet, name)))
        plain = name.replace("resnet", "plain")
        # The plain networks exist up to 110 layers
        if hasattr(resnet, plain):
            note = f"{paper}; plain: {count_parameters(on_meta(getattr(resnet, plain))):,}"
        else:
            note = paper
        rows.append(f"| {name} | {ours:,} | paper, Table 6 | {note} |")
    return "\n".join(rows)


#
# Multiply-adds of the ImageNet networks at 224×224 against the paper's Table 1, with the
# paper's stride placement, and torchvision's "V1.5" ResNet-50 for comparison.
PAPER_IMAGENET_GMACS = {"resnet18": 1.8, "resnet34": 3.6, "resnet50": 3.8, "resnet101": 7.6, "resnet152": 11.3}


def flop_table_markdown() -> str:
    r"""Markdown table: multiply-adds (×10⁹) at 224×224, ours against the paper's Table 1."""
    import torchvision

    rows = ["| network | multiply-adds ×10⁹ (this package) | paper, Table 1 | difference |",
            "|---|---:|---:|---:|"]
    for name, paper in PAPER_IMAGENET_GMACS.items():
        ours = count_macs(on_meta(getattr(resnet, name))) / 1e9
        rows.append(f"| {name} | {ours:.2f} | {paper} | {100 * (ours - paper) / paper:+.1f}% |")
    v15 = count_macs(on_meta(lambda: resnet.resnet50(stride_on="3x3"))) / 1e9
    tv = count_macs(on_meta(torchvision.models.resnet50)) / 1e9
    rows.append(f"| resnet50, `stride_on=\"3x3\"` | {v15:.2f} | — | |")
    rows.append(f"| torchvision `resnet50` (V1.5) | {tv:.2f} | — | |")
    return "\n".join(rows)


# The small networks are cheap: multiply-adds and parameters of the CIFAR-10 ResNets at 32×32.
def cifar_cost_table_markdown() -> str:
    r"""Markdown table: parameters and multiply-adds of the CIFAR-10 networks at 32×32."""
    rows = ["| network | parameters | multiply-adds ×10⁶ |", "|---|---:|---:|"]
    for name in ("resnet20", "resnet32", "resnet44", "resnet56", "resnet110", "resnet1202",
                 "preact_resnet110", "preact_resnet164"):
        model = on_meta(getattr(resnet, name, None) or getattr(preact, name))
        rows.append(f"| {name} | {count_parameters(model):,} | {count_macs(model, 32) / 1e6:.1f} |")
    return "\n".join(rows)


#
# ## The tables
#
# ### ResNet-18 at 224×224
#
# The stem takes 224 to 56 in two steps; each stage after the first halves the side once,
# in its first block (with a $1 \times 1$ projection shortcut beside it):
#
# <!-- md: labml_resnet.shapes.shape_table_markdown("resnet18", 224) -->
#
# ### ResNet-50 at 224×224
#
# With the paper's stride placement the first $1 \times 1$ of `layer2.0`, `layer3.0` and
# `layer4.0` halves the side, and the $3 \times 3$ after it works on the smaller map:
#
# <!-- md: labml_resnet.shapes.shape_table_markdown("resnet50", 224) -->
#
# ### ResNet-20 at 32×32
#
# The CIFAR stem keeps 32×32; stages run at 32, 16 and 8, and option A's zero-padding
# shortcuts subsample with stride 2:
#
# <!-- md: labml_resnet.shapes.shape_table_markdown("resnet20", 32) -->
#
# ### Parameters
#
# <!-- md: labml_resnet.shapes.parameter_table_markdown() -->
#
# The plain networks have exactly the parameters of the residual ones: option A adds none.
#
# ### Multiply-adds
#
# <!-- md: labml_resnet.shapes.flop_table_markdown() -->
#
# Moving the stride of ResNet-50's bottlenecks from the first $1 \times 1$ to the $3 \times 3$
# makes each stage's first $3 \times 3$ run on the larger feature map, four times as many
# positions: that is why the `stride_on="3x3"` row and torchvision's cost more than the
# paper's `resnet50`.
#
# <!-- md: labml_resnet.shapes.cifar_cost_table_markdown() -->

#
# ## Exercises
#
# 1. Check the formula against PyTorch for a $7 \times 7$ convolution with stride 2 and
#    padding 3 on 225 pixels. *Hint:* `nn.Conv2d(3, 8, 7, 2, 3)(torch.zeros(1, 3, 225, 225)).shape`.
# 2. Trace `labml_nn.resnet.ResNetBase([3, 3, 3], [16, 32, 64], first_kernel_size=3)` with
#    `shape_trace` at 32×32. In which layers does the side change? *Hint:* the network chapter.
# 3. Where do most of ResNet-50's multiply-adds go: $1 \times 1$ or $3 \times 3$
#    convolutions? *Hint:* filter `shape_trace` rows by kernel size and multiply out
#    $k^2 \cdot C_{in} \cdot C_{out} \cdot H' \cdot W'$.
