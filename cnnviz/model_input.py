"""A picture -> the input a trained network expects, the way its dataset was made (MNIST's
centred digits, Fashion-MNIST's cropped garments, CIFAR-10's small photos), with the steps said.

    >>> from cnnviz import model_input
    >>> x, steps = model_input.to_mnist_input(pic.pixels)     # 28 x 28, how it was made
    >>> x, steps = model_input.to_fashion_input(pic.pixels)   # 28 x 28, the way clothes were made
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from cnnviz.images import Picture, shape_text, to_gray

__all__ = ["fit_input", "network_input", "to_cifar_input", "to_fashion_input", "to_mnist_input"]


def _resize(gray: np.ndarray, size_wh: tuple[int, int]) -> np.ndarray:
    """Resize one float channel with Pillow's antialiased Lanczos filter, clipped to [0, 1]."""
    img = Image.fromarray(np.ascontiguousarray(gray, dtype=np.float32), mode="F")
    return np.clip(np.asarray(img.resize(size_wh, Image.Resampling.LANCZOS), dtype=np.float32), 0, 1)


MNIST_SIDE = 28
MNIST_BOX = 20
INK_THRESHOLD = 0.2   # after the background is set to 0 and the strongest ink to 1
MIN_CONTRAST = 0.08   # less than this between background and ink: a blank image
FASHION_SIDE = 28     # Fashion-MNIST: the garment's longest side fills the whole square
#: What counts as the garment when cropping (after the background is set to 0 and the brightest
#: part to 1). Lower than INK_THRESHOLD: clothes have dark parts (a black shoe on a white page
#: becomes faint once negated) and Fashion-MNIST trimmed to everything that is not background.
FASHION_THRESHOLD = 0.1


@dataclass(frozen=True)
class _Words:
    """How the shared steps of _isolate are told, for one dataset."""
    grey: str       # why the colour image is turned grey
    invert: str     # why a light background is inverted
    blank: str      # what is missing when nothing stands out
    strongest: str  # the brightest thing, stretched to 1
    crop: str       # what the picture is cropped to


_MNIST_WORDS = _Words(
    grey="MNIST digits are grey",
    invert="MNIST digits are white ink on black",
    blank="no ink stands out from the background",
    strongest="strongest ink",
    crop="the ink")
_FASHION_WORDS = _Words(
    grey="Fashion-MNIST pictures are grey",
    invert="Fashion-MNIST clothes are light on black (shop photos on white, negated)",
    blank="nothing stands out from the background",
    strongest="brightest part",
    crop="the garment")


def _isolate(pixels: np.ndarray, words: _Words, threshold: float) -> tuple[np.ndarray | None, list[str]]:
    """The steps MNIST and Fashion-MNIST share: grey; light on black (inverted when the
    background is light); background to 0 and the brightest part to 1; cropped to what is
    brighter than threshold. Returns the crop (None for a blank image) and the steps."""
    arr = np.asarray(pixels, dtype=np.float32)
    steps: list[str] = []
    if arr.ndim == 3:
        steps.append(f"turned the colour image grey ({words.grey})")
    gray = to_gray(arr)
    h, w = gray.shape
    border = np.concatenate([gray[0, :], gray[-1, :], gray[:, 0], gray[:, -1]])
    background = float(np.median(border))
    if background > 0.5:
        gray = 1.0 - gray
        background = 1.0 - background
        steps.append(f"inverted the colours: the background is light, and {words.invert}")
    ink = float(gray.max())
    if ink - background < MIN_CONTRAST:
        steps.append(f"the image looks blank ({words.blank}), "
                     f"so the network gets an empty {MNIST_SIDE} × {MNIST_SIDE} square")
        return None, steps
    gray = np.clip((gray - background) / (ink - background), 0.0, 1.0)
    if background > 0.02 or ink < 0.98:
        steps.append(f"stretched the contrast: background {background:.2f} → 0, "
                     f"{words.strongest} {ink:.2f} → 1")
    rows = np.flatnonzero((gray > threshold).any(axis=1))
    cols = np.flatnonzero((gray > threshold).any(axis=0))
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    crop = gray[top:bottom, left:right]
    ch, cw = crop.shape
    steps.append(f"cropped to {words.crop}: {ch} × {cw} pixels of the {h} × {w} image")
    return crop, steps


def _scale_longest(crop: np.ndarray, side: int) -> np.ndarray:
    """crop resized so its longest side is `side` pixels (aspect kept, antialiased)."""
    ch, cw = crop.shape
    factor = side / max(ch, cw)
    nw, nh = max(1, round(cw * factor)), max(1, round(ch * factor))
    return _resize(crop, (nw, nh)) if (nw, nh) != (cw, ch) else crop


