"""scripts/train_on_accelerator.py: its NumPy augmentation does what the tf.data recipe does."""
import importlib.util
import pathlib

import numpy as np

SCRIPT = pathlib.Path(__file__).resolve().parent.parent / "scripts" / "train_on_accelerator.py"


def _script():
    spec = importlib.util.spec_from_file_location("train_on_accelerator", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_each_augmented_image_is_a_crop_of_the_padded_image_or_its_mirror():
    script = _script()
    x = np.random.default_rng(1).random((64, 32, 32, 3)).astype("float32") + 0.5  # no zeros
    out = script.augment(x, np.random.default_rng(0))
    assert out.shape == x.shape and out.dtype == x.dtype
    pad = script.PAD
    shifts, flips = set(), 0
    for original, result in zip(x, out):
        found = None
        for flipped, image in ((False, original), (True, original[:, ::-1])):
            padded = np.pad(image, ((pad, pad), (pad, pad), (0, 0)))
            for oy in range(2 * pad + 1):
                for ox in range(2 * pad + 1):
                    if np.array_equal(padded[oy:oy + 32, ox:ox + 32], result):
                        found = (flipped, oy, ox)
        assert found is not None
        flips += found[0]
        shifts.add(found[1:])
    assert 16 < flips < 48 and len(shifts) > 20  # random flips and many different offsets
