"""Grad-CAM: where in the picture the maps that favour a class light up.

    from cnnviz import attributions, models
    model = models.load_pretrained("cifar10")
    heat = attributions.grad_cam(model, x, class_index=3)            # H x W in [0, 1]
    coarse = attributions.grad_cam_coarse(model, x, 3, "relu4")      # the layer's own grid

Reference:
    R. R. Selvaraju, M. Cogswell, A. Das, R. Vedantam, D. Parikh, D. Batra, "Grad-CAM: Visual
    Explanations from Deep Networks via Gradient-based Localization", ICCV 2017
    (arXiv:1610.02391).
"""
from __future__ import annotations

import numpy as np

from cnnviz import probe
from cnnviz.attributions._geometry import _bilinear, receptive_field_grid, resize_bilinear

__all__ = ["default_cam_layer", "grad_cam_coarse", "grad_cam", "receptive_field_grid",
           "resize_bilinear"]


def default_cam_layer(model) -> str:
    """The last layer with a spatial map that is not a pooling: the last conv block's output."""
    p = probe.get_probe(model)
    for s in reversed(p.specs):
        if len(s.output_shape) == 3 and s.kind in ("conv", "batchnorm", "activation"):
            return s.name
    raise ValueError(f"{p.model.name} has no convolutional layer for Grad-CAM.")


def grad_cam_coarse(model, x, class_index: int, layer_name: str | None = None) -> np.ndarray:
    """Grad-CAM at the layer's own resolution, not normalised: ReLU(sum_k w_k A_k),
    w_k = mean over positions of d logit[class] / d A_k (Selvaraju et al. 2017, eq. 1-2)."""
    p = probe.get_probe(model)
    name = layer_name or default_cam_layer(p)
    spec = p.check_scored(name)
    if len(spec.output_shape) != 3:
        raise ValueError(f"Grad-CAM needs a layer with an H x W x C output; {name} has {spec.output_shape}.")
    acts, grads = p.forward_backward(x, class_index)
    a, g = acts[spec.index], grads[spec.index]
    weights = g.mean(axis=(0, 1))
    return np.maximum(a @ weights, 0.0).astype(np.float32)


def grad_cam(model, x, class_index: int, layer_name: str | None = None) -> np.ndarray:
    """Grad-CAM heat map in [0, 1] at the input's H x W (Selvaraju et al. 2017).

    The coarse map is enlarged bilinearly with each of its cells placed on the centre of its
    receptive field (receptive_field_grid): for "same"-padded layers this is exactly
    tf.image.resize; after a "valid" convolution the map covers only the middle of the
    picture, and stretching it over the whole picture (as resize would) would misplace it.
    """
    p = probe.get_probe(model)
    name = layer_name or default_cam_layer(p)
    cam = grad_cam_coarse(p, x, class_index, name)
    h, w = p.input_shape[:2]
    grid = receptive_field_grid(p, name)
    if grid is None:
        big = resize_bilinear(cam, (h, w))
    else:
        (r0, c0), (sr, sc) = grid
        big = _bilinear(cam, (np.arange(h) - r0) / sr, (np.arange(w) - c0) / sc)
    big = np.maximum(big, 0.0)
    top = float(big.max())
    return (big / top if top > 0 else big).astype(np.float32)
