r"""
---
title: "Appendix: reproducing the figures"
description: One command that trains the degradation experiment's nets, keeps their records, and measures what the site's figures show.
---

# Appendix: reproducing the figures

`python experiment.py reproduce fig6 --data-dir DATA` trains plain-20, plain-56, ResNet-20
and ResNet-56 with one recipe and one seed, keeps each run under `docs/runs/`, and measures
from each kept network what the site shows beside the learning curves:

* the paper's Fig. 7: the standard deviation of every $3 \times 3$ layer's response "after BN
  and before nonlinearity" (the ReLU, or in a residual block the addition), on test images;
* for the residual nets, per-class accuracy and the confusion matrix on the test images, and
  a few test images with what the network predicts for them.

It can be stopped at any time and run again: a finished run is skipped, an unfinished one is
resumed from its last checkpoint, exactly. `--preset quick` (the default) fits a CPU;
`--preset paper` on a GPU makes the paper-scale version.

The arrows point one way: `experiment.py` imports this module and hands it the lesson (`lesson`
below is the experiment's module), so the networks are built, fed and trained exactly as in the
chapter, and the package never imports the script.
"""

import argparse
import base64
import io
import json
import shutil
from pathlib import Path
from types import ModuleType

import numpy as np
import torch
from torch import nn

from labml_resnet.experiments import cifar10, runs

FIG6_MODELS = ["plain20", "plain56", "resnet20", "resnet56"]


def finished(folder: Path) -> bool:
    r"""Whether a run folder's last epoch is its last one."""
    saved = json.loads((folder / "config.json").read_text())
    rows = runs.read_metrics(folder) if (folder / "metrics.jsonl").is_file() else []
    if not rows:
        return False
    steps_per_epoch = rows[0]["step"] // rows[0]["epoch"]
    total = saved["steps"] or saved["epochs"] * steps_per_epoch
    return rows[-1]["step"] >= total


def find_run(out: Path, model: str, preset: str) -> Path | None:
    r"""The newest run folder under `out` of `model` and `preset` with a checkpoint."""
    found = [p.parent for p in sorted(out.glob(f"*-{model}/checkpoint.pt"))
             if json.loads((p.parent / "config.json").read_text())["preset"] == preset]
    return found[-1] if found else None


#
# ## Layer responses (the paper's Fig. 7)
#
# A forward hook on every batch norm that follows a $3 \times 3$ convolution records its output;
# we take the standard deviation of each over all test images, channels and positions, in
# evaluation mode (the batch norms use their running statistics, as at test time).
@torch.no_grad()
def response_stds(net: nn.Module, images: torch.Tensor, batch_size: int = 500) -> list[float]:
    r"""The standard deviation of each 3×3 layer's batch-normalized output, in the network's order."""
    layers = [bn for conv, bn in _conv_bn_pairs(net) if conv.kernel_size == (3, 3)]
    sums = torch.zeros(len(layers), 3, dtype=torch.float64)  # count, sum, sum of squares

    def hook(index):
        def record(module, inputs, output):
            values = output.double()
            sums[index] += torch.stack([torch.tensor(values.numel(), dtype=torch.float64), values.sum(),
                                        (values ** 2).sum()])
        return record

    handles = [bn.register_forward_hook(hook(i)) for i, bn in enumerate(layers)]
    try:
        net.eval()
        for batch in images.split(batch_size):
            net(batch)
    finally:
        for handle in handles:
            handle.remove()
    count, total, squares = sums.unbind(dim=1)
    return ((squares / count - (total / count) ** 2).clamp(min=0).sqrt()).tolist()


def _conv_bn_pairs(net: nn.Module) -> list[tuple[nn.Conv2d, nn.BatchNorm2d]]:
    r"""Each convolution with the batch norm that follows it (`conv1`/`bn1`, `conv2`/`bn2`, …), in order."""
    modules = dict(net.named_modules())
    pairs = []
    for name, module in modules.items():
        if isinstance(module, nn.Conv2d) and "downsample" not in name:
            bn = modules.get(name.replace("conv", "bn"))
            if isinstance(bn, nn.BatchNorm2d):
                pairs.append((module, bn))
    return pairs


