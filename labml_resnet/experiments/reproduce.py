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
* per-class accuracy and the confusion matrix on the test images, and a few test images with
  what the network predicts for them;
* Veit et al.'s lesion study: the test error with each block deleted in turn.

It can be stopped at any time and run again: a finished run is skipped, an unfinished one is
resumed from its last checkpoint, exactly. `--preset quick` (the default) fits a CPU;
`--preset paper` on a GPU makes the paper-scale version.

The arrows point one way: `experiment.py` imports this module and hands it the lesson (`lesson`
below is the experiment's module), so the networks are built, fed and trained exactly as in the
chapter, and the package never imports the script.
"""

import argparse
import base64
import copy
import io
import json
import shutil
from pathlib import Path
from types import ModuleType

import numpy as np
import torch
from torch import nn

from labml_resnet.experiments import cifar10, runs
from labml_resnet.shortcuts import make_shortcut

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
# ## Deleting one block at a time (Veit et al.'s lesion study)
#
# [Veit, Wilber and Belongie 2016](https://arxiv.org/abs/1605.06431) delete one residual block
# of a trained ResNet at test time, keeping only its shortcut, and measure the test error of
# what is left. A deleted block computes its shortcut alone: $x$ itself, or in a block that
# changes the shape (`layer2.0` and `layer3.0` of the CIFAR-10 nets) the option-A shortcut that
# the block already has (every `stride`-th pixel, zero channels added). A plain block has no
# shortcut; we give it the same replacement, so that the two nets lose the same thing. Its
# input is the output of a ReLU, so the block's last ReLU would leave the shortcut's output as
# it is. The batch norms stay in evaluation mode, as trained.
def block_shortcut(block: nn.Module) -> nn.Module:
    r"""What `block` computes with its residual branch deleted: its shortcut, or, for a plain
    block, the option-A shortcut of its shape (`nn.Identity` where the shape does not change)."""
    if getattr(block, "downsample", None) is not None:
        return block.downsample
    in_channels, out_channels, stride = block.conv1.in_channels, block.last_bn().num_features, block.conv1.stride[0]
    return make_shortcut("A", in_channels, out_channels, stride) or nn.Identity()


@torch.no_grad()
def lesion(net: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 100) -> dict:
    r"""
    The test error of the whole net, and of the net with each block deleted in turn:
    `{"error": …, "blocks": [{"block": "layer1.0", "error": …}, …]}`. Cheap: each batch goes
    through the whole net once, keeping every block's input; the net without block $i$ then
    starts from block $i$'s input and runs only the blocks after it.
    """
    # A copy (the caller's net is left as it is), in channels-last memory order
    net = copy.deepcopy(net).to(memory_format=torch.channels_last)
    blocks = [(f"layer{s + 1}.{j}", block) for s, stage in enumerate(net.stages()) for j, block in enumerate(stage)]
    shortcuts = [block_shortcut(block) for _, block in blocks]

    def head(x):  # `ResNet.forward` after the stages
        return net.fc(torch.flatten(net.avgpool(x), 1))

    wrong, wrong_without = 0, torch.zeros(len(blocks), dtype=torch.int64)
    net.eval()
    for batch, target in zip(images.split(batch_size), labels.split(batch_size)):
        # The stem, then every block, keeping the input of each
        x = net.maxpool(net.relu(net.bn1(net.conv1(batch.contiguous(memory_format=torch.channels_last)))))
        inputs = []
        for _, block in blocks:
            inputs.append(x)
            x = block(x)
        wrong += int((head(x).argmax(dim=1) != target).sum())
        # Block i deleted: its shortcut on its input, then the blocks after it
        for i, shortcut in enumerate(shortcuts):
            x = shortcut(inputs[i])
            for _, block in blocks[i + 1:]:
                x = block(x)
            wrong_without[i] += int((head(x).argmax(dim=1) != target).sum())
    return dict(error=wrong / len(labels),
                blocks=[dict(block=name, error=int(n) / len(labels)) for (name, _), n in zip(blocks, wrong_without)])


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


def load_kept(kept: Path, data_dir: Path, lesson: ModuleType) -> tuple[nn.Module, dict, torch.Tensor, tuple]:
    r"""A kept run's network (`model.pt`), the CIFAR-10 arrays of `data_dir`, the test images as the network
    reads them, and the normalization; `lesson` (the experiment) builds both exactly as in training."""
    saved = json.loads((kept / "config.json").read_text())
    saved.pop("recorded", None)
    config = lesson.make_config({}, runs.check_types(lesson.Config, saved, str(kept / "config.json")))
    net = lesson.make_model(config)
    net.load_state_dict(torch.load(kept / "model.pt", weights_only=True))
    arrays = cifar10.load_cifar10(data_dir, download=False)
    mean, std = lesson.normalization(arrays["train_images"], config.normalize)
    images = lesson.to_input(torch.from_numpy(arrays["test_images"]), mean, std, channels_last=False)
    return net, arrays, images, (mean, std)


def analyse(kept: Path, data_dir: Path, lesson: ModuleType, examples: int = 12) -> dict:
    r"""
    Measure a kept run's network (`model.pt`) on the test images of `data_dir` and write
    `analysis.json` beside it: the layer responses, the confusion matrix and per-class
    accuracy, a few test images with their predictions, and the lesion study.
    """
    net, arrays, images, (mean, std) = load_kept(kept, data_dir, lesson)
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
                                     shape=[list(mean.shape), list(std.shape)]),
                  lesion=lesion(net, images, torch.from_numpy(labels).long()))
    (kept / "analysis.json").write_text(json.dumps(result, indent=1) + "\n")
    return result


def add_lesion(kept: Path, data_dir: Path, lesson: ModuleType) -> dict:
    r"""Only the lesion study, added to (or replaced in) an existing `analysis.json`, without training or
    measuring the rest again."""
    net, arrays, images, _ = load_kept(kept, data_dir, lesson)
    result = json.loads((kept / "analysis.json").read_text())
    result["lesion"] = lesion(net, images, torch.from_numpy(arrays["test_labels"]).long())
    (kept / "analysis.json").write_text(json.dumps(result, indent=1) + "\n")
    return result["lesion"]


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
               "Fig. 7, the confusion matrix, a few test images with their predictions, and the test error with each "
               "block deleted in turn. Stop it at any time "
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
