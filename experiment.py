r"""
---
title: The CIFAR-10 experiment
description: Train the paper's CIFAR-10 ResNets and plain nets with the training loop on screen, from a ten-minute CPU run to the paper's own recipe on a GPU.
---

# The CIFAR-10 experiment

This file trains the CIFAR-10 networks of Section 4.2 of
[Deep Residual Learning for Image Recognition](https://arxiv.org/abs/1512.03385)
(He et al., 2016), plain and residual, and the pre-activation ResNets of the follow-up
paper, in the order a run needs things: the configuration, the data on the device, the
model, the schedule, one training step, evaluation and the loop. The machinery around it is
in the [appendix](experiments/index.md).

```
python experiment.py --preset quick                  # ResNet-20 on a laptop's CPU, about ten minutes
python experiment.py                                 # ResNet-20, the fast recipe (for a GPU)
python experiment.py --preset paper --model plain56  # the paper's recipe
python experiment.py plot runs/*-plain56 runs/*-resnet56 -o fig6.png
torchrun --nproc_per_node=2 experiment.py            # one process per GPU
python experiment.py --help                          # every flag
```

## The three recipes

| recipe | quick (`--preset quick`) | fast (default) | paper (`--preset paper`) |
|---|---|---|---|
| meant for | a CPU, about ten minutes | a GPU | reproducing Section 4.2 |
| batch | 128 images | 512 images | 128 images |
| length | 5 epochs (1,950 iterations) | 50 epochs (4,850 iterations) | 64k iterations (≈ 164 epochs) |
| learning rate | peak 0.2; linear warm-up over the first 15%, then linear decay to 0 | peak 0.4; linear warm-up over the first 10%, then linear decay to 0 | 0.1, divided by 10 at 32k and 48k iterations |
| deep nets (≥ 110 layers) | as above | as above | 0.01 until the training error is below 80%, then 0.1 |
| momentum | 0.9, Nesterov | 0.9, Nesterov | 0.9 (Nesterov not stated) |
| weight decay | 5e-4 | 5e-4 | 1e-4 |
| label smoothing | 0.1 | 0.1 | none |
| inputs | per-channel mean and standard deviation | per-channel mean and standard deviation | per-pixel mean subtracted |
| augmentation | 4-pixel padding, random 32×32 crop, horizontal flip | the same | the same |
| initialization | He et al. (2015) | the same | the same |

The paper's ResNet-20 reaches 91.25% (its Table 6). The fast recipe aims at that in far fewer
iterations; **it has not yet been verified on a GPU**. The [Results](results.md) page has
every kept run, with its hardware and data.

??? note "Where the fast recipe comes from, and which choices are ours"

    Batch 512, a peak learning rate of 0.4 reached by a linear warm-up and followed by a linear
    decay to 0, Nesterov momentum 0.9 and weight decay 5e-4 are those of David Page's
    [`dawn.py`](https://github.com/davidcpage/cifar10-fast/blob/f79e8b89bb2994b5caaaf7289c68903d15a37c2e/dawn.py)
    (24 epochs, warm-up over the first 5), the code of his
    [How to train your ResNet](https://www.myrtle.ai/2018/09/24/how_to_train_your_resnet/)
    series. The schedule is of the one-cycle kind of
    [Smith & Topin](https://arxiv.org/abs/1708.07120), and 0.1 is the label smoothing of
    [Szegedy et al. (2016)](https://arxiv.org/abs/1512.00567). `dawn.py` trains another
    network (a residual network of 9 weight layers), with Cutout augmentation and no label
    smoothing: the settings are carried over to ResNet-20, without Cutout. Ours are the 50
    epochs, the 10% warm-up, the label smoothing and the quick recipe.

??? note "Nesterov momentum, which the paper does not mention"

    The paper gives momentum 0.9 and does not say Nesterov; `--preset paper` assumes plain
    momentum. Facebook's
    [fb.resnet.torch](https://github.com/facebookarchive/fb.resnet.torch/blob/985e569d468d23baeef5b952954dcdf3c61c5e73/train.lua#L24)
    sets `nesterov = true`, and the Torch code that the authors released for the
    pre-activation paper is built on it
    ([its README](https://github.com/KaimingHe/resnet-1k-layers/blob/fde7ee93c464d8312ca9b3df1c488cb245a9e2c1/README.md),
    which also says that the pre-activation paper's experiments ran in Caffe). For the first
    paper, the authors'
    [deep-residual-networks README](https://github.com/KaimingHe/deep-residual-networks) says
    "We use Caffe's implementation of SGD with momentum: `v := momentum*v + lr*g`", plain
    momentum. `--nesterov` gives Nesterov's.

??? note "What the quick recipe's ResNet-20 measured on a 2-core CPU"

    This project ran it alone on a 2-core CPU, on the JPEG-compressed copy of CIFAR-10 that
    its machines train on:

    <!-- md: labml_resnet.experiments.records.run_summary_markdown("fig6-quick-resnet20") -->
"""

