"""Tests of experiment.py on the CPU, on small CIFAR-10-shaped datasets written here in the
original on-disk layout (pickled python batches)."""
import json
import os
import pickle
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import experiment  # noqa: E402

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
    return [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]


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


# ## Data

def test_loader_reads_the_original_layout(tmp_path):
    write_cifar(tmp_path, n_train=50, n_test=20)
    config = experiment.Config(data_dir=str(tmp_path), download=False)
    data = experiment.load_cifar10(config)
    assert data["train_images"].shape == (50, 3, 32, 32) and data["train_images"].dtype == torch.uint8
    assert data["test_images"].shape == (20, 3, 32, 32) and data["test_labels"].shape == (20,)
    # The same pixels and labels as in the files, in the order of the files
    with open(tmp_path / "cifar-10-batches-py" / "data_batch_1", "rb") as f:
        first = pickle.load(f, encoding="bytes")
    n = len(first[b"labels"])
    assert torch.equal(data["train_images"][:n].reshape(n, -1), torch.from_numpy(first[b"data"]))
    assert data["train_labels"][:n].tolist() == first[b"labels"]


def test_loader_reads_python2_style_pickles(tmp_path):
    """The original batches are Python 2 pickles (str keys); the JPEG copy's script writes them that way too."""
    folder = write_cifar(tmp_path, n_train=50, n_test=20) / "cifar-10-batches-py"
    for path in folder.iterdir():
        with open(path, "rb") as f:
            content = pickle.load(f, encoding="bytes")
        with open(path, "wb") as f:  # latin-1 str keys, as Python 2 wrote them
            pickle.dump({k.decode("latin1"): v for k, v in content.items()}, f, protocol=2)
    data = experiment.load_cifar10(experiment.Config(data_dir=str(tmp_path), download=False))
    assert data["train_images"].shape == (50, 3, 32, 32)


def test_validation_split_and_limits(tmp_path):
    write_cifar(tmp_path, n_train=100, n_test=40)
    config = experiment.Config(data_dir=str(tmp_path), validation=30, limit_train=50, limit_test=10)
    data = experiment.load_cifar10(config)
    assert len(data["train_labels"]) == 50 and len(data["val_labels"]) == 30 and len(data["test_labels"]) == 10
    full = experiment.load_cifar10(experiment.Config(data_dir=str(tmp_path)))
    assert torch.equal(data["val_images"], full["train_images"][70:])


def test_crop_and_flip_is_a_crop_of_the_padded_image_or_its_mirror():
    images = torch.randint(0, 256, (40, 3, 32, 32), dtype=torch.uint8)
    padded = experiment.pad(images)
    assert padded.shape == (40, 3, 40, 40) and padded[:, :, :4].sum() == 0  # black borders
    out = experiment.crop_and_flip(padded, torch.Generator().manual_seed(0))
    assert out.shape == (40, 3, 32, 32) and out.dtype == torch.uint8
    flips = 0
    for n in range(40):
        views = {(top, left, flip) for top in range(9) for left in range(9) for flip in (0, 1)
                 if torch.equal(out[n], padded[n, :, top:top + 32, left:left + 32].flip(-1) if flip
                                else padded[n, :, top:top + 32, left:left + 32])}
        assert views, f"image {n} is not a crop of its padded image"
        flips += all(flip for _, _, flip in views)
    assert 8 <= flips <= 32  # about half are mirrored
    # The same generator state gives the same crops: what makes resuming exact
    again = experiment.crop_and_flip(padded, torch.Generator().manual_seed(0))
    assert torch.equal(out, again)


def test_missing_data_without_network_is_one_clear_message(tmp_path):
    result = run_script("--data-dir", str(tmp_path / "nowhere"), "--no-download", "--device", "cpu")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "CIFAR-10 is not in" in result.stderr and "cifar-10-batches-py" in result.stderr
    assert experiment.CIFAR10_URL in result.stderr and "data_batch_1" in result.stderr


def test_a_failed_download_is_one_clear_message(tmp_path, monkeypatch):
    # The real download path (torchvision's utilities) against a port where nothing listens
    monkeypatch.setattr(experiment, "CIFAR10_URL", "http://127.0.0.1:9/cifar-10-python.tar.gz")
    with pytest.raises(SystemExit) as raised:
        experiment.find_cifar10(tmp_path, download=True)
    message = str(raised.value.code)
    assert "could not be downloaded" in message and str(tmp_path / "cifar-10-batches-py") in message


