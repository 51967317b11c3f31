r"""
---
title: "Appendix: the plot"
description: Training and test error against iterations for any set of runs, in the style of the paper's Fig. 6.
---

# Appendix: the plot

`python experiment.py plot RUN [RUN …] -o fig.png` draws each run's training error (dashed) and
test error (bold) against iterations, in the style of the paper's Fig. 6. The degradation
experiment is two commands away:

```
for m in plain20 plain56 resnet20 resnet56; do python experiment.py --preset paper --model $m; done
python experiment.py plot runs/*-plain20 runs/*-plain56 runs/*-resnet20 runs/*-resnet56 -o fig6.png
```
"""

import argparse
from pathlib import Path

from labml_resnet.experiments.runs import read_metrics


def main(argv: list[str]) -> Path:
    parser = argparse.ArgumentParser(prog="experiment.py plot",
                                     description="Training (dashed) and test (bold) error against iterations.")
    parser.add_argument("runs", nargs="+", help="run folders (with metrics.jsonl)")
    parser.add_argument("-o", "--output", default="errors.png", help="image to write [default: errors.png]")
    parser.add_argument("--ymax", type=float, default=None, help="top of the error axis, in %% (the paper: 20)")
    args = parser.parse_args(argv)
    runs = []
    for run in map(Path, args.runs):
        if not (run / "metrics.jsonl").is_file():
            raise SystemExit(f"{run} has no metrics.jsonl: is it a run folder?")
        rows = read_metrics(run)
        if not rows:
            raise SystemExit(f"{run / 'metrics.jsonl'} is empty: the run has not finished an epoch yet")
        runs.append((run, rows))
    # matplotlib only when a plot is asked for: training does not need it
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4))
    for i, (run, rows) in enumerate(runs):
        steps = [row["step"] for row in rows]
        axes.plot(steps, [100 * row["train_error"] for row in rows], color=f"C{i}", linewidth=1, linestyle="--")
        axes.plot(steps, [100 * row["test_error"] for row in rows], color=f"C{i}", linewidth=2.2,
                  label=run_label(run))
    axes.set_xlabel("iter.")
    axes.set_ylabel("error (%)")
    axes.set_ylim(0, args.ymax)
    axes.legend(title="bold: test, dashed: training", fontsize="small")
    axes.grid(alpha=0.3)
    figure.tight_layout()
    output = Path(args.output)
    figure.savefig(output, dpi=150)
    print(f"wrote {output}")
    return output


def run_label(run: Path) -> str:
    r"""The run's model, from its `config.json`, or the folder's name."""
    import json
    try:
        return json.loads((run / "config.json").read_text(encoding="utf-8"))["model"]
    except (OSError, ValueError, KeyError, TypeError):
        return run.name
