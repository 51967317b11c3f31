r"""
---
title: Residual learning
description: Deep Residual Learning for Image Recognition (He et al. 2016), explained with annotated, tested PyTorch code.
---

# Residual learning

This is an annotated implementation of ResNet, from
[Deep Residual Learning for Image Recognition](https://arxiv.org/abs/1512.03385)
(He, Zhang, Ren and Sun, CVPR 2016) and its follow-up
[Identity Mappings in Deep Residual Networks](https://arxiv.org/abs/1603.05027) (ECCV 2016).
Each module is a chapter; read them in order.

## The degradation problem

Stacking more layers should never hurt: a deeper network could copy a shallower one and
set its extra layers to the identity. Yet in practice it does. On CIFAR-10 and ImageNet a
56-layer (or 34-layer) *plain* network — convolutions, batch norm and ReLUs, nothing else — has
higher **training** error than a 20-layer (or 18-layer) one. That is not overfitting, since
training error rises too, and not vanishing gradients, since batch normalization keeps the
signals healthy: the solver simply fails to find the good solution that exists. The paper
calls this the **degradation problem**.

## Residual learning

Suppose a few stacked layers should learn a mapping $\mathcal{H}(x)$. Let them learn the
*residual* $\mathcal{F}(x) = \mathcal{H}(x) - x$ instead, and add $x$ back:

$$\mathcal{H}(x) = \mathcal{F}(x) + x$$

If the identity is nearly optimal, pushing $\mathcal{F}$ to zero is easier than fitting an
identity with a stack of nonlinear layers. A **residual block** is (the paper's eq. 1)

$$y = \mathcal{F}(x, \{W_i\}) + x$$

where the addition is a **shortcut connection** that skips the block and costs no parameters.
When $\mathcal{F}(x)$ has a different shape from $x$ (more channels, smaller feature map),
a linear projection $W_s$ matches them (eq. 2):

$$y = \mathcal{F}(x, \{W_i\}) + W_s x$$

<!-- figure: residual-block -->

## The chapters

1. **Residual learning** — this page, and the public API below.
2. **Shortcut connections** — identity, and options A (zero-padding), B and C (projections).
3. **Residual blocks** — the basic block, the bottleneck, and their plain counterparts.
4. **The network** — stems, stages, pooling, classifier, initialization; every builder.
5. **Pre-activation ResNets** — the follow-up paper: why identity shortcuts matter.
6. **Shapes and costs** — the output-size formula, shape traces, parameter and FLOP tables.
7. **The CIFAR-10 experiment** — `experiment.py`, which trains these networks.

## The public API

```python
import labml_resnet as r

r.resnet18()                 # ImageNet: resnet18, 34, 50, 101, 152 (num_classes=1000, option B)
r.resnet50(stride_on="3x3")  # torchvision's "V1.5" stride placement
r.resnet20()                 # CIFAR-10: resnet20, 32, 44, 56, 110, 1202 (num_classes=10, option A)
r.plain20()                  # without shortcuts: plain20, 32, 44, 56, 110, plain18, plain34
r.preact_resnet164()         # pre-activation: preact_resnet20, 56, 110, 164, 1001
r.resnet56(num_classes=100, shortcut="B", zero_init_residual=True)
```

Module names follow torchvision (`conv1`, `bn1`, `layer1.0.conv1`, `layer2.0.downsample.0`,
`fc`), so `r.resnet50().load_state_dict(torchvision.models.resnet50().state_dict())` works.
"""

from labml_resnet.blocks import BasicBlock, Bottleneck
from labml_resnet.preact import (PreActBasicBlock, PreActBottleneck, PreActResNet, preact_resnet20,
                                 preact_resnet56, preact_resnet110, preact_resnet164, preact_resnet1001)
from labml_resnet.resnet import (ResNet, plain18, plain20, plain32, plain34, plain44, plain56, plain110,
                                 resnet18, resnet20, resnet32, resnet34, resnet44, resnet50, resnet56,
                                 resnet101, resnet110, resnet152, resnet1202)
from labml_resnet.shapes import conv_output_size, count_macs, count_parameters, shape_trace, stage_sizes
from labml_resnet.shortcuts import ProjectionShortcut, ZeroPadShortcut, make_shortcut

# The builders by name: what `experiment.py --model` and the tests choose from
IMAGENET_BUILDERS = {
    "resnet18": resnet18, "resnet34": resnet34, "resnet50": resnet50, "resnet101": resnet101,
    "resnet152": resnet152, "plain18": plain18, "plain34": plain34,
}
CIFAR_BUILDERS = {
    "resnet20": resnet20, "resnet32": resnet32, "resnet44": resnet44, "resnet56": resnet56,
    "resnet110": resnet110, "resnet1202": resnet1202,
    "plain20": plain20, "plain32": plain32, "plain44": plain44, "plain56": plain56, "plain110": plain110,
    "preact_resnet20": preact_resnet20, "preact_resnet56": preact_resnet56,
    "preact_resnet110": preact_resnet110, "preact_resnet164": preact_resnet164,
    "preact_resnet1001": preact_resnet1001,
}

__all__ = [
    "BasicBlock", "Bottleneck", "PreActBasicBlock", "PreActBottleneck", "PreActResNet", "ResNet",
    "ProjectionShortcut", "ZeroPadShortcut", "make_shortcut",
    "conv_output_size", "count_macs", "count_parameters", "shape_trace", "stage_sizes",
    "IMAGENET_BUILDERS", "CIFAR_BUILDERS", *IMAGENET_BUILDERS, *CIFAR_BUILDERS,
]
