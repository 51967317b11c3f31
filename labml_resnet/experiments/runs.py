r"""
---
title: "Appendix: run folders and checkpoints"
description: What a training run writes, how a checkpoint is written so that a killed run resumes exactly, and how a run is kept for the site.
---

# Appendix: run folders and checkpoints

Each run of the experiment writes a folder `<out>/<time>-<model>/`:

* `config.json`: every setting, and under `"recorded"` a few facts about the run that are not
  settings: whether its data had CIFAR-10's official checksums, the hardware, the number of CPU
  threads, the torch version, when it started;
* `metrics.jsonl`: one line per epoch (iteration, learning rate, training loss and error,
  test loss and error, seconds, images per second);
* `checkpoint.pt`: the model, the optimizer, the random state and `Progress`, rewritten at the
  end of every epoch, and where a run was stopped with Ctrl-C.

A run that is interrupted, even by `kill -9`, continues with `--resume <folder>`; on the CPU,
with the same seed, it ends with exactly the metrics of an uninterrupted run, because the
checkpoint is written whole or not at all, and each epoch's random numbers depend only on the
seed and the epoch (`epoch_generator` in the experiment chapter). Ctrl-C stops a run at the end
of its current step and writes a checkpoint there, so it keeps the work of a half-finished
epoch, and the run continues from that step.
"""

import json
import os
import platform
import shutil
import signal
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterator

import torch
import torch.distributed
from torch import nn
from tqdm import tqdm

from labml_resnet.experiments.cifar10 import FOLDER, official_files
from labml_resnet.experiments.display import stopped_message
from labml_resnet.experiments.flags import check_types


@dataclass
class Progress:
    r"""
    ## Where a run stands

    Saved in every checkpoint, so that a resumed run continues exactly where it stopped.
    """
    epoch: int = 0  # epochs completed
    step: int = 0  # iterations completed
    warmed_up: bool = True  # false while the paper's 0.01 warm-up of deep nets is on
    seconds: float = 0.0  # wall time so far, training and evaluation
    history: list = field(default_factory=list)  # a dict of metrics per epoch, as in metrics.jsonl
    # A run stopped within an epoch: its iterations so far, and the sums they added (empty otherwise)
    unfinished: dict = field(default_factory=dict)


#
# ## Run folders
def new_run_folder(out: str, model: str) -> Path:
    r"""A new folder `<out>/<time>-<model>`, with `-2`, `-3`, … if that one exists."""
    base = Path(out) / f"{time.strftime('%Y%m%d-%H%M%S')}-{model}"
    folder, n = base, 1
    while folder.exists():
        n += 1
        folder = base.with_name(f"{base.name}-{n}")
    folder.mkdir(parents=True)
    return folder


def write_text_atomically(path: Path, text: str) -> None:
    r"""Write to a temporary file and rename it over `path`: readers see the old text or the new one."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def find_run_folder(resume: str) -> Path:
    r"""The run folder that `--resume` names (the folder itself or a file in it)."""
    folder = Path(resume)
    folder = folder.parent if folder.is_file() else folder
    if not (folder / "config.json").is_file():
        raise SystemExit(f"--resume {resume}: no config.json there; give a run folder such as runs/<time>-<model>")
    return folder


#
# ## `config.json`
#
# The settings are written without `out` and `resume` (where the folder is, and how it was
# reached, are not settings of the run), so a folder can be moved and kept as it is.
NOT_RECORDED = ("out", "resume")


def hardware(device: torch.device) -> str:
    r"""`device` in words: `NVIDIA H100 80GB HBM3`, or the CPU's model and its number of cores."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    name = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            name = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{name}, {os.cpu_count()} cores"


def write_config(folder: Path, settings: dict, recorded: dict) -> None:
    r"""`config.json`: the settings, and the facts under `"recorded"`."""
    values = {name: value for name, value in settings.items() if name not in NOT_RECORDED}
    write_text_atomically(folder / "config.json", json.dumps({**values, "recorded": recorded}, indent=2) + "\n")


def read_config(folder: Path, config_class: type) -> tuple[dict, dict]:
    r"""
    The settings and the recorded facts of a run folder's `config.json`, its settings checked
    field by field like flags: a file edited by hand, or one from elsewhere, gets one clear
    message instead of a traceback.
    """
    path = folder / "config.json"
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SystemExit(f"{path} is not a readable config.json ({type(error).__name__}: {error})") from None
    recorded = saved.pop("recorded", {}) if isinstance(saved, dict) else {}
    if not isinstance(recorded, dict):
        raise SystemExit(f"{path}: \"recorded\" should be a JSON object of facts about the run")
    return check_types(config_class, saved, str(path)), recorded


