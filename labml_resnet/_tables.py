r"""
---
title: The shapes chapter's tables
description: Site machinery, not a page (no nav entry): the Markdown tables of the shapes chapter.
---

The tables of the shapes chapter, written as Markdown for the site.

The chapter (`labml_resnet/shapes.py`) teaches the output-size formula, the shape trace and the
counts; this module turns them into the tables its `<!-- md: … -->` lines ask for, so that a
reader of the chapter never scrolls through table formatting. It is site machinery, not a
chapter: it is in no nav entry, so it has no page, and `standalone.py` makes no copies of it.

The writers are published under the chapter's name, `labml_resnet.shapes.shape_table_markdown`
and so on (the chapter imports them): that is the name its pages and catalogs call, and where a
reader of a page looks for them. Each one checks what it writes where it can: the walk-through
of one block stops the build if a product it writes out differs from `FlopCounterMode`'s count.
"""

from typing import Callable

from torch import nn

import labml_resnet.preact as preact
import labml_resnet.resnet as resnet
# Late-bound (`shapes.shape_trace`): the chapter imports this module while it is being imported
from labml_resnet import shapes
from labml_resnet._site import markdown_writer


def _writer(function: Callable[..., str]) -> Callable[..., str]:
    # Registered as `labml_resnet.shapes.NAME`, the name the chapter publishes it under
    function.__module__ = shapes.__name__
    return markdown_writer(function)


def _builder(model_name: str) -> Callable[..., nn.Module]:
    # A network of this package by name: `resnet18`, …, `preact_resnet164`
    return getattr(resnet, model_name, None) or getattr(preact, model_name)


def _side(value, axis: int) -> int:
    # PyTorch keeps a layer's sizes as a number or an `(H, W)` pair
    return value[axis] if isinstance(value, tuple) else value


def _formula(module: nn.Module, n: int, axis: int = 1) -> str:
    # The formula with this layer's numbers along `axis` (0: H, 1: W), as plain text:
    # ⌊(n + 2p − d(k − 1) − 1) / s⌋ + 1
    k, s, p = (_side(getattr(module, a), axis) for a in ("kernel_size", "stride", "padding"))
    d = _side(getattr(module, "dilation", 1), axis)
    out = shapes.conv_output_size(n, k, s, p, d)
    dilation = f"{d}·" if d != 1 else ""
    return f"⌊({n} + 2·{p} − {dilation}({k} − 1) − 1) / {s}⌋ + 1 = {out}"


def _shape(shape: tuple[int, ...]) -> str:
    # `[1, 64, 56, 56]` without the batch dimension: `64 × 56 × 56`
    return " × ".join(str(d) for d in shape[1:])


def _kind(module: nn.Module) -> str:
    # `3×3 conv, 64 → 128, /2` or `2×2 max-pool, /2`, as in the paper's figures: no `/1`
    k, s = _side(module.kernel_size, 0), _side(module.stride, 0)
    stride = f", /{s}" if s != 1 else ""
    if isinstance(module, nn.Conv2d):
        return f"{k}×{k} conv, {module.in_channels} → {module.out_channels}{stride}"
    return f"{k}×{k} max-pool{stride}"


def _conv_macs(module: nn.Conv2d, out_shape: tuple[int, ...]) -> tuple[int, str]:
    # $k^2 \cdot C_{in} \cdot C_{out} \cdot H' \cdot W'$ for one image, and the product written out
    k_h, k_w = module.kernel_size
    c_in, c_out = module.in_channels // module.groups, module.out_channels
    h, w = out_shape[-2:]
    macs = k_h * k_w * c_in * c_out * h * w
    kernel = f"{k_h}²" if k_h == k_w else f"{k_h}·{k_w}"
    return macs, f"{kernel}·{c_in}·{c_out}·{h}·{w} = {macs:,}"


