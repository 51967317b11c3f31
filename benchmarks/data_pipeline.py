r"""
# Data pipeline benchmark

Training images per second of the same network, with the same optimizer step, fed by two
pipelines in the same run on the same machine:

* **device**: `experiment.py`'s pipeline. The whole training set sits on the device as
  `uint8`; each epoch, one gather crops and flips every image; each step indexes a batch and
  normalizes it on the device.
* **DataLoader**: the standard torchvision pipeline. A `Dataset` that returns a PIL image per
  item, as `torchvision.datasets.CIFAR10` does, the transforms `RandomCrop(32, padding=4)`,
  `RandomHorizontalFlip()`, `ToTensor()`, `Normalize(mean, std)`, and a `DataLoader` with
  worker processes (by default one per CPU core) and pinned memory.

```
python benchmarks/data_pipeline.py --data-dir ./data                 # real CIFAR-10
python benchmarks/data_pipeline.py --synthetic                        # random images of CIFAR-10's shape
python benchmarks/data_pipeline.py --synthetic --steps 5 --device cpu # a quick look on a CPU
```

It prints both speeds, the seconds that one epoch of CIFAR-10's 50,000 training images would
take at each (whatever `--images` is), and their ratio. The goals on an H100: the device pipeline at least 5× the DataLoader, and at most 1 s
per epoch for ResNet-20. See `docs/results.md` for what has been measured.
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torchvision.transforms as T
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import experiment  # noqa: E402
from labml_resnet.experiments import cifar10, world  # noqa: E402

EPOCH_IMAGES = 50_000


class PilImages(torch.utils.data.Dataset):
    r"""Images `uint8` `[N, 3, 32, 32]` served one PIL image at a time, as torchvision's CIFAR10 serves them."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, transform):
        self.images = images.permute(0, 2, 3, 1).numpy()  # [N, 32, 32, 3], as PIL wants
        self.labels = labels.tolist()
        self.transform = transform

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int):
        return self.transform(Image.fromarray(self.images[i])), self.labels[i]


def device_batches(images: np.ndarray, labels: np.ndarray, batch_size: int, device: torch.device):
    r"""`experiment.py`'s pipeline: endless batches `(x, y)`, already normalized, on `device`."""
    data = experiment.DeviceData.create(
        dict(train_images=images, train_labels=labels, test_images=images[:0], test_labels=labels[:0],
             val_images=images[:0], val_labels=labels[:0]), "channel", device)
    epoch = 0
    while True:
        generator = experiment.epoch_generator(0, epoch, device)
        augmented = experiment.crop_and_flip(data.train_padded, generator)
        order = torch.randperm(len(augmented), generator=generator, device=device)
        for step in range(len(order) // batch_size):
            index = order[step * batch_size:(step + 1) * batch_size]
            yield experiment.to_input(augmented[index], data.mean, data.std), data.train_labels[index]
        epoch += 1


def dataloader_batches(images: np.ndarray, labels: np.ndarray, batch_size: int, device: torch.device,
                       workers: int):
    r"""The torchvision pipeline: endless batches `(x, y)` on `device`."""
    mean, std = experiment.normalization(images, "channel")
    images, labels = torch.from_numpy(images), torch.from_numpy(labels)
    transform = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(), T.ToTensor(),
                           T.Normalize(mean.flatten().tolist(), std.flatten().tolist())])
    loader = torch.utils.data.DataLoader(
        PilImages(images, labels, transform), batch_size=batch_size, shuffle=True, drop_last=True,
        num_workers=workers, pin_memory=device.type == "cuda", persistent_workers=workers > 0)
    while True:
        for x, y in loader:
            x = x.to(device, non_blocking=True).contiguous(memory_format=torch.channels_last)
            yield x, y.to(device, non_blocking=True)


