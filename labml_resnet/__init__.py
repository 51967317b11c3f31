r"""
---
title: Residual learning
description: Deep Residual Learning for Image Recognition (He et al. 2016), explained with annotated, tested PyTorch code: the degradation problem, residual learning, and what the paper does and does not claim about gradients.
---

# Residual learning

This is an annotated implementation of ResNet, from
[Deep Residual Learning for Image Recognition](https://arxiv.org/abs/1512.03385)
(He, Zhang, Ren and Sun, CVPR 2016) and its follow-up
[Identity Mappings in Deep Residual Networks](https://arxiv.org/abs/1603.05027) (ECCV 2016).
Each module is a chapter; read them in order (the list is below, after the ideas).

## The degradation problem

Stacking more layers should never hurt: "There exists a solution by construction to the
deeper model: the added layers are identity mapping, and the other layers are copied from the
learned shallower model" (the paper, Sec. 1). Yet in practice it does. On CIFAR-10 a 56-layer
*plain* network (the same layers with no shortcuts) has higher **training**
error than a 20-layer one (the paper's Fig. 1), and on ImageNet plain-34 than plain-18 (its
Fig. 4). That is not overfitting, since the error rises on the training set itself: the
solver fails to find the good solution that exists. The paper calls this the
**degradation problem**.

### Seen in our own runs

Plain and residual nets of 20 and 56 layers, trained by this project in one way: the quick
recipe (`--preset quick`: 5 epochs, 1,950 iterations of 128 images, where the paper trained
64k), one seed, on a 2-core CPU, on a JPEG-compressed copy of CIFAR-10. As in the paper's
Fig. 6, dashed lines are training error and bold lines test error:

<!-- md: labml_resnet.experiments.records.learning_curves_svg([["fig6-quick-plain20", "fig6-quick-plain56"], ["fig6-quick-resnet20", "fig6-quick-resnet56"]], ["plain", "ResNet"], [["plain-20", "plain-56"], ["ResNet-20", "ResNet-56"]], "Training and test error of plain and residual nets of 20 and 56 layers, quick recipe, JPEG copy of CIFAR-10", True) -->

Even this short schedule shows both halves of the paper's figure. The 56-layer plain net ends
with a far higher training error than the 20-layer one: the degradation problem. With
shortcuts it is the other way round: ResNet-56 ends below ResNet-20, in training and in test
error. Five epochs are not the paper's 64k iterations, though: the errors are far from its
Table 6, and one seed says nothing of the spread. The [Results](results.md) page has the
numbers beside the paper's, and the one command that trains all four again.

## Residual learning

Suppose a few stacked layers should learn a mapping $\mathcal{H}(x)$. Let them learn the
*residual* $\mathcal{F}(x) = \mathcal{H}(x) - x$ instead, and add $x$ back:

$$\mathcal{H}(x) = \mathcal{F}(x) + x$$

"To the extreme, if an identity mapping were optimal, it would be easier to push the residual
to zero than to fit an identity mapping by a stack of nonlinear layers." A **residual block**
is (the paper's eq. 1)

$$y = \mathcal{F}(x, \{W_i\}) + x$$

where the addition is a **shortcut connection** that skips the block and costs no parameters;
the paper then applies a ReLU to $y$ (the blocks chapter). When $\mathcal{F}(x)$ has a
different shape from $x$ (more channels, smaller feature map), a linear projection $W_s$ can
match them (eq. 2; the paper's CIFAR-10 nets zero-pad $x$ instead, the shortcuts chapter):

$$y = \mathcal{F}(x, \{W_i\}) + W_s x$$

<!-- figure: residual-block -->

## Why the shortcut helps

Two arguments, one about the functions a network can reach and one about the gradient; then
what the paper does *not* claim.

### Deeper can only help if it contains the shallower

The paper's construction argument can be put in terms of sets of functions, as d2l.ai's
ResNet chapter does in its section
[Function Classes](https://d2l.ai/chapter_convolutional-modern/resnet.html). Take all the
functions a 20-layer network can compute, over all its weights, and the function $f^*$ we
want. Training can at best find the member of that set closest to $f^*$. A bigger set is sure
to have a member at least as close only if it *contains* the smaller set; a bigger set that
does not contain it can have its best member farther from $f^*$.

A residual block makes the containment easy to reach. With $\mathcal{F} = 0$ it is the
identity, exactly: its input is a ReLU's output, and $\sigma(0 + x) = x$ for $x \ge 0$. And
$\mathcal{F} = 0$ takes nothing more than a zero scale and shift in its last batch norm. So
ResNet-32 can compute anything ResNet-20 can (exercise 1 does it). A plain network contains
its shallower version too, in principle ("the solution space of the 18-layer plain network is
a subspace of that of the 34-layer one", Sec. 4.1), but its extra layers would have to *learn*
the identity through convolutions, batch norms and ReLUs: "The degradation problem suggests
that the solvers might have difficulties in approximating identity mappings by multiple
nonlinear layers" (Sec. 3.1). With residual learning, "if identity mappings are optimal,
the solvers may simply drive the weights of the multiple nonlinear layers toward zero to
approach identity mappings" (Sec. 3.1).

### The gradient through one block

Take a block without a ReLU after the addition, $y = x + \mathcal{F}(x)$. Its Jacobian is

$$\frac{\partial y}{\partial x} = I + \frac{\partial \mathcal{F}}{\partial x}$$

The identity $I$ passes the gradient from $y$ back to $x$ unchanged, whatever the weights of
$\mathcal{F}$; the weight layers add a second term. For the sum to cancel a gradient $g$
arriving at $y$ (a row vector), that term would have to give back exactly $-g$,
$g \, \partial \mathcal{F} / \partial x = -g$, and for every example of a mini-batch at once,
which the follow-up paper calls unlikely (of its eq. 5: "in general the term [...] cannot be
always -1 for all samples in a mini-batch"). A plain block has
$\partial \mathcal{F} / \partial x$ alone, and through $L$ plain blocks the gradient is
multiplied by $L$ such Jacobians. Through $L$ residual blocks it is multiplied by
$\prod_i (I + \partial \mathcal{F}_i / \partial x_i)$, which, multiplied out, contains the
term $I$ itself: a path through no weight layer at all.

The paper's block has a ReLU after the addition, $y = \sigma(x + \mathcal{F}(x))$, and then

$$\frac{\partial y}{\partial x} = D \left(I + \frac{\partial \mathcal{F}}{\partial x}\right),
  \qquad D = \mathrm{diag}\big(\mathbb{1}[x + \mathcal{F}(x) > 0]\big)$$

so the identity's gradient passes where the sum is positive and is cut where it is not. The
block's input is itself a ReLU's output, $x \ge 0$, so the sum is negative only where
$\mathcal{F}(x)$ is more negative than $x$ is positive (the follow-up paper: "$x_l$ is always
non-negative due to the previous ReLU, so $y_l$ is below zero only when the magnitude of
$\mathcal{F}$ is very negative"). `tests/test_blocks.py` computes a block's Jacobian with
autograd and checks this formula.

### Does ResNet solve vanishing gradients?

Not according to the paper. It names vanishing and exploding gradients as a problem that "has
been largely addressed by normalized initialization [23, 9, 37, 13] and intermediate
normalization layers [16], which enable networks with tens of layers to start converging"
(Sec. 1), and it argues that vanishing gradients are unlikely to be the cause of degradation:
"These plain networks are trained with BN [16], which ensures forward propagated signals to have
non-zero variances. We also verify that the backward propagated gradients exhibit healthy
norms with BN. So neither forward nor backward signals vanish." (Sec. 4.1, about its ImageNet
plain-18 and plain-34). It conjectures instead "that the deep plain nets may have exponentially
low convergence rates". What the paper claims for residual learning is easier *optimization*,
measured by training error. The [pre-activation chapter](preact.md#gradient_norms) makes the
gradient argument above exact, as the follow-up paper does, and measures the gradient that
reaches the first layer of plain and residual nets: in none of them does it vanish, and in
the deep plain nets it explodes instead.

## Won't it collapse into a shallow network plus identities?

If $\mathcal{F} = 0$ is so easy to reach, why would the blocks not all end up there? The
paper answers with a measurement, its Fig. 7: the standard deviation of the output of each
$3 \times 3$ layer of trained CIFAR-10 networks, "after BN and before other nonlinearity
(ReLU/addition)". "ResNets have generally smaller responses than their plain counterparts.
These results support our basic motivation (Sec.3.1) that the residual functions might be
generally closer to zero than the non-residual functions." And: "the deeper ResNet has smaller
magnitudes of responses, as evidenced by the comparisons among ResNet-20, 56, and 110 in
Fig. 7. When there are more layers, an individual layer of ResNets tends to modify the signal
less." (Sec. 4.2.)

Our four nets of the previous figure, measured the same way on the 10,000 test images (by
`python experiment.py reproduce fig6`, from their kept weights):

<!-- md: labml_resnet.experiments.records.responses_svg(["fig6-quick-plain20", "fig6-quick-plain56", "fig6-quick-resnet20", "fig6-quick-resnet56"], ["plain-20", "plain-56", "ResNet-20", "ResNet-56"], "Standard deviation of each 3×3 layer's response after batch normalization, quick recipe, JPEG copy of CIFAR-10", True) -->

As in the paper, the ResNets' responses are the smaller ones at each depth (sorted by size,
right, at every rank but one), and ResNet-56's are smaller on average than ResNet-20's (the
means are in the figure's text alternative). After only five epochs plain-56 is far behind
the others (its test error is on the [Results](results.md) page), so its curve is that of a net
still failing to learn, not of a trained plain net.

A second measurement asks the same question another way. [Veit, Wilber and Belongie
(2016)](https://arxiv.org/abs/1605.06431) delete one block of a trained ResNet at test time,
keeping only its shortcut. If the net had collapsed into a few working blocks plus identities,
deleting any other block would cost nothing and deleting one of the few would break it. Our
kept 56-layer nets, one block deleted at a time (the [Results](results.md#deleting-one-block-veit-et-als-lesion-study)
page says how, and how a plain block is "deleted"):

<!-- md: labml_resnet.experiments.records.lesion_svg(["fig6-quick-resnet56", "fig6-quick-plain56"], ["ResNet-56", "plain-56"], "Test error with one block deleted, quick recipe, JPEG copy of CIFAR-10") -->

Without any one of its 27 blocks, ResNet-56 gets between 18.6% and 35.2% of the test images
wrong (18.0% whole); without any one block, plain-56 gets between 77.3% and 94.0% wrong
(guessing gets 90% wrong). Every residual block contributes and none is indispensable: the blocks
after a deleted one still receive its input, which is most of what they were trained on. What
this cannot show: these nets trained for five epochs with one seed, plain-56 is far behind
before anything is deleted, and a block that can be deleted is not thereby useless to the
trained net.

Closer to zero, then, not zero: each block makes a small correction to the signal it is
given, and the corrections add up. Depth still pays: on CIFAR-10 the ResNets "demonstrate
accuracy gains when the depth increases" (Sec. 4.2), up to 110 layers. At 1202 layers the
test error is worse than at 110, "although both have similar training error. We argue that
this is because of overfitting."

## The chapters

1. **Residual learning**: this page, and the public API below.
2. **Residual blocks**: the basic block, the bottleneck, their plain counterparts, and what
   torchvision's `downsample` is.
3. **Shortcut connections**: the identity, and options A (zero-padding), B and C
   (projections) for the blocks that change shape.
4. **The network**: stems, stages, pooling, classifier, initialization; every builder; using
   it in coursework.
5. **Pre-activation ResNets**: the follow-up paper: why identity shortcuts matter, and the
   gradient measured.
6. **ResNeXt and wide ResNets**: what came after the paper: grouped convolutions and wider
   bottlenecks, with builders equal to torchvision's.
7. **Shapes and costs**: the output-size formula, shape traces, parameter and FLOP tables.
8. **The CIFAR-10 experiment**: `experiment.py`, which trains these networks.

The blocks come before the shortcut options: a block with the identity shortcut is the whole
idea, and options A and B differ only in the two to four blocks of a network that change
shape (option C, a projection in every block, the paper tried and set aside). The output-size
formula waits for the shapes chapter, whose tables need the finished networks; the two facts
the earlier chapters need are stated where they are used: a $3 \times 3$ convolution with
padding 1 keeps a side $n$ at stride 1 and gives $\lceil n / 2 \rceil$ at stride 2, and a
$1 \times 1$ convolution with stride 2 keeps every other pixel.
"""