@_writer
def shape_table_markdown(model_name: str, image_size: int) -> str:
    r"""
    Markdown table of the layers of `model_name` (a builder of this package) that change
    shape or define it: convolutions, pooling and the classifier, with the formula applied.
    """
    model = shapes.on_meta(_builder(model_name))
    rows = ["| layer | kind | input | output | output side |", "|---|---|---|---|---|"]
    for row in shapes.shape_trace(model, (1, 3, image_size, image_size)):
        module = row.module
        if isinstance(module, (nn.Conv2d, nn.MaxPool2d)):
            kind, side = _kind(module), _formula(module, row.in_shape[-1])
        elif isinstance(module, nn.AdaptiveAvgPool2d):
            kind, side = "global average pool", "1"
        elif isinstance(module, nn.Linear):
            kind, side = "fully connected", "—"
        elif type(module).__name__ == "ZeroPadShortcut":
            kind, side = f"zero-pad shortcut, /{module.stride}", f"⌈{row.in_shape[-1]} / {module.stride}⌉ = {row.out_shape[-1]}"
        else:
            # Batch norm, ReLU and identities keep the shape
            continue
        rows.append(f"| `{row.name}` | {kind} | {_shape(row.in_shape)} | {_shape(row.out_shape)} | {side} |")
    return "\n".join(rows)



# The summary of a long trace: one row per part of the network, as in the paper's Table 1.
@_writer
def stage_table_markdown(model_name: str, image_size: int) -> str:
    r"""
    Markdown table: the stem, each stage `layer1`, `layer2`, … and the classifier of
    `model_name`, with their input and output shapes and the layers in which the side changes
    (the full trace is `shape_table_markdown`).
    """
    model = shapes.on_meta(_builder(model_name))
    # The trace's rows by top-level module, in the order they run: `layer2.0.conv1` is `layer2`'s
    parts: dict[str, list] = {}
    for row in shapes.shape_trace(model, (1, 3, image_size, image_size)):
        parts.setdefault(row.name.split(".")[0], []).append(row)
    rows = ["| part | kind | input | output | side changed by |", "|---|---|---|---|---|"]
    for name, trace in parts.items():
        module = trace[0].module
        if name.startswith("layer"):
            kind = f"{len({row.name.split('.')[1] for row in trace})} blocks"
        elif isinstance(module, (nn.Conv2d, nn.MaxPool2d)):
            kind = _kind(module)
        elif isinstance(module, nn.AdaptiveAvgPool2d):
            kind = "global average pool"
        elif isinstance(module, nn.Linear):
            kind = "fully connected"
        else:
            # Batch norm, ReLU and identities keep the shape
            continue
        changed = ", ".join(f"`{row.name}`" for row in trace
                            if len(row.in_shape) == 4 and row.in_shape[-1] != row.out_shape[-1])
        rows.append(f"| `{name}` | {kind} | {_shape(trace[0].in_shape)} | {_shape(trace[-1].out_shape)} "
                    f"| {changed or '—'} |")
    return "\n".join(rows)

# The non-square walk-through: $H$ and $W$ side by side, down to `in_features`.
@_writer
def small_cnn_table_markdown() -> str:
    r"""Markdown table: `small_cnn` on a `[1, 3, 240, 320]` input, the formula applied to each side."""
    model = shapes.small_cnn()
    rows = ["| layer | kind | output | $H$ | $W$ |", "|---|---|---|---|---|"]
    for row in shapes.shape_trace(model, (1, 3, 240, 320)):
        module = row.module
        if isinstance(module, (nn.Conv2d, nn.MaxPool2d)):
            padding = _side(module.padding, 0)
            kind = _kind(module) + (f", padding {padding}" if padding else "")
            rows.append(f"| `{row.name}` | {kind} | {_shape(row.out_shape)} | "
                        f"{_formula(module, row.in_shape[2], 0)} | {_formula(module, row.in_shape[3], 1)} |")
        elif isinstance(module, nn.Flatten):
            c, h, w = row.in_shape[1:]
            rows.append(f"| `{row.name}` | flatten | {row.out_shape[1]:,} | "
                        f"$C \\cdot H' \\cdot W'$ = {c}·{h}·{w} = {c * h * w:,} | |")
        elif isinstance(module, nn.Linear):
            rows.append(f"| `{row.name}` | fully connected, `in_features={module.in_features}` "
                        f"| {row.out_shape[1]} | | |")
    return "\n".join(rows)


