"""Build pretrained/samples/: a few test images from MNIST, Fashion-MNIST and CIFAR-10, plus a
drawing of simple shapes, as PNG files and a samples.json index.

    python scripts/make_samples.py [DATA_DIR]      # DATA_DIR defaults to ../shared/data

DATA_DIR holds mnist.npz and fashion_mnist.npz (x_test, y_test) and cifar10_jpeg.npz
(test_jpeg + test_offsets, y_test, class_names). The images come from the test sets only; the
first test image with each chosen label is used unless an index is given below. The output is
deterministic, so re-running it changes nothing.
"""
from __future__ import annotations

import io
import json
import pathlib
import sys

import numpy as np
from PIL import Image, ImageDraw

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "pretrained" / "samples"
DEFAULT_DATA = ROOT.parent / "shared" / "data"

MNIST_SOURCE = ("MNIST test set (Y. LeCun, C. Cortes, C. J. C. Burges), CC BY-SA 3.0, "
                "http://yann.lecun.com/exdb/mnist/")
FASHION_SOURCE = ("Fashion-MNIST test set (Zalando Research), MIT licence, "
                  "https://github.com/zalandoresearch/fashion-mnist")
CIFAR_SOURCE = ("CIFAR-10 test set (A. Krizhevsky, 2009), https://www.cs.toronto.edu/~kriz/cifar.html; "
                "decoded from a JPEG copy, so pixels differ slightly from the original")
SHAPES_SOURCE = "drawn by scripts/make_samples.py for cnnviz (same licence as cnnviz)"

# (label, which occurrence in the test set); digits with curves first: 3 is the default.
DIGITS = [(3, 1), (8, 2), (5, 2), (2, 1), (7, 0), (0, 0)]
FASHION = [(9, 0), (0, 0), (1, 0), (3, 0), (7, 0), (8, 0)]   # ankle boot, T-shirt, trouser, ...
FASHION_NAMES = ["T-shirt/top", "trouser", "pullover", "dress", "coat", "sandal", "shirt",
                 "sneaker", "bag", "ankle boot"]
CIFAR = [(3, 0), (5, 0), (0, 0), (1, 0), (2, 0), (6, 0), (7, 0), (8, 0)]


def slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-").replace("--", "-")


def nth_index(labels: np.ndarray, label: int, occurrence: int) -> int:
    return int(np.flatnonzero(labels == label)[occurrence])


def save_png(pixels: np.ndarray, file: str) -> None:
    Image.fromarray(pixels).save(OUT / file, format="PNG", optimize=True)


def shapes_image(size: int = 128) -> np.ndarray:
    """Light shapes on a dark background: straight, slanted and curved edges for the kernels."""
    img = Image.new("L", (size, size), 20)
    d = ImageDraw.Draw(img)
    s = size / 128
    d.rectangle([12 * s, 12 * s, 52 * s, 52 * s], fill=230)
    d.ellipse([72 * s, 10 * s, 118 * s, 56 * s], fill=170)
    d.polygon([(14 * s, 116 * s), (34 * s, 72 * s), (56 * s, 116 * s)], fill=200)
    d.line([(70 * s, 70 * s), (118 * s, 118 * s)], fill=255, width=max(1, round(5 * s)))
    d.line([(70 * s, 118 * s), (118 * s, 70 * s)], fill=120, width=max(1, round(3 * s)))
    return np.asarray(img)


def main(data_dir: pathlib.Path) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.png"):
        old.unlink()
    entries = []

    mnist = np.load(data_dir / "mnist.npz")
    for label, occ in DIGITS:
        i = nth_index(mnist["y_test"], label, occ)
        name = f"mnist-{label}"
        save_png(mnist["x_test"][i], name + ".png")
        entries.append(dict(name=name, file=name + ".png", title=f"Handwritten {label}",
                            dataset="MNIST", label=str(label), index=i, source=MNIST_SOURCE))

    fashion = np.load(data_dir / "fashion_mnist.npz")
    names = [str(n) for n in fashion["class_names"]] if "class_names" in fashion else FASHION_NAMES
    for label, occ in FASHION:
        i = nth_index(fashion["y_test"], label, occ)
        name = f"fashion-{slug(names[label])}"
        save_png(fashion["x_test"][i], name + ".png")
        entries.append(dict(name=name, file=name + ".png", title=names[label].capitalize(),
                            dataset="Fashion-MNIST", label=names[label], index=i,
                            source=FASHION_SOURCE))

    cifar = np.load(data_dir / "cifar10_jpeg.npz")
    jpeg, offsets, classes = cifar["test_jpeg"], cifar["test_offsets"], cifar["class_names"]
    for label, occ in CIFAR:
        i = nth_index(cifar["y_test"], label, occ)
        raw = jpeg[offsets[i]:offsets[i + 1]].tobytes()
        pixels = np.asarray(Image.open(io.BytesIO(raw)).convert("RGB"))
        cls = str(classes[label])
        name = f"cifar-{slug(cls)}"
        save_png(pixels, name + ".png")
        entries.append(dict(name=name, file=name + ".png", title=cls.capitalize(),
                            dataset="CIFAR-10", label=cls, index=i, source=CIFAR_SOURCE))

    save_png(shapes_image(), "shapes.png")
    entries.append(dict(name="shapes", file="shapes.png", title="Shapes (edges and curves)",
                        dataset="cnnviz", label="", index=None, source=SHAPES_SOURCE))

    index = {"about": "Sample images for cnnviz, made by scripts/make_samples.py. "
                      "'index' is the position in the dataset's test set.",
             "samples": entries}
    (OUT / "samples.json").write_text(json.dumps(index, indent=1, ensure_ascii=False) + "\n",
                                      encoding="utf-8")
    total = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"wrote {len(entries)} samples to {OUT} ({total / 1024:.0f} KB)")


if __name__ == "__main__":
    main(pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DATA)
