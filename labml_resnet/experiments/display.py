r"""
---
title: "Appendix: what a run prints"
description: The experiment's start line, progress bar, per-epoch lines and summary.
---

# Appendix: what a run prints

A run prints one line when it starts (the model, the recipe, the length, the run folder), a
progress bar during each epoch, one line per finished epoch, and a summary at the end. The
quick recipe's ResNet-20 kept under `docs/runs/fig6-quick-resnet20/` printed these lines (made
again here, by the functions below, from its `config.json` and `metrics.jsonl`; the run folder
was elsewhere):

<!-- md: labml_resnet.experiments.display.kept_run_output_markdown("fig6-quick-resnet20") -->

While an epoch trains, its bar sits below these lines; it looks like this (an illustration: the
bar is not recorded):

```
epoch 1 (last 50 it: loss 1.412, acc 49.6%) ██████▋    | 250/390 [00:36<00:20, 902 img/s, run ETA 4:40]
```

The bar moves at every iteration (redrawn at most twice a second), so a slow start never looks
like a hang; its loss and accuracy are those of the **last window** of iterations
(`--log-every` of them, 50 by default): the loss is read from the device only that often. The
epoch line shows the **mean over the whole epoch**, so the two differ: while the network is
improving, the epoch's mean loss is higher than the last window's, and its mean accuracy lower.
"""

import json
import statistics
import time
from pathlib import Path
from types import SimpleNamespace

import torch
from tqdm import tqdm

from labml_resnet._site import markdown_writer


def plural(n: int, word: str) -> str:
    r"""`plural(1, "epoch")` → `1 epoch`; `plural(4850, "iteration")` → `4,850 iterations`."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def format_seconds(seconds: float) -> str:
    r"""`83.4` → `1:23`; `4000` → `1:06:40`."""
    minutes, seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def start_line(config, net, device, n_processes: int, n_epochs: int, total_steps: int, n_train: int,
               folder: Path, progress) -> str:
    r"""What is about to be trained, how, for how long, and where it is written."""
    n_parameters = sum(p.numel() for p in net.parameters())
    processes = f" × {n_processes} processes" if n_processes > 1 else ""
    resuming = ""
    if config.resume:
        resuming = (f"; resuming in epoch {progress.epoch + 1}, after iteration {progress.step:,}" if progress.unfinished
                    else f"; resuming after epoch {progress.epoch}")
    return (f"{config.model} ({n_parameters / 1e6:.2f}M parameters), {config.preset} recipe, on {device}{processes}: "
            f"{plural(n_epochs, 'epoch')}, {plural(total_steps, 'iteration')} of {config.batch_size} images; "
            f"{n_train:,} training images; run folder {folder}{resuming}")


class EpochBar:
    r"""
    ## The progress bar

    One bar per epoch, on the main process only. It moves at every iteration (`advance`), which
    costs no read from the device; each time the loop reads the loss (`show`) it adds the
    window's loss and accuracy, the images per second since the last read, and the time left in
    the whole run at that speed. A resumed epoch starts where it stopped: `done` iterations, and
    `seconds` already spent.
    """

    # Redraw at most this often, in seconds; `miniters=1` looks at the clock at every iteration,
    # so a slow iteration is shown as soon as it ends
    REDRAW_S = 0.5

    def __init__(self, epoch: int, n_steps: int, batch_size: int, enabled: bool = True, done: int = 0,
                 seconds: float = 0.0):
        self.epoch, self.batch_size = epoch, batch_size
        self.bar = tqdm(total=n_steps, initial=done, desc=f"epoch {epoch}", unit="it", leave=False,
                        disable=not enabled, mininterval=self.REDRAW_S, miniters=1, dynamic_ncols=True)
        self.start = time.perf_counter() - seconds
        self.last = time.perf_counter()
        self.last_step = done

    def advance(self) -> None:
        r"""One more iteration."""
        self.bar.update(1)

    def show(self, step: int, loss: float, accuracy: float, remaining_images: int) -> None:
        r"""After `step` iterations of the epoch: the window's mean `loss` and `accuracy`."""
        now = time.perf_counter()
        window = step - self.last_step
        speed = window * self.batch_size / max(now - self.last, 1e-9)
        self.last, self.last_step = now, step
        self.bar.set_description_str(f"epoch {self.epoch} (last {window} it: loss {loss:.3f}, "
                                     f"acc {100 * accuracy:.1f}%)", refresh=False)
        self.bar.set_postfix_str(f"{speed:,.0f} img/s, run ETA {format_seconds(remaining_images / speed)}", refresh=False)
        self.bar.refresh()

    def seconds(self) -> float:
        r"""Seconds since the epoch began (for a resumed epoch, with the time before it stopped)."""
        return time.perf_counter() - self.start

    def close(self) -> None:
        self.bar.close()