#
# ## The public API
#
# ```python
# import labml_resnet as r
#
# r.resnet18()                 # ImageNet: resnet18, 34, 50, 101, 152 (num_classes=1000, option B)
# r.resnet34(shortcut="A")     # option A: the paper's comparison with plain34 (its Table 2, Fig. 4)
# r.resnet50(stride_on="3x3")  # torchvision's "V1.5" stride placement
# r.resnet20()                 # CIFAR-10: resnet20, 32, 44, 56, 110, 1202 (num_classes=10, option A)
# r.plain20()                  # no shortcuts: plain20, 32, 44, 56, 110, plain18, plain34
# r.resnet.cifar_resnet(20, plain=True)  # the same plain20, through the switch
# r.preact_resnet164()         # pre-activation: preact_resnet20, 56, 110, 164, 1001
# r.resnet56(num_classes=100, shortcut="B", zero_init_residual=True)
# ```
#
# Module names follow torchvision (`conv1`, `bn1`, `layer1.0.conv1`, `layer2.0.downsample.0`,
# `fc`), so `r.resnet50(stride_on="3x3").load_state_dict(torchvision.models.resnet50().state_dict())`
# gives torchvision's function with torchvision's weights. (With the default, the paper's
# `stride_on="1x1"`, the weights load too, into a different function: the network chapter.)
from labml_resnet.blocks import BasicBlock, Bottleneck
from labml_resnet.preact import (PreActBasicBlock, PreActBottleneck, PreActResNet, preact_resnet20,
                                 preact_resnet56, preact_resnet110, preact_resnet164, preact_resnet1001)