# One block, layer by layer, with each convolution's multiply-adds written out and checked.
@_writer
def block_walkthrough_markdown(model_name: str, block_name: str, image_size: int) -> str:
    r"""
    Markdown table: every layer of the block `block_name` (e.g. `"layer2.0"`) of `model_name`,
    its output shape and, for a convolution, $k^2 \cdot C_{in} \cdot C_{out} \cdot H' \cdot W'$
    written out and summed. Raises if a product differs from `FlopCounterMode`'s count.
    """
    model = shapes.on_meta(_builder(model_name))
    counted = shapes.macs_per_layer(model, image_size)
    trace = [row for row in shapes.shape_trace(model, (1, 3, image_size, image_size))
             if row.name.startswith(block_name + ".")]
    rows = ["| layer | what it does | output | output side | multiply-adds $k^2 \\cdot C_{in} \\cdot C_{out} \\cdot H' \\cdot W'$ |",
            "|---|---|---|---|---:|",
            f"| input | | {_shape(trace[0].in_shape)} | | |"]
    total = 0
    for row in trace:
        module, name = row.module, f"`{row.name.removeprefix(block_name + '.')}`"
        if isinstance(module, nn.Conv2d):
            macs, written = _conv_macs(module, row.out_shape)
            if macs != counted[row.name]:
                raise AssertionError(f"{row.name}: {written}, but FlopCounterMode counts {counted[row.name]:,}")
            total += macs
            rows.append(f"| {name} | {_kind(module)}, padding {_side(module.padding, 0)} | "
                        f"{_shape(row.out_shape)} | {_formula(module, row.in_shape[-1])} | {written} |")
        else:
            what = {nn.BatchNorm2d: "batch norm", nn.ReLU: "ReLU"}.get(type(module), type(module).__name__)
            rows.append(f"| {name} | {what} | {_shape(row.out_shape)} | | — |")
    rows.append(f"| **total** | | | | **{total:,}** |")
    return "\n".join(rows)


#
# Parameter counts beside the published ones. For the ImageNet networks the reference is
# torchvision's implementation, counted live; for CIFAR-10 it is the paper's Table 6, which
# gives them in millions.
PAPER_CIFAR_PARAMS = {"resnet20": "0.27M", "resnet32": "0.46M", "resnet44": "0.66M",
                      "resnet56": "0.85M", "resnet110": "1.7M", "resnet1202": "19.4M"}


@_writer
def parameter_table_markdown() -> str:
    r"""Markdown table: our parameter count of each network beside torchvision's or the paper's."""
    import torchvision

    rows = ["| network | parameters (this package) | reference | reference count |",
            "|---|---:|---|---:|"]
    for name in ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152"):
        ours = shapes.count_parameters(shapes.on_meta(getattr(resnet, name)))
        theirs = shapes.count_parameters(shapes.on_meta(getattr(torchvision.models, name)))
        rows.append(f"| {name} | {ours:,} | torchvision | {theirs:,} |")
    for name, paper in PAPER_CIFAR_PARAMS.items():
        ours = shapes.count_parameters(shapes.on_meta(getattr(resnet, name)))
        plain = name.replace("resnet", "plain")
        # The plain networks exist up to 110 layers
        if hasattr(resnet, plain):
            note = f"{paper}; plain: {shapes.count_parameters(shapes.on_meta(getattr(resnet, plain))):,}"
        else:
            note = paper
        rows.append(f"| {name} | {ours:,} | paper, Table 6 | {note} |")
    return "\n".join(rows)


