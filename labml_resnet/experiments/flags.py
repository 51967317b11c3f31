r"""
---
title: "Appendix: flags from a dataclass"
description: How the experiment's command line is made from its configuration dataclass, and how a saved configuration is checked like flags.
---

# Appendix: flags from a dataclass

The experiment's settings are one dataclass, and every field is a flag: `batch_size`
becomes `--batch-size`, and its help text is the field's own. A field is declared with
`flag(default, help)`, which keeps the help in the field's metadata, so `--help` needs
nothing but the dataclass:

```python
@dataclass
class Config:
    epochs: int = flag(50, "passes over the training images")
```

The same types check a `config.json` read back from a run folder, which may have been edited
by hand or come from elsewhere.
"""

import argparse
import json
import math
from dataclasses import MISSING, Field, field, fields, replace
from typing import Any, Callable, Literal, get_args, get_origin

import labml_resnet
from labml_resnet.experiments.display import plural
from labml_resnet.experiments.world import check_device


def flag(default: Any, help: str, minimum: float | None = None, above: float | None = None,
         below: float | None = None) -> Field:
    r"""
    A dataclass field with a default, the help text of its flag, and the values it allows:
    at least `minimum`, more than `above`, less than `below`.
    """
    if isinstance(default, (list, dict, set)):
        raise TypeError("use a tuple for a default with several values")
    return field(default=default, metadata=dict(help=help, minimum=minimum, above=above, below=below))


def check_values(config) -> list[str]:
    r"""Every field of `config` outside the bounds its `flag` allows, as messages that name the flag."""
    problems = []
    for f in fields(config):
        value, allowed = getattr(config, f.name), f.metadata
        rules = [(bound, text, ok) for bound, text, ok in [
            (allowed["minimum"], f"at least {allowed['minimum']}", lambda v, b: v >= b),
            (allowed["above"], f"more than {allowed['above']}", lambda v, b: v > b),
            (allowed["below"], f"less than {allowed['below']}", lambda v, b: v < b)] if bound is not None]
        if not all(ok(value, bound) for bound, _, ok in rules):
            problems.append(f"{flag_name(f.name)} must be {' and '.join(text for _, text, _ in rules)}, not {value}")
    return problems


def flag_name(name: str) -> str:
    r"""`batch_size` → `--batch-size`."""
    return "--" + name.replace("_", "-")


def make_parser(config_class: type, choices: dict[str, list[str]] | None = None, **parser_options) -> argparse.ArgumentParser:
    r"""
    A parser with one flag per field of `config_class`. `bool` fields get `--compile` /
    `--no-compile`; `Literal` fields list their choices; tuples take several numbers;
    `choices` gives the allowed values of other fields. Every default is `None` here, so that
    the caller knows which flags were actually given.
    """
    parser = argparse.ArgumentParser(**parser_options)
    for f in fields(config_class):
        options = dict(default=None, help=f"{f.metadata['help']} [default: {f.default}]".replace("%", "%%"))
        if f.type is bool:
            options["action"] = argparse.BooleanOptionalAction
        elif get_origin(f.type) is Literal:
            options["choices"] = get_args(f.type)
        elif get_origin(f.type) is tuple:
            options.update(type=float, nargs="+")
        else:
            options["type"] = f.type
        if choices and f.name in choices:
            options.update(choices=choices[f.name], metavar=f.name.upper())
        parser.add_argument(flag_name(f.name), **options)
    return parser


#
# ## Checking a saved configuration
def check_types(config_class: type, values: dict, where: str) -> dict:
    r"""
    `values` (read from JSON) as a complete set of fields of `config_class`: every key must be a
    field and every value of the field's type; missing fields (a run from an older version) take
    their defaults. Anything else stops with one message that names `where` and each problem.
    """
    if not isinstance(values, dict):
        raise SystemExit(f"{where} should hold a JSON object of settings, not a {type(values).__name__}")
    known = {f.name: f for f in fields(config_class)}
    problems = [f"{name!r} is not a setting" for name in values if name not in known]
    problems += [f"{name} = {json.dumps(value)} is not {type_name(known[name].type)}"
                 for name, value in values.items() if name in known and not value_fits(known[name].type, value)]
    if problems:
        raise SystemExit(f"{where} is not a run configuration:\n  " + "\n  ".join(problems))
    defaults = {f.name: f.default for f in known.values() if f.default is not MISSING}
    return {**defaults, **values}


