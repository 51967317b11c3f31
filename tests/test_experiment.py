"""Tests of experiment.py and its machinery (labml_resnet.experiments) on the CPU, on small
CIFAR-10-shaped datasets written here in the original on-disk layout (pickled python batches)."""
import dataclasses
import json
import os
import pickle
import shutil
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import experiment  # noqa: E402
from labml_resnet.experiments import cifar10, display, flags, memory, records, runs, world  # noqa: E402

# Fields of metrics.jsonl that are wall-clock times; everything else must be reproducible
TIMES = {"epoch_s", "images_per_s", "time_s"}
# A small, quick run: 128 training images in batches of 32, 64 test images
SMALL = ["--limit-train", "128", "--limit-test", "64", "--batch-size", "32", "--lr", "0.05",
         "--log-every", "2", "--device", "cpu"]


def write_cifar(root: Path, n_train: int = 300, n_test: int = 100, seed: int = 0) -> Path:
    """Write a CIFAR-10-shaped dataset in the original layout under `root`; returns `root`.

    Each class has its own colour, with noise, so that a network learns it in a few steps."""
    rng = np.random.default_rng(seed)
    palette = rng.integers(30, 226, size=(10, 3))
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)

    def batch(n: int, name: str) -> dict:
        labels = rng.integers(0, 10, size=n)
        images = palette[labels][:, :, None] + rng.integers(-30, 31, size=(n, 3, 1024))
        return {b"batch_label": name.encode(), b"labels": labels.tolist(),
                b"data": images.clip(0, 255).astype(np.uint8).reshape(n, 3072),
                b"filenames": [f"{name}_{i}.png".encode() for i in range(n)]}

    for i, n in enumerate(np.diff(np.linspace(0, n_train, 6).astype(int))):
        with open(folder / f"data_batch_{i + 1}", "wb") as f:
            pickle.dump(batch(int(n), f"data_batch_{i + 1}"), f, protocol=2)
    with open(folder / "test_batch", "wb") as f:
        pickle.dump(batch(n_test, "test_batch"), f, protocol=2)
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({b"label_names": [f"class{i}".encode() for i in range(10)],
                     b"num_cases_per_batch": n_train // 5, b"num_vis": 3072}, f, protocol=2)
    return root


def run_folders(out: Path) -> list[Path]:
    return sorted(p for p in out.iterdir() if p.is_dir())


def metrics(folder: Path) -> list[dict]:
    return runs.read_metrics(folder)


def without_times(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if k not in TIMES} for row in rows]


# One thread per process, here and in the processes the tests start. On a small machine
# shared with other jobs, two threads that wait for each other can be many times slower than
# one; and a killed run and its uninterrupted twin must use the same number of threads to
# compute exactly the same numbers.
ONE_THREAD = {**os.environ, "OMP_NUM_THREADS": "1"}


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def run_script(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "experiment.py"), *args], cwd=ROOT, env=ONE_THREAD,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    return write_cifar(tmp_path_factory.mktemp("cifar"))


@pytest.fixture(scope="module")
def finished_run(data_dir, tmp_path_factory) -> Path:
    """Three epochs of ResNet-20, trained once for the tests that look at a run folder."""
    out = tmp_path_factory.mktemp("runs")
    experiment.main(["--data-dir", str(data_dir), "--out", str(out), "--epochs", "3",
                     "--limit-train", "256", *SMALL[2:]])
    (folder,) = run_folders(out)
    return folder


# ## The CIFAR-10 files (tests/test_untrusted.py has the hostile ones)

def test_loader_reads_the_original_layout(tmp_path):
    write_cifar(tmp_path, n_train=50, n_test=20)
    data = cifar10.load_cifar10(tmp_path, download=False)
    assert data["train_images"].shape == (50, 3, 32, 32) and data["train_images"].dtype == np.uint8
    assert data["test_images"].shape == (20, 3, 32, 32) and data["test_labels"].shape == (20,)
    # The same pixels and labels as in the files, in the order of the files
    with open(tmp_path / "cifar-10-batches-py" / "data_batch_1", "rb") as f:
        first = pickle.load(f, encoding="bytes")
    n = len(first[b"labels"])
    assert np.array_equal(data["train_images"][:n].reshape(n, -1), first[b"data"])
    assert data["train_labels"][:n].tolist() == first[b"labels"]


def test_loader_reads_python2_style_pickles(tmp_path):
    """The original batches are Python 2 pickles; the JPEG copy's script writes them that way too."""
    folder = write_cifar(tmp_path, n_train=50, n_test=20) / "cifar-10-batches-py"
    for path in folder.iterdir():
        with open(path, "rb") as f:
            content = pickle.load(f, encoding="bytes")
        with open(path, "wb") as f:  # latin-1 str keys, as Python 2 wrote them
            pickle.dump({k.decode("latin1"): v for k, v in content.items()}, f, protocol=2)
    data = cifar10.load_cifar10(tmp_path, download=False)
    assert data["train_images"].shape == (50, 3, 32, 32)
    assert cifar10.read_label_names(folder) == [f"class{i}" for i in range(10)]


def test_validation_split_and_limits(tmp_path):
    write_cifar(tmp_path, n_train=100, n_test=40)
    data = cifar10.load_cifar10(tmp_path, validation=30, limit_train=50, limit_test=10)
    assert len(data["train_labels"]) == 50 and len(data["val_labels"]) == 30 and len(data["test_labels"]) == 10
    full = cifar10.load_cifar10(tmp_path)
    assert np.array_equal(data["val_images"], full["train_images"][70:])
    assert np.array_equal(data["train_images"], full["train_images"][:50])


def test_missing_data_without_network_is_one_clear_message(tmp_path):
    result = run_script("--data-dir", str(tmp_path / "nowhere"), "--no-download", "--device", "cpu")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "CIFAR-10 is not in" in result.stderr and "cifar-10-batches-py" in result.stderr
    assert cifar10.URL in result.stderr and "data_batch_1" in result.stderr
    assert not (tmp_path / "nowhere").exists()


def test_a_failed_download_is_one_clear_message_and_creates_nothing(tmp_path, monkeypatch):
    # The real download path (torchvision's utilities) against a port where nothing listens
    monkeypatch.setattr(cifar10, "URL", "http://127.0.0.1:9/cifar-10-python.tar.gz")
    target = tmp_path / "new" / "data"
    with pytest.raises(SystemExit) as raised:
        cifar10.find_cifar10(target, download=True)
    message = str(raised.value.code)
    assert "could not be downloaded" in message and str(target / "cifar-10-batches-py") in message
    assert list(tmp_path.iterdir()) == []  # no empty folder left behind


def test_a_download_lands_whole_or_not_at_all(tmp_path, monkeypatch):
    """The archive is unpacked in a scratch folder; the data folder appears only when it is complete."""
    seen = []

    def fake_download(url, download_root, md5=None, **kwargs):
        seen.append((url, md5))
        assert not (tmp_path / "data").exists()  # nothing created yet
        write_cifar(Path(download_root), n_train=50, n_test=20)

    import torchvision.datasets.utils
    monkeypatch.setattr(torchvision.datasets.utils, "download_and_extract_archive", fake_download)
    folder = cifar10.find_cifar10(tmp_path / "data", download=True)
    assert folder == tmp_path / "data" / "cifar-10-batches-py" and (folder / "test_batch").is_file()
    assert seen == [("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz", "c58f30108f718f92721af3b95e74349a")]