from labml_resnet.resnet import (ResNet, plain18, plain20, plain32, plain34, plain44, plain56, plain110,
                                 resnet18, resnet20, resnet32, resnet34, resnet44, resnet50, resnet56,
                                 resnet101, resnet110, resnet152, resnet1202)
from labml_resnet.shapes import conv_output_size, count_macs, count_parameters, shape_trace, stage_sizes
from labml_resnet.shortcuts import ProjectionShortcut, ZeroPadShortcut, make_shortcut
from labml_resnet.variants import resnext50_32x4d, resnext101_32x8d, wide_resnet50_2, wide_resnet101_2

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
    "resnext50_32x4d", "resnext101_32x8d", "wide_resnet50_2", "wide_resnet101_2",
    "IMAGENET_BUILDERS", "CIFAR_BUILDERS", *IMAGENET_BUILDERS, *CIFAR_BUILDERS,
]

#
# ## Exercises
#
# 1. **A deeper network that contains a shallower one.** Make `resnet32()` compute exactly the
#    function of a trained (here: random) `resnet20()`. *Hint:* ResNet-32 has five blocks per
#    stage where ResNet-20 has three; `load_state_dict` one block at a time, and see the
#    section on function classes above for the other two.
#
#     ??? success "Answer"
#
#         Copy the stem, `fc`, and blocks 0, 1, 2 of each stage of ResNet-20 into the same places of
#         ResNet-32 (`deep.layer1[i].load_state_dict(shallow.layer1[i].state_dict())`, and so on),
#         then set the scale and shift of `bn2` in blocks 3 and 4 of each stage to zero. Those
#         blocks compute $\mathcal{F} = 0$ and $\sigma(0 + x) = x$, because their input is a ReLU's
#         output. In eval mode the two networks then give the same logits for any input.
#         (`tests/test_package.py` does exactly this.)
#
# 2. **The Jacobian of a block.** Check $\partial y / \partial x = D\,(I + \partial \mathcal{F} / \partial x)$
#    for `BasicBlock(2, 2).eval()` on a non-negative `[1, 2, 4, 4]` input.
#    *Hint:* `torch.autograd.functional.jacobian` of the block and of its residual branch
#    `lambda x: block.bn2(block.conv2(block.relu(block.bn1(block.conv1(x)))))`, reshaped to
#    $32 \times 32$ matrices.
#
#     ??? success "Answer"
#
#         With $J_\mathcal{F}$ the branch's Jacobian and $D$ the diagonal matrix with 1 where
#         $x + \mathcal{F}(x) > 0$ and 0 elsewhere, the block's Jacobian equals
#         $D\,(I + J_\mathcal{F})$ to floating-point precision; rows of $D$ that are zero are the
#         positions where the ReLU after the addition cuts the gradient of the shortcut too.
#         (`tests/test_blocks.py` checks it.)