import math
import re
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import labml_resnet
from labml_resnet.experiments import cifar10, display, memory, runs
from labml_resnet.experiments.flags import fit_to_length, flag, parse_command_line
from labml_resnet.experiments.world import World, join_world


#
# ## Configuration
#
# Every setting is a field, and a flag with its help. The defaults are the fast recipe; a
# preset replaces some of them, and the flags given replace both.
@dataclass
class Config:
    model: str = flag("resnet20", "a CIFAR net: resnet20…1202, plain20…110, preact_resnet20…1001")
    preset: Literal["fast", "quick", "paper"] = flag(
        "fast", "quick: a CPU in about ten minutes; paper: Section 4.2's recipe")
    shortcut: Literal["default", "A", "B", "C"] = flag(
        "default", "A zero-pads, B projects where the shape changes, C always projects; "
                   "default: the builder's (A on CIFAR, as in the paper)")
    zero_init_residual: bool = flag(False, "start each residual branch at zero (Goyal et al. 2017)")
    epochs: int = flag(50, "passes over the training images (paper: 64k iterations, ≈ 164 epochs)",
                       minimum=1)
    steps: int = flag(0, "total iterations; if > 0 it replaces --epochs (paper: 64000)", minimum=0)
    batch_size: int = flag(512, "images per iteration, over all processes (paper: 128)", minimum=1)
    lr: float = flag(0.4, "peak learning rate (paper: 0.1)", above=0)
    schedule: Literal["onecycle", "step"] = flag(
        "onecycle", "onecycle: linear warm-up, then linear decay to 0; "
                    "step: divide by 10 at --milestones (paper: step)")
    warmup: float = flag(0.1, "onecycle: the fraction of the iterations spent warming up",
                         minimum=0, below=1)
    milestones: tuple[float, ...] = flag(
        (0.5, 0.75), "step: fractions of the iterations where the learning rate is divided by 10 "
                     "(paper: 32k and 48k of 64k)")
    warmup_lr: float = flag(0.0, "if > 0, this learning rate until the training error is below 80% "
                                 "(paper: 0.01 for 110 layers and more)", minimum=0)
    momentum: float = flag(0.9, "SGD momentum (paper: 0.9)", minimum=0, below=1)
    nesterov: bool = flag(True, "Nesterov momentum (paper: not stated, plain momentum assumed)")
    weight_decay: float = flag(5e-4, "L2 penalty on every weight (paper: 1e-4)", minimum=0)
    label_smoothing: float = flag(0.1, "the share of the target spread evenly over the 10 classes "
                                       "(paper: 0)", minimum=0, below=1)
    normalize: Literal["channel", "pixel"] = flag(
        "channel", "channel: per-channel mean and std; pixel: minus the mean image (paper: pixel)")
    data_dir: str = flag("./data", "where CIFAR-10 is, or goes (cifar-10-batches-py/ inside)")
    download: bool = flag(True, "download CIFAR-10 if it is missing (--no-download: never)")
    validation: int = flag(0, "hold out the last N training images, and test on them (paper: 5000)",
                           minimum=0)
    limit_train: int = flag(0, "train on the first N training images only (0: all)", minimum=0)
    limit_test: int = flag(0, "evaluate on the first N test images only (0: all)", minimum=0)
    device: str = flag("auto", "auto (CUDA if there is one, else the CPU), cpu, cuda, cuda:1, …")
    precision: Literal["auto", "bf16", "fp32"] = flag("auto", "auto: bf16 on CUDA, fp32 on the CPU")
    channels_last: bool = flag(True, "images and activations in channels-last memory order")
    compile: bool = flag(False, "torch.compile the model (faster on a GPU, after a while compiling)")
    seed: int = flag(0, "seeds the initialization, the augmentation and the order of the images")
    log_every: int = flag(50, "read the loss every N iterations (reading waits for the GPU)",
                          minimum=1)
    out: str = flag("runs", "each run writes a folder <out>/<time>-<model>/")
    resume: str = flag("", "a run folder to continue; flags given with it override its config.json")


