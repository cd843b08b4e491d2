"""Per-layer activations, saliency and Grad-CAM (being written)."""
import tensorflow as tf  # noqa: F401
