"""Stopping a run by hand and continuing it (Ctrl-C, SIGTERM, torchrun), the progress bar on a slow
run, and the estimate a CPU user gets before the fast recipe's first step.

The interrupted runs are real child processes that get a real signal. To stop one at a chosen
iteration, the child is `experiment.py` behind a small wrapper (`GATE`) that pauses the run's
progress bar at that iteration until the test has sent its signal: where the run stops does not
depend on how fast this machine is."""
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from test_experiment import (ONE_THREAD, metrics, one_thread, run_folders, run_script,  # noqa: E402, F401
                             without_times, write_cifar)

import experiment  # noqa: E402  (test_experiment put the repository on sys.path)
from labml_resnet.experiments import display, memory, runs, world  # noqa: E402

# 160 training images in batches of 16: 10 iterations an epoch, 3 epochs; the loss is read every 4
FLAGS = ["--epochs", "3", "--limit-train", "160", "--limit-test", "32", "--batch-size", "16", "--lr", "0.05",
         "--log-every", "4", "--device", "cpu", "--seed", "3"]

# `python GATE [experiment flags]` runs experiment.py. With GATE_AT=k, after the run's k-th iteration
# it prints "gate" and waits for a line on its standard input, GATE_WAITS times (1 by default); with
# GATE_SIGNAL_RANK=r instead, the process of rank r sends itself SIGINT there (torchrun), and the
# others go on.
GATE = textwrap.dedent(f"""
    import os, signal, sys
    sys.path.insert(0, {str(ROOT)!r})
    import experiment
    from labml_resnet.experiments import display

    at, rank = int(os.environ.get("GATE_AT", "0")), os.environ.get("RANK", "0")
    advance, iterations = display.EpochBar.advance, 0


    def gated(bar):
        global iterations
        iterations += 1
        if iterations == at:
            if "GATE_SIGNAL_RANK" not in os.environ:
                for _ in range(int(os.environ.get("GATE_WAITS", "1"))):
                    print("gate", flush=True)
                    sys.stdin.readline()
            elif os.environ["GATE_SIGNAL_RANK"] == rank:
                os.kill(os.getpid(), signal.SIGINT)
        advance(bar)


    display.EpochBar.advance = gated
    try:
        experiment.main()
    finally:
        print(f"rank {{rank}}: {{iterations}} iterations", flush=True)
""")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    return write_cifar(tmp_path_factory.mktemp("cifar"))


