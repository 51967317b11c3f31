r"""
---
title: "Appendix: will it fit?"
description: How much memory training a CIFAR-10 ResNet takes per image, measured from what autograd keeps for the backward pass, and the check that stops a run before it runs out.
---

# Appendix: will it fit?

Training keeps every tensor that the backward pass will need: the input of each convolution
and batch norm, and the output of each ReLU, for every image of the batch. That, not the weights, is what fills a GPU:
ResNet-1202 has 19.4M parameters (78 MB in float32), but it keeps more than a thousand
feature maps per image, about 88 MiB of them. Before the first step, the experiment measures what one image costs
and stops with a clear message, and a batch that would fit, instead of a CUDA out-of-memory
error some minutes in.

**Measuring.** `torch.autograd.graph.saved_tensors_hooks` calls a function for every tensor
that autograd saves during a forward pass. We run a copy of the network once on a few images
of zeros on the CPU, and add up the bytes. (On the `meta` device tensors have shapes and no data,
but PyTorch works out each batch norm there in Python: for 32×32 images the real pass is the
faster one.) Two batch sizes, and the difference between them
divided by the difference in images, give the cost of one image without the weights (which
autograd saves too, once per batch).

<!-- md: labml_resnet.experiments.memory.memory_table_markdown() -->

In bf16 autocast the saved feature maps are bfloat16, half the bytes; the check assumes
exactly half (`test_bf16_autocast_saves_half_the_bytes` in `tests/test_experiment.py` measures
ResNet-20 in bf16 autocast on the CPU and holds the ratio between 0.45 and 0.55).

**And time.** The fast recipe is meant for a GPU. Started on a CPU, it would take hours without
a word; so before its first step the experiment times a few steps of a copy of the network and
says how long the run will take, and how long `--preset quick` would.
"""

import copy
import os
import time
from functools import partial
from typing import Callable

import torch
from torch import nn

from labml_resnet._site import markdown_writer
from labml_resnet.experiments import display


def saved_bytes(net: nn.Module, batch_size: int) -> int:
    r"""The bytes autograd saves for the backward pass of one training step on `batch_size` float32 images."""
    sizes = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        sizes[id(tensor)] = tensor.numel() * tensor.element_size()
        return tensor

    probe = copy.deepcopy(net).to_empty(device="cpu").train()  # its own memory on the CPU
    with torch.no_grad():  # zeros: uninitialised memory may hold denormal numbers, which are slow
        for tensor in [*probe.parameters(), *probe.buffers()]:
            tensor.zero_()
    x = torch.zeros(batch_size, 3, 32, 32, device="cpu")  # even inside `with torch.device("meta")`
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        out = probe(x)  # kept until the sum: the saved tensors live as long as the graph
    del out
    return sum(sizes.values())


def bytes_per_image(net: nn.Module) -> float:
    r"""What one more image of a batch adds to the saved tensors, in float32."""
    return saved_bytes(net, 2) - saved_bytes(net, 1)


def fixed_bytes(net: nn.Module) -> int:
    r"""
    What does not grow with the batch: the weights, their gradients and SGD's momentum (three
    float32 copies), the CIFAR-10 images on the device (padded training set, one cropped copy,
    the test set: about 0.42 GB), and 1 GiB for the CUDA context and cuDNN's workspace.
    """
    weights = sum(p.numel() * p.element_size() for p in net.parameters())
    images = 50_000 * 3 * (40 * 40 + 32 * 32) + 10_000 * 3 * 32 * 32
    return 3 * weights + images + 2 ** 30


