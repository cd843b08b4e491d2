"""cnnviz: see what happens inside a convolutional neural network.

The core modules (images, uploads, model_input, samples, kernels, activations, pooling, data,
models, train, probe, ...) are UI-free; everything that imports Streamlit lives in ``cnnviz.ui``.
Only data, models, train and probe import TensorFlow/Keras.
"""

__version__ = "0.1.0"
