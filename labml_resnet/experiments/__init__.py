r"""
---
title: "Appendix: the experiment's machinery"
description: The modules that experiment.py uses but does not need on screen.
---

# Appendix: the experiment's machinery

`experiment.py` keeps the lesson on screen: the configuration, the data on the device, the
model, the schedule, the step, evaluation and the loop. Everything else it needs lives here,
one module a page:

* [The CIFAR-10 files](cifar10.md): finding, downloading, checking and safely reading them;
* [Flags from a dataclass](flags.md): the command line, and checking a saved configuration;
* [Run folders and checkpoints](runs.md): what a run writes, exact resumption, keeping a run;
* [Processes and devices](world.md): `torchrun`, one GPU per process;
* [What a run prints](display.md): the progress bar and the summary;
* [Will it fit?](memory.md): memory per image, and the check before training;
* [The plot](plot.md): training and test error, as in the paper's Fig. 6;
* [Reproducing the figures](reproduce.md): one command for the degradation experiment;
* [The kept runs](records.md): the site's tables and figures from the runs in `docs/runs/`.
"""

from labml_resnet.experiments import cifar10, display, flags, memory, plot, records, reproduce, runs, world

__all__ = ["cifar10", "display", "flags", "memory", "plot", "records", "reproduce", "runs", "world"]
