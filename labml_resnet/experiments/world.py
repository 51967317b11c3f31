r"""
---
title: "Appendix: processes and devices"
description: How the experiment picks its device and runs on several GPUs (or CPU processes) with torchrun and DistributedDataParallel.
---

# Appendix: processes and devices

`torchrun --nproc_per_node=N experiment.py` starts N copies of the experiment with `RANK`,
`WORLD_SIZE` and `LOCAL_RANK` set. Each copy joins one process group, takes its own GPU (or,
on the CPU, uses the gloo backend), and trains on its share of every batch; gradients are
averaged by `DistributedDataParallel`, and metrics are summed with `World.sum`. The paper
itself trained with "a mini-batch size of 128 on two GPUs" (64 on each, as the follow-up
paper spells out).
"""

import os
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import torch
import torch.distributed as dist
from torch import nn


@dataclass
class World:
    r"""
    ## This process among the others

    Its rank, the number of processes, and its device; one process alone is rank 0 of 1.
    """
    rank: int
    size: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def sum(self, values: torch.Tensor) -> torch.Tensor:
        r"""`values` summed over all processes."""
        if self.size > 1:
            dist.all_reduce(values)
        return values

    def barrier(self) -> None:
        r"""Wait until every process reaches this line."""
        if self.size > 1:
            dist.barrier()

    def wrap(self, net: nn.Module, compile: bool = False) -> nn.Module:
        r"""
        `net` as the training loop calls it: in `DistributedDataParallel` if there are several
        processes (it averages the gradients over them in `backward`), and `torch.compile`d if asked.
        """
        model = net
        if self.size > 1:
            ids = [self.device.index] if self.device.type == "cuda" else None
            model = nn.parallel.DistributedDataParallel(net, device_ids=ids)
        return torch.compile(model) if compile else model

    def check_batch(self, batch_size: int, n_train: int) -> None:
        r"""Stop with a message if a batch of `batch_size` images is more than the `n_train`
        training images, or does not split evenly over the processes."""
        if batch_size > n_train:
            raise SystemExit(f"--batch-size {batch_size} is larger than the {n_train:,} "
                             f"training images; use a smaller batch")
        if batch_size % self.size:
            raise SystemExit(f"--batch-size {batch_size} does not split over {self.size} processes")


#
# ## Which device
def pick_device(name: str, local_rank: int = 0, local_size: int = 1, n_gpus: int | None = None) -> torch.device:
    r"""
    The device of the process with `local_rank` among `local_size` processes on this machine.
    `auto` is CUDA if there is a GPU, else the CPU. With several processes each takes its own
    GPU: `cuda` means `cuda:local_rank`, and `cuda:N` the GPUs from `N` on (`cuda:N+local_rank`).
    """
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(name)
    if device.type != "cuda":
        return device
    first = device.index or 0
    if local_size == 1 and device.index is not None:
        return device
    n_gpus = torch.cuda.device_count() if n_gpus is None else n_gpus
    if first + local_size > n_gpus:
        raise SystemExit(f"--device {name} with {local_size} processes needs GPUs {first}…{first + local_size - 1}, "
                         f"but this machine has {n_gpus}")
    return torch.device("cuda", first + local_rank)


def check_device(name: str) -> list[str]:
    r"""What is wrong with `--device name`, if anything."""
    if name == "auto":
        return []
    try:
        device = torch.device(name)
    except RuntimeError:
        return [f"--device {name!r} is not a device (try auto, cpu, cuda)"]
    if device.type == "cuda" and not torch.cuda.is_available():
        return [f"--device {name}: this machine has no CUDA GPU"]
    return []


#
# ## Starting and ending
def fast_on_cuda(device: torch.device) -> torch.device:
    r"""
    On CUDA, let cuDNN time its convolution algorithms and keep the fastest for each shape
    (every training step has the same shapes), and let float32 matrix products and
    convolutions use TF32.
    Returns `device`.
    """
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    return device


@contextmanager
def join_world(device_name: str) -> Iterator[World]:
    r"""
    `with join_world("auto") as world:` joins the process group if torchrun started us (a
    world of one otherwise) and leaves it at the end. Every process first waits at a barrier,
    so that none tears down its connections while another still talks to it (a gloo process
    can abort at exit then); after an error, the processes leave at once.
    """
    if "RANK" not in os.environ:
        yield World(0, 1, fast_on_cuda(pick_device(device_name)))
        return
    rank, size, local_rank = (int(os.environ[name]) for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"))
    local_size = int(os.environ.get("LOCAL_WORLD_SIZE", size))
    device = fast_on_cuda(pick_device(device_name, local_rank, local_size))
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    world = World(rank, size, device)
    try:
        yield world
        world.barrier()
    finally:
        dist.destroy_process_group()
