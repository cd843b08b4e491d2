"""What each kind of layer does, in words, with the numbers of the layer on screen filled in."""
from __future__ import annotations

from typing import TYPE_CHECKING

from cnnviz import images
from cnnviz.ui import figures

if TYPE_CHECKING:
    from cnnviz.probe import LayerActivation, Probe

TEXT = {
    "input": "**The input.** This is the picture exactly as the network receives it: a grid of "
             "numbers from 0 (dark) to 1 (bright), one grid per colour channel. Everything after "
             "this is arithmetic on these numbers.",
    "conv": "**Convolution.** The layer slides {n} small learned filters ({k}) over the "
            "{cin} map(s) of the layer before. At each position a filter multiplies the patch under "
            "it by its weights, adds everything up (over all {cin} input maps){bias} and writes one "
            "number. Where the patch looks like the filter, the number is large. One filter → one "
            "output map (a *channel*), so {cin} maps become {n}. "
            "{negative} is negative, {positive} positive, white zero.",
    "batchnorm": "**Batch normalisation.** Each channel is rescaled to a typical size: subtract "
                 "the channel's average (measured during training), divide by its spread, then "
                 "multiply by a learned γ and add a learned β. While predicting these numbers are "
                 "fixed, so the same picture always gives the same result. It makes training "
                 "faster and steadier.",
    "activation": "**Activation (ReLU).** Every negative number becomes 0, positive ones pass "
                  "unchanged: f(x) = max(0, x). This bend is what lets stacked layers learn more "
                  "than one big linear sum. ReLU is cheap and its slope is 1 for positive inputs, "
                  "so gradients do not fade as they travel back through many layers (sigmoid and "
                  "tanh squash them).",
    "pool": "**{mode} pooling.** Each {k} window of a map is replaced by its {what}, and the "
            "window jumps {s} pixels: the maps become smaller, the number of channels stays. The "
            "network keeps *that* a feature was found and roughly where, not its exact pixel. "
            "Fewer numbers also mean fewer weights later and less over-fitting.",
    "flatten": "**Flatten.** The {shape} block of maps is laid out as one long list of {n} numbers "
               "(row by row, the channel changing fastest) so that a dense layer can look at all of "
               "them at once. Nothing is computed: the numbers are the same as before.",
    "dropout": "**Dropout (rate {rate}).** While the network *trains*, this layer switches off a "
               "random {pct} of the numbers each time, so no unit can be relied on alone and the "
               "network over-fits less. While *predicting* (now) it does nothing: the output "
               "equals the input.",
    "dense": "**Dense (fully connected).** Every output unit multiplies each of the {nin} input "
             "numbers by its own weight, adds them up and adds a bias: {nin} × {units} weights + "
             "{units} biases = {params:,} parameters.",
    "logits": "**Class scores (logits).** The last dense layer gives one score per class. The "
              "units of the layer before vote: each one's value times its weight for a class is "
              "its push for that class. The largest score wins.",
    "logits_softmax": "**Class scores, then probabilities.** The last dense layer gives one score "
                      "per class (its logits) and turns them into probabilities with a softmax. "
                      "The units of the layer before vote: each one's value times its weight for a "
                      "class is its push for that class's logit. The largest score wins.",
    "softmax": "**Softmax.** Turns the scores into probabilities: e^score divided by the sum of "
               "e^score over all classes. They are all positive and add up to 1; the order of the "
               "classes stays the same.",
    "other": "**{cls}.**",
}


def layer_text(act: LayerActivation, network: Probe) -> str:
    """The explanation of this layer (Markdown)."""
    info = act.info
    if act.kind == "conv":
        k = info["kernel"]
        negative, positive = figures.sign_colours()
        return TEXT["conv"].format(n=k.shape[3], k=f"{k.shape[0]} × {k.shape[1]}", cin=k.shape[2],
                                   bias=", adds a bias" if info["bias"] is not None else "",
                                   negative=negative.capitalize(), positive=positive)
    if act.kind == "pool":
        mode = info["mode"]
        return TEXT["pool"].format(mode="Max" if mode == "max" else "Average",
                                   k=images.shape_text(info["pool_size"]),
                                   what="largest value" if mode == "max" else "average",
                                   s=images.shape_text(info["strides"]))
    if act.kind == "flatten":
        src = network.spec(act.input_name).output_shape if act.input_name else act.shape
        return TEXT["flatten"].format(shape=images.shape_text(src), n=act.output.size)
    if act.kind == "dropout":
        return TEXT["dropout"].format(rate=f"{info['rate']:g}", pct=f"{info['rate']:.0%}")
    if act.kind == "dense":
        base = TEXT["dense"].format(nin=info["kernel"].shape[0], units=info["units"], params=act.params)
        if act.name != network.score_layer:
            return base
        head = TEXT["logits_softmax"] if network.class_score.head is not None else TEXT["logits"]
        return head + " " + base.split("** ", 1)[1]
    if act.kind == "activation" and info.get("function") != "relu":
        return f"**Activation ({info.get('function')}).** Applies the same function to every number."
    return TEXT.get(act.kind, TEXT["other"]).format(cls=info.get("class", "Layer"))