# The presets, as changes to the defaults. The paper's milestones, 32k and 48k of 64k
# iterations, are the fractions 0.5 and 0.75.
PRESETS = {
    "fast": {},
    "quick": dict(epochs=5, batch_size=128, lr=0.2, warmup=0.15),
    "paper": dict(steps=64000, batch_size=128, lr=0.1, schedule="step", milestones=(0.5, 0.75),
                  nesterov=False, weight_decay=1e-4, label_smoothing=0.0, normalize="pixel"),
}


def depth(model: str) -> int:
    r"""The number of layers in a builder's name: `resnet110` → 110."""
    return int(re.search(r"\d+$", model).group())


def make_config(given: dict, saved: dict | None = None) -> Config:
    r"""
    The configuration: the flags that were `given`, on top of the preset, on top of the
    defaults (or, when resuming, on top of the run's `saved` configuration).
    """
    if saved is not None:
        if given.get("preset", saved["preset"]) != saved["preset"]:
            raise SystemExit(f"--preset {given['preset']}: a run keeps its recipe; this one was "
                             f"trained with --preset {saved['preset']}. Start a new run for "
                             f"another recipe.")
        values = {**saved, **given}
        return Config(**{**values, "milestones": tuple(values["milestones"])})
    values = {**asdict(Config()), **PRESETS[given.get("preset", "fast")]}
    # "we use 0.01 to warm up the training until the training error is below 80% (about 400
    # iterations), and then go back to 0.1" — said of ResNet-110, used for 110 layers and more
    # (`--warmup-lr 0.01` gives it to any net)
    if given.get("preset") == "paper" and depth(given.get("model", "resnet20")) >= 110:
        values["warmup_lr"] = 0.01
    # An explicit `--epochs` wins over a preset's iteration count
    if "epochs" in given and "steps" not in given:
        values["steps"] = 0
    values.update(given)
    return Config(**{**values, "milestones": tuple(values["milestones"])})


#
# ## CIFAR-10 on the device
#
# The appendix [The CIFAR-10 files](experiments/cifar10.md) reads the images from disk
# (`uint8` `[N, 3, 32, 32]`). The 50,000 training images are 154 MB as bytes (240 MB padded),
# so all of them live on the device, and each step gathers its batch with one indexing
# operation: no `DataLoader`, no worker process (`benchmarks/data_pipeline.py` compares this
# with torchvision's pipeline).
#
# The paper's augmentation: "4 pixels are padded on each side, and a 32×32 crop is randomly
# sampled from the padded image or its horizontal flip". We pad every training image once;
# each epoch, one indexing operation draws a crop and a flip for every image.
def pad(images: torch.Tensor, padding: int = 4) -> torch.Tensor:
    r"""`[N, 3, 32, 32]` → `[N, 3, 40, 40]`, black borders, as `RandomCrop(32, padding=4)` pads."""
    return F.pad(images, (padding, padding, padding, padding))