def read_metrics(folder: Path) -> list[dict]:
    r"""The rows of a run folder's `metrics.jsonl`."""
    path = folder / "metrics.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


#
# ## Checkpoints
#
# One file, rewritten at the end of every epoch: written to a temporary file, flushed to disk,
# and renamed over the old one, so a run killed at any moment leaves either the old checkpoint
# or the new one, never half of one. It holds only tensors and plain Python values, so it loads
# with `torch.load(..., weights_only=True)`, which cannot run code.
def save_checkpoint(path: Path, model: nn.Module, optimizer: torch.optim.Optimizer,
                    progress: Progress, settings: dict) -> None:
    state = dict(model=model.state_dict(), optimizer=optimizer.state_dict(), progress=asdict(progress),
                 config=settings, torch_rng=torch.get_rng_state())
    temporary = path.with_name(path.name + ".tmp")
    try:
        with open(temporary, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    finally:  # stopped half-way (a second Ctrl-C): the old checkpoint stays, without a torn copy beside it
        temporary.unlink(missing_ok=True)


# What `Progress.unfinished` holds, and of which type
UNFINISHED = dict(steps=int, steps_per_epoch=int, loss=float, correct=float, images=int, window=list, seconds=float,
                  lr=float)


def epoch_so_far(progress: Progress) -> dict:
    r"""
    What the training loop has summed in the epoch it starts: a stopped epoch's sums, taken out of
    `progress.unfinished`, or nothing yet (no steps, no window, no seconds).
    """
    so_far = progress.unfinished or dict(steps=0, loss=0.0, correct=0.0, images=0, window=[0.0, 0.0],
                                         seconds=0.0, lr=0.0)
    progress.unfinished = {}
    return so_far


def load_checkpoint(path: Path, model: nn.Module, optimizer: torch.optim.Optimizer) -> Progress:
    r"""Restore the model, the optimizer and the random state; returns where the run stands."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["torch_rng"])
        progress = Progress(**state["progress"])
        # An epoch stopped half-way: its sums, as the training loop wrote them
        if progress.unfinished and not (
                set(progress.unfinished) == set(UNFINISHED) and
                all(isinstance(progress.unfinished[name], kind) and not isinstance(progress.unfinished[name], bool)
                    for name, kind in UNFINISHED.items()) and
                len(progress.unfinished["window"]) == 2 and 0 < progress.unfinished["steps"]):
            raise ValueError(f"its unfinished epoch is not {sorted(UNFINISHED)}")
        return progress
    except Exception as error:
        first_line = str(error).splitlines()[0] if str(error) else ""
        raise SystemExit(f"{path} cannot be resumed: it is not a checkpoint of this model and settings "
                         f"({type(error).__name__}: {first_line})") from None


#
# ## Opening a run, ending an epoch
def open_run(settings: dict, world, net: nn.Module, optimizer: torch.optim.Optimizer,
             steps_per_epoch: int, n_epochs: int) -> tuple[Path, Progress]:
    r"""
    The run folder and where the run stands: a new folder and a fresh `Progress`, or, with
    `--resume`, the folder's checkpoint loaded into `net` and `optimizer`. The main process
    (re)writes `config.json` and `metrics.jsonl`; the others learn the folder's name from it.
    """
    if settings["resume"]:
        folder = find_run_folder(settings["resume"])
        if not (folder / "checkpoint.pt").is_file():
            raise SystemExit(f"{folder} has no checkpoint.pt yet (it was killed before its first epoch ended); "
                             f"start a new run instead")
        progress = load_checkpoint(folder / "checkpoint.pt", net, optimizer)
        # A run stopped within an epoch is `unfinished["steps"]` iterations into it
        within = progress.unfinished.get("steps", 0)
        if progress.epoch < n_epochs and (progress.step - within != progress.epoch * steps_per_epoch or
                                          progress.unfinished.get("steps_per_epoch", steps_per_epoch) != steps_per_epoch):
            raise SystemExit(f"{folder} stopped at iteration {progress.step}, after epoch {progress.epoch}, which "
                             f"does not match {steps_per_epoch} iterations per epoch: keep its --batch-size, "
                             f"--limit-train and --validation when you resume it")
    else:
        folder = new_run_folder(settings["out"], settings["model"]) if world.is_main else None
        progress = Progress(warmed_up=settings["warmup_lr"] == 0)
    if world.size > 1:
        shared = [folder]
        torch.distributed.broadcast_object_list(shared, src=0)
        folder = Path(shared[0])
    if world.is_main:
        recorded = record(settings, world.device)
        if settings["resume"]:  # keep when it started, and every machine it ran on
            before = json.loads((folder / "config.json").read_text(encoding="utf-8")).get("recorded", {})
            machines = [m for m in before.get("hardware", "").split("; ") if m]
            recorded.update(started=before.get("started", recorded["started"]),
                            hardware="; ".join(dict.fromkeys([*machines, recorded["hardware"]])))
        write_config(folder, settings, recorded)
        # Metrics come from the checkpoint, so lines written after it (by a run killed before
        # its next checkpoint) are dropped
        write_text_atomically(folder / "metrics.jsonl", "".join(json.dumps(row) + "\n" for row in progress.history))
    return folder, progress


def record(settings: dict, device: torch.device) -> dict:
    r"""The facts that `config.json` keeps under `"recorded"`."""
    return dict(official_cifar10=official_files(Path(settings["data_dir"]) / FOLDER), hardware=hardware(device),
                threads=torch.get_num_threads(), torch=torch.__version__, started=time.strftime("%Y-%m-%d %H:%M"))


def end_epoch(folder: Path, row: dict, net: nn.Module, optimizer: torch.optim.Optimizer,
              progress: Progress, settings: dict) -> None:
    r"""Append the epoch's line of metrics, then write the checkpoint."""
    with open(folder / "metrics.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps(row) + "\n")
    save_checkpoint(folder / "checkpoint.pt", net, optimizer, progress, settings)


#
# ## Keeping a run for the site
#
# The site draws its figures and tables from runs kept under `docs/runs/`. A kept run has the
# run's `config.json` (with `data_dir` replaced by the default, so no path of the machine
# that trained it remains), its `metrics.jsonl`, and, for small nets, `model.pt`: the trained
# weights alone (a state dict, about 1 MB for ResNet-20), which load with
# `torch.load("model.pt", weights_only=True)`.
KEPT = Path(__file__).resolve().parents[2] / "docs" / "runs"


def keep_run(folder: Path, destination: Path, weights: bool = True, data_label: str = "") -> Path:
    r"""
    Copy the run in `folder` to `destination` as a kept run; `data_label` says in words what
    the data was (`"JPEG copy of CIFAR-10"`), for the site.
    """
    destination.mkdir(parents=True, exist_ok=True)
    saved = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    saved["data_dir"] = "./data"
    if data_label:
        saved.setdefault("recorded", {})["data"] = data_label
    write_text_atomically(destination / "config.json", json.dumps(saved, indent=2) + "\n")
    shutil.copyfile(folder / "metrics.jsonl", destination / "metrics.jsonl")
    if weights and (folder / "checkpoint.pt").is_file():
        state = torch.load(folder / "checkpoint.pt", map_location="cpu", weights_only=True)["model"]
        torch.save(state, destination / "model.pt")
    return destination


#
# ## Stopping with Ctrl-C
#
# The first Ctrl-C (SIGINT), or a SIGTERM, only asks the run to stop: the training loop finishes
# the step it is in, writes a checkpoint there, prints one line that says how to continue, and
# exits with status 128 + the signal's number (130 for Ctrl-C), as a shell expects of a program
# stopped by a signal. A second Ctrl-C exits at once; the checkpoint written last, whole because it
# is renamed into place, is what is kept.
#
# Several processes (torchrun) must stop after the same step, or one would wait forever for the
# others in the next all-reduce. They agree when they next read the loss: each adds whether it was
# asked to stop, and all stop if any was. One process alone stops after its current step.
class Stopped(Exception):
    r"""Raised by the training loop where it stopped, after it put the epoch's sums so far in `Progress`."""


class StopAtOnce(BaseException):
    r"""Raised by a second signal, wherever the program is (a `BaseException`, so no `except Exception` keeps it)."""

    def __init__(self, number: int):
        super().__init__(number)
        self.number = number


class StopRequest:
    r"""
    ## Ctrl-C keeps the work

    `with StopRequest() as stop:` catches SIGINT and SIGTERM while a run trains, and puts back the
    previous handlers at the end (a notebook's kernel, a test runner). `stop.signal` is the first
    signal's number, 0 until one comes; a second one raises `StopAtOnce`, which leaves the `with`
    block as one line and an exit status, without a traceback.
    """

    def __init__(self):
        self.signal = 0
        self.folder: Path | None = None  # the run folder, once there is one: for the last line
        self.previous = {}

    def __enter__(self) -> "StopRequest":
        if threading.current_thread() is threading.main_thread():  # only the main thread may set handlers
            for number in (signal.SIGINT, signal.SIGTERM):
                self.previous[number] = signal.signal(number, self.handle)
        return self

    def handle(self, number: int, frame) -> None:
        if self.signal:
            raise StopAtOnce(number)
        self.signal = number

    def agreed(self, world, reading: bool) -> bool:
        r"""
        Whether to stop after this step: one process, if it was asked to; several, only at a step
        where they `read` the loss, and then all of them if any one was asked to (an all-reduce,
        which every process makes at the same step).
        """
        if world.size == 1:
            return bool(self.signal)
        if not reading:
            return False
        return world.sum(torch.tensor([float(bool(self.signal))], device=world.device)).item() > 0

    def stop_if_asked(self, world, reading: bool, progress: Progress, bar, sums: dict) -> None:
        r"""
        Raise `Stopped` if the processes agree to stop after this step, with the epoch's `sums` so
        far and the seconds of its progress `bar` in `progress.unfinished`, for the checkpoint.
        """
        if self.agreed(world, reading):
            progress.unfinished = dict(sums, seconds=bar.seconds())
            bar.close()
            raise Stopped

    def finish(self, folder: Path, net: nn.Module, optimizer: torch.optim.Optimizer, progress: Progress,
               settings: dict, world) -> None:
        r"""Write the checkpoint where the run stopped, say how to continue, and exit."""
        if world.is_main:
            save_checkpoint(folder / "checkpoint.pt", net, optimizer, progress, settings)
        world.barrier()  # no process leaves before the checkpoint is on disk
        if world.is_main:
            tqdm.write(f"stopped at epoch {progress.epoch + 1}, iteration {progress.step:,}; continue with: "
                       f"{continue_command(folder, world.size)}", file=sys.stderr)
        raise SystemExit(128 + (self.signal or signal.SIGINT))

    @contextmanager
    def guard(self, folder: Path, net: nn.Module, optimizer: torch.optim.Optimizer, progress: Progress,
              settings: dict, world, started: float) -> Iterator[None]:
        r"""
        Around an epoch that began at `started` (`time.perf_counter()`): where the training loop
        raises `Stopped`, `finish` the run; where it raises `FloatingPointError` (a loss that is no
        longer finite), exit with one line that says where the last good checkpoint is.
        """
        try:
            yield
        except FloatingPointError as error:
            raise SystemExit(stopped_message(error, folder, progress.epoch, settings["lr"])) from None
        except Stopped:
            progress.seconds += time.perf_counter() - started
            self.finish(folder, net, optimizer, progress, settings, world)

    def __exit__(self, kind, error, traceback) -> None:
        for number, handler in self.previous.items():
            signal.signal(number, handler)
        if isinstance(error, StopAtOnce):
            checkpoint = self.folder / "checkpoint.pt" if self.folder else None
            kept = (f"the last checkpoint is kept; continue with: {continue_command(self.folder)}"
                    if checkpoint and checkpoint.is_file() else "no checkpoint had been written yet")
            tqdm.write(f"stopped at once; {kept}", file=sys.stderr)  # on a line of its own, below the bar
            raise SystemExit(128 + error.number) from None


def continue_command(folder: Path, processes: int = 1) -> str:
    r"""The command that resumes the run in `folder`."""
    start = f"torchrun --nproc_per_node={processes}" if processes > 1 else "python"
    return f"{start} experiment.py --resume {folder}"


#
# ## Exercises
#
# 1. **Exact resumption.** Kill a run with `kill -9` and `--resume` it: on the CPU its
#    `metrics.jsonl` ends exactly as an uninterrupted run's (apart from the times). Which parts
#    of the code make that true? *Hint:* `epoch_generator` in the experiment chapter, and this page.
#
#     ??? success "Answer"
#
#         Three things. The checkpoint is written to a temporary file and renamed, so it is
#         whole; it holds the model, the optimizer's momentum buffers, `Progress` and the random
#         state. Each epoch's crops, flips and order come from `epoch_generator(seed, epoch)`, so a
#         resumed epoch draws exactly what it would have drawn. And a resumed run starts where its
#         checkpoint was written: after `kill -9`, at the end of an epoch (the metrics lines of an
#         epoch that had not reached its checkpoint are dropped); after Ctrl-C, at the step where it
#         stopped, with that epoch's sums so far (`Progress.unfinished`). `tests/test_experiment.py`
#         kills a run, `tests/test_interrupt.py` stops runs with Ctrl-C, and both check the metrics.
#
