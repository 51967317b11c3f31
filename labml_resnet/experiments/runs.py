r"""
---
title: "Appendix: run folders and checkpoints"
description: What a training run writes, how a checkpoint is written so that a killed run resumes exactly, and how a run is kept for the site.
---

# Appendix: run folders and checkpoints

Each run of the experiment writes a folder `<out>/<time>-<model>/`:

* `config.json`: every setting, and under `"recorded"` a few facts about the run that are not
  settings: whether its data had CIFAR-10's official checksums, the hardware, the torch
  version, when it started;
* `metrics.jsonl`: one line per epoch (iteration, learning rate, training loss and error,
  test loss and error, seconds, images per second);
* `checkpoint.pt`: the model, the optimizer, the random state and `Progress`, rewritten at the
  end of every epoch.

A run that is interrupted, even by `kill -9`, continues with `--resume <folder>`; on the CPU,
with the same seed, it ends with exactly the metrics of an uninterrupted run, because the
checkpoint is written whole or not at all, and each epoch's random numbers depend only on the
seed and the epoch (`epoch_generator` in the experiment chapter).
"""

import json
import os
import platform
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.distributed
from torch import nn

from labml_resnet.experiments.cifar10 import FOLDER, official_files
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
    with open(temporary, "wb") as f:
        torch.save(state, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)


def load_checkpoint(path: Path, model: nn.Module, optimizer: torch.optim.Optimizer) -> Progress:
    r"""Restore the model, the optimizer and the random state; returns where the run stands."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["torch_rng"])
        return Progress(**state["progress"])
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
            raise SystemExit(f"{folder} has no checkpoint.pt yet (it stopped before its first epoch ended); "
                             f"start a new run instead")
        progress = load_checkpoint(folder / "checkpoint.pt", net, optimizer)
        if progress.epoch < n_epochs and progress.step != progress.epoch * steps_per_epoch:
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
                torch=torch.__version__, started=time.strftime("%Y-%m-%d %H:%M"))


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