def crop_and_flip(padded: torch.Tensor, generator: torch.Generator, size: int = 32) -> torch.Tensor:
    r"""
    A random `size`×`size` crop of every image in `padded` (`[N, C, H, W]`), each mirrored
    with probability 1/2. Returns `[N, C, size, size]`.
    """
    n, channels, height, width = padded.shape
    device = padded.device
    # Top-left corner of each crop, and whether to flip it
    top = torch.randint(0, height - size + 1, (n, 1), generator=generator, device=device)  # [N, 1]
    left = torch.randint(0, width - size + 1, (n, 1), generator=generator, device=device)  # [N, 1]
    flip = torch.rand(n, 1, generator=generator, device=device) < 0.5  # [N, 1]
    # Rows and columns to read; reading the columns backwards mirrors the crop
    offsets = torch.arange(size, device=device)  # [size]
    rows = top + offsets  # [N, size]
    cols = left + torch.where(flip, offsets.flip(0), offsets)  # [N, size]
    # One gather for the whole batch: output[n, c, i, j] = padded[n, c, rows[n, i], cols[n, j]]
    return padded[torch.arange(n, device=device)[:, None, None, None],
                  torch.arange(channels, device=device)[None, :, None, None],
                  rows[:, None, :, None], cols[:, None, None, :]]


def normalization(train_images: np.ndarray, how: str) -> tuple[torch.Tensor, torch.Tensor]:
    r"""
    The mean and standard deviation of the training images, in units of the $[0, 1]$ pixel
    range. `"channel"`: one per colour, `[1, 3, 1, 1]`. `"pixel"`: the paper's "per-pixel mean
    subtracted", a mean image `[1, 3, 32, 32]` and no scaling.
    """
    if how == "channel":
        mean = train_images.mean(axis=(0, 2, 3), dtype=np.float64) / 255
        std = train_images.std(axis=(0, 2, 3), dtype=np.float64) / 255
        return (torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1),
                torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1))
    mean = train_images.mean(axis=0, dtype=np.float64) / 255
    return torch.tensor(mean, dtype=torch.float32)[None], torch.ones(1, 1, 1, 1)


def to_input(images: torch.Tensor, mean: torch.Tensor, std: torch.Tensor,
             channels_last: bool = True) -> torch.Tensor:
    r"""
    `uint8` `[B, 3, 32, 32]` → the normalized `float32` batch, in channels-last memory order
    (`[B, H, W, C]` in memory) if asked.
    """
    x = (images.float() / 255 - mean) / std
    return x.contiguous(memory_format=torch.channels_last if channels_last else
                        torch.contiguous_format)


@dataclass
class DeviceData:
    r"""
    ## The data on the device

    Everything training and evaluation read, on the device: images as `uint8`, labels, and the
    normalization.
    """
    train_padded: torch.Tensor  # [N, 3, 40, 40] uint8
    train_labels: torch.Tensor  # [N] int64
    test_images: torch.Tensor  # [M, 3, 32, 32] uint8
    test_labels: torch.Tensor  # [M]
    val_images: torch.Tensor  # [V, 3, 32, 32] uint8 (V = 0 without --validation)
    val_labels: torch.Tensor  # [V]
    mean: torch.Tensor
    std: torch.Tensor

    @classmethod
    def create(cls, arrays: dict[str, np.ndarray], normalize: str, device: torch.device):
        r"""From the arrays of `cifar10.load_cifar10`, on `device`."""
        mean, std = normalization(arrays["train_images"], normalize)
        on = {name: torch.from_numpy(array).to(device) for name, array in arrays.items()}
        return cls(train_padded=pad(on.pop("train_images")), mean=mean.to(device),
                   std=std.to(device), **on)


def epoch_generator(seed: int, epoch: int, device: torch.device) -> torch.Generator:
    r"""
    Epoch `epoch`'s crops, flips and order, from `seed` and `epoch` only: a resumed run draws
    what the uninterrupted run drew, and every process draws the same order.
    """
    return torch.Generator(device=device).manual_seed(seed * 1_000_003 + epoch)