def to_mnist_input(pixels: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Prepare any image the way MNIST digits were made: 28 x 28 float32 in [0, 1] and the steps.

    Grey; white ink on black (inverted when the background is light); background to 0 and the
    strongest ink to 1; cropped to the ink; scaled so the longest side is 20 px (aspect kept,
    antialiased); placed in a 28 x 28 square with its centre of mass at the centre.
    """
    crop, steps = _isolate(pixels, _MNIST_WORDS, INK_THRESHOLD)
    if crop is None:
        return np.zeros((MNIST_SIDE, MNIST_SIDE), np.float32), steps
    digit = _scale_longest(crop, MNIST_BOX)
    nh, nw = digit.shape
    steps.append(f"scaled to {nh} × {nw} pixels so the longest side is {MNIST_BOX} (shape kept)")
    out = np.zeros((MNIST_SIDE, MNIST_SIDE), np.float32)
    total = float(digit.sum())
    yy, xx = np.mgrid[0:nh, 0:nw]
    cy = float((yy * digit).sum() / total) if total > 0 else (nh - 1) / 2
    cx = float((xx * digit).sum() / total) if total > 0 else (nw - 1) / 2
    oy = int(np.clip(round(MNIST_SIDE / 2 - cy), 0, MNIST_SIDE - nh))
    ox = int(np.clip(round(MNIST_SIDE / 2 - cx), 0, MNIST_SIDE - nw))
    out[oy:oy + nh, ox:ox + nw] = digit
    steps.append(f"placed in a {MNIST_SIDE} × {MNIST_SIDE} square with its centre of mass "
                 "in the middle")
    return out, steps


def to_fashion_input(pixels: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Prepare any image the way Fashion-MNIST pictures were made: 28 x 28 float32 in [0, 1]
    and the steps.

    Fashion-MNIST (Xiao et al., 2017) trimmed each shop photo to the product, resized its
    longest edge to 28, extended it to 28 x 28 around the centre, negated it and made it grey.
    So here: grey; a light garment on black (inverted when the background is light); background
    to 0 and the brightest part to 1, grey levels kept; cropped to the garment; scaled so the
    longest side is 28 px (aspect kept, antialiased); placed in the middle of a 28 x 28 square
    (centred by its box, not by its centre of mass).
    """
    crop, steps = _isolate(pixels, _FASHION_WORDS, FASHION_THRESHOLD)
    if crop is None:
        return np.zeros((FASHION_SIDE, FASHION_SIDE), np.float32), steps
    garment = _scale_longest(crop, FASHION_SIDE)
    nh, nw = garment.shape
    steps.append(f"scaled to {nh} × {nw} pixels so the longest side is {FASHION_SIDE}, "
                 "filling the square as Fashion-MNIST clothes do (shape kept)")
    out = np.zeros((FASHION_SIDE, FASHION_SIDE), np.float32)
    oy, ox = (FASHION_SIDE - nh + 1) // 2, (FASHION_SIDE - nw + 1) // 2
    out[oy:oy + nh, ox:ox + nw] = garment
    if (nh, nw) != (FASHION_SIDE, FASHION_SIDE):
        steps.append(f"placed in the middle of a {FASHION_SIDE} × {FASHION_SIDE} black square "
                     f"({FASHION_SIDE - nh} rows and {FASHION_SIDE - nw} columns of border)")
    return out, steps


CIFAR_SIDE = 32


def to_cifar_input(pixels: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Prepare any image for a CIFAR-10 network: 32 x 32 x 3 float32 in [0, 1] and the steps."""
    return fit_input(pixels, CIFAR_SIDE, CIFAR_SIDE, 3)


def fit_input(pixels: np.ndarray, height: int, width: int, channels: int) -> tuple[np.ndarray, list[str]]:
    """Any picture -> height x width x channels float32 in [0, 1] for a network, and the steps:
    grey copied into 3 channels (or colour turned grey), the centre cut to the input's shape,
    then resized smoothly."""
    arr = np.asarray(pixels, dtype=np.float32)
    steps: list[str] = []
    if not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] == 3)):
        raise ValueError(f"expected H x W or H x W x 3 pixels, got shape {arr.shape}")
    if channels == 3 and arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
        steps.append("copied the grey image into the red, green and blue channels")
    elif channels == 1 and arr.ndim == 3:
        arr = to_gray(arr)
        steps.append("turned the colours into grey (luma)")
    elif channels not in (1, 3):
        raise ValueError(f"a network input needs 1 or 3 channels, not {channels}")
    if arr.ndim == 2:
        arr = arr[..., None]
    h, w = arr.shape[:2]
    crop_h, crop_w = min(h, round(w * height / width)), min(w, round(h * width / height))
    crop_h, crop_w = max(crop_h, 1), max(crop_w, 1)
    if (crop_h, crop_w) != (h, w):
        top, left = (h - crop_h) // 2, (w - crop_w) // 2
        arr = arr[top:top + crop_h, left:left + crop_w]
        steps.append(f"cut out the centre{' square' if height == width else ''}: "
                     f"{h} × {w} → {crop_h} × {crop_w}")
    if (crop_h, crop_w) != (height, width):
        arr = np.stack([_resize(arr[..., c], (width, height)) for c in range(arr.shape[2])], axis=2)
        steps.append(f"resized {crop_h} × {crop_w} → {height} × {width} "
                     f"({'shrunk' if crop_h * crop_w > height * width else 'enlarged'}, smoothed)")
    return np.ascontiguousarray(arr, dtype=np.float32), steps


def network_input(pic: Picture, shape: tuple, dataset: str | None) -> tuple[np.ndarray, list[str]]:
    """The exact tensor a network with input `shape` (H x W x C), trained on `dataset`, receives
    for `pic`, and the preparation steps: a test image of that dataset as it is, a 28 x 28 x 1
    input the way its dataset was made, anything else fitted (fit_input)."""
    px = pic.pixels
    if pic.dataset is not None and pic.dataset == dataset and (
            px.shape == shape or (shape[-1] == 1 and px.shape == shape[:2])):
        return px.reshape(shape).astype(np.float32), [
            f"a test image of the dataset this network learned from, already "
            f"{shape_text(shape)}: used as it is"]
    if shape == (MNIST_SIDE, MNIST_SIDE, 1):
        # Clothes fill their 28 x 28 frame; digits sit in a 20-px box: each the way its data was made.
        x, steps = (to_fashion_input if dataset == "fashion_mnist" else to_mnist_input)(px)
        return x[..., None], steps
    x, steps = fit_input(px, *shape)
    return (x.reshape(shape) if shape[-1] == 1 else x), steps