#
# Multiply-adds of the ImageNet networks at 224×224 against the paper's Table 1, with the
# paper's stride placement, and torchvision's networks (stride on the $3 \times 3$) beside them.
PAPER_IMAGENET_GMACS = {"resnet18": 1.8, "resnet34": 3.6, "resnet50": 3.8, "resnet101": 7.6, "resnet152": 11.3}


@_writer
def flop_table_markdown() -> str:
    r"""Markdown table: multiply-adds (×10⁹) at 224×224, ours and torchvision's against the paper's Table 1."""
    import torchvision

    rows = ["| network | this package (paper's stride placement) | paper, Table 1 | ours − paper "
            "| torchvision (stride on the 3×3) |",
            "|---|---:|---:|---:|---:|"]
    for name, paper in PAPER_IMAGENET_GMACS.items():
        ours = shapes.count_macs(shapes.on_meta(getattr(resnet, name))) / 1e9
        theirs = shapes.count_macs(shapes.on_meta(getattr(torchvision.models, name))) / 1e9
        rows.append(f"| {name} | {ours:.2f} | {paper} | {100 * (ours - paper) / paper:+.1f}% | {theirs:.2f} |")
    return "\n".join(rows)


# Where the two stride placements differ, layer by layer.
@_writer
def stride_placement_table_markdown(model_name: str) -> str:
    r"""
    Markdown table: the layers of the bottleneck network `model_name` whose multiply-adds
    differ between `stride_on="1x1"` (the paper) and `"3x3"` (torchvision), and the total.
    """
    models = {on: shapes.on_meta(lambda on=on: getattr(resnet, model_name)(stride_on=on)) for on in ("1x1", "3x3")}
    traces = {on: {row.name: row for row in shapes.shape_trace(model)} for on, model in models.items()}
    macs = {on: shapes.macs_per_layer(model) for on, model in models.items()}
    rows = ["| layer | kind | `stride_on=\"1x1\"` (paper) | `stride_on=\"3x3\"` (torchvision) | difference |",
            "|---|---|---:|---:|---:|"]
    total = 0
    for name in macs["1x1"]:
        if macs["1x1"][name] == macs["3x3"][name]:
            continue
        written = {on: _conv_macs(traces[on][name].module, traces[on][name].out_shape)[1] for on in models}
        difference = macs["3x3"][name] - macs["1x1"][name]
        total += difference
        module = traces["1x1"][name].module
        rows.append(f"| `{name}` | {_kind(module)} (paper) | {written['1x1']} | {written['3x3']} | {difference:+,} |")
    # Every multiply-add of the difference is in the rows above
    if total != shapes.count_macs(models["3x3"]) - shapes.count_macs(models["1x1"]):
        raise AssertionError("the per-layer differences do not add up to the difference of the totals")
    rows.append(f"| **total** | | {shapes.count_macs(models['1x1']):,} | {shapes.count_macs(models['3x3']):,} | **{total:+,}** |")
    return "\n".join(rows)


# The small networks are cheap: multiply-adds and parameters of the CIFAR-10 ResNets at 32×32.
@_writer
def cifar_cost_table_markdown() -> str:
    r"""Markdown table: parameters and multiply-adds of the CIFAR-10 networks at 32×32."""
    rows = ["| network | parameters | multiply-adds ×10⁶ |", "|---|---:|---:|"]
    for name in ("resnet20", "resnet32", "resnet44", "resnet56", "resnet110", "resnet1202",
                 "preact_resnet110", "preact_resnet164"):
        model = _builder(name)()  # real tensors: at 32×32 a forward pass costs less than tracing on `meta`
        rows.append(f"| {name} | {shapes.count_parameters(model):,} | {shapes.count_macs(model, 32) / 1e6:.1f} |")
    return "\n".join(rows)