#
# ## Model
#
# Any CIFAR builder of the package, with 10 classes, initialized as in the paper; options that
# a builder does not take (a plain net has no shortcuts) are refused.
def make_model(config: Config) -> nn.Module:
    options = dict(num_classes=10)
    if config.shortcut != "default":
        options["shortcut"] = config.shortcut
    if config.zero_init_residual:
        options["zero_init_residual"] = True
    try:
        return labml_resnet.CIFAR_BUILDERS[config.model](**options)
    except TypeError:
        raise SystemExit(f"--shortcut, --zero-init-residual: {config.model} has no such option") \
            from None


#
# ## Optimizer and schedule
#
# SGD with momentum and weight decay, the paper's optimizer; the paper does not say which
# parameters it decays, and we decay all of them (batch norms' too). The one-cycle
# learning rate at iteration $t$ of $T$, with $T_w$ warm-up iterations and peak $\eta$, is
#
# $$\eta_t = \eta \cdot \min\left(\frac{t+1}{T_w},\ \frac{T-t}{T-T_w}\right).$$
def make_optimizer(model: nn.Module, config: Config) -> torch.optim.Optimizer:
    return torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                           nesterov=config.nesterov, weight_decay=config.weight_decay)


def learning_rate(config: Config, step: int, total_steps: int, warmed_up: bool) -> float:
    r"""
    The learning rate of iteration `step` (counted from 0) of `total_steps`.
    `warmed_up` is false while the paper's 0.01 warm-up of deep nets is on.
    """
    if not warmed_up:
        return config.warmup_lr
    if config.schedule == "step":
        # $\eta \cdot 0.1^k$ after the $k$-th milestone
        passed = sum(step >= round(m * total_steps) for m in config.milestones)
        return config.lr * 0.1 ** passed
    # One cycle: up linearly over `warmup_steps`, then down linearly to 0 at `total_steps`
    warmup_steps = max(1, round(config.warmup * total_steps))
    if step < warmup_steps:
        return config.lr * (step + 1) / warmup_steps
    return config.lr * (total_steps - step) / max(1, total_steps - warmup_steps)


#
# ## One training step
#
# The usual forward, loss, backward and update. In bf16 autocast, convolutions and matrix
# products run in bfloat16 while the weights, their gradients and the loss stay float32;
# unlike float16, bfloat16 has float32's range, so no loss scaling is needed.
def uses_bf16(precision: str, device: torch.device) -> bool:
    return precision == "bf16" or (precision == "auto" and device.type == "cuda")


def train_step(model: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor,
               label_smoothing: float, bf16: bool) -> tuple[torch.Tensor, torch.Tensor]:
    r"""One SGD iteration on the batch `x` `[B, 3, 32, 32]`, `y` `[B]`; the loss and logits `[B, 10]`."""
    with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=bf16):
        logits = model(x)
    loss = F.cross_entropy(logits.float(), y, label_smoothing=label_smoothing)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.detach(), logits.detach()