def images_per_second(model_name: str, batches, batch_size: int, steps: int, warmup: int,
                      device: torch.device, compile_: bool) -> float:
    r"""Train a fresh `model_name` on `warmup` batches, then time `steps` more."""
    torch.manual_seed(0)
    config = experiment.Config(model=model_name)
    model = experiment.make_model(config).to(device, memory_format=torch.channels_last)
    optimizer = experiment.make_optimizer(model, config)
    bf16 = experiment.uses_bf16(config.precision, device)
    if compile_:
        model = torch.compile(model)
    model.train()

    def run(n: int) -> None:
        for _ in range(n):
            x, y = next(batches)
            experiment.train_step(model, optimizer, x, y, config.label_smoothing, bf16)

    run(warmup)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    run(steps)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return steps * batch_size / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description="Training images/s: experiment.py's pipeline against torchvision's DataLoader.")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data-dir", help="a folder with cifar-10-batches-py/ (see experiment.py --data-dir)")
    source.add_argument("--synthetic", action="store_true", help="random images of CIFAR-10's shape instead")
    parser.add_argument("--images", type=int, default=EPOCH_IMAGES, help="--synthetic: how many images [default: 50000]")
    parser.add_argument("--models", nargs="+", default=["resnet20", "resnet56"], help="[default: resnet20 resnet56]")
    parser.add_argument("--batch-size", type=int, default=experiment.Config.batch_size, help="[default: the fast recipe's, 512]")
    parser.add_argument("--steps", type=int, default=200, help="timed steps per measurement [default: 200]")
    parser.add_argument("--warmup", type=int, default=20, help="untimed steps first [default: 20]")
    parser.add_argument("--workers", type=int, default=os.cpu_count(), help="DataLoader workers [default: one per CPU core]")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda [default: auto]")
    parser.add_argument("--compile", action="store_true", help="torch.compile the model in both pipelines")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)

    device = world.pick_device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    if args.synthetic:
        rng = np.random.default_rng(0)
        images = rng.integers(0, 256, (args.images, 3, 32, 32), dtype=np.uint8)
        labels = rng.integers(0, 10, args.images)
        source = f"random images ({args.images:,})"
    else:
        data = cifar10.load_cifar10(Path(args.data_dir), download=False)
        images, labels = data["train_images"], data["train_labels"]
        source = f"{args.data_dir} ({len(labels):,} images)"
    if len(labels) < args.batch_size:
        parser.error(f"--batch-size {args.batch_size} is more than the {len(labels):,} images: "
                     f"not one batch could be made")
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU ({os.cpu_count()} cores)"
    print(f"device: {name}; data: {source}; batch {args.batch_size}; {args.steps} timed steps after "
          f"{args.warmup}; DataLoader workers: {args.workers}; torch {torch.__version__}"
          f"{'; compiled' if args.compile else ''}")
    # s/epoch: the seconds that one epoch of CIFAR-10's 50,000 training images would take at this speed
    print(f"{'model':<10} {'pipeline':<12} {'images/s':>10} {'s per 50k':>10}")
    results = []
    for model_name in args.models:
        speeds = {}
        for pipeline, batches in [
                ("device", device_batches(images, labels, args.batch_size, device)),
                ("DataLoader", dataloader_batches(images, labels, args.batch_size, device, args.workers))]:
            speeds[pipeline] = images_per_second(model_name, batches, args.batch_size, args.steps, args.warmup,
                                                 device, args.compile)
            print(f"{model_name:<10} {pipeline:<12} {speeds[pipeline]:>10,.0f} {EPOCH_IMAGES / speeds[pipeline]:>10.2f}")
            batches.close()  # stops the DataLoader's workers
        ratio = speeds["device"] / speeds["DataLoader"]
        print(f"{model_name:<10} {'ratio':<12} {ratio:>9.2f}×")
        results.append(dict(model=model_name, device_images_per_s=speeds["device"],
                            dataloader_images_per_s=speeds["DataLoader"], ratio=ratio,
                            device_s_per_epoch=EPOCH_IMAGES / speeds["device"],
                            dataloader_s_per_epoch=EPOCH_IMAGES / speeds["DataLoader"],
                            hardware=name, batch_size=args.batch_size, steps=args.steps, warmup=args.warmup,
                            workers=args.workers, compile=args.compile, data=source, torch=torch.__version__))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    main()
