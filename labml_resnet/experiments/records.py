r"""
---
title: "Appendix: the kept runs"
description: The tables and figures that the site draws from the training runs kept in the repository.
---

# Appendix: the kept runs

Runs kept under `docs/runs/<name>/` (see `keep_run` in the run-folders appendix) are the
evidence behind every number and chart of the site about training: this module reads them
when the site is built and writes the tables and the SVG charts, so no number is typed by hand
and a changed record changes the page.
"""

import json
import math
from dataclasses import dataclass
from pathlib import Path

from labml_resnet._site import markdown_writer
from labml_resnet.experiments.runs import KEPT

# The repository's `docs/runs/`
RUNS = KEPT


@dataclass
class KeptRun:
    name: str  # the folder's name
    config: dict  # the settings of config.json
    recorded: dict  # its "recorded" facts
    metrics: list[dict]  # the rows of metrics.jsonl

    @property
    def final(self) -> dict:
        return self.metrics[-1]

    @property
    def data(self) -> str:
        r"""What the run trained on, in words."""
        return self.recorded.get("data") or ("CIFAR-10 (official files)" if self.recorded.get("official_cifar10")
                                             else "a copy of CIFAR-10 that is not the official files")

    @property
    def length(self) -> str:
        epochs = self.final["epoch"]
        return f"{epochs} epoch{'s' if epochs != 1 else ''} ({self.final['step']:,} iterations)"