#
# ## One epoch
#
# Every training image once, in a fresh crop, flip and order. Each process takes its own slice
# of every batch. The loss and accuracy are summed on the device and read only every
# `log_every` iterations (a read waits for the GPU); the progress bar moves at every iteration
# and shows the last window's loss at each read.
#
#     ??? note "Ctrl-C within an epoch, and resuming it"
#
#         After Ctrl-C the epoch stops at the end of its step, with its sums so far in
#         `progress.unfinished` for the checkpoint (the appendix
#         [Run folders and checkpoints](experiments/runs.md)); a resumed run redraws the epoch's
#         crops, flips and order from the same generator and goes on from the step after it.
def train_epoch(model: nn.Module, optimizer: torch.optim.Optimizer, data: DeviceData,
                config: Config, progress: runs.Progress, total_steps: int, world: World,
                stop: runs.StopRequest) -> dict:
    r"""
    Train for one epoch, or until `total_steps`; returns the epoch's mean loss and error, its
    images, seconds and last learning rate. A loss that is not finite raises `FloatingPointError`.
    """
    model.train()
    device, bf16 = world.device, uses_bf16(config.precision, world.device)
    generator = epoch_generator(config.seed, progress.epoch, device)
    images = crop_and_flip(data.train_padded, generator)  # [N, 3, 32, 32] uint8
    order = torch.randperm(len(images), generator=generator, device=device)  # [N]
    steps_per_epoch = len(images) // config.batch_size
    n_steps = min(steps_per_epoch, total_steps - progress.epoch * steps_per_epoch)
    per_process = config.batch_size // world.size
    # The sums since the epoch began, and since the last read (a stopped epoch's, when resuming)
    so_far = runs.epoch_so_far(progress)
    window = torch.tensor(so_far["window"], device=device)  # loss sum, correct, since the last read
    totals = {name: so_far[name] for name in ("loss", "correct", "images")}
    lr = so_far["lr"]
    bar = display.EpochBar(progress.epoch + 1, n_steps, config.batch_size, enabled=world.is_main,
                           done=so_far["steps"], seconds=so_far["seconds"])
    for i in range(so_far["steps"], n_steps):
        first = i * config.batch_size + world.rank * per_process
        index = order[first:first + per_process]
        x = to_input(images[index], data.mean, data.std, config.channels_last)
        y = data.train_labels[index]
        lr = learning_rate(config, progress.step, total_steps, progress.warmed_up)
        for group in optimizer.param_groups:
            group["lr"] = lr
        loss, logits = train_step(model, optimizer, x, y, config.label_smoothing, bf16)
        progress.step += 1
        window += torch.stack([loss * len(y), (logits.argmax(dim=1) == y).sum().float()])
        bar.advance()  # moves the bar; reads nothing from the device
        reading = progress.step % config.log_every == 0 or i == n_steps - 1
        if reading:
            # Read the window's sums (this waits for the GPU), add them over all processes
            loss_sum, correct = world.sum(window).tolist()
            seen = (i + 1) * config.batch_size - totals["images"]
            window.zero_()
            if not math.isfinite(loss_sum):
                bar.close()
                raise FloatingPointError(f"the training loss became {loss_sum / seen} "
                                         f"by iteration {progress.step} (epoch {progress.epoch + 1})")
            # The paper's 0.01 warm-up ends once the training error is below 80%
            if not progress.warmed_up and 1 - correct / seen < 0.8:
                progress.warmed_up = True
            for name, value in (("loss", loss_sum), ("correct", correct), ("images", seen)):
                totals[name] += value
            left = (total_steps - progress.step) * config.batch_size  # images still to train on
            bar.show(i + 1, loss_sum / seen, correct / seen, left)
        # Ctrl-C: stop here, with what this epoch has summed so far, for the checkpoint
        stop.stop_if_asked(world, reading, progress, bar, dict(
            steps=i + 1, steps_per_epoch=steps_per_epoch, **totals, window=window.tolist(), lr=lr))
    bar.close()
    return dict(loss=totals["loss"] / totals["images"], images=totals["images"],
                error=1 - totals["correct"] / totals["images"], seconds=bar.seconds(), lr=lr)


#
# ## Evaluation
#
# The paper evaluates "the single view of the original 32×32 image"; so do we, each process on
# every `world.size`-th image.
@torch.no_grad()
def evaluate(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, data: DeviceData,
             config: Config, world: World) -> tuple[float, float]:
    r"""Mean cross-entropy loss and error on `images` (`uint8` `[M, 3, 32, 32]`) and `labels` `[M]`."""
    model.eval()
    bf16 = uses_bf16(config.precision, world.device)
    sums = torch.zeros(2, device=world.device)  # loss, correct
    mine = torch.arange(world.rank, len(images), world.size, device=world.device)
    for index in mine.split(1000):
        x, y = to_input(images[index], data.mean, data.std, config.channels_last), labels[index]
        with torch.autocast(world.device.type, torch.bfloat16, enabled=bf16):
            logits = model(x).float()
        right = (logits.argmax(dim=1) == y).sum()
        sums += torch.stack([F.cross_entropy(logits, y, reduction="sum"), right])
    loss_sum, correct = world.sum(sums).tolist()
    return loss_sum / len(images), 1 - correct / len(images)