def test_a_truncated_file_is_named(tmp_path):
    folder = write_cifar(tmp_path, n_train=50, n_test=20) / "cifar-10-batches-py"
    content = (folder / "data_batch_3").read_bytes()
    (folder / "data_batch_3").write_bytes(content[:len(content) // 2])
    with pytest.raises(SystemExit) as raised:
        cifar10.load_cifar10(tmp_path)
    assert "data_batch_3 is truncated or corrupt" in str(raised.value.code)


def test_a_missing_file_is_named(tmp_path):
    folder = write_cifar(tmp_path, n_train=50, n_test=20) / "cifar-10-batches-py"
    (folder / "test_batch").unlink()
    with pytest.raises(SystemExit) as raised:
        cifar10.load_cifar10(tmp_path)
    assert "test_batch is missing" in str(raised.value.code)


@pytest.mark.parametrize("change, expected", [
    (lambda b: {**b, b"labels": [12] * len(b[b"labels"])}, "labels should be 0…9"),
    (lambda b: {**b, b"data": b[b"data"][:, :1000]}, "uint8 [N, 3072]"),
    (lambda b: {**b, b"labels": b[b"labels"][:-1]}, "images but labels of shape"),
    (lambda b: {b"data": b[b"data"]}, "no 'data' or no 'labels'"),
])
def test_a_malformed_batch_is_named(tmp_path, change, expected):
    """A user's own copy is checked by its structure, not its checksum."""
    path = write_cifar(tmp_path, n_train=50, n_test=20) / "cifar-10-batches-py" / "data_batch_2"
    with open(path, "rb") as f:
        content = pickle.load(f, encoding="bytes")
    with open(path, "wb") as f:
        pickle.dump(change(content), f, protocol=2)
    with pytest.raises(SystemExit) as raised:
        cifar10.load_cifar10(tmp_path)
    assert "data_batch_2" in str(raised.value.code) and expected in str(raised.value.code)


def test_a_data_dir_one_level_too_deep_names_its_parent(tmp_path):
    """`--data-dir data/cifar-10-batches-py` is the batches folder itself: the message says so and names
    the parent, and nothing is downloaded into it."""
    folder = write_cifar(tmp_path, n_train=50, n_test=20) / "cifar-10-batches-py"
    before = sorted(p.name for p in folder.iterdir())
    result = run_script("--data-dir", str(folder), "--device", "cpu")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert (f"--data-dir {folder} is the cifar-10-batches-py folder itself; give the folder that holds it: "
            f"--data-dir {tmp_path}") in result.stderr
    assert sorted(p.name for p in folder.iterdir()) == before
    # Named so but empty: the same hint, not "CIFAR-10 is not in …/cifar-10-batches-py/cifar-10-batches-py"
    with pytest.raises(SystemExit, match="is the cifar-10-batches-py folder itself"):
        cifar10.find_cifar10(tmp_path / "elsewhere" / "cifar-10-batches-py", download=False)


# ## Augmentation on the device

def test_crop_and_flip_is_a_crop_of_the_padded_image_or_its_mirror():
    images = torch.randint(0, 256, (40, 3, 32, 32), dtype=torch.uint8)
    padded = experiment.pad(images)
    assert padded.shape == (40, 3, 40, 40) and padded[:, :, :4].sum() == 0  # black borders
    out = experiment.crop_and_flip(padded, torch.Generator().manual_seed(0))
    assert out.shape == (40, 3, 32, 32) and out.dtype == torch.uint8
    views = []
    for n in range(40):
        found = {(top, left, flip) for top in range(9) for left in range(9) for flip in (0, 1)
                 if torch.equal(out[n], padded[n, :, top:top + 32, left:left + 32].flip(-1) if flip
                                else padded[n, :, top:top + 32, left:left + 32])}
        assert len(found) == 1, f"image {n} is not exactly one crop of its padded image"
        views += found
    # Each image draws its own crop: many different offsets, about half of them mirrored
    assert len({(top, left) for top, left, _ in views}) >= 25
    assert 8 <= sum(flip for _, _, flip in views) <= 32
    # The same generator state gives the same crops: what makes resuming exact
    assert torch.equal(out, experiment.crop_and_flip(padded, torch.Generator().manual_seed(0)))


# ## Configuration

def test_help_lists_every_flag_with_its_help(capsys):
    with pytest.raises(SystemExit) as raised:
        experiment.main(["--help"])
    assert raised.value.code == 0
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps long lines
    for f in dataclasses.fields(experiment.Config):
        flag = "--" + f.name.replace("_", "-")
        assert flag in text, flag
        assert " ".join(f.metadata["help"].split()) in text.replace("%%", "%"), flag
    for flag in ["--no-download", "--no-compile", "--precision {auto,bf16,fp32}", "--preset {fast,quick,paper}"]:
        assert flag in text


def test_paper_preset_is_the_papers_recipe():
    config = experiment.make_config({"preset": "paper"})
    assert (config.batch_size, config.lr, config.momentum, config.weight_decay) == (128, 0.1, 0.9, 1e-4)
    assert (config.nesterov, config.label_smoothing, config.normalize, config.warmup_lr) == (False, 0.0, "pixel", 0.0)
    assert config.steps == 64000
    lr = [experiment.learning_rate(config, step, 64000, True) for step in (0, 31999, 32000, 47999, 48000, 63999)]
    assert lr == pytest.approx([0.1, 0.1, 0.01, 0.01, 0.001, 0.001])
    # ResNet-110: 0.01 until the training error is below 80%
    deep = experiment.make_config({"preset": "paper", "model": "resnet110"})
    assert deep.warmup_lr == 0.01 and experiment.learning_rate(deep, 0, 64000, warmed_up=False) == 0.01
    # An explicit --epochs replaces the 64k iterations; flags beat the preset
    short = experiment.make_config({"preset": "paper", "epochs": 2, "lr": 0.05})
    assert short.steps == 0 and short.lr == 0.05


def test_the_fast_schedule_warms_up_then_decays_to_zero():
    config = experiment.Config()
    lr = [experiment.learning_rate(config, step, 1000, True) for step in range(1000)]
    assert lr[99] == pytest.approx(config.lr) and max(lr) == pytest.approx(config.lr)
    assert lr[:100] == sorted(lr[:100]) and lr[100:] == sorted(lr[100:], reverse=True)
    assert lr[-1] == pytest.approx(config.lr / 900)


def test_the_docstring_tables_match_the_code():
    """The recipe table at the top of experiment.py quotes these values."""
    doc = experiment.__doc__
    quick, fast, paper = (experiment.make_config({"preset": p}) for p in ("quick", "fast", "paper"))
    assert f"| batch | {quick.batch_size} images | {fast.batch_size} images | {paper.batch_size} images |" in doc
    assert (f"| {quick.epochs} epochs ({quick.epochs * (50000 // quick.batch_size):,} iterations) | "
            f"{fast.epochs} epochs ({fast.epochs * (50000 // fast.batch_size):,} iterations) | "
            f"{paper.steps // 1000}k iterations (≈ {round(paper.steps / (50000 / paper.batch_size))} epochs) |") in doc
    assert f"peak {quick.lr}; linear warm-up over the first {quick.warmup:.0%}, then linear decay to 0 |" in doc
    assert f"peak {fast.lr}; linear warm-up over the first {fast.warmup:.0%}, then linear decay to 0 |" in doc
    decay = [f"{c.weight_decay:.0e}".replace("e-04", "e-4") for c in (quick, fast, paper)]
    assert f"| weight decay | {' | '.join(decay)} |" in doc
    assert f"| label smoothing | {quick.label_smoothing} | {fast.label_smoothing} | none |" in doc
    assert "has not yet been verified on a GPU" in " ".join(doc.split())


@pytest.mark.parametrize("flags, message", [
    (["--model", "resnet21"], "invalid choice: 'resnet21'"),
    (["--epochs", "-3"], "--epochs must be at least 1, not -3"),
    (["--batch-size", "0"], "--batch-size must be at least 1"),
    (["--lr", "-0.1"], "--lr must be more than 0, not -0.1"),
    (["--momentum", "1"], "--momentum must be at least 0 and less than 1, not 1.0"),
    (["--milestones", "0.8", "0.5"], "--milestones must be increasing"),
    (["--epochs", "many"], "invalid int value"),
    (["--precision", "fp16"], "invalid choice: 'fp16'"),
])
def test_bad_flags_are_refused(flags, message, capsys):
    with pytest.raises(SystemExit) as raised:
        experiment.main(flags)
    assert raised.value.code == 2
    assert message in capsys.readouterr().err


def test_a_batch_larger_than_the_data_is_refused(data_dir, tmp_path):
    with pytest.raises(SystemExit, match="--batch-size 512 is larger than the 128 training images"):
        experiment.main(["--data-dir", str(data_dir), "--out", str(tmp_path), "--limit-train", "128",
                         "--batch-size", "512", "--device", "cpu"])


# ## A run of any length learns

def test_a_short_run_halves_its_batch_and_learning_rate():
    config = experiment.make_config({"epochs": 1})
    fitted, said = experiment.fit_to_length(config, 50_000, given={"epochs"})
    total = 50_000 // fitted.batch_size
    assert total >= flags.MIN_STEPS and 50_000 // (2 * fitted.batch_size) < flags.MIN_STEPS
    assert fitted.lr / fitted.batch_size == pytest.approx(config.lr / config.batch_size)
    assert f"A run of 97 iterations is too short for batch 512: it trains with batch {fitted.batch_size}" in said
    # The batch stops at MIN_BATCH; a given batch or learning rate is kept; the paper's recipe is not touched
    tiny, _ = experiment.fit_to_length(config, 500, given=set())
    assert tiny.batch_size == flags.MIN_BATCH
    assert experiment.fit_to_length(config, 50_000, given={"batch_size"}) == (config, "")
    assert experiment.fit_to_length(config, 50_000, given={"lr"}) == (config, "")
    paper = experiment.make_config({"preset": "paper", "epochs": 1})
    assert experiment.fit_to_length(paper, 5_000, given={"epochs"}) == (paper, "")
    long = experiment.make_config({})
    assert experiment.fit_to_length(long, 50_000, given=set()) == (long, "")


def test_a_short_run_says_what_it_changed(data_dir, tmp_path, capsys):
    experiment.main(["--data-dir", str(data_dir), "--out", str(tmp_path), "--epochs", "1", "--device", "cpu",
                     "--limit-test", "64"])
    out = capsys.readouterr().out
    assert "is too short for batch 512: it trains with batch 32" in out
    (folder,) = run_folders(tmp_path)
    assert json.loads((folder / "config.json").read_text())["batch_size"] == 32  # what it really used


# ## Training

def test_training_end_to_end(finished_run, capsys):
    rows = metrics(finished_run)
    assert [row["epoch"] for row in rows] == [1, 2, 3] and [row["step"] for row in rows] == [8, 16, 24]
    assert rows[-1]["train_loss"] < rows[0]["train_loss"]
    assert rows[-1]["test_error"] < 0.9  # better than chance on the coloured classes
    for row in rows:
        assert set(row) == {"epoch", "step", "lr", "train_loss", "train_error", "test_loss", "test_error"} | TIMES
    saved = json.loads((finished_run / "config.json").read_text())
    assert saved["model"] == "resnet20" and saved["epochs"] == 3 and saved["batch_size"] == 32
    assert "out" not in saved and "resume" not in saved  # where a run is, is not one of its settings
    assert saved["recorded"]["torch"] == torch.__version__ and "cores" in saved["recorded"]["hardware"]
    assert finished_run.name.endswith("-resnet20")
    assert sorted(p.name for p in finished_run.iterdir()) == ["checkpoint.pt", "config.json", "metrics.jsonl"]
    state = torch.load(finished_run / "checkpoint.pt", weights_only=True)
    assert state["progress"]["epoch"] == 3 and state["progress"]["step"] == 24
    assert state["model"]["fc.weight"].shape == (10, 64)  # the package's state-dict names


def test_the_progress_bar_shows_the_last_window(capsys):
    bar = display.EpochBar(epoch=2, n_steps=10, batch_size=32)
    bar.show(5, loss=1.5, accuracy=0.25, remaining_images=3200)
    bar.show(10, loss=1.0, accuracy=0.5, remaining_images=0)
    bar.close()
    err = capsys.readouterr().err
    assert "epoch 2 (last 5 it: loss 1.500, acc 25.0%)" in err and "epoch 2 (last 5 it: loss 1.000, acc 50.0%)" in err
    assert "img/s, run ETA" in err


def test_resume_continues_a_finished_run(finished_run, tmp_path, data_dir, capsys):
    folder = tmp_path / finished_run.name
    shutil.copytree(finished_run, folder)
    before = metrics(folder)
    started = json.loads((folder / "config.json").read_text())["recorded"]["started"]
    experiment.main(["--resume", str(folder), "--epochs", "4"])
    after = metrics(folder)
    assert after[:3] == before and [row["epoch"] for row in after] == [1, 2, 3, 4]
    assert "resuming after epoch 3" in capsys.readouterr().out
    saved = json.loads((folder / "config.json").read_text())
    assert saved["epochs"] == 4 and saved["recorded"]["started"] == started


def test_resume_refuses_a_different_batch_size(finished_run, tmp_path):
    folder = tmp_path / finished_run.name
    shutil.copytree(finished_run, folder)
    with pytest.raises(SystemExit, match="keep its --batch-size, --limit-train and --validation"):
        experiment.main(["--resume", str(folder), "--epochs", "5", "--batch-size", "16"])


def test_resume_refuses_another_preset(finished_run, tmp_path):
    """A preset is a whole recipe; a resumed run keeps its own and says so."""
    folder = tmp_path / finished_run.name
    shutil.copytree(finished_run, folder)
    with pytest.raises(SystemExit, match="a run keeps its recipe; this one was trained with --preset fast"):
        experiment.main(["--resume", str(folder), "--preset", "paper"])
    assert json.loads((folder / "config.json").read_text())["preset"] == "fast"


@pytest.mark.slow
def test_a_killed_run_resumes_to_exactly_the_uninterrupted_metrics(data_dir, tmp_path):
    flags = ["--data-dir", str(data_dir), "--epochs", "6", "--limit-train", "64", "--limit-test", "32",
             "--batch-size", "16", "--lr", "0.05", "--log-every", "3", "--device", "cpu", "--seed", "7"]
    # Uninterrupted
    experiment.main([*flags, "--out", str(tmp_path / "whole")])
    (whole,) = run_folders(tmp_path / "whole")
    # Killed with SIGKILL as soon as its first checkpoint is on disk, then resumed
    out = tmp_path / "killed"
    process = subprocess.Popen([sys.executable, str(ROOT / "experiment.py"), *flags, "--out", str(out)],
                               cwd=ROOT, env=ONE_THREAD, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    # A loaded machine can take minutes just to import torch: the deadline is only a guard against a hang
    deadline = time.monotonic() + 600
    while not list(out.glob("*/checkpoint.pt")) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    _, stderr = process.communicate()
    assert process.returncode == -signal.SIGKILL, f"the run ended before it could be killed:\n{stderr[-3000:]}"
    assert list(out.glob("*/checkpoint.pt")), "no checkpoint after 10 minutes"
    (killed,) = run_folders(out)
    done = torch.load(killed / "checkpoint.pt", weights_only=True)["progress"]["epoch"]
    assert 1 <= done < 6
    result = run_script("--resume", str(killed))
    assert result.returncode == 0, result.stderr
    assert without_times(metrics(killed)) == without_times(metrics(whole))


def test_a_nan_loss_stops_the_run_and_keeps_the_last_good_checkpoint(finished_run, tmp_path):
    folder = tmp_path / finished_run.name
    shutil.copytree(finished_run, folder)
    good = (folder / "checkpoint.pt").read_bytes()
    with pytest.raises(SystemExit) as raised:
        experiment.main(["--resume", str(folder), "--epochs", "5", "--lr", "1e30"])
    message = str(raised.value.code)
    assert message.startswith("Stopped: the training loss became nan") or "became inf" in message
    assert "The last good checkpoint, after epoch 3" in message
    assert (folder / "checkpoint.pt").read_bytes() == good
    assert len(metrics(folder)) == 3


# ## The GPU path, on the CPU

def test_bf16_autocast_and_channels_last_where_they_matter():
    """In a bf16 step the convolutions compute in bfloat16 on channels-last inputs; the weights,
    their gradients and the loss stay float32."""
    torch.manual_seed(0)
    config = experiment.make_config({"precision": "bf16"})
    net = experiment.make_model(config).to(memory_format=torch.channels_last)
    optimizer = experiment.make_optimizer(net, config)
    seen = {}

    def hook(module, inputs, output, name):
        seen[name] = (inputs[0].dtype, output.dtype, inputs[0].is_contiguous(memory_format=torch.channels_last))

    for name in ("conv1", "layer2.0.conv1", "fc"):
        net.get_submodule(name).register_forward_hook(lambda m, i, o, name=name: hook(m, i, o, name))
    images = torch.randint(0, 256, (8, 3, 32, 32), dtype=torch.uint8)
    x = experiment.to_input(images, torch.zeros(1, 3, 1, 1), torch.ones(1, 3, 1, 1), channels_last=True)
    assert x.dtype == torch.float32 and x.is_contiguous(memory_format=torch.channels_last)
    bf16 = experiment.uses_bf16(config.precision, torch.device("cpu"))
    loss, logits = experiment.train_step(net, optimizer, x, torch.arange(8) % 10, 0.1, bf16)
    assert seen["conv1"] == (torch.float32, torch.bfloat16, True)  # autocast casts the input itself
    assert seen["layer2.0.conv1"][1:] == (torch.bfloat16, True)
    assert seen["fc"][1] == torch.bfloat16 and logits.dtype == torch.bfloat16
    assert loss.dtype == torch.float32 and torch.isfinite(loss)
    assert all(p.dtype == torch.float32 and p.grad.dtype == torch.float32 for p in net.parameters())
    # And with fp32 nothing is cast
    assert not experiment.uses_bf16("auto", torch.device("cpu")) and experiment.uses_bf16("auto", torch.device("cuda"))


def test_one_epoch_in_bf16_with_channels_last(data_dir, tmp_path):
    experiment.main(["--data-dir", str(data_dir), "--out", str(tmp_path), "--epochs", "2", *SMALL,
                     "--precision", "bf16", "--channels-last"])
    (folder,) = run_folders(tmp_path)
    rows = metrics(folder)
    assert len(rows) == 2 and rows[-1]["train_loss"] < rows[0]["train_loss"] and rows[-1]["test_error"] < 0.9
    assert json.loads((folder / "config.json").read_text())["precision"] == "bf16"


def test_contiguous_memory_too(data_dir, tmp_path):
    last = experiment.main(["--data-dir", str(data_dir), "--out", str(tmp_path), "--epochs", "1", *SMALL,
                            "--no-channels-last"])
    assert last["step"] == 4


@pytest.mark.parametrize("name, local_rank, local_size, expected", [
    ("cuda", 0, 2, "cuda:0"), ("cuda", 1, 2, "cuda:1"),
    ("cuda:2", 0, 2, "cuda:2"), ("cuda:2", 1, 2, "cuda:3"),  # each rank its own GPU, from cuda:2 on
    ("cuda:1", 0, 1, "cuda:1"), ("cpu", 1, 2, "cpu"),
])
def test_each_process_gets_its_own_gpu(name, local_rank, local_size, expected):
    assert world.pick_device(name, local_rank, local_size, n_gpus=4) == torch.device(expected)


def test_too_few_gpus_for_the_processes_is_one_message():
    with pytest.raises(SystemExit, match="needs GPUs 3…4, but this machine has 4"):
        world.pick_device("cuda:3", 1, 2, n_gpus=4)


def test_memory_per_image_is_what_autograd_saves():
    """ResNet-1202 keeps about 88 MiB per image in float32 (batch 512: about 44 GiB), besides its 78 MB
    of weights, which autograd saves once per batch."""
    with torch.device("meta"):
        net = experiment.labml_resnet.resnet1202()
    per_image = memory.bytes_per_image(net)
    assert 85 * 2 ** 20 < per_image < 90 * 2 ** 20
    with pytest.raises(SystemExit) as raised:
        memory.check(net, 512, bf16=False, device=torch.device("cuda"), available=16 * 2 ** 30)
    message = str(raised.value.code)
    assert "A training step of batch 512 needs about" in message and "only 16.0 GiB is free: --batch-size 128 would fit" in message
    memory.check(net, 128, bf16=False, device=torch.device("cuda"), available=16 * 2 ** 30)  # fits: no error
    memory.check(net, 256, bf16=True, device=torch.device("cuda"), available=16 * 2 ** 30)  # half in bf16


def test_bf16_autocast_saves_half_the_bytes():
    """The check assumes bf16 halves the saved feature maps; measured here on the CPU for ResNet-20."""
    net = experiment.labml_resnet.resnet20().train()

    def saved(batch: int) -> int:
        sizes = {}

        def pack(t):
            sizes[id(t)] = t.numel() * t.element_size()
            return t
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t), torch.autocast("cpu", torch.bfloat16):
            net(torch.zeros(batch, 3, 32, 32))
        return sum(sizes.values())

    bf16 = (saved(4) - saved(2)) / 2
    with torch.device("meta"):
        fp32 = memory.bytes_per_image(experiment.labml_resnet.resnet20())
    assert 0.45 < bf16 / fp32 < 0.55


def test_a_model_too_big_for_memory_stops_before_training(data_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(memory, "available_bytes", lambda device: 2 ** 30)
    with pytest.raises(SystemExit, match="only 1.0 GiB is free"):
        experiment.main(["--data-dir", str(data_dir), "--out", str(tmp_path), "--epochs", "1", *SMALL])
    assert list(tmp_path.iterdir()) == []  # stopped before a run folder was made


@pytest.mark.slow
def test_two_processes_with_torchrun(data_dir, tmp_path):
    torchrun = Path(sys.executable).with_name("torchrun")
    # --standalone: a rendezvous on this machine, at a free port
    command = [str(torchrun) if torchrun.exists() else "torchrun", "--standalone", "--nproc_per_node=2",
               str(ROOT / "experiment.py"), "--data-dir", str(data_dir), "--out", str(tmp_path),
               "--epochs", "2", *SMALL]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=180, env=ONE_THREAD)
    assert result.returncode == 0, result.stderr[-3000:]
    (folder,) = run_folders(tmp_path)  # one folder, written by rank 0
    rows = metrics(folder)
    assert [row["step"] for row in rows] == [4, 8]  # the 32-image batches are split over the 2 processes
    assert result.stdout.count("test accuracy: final") == 1
    assert "× 2 processes" in result.stdout


@pytest.mark.slow
def test_two_processes_with_torchrun_and_compile(data_dir, tmp_path):
    """DistributedDataParallel and torch.compile together, over gloo."""
    torchrun = Path(sys.executable).with_name("torchrun")
    command = [str(torchrun) if torchrun.exists() else "torchrun", "--standalone", "--nproc_per_node=2",
               str(ROOT / "experiment.py"), "--data-dir", str(data_dir), "--out", str(tmp_path),
               "--epochs", "2", *SMALL, "--compile"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900, env=ONE_THREAD)
    assert result.returncode == 0, result.stderr[-3000:]
    (folder,) = run_folders(tmp_path)
    rows = metrics(folder)
    assert [row["step"] for row in rows] == [4, 8] and rows[-1]["train_loss"] < rows[0]["train_loss"]
    state = torch.load(folder / "checkpoint.pt", weights_only=True)
    assert state["model"].keys() == experiment.make_model(experiment.Config()).state_dict().keys()


@pytest.mark.slow
def test_compile_on_the_cpu(data_dir, tmp_path):
    """--compile trains and evaluates, and its checkpoint (of the uncompiled network) resumes
    without --compile. Its losses are not compared with an uncompiled run's: in float32 the
    gradients of a freshly initialized net differ by up to a few percent between the two
    (in float64 they agree to 1e-13), and a few steps amplify that."""
    result = run_script("--data-dir", str(data_dir), "--out", str(tmp_path), "--epochs", "3",
                        "--limit-train", "256", *SMALL[2:], "--compile", timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    (folder,) = run_folders(tmp_path)
    rows = metrics(folder)
    assert [row["step"] for row in rows] == [8, 16, 24]
    assert rows[-1]["train_loss"] < rows[0]["train_loss"] and rows[-1]["test_error"] < 0.9
    state = torch.load(folder / "checkpoint.pt", weights_only=True)
    assert state["model"].keys() == experiment.make_model(experiment.Config()).state_dict().keys()
    result = run_script("--resume", str(folder), "--epochs", "4", "--no-compile")
    assert result.returncode == 0, result.stderr[-2000:]
    assert [row["epoch"] for row in metrics(folder)] == [1, 2, 3, 4]
    assert json.loads((folder / "config.json").read_text())["compile"] is False


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("compile_", [False, True])
def test_on_cuda(data_dir, tmp_path, compile_):
    """bf16 autocast, channels-last and (optionally) torch.compile on a GPU, end to end."""
    experiment.main(["--data-dir", str(data_dir), "--out", str(tmp_path), "--epochs", "3", *SMALL[:-2],
                     "--device", "cuda", *(["--compile"] if compile_ else [])])
    (folder,) = run_folders(tmp_path)
    rows = metrics(folder)
    assert len(rows) == 3 and all(row["train_loss"] == row["train_loss"] for row in rows)  # no NaN
    assert rows[-1]["train_loss"] < rows[0]["train_loss"]
    assert json.loads((folder / "config.json").read_text())["recorded"]["hardware"] == torch.cuda.get_device_name()


# ## The plot and the kept runs

def test_plot_writes_an_image(finished_run, tmp_path, capsys):
    output = tmp_path / "fig.png"
    experiment.main(["plot", str(finished_run), str(finished_run), "-o", str(output)])
    assert output.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and output.stat().st_size > 10_000


def test_plot_refuses_a_folder_without_metrics(tmp_path):
    with pytest.raises(SystemExit, match="no metrics.jsonl"):
        experiment.main(["plot", str(tmp_path), "-o", str(tmp_path / "fig.png")])


def test_paper_preset_with_a_validation_split(data_dir, tmp_path):
    """The paper's recipe (per-pixel mean, step schedule), shortened, with the 0.01 warm-up and a held-out split."""
    last = experiment.main(["--preset", "paper", "--epochs", "2", "--warmup-lr", "0.01", "--validation", "44",
                            "--data-dir", str(data_dir), "--out", str(tmp_path), *SMALL])
    (folder,) = run_folders(tmp_path)
    saved = json.loads((folder / "config.json").read_text())
    assert (saved["normalize"], saved["schedule"], saved["steps"], saved["weight_decay"]) == ("pixel", "step", 0, 1e-4)
    assert last["step"] == 8 and 0 <= last["val_error"] <= 1
    assert [set(row) >= {"val_loss", "val_error"} for row in metrics(folder)] == [True, True]


def test_a_kept_run_is_portable_and_its_weights_load(finished_run, tmp_path):
    kept = runs.keep_run(finished_run, tmp_path / "kept")
    assert sorted(p.name for p in kept.iterdir()) == ["config.json", "metrics.jsonl", "model.pt"]
    text = (kept / "config.json").read_text()
    assert str(finished_run.parent) not in text and str(Path.home()) not in text and "/tmp" not in text
    net = experiment.make_model(experiment.Config())
    net.load_state_dict(torch.load(kept / "model.pt", weights_only=True))
    assert metrics(kept) == metrics(finished_run)


def test_every_record_in_the_repository_is_portable():
    for run in records.kept_runs():
        text = (records.RUNS / run.name / "config.json").read_text()
        assert '"/' not in text and "\\\\" not in text, f"{run.name} keeps a path of the machine that trained it"
        assert {"official_cifar10", "hardware", "torch", "started"} <= set(run.recorded), run.name
        # Its settings are a configuration this version can resume
        runs.check_types(experiment.Config, run.config, run.name)


def test_the_evidence_table_is_made_from_the_records(tmp_path, monkeypatch):
    """Change a record, and the table changes: nothing in it is typed by hand."""
    shutil.copytree(records.RUNS, tmp_path / "runs")
    monkeypatch.setattr(records, "RUNS", tmp_path / "runs")
    before = records.evidence_markdown()
    run = records.kept_runs()[0]
    rows = metrics(tmp_path / "runs" / run.name)
    rows[-1]["test_error"] = 0.0123
    (tmp_path / "runs" / run.name / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    after = records.evidence_markdown()
    assert before != after and "| 98.77% |" in after


# ## Reproducing the figures (issue: the degradation experiment on the site)

@pytest.fixture(scope="module")
def reproduced(data_dir, tmp_path_factory) -> Path:
    """`reproduce fig6` for two small nets, on the test data, kept in a folder of their own."""
    root = tmp_path_factory.mktemp("reproduce")
    experiment.main(["reproduce", "fig6", "--data-dir", str(data_dir), "--models", "plain20", "resnet20",
                     "--out", str(root / "runs"), "--keep", str(root / "kept"), "--data-label", "test data",
                     "--epochs", "2", *SMALL])
    return root


def test_reproduce_help_is_plain_words():
    result = run_script("reproduce", "fig6", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert "Train plain-20, plain-56, ResNet-20 and ResNet-56 with one recipe and one seed" in text
    assert not any(line.lstrip().startswith("#") for line in result.stdout.splitlines())  # no Markdown heading
    assert "`" not in result.stdout and "$" not in result.stdout


def test_the_package_never_imports_the_script(tmp_path):
    """Arrows point one way: experiment.py imports labml_resnet, and no module of labml_resnet imports
    experiment (the reproduction gets the lesson handed to it); the package imports from any folder."""
    import ast
    for path in sorted((ROOT / "labml_resnet").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            assert not any(name.split(".")[0] in ("experiment", "benchmarks") for name in names), \
                f"{path.relative_to(ROOT)}:{node.lineno} imports {names}"
    result = subprocess.run([sys.executable, "-c", "import labml_resnet.experiments.reproduce as r; print(r.FIG6_MODELS)"],
                            cwd=tmp_path, capture_output=True, text=True, env={**ONE_THREAD, "PYTHONPATH": ""})
    assert result.returncode == 0 and "resnet56" in result.stdout, result.stderr


def test_make_experiment_takes_a_data_folder_and_flags():
    make = shutil.which("make")
    if make is None:
        pytest.skip("no make")
    result = subprocess.run([make, "-n", "experiment", "DATA=/some/folder", "ARGS=--preset quick --seed 2"], cwd=ROOT,
                            capture_output=True, text=True)
    assert ".venv/bin/python experiment.py --data-dir /some/folder --preset quick --seed 2" in result.stdout.splitlines()


def test_the_readme_runs_the_jpeg_script_with_the_venv():
    """The system python3 may have no Pillow: the README runs the script with the virtual environment's."""
    readme = (ROOT / "README.md").read_text()
    assert ".venv/bin/python ../shared/data/cifar10_from_jpeg.py OUT_DIR" in readme
    assert readme.count("cifar10_from_jpeg.py") == readme.count("/bin/python ../shared/data/cifar10_from_jpeg.py")
    assert "make experiment DATA=" in readme


def test_reproduce_trains_keeps_and_analyses(reproduced):
    kept = reproduced / "kept"
    assert sorted(p.name for p in kept.iterdir()) == ["fig6-quick-plain20", "fig6-quick-resnet20"]
    for name in ("plain20", "resnet20"):
        folder = kept / f"fig6-quick-{name}"
        assert sorted(p.name for p in folder.iterdir()) == ["analysis.json", "config.json", "metrics.jsonl", "model.pt"]
        saved = json.loads((folder / "config.json").read_text())
        assert saved["model"] == name and saved["preset"] == "quick" and saved["recorded"]["data"] == "test data"
        result = json.loads((folder / "analysis.json").read_text())
        assert len(result["response_stds"]) == 19  # the stem and 18 convolutions of 3×3
        assert sum(map(sum, result["confusion"])) == result["test_images"] == 100
        assert len(result["examples"]) == 12 and result["examples"][0]["image"].startswith("data:image/png;base64,")


def test_reproduce_skips_finished_runs(reproduced, data_dir, capsys):
    experiment.main(["reproduce", "fig6", "--data-dir", str(data_dir), "--models", "resnet20",
                     "--out", str(reproduced / "runs"), "--keep", str(reproduced / "kept"), "--epochs", "2", *SMALL])
    assert "resnet20: finished in" in capsys.readouterr().out
    assert len(run_folders(reproduced / "runs")) == 2  # nothing new trained


def test_a_kept_network_gives_its_recorded_accuracy(reproduced, data_dir):
    """The weights in model.pt, evaluated again on the same test images, give what analysis.json recorded."""
    from labml_resnet.experiments import reproduce
    folder = reproduced / "kept" / "fig6-quick-resnet20"
    recorded = json.loads((folder / "analysis.json").read_text())
    again = reproduce.analyse(folder, data_dir, experiment)
    assert again["test_accuracy"] == recorded["test_accuracy"] and again["confusion"] == recorded["confusion"]


def test_the_stored_examples_decode_to_the_test_images(reproduced, data_dir):
    from labml_resnet.experiments import reproduce
    result = json.loads((reproduced / "kept" / "fig6-quick-resnet20" / "analysis.json").read_text())
    test_images = cifar10.load_cifar10(data_dir, download=False)["test_images"]
    assert torch.equal(reproduce.example_images(result), torch.from_numpy(test_images[:12]))


def kept_fig6_runs() -> list[str]:
    return [run.name for run in records.kept_runs() if run.name.startswith("fig6-")]


def test_the_kept_degradation_runs_are_the_quick_recipe():
    """The records on the site are what `reproduce fig6` makes with `--preset quick`, seed 0."""
    assert sorted(kept_fig6_runs()) == [f"fig6-quick-{model}" for model in sorted(reproduce_models())]
    for name in kept_fig6_runs():
        run = records.kept_run(name)
        quick = experiment.make_config({"preset": "quick", "model": run.config["model"]})
        # Where the data was and which device trained it are the machine's, not the recipe's
        recipe = {key: value for key, value in json.loads(json.dumps(dataclasses.asdict(quick))).items()
                  if key not in ("data_dir", "download", "device", "out", "resume")}
        assert {key: run.config[key] for key in recipe} == recipe, name
        assert run.recorded["official_cifar10"] is False and run.recorded["data"] == "JPEG copy of CIFAR-10"
        assert run.final["epoch"] == quick.epochs


def test_the_readme_quotes_the_kept_quick_run():
    """The README's measured time and accuracy of `--preset quick` are those of its kept record."""
    run = records.kept_run("fig6-quick-resnet20")
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    quoted = f"ResNet-20 to {100 * (1 - run.final['test_error']):.2f}% test accuracy in {records.duration(run.final['time_s'])}"
    assert " ".join(quoted.split()) in " ".join(readme.split())
    assert run.final["time_s"] <= 600 and run.final["test_error"] <= 0.20  # the goal: ≥ 80% in ≤ 10 min


QUICK_SEEDS = [f"quick-resnet20-seed{seed}" for seed in range(3)]


def test_the_quick_recipe_is_kept_with_three_seeds():
    """The records of the quick recipe's spread: ResNet-20, `--preset quick`, seeds 0, 1 and 2, all five
    epochs, on the JPEG copy, with the machine and its threads recorded."""
    for seed, name in enumerate(QUICK_SEEDS):
        run = records.kept_run(name)
        quick = experiment.make_config({"preset": "quick", "seed": seed})
        recipe = {key: value for key, value in json.loads(json.dumps(dataclasses.asdict(quick))).items()
                  if key not in ("data_dir", "download", "device", "out", "resume")}
        assert {key: run.config[key] for key in recipe} == recipe, name
        assert run.recorded["data"] == "JPEG copy of CIFAR-10" and run.recorded["official_cifar10"] is False
        assert run.final["epoch"] == quick.epochs and run.final["step"] == 1950
        assert "cores" in run.recorded["hardware"] and run.recorded["threads"] >= 1


def test_the_spread_table_is_made_from_the_records():
    table = records.spread_markdown(QUICK_SEEDS).splitlines()
    figures = records.spread(QUICK_SEEDS)
    accuracy = [100 * (1 - records.kept_run(name).final["test_error"]) for name in QUICK_SEEDS]
    seconds = [records.kept_run(name).final["time_s"] for name in QUICK_SEEDS]
    assert figures["accuracy"] == pytest.approx((sum(accuracy) / 3, min(accuracy), max(accuracy)))
    assert figures["seconds"] == pytest.approx((sum(seconds) / 3, min(seconds), max(seconds)))
    assert len(table) == 2 + 3 + 3
    for row, (label, i) in zip(table[-3:], [("mean", 0), ("min", 1), ("max", 2)]):
        assert row.startswith(f"| **{label}** | **{figures['accuracy'][i]:.2f}%** | "
                              f"{records.duration(figures['seconds'][i])} |")


def test_the_readme_gives_the_spread_of_the_quick_recipe():
    """The README's mean, min and max of `--preset quick` over three seeds are those of the records."""
    figures = records.spread(QUICK_SEEDS)
    readme = " ".join((Path(__file__).parents[1] / "README.md").read_text().split())
    (mean, low, high), (mean_s, low_s, high_s) = figures["accuracy"], figures["seconds"]
    assert (f"{mean:.2f}% test accuracy on average (min {low:.2f}%, max {high:.2f}%), in "
            f"{records.duration(mean_s)} on average (min {records.duration(low_s)}, max {records.duration(high_s)})") in readme
    threads = {records.kept_run(name).recorded["threads"] for name in QUICK_SEEDS}
    assert threads == {1} and "one thread each" in readme


def test_what_the_site_says_of_the_degradation_runs_holds():
    """The sentences of the results page and chapter 1 about the kept Fig. 6 and Fig. 7 runs."""
    final = {name: records.kept_run(f"fig6-quick-{name}").final for name in reproduce_models()}
    first = {name: records.kept_run(f"fig6-quick-{name}").metrics[0] for name in reproduce_models()}
    # Plain-56 trains far worse than plain-20, and starts far behind
    assert final["plain56"]["train_error"] > final["plain20"]["train_error"] + 0.2
    assert first["plain56"]["train_error"] > first["plain20"]["train_error"] + 0.1
    # ResNet-56 ends below ResNet-20, in training and in test error
    assert final["resnet56"]["train_error"] < final["resnet20"]["train_error"]
    assert final["resnet56"]["test_error"] < final["resnet20"]["test_error"]
    # At equal depth the ResNet is far ahead at 56 layers, ahead at 20
    assert final["resnet56"]["test_error"] < final["plain56"]["test_error"] - 0.2
    for error in ("train_error", "test_error"):
        assert final["resnet20"][error] < final["plain20"][error]
    # Fig. 7: sorted by size, ResNet-56 below plain-56 at every rank, ResNet-20 below plain-20 at all but one
    stds = {name: sorted(records.analysis(f"fig6-quick-{name}")["response_stds"], reverse=True)
            for name in reproduce_models()}
    assert all(r < p for r, p in zip(stds["resnet56"], stds["plain56"]))
    assert sum(r < p for r, p in zip(stds["resnet20"], stds["plain20"])) == len(stds["plain20"]) - 1
    # ResNet-56's responses are smaller on average than ResNet-20's
    assert np.mean(stds["resnet56"]) < np.mean(stds["resnet20"])


def test_what_the_results_page_says_of_the_kept_nets_holds():
    """The results page's numbers and statements about the kept nets, checked against their records."""
    page = (ROOT / "docs" / "results.md").read_text(encoding="utf-8")
    page = " ".join(page.split())
    plain56 = records.kept_run("fig6-quick-plain56").final
    assert f"plain-56 is far behind ({100 * (1 - plain56['test_error']):.1f}% test accuracy)" in page
    # The JPEG copy's test images are in another order than the official test_batch's
    first = [example["label"] for example in records.analysis("fig6-quick-resnet20")["examples"][:4]]
    assert first != ["cat", "ship", "ship", "airplane"]
    assert "the official `test_batch`, whose first four are cat, ship, ship, airplane" in page


def test_what_the_pages_say_of_the_lesion_holds():
    """Every number of the lesion paragraph, in all three editions, from the kept records."""
    resnet, plain = (records.analysis(f"fig6-quick-{name}")["lesion"] for name in ("resnet56", "plain56"))
    without = {entry["block"]: 100 * entry["error"] for entry in resnet["blocks"]}
    plain_without = [100 * entry["error"] for entry in plain["blocks"]]
    close = sum(error - 100 * resnet["error"] < 5 for error in without.values())
    largest = sorted(without, key=without.get)[-2:]
    assert largest == ["layer1.0", "layer2.0"]
    numbers = [f"{100 * resnet['error']:.1f}%", f"{min(without.values()):.1f}%", f"{max(without.values()):.1f}%",
               f"{without['layer2.0']:.1f}%", f"{without['layer1.0']:.1f}%", f"{100 * plain['error']:.1f}%",
               f"{min(plain_without):.1f}%", f"{max(plain_without):.1f}%"]
    english = " ".join((ROOT / "docs" / "results.md").read_text(encoding="utf-8").split())
    assert (f"ResNet-56 gets {numbers[0]} of the test images wrong; without any one of its {len(without)} blocks it "
            f"gets between {numbers[1]} and {numbers[2]} wrong, and without {close} of them less than 5 points more"
            ) in english
    assert f"`layer2.0` ({numbers[3]})" in english and f"`layer1.0` ({numbers[4]})" in english
    assert f"Plain-56 gets {numbers[5]} wrong; without any one block, between {numbers[6]} and {numbers[7]}" in english
    chapter = " ".join((ROOT / "labml_resnet" / "__init__.py").read_text(encoding="utf-8").split())
    assert (f"Without any one of its {len(without)} blocks, ResNet-56 gets between {numbers[1]} and {numbers[2]} of "
            f"the test images wrong ({numbers[0]} whole); without any one block, plain-56 gets between {numbers[6]} "
            f"and {numbers[7]} wrong") in chapter
    for edition in ("ja", "zh"):
        text = (ROOT / "docs" / f"results.{edition}.md").read_text(encoding="utf-8")
        for number in numbers:
            assert number in text, (edition, number)
        for count in (len(without), close):  # the number of blocks, and of those close to the whole net
            assert re.search(rf"(?<![\d.]){count}(?![\d.%])", text), (edition, count)


def reproduce_models() -> list[str]:
    from labml_resnet.experiments import reproduce
    return reproduce.FIG6_MODELS


@pytest.mark.parametrize("name", kept_fig6_runs())
def test_a_kept_network_predicts_its_recorded_examples(name):
    """Each kept network, loaded with `weights_only=True`, gives on the test images stored in its
    record the predictions the record says (no CIFAR-10 needed)."""
    from labml_resnet.experiments import reproduce
    folder = records.RUNS / name
    result = records.analysis(name)
    saved = {key: value for key, value in records.kept_run(name).config.items() if key != "recorded"}
    net = experiment.make_model(experiment.make_config({}, saved))
    net.load_state_dict(torch.load(folder / "model.pt", weights_only=True))
    (mean_shape, std_shape), norm = result["normalization"]["shape"], result["normalization"]
    inputs = experiment.to_input(reproduce.example_images(result), torch.tensor(norm["mean"]).view(mean_shape),
                                 torch.tensor(norm["std"]).view(std_shape), channels_last=False)
    predicted = reproduce.predictions(net, inputs)
    assert [result["class_names"][i] for i in predicted] == [example["predicted"] for example in result["examples"]]
    assert result["test_images"] == 10_000 and sum(map(sum, result["confusion"])) == 10_000
    right = sum(row[i] for i, row in enumerate(result["confusion"]))
    assert right / 10_000 == pytest.approx(result["test_accuracy"])
    assert result["test_accuracy"] == pytest.approx(1 - records.kept_run(name).final["test_error"], abs=1e-9)


def test_the_response_stds_are_those_of_the_3x3_batch_norms():
    """Fig. 7: one value per 3×3 layer, the std of its batch norm's output over every element."""
    from labml_resnet.experiments import reproduce
    torch.manual_seed(0)
    net = experiment.labml_resnet.plain20().eval()
    images = torch.randn(6, 3, 32, 32)
    outputs = []
    net.layer2[0].bn2.register_forward_hook(lambda m, i, o: outputs.append(o.clone()))  # before the in-place ReLU
    stds = reproduce.response_stds(net, images, batch_size=4)  # two batches: the sums add up across them
    assert len(stds) == 19
    index = [bn for _, bn in reproduce._conv_bn_pairs(net)].index(net.layer2[0].bn2)
    assert stds[index] == pytest.approx(torch.cat(outputs).std(correction=0).item(), rel=1e-5)


def test_deleting_a_block_leaves_its_shortcut():
    """Veit et al.'s lesion: the net without block i is the net with block i replaced by its
    shortcut (the identity, or option A where the shape changes), for residual and plain nets;
    inside a stage that is the net built without the block."""
    import copy
    from labml_resnet.experiments import reproduce
    from labml_resnet.shortcuts import ZeroPadShortcut
    torch.manual_seed(0)
    images, labels = torch.randn(12, 3, 32, 32), torch.randint(0, 10, (12,))
    for net in (experiment.labml_resnet.resnet20(), experiment.labml_resnet.plain20()):
        net.train()
        with torch.no_grad():  # batch-norm statistics that are not those of a fresh net
            net(torch.randn(16, 3, 32, 32))
        net.eval()
        result = reproduce.lesion(net, images, labels, batch_size=5)  # three batches, the last one short
        assert result["error"] == pytest.approx((reproduce.predictions(net, images) != labels).float().mean().item())
        assert [entry["block"] for entry in result["blocks"]] == [f"layer{s}.{j}" for s in (1, 2, 3) for j in range(3)]
        for entry in result["blocks"]:
            stage, j = entry["block"].split(".")
            without = copy.deepcopy(net)
            blocks = list(getattr(without, stage))
            if j == "0" and stage != "layer1":
                shortcut = reproduce.block_shortcut(blocks[0])
                assert isinstance(shortcut, ZeroPadShortcut)
                assert shortcut is blocks[0].downsample or blocks[0].downsample is None  # the block's own, if it has one
                blocks[0] = shortcut
            else:
                del blocks[int(j)]
            setattr(without, stage, torch.nn.Sequential(*blocks))
            error = (reproduce.predictions(without, images) != labels).float().mean().item()
            assert entry["error"] == pytest.approx(error), entry


def test_the_lesion_can_be_added_to_a_record(reproduced, data_dir):
    """`add_lesion` measures only the lesion, into an existing analysis.json, and gets what `analyse` got."""
    from labml_resnet.experiments import reproduce
    path = reproduced / "kept" / "fig6-quick-resnet20" / "analysis.json"
    before = json.loads(path.read_text())
    assert before["lesion"]["error"] == pytest.approx(1 - before["test_accuracy"])
    del before["lesion"]
    path.write_text(json.dumps(before))
    added = reproduce.add_lesion(path.parent, data_dir, experiment)
    after = json.loads(path.read_text())
    assert after["lesion"] == added and {k: v for k, v in after.items() if k != "lesion"} == before
    assert len(added["blocks"]) == 9 and added["error"] == pytest.approx(1 - before["test_accuracy"])


def test_the_figures_are_drawn_from_the_records(reproduced, monkeypatch):
    """Change a record and the figure changes; the labels and numbers come from the runs."""
    monkeypatch.setattr(records, "RUNS", reproduced / "kept")
    names = ["fig6-quick-plain20", "fig6-quick-resnet20"]
    curves = records.learning_curves_svg([names[:1], names[1:]], ["plain", "ResNet"], [["plain-20"], ["ResNet-20"]],
                                         "Training and test error")
    assert curves.count("<polyline") == 4 and "plain-20</text>" in curves and "ResNet-20</text>" in curves
    last = metrics(reproduced / "kept" / names[1])[-1]
    assert f"ResNet-20: training error {100 * last['train_error']:.1f}%, test error {100 * last['test_error']:.1f}%" in curves
    responses = records.responses_svg(names, ["plain-20", "ResNet-20"], "Layer responses")
    assert responses.count("<polyline") == 4
    result = records.analysis(names[1])
    heat_map = records.confusion_svg(names[1], "Confusion matrix")
    # One shaded cell per count, every count written in its cell, the class names on both axes
    assert heat_map.count("<rect") == 100 and heat_map.count(">class0</text>") == 2
    for row in result["confusion"]:
        for count in row:
            assert f">{count}</text>" in heat_map
    assert f"class0 {100 * result['class_accuracy'][0]:.1f}%" in heat_map  # in the text alternative
    lesion = records.lesion_svg(names, ["plain-20", "ResNet-20"], "Lesion")
    assert lesion.count("<polyline") == 4 and ">layer2</text>" in lesion and ">layer3</text>" in lesion
    for label, name in zip(["plain-20", "ResNet-20"], names):
        recorded = records.analysis(name)["lesion"]
        assert f"{label}: whole net {100 * recorded['error']:.1f}%; without layer1.0 " \
               f"{100 * recorded['blocks'][0]['error']:.1f}%" in lesion
    rows = metrics(reproduced / "kept" / names[1])
    rows[-1]["test_error"] = 0.5
    (reproduced / "kept" / names[1] / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    changed = records.learning_curves_svg([names[:1], names[1:]], ["plain", "ResNet"], [["plain-20"], ["ResNet-20"]],
                                          "Training and test error")
    assert changed != curves and "test error 50.0%" in changed


# ## The experiment's notes and its appendix's, held to the code

def test_the_fast_recipe_note_quotes_the_config():
    """The note on where the fast recipe comes from names these values, and which are ours."""
    doc = " ".join(experiment.__doc__.split())
    fast, quick, paper = (experiment.make_config({"preset": p}) for p in ("fast", "quick", "paper"))
    assert (fast.batch_size, fast.lr, fast.schedule, fast.momentum, fast.nesterov) == (512, 0.4, "onecycle", 0.9, True)
    assert (fast.weight_decay, fast.label_smoothing, fast.epochs, fast.warmup) == (5e-4, 0.1, 50, 0.1)
    assert ("Batch 512, a peak learning rate of 0.4 reached by a linear warm-up and followed by a linear decay to 0, "
            "Nesterov momentum 0.9 and weight decay 5e-4") in doc
    assert "0.1 is the label smoothing of" in doc
    assert (f"Ours are the {fast.epochs} epochs, the {fast.warmup:.0%} warm-up, the label smoothing and the quick "
            "recipe.") in doc
    # The paper's recipe assumes plain momentum; `--nesterov` gives fb.resnet.torch's
    assert not paper.nesterov and paper.momentum == 0.9 and "`--preset paper` assumes plain momentum" in doc
    assert experiment.make_config({"preset": "paper", "nesterov": True}).nesterov
    assert "train.lua#L24" in doc and "sets `nesterov = true`" in doc


def test_the_sample_output_is_the_kept_runs_own():
    """display.py's sample is made from docs/runs/fig6-quick-resnet20 with the functions the run prints with."""
    text = display.kept_run_output_markdown("fig6-quick-resnet20")
    rows = runs.read_metrics(runs.KEPT / "fig6-quick-resnet20")
    lines = text.split("\n")
    assert lines[0] == "```" and lines[-1] == "```"
    assert lines[1].startswith("resnet20 (0.27M parameters), quick recipe, on cpu: 5 epochs, 1,950 iterations "
                               "of 128 images; 50,000 training images; run folder runs/<time>-resnet20")
    assert lines[2:2 + len(rows)] == [display.format_epoch_line(row, 5, rows[:i + 1]) for i, row in enumerate(rows)]
    assert rows[-1]["step"] == 1950 and f"test accuracy: final {100 * (1 - rows[-1]['test_error']):.2f}%" in text


def test_the_memory_page_cites_a_test_that_exists():
    doc = " ".join(memory.__doc__.split())
    assert "`test_bf16_autocast_saves_half_the_bytes` in `tests/test_experiment.py`" in doc
    assert callable(globals()["test_bf16_autocast_saves_half_the_bytes"])
    assert "between 0.45 and 0.55" in doc


def test_the_plumbing_keeps_the_flags_and_messages(capsys):
    """Moved out of experiment.py: the command line, the short-run rule, the batch checks, the loop's exits."""
    config, given = flags.parse_command_line(["--preset", "quick", "--epochs", "2"], experiment.Config,
                                             experiment.make_config)
    assert (config.preset, config.epochs, config.batch_size) == ("quick", 2, 128) and given == {"preset", "epochs"}
    with pytest.raises(SystemExit):
        flags.parse_command_line(["--milestones", "0.8", "0.5"], experiment.Config, experiment.make_config)
    assert "--milestones must be increasing" in capsys.readouterr().err
    one = world.World(0, 1, torch.device("cpu"))
    with pytest.raises(SystemExit, match="larger than the 100 training images"):
        one.check_batch(128, 100)
    with pytest.raises(SystemExit, match="does not split over 3 processes"):
        world.World(0, 3, torch.device("cpu")).check_batch(128, 1000)
    net = nn.Linear(2, 2)
    assert one.wrap(net) is net
    progress = runs.Progress(unfinished={"steps": 3, "lr": 0.1})
    assert runs.epoch_so_far(progress) == {"steps": 3, "lr": 0.1} and progress.unfinished == {}
    assert runs.epoch_so_far(progress)["steps"] == 0