def kept_runs(root: Path | None = None) -> list[KeptRun]:
    r"""Every kept run under `root` (by default the repository's `docs/runs/`), in the order of their names."""
    root, found = root or RUNS, []
    for folder in sorted(p for p in root.iterdir() if (p / "metrics.jsonl").is_file()) if root.is_dir() else []:
        saved = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        recorded = saved.pop("recorded", {})
        metrics = [json.loads(line) for line in (folder / "metrics.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
        found.append(KeptRun(folder.name, saved, recorded, metrics))
    return found


def duration(seconds: float) -> str:
    r"""`5253` → `1 h 28 min`; `530` → `8 min 50 s`."""
    minutes, seconds = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min {seconds} s"


@markdown_writer
def evidence_markdown() -> str:
    r"""Markdown table: every kept run, its recipe, length, final test accuracy, time, hardware and data."""
    rows = ["| run | model | recipe | length | test accuracy (final) | wall time | hardware | data |",
            "|---|---|---|---|---:|---:|---|---|"]
    for run in kept_runs():
        rows.append(f"| `{run.name}` | {run.config['model']} | `{run.config['preset']}` | {run.length} | "
                    f"{100 * (1 - run.final['test_error']):.2f}% | {duration(run.final['time_s'])} | "
                    f"`{run.recorded.get('hardware', 'not recorded')}` | {run.data} |")
    return "\n".join(rows)


def kept_run(name: str) -> KeptRun:
    r"""The kept run `docs/runs/<name>/`."""
    for run in kept_runs():
        if run.name == name:
            return run
    raise ValueError(f"no kept run {name!r} in {RUNS}")


@markdown_writer
def run_summary_markdown(name: str) -> str:
    r"""Markdown table: what one kept run measured, and on what."""
    run = kept_run(name)
    rows, best = run.metrics, min(run.metrics, key=lambda row: row["test_error"])
    epoch_s = sorted(row["epoch_s"] for row in rows)[len(rows) // 2]
    speed = sorted(row["images_per_s"] for row in rows)[len(rows) // 2]
    final = run.final
    if len(rows) == 1:
        best_text = "the one evaluation"
    elif best is final or best["test_error"] == final["test_error"]:
        best_text = f"also the best of the {len(rows)} evaluations"
    else:
        best_text = f"the best of the {len(rows)} evaluations was {100 * (1 - best['test_error']):.2f}%, after epoch {best['epoch']}"
    return "\n".join([
        "| measured | value |", "|---|---|",
        f"| test accuracy after epoch {final['epoch']} | **{100 * (1 - final['test_error']):.2f}%** ({best_text}) |",
        f"| training error over epoch {final['epoch']} (augmented images) | {100 * final['train_error']:.2f}% |",
        f"| length | {run.length}, batch {run.config['batch_size']} |",
        f"| wall time, training and evaluation | {final['time_s']:,.0f} s ({duration(final['time_s'])}) |",
        f"| training time per epoch, median of {len(rows)} | {epoch_s:.1f} s ({speed:,.0f} images/s) |",
        f"| hardware | `{run.recorded.get('hardware', 'not recorded')}`, torch `{run.recorded.get('torch', '?')}` |",
        f"| data | {run.data} |",
        f"| started | `{run.recorded.get('started', 'not recorded')}` |",
    ])


def spread(names: list[str]) -> dict:
    r"""
    The mean, min and max over kept runs (the same recipe with different seeds) of the final test
    accuracy, in %, and of the wall time, in seconds: `{"accuracy": (mean, min, max), "seconds": …}`.
    """
    found = [kept_run(name) for name in names]
    accuracy = [100 * (1 - run.final["test_error"]) for run in found]
    seconds = [run.final["time_s"] for run in found]
    return {key: (sum(values) / len(values), min(values), max(values))
            for key, values in (("accuracy", accuracy), ("seconds", seconds))}


@markdown_writer
def spread_markdown(names: list[str]) -> str:
    r"""Markdown table: kept runs of one recipe with different seeds, each with its final test accuracy,
    wall time and machine, then the mean, min and max of the accuracy and the time."""
    rows = ["| seed | test accuracy (final) | wall time | hardware | CPU threads | started |",
            "|---:|---:|---:|---|---:|---|"]
    for run in (kept_run(name) for name in names):
        rows.append(f"| {run.config['seed']} | {100 * (1 - run.final['test_error']):.2f}% | "
                    f"{duration(run.final['time_s'])} | `{run.recorded.get('hardware', 'not recorded')}` | "
                    f"{run.recorded.get('threads', '?')} | `{run.recorded.get('started', 'not recorded')}` |")
    figures = spread(names)
    for i, label in enumerate(("mean", "min", "max")):
        rows.append(f"| **{label}** | **{figures['accuracy'][i]:.2f}%** | {duration(figures['seconds'][i])} | | | |")
    return "\n".join(rows)


@markdown_writer
def accuracy_table_markdown(name: str, epochs: list[int]) -> str:
    r"""Markdown table: the learning rate and the test accuracy of one kept run after the given `epochs`."""
    rows = {row["epoch"]: row for row in kept_run(name).metrics}
    return "\n".join([
        "| epoch | " + " | ".join(str(e) for e in epochs) + " |",
        "|---|" + "---|" * len(epochs),
        "| learning rate at its end | " + " | ".join(f"{rows[e]['lr']:.2g}" for e in epochs) + " |",
        "| test accuracy | " + " | ".join(f"{100 * (1 - rows[e]['test_error']):.2f}%" for e in epochs) + " |",
    ])


#
# ## Figures as SVG
#
# Drawn like the site's other figures: SVG in the page, lines and words in `currentColor`, so
# they follow the light and dark themes; the lines are told apart by colour *and* by a label
# at the end of each, so colour is never the only cue. As in the paper's Fig. 6, training error
# is dashed and test error bold.
PALETTE = ["currentColor", "#d95f02", "#1b9e77", "#7570b3"]  # legible on white and on slate
PANEL = 340  # the width of one panel, in SVG units


def _scale(value: float, low: float, high: float, start: float, end: float) -> float:
    return start + (value - low) / (high - low) * (end - start)


def _ticks(high: float, at_most: int = 6) -> list[float]:
    r"""Round tick values from 0 to `high`: steps of 1, 2 or 5 times a power of ten."""
    step = 10 ** math.floor(math.log10(high / at_most)) if high > 0 else 1
    for factor in (1, 2, 5, 10):
        if high / (step * factor) <= at_most:
            step *= factor
            break
    return [i * step for i in range(int(high // step) + 1)]


def _label(value: float, kilo: bool) -> str:
    return (f"{value / 1000:g}k" if value else "0") if kilo else f"{value:g}"


LABEL_GAP = 14  # the least distance between two labels at the lines' ends, in SVG units


def _spread(labels: list[list], gap: float) -> list[list]:
    r"""`[y, label, colour]` rows moved apart vertically, as little as they can be, so that no two
    are closer than `gap`: lines that end close together keep readable labels."""
    labels = sorted(labels, key=lambda row: row[0])
    for _ in range(100):
        moved = False
        for upper, lower in zip(labels, labels[1:]):
            overlap = gap - (lower[0] - upper[0])
            if overlap > 1e-9:  # push the pair apart, half each
                upper[0] -= overlap / 2
                lower[0] += overlap / 2
                moved = True
        if not moved:
            break
    return labels


def line_chart(panels: list[dict], x_label: str, description: str, x_max: float | None = None,
               y_max: float | None = None, height: float = 220, stacked: bool = False,
               marks: list[tuple[float, str]] = ()) -> str:
    r"""
    An SVG figure of panels side by side (or one above the other if `stacked`, for a narrow
    column). Each panel is `dict(title=…, series=[(label, [(x, y), …], colour_index, width), …])`;
    every series is labelled at its last point. `marks` are `(x, label)`: a faint vertical line
    in every panel, labelled at its top.
    """
    xs = [x for panel in panels for _, points, _, _ in panel["series"] for x, _ in points]
    ys = [y for panel in panels for _, points, _, _ in panel["series"] for _, y in points]
    x_max = x_max or max(xs)
    y_max = y_max or _ticks(max(ys) * 1.05)[-1] + _ticks(max(ys) * 1.05)[1]
    step = height + 58  # from one stacked panel to the next
    width = PANEL + 10 if stacked else PANEL * len(panels) + 10
    total = (step * len(panels) + 2) if stacked else height + 60
    # Its own size in pixels, shrunk to the column where that is narrower (`max-width`): a width
    # of "100%" would collapse inside Material's figures, which are as wide as their content.
    body = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {total}" width="{width}" '
            f'height="{total}" style="max-width:100%;height:auto" role="img" aria-label="{description}" '
            f'font-family="sans-serif" font-size="13" fill="currentColor">', f"<title>{description}</title>"]
    for i, panel in enumerate(panels):
        x0, top = (10, 34 + step * i) if stacked else (10 + PANEL * i, 34)
        left, right, bottom = x0 + 40, x0 + PANEL - 84, top + height
        body.append(f'<text x="{(left + right) / 2:.1f}" y="{top - 14}" text-anchor="middle" '
                    f'font-weight="bold">{panel["title"]}</text>')
        for tick in _ticks(y_max):
            y = _scale(tick, 0, y_max, bottom, top)
            body.append(f'<line x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" stroke="currentColor" '
                        f'stroke-opacity="0.15"/>')
            body.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{_label(tick, False)}</text>')
        for tick in _ticks(x_max, 5):
            x = _scale(tick, 0, x_max, left, right)
            body.append(f'<text x="{x:.1f}" y="{bottom + 16}" text-anchor="middle" font-size="11">'
                        f'{_label(tick, x_max >= 2000)}</text>')
        body.append(f'<path d="M{left},{top} V{bottom} H{right}" fill="none" stroke="currentColor"/>')
        for at, label in marks:
            x = _scale(at, 0, x_max, left, right)
            body.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{bottom}" stroke="currentColor" '
                        f'stroke-opacity="0.5" stroke-dasharray="2 3"/>')
            body.append(f'<text x="{x + 3:.1f}" y="{top + 10}" font-size="11">{label}</text>')
        labels = []
        for label, points, colour, stroke in panel["series"]:
            colour = PALETTE[colour % len(PALETTE)]
            path = " ".join(f"{_scale(x, 0, x_max, left, right):.1f},{_scale(y, 0, y_max, bottom, top):.1f}"
                            for x, y in points)
            dash = ' stroke-dasharray="5 3"' if stroke < 2 else ""  # thin lines are dashed
            body.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="{stroke}"{dash} '
                        f'stroke-linejoin="round"/>')
            if label:  # at the end of its line
                end = round(_scale(points[-1][0], 0, x_max, left, right), 1)
                labels.append((end, [_scale(points[-1][1], 0, y_max, bottom, top), label, colour]))
        for end in sorted({end for end, _ in labels}):  # labels at the same end kept apart
            for y, label, colour in _spread([row for at, row in labels if at == end], LABEL_GAP):
                body.append(f'<text x="{end + 4}" y="{y + 4:.1f}" font-size="12" fill="{colour}">{label}</text>')
    body.append("</svg>")
    # What the axes and lines are, under the figure in HTML, which wraps to the figure's width in
    # every language (in the SVG a translated caption can be wider than the figure, and is cut)
    return (f'<figure class="lit-figure lit-generated" style="max-width:{width}px">' + "".join(body)
            + f"<figcaption>{x_label}</figcaption></figure>")


@markdown_writer
def learning_curves_svg(groups: list[list[str]], titles: list[str], labels: list[list[str]],
                        description: str, stacked: bool = False) -> str:
    r"""
    One panel per group of kept runs (by name): training error (dashed) and test error (bold)
    against iterations, as in the paper's Fig. 6; the final errors of every run are added to
    the figure's text alternative `description`.
    """
    panels, finals = [], []
    for group, title, names in zip(groups, titles, labels):
        series = []
        for i, (name, label) in enumerate(zip(group, names)):
            rows = kept_run(name).metrics
            series.append(("", [(r["step"], 100 * r["train_error"]) for r in rows], i, 1))
            series.append((label, [(r["step"], 100 * r["test_error"]) for r in rows], i, 2.6))
            finals.append(f"{label}: training error {100 * rows[-1]['train_error']:.1f}%, "
                          f"test error {100 * rows[-1]['test_error']:.1f}%")
        panels.append(dict(title=title, series=series))
    return line_chart(panels, "iterations; error (%): dashed = training, bold = test",
                      f"{description}. {'; '.join(finals)}.", stacked=stacked)


def analysis(name: str) -> dict:
    r"""A kept run's `analysis.json` (written by `reproduce.analyse`)."""
    return json.loads((RUNS / name / "analysis.json").read_text(encoding="utf-8"))


@markdown_writer
def responses_svg(names: list[str], labels: list[str], description: str, stacked: bool = False) -> str:
    r"""
    The paper's Fig. 7 from kept runs: the standard deviation of each 3×3 layer's response,
    in the network's order (left) and sorted from the largest (right).
    """
    stds = [analysis(name)["response_stds"] for name in names]
    order = [(label, [(i + 1, s) for i, s in enumerate(values)], k, 2) for k, (label, values) in enumerate(zip(labels, stds))]
    ranked = [(label, [(i + 1, s) for i, s in enumerate(sorted(values, reverse=True))], k, 2)
              for k, (label, values) in enumerate(zip(labels, stds))]
    means = "; ".join(f"{label}: mean {sum(v) / len(v):.2f}" for label, v in zip(labels, stds))
    return line_chart([dict(title="layers in order", series=order), dict(title="sorted by size", series=ranked)],
                      "layer index; standard deviation of the response", f"{description}. {means}.",
                      stacked=stacked)


@markdown_writer
def lesion_svg(names: list[str], labels: list[str], description: str) -> str:
    r"""
    Veit et al.'s lesion figure from kept runs (`reproduce.lesion`): the test error with one block
    deleted, against the deleted block's position (bold), and the whole net's error (dashed); the
    first block of each later stage, where the shortcut subsamples, is marked. The text
    alternative gives every number.
    """
    results = [analysis(name)["lesion"] for name in names]
    blocks = [entry["block"] for entry in results[0]["blocks"]]
    series, numbers = [], []
    for k, (label, result) in enumerate(zip(labels, results)):
        errors = [100 * entry["error"] for entry in result["blocks"]]
        series.append(("", [(1, 100 * result["error"]), (len(errors), 100 * result["error"])], k, 1))
        series.append((label, [(i + 1, e) for i, e in enumerate(errors)], k, 2.2))
        numbers.append(f"{label}: whole net {100 * result['error']:.1f}%; without "
                       + ", ".join(f"{block} {e:.1f}%" for block, e in zip(blocks, errors)))
    # A stage's first block (`layer2.0`, `layer3.0`) changes the shape
    marks = [(i + 1, block.split(".")[0]) for i, block in enumerate(blocks) if i and block.endswith(".0")]
    return line_chart([dict(title="one block deleted", series=series)],
                      "deleted block; test error (%), dashed: whole net",
                      f"{description}. {'. '.join(numbers)}.", x_max=len(blocks), marks=marks)


CELL = 50  # the side of a cell of the confusion matrix, in SVG units


@markdown_writer
def confusion_svg(name: str, description: str) -> str:
    r"""
    The confusion matrix of a kept run on the test images as a heat map: rows the true class,
    columns the predicted class, each cell shaded by its count (square root, so that the mistakes
    show beside the diagonal) with the count written in it, and each class's accuracy at the end
    of its row. Shades of `currentColor`, so it follows the theme; a dark cell's number is in the
    page's background colour, the others in `currentColor`, whichever has more contrast.
    """
    result = analysis(name)
    names, matrix, accuracy = result["class_names"], result["confusion"], result["class_accuracy"]
    n, largest = len(names), max(max(row) for row in matrix)
    left, top = 100, 80
    width, height = left + CELL * n + 76, top + CELL * n + 10
    # The text alternative: each class's accuracy, and the most frequent mistake
    wrong = max(((matrix[t][p], t, p) for t in range(n) for p in range(n) if t != p))
    summary = (f"{description}. Accuracy per class: " + ", ".join(f"{c} {100 * a:.1f}%" for c, a in zip(names, accuracy))
               + f". The most frequent mistake: {names[wrong[1]]} taken for {names[wrong[2]]}, {wrong[0]} times.")
    body = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}" style="max-width:100%;height:auto" role="img" aria-label="{summary}" '
            f'font-family="sans-serif" font-size="12" fill="currentColor">', f"<title>{summary}</title>",
            f'<text x="{left + CELL * n / 2}" y="14" text-anchor="middle" font-weight="bold">predicted class</text>',
            f'<text transform="translate(14,{top + CELL * n / 2}) rotate(-90)" text-anchor="middle" '
            f'font-weight="bold">true class</text>',
            f'<text x="{left + CELL * n + 40}" y="{top - 8}" text-anchor="middle">accuracy</text>']
    for j, label in enumerate(names):  # column labels, slanted so that long names fit
        x = left + CELL * j + CELL / 2
        body.append(f'<text transform="translate({x + 4},{top - 6}) rotate(-40)">{label}</text>')
    for i, (label, row) in enumerate(zip(names, matrix)):
        y = top + CELL * i
        body.append(f'<text x="{left - 6}" y="{y + CELL / 2 + 4}" text-anchor="end">{label}</text>')
        for j, count in enumerate(row):
            shade = 0.85 * math.sqrt(count / largest)
            x = left + CELL * j
            body.append(f'<rect x="{x}" y="{y}" width="{CELL}" height="{CELL}" fill="currentColor" '
                        f'fill-opacity="{shade:.3f}" stroke="currentColor" stroke-opacity="0.2"/>')
            # Past 0.54 the background colour contrasts more with the cell than `currentColor` does
            colour = ' style="fill:var(--md-default-bg-color,#fff)"' if shade > 0.54 else ""
            bold = ' font-weight="bold"' if i == j else ""
            body.append(f'<text x="{x + CELL / 2}" y="{y + CELL / 2 + 4}" text-anchor="middle"{colour}{bold}>'
                        f'{count}</text>')
        body.append(f'<text x="{left + CELL * n + 40}" y="{y + CELL / 2 + 4}" text-anchor="middle">'
                    f'{100 * accuracy[i]:.1f}%</text>')
    body.append("</svg>")
    return '<figure class="lit-figure lit-generated">' + "".join(body) + "</figure>"


@markdown_writer
def examples_markdown(name: str) -> str:
    r"""The first test images with their true class and the kept network's prediction."""
    # Each word in an element of its own (the class names, "✗ predicted"), so that the Japanese
    # and Chinese editions translate them one by one; the image's text alternative is its class.
    cells = []
    for example in analysis(name)["examples"]:
        right = example["label"] == example["predicted"]
        cells.append(f'<figure class="lit-example" style="margin:0;text-align:center"><img src="{example["image"]}" '
                     f'width="96" height="96" alt="{example["label"]}"><figcaption><span>{example["label"]}</span><br>'
                     f'<span>{"✓" if right else "✗ predicted"}</span> <span>{example["predicted"]}</span>'
                     '</figcaption></figure>')
    return ('<div class="lit-examples" style="display:flex;flex-wrap:wrap;gap:0.8rem">' + "".join(cells) + "</div>")


# The paper's Table 6: test error (%) on CIFAR-10 of its ResNets, trained for 64k iterations
# (ResNet-110: the best of 5 runs; their mean is 6.61 ± 0.16). It gives no number for the plain
# nets, only their curves in Fig. 6.
PAPER_TABLE6_ERROR = {"resnet20": 8.75, "resnet32": 7.51, "resnet44": 7.17, "resnet56": 6.97, "resnet110": 6.43,
                      "resnet1202": 7.93}


@markdown_writer
def degradation_table_markdown(names: list[str]) -> str:
    r"""Markdown table: final training and test error of kept runs, beside the paper's Table 6."""
    rows = ["| net | recipe and length | training error | test error | the paper's test error (Table 6, 64k iterations) |",
            "|---|---|---:|---:|---:|"]
    for name in names:
        run = kept_run(name)
        model = run.config["model"]
        paper = f"{PAPER_TABLE6_ERROR[model]:.2f}%" if model in PAPER_TABLE6_ERROR else "— (Fig. 6 only)"
        rows.append(f"| {model} | `{run.config['preset']}`, {run.length} | {100 * run.final['train_error']:.2f}% | "
                    f"{100 * run.final['test_error']:.2f}% | {paper} |")
    return "\n".join(rows)