#
# ## The loop
#
# Set up (data, model, optimizer, run folder), then alternate one epoch of training with an
# evaluation, a line of metrics and a checkpoint.
def train(config: Config, given: frozenset = frozenset()) -> dict:
    r"""
    Train as `config` says (`given`: the flags set); returns the last line of metrics. From
    here on, Ctrl-C stops the run after a step and keeps it (`runs.StopRequest`).
    """
    with runs.StopRequest() as stop, join_world(config.device) as world:
        return train_in_world(config, world, set(given), stop)


def train_in_world(config: Config, world: World, given: set[str], stop: runs.StopRequest) -> dict:
    device = world.device
    torch.manual_seed(config.seed)
    # Data: the first process downloads it if needed, then every process reads it from disk
    arrays = cifar10.load_everywhere(world, config.data_dir, config.download, config.validation,
                                     config.limit_train, config.limit_test)
    data = DeviceData.create(arrays, config.normalize, device)
    n_train = len(data.train_labels)
    # A one-cycle run too short to warm up and come down again trains with a smaller batch
    # and learning rate, and says so ([Flags from a dataclass](experiments/flags.md))
    if not config.resume:
        config, changed = fit_to_length(config, n_train, given)
        if changed and world.is_main:
            print(changed)
    world.check_batch(config.batch_size, n_train)
    steps_per_epoch = n_train // config.batch_size
    total_steps = config.steps or config.epochs * steps_per_epoch
    n_epochs = math.ceil(total_steps / steps_per_epoch)
    # Model and optimizer; stop now if a training step would not fit in memory
    memory_format = torch.channels_last if config.channels_last else torch.contiguous_format
    net = make_model(config).to(device, memory_format=memory_format)
    optimizer = make_optimizer(net, config)
    memory.check(net, config.batch_size // world.size, uses_bf16(config.precision, device), device)
    # The run folder: a new one, or the one we resume
    folder, progress = runs.open_run(asdict(config), world, net, optimizer, steps_per_epoch,
                                     n_epochs)
    stop.folder = folder
    if world.is_main:
        print(display.start_line(config, net, device, world.size, n_epochs, total_steps, n_train,
                                 folder, progress))
    # No GPU, and the recipe meant for one: say how long this run, and `--preset quick`, would
    # take here
    if device.type == "cpu" and config.preset == "fast" and not config.resume and world.size == 1:
        print(memory.how_long_on_cpu(sys.modules[__name__], net, config, data))
    # Wrap the network for several processes, and compile it if asked
    model = world.wrap(net, config.compile)
    while progress.epoch < n_epochs:
        epoch_start = time.perf_counter()
        # Ctrl-C, or a loss that is no longer finite, ends the run here, with a checkpoint
        with stop.guard(folder, net, optimizer, progress, asdict(config), world, epoch_start):
            result = train_epoch(model, optimizer, data, config, progress, total_steps, world, stop)
            test_loss, test_error = evaluate(model, data.test_images, data.test_labels, data,
                                             config, world)
            if not math.isfinite(test_loss):
                raise FloatingPointError(f"the test loss became {test_loss} after epoch "
                                         f"{progress.epoch + 1}")
        row = dict(epoch=progress.epoch + 1, step=progress.step, lr=result["lr"],
                   train_loss=result["loss"], train_error=result["error"], test_loss=test_loss,
                   test_error=test_error)
        if len(data.val_labels):
            row["val_loss"], row["val_error"] = evaluate(model, data.val_images, data.val_labels,
                                                         data, config, world)
        progress.epoch += 1
        progress.seconds += time.perf_counter() - epoch_start
        # Times vary from run to run; everything before them is reproducible
        row.update(epoch_s=result["seconds"], images_per_s=result["images"] / result["seconds"],
                   time_s=progress.seconds)
        progress.history.append(row)
        if world.is_main:
            runs.end_epoch(folder, row, net, optimizer, progress, asdict(config))
            display.epoch_line(row, n_epochs, progress.history)
    if world.is_main:
        print(display.summary(config.model, progress, folder))
    return progress.history[-1]


#
# ## Command line
#
# `python experiment.py [flags]` trains ([flags](experiments/flags.md)); `plot RUN …` draws
# runs ([The plot](experiments/plot.md)); `reproduce fig6 …` remakes the degradation
# experiment ([Reproducing the figures](experiments/reproduce.md)).
def main(argv: list[str] | None = None) -> dict | Path:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["plot"]:
        from labml_resnet.experiments import plot
        return plot.main(argv[1:])
    if argv[:1] == ["reproduce"]:
        from labml_resnet.experiments import reproduce
        return reproduce.main(argv[1:], lesson=sys.modules[__name__])  # this file trains the nets
    config, given = parse_command_line(argv, Config, make_config)
    return train(config, given)


if __name__ == "__main__":
    main()

#
# ## Exercises
#
# 1. **The degradation problem.** Train `plain20`, `plain56`, `resnet20` and `resnet56` with
#    the same recipe and plot the four runs. Which net has the higher *training* error?
#    *Hint:* the paper's Fig. 6 left; over-fitting would show the opposite.
#
#     ??? success "Answer"
#
#         In the paper (Fig. 6, left) plain-56 has a higher training error than plain-20 all
#         through training, while ResNet-56 ends below ResNet-20 (Fig. 6, middle). A net that
#         over-fits has a *lower* training error and a higher test error; plain-56 is worse on both,
#         so it is not over-fitting: that is the degradation problem. The Results page shows what
#         our short runs measured.
#
# 2. **Shortcut options.** Train `resnet32` with `--shortcut A`, `B` and `C`. Is the
#    difference larger than the spread between two seeds? *Hint:* run each twice, with
#    `--seed 0` and `--seed 1`.
#
#     ??? success "Answer"
#
#         Only a measurement answers it. On ImageNet the paper's Table 3 found B about 0.5
#         points better than A in top-1 error (0.3 in top-5), and C a little better than B
#         (ResNet-34, 10-crop testing: 25.03%, 24.52%, 24.19% top-1), differences it calls small.
#         On CIFAR-10 the paper compares no options; this project has not measured them either.
#         Two seeds per option give a first look at the spread that a difference must exceed.
#
# 3. **The 0.01 warm-up.** Train ResNet-110 with the paper's recipe twice,
#    `--model resnet110 --preset paper` with and without `--warmup-lr 0`, and compare the
#    first epochs. *Hint:* read the first lines of both `metrics.jsonl`.
#
#     ??? success "Answer"
#
#         With the warm-up, the first iterations run at 0.01 until the training error of a
#         `--log-every` window falls below 80%, then at 0.1. The paper found 0.1 from the start
#         "slightly too large to start converging" for ResNet-110, and says in a footnote that
#         with it the network "starts converging (<90% error) after several epochs, but still
#         reaches similar accuracy". So look at the first epochs, not the last: without the
#         warm-up, expect a training error that stays near 90% (chance) for longer.
#
# 4. **Normalization.** Does `--normalize pixel` or `channel` matter? *Hint:* the first
#    convolution is followed by batch normalization; what can it undo?
#
#     ??? success "Answer"
#
#         Less than it seems, but not nothing. The stem convolution is linear and the batch
#         norm after it subtracts each of its channels' mean over the batch and divides by its
#         standard deviation, so a constant shift of each input colour, or one scale common to
#         all three colours, is removed there (apart from the borders, where the zero padding
#         sees the shift). Two differences remain: `channel` divides each colour by its own
#         standard deviation, which the convolution mixes and batch norm cannot undo, and
#         `pixel` subtracts a different mean at every position. Run both with two seeds each to
#         see whether the difference exceeds the spread.
#