#
# ## The trained network in use
@torch.no_grad()
def predictions(net: nn.Module, images: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    r"""The predicted class of each image."""
    net.eval()
    return torch.cat([net(batch).argmax(dim=1) for batch in images.split(batch_size)])


def confusion(labels: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    r"""`[10, 10]`: row = true class, column = predicted class, the number of test images."""
    matrix = np.zeros((10, 10), dtype=np.int64)
    np.add.at(matrix, (labels, predicted), 1)
    return matrix


def png_data_uri(image: np.ndarray, scale: int = 3) -> str:
    r"""A `uint8` `[3, 32, 32]` image as a `data:` URI of a PNG, enlarged `scale` times (nearest neighbour)."""
    from PIL import Image
    picture = Image.fromarray(np.ascontiguousarray(image.transpose(1, 2, 0))).resize((32 * scale, 32 * scale),
                                                                                      Image.NEAREST)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def example_images(result: dict, scale: int = 3) -> torch.Tensor:
    r"""The example images of an `analysis.json` (`result`) back as `uint8` `[N, 3, 32, 32]`: every
    `scale`-th pixel of each PNG, which `png_data_uri` enlarged by repeating pixels."""
    from PIL import Image
    pictures = [np.asarray(Image.open(io.BytesIO(base64.b64decode(example["image"].split(",", 1)[1]))).convert("RGB"))
                for example in result["examples"]]
    return torch.from_numpy(np.stack(pictures)[:, ::scale, ::scale].transpose(0, 3, 1, 2).copy())


def analyse(kept: Path, data_dir: Path, lesson: ModuleType, examples: int = 12) -> dict:
    r"""
    Measure a kept run's network (`model.pt`) on the test images of `data_dir` and write
    `analysis.json` beside it: the layer responses, the confusion matrix and per-class
    accuracy, and a few test images with their predictions. `lesson` (the experiment) builds
    the network and its inputs exactly as in training.
    """
    saved = json.loads((kept / "config.json").read_text())
    saved.pop("recorded", None)
    config = lesson.make_config({}, runs.check_types(lesson.Config, saved, str(kept / "config.json")))
    net = lesson.make_model(config)
    net.load_state_dict(torch.load(kept / "model.pt", weights_only=True))
    arrays = cifar10.load_cifar10(data_dir, download=False)
    mean, std = lesson.normalization(arrays["train_images"], config.normalize)
    images = lesson.to_input(torch.from_numpy(arrays["test_images"]), mean, std, channels_last=False)
    labels = arrays["test_labels"]
    predicted = predictions(net, images).numpy()
    matrix = confusion(labels, predicted)
    names = cifar10.read_label_names(Path(data_dir) / cifar10.FOLDER)
    # The first `examples` test images, right or wrong: a fair sample, not a chosen one
    shown = [dict(image=png_data_uri(arrays["test_images"][i]), label=names[labels[i]], predicted=names[predicted[i]])
             for i in range(examples)]
    # The normalization is kept too: with it, the stored example images are a test set of their
    # own, which the tests run the kept weights on without CIFAR-10 (`example_images`).
    result = dict(test_images=len(labels), test_accuracy=float((predicted == labels).mean()),
                  class_names=names, confusion=matrix.tolist(),
                  class_accuracy=(matrix.diagonal() / matrix.sum(axis=1)).tolist(),
                  response_stds=response_stds(net, images), examples=shown,
                  normalization=dict(mean=mean.flatten().tolist(), std=std.flatten().tolist(),
                                     shape=[list(mean.shape), list(std.shape)]))
    (kept / "analysis.json").write_text(json.dumps(result, indent=1) + "\n")
    return result


#
# ## The command
def reproduce_fig6(lesson: ModuleType, data_dir: str, preset: str, models: list[str], out: Path, keep: Path,
                   data_label: str, extra: list[str]) -> None:
    r"""Train (or resume) each of `models` with `lesson.main`, keep it under `keep` and analyse it."""
    for model in models:
        folder = find_run(out, model, preset)
        if folder is None:
            print(f"{model}: training, {preset} recipe")
            lesson.main(["--model", model, "--preset", preset, "--data-dir", data_dir, "--out", str(out), *extra])
        elif not finished(folder):
            print(f"{model}: resuming {folder}")
            lesson.main(["--resume", str(folder)])
        else:
            print(f"{model}: finished in {folder}")
        folder = find_run(out, model, preset)
        destination = keep / f"fig6-{preset}-{model}"
        if destination.exists():
            shutil.rmtree(destination)
        runs.keep_run(folder, destination, data_label=data_label)
        analyse(destination, Path(data_dir), lesson)
        print(f"{model}: kept in {destination}")


# What `--help` says: plain words, for a terminal
DESCRIPTION = ("Train plain-20, plain-56, ResNet-20 and ResNet-56 with one recipe and one seed, keep each run "
               "under docs/runs/, and measure what the site's figures show: the layer responses of the paper's "
               "Fig. 7, the confusion matrix and a few test images with their predictions. Stop it at any time "
               "and run it again: finished runs are skipped, unfinished ones resumed. Any other flag (--epochs, "
               "--device, ...) goes to each training run.")


def main(argv: list[str], lesson: ModuleType) -> None:
    r"""`experiment.py reproduce …`; `lesson` is the experiment's module, which trains."""
    parser = argparse.ArgumentParser(prog="experiment.py reproduce", description=DESCRIPTION)
    parser.add_argument("figure", choices=["fig6"], help="fig6: plain and residual nets of 20 and 56 layers")
    parser.add_argument("--data-dir", required=True, help="a folder with cifar-10-batches-py/ in it")
    parser.add_argument("--preset", default="quick", choices=["quick", "fast", "paper"], help="[default: quick]")
    parser.add_argument("--models", nargs="+", default=FIG6_MODELS, help=f"[default: {' '.join(FIG6_MODELS)}]")
    parser.add_argument("--out", default="runs/reproduce", help="where the runs train [default: runs/reproduce]")
    parser.add_argument("--keep", default=str(runs.KEPT), help="where kept runs go [default: docs/runs]")
    parser.add_argument("--data-label", default="", help="what the data is, for the site (e.g. 'JPEG copy of CIFAR-10')")
    args, extra = parser.parse_known_args(argv)
    reproduce_fig6(lesson, args.data_dir, args.preset, args.models, Path(args.out), Path(args.keep), args.data_label, extra)
