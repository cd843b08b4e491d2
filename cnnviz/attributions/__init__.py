"""Why did the network answer that? One module per attribution method, each usable from a
notebook:

    from cnnviz import attributions, models
    model = models.load_pretrained("mnist")
    attributions.saliency(model, x, 3, smoothgrad_samples=20)   # saliency.py: gradients, SmoothGrad
    attributions.grad_cam(model, x, 3)                          # gradcam.py: Grad-CAM
    attributions.integrated_gradients(model, x, 3)              # integrated_gradients.py
    attributions.occlusion(model, x, 3, patch=4, stride=2)      # occlusion.py
    attributions.contributions(model, x, 3)                     # contributions.py: per-unit pushes
    attributions.maximise(model, "relu3", 5)                    # maximise.py: feature visualisation

x is one image H x W x C float32 in [0, 1] (no batch axis); model is a keras.Model or its
cnnviz.probe.Probe. Every method explains the class's logit (the pre-softmax score) except
occlusion, which reports the change in the probability, the number a visitor sees. The
module docstrings cite the papers.

The package's names saliency, occlusion, maximise, ... are the functions; the modules (for their
constants: occlusion.MAX_WINDOWS, maximise.DEFAULTS, ...) are reached with
``from cnnviz.attributions.occlusion import MAX_WINDOWS`` or importlib.import_module.
clear_cache() forgets the pictures maximise remembers (other results are remembered by each
model's Probe, Probe.remember).
"""
from cnnviz.attributions._scores import logits
from cnnviz.attributions.contributions import Contributions, contributions
from cnnviz.attributions.gradcam import (default_cam_layer, grad_cam, grad_cam_coarse,
                                         receptive_field_grid, resize_bilinear)
from cnnviz.attributions.integrated_gradients import integrated_gradients, make_baseline
from cnnviz.attributions.maximise import clear_cache, maximise, maximise_grid
from cnnviz.attributions.occlusion import occlusion
from cnnviz.attributions.saliency import MAX_SMOOTHGRAD_SAMPLES, saliency

__all__ = ["Contributions", "MAX_SMOOTHGRAD_SAMPLES", "clear_cache", "contributions", "default_cam_layer",
           "grad_cam", "grad_cam_coarse", "integrated_gradients", "logits", "make_baseline",
           "maximise", "maximise_grid", "occlusion", "receptive_field_grid", "resize_bilinear",
           "saliency"]
