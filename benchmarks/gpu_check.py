r"""
# The GPU check

Everything this project has never run on a GPU, in one command that a GPU machine runs in
about ten minutes (`make gpu-check DATA=<folder with cifar-10-batches-py/>`):

1. the CUDA tests (`pytest -m gpu`: bf16 autocast, channels-last, `torch.compile`, end to end);
2. the data pipeline benchmark (`benchmarks/data_pipeline.py`: this pipeline against torchvision's
   `DataLoader`; the goals are at least 5× and at most 1 s per epoch of ResNet-20);
3. the default (fast) recipe, ResNet-20, 50 epochs;
4. the paper's recipe (`--preset paper`), for the time that is left: it is resumed by the next
   `gpu-check`, so several calls complete its 64k iterations.

Each step has its own time limit. Run folders go to `<out>/runs/`, the benchmark to
`<out>/benchmark.json`, and a summary of every step (exit status, seconds, the figures it
measured) to `<out>/summary.json`; the log of each step is `<out>/<step>.log`. Without CUDA it
says so and exits with status 1.

It needs only what a GPU machine without a network has: torch, torchvision, numpy, tqdm (and
pytest for step 1, which is skipped, and says so, without it). It does not create a virtual
environment.
"""
import argparse
import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]

# Seconds for each step, in order; together a little under ten minutes
LIMITS = {"cuda_tests": 90, "benchmark": 100, "fast_recipe": 150, "paper_recipe": 210}


def run_step(name: str, command: list[str], limit: float, out: Path) -> dict:
    r"""Run `command` for at most `limit` seconds; its output goes to `<out>/<name>.log`."""
    start = time.perf_counter()
    with open(out / f"{name}.log", "w") as log:
        try:
            rc = subprocess.run(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, timeout=limit).returncode
        except subprocess.TimeoutExpired:
            rc = "timed out"
    seconds = time.perf_counter() - start
    print(f"{name}: {'exit ' + str(rc) if rc != 'timed out' else 'stopped at its time limit'} after {seconds:.0f} s")
    return dict(step=name, command=" ".join(command), returncode=rc, seconds=round(seconds, 1))


def last_run(runs: Path, preset: str) -> Path | None:
    r"""The newest run folder under `runs` of this `preset`, with a checkpoint to resume."""
    found = [p.parent for p in sorted(runs.glob("*/checkpoint.pt"))
             if json.loads((p.parent / "config.json").read_text()).get("preset") == preset]
    return found[-1] if found else None


def figures(folder: Path | None) -> dict:
    r"""What a run folder measured: epochs, iterations, final and best test accuracy, median epoch."""
    if folder is None or not (folder / "metrics.jsonl").is_file():
        return {}
    rows = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines() if line.strip()]
    if not rows:
        return {}
    epoch_s = sorted(row["epoch_s"] for row in rows)
    return dict(run=str(folder), epochs=rows[-1]["epoch"], iterations=rows[-1]["step"],
                final_test_accuracy=1 - rows[-1]["test_error"], best_test_accuracy=1 - min(r["test_error"] for r in rows),
                median_epoch_s=epoch_s[len(epoch_s) // 2], time_s=rows[-1]["time_s"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The checks that need a GPU, in about ten minutes.")
    parser.add_argument("--data-dir", required=True, help="a folder with cifar-10-batches-py/ in it")
    parser.add_argument("--out", default="gpu-check", help="where run folders, logs and summary.json go [default: gpu-check]")
    parser.add_argument("--cpu-rehearsal", action="store_true",
                        help="for the tests of this script: run every step on the CPU, on a few images, for seconds")
    args = parser.parse_args(argv)
    if not torch.cuda.is_available() and not args.cpu_rehearsal:
        print("gpu-check needs a CUDA GPU, and this machine has none (torch.cuda.is_available() is False).",
              file=sys.stderr)
        return 1
    out = Path(args.out)
    (out / "runs").mkdir(parents=True, exist_ok=True)
    python = sys.executable
    data = ["--data-dir", args.data_dir]
    shrink = (["--device", "cpu", "--limit-train", "256", "--limit-test", "64", "--epochs", "1", "--batch-size", "32"]
              if args.cpu_rehearsal else [])
    limits = {name: (120 if args.cpu_rehearsal else limit) for name, limit in LIMITS.items()}
    hardware = torch.cuda.get_device_name() if torch.cuda.is_available() else "CPU rehearsal"
    summary = dict(hardware=hardware, torch=torch.__version__, started=time.strftime("%Y-%m-%d %H:%M"), steps=[])
    print(f"gpu-check on {hardware}, torch {torch.__version__}; results in {out}/")

    # 1. The CUDA tests
    if importlib.util.find_spec("pytest") is None:
        summary["steps"].append(dict(step="cuda_tests", returncode="skipped: pytest is not installed"))
        print("cuda_tests: skipped, pytest is not installed")
    else:
        tests = ["-m", "gpu"] if not args.cpu_rehearsal else ["-k", "bf16_autocast_and_channels_last"]
        summary["steps"].append(run_step("cuda_tests", [python, "-m", "pytest", "tests/test_experiment.py", "-q",
                                                        "-p", "no:cacheprovider", *tests], limits["cuda_tests"], out))
    # 2. The pipeline benchmark
    benchmark = [python, "benchmarks/data_pipeline.py", *data, "--json", str(out / "benchmark.json")]
    if args.cpu_rehearsal:
        benchmark += ["--steps", "2", "--warmup", "1", "--batch-size", "16", "--models", "resnet20", "--device", "cpu",
                      "--workers", "0"]
    step = run_step("benchmark", benchmark, limits["benchmark"], out)
    if (out / "benchmark.json").is_file():
        step["results"] = json.loads((out / "benchmark.json").read_text())
    summary["steps"].append(step)
    # 3. The default recipe, from the start
    step = run_step("fast_recipe", [python, "experiment.py", *data, "--out", str(out / "runs"), *shrink],
                    limits["fast_recipe"], out)
    step.update(figures(last_run(out / "runs", "fast")))
    summary["steps"].append(step)
    # 4. The paper's recipe: resumed where the previous gpu-check left it
    previous = last_run(out / "runs", "paper")
    paper = ["--resume", str(previous)] if previous else ["--preset", "paper", *data, "--out", str(out / "runs"), *shrink]
    step = run_step("paper_recipe", [python, "experiment.py", *paper], limits["paper_recipe"], out)
    step.update(figures(last_run(out / "runs", "paper")), resumed=bool(previous))
    summary["steps"].append(step)

    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"wrote {out / 'summary.json'}")
    failed = [s["step"] for s in summary["steps"] if s["returncode"] not in (0, "timed out")
              and not str(s["returncode"]).startswith("skipped")]
    # The paper's recipe is meant to be cut by its time limit; any other step must finish
    failed += [s["step"] for s in summary["steps"] if s["returncode"] == "timed out" and s["step"] != "paper_recipe"]
    if failed:
        print(f"failed: {', '.join(failed)} (see their logs in {out}/)", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