def cpu_estimate(seconds_per_image: tuple[float, float], config, quick, n_train: int, n_test: int) -> str:
    r"""
    The line printed before the first step of the fast recipe on a CPU: how long this run will
    take, from `seconds_per_image` (training, test) measured here, and how long the `quick`
    recipe would.
    """
    def seconds(c) -> float:
        per_epoch = max(1, n_train // c.batch_size)
        steps = c.steps or c.epochs * per_epoch
        epochs = -(-steps // per_epoch)
        return steps * c.batch_size * seconds_per_image[0] + epochs * n_test * seconds_per_image[1]

    return (f"No GPU: the fast recipe is meant for one; on this CPU this run will take about "
            f"{rough_duration(seconds(config))} (timed on a few iterations). --preset quick "
            f"({plural(quick.epochs, 'epoch')}, batch {quick.batch_size}) would take about "
            f"{rough_duration(seconds(quick))}.")


def rough_duration(seconds: float) -> str:
    r"""`42.3` → `42 s`; `570` → `10 min`; `5400` → `1 h 30 min`: an estimate, in whole seconds or minutes."""
    if seconds < 59.5:
        return f"{round(seconds)} s"
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


def epoch_line(row: dict, n_epochs: int, history: list[dict]) -> None:
    r"""Print the line of an epoch (`format_epoch_line`) above the progress bar."""
    tqdm.write(format_epoch_line(row, n_epochs, history))


def format_epoch_line(row: dict, n_epochs: int, history: list[dict]) -> str:
    r"""The line printed after each epoch: its mean training loss and error, and the test error."""
    best = min(r["test_error"] for r in history)
    return (f"epoch {row['epoch']:>3}/{n_epochs}  iteration {row['step']:>6,}  "
            f"train loss {row['train_loss']:.3f} error {100 * row['train_error']:5.2f}%  "
            f"test error {100 * row['test_error']:5.2f}% (best {100 * best:5.2f}%)  "
            f"{row['epoch_s']:.1f} s, {row['images_per_s']:,.0f} img/s")


def summary(model: str, progress, folder: Path) -> str:
    r"""
    Final and best test accuracy, wall time, and speed. The speed is the median epoch's, which
    leaves out the first epoch's start-up (memory allocation, cuDNN's search for the fastest
    kernels, compilation).
    """
    history = progress.history
    best = min(history, key=lambda row: row["test_error"])
    epoch_seconds = statistics.median(row["epoch_s"] for row in history)
    speed = statistics.median(row["images_per_s"] for row in history)
    return (f"{model}: {plural(progress.epoch, 'epoch')}, {plural(progress.step, 'iteration')}, "
            f"{format_seconds(progress.seconds)} of training and evaluation ({epoch_seconds:.2f} s and "
            f"{speed:,.0f} images/s per training epoch, median)\n"
            f"test accuracy: final {100 * (1 - history[-1]['test_error']):.2f}%, "
            f"best {100 * (1 - best['test_error']):.2f}% (epoch {best['epoch']})\n"
            f"run folder: {folder}")


def stopped_message(error: Exception, folder: Path, epoch: int, lr: float) -> str:
    r"""What to do after the loss stopped being finite: where the last good checkpoint is."""
    checkpoint = folder / "checkpoint.pt"
    kept = (f"The last good checkpoint, after epoch {epoch}, is {checkpoint}; continue from it with a lower "
            f"learning rate: --resume {folder} --lr {lr / 2:g}" if checkpoint.is_file()
            else "No checkpoint had been written yet.")
    return f"Stopped: {error}. {kept}"


#
# ## The sample above, from a kept run
@markdown_writer
def kept_run_output_markdown(name: str) -> str:
    r"""
    A code block: the start line, the epoch lines and the summary that the kept run `name`
    printed, made from its `config.json` and `metrics.jsonl` by the functions above. The folder
    it ran in is not kept, so the lines name it `runs/<time>-<model>`.
    """
    import labml_resnet
    from labml_resnet.experiments import runs

    kept = runs.KEPT / name
    saved = json.loads((kept / "config.json").read_text(encoding="utf-8"))
    rows = runs.read_metrics(kept)
    config = SimpleNamespace(**saved, resume="")  # a kept run keeps no `out` or `resume`
    # The run's length, as the training loop works it out
    n_train = min(50_000 - config.validation, config.limit_train or 50_000)
    steps_per_epoch = n_train // config.batch_size
    total_steps = config.steps or config.epochs * steps_per_epoch
    n_epochs = -(-total_steps // steps_per_epoch)
    options = {} if config.shortcut == "default" else {"shortcut": config.shortcut}
    with torch.device("meta"):
        net = labml_resnet.CIFAR_BUILDERS[config.model](num_classes=10, **options)
    on_cpu = config.device == "cpu" or (config.device == "auto" and "cores" in saved["recorded"]["hardware"])
    device = torch.device("cpu" if on_cpu else config.device.replace("auto", "cuda"))
    folder = Path("runs") / f"<time>-{config.model}"
    progress = SimpleNamespace(epoch=len(rows), step=rows[-1]["step"], seconds=rows[-1]["time_s"], history=rows)
    lines = [start_line(config, net, device, 1, n_epochs, total_steps, n_train, folder, progress),
             *(format_epoch_line(row, n_epochs, rows[:i + 1]) for i, row in enumerate(rows)),
             summary(config.model, progress, folder)]
    return "```\n" + "\n".join(lines) + "\n```"