def value_fits(kind, value) -> bool:
    r"""Whether a JSON `value` can be the value of a field of type `kind`."""
    if kind is bool:
        return isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if get_origin(kind) is Literal:
        return isinstance(value, str) and value in get_args(kind)
    if get_origin(kind) is tuple:
        return isinstance(value, list) and all(value_fits(float, v) for v in value)
    return isinstance(value, kind)


def type_name(kind) -> str:
    r"""How a message names a field's type."""
    if get_origin(kind) is Literal:
        return "one of " + ", ".join(map(json.dumps, get_args(kind)))
    if get_origin(kind) is tuple:
        return "a list of numbers"
    return {bool: "true or false", int: "a whole number", float: "a number", str: "text"}[kind]


#
# ## The experiment's command line
#
# `experiment.py` hands over its `Config` and its `make_config`; the flags given go on top of a
# preset, or, with `--resume`, on top of the run's saved `config.json`. Whatever a flag does not
# allow (a bound, a model name, a device, the milestones) ends with argparse's usage message,
# every problem named, before anything is read or trained.
def parse_command_line(argv: list[str], config_class: type, make_config: Callable) -> tuple[Any, frozenset]:
    r"""The configuration that `argv` asks for, and the names of the flags it gave."""
    from labml_resnet.experiments import runs  # here: runs reads config.json with `check_types`

    parser = make_parser(config_class, choices=dict(model=list(labml_resnet.CIFAR_BUILDERS)),
                         prog="experiment.py",
                         description="Train a ResNet of He et al. (2016) on CIFAR-10.",
                         epilog="python experiment.py plot RUN [RUN ...] -o FIG.png draws "
                                "training and test error against iterations, as in the paper's "
                                "Fig. 6; python experiment.py reproduce fig6 --help remakes it.")
    flags = vars(parser.parse_args(argv))
    given = {name: value for name, value in flags.items() if value is not None}
    saved = None
    if given.get("resume"):
        saved, _ = runs.read_config(runs.find_run_folder(given["resume"]), config_class)
    config = make_config(given, saved)
    problems = check_config(config)
    if problems:
        parser.error("\n  ".join(problems))
    return config, frozenset(given)


def check_config(config) -> list[str]:
    r"""Everything wrong with `config`, as messages that name the flag."""
    problems = check_values(config) + check_device(config.device)
    if config.model not in labml_resnet.CIFAR_BUILDERS:
        problems.append(f"--model {config.model!r} is not a CIFAR model; "
                        f"choose from {', '.join(labml_resnet.CIFAR_BUILDERS)}")
    milestones = list(config.milestones)
    if not all(0 < m <= 1 for m in milestones) or milestones != sorted(milestones):
        problems.append(f"--milestones must be increasing fractions in (0, 1], not {milestones}")
    return problems


#
# ## A short run still learns
#
# The fast recipe's batch of 512 leaves a one-epoch run 97 iterations, too few to warm up to
# 0.4 and come down again. A one-cycle run of fewer than `MIN_STEPS` iterations therefore
# halves its batch and its peak learning rate together (the linear scaling rule of
# [Goyal et al. 2017](https://arxiv.org/abs/1706.02677)) until the run has `MIN_STEPS`
# iterations or the batch is `MIN_BATCH`, and says so; `--batch-size` or `--lr` keep yours.
MIN_STEPS, MIN_BATCH = 300, 32


def fit_to_length(config, n_train: int, given: set[str]) -> tuple[Any, str]:
    r"""The configuration for a run on `n_train` images, and what changed, in words."""
    def total(c) -> int:
        return c.steps or c.epochs * (n_train // c.batch_size)

    if config.schedule != "onecycle" or config.steps or given & {"batch_size", "lr"}:
        return config, ""
    fitted = config
    while total(fitted) < MIN_STEPS and fitted.batch_size // 2 >= MIN_BATCH:
        fitted = replace(fitted, batch_size=fitted.batch_size // 2, lr=fitted.lr / 2)
    if fitted == config:
        return config, ""
    return fitted, (f"A run of {plural(total(config), 'iteration')} is too short for batch "
                    f"{config.batch_size}: it trains with batch {fitted.batch_size} and peak "
                    f"learning rate {fitted.lr:g} instead ({plural(total(fitted), 'iteration')};"
                    f" the same images, the learning rate scaled with the batch). Give --batch-size "
                    f"or --lr to keep yours.")
