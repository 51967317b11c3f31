"""The data pipeline benchmark runs on the CPU, on random images and on real files."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))
import data_pipeline  # noqa: E402
from test_experiment import ONE_THREAD, one_thread, write_cifar  # noqa: E402, F401  (one_thread: a fixture)

QUICK = ["--steps", "2", "--warmup", "1", "--batch-size", "16", "--models", "resnet20", "--device", "cpu"]


def test_benchmark_on_random_images(tmp_path, capsys):
    results = data_pipeline.main(["--synthetic", "--images", "256", *QUICK, "--workers", "0",
                                  "--json", str(tmp_path / "r.json")])
    lines = capsys.readouterr().out.splitlines()
    header = next(line for line in lines if line.startswith("model"))
    assert header.split() == ["model", "pipeline", "images/s", "s", "per", "50k"]
    # The printed table, read back: its ratio is the quotient of its two speeds, and each
    # "s per 50k" is 50,000 images at that speed
    printed = {line.split()[1]: line.split()[2:] for line in lines if line.startswith("resnet20")}
    device, loader = (float(printed[p][0].replace(",", "")) for p in ("device", "DataLoader"))
    assert float(printed["ratio"][0].rstrip("×")) == pytest.approx(device / loader, rel=0.01, abs=0.01)
    assert float(printed["device"][1]) == pytest.approx(50_000 / device, rel=0.01)
    (result,) = results
    assert result["device_images_per_s"] == pytest.approx(device, abs=0.5)
    assert json.loads((tmp_path / "r.json").read_text()) == results


def test_fewer_images_than_a_batch_is_refused(capsys):
    """It used to wait forever for a first batch that could never be made."""
    with pytest.raises(SystemExit) as raised:
        data_pipeline.main(["--synthetic", "--images", "8", *QUICK, "--workers", "0"])
    assert raised.value.code == 2
    assert "--batch-size 16 is more than the 8 images" in capsys.readouterr().err


@pytest.mark.slow
def test_benchmark_on_files_with_worker_processes(tmp_path):
    write_cifar(tmp_path, n_train=100, n_test=20)
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "data_pipeline.py"), "--data-dir", str(tmp_path),
                             *QUICK, "--workers", "1"], cwd=ROOT, env=ONE_THREAD, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "(100 images)" in result.stdout and "DataLoader workers: 1" in result.stdout and "ratio" in result.stdout


# ## make gpu-check

def test_gpu_check_without_a_gpu_says_so(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu_check.py"), "--data-dir", str(tmp_path),
                             "--out", str(tmp_path / "out")], cwd=ROOT, env=ONE_THREAD, capture_output=True, text=True,
                            timeout=120)
    if "CUDA" in result.stderr:
        assert result.returncode == 1 and "gpu-check needs a CUDA GPU, and this machine has none" in result.stderr
        assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_gpu_check_rehearsed_on_the_cpu(tmp_path):
    """Every step of `make gpu-check`, on the CPU and a few images: the commands, the resume of the
    paper's recipe on a second call, and the summary."""
    write_cifar(tmp_path / "data", n_train=300, n_test=100)
    command = [sys.executable, str(ROOT / "benchmarks" / "gpu_check.py"), "--data-dir", str(tmp_path / "data"),
               "--out", str(tmp_path / "out"), "--cpu-rehearsal"]
    first = subprocess.run(command, cwd=ROOT, env=ONE_THREAD, capture_output=True, text=True, timeout=900)
    assert first.returncode == 0, first.stdout + first.stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    steps = {step["step"]: step for step in summary["steps"]}
    assert list(steps) == ["cuda_tests", "benchmark", "fast_recipe", "paper_recipe"]
    assert all(step["returncode"] == 0 for step in steps.values()), steps
    assert steps["benchmark"]["results"][0]["model"] == "resnet20"
    assert steps["fast_recipe"]["epochs"] == 1 and 0 <= steps["fast_recipe"]["final_test_accuracy"] <= 1
    assert steps["paper_recipe"]["resumed"] is False
    # A second call resumes the paper's recipe instead of starting it again
    second = subprocess.run(command, cwd=ROOT, env=ONE_THREAD, capture_output=True, text=True, timeout=900)
    assert second.returncode == 0, second.stdout + second.stderr
    steps = {s["step"]: s for s in json.loads((tmp_path / "out" / "summary.json").read_text())["steps"]}
    assert steps["paper_recipe"]["resumed"] is True
