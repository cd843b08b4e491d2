"""No link makes the web process allocate much or work long: each page opened (Streamlit AppTest)
from the most expensive link its settings allow, against its plain view (same picture, network
or dataset, other settings at their defaults), stays within +50 MB (peak RSS and malloc's peak)
and 1 s. All are measured in one fresh process (link_costs.in_fresh_process: memory TensorFlow
freed for an earlier test would hide a page's allocation), one link after another.

Time is the smaller of wall time and this process's CPU time: on an idle machine wall time is the
honest figure; on a loaded one (other engineers' tests, CI neighbours) the CPU time is, as other
processes inflate wall time but not it. Numbers: benchmarks/bench_link_costs.py. Marked slow:
the fresh process loads TensorFlow and the networks, 30-40 s in all.
"""
from __future__ import annotations

import pytest

from link_costs import ROOT, in_fresh_process, widest_link

pytestmark = pytest.mark.slow
MAX_MB, MAX_SECONDS = 50, 1.0
ALL_ACTIVATIONS = "relu,sigmoid,tanh,softplus,leaky-relu,elu,gelu,silu"
KERNEL_7X7 = ";".join([",".join(["1"] * 7)] * 7)
SHAPES = {"image": "shapes"}             # the largest picture a link can name (128 x 128)
CIFAR = {"image": "cifar-cat"}           # the largest colour one (32 x 32 x 3)


# (page, plain view, the worst link's settings on top of it)
WORST = {
    "home": ("home.py", SHAPES, {"zoom": "16", "top": "4096", "left": "4096"}),
    "convolution": ("convolution.py", SHAPES,
                    {"cells": KERNEL_7X7, "dilation": "4", "padding": "explicit", "p": "10",
                     "row": "4096", "col": "4096", "bias": "1000000"}),
    "convolution-colour": ("convolution.py", CIFAR,
                           {"cells": KERNEL_7X7, "dilation": "4", "padding": "explicit", "p": "10",
                            "colour": "depthwise", "channel": "blue"}),
    # the plain view traces every activation's function once per process (a bounded, one-off cost)
    "activations": ("activations.py", {**SHAPES, "functions": ALL_ACTIVATIONS, "compare": ALL_ACTIVATIONS},
                    {"range": "-20,20", "x0": "-20", "depth": "30", "width": "128", "seed": "10000",
                     "init": "random-normal", "map_fn": "gelu"}),
    "pooling": ("pooling.py", SHAPES,
                {"mode": "l2", "size": "4", "stride_is_size": "0", "stride": "1", "padding": "same",
                 "row": "4096", "col": "4096", "shift": "3", "dropout": "0.9", "mask": "1000000"}),
    "conv1d": ("conv1d.py", {},
               {"signal": "type-your-own", "values": ",".join(["9"] * 100), "kernel": "own",
                "weights": ",".join(["1"] * 40), "padding": "same", "dilation": "4", "t": "10000"}),
    "lesson": ("lesson.py", {"seed": "1"}, {"step": "8", "seed": "99999"}),
    "more-convolutions": ("more_convolutions.py", CIFAR,
                          {"k": "7", "c": "1024", "f": "1024", "t_kernel": "bilinear-4-4", "t_stride": "3",
                           "v_kernel": "blur", "v_padding": "same"}),
    # class 5 (dog) is not the prediction, so every "why" view is computed anew
    "network": ("network.py", {**CIFAR, "net": "cifar10"},
                {"class": "5", "copies": "50", "noise": "0.5", "square": "2", "step": "1",
                 "baseline": "blur", "layer": "conv6", "channel": "127", "cam": "conv1",
                 "gradient": "image", "dropout_training": "1"}),
    "train": ("train.py", {"data": "cifar10"}, {"net": widest_link(), "epochs": "20"}),
}

# /network's worst link is the slowest (a new class: SmoothGrad, integrated gradients and occlusion
# all computed anew, ~0.6-0.8 s on an idle machine): a second try with another class (nothing
# remembered from the first) may stand in for the first's time on a busy machine.
AGAIN = {"network": {"class": "6"}}

# what the cheap page says about the cap the link ran into
SAYS = {
    "more-convolutions": "Keras is asked here only for layers up to 250,000 weights",
    "network": "more than the 400 one view may, so the step is 2",
}


# Six tabs of /more-convolutions opened at once, each a little different: three just under the
# size Keras is asked about (built on the server), three at the largest. Before: +2.5 GB, 2.8 s.
TABS = {"more-convolutions, six tabs at once": (
    "more_convolutions.py", CIFAR,
    [{"k": "7", "c": c, "f": c} for c in ("69", "70", "71", "1022", "1023", "1024")])}


@pytest.fixture(scope="module")
def costs():
    cases = {name: (page, worst, plain) for name, (page, plain, worst) in {**WORST, **TABS}.items()}
    cases.update({f"{name} again": (WORST[name][0], {**WORST[name][2], **again}, WORST[name][1])
                  for name, again in AGAIN.items()})
    return in_fresh_process(ROOT, cases)


@pytest.mark.parametrize("name", [*WORST, *TABS])
def test_the_worst_link_of_each_page_is_cheap(costs, name):
    tries = [costs[name], *([costs[f"{name} again"]] if name in AGAIN else [])]
    for cost in tries:
        assert not cost.problems, cost.problems
        assert max(cost.peak_mb, cost.allocated_mb) <= MAX_MB, f"/{name}: {cost}"
        if name in SAYS:
            assert any(SAYS[name] in text for text in cost.texts), SAYS[name]
    assert min(min(c.seconds, c.cpu_seconds) for c in tries) <= MAX_SECONDS, f"/{name}: {[str(c) for c in tries]}"