@pytest.fixture(scope="module")
def gate(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("gate") / "gate.py"
    path.write_text(GATE)
    return path


@pytest.fixture(scope="module")
def whole(data_dir, tmp_path_factory) -> list[dict]:
    """The metrics of the run never interrupted."""
    out = tmp_path_factory.mktemp("whole")
    experiment.main(["--data-dir", str(data_dir), "--out", str(out), *FLAGS])
    (folder,) = run_folders(out)
    return without_times(metrics(folder))


def stopped_run(gate: Path, flags: list[str], at: int, signals: list[int], tmp_path: Path) -> tuple[int, str]:
    """Start `experiment.py flags` behind the gate; while it waits after iteration `at`, send it the
    first of `signals`, let it go on, and so on for each; return its exit status and standard error.
    (The gate waits once per signal: a signal sent while the last one is still being delivered would be
    merged with it.)"""
    stderr = tmp_path / "stderr.txt"
    with open(stderr, "w") as err:
        process = subprocess.Popen([sys.executable, str(gate), *flags], cwd=ROOT, stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=err, text=True,
                                   env={**ONE_THREAD, "GATE_AT": str(at), "GATE_WAITS": str(len(signals))})
        try:
            for number in signals:
                for line in process.stdout:  # the start line, the estimate, then "gate"
                    if line == "gate\n":
                        break
                else:
                    pytest.fail(f"the run ended before iteration {at}:\n{stderr.read_text()[-3000:]}")
                process.send_signal(number)
                try:
                    process.stdin.write("\n")
                    process.stdin.flush()
                except BrokenPipeError:  # it has already left
                    pass
            process.communicate(timeout=600)
        finally:
            process.kill()
    return process.returncode, stderr.read_text()


def last_lines(text: str) -> list[str]:
    """The lines of a standard error without the progress bar (tqdm redraws it after a carriage return)."""
    return [line.split("\r")[-1].strip() for line in text.splitlines() if line.split("\r")[-1].strip()]


# ## Ctrl-C stops at the end of the step and keeps it

@pytest.mark.slow
@pytest.mark.parametrize("number, at", [
    (signal.SIGINT, 3),  # in the first epoch, between two reads of the loss
    (signal.SIGINT, 23),  # in the third epoch
    (signal.SIGTERM, 10),  # after the first epoch's last step, before its evaluation
])
def test_a_stopped_run_resumes_to_exactly_the_uninterrupted_metrics(number, at, data_dir, gate, whole, tmp_path):
    out = tmp_path / "runs"
    status, stderr = stopped_run(gate, ["--data-dir", str(data_dir), "--out", str(out), *FLAGS], at, [number], tmp_path)
    (folder,) = run_folders(out)
    epoch = (at - 1) // 10 + 1
    assert status == 128 + number, stderr[-3000:]
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    # One line: where it stopped, and the command that continues
    said = [line for line in last_lines(stderr) if line.startswith("stopped")]
    assert said == [f"stopped at epoch {epoch}, iteration {at}; continue with: python experiment.py --resume {folder}"]
    # The checkpoint is at that step, the metrics file has only the finished epochs, and no torn file is left
    state = torch.load(folder / "checkpoint.pt", weights_only=True)
    assert state["progress"]["step"] == at and state["progress"]["epoch"] == epoch - 1
    assert state["progress"]["unfinished"]["steps"] == at - 10 * (epoch - 1)
    assert len(metrics(folder)) == epoch - 1
    assert sorted(p.name for p in folder.iterdir()) == ["checkpoint.pt", "config.json", "metrics.jsonl"]
    # Continued, it ends exactly as the run that was never stopped
    result = run_script("--resume", str(folder))
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"resuming in epoch {epoch}, after iteration {at}" in result.stdout
    assert without_times(metrics(folder)) == whole


@pytest.mark.slow
def test_a_second_ctrl_c_exits_at_once_and_keeps_the_last_checkpoint(data_dir, gate, whole, tmp_path):
    out = tmp_path / "runs"
    status, stderr = stopped_run(gate, ["--data-dir", str(data_dir), "--out", str(out), *FLAGS], 14,
                                 [signal.SIGINT, signal.SIGINT], tmp_path)
    (folder,) = run_folders(out)
    assert status == 130 and "Traceback" not in stderr, stderr[-3000:]
    said = [line for line in last_lines(stderr) if line.startswith("stopped")]
    assert said == [f"stopped at once; the last checkpoint is kept; continue with: python experiment.py --resume {folder}"]
    # The checkpoint of the end of epoch 1; iteration 14 was never finished
    state = torch.load(folder / "checkpoint.pt", weights_only=True)
    assert (state["progress"]["epoch"], state["progress"]["step"], state["progress"]["unfinished"]) == (1, 10, {})
    result = run_script("--resume", str(folder))
    assert result.returncode == 0, result.stderr[-3000:]
    assert without_times(metrics(folder)) == whole


@pytest.mark.slow
def test_every_process_stops_at_the_same_step(data_dir, gate, tmp_path):
    """Under torchrun only rank 1 gets the signal, at its 6th iteration; both processes stop after the
    same iteration, the next read of the loss (the 8th), and the run continues to exactly the metrics
    of one that was never stopped."""
    torchrun = Path(sys.executable).with_name("torchrun")
    launch = [str(torchrun) if torchrun.exists() else "torchrun", "--standalone", "--nproc_per_node=2"]
    flags = ["--data-dir", str(data_dir), *FLAGS[:-2], "--batch-size", "32", "--epochs", "2"]  # 5 iterations an epoch
    whole = subprocess.run([*launch, str(ROOT / "experiment.py"), *flags, "--out", str(tmp_path / "whole")],
                           cwd=ROOT, env=ONE_THREAD, capture_output=True, text=True, timeout=600)
    assert whole.returncode == 0, whole.stderr[-3000:]
    stopped = subprocess.run([*launch, str(gate), *flags, "--out", str(tmp_path / "runs")], cwd=ROOT, timeout=600,
                             env={**ONE_THREAD, "GATE_AT": "6", "GATE_SIGNAL_RANK": "1"}, capture_output=True, text=True)
    assert stopped.returncode != 0
    # (torchrun passes both processes' output through one pipe: a line of one can land inside the other's)
    assert sorted(re.findall(r"rank \d+: \d+ iterations", stopped.stdout)) == \
        ["rank 0: 8 iterations", "rank 1: 8 iterations"]
    (folder,) = run_folders(tmp_path / "runs")
    said = [line for line in last_lines(stopped.stderr) if line.startswith("stopped")]
    assert said == [f"stopped at epoch 2, iteration 8; continue with: torchrun --nproc_per_node=2 experiment.py "
                    f"--resume {folder}"]
    assert torch.load(folder / "checkpoint.pt", weights_only=True)["progress"]["step"] == 8
    resumed = subprocess.run([*launch, str(ROOT / "experiment.py"), "--resume", str(folder)], cwd=ROOT,
                             env=ONE_THREAD, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    (reference,) = run_folders(tmp_path / "whole")
    assert without_times(metrics(folder)) == without_times(metrics(reference))


def test_the_stop_request_is_one_flag_then_an_exit():
    """The handler itself: the first signal is remembered, the second leaves at once, and the
    previous handlers come back."""
    import threading
    if threading.current_thread() is not threading.main_thread():  # a signal would reach no handler of ours
        pytest.skip("signal handlers can be set only in the main thread")
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(SystemExit) as raised:
        with runs.StopRequest() as stop:
            assert signal.getsignal(signal.SIGINT) == stop.handle
            os.kill(os.getpid(), signal.SIGTERM)
            assert stop.signal == signal.SIGTERM
            assert stop.agreed(world.World(0, 1, torch.device("cpu")), reading=False)
            os.kill(os.getpid(), signal.SIGINT)
            pytest.fail("the second signal did not stop the run")
    assert raised.value.code == 130
    assert signal.getsignal(signal.SIGINT) == before


# ## The bar moves at every iteration; the loss is read every --log-every

def test_the_bar_moves_at_every_iteration_between_reads_of_the_loss(data_dir, tmp_path, monkeypatch):
    """With --log-every 50, an epoch of 10 iterations reads the loss once, at its end, yet the bar is at
    1 after the first iteration, 2 after the second, …: a slow start never looks like a hang."""
    events = []
    advance, total = display.EpochBar.advance, world.World.sum

    def advanced(bar):
        advance(bar)
        events.append(bar.bar.n)

    def read(self, values):
        events.append("read")
        return total(self, values)

    monkeypatch.setattr(display.EpochBar, "advance", advanced)
    monkeypatch.setattr(world.World, "sum", read)
    experiment.main(["--data-dir", str(data_dir), "--out", str(tmp_path), *FLAGS[:-2], "--epochs", "1", "--log-every",
                     "50", "--preset", "quick"])
    # Ten moves of the bar, then one read of the training sums and one of the test sums
    assert events == [*range(1, 11), "read", "read"]


def test_a_slow_run_draws_the_bar_after_its_first_iteration(data_dir, tmp_path, monkeypatch, capsys):
    """Each iteration made slower than the bar's redraw interval (a throttled machine): the bar is drawn
    at 1/10, 2/10, … although no loss has been read yet."""
    step = experiment.train_step

    def slow_step(*args, **kwargs):
        import time
        time.sleep(display.EpochBar.REDRAW_S + 0.01)
        return step(*args, **kwargs)

    monkeypatch.setattr(experiment, "train_step", slow_step)
    experiment.main(["--data-dir", str(data_dir), "--out", str(tmp_path), *FLAGS[:-2], "--epochs", "1", "--log-every",
                     "50", "--limit-train", "48", "--preset", "quick"])
    drawn = capsys.readouterr().err.split("\r")
    first = [i for i, text in enumerate(drawn) if "| 1/3 [" in text]
    loss = [i for i, text in enumerate(drawn) if "loss" in text]
    assert first and all(i < loss[0] for i in first) and "epoch 1:" in drawn[first[0]]
    assert any("| 2/3 [" in text and "loss" not in text for text in drawn)


# ## No GPU, the fast recipe: how long, and --preset quick

def test_a_cpu_user_of_the_fast_recipe_is_told_the_time_and_the_quick_preset(data_dir, tmp_path, capsys):
    experiment.main(["--data-dir", str(data_dir), "--out", str(tmp_path), *FLAGS[:-2], "--epochs", "1"])
    out = capsys.readouterr().out.splitlines()
    (line,) = [line for line in out if line.startswith("No GPU")]
    assert out.index(line) == 1  # right after the start line, before the first epoch
    assert "this run will take about" in line and "--preset quick (5 epochs, batch 128) would take about" in line
    # Not for the other recipes
    for preset in ("quick", "paper"):
        experiment.main(["--data-dir", str(data_dir), "--out", str(tmp_path), *FLAGS[:-2], "--epochs", "1",
                         "--preset", preset])
        assert "No GPU" not in capsys.readouterr().out


def test_the_estimate_leaves_the_run_untouched():
    """The timing trains a copy: the network's weights and batch-norm statistics, its optimizer and the
    random state are as they were, so the run trains exactly as it would without the estimate."""
    torch.manual_seed(0)
    config = experiment.make_config({})
    net = experiment.make_model(config)
    optimizer = experiment.make_optimizer(net, config)
    x, y = torch.randn(8, 3, 32, 32), torch.arange(8) % 10
    experiment.train_step(net, optimizer, x, y, 0.1, False)  # momentum buffers exist
    weights = {k: v.clone() for k, v in net.state_dict().items()}
    momentum = {k: v.clone() for k, v in optimizer.state_dict()["state"][0].items()}
    rng = torch.get_rng_state()
    train, test = memory.seconds_per_image(
        net, lambda copy: experiment.make_optimizer(copy, config),
        lambda copy, opt, x, y: experiment.train_step(copy, opt, x, y, 0.1, False), x, y, x)
    assert train > 0 and test > 0
    assert all(torch.equal(v, weights[k]) for k, v in net.state_dict().items())
    assert all(torch.equal(v, momentum[k]) for k, v in optimizer.state_dict()["state"][0].items())
    assert torch.equal(torch.get_rng_state(), rng) and net.training


def test_the_estimate_adds_training_and_evaluation():
    fast, quick = experiment.make_config({}), experiment.make_config({"preset": "quick"})
    # 0.002 s per training image, 0.0005 s per test image: the fast recipe trains 50 epochs of 97 batches
    # of 512 and evaluates 50 times; the quick recipe 5 epochs of 390 batches of 128
    line = display.cpu_estimate((0.002, 0.0005), fast, quick, 50_000, 10_000)
    fast_s = 50 * 97 * 512 * 0.002 + 50 * 10_000 * 0.0005
    quick_s = 5 * 390 * 128 * 0.002 + 5 * 10_000 * 0.0005
    assert f"this run will take about {display.rough_duration(fast_s)}" in line
    assert f"would take about {display.rough_duration(quick_s)}." in line
    assert display.rough_duration(fast_s) == "1 h 27 min" and display.rough_duration(quick_s) == "9 min"
    assert display.rough_duration(42.4) == "42 s"
    # Fewer training images than the quick recipe's batch: still an estimate (of one batch an epoch)
    assert "--preset quick (5 epochs, batch 128) would take about" in display.cpu_estimate((0.1, 0.1), fast, quick, 64, 32)


def test_a_checkpoint_with_a_malformed_unfinished_epoch_is_refused(data_dir, tmp_path):
    """A checkpoint is data: an unfinished epoch that the training loop did not write stops the resume
    with one message, not a traceback some lines into training."""
    experiment.main(["--data-dir", str(data_dir), "--out", str(tmp_path), *FLAGS[:-2], "--epochs", "1",
                     "--preset", "quick"])
    (folder,) = run_folders(tmp_path)
    state = torch.load(folder / "checkpoint.pt", weights_only=True)
    for unfinished in ({"steps": "three"}, {**dict.fromkeys(runs.UNFINISHED, 1.0), "steps": 3, "window": [0.0]}):
        state["progress"]["unfinished"] = unfinished
        torch.save(state, folder / "checkpoint.pt")
        with pytest.raises(SystemExit, match="cannot be resumed: .*its unfinished epoch is not"):
            experiment.main(["--resume", str(folder), "--epochs", "2"])
