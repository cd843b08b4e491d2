"""Gradient saliency and SmoothGrad: which pixels the class score is most sensitive to.

    from cnnviz import attributions, models
    model = models.load_pretrained("mnist")
    attributions.saliency(model, x, class_index=3)                          # vanilla gradient
    attributions.saliency(model, x, class_index=3, smoothgrad_samples=20)   # SmoothGrad

References:
    K. Simonyan, A. Vedaldi, A. Zisserman, "Deep Inside Convolutional Networks: Visualising
    Image Classification Models and Saliency Maps", ICLR workshop 2014 (arXiv:1312.6034).
    D. Smilkov, N. Thorat, B. Kim, F. Viégas, M. Wattenberg, "SmoothGrad: removing noise by
    adding noise", ICML workshop 2017 (arXiv:1706.03825).
"""
from __future__ import annotations

import numpy as np

from cnnviz import probe
from cnnviz.attributions._scores import get_scorer

MAX_SMOOTHGRAD_SAMPLES = 50
"""Most noisy copies one SmoothGrad map may average (the page offers 5-50): at most
MAX_SMOOTHGRAD_SAMPLES / Scorer.chunk compiled gradient calls per request."""


def saliency(model, x, class_index: int, smoothgrad_samples: int = 0, noise: float = 0.15,
             seed: int = 0) -> np.ndarray:
    """|d logit[class] / d input| as an H x W map (largest over colour channels)
    (Simonyan et al. 2014).

    model: a keras.Model or its probe.Probe. x: one image, H x W x C (no batch axis).
    smoothgrad_samples > 0: SmoothGrad (Smilkov et al. 2017), the mean of that map over noisy
    copies of x (Gaussian noise, standard deviation noise x (max - min) of x, drawn from seed).
    Results are remembered (Probe.remember): the same call again costs nothing.
    """
    p = probe.get_probe(model)
    xb = p.check_input(x)
    n = int(smoothgrad_samples)
    if n < 0 or n > MAX_SMOOTHGRAD_SAMPLES:
        raise ValueError(f"smoothgrad_samples must be 0..{MAX_SMOOTHGRAD_SAMPLES}, got {smoothgrad_samples}.")
    if not (0.0 <= float(noise) <= 1.0):
        raise ValueError(f"noise must be 0..1 (a fraction of the pixel range), got {noise}.")
    if n == 0:
        _, grads = p.forward_backward(xb[0], class_index)
        return np.abs(grads[0]).max(axis=-1)
    c = p.check_class(class_index)

    def compute():
        span = float(xb.max() - xb.min()) or 1.0
        rng = np.random.default_rng(seed)
        noisy = xb + rng.normal(0.0, noise * span, size=(n, *xb.shape[1:])).astype(np.float32)
        return np.abs(get_scorer(p).logit_gradient(noisy, c)[0]).max(axis=-1).mean(axis=0)

    return p.remember(("smoothgrad", p.digest(xb), c, n, float(noise), int(seed)), compute)