def available_bytes(device: torch.device) -> int:
    r"""Free memory on `device`: the GPU's, or the machine's available memory for the CPU."""
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    try:
        with open("/proc/meminfo") as f:
            info = dict(line.split(":", 1) for line in f)
        return int(info["MemAvailable"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")


def check(net: nn.Module, batch_size: int, bf16: bool, device: torch.device, available: int | None = None) -> None:
    r"""
    Stop with a message, and the largest batch of the form 2ᵏ that would fit, if a training step
    of `net` on `batch_size` images per process needs more than the `available` memory (by
    default, what is free now). 20% is added to the measured feature maps for what the step
    allocates besides them (gradients flowing backward, temporary buffers).
    """
    per_image = 1.2 * bytes_per_image(net) * (0.5 if bf16 else 1.0)
    fixed = fixed_bytes(net)
    needed = fixed + batch_size * per_image
    available = available_bytes(device) if available is None else available
    if needed <= available:
        return
    fits = 2 ** max(0, int((available - fixed) // per_image).bit_length() - 1) if available > fixed + per_image else 0
    advice = f"--batch-size {fits} would fit" if fits else "not even one image fits"
    raise SystemExit(f"A training step of batch {batch_size} needs about {needed / 2 ** 30:.1f} GiB on {device} "
                     f"({per_image / 2 ** 20:.1f} MiB per image{' in bf16' if bf16 else ''}), but only "
                     f"{available / 2 ** 30:.1f} GiB is free: {advice}.")


#
# ## How long will it take?
#
# Timed on a copy of the network with an optimizer of its own, on the first images of the data,
# uncropped: the run's own weights, batch-norm statistics, momentum and random numbers are not
# touched, so the run trains exactly as it would without the estimate. The first step is not
# timed (it allocates memory and picks kernels); a test batch is timed without gradients.
def seconds_per_image(net: nn.Module, make_optimizer: Callable, train_step: Callable, x: torch.Tensor,
                      y: torch.Tensor, test_x: torch.Tensor, steps: int = 2) -> tuple[float, float]:
    r"""
    Seconds per training image and per test image of `net`: `steps` calls of
    `train_step(copy, optimizer, x, y)` after a first one, and one forward pass over `test_x`.
    """
    probe = copy.deepcopy(net)
    optimizer = make_optimizer(probe)
    train_step(probe, optimizer, x, y)
    start = time.perf_counter()
    for _ in range(steps):
        train_step(probe, optimizer, x, y)
    train = (time.perf_counter() - start) / (steps * len(x))
    probe.eval()
    start = time.perf_counter()
    with torch.no_grad():
        probe(test_x)
    return train, (time.perf_counter() - start) / len(test_x)


def how_long_on_cpu(lesson, net: nn.Module, config, data) -> str:
    r"""
    The line printed before the fast recipe's first step on a CPU: `seconds_per_image` of `net`
    with the experiment's (`lesson`'s) optimizer and training step, on the first images of
    `data` (a `DeviceData`), uncropped so that no random number is drawn; then how long this
    run, and `--preset quick`, would take at that speed.
    """
    batch = slice(0, config.batch_size)
    bf16 = lesson.uses_bf16(config.precision, data.train_labels.device)
    seconds = seconds_per_image(
        net, partial(lesson.make_optimizer, config=config),
        partial(lesson.train_step, label_smoothing=config.label_smoothing, bf16=bf16),
        lesson.to_input(data.train_padded[batch, :, 4:36, 4:36], data.mean, data.std, config.channels_last),
        data.train_labels[batch],
        lesson.to_input(data.test_images[batch], data.mean, data.std, config.channels_last))
    quick = lesson.make_config({"preset": "quick", "model": config.model})
    return display.cpu_estimate(seconds, config, quick, len(data.train_labels), len(data.test_labels))


@markdown_writer
def memory_table_markdown() -> str:
    r"""Markdown table: feature-map memory per image and per batch of each CIFAR-10 network, float32."""
    import labml_resnet

    rows = ["| network | parameters | saved per image | batch 128 | batch 512 |", "|---|---:|---:|---:|---:|"]
    for name in ("resnet20", "resnet56", "resnet110", "resnet1202", "plain56", "preact_resnet164", "preact_resnet1001"):
        with torch.device("meta"):
            net = labml_resnet.CIFAR_BUILDERS[name]()
        per_image = bytes_per_image(net)
        n = sum(p.numel() for p in net.parameters())
        rows.append(f"| {name} | {n / 1e6:.2f}M | {per_image / 2 ** 20:.1f} MiB | "
                    f"{128 * per_image / 2 ** 30:.2f} GiB | {512 * per_image / 2 ** 30:.2f} GiB |")
    return "\n".join(rows)