def test_download_is_checked_against_the_official_md5(tmp_path, monkeypatch):
    calls = []

    def fake_download(url, download_root, md5=None, **kwargs):
        calls.append((url, md5))
        raise RuntimeError("File not found or corrupted.")

    import torchvision.datasets.utils
    monkeypatch.setattr(torchvision.datasets.utils, "download_and_extract_archive", fake_download)
    with pytest.raises(SystemExit, match="File not found or corrupted"):
        experiment.find_cifar10(tmp_path, download=True)
    assert calls == [("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz", "c58f30108f718f92721af3b95e74349a")]


def test_a_truncated_file_is_named(tmp_path):
    folder = write_cifar(tmp_path, n_train=50, n_test=20) / "cifar-10-batches-py"
    content = (folder / "data_batch_3").read_bytes()
    (folder / "data_batch_3").write_bytes(content[:len(content) // 2])
    with pytest.raises(SystemExit) as raised:
        experiment.load_cifar10(experiment.Config(data_dir=str(tmp_path)))
    assert "data_batch_3 is truncated or corrupt" in str(raised.value.code)


def test_a_missing_file_is_named(tmp_path):
    folder = write_cifar(tmp_path, n_train=50, n_test=20) / "cifar-10-batches-py"
    (folder / "test_batch").unlink()
    with pytest.raises(SystemExit) as raised:
        experiment.load_cifar10(experiment.Config(data_dir=str(tmp_path)))
    assert "test_batch is missing" in str(raised.value.code)


@pytest.mark.parametrize("change, expected", [
    (lambda b: {**b, b"labels": [12] * len(b[b"labels"])}, "labels should be 0…9"),
    (lambda b: {**b, b"data": b[b"data"][:, :1000]}, "uint8 [N, 3072]"),
    (lambda b: {**b, b"labels": b[b"labels"][:-1]}, "images but"),
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
        experiment.load_cifar10(experiment.Config(data_dir=str(tmp_path)))
    assert "data_batch_2" in str(raised.value.code) and expected in str(raised.value.code)


# ## Configuration

def test_help_lists_every_flag(capsys):
    with pytest.raises(SystemExit) as raised:
        experiment.main(["--help"])
    assert raised.value.code == 0
    text = capsys.readouterr().out
    for flag in ["--model", "--preset", "--epochs", "--batch-size", "--lr", "--data-dir", "--out",
                 "--device", "--seed", "--resume", "--compile", "--no-download", "--limit-train"]:
        assert flag in text
    assert len(experiment.field_comments()) == len(experiment.fields(experiment.Config))


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
    """The recipe tables at the top of experiment.py quote these values."""
    doc = experiment.__doc__
    fast, paper = experiment.Config(), experiment.make_config({"preset": "paper"})
    assert f"| {fast.batch_size} images | {paper.batch_size} images |" in doc
    assert f"{fast.epochs} epochs ({fast.epochs * (50000 // fast.batch_size):,} iterations)" in doc
    assert f"{paper.steps // 1000}k iterations (≈ {round(paper.steps / (50000 / paper.batch_size))} epochs)" in doc
    assert f"peak {fast.lr}; linear warm-up over the first {fast.warmup:.0%} of iterations" in doc
    assert f"| {fast.weight_decay:.0e} | {paper.weight_decay:.0e} |".replace("e-04", "e-4") in doc
    assert f"| label smoothing | {fast.label_smoothing} | none |" in doc
    assert "has not yet been verified on a GPU" in doc


@pytest.mark.parametrize("flags, message", [
    (["--model", "resnet21"], "invalid choice: 'resnet21'"),
    (["--epochs", "-3"], "--epochs must be at least 1, not -3"),
    (["--batch-size", "0"], "--batch-size must be at least 1"),
    (["--lr", "-0.1"], "--lr must be positive"),
    (["--milestones", "0.8", "0.5"], "--milestones must be increasing"),
    (["--epochs", "many"], "invalid int value"),
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


# ## Training

def test_training_end_to_end(finished_run, capsys):
    rows = metrics(finished_run)
    assert [row["epoch"] for row in rows] == [1, 2, 3] and [row["step"] for row in rows] == [8, 16, 24]
    assert rows[-1]["train_loss"] < rows[0]["train_loss"]
    assert rows[-1]["test_error"] < 0.9  # better than chance on the coloured classes
    for row in rows:
        assert set(row) == {"epoch", "step", "lr", "train_loss", "train_error", "test_loss", "test_error"} | TIMES
    config = json.loads((finished_run / "config.json").read_text())
    assert config["model"] == "resnet20" and config["epochs"] == 3 and config["batch_size"] == 32
    assert finished_run.name.endswith("-resnet20")
    assert sorted(p.name for p in finished_run.iterdir()) == ["checkpoint.pt", "config.json", "metrics.jsonl"]
    state = torch.load(finished_run / "checkpoint.pt", weights_only=True)
    assert state["progress"]["epoch"] == 3 and state["progress"]["step"] == 24
    assert state["model"]["fc.weight"].shape == (10, 64)  # the package's state-dict names


def test_resume_continues_a_finished_run(finished_run, tmp_path, data_dir, capsys):
    folder = tmp_path / finished_run.name
    shutil.copytree(finished_run, folder)
    before = metrics(folder)
    experiment.main(["--resume", str(folder), "--epochs", "4"])
    after = metrics(folder)
    assert after[:3] == before and [row["epoch"] for row in after] == [1, 2, 3, 4]
    assert "resuming after epoch 3" in capsys.readouterr().out
    assert json.loads((folder / "config.json").read_text())["epochs"] == 4


def test_resume_refuses_a_different_batch_size(finished_run, tmp_path):
    folder = tmp_path / finished_run.name
    shutil.copytree(finished_run, folder)
    with pytest.raises(SystemExit, match="keep its --batch-size, --limit-train and --validation"):
        experiment.main(["--resume", str(folder), "--epochs", "5", "--batch-size", "16"])


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
    config = json.loads((folder / "config.json").read_text())
    assert (config["normalize"], config["schedule"], config["steps"], config["weight_decay"]) == ("pixel", "step", 0, 1e-4)
    assert last["step"] == 8 and 0 <= last["val_error"] <= 1
    assert [set(row) >= {"val_loss", "val_error"} for row in metrics(folder)] == [True, True]


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


# --- the measured run quoted on the results page ---------------------------------------------

RUN = ROOT / "docs" / "runs" / "20261123-192350-resnet20-cpu"


def test_the_kept_run_is_the_default_recipe():
    config = json.loads((RUN / "config.json").read_text())
    defaults = vars(experiment.Config())
    # Where the data was, where the run went, and how often the loss was read: not the recipe
    for name in ["data_dir", "out", "device", "log_every"]:
        config.pop(name), defaults.pop(name)
    assert config == json.loads(json.dumps(defaults))
    assert [row["epoch"] for row in metrics(RUN)] == list(range(1, 51))


def test_the_results_page_quotes_the_kept_run():
    rows = metrics(RUN)
    last = rows[-1]
    accuracy = f"{100 * (1 - last['test_error']):.2f}%"
    best = max(rows, key=lambda row: -row["test_error"])
    assert best["epoch"] == 50
    epoch_s = statistics.median(row["epoch_s"] for row in rows)
    images_per_s = statistics.median(row["images_per_s"] for row in rows)
    hours, minutes = divmod(round(last["time_s"] / 60), 60)
    page = (ROOT / "docs" / "results.md").read_text()
    for text in [f"| **{accuracy}** (also the best of the 50 evaluations) |",
                 f"| {100 * last['train_error']:.2f}% |",
                 f"| {last['time_s']:,.0f} s ({hours} h {minutes} min) |",
                 f"| {epoch_s:.1f} s ({images_per_s:.0f} images/s) |",
                 f"ended at **{accuracy}**, {91.25 - float(accuracy[:-1]):.1f} points short"]:
        assert text in page
    # The table of test accuracy along the way
    table = {line.split("|")[1].strip(): [cell.strip() for cell in line.split("|")[2:-1]]
             for line in page.splitlines() if line.startswith(("| epoch |", "| learning rate at", "| test accuracy |"))}
    epochs = [int(epoch) for epoch in table["epoch"]]
    assert table["test accuracy"] == [f"{100 * (1 - rows[e - 1]['test_error']):.2f}%" for e in epochs]
    for lr, e in zip(table["learning rate at its end"], epochs, strict=True):
        assert float(lr) == pytest.approx(rows[e - 1]["lr"], rel=0.06)
    slow = sum(row["epoch_s"] > 100 for row in rows)
    fast = [row["epoch_s"] for row in rows if row["epoch_s"] <= 100]
    assert f"{len(fast)} of the 50 epochs took {min(fast):.0f} to {max(fast):.0f} s, the other {slow}" in page
    # Quoted in the experiment's docstring and the README, and in every edition of the page
    assert f"| fast, JPEG copy of CIFAR-10 | ResNet-20 | 50 epochs | {accuracy} | 1 | {hours} h {minutes} min |" in experiment.__doc__
    assert f"reached {accuracy}" in (ROOT / "README.md").read_text()
    for lang in ["ja", "zh"]:
        assert accuracy in (ROOT / "docs" / f"results.{lang}.md").read_text()
