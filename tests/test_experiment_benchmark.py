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
    assert any(line.startswith("resnet20   device") for line in lines)
    assert any(line.startswith("resnet20   DataLoader") for line in lines)
    assert any(line.startswith("resnet20   ratio") and line.endswith("×") for line in lines)
    (result,) = results
    assert result["ratio"] == result["device_images_per_s"] / result["dataloader_images_per_s"] > 0
    assert json.loads((tmp_path / "r.json").read_text()) == results


@pytest.mark.slow
def test_benchmark_on_files_with_worker_processes(tmp_path):
    write_cifar(tmp_path, n_train=100, n_test=20)
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "data_pipeline.py"), "--data-dir", str(tmp_path),
                             *QUICK, "--workers", "1"], cwd=ROOT, env=ONE_THREAD, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "(100 images)" in result.stdout and "DataLoader workers: 1" in result.stdout and "ratio" in result.stdout
