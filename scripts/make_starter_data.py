#!/usr/bin/env python3
"""Make the starter subsets in pretrained/starter/: a few MB of each dataset for offline training.

Usage: python scripts/make_starter_data.py --data DIR [--out FOLDER] [--seed N]

DIR holds mnist.npz, fashion_mnist.npz (keys x_train, y_train, x_test, y_test) and either
cifar10_jpeg.npz (CIFAR-10 as JPEG bytes: train_jpeg + train_offsets, test_jpeg + test_offsets,
y_train, y_test) or a decoded cifar10.npz. From each it draws a class-balanced random subset with a
fixed seed: MNIST and Fashion-MNIST 5,000 training + 1,000 test images, CIFAR-10 2,500 + 500 (fewer
if the three files would pass the size budget), and writes FOLDER/<name>.npz:

* mnist.npz, fashion_mnist.npz: x_train, y_train, x_test, y_test (uint8), np.savez_compressed;
* cifar10.npz: train_jpeg, train_offsets, test_jpeg, test_offsets, y_train, y_test, the layout of
  cifar10_jpeg.npz. Image i of a split is blob[offsets[i]:offsets[i + 1]]. From cifar10_jpeg.npz
  the original JPEG bytes are copied (no second loss); a decoded cifar10.npz is encoded at
  quality 90 with Pillow. The blob is deflated too: the JPEG headers repeat in every image.

Every file also holds train_index and test_index: where each image sits in the full split. The
images are in random order (not sorted by class). cnnviz.data.load_starter reads these files.
"""
from __future__ import annotations

import argparse
import io
import os
import pathlib
import sys
import tempfile

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "pretrained" / "starter"
N_CLASSES = 10
#: name -> (training images, test images) to draw
SIZES = {"mnist": (5000, 1000), "fashion_mnist": (5000, 1000), "cifar10": (2500, 500)}
BUDGET = 6 * 1024 * 1024        # bytes, the three files together
JPEG_QUALITY = 90


def balanced(y: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """n indices into y, n // 10 of each class, drawn without replacement, in random order."""
    if n % N_CLASSES:
        raise ValueError(f"{n} images do not split evenly into {N_CLASSES} classes")
    y = np.asarray(y).reshape(-1)
    picks = [rng.choice(np.flatnonzero(y == c), n // N_CLASSES, replace=False) for c in range(N_CLASSES)]
    return rng.permutation(np.concatenate(picks))


def _save(file: pathlib.Path, **arrays) -> int:
    """np.savez_compressed to a temporary file beside `file`, then rename: no half-written file."""
    fd, tmp = tempfile.mkstemp(suffix=".npz", dir=file.parent)
    os.close(fd)
    try:
        np.savez_compressed(tmp, **arrays)
        os.chmod(tmp, 0o644)            # mkstemp makes it private; these files are for everyone
        os.replace(tmp, file)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return file.stat().st_size


def grey(name: str, data: pathlib.Path, out: pathlib.Path, seed: int) -> int:
    rng = np.random.default_rng(seed)
    n_train, n_test = SIZES[name]
    with np.load(data / f"{name}.npz", allow_pickle=False) as z:
        ytr, yte = z["y_train"], z["y_test"]
        itr, ite = balanced(ytr, n_train, rng), balanced(yte, n_test, rng)
        return _save(out / f"{name}.npz",
                     x_train=z["x_train"][itr], y_train=ytr[itr].astype(np.uint8),
                     x_test=z["x_test"][ite], y_test=yte[ite].astype(np.uint8),
                     train_index=itr.astype(np.uint16), test_index=ite.astype(np.uint16))


def _pack(pieces: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """JPEG byte strings -> (blob uint8, offsets int64 with len(pieces) + 1 entries)."""
    offsets = np.zeros(len(pieces) + 1, np.int64)
    offsets[1:] = np.cumsum([len(p) for p in pieces])
    return np.frombuffer(b"".join(pieces), np.uint8), offsets


def _encode(x: np.ndarray) -> bytes:
    from PIL import Image
    buf = io.BytesIO()
    Image.fromarray(x, "RGB").save(buf, format="JPEG", quality=JPEG_QUALITY)
    return buf.getvalue()


def cifar_source(data: pathlib.Path):
    """A function (split, indices) -> JPEG byte strings, the labels of both splits, and a note."""
    jpeg = data / "cifar10_jpeg.npz"
    if jpeg.is_file():
        z = np.load(jpeg, allow_pickle=False)
        blobs = {s: (z[f"{s}_jpeg"], z[f"{s}_offsets"]) for s in ("train", "test")}

        def pieces(split, idx):
            blob, off = blobs[split]
            return [blob[off[i]:off[i + 1]].tobytes() for i in idx]
        return pieces, z["y_train"], z["y_test"], f"original JPEG bytes copied from {jpeg}"
    plain = data / "cifar10.npz"
    z = np.load(plain, allow_pickle=False)
    xs = {"train": z["x_train"], "test": z["x_test"]}

    def pieces(split, idx):
        return [_encode(xs[split][i]) for i in idx]
    return pieces, z["y_train"], z["y_test"], f"encoded at JPEG quality {JPEG_QUALITY} from {plain}"


def cifar(data: pathlib.Path, out: pathlib.Path, seed: int, budget: int) -> tuple[int, str]:
    """Write cifar10.npz with as many images as fit in `budget` bytes, up to SIZES["cifar10"]."""
    pieces, ytr, yte, note = cifar_source(data)
    ytr, yte = np.asarray(ytr).reshape(-1), np.asarray(yte).reshape(-1)
    n_train, n_test = SIZES["cifar10"]
    while True:
        rng = np.random.default_rng(seed)
        itr, ite = balanced(ytr, n_train, rng), balanced(yte, n_test, rng)
        train_jpeg, train_offsets = _pack(pieces("train", itr))
        test_jpeg, test_offsets = _pack(pieces("test", ite))
        size = _save(out / "cifar10.npz",
                     train_jpeg=train_jpeg, train_offsets=train_offsets,
                     test_jpeg=test_jpeg, test_offsets=test_offsets,
                     y_train=ytr[itr].astype(np.uint8), y_test=yte[ite].astype(np.uint8),
                     train_index=itr.astype(np.uint16), test_index=ite.astype(np.uint16))
        if size <= budget or n_test <= N_CLASSES:
            return size, f"{n_train:,} + {n_test:,} images, {note}"
        # 10 % fewer, still a multiple of 10 per split
        n_train, n_test = (max(N_CLASSES, int(n * 0.9) // N_CLASSES * N_CLASSES) for n in (n_train, n_test))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, type=pathlib.Path,
                        help="folder holding mnist.npz, fashion_mnist.npz and cifar10_jpeg.npz "
                             "(or a decoded cifar10.npz)")
    parser.add_argument("--out", type=pathlib.Path, default=OUT, help=f"output folder (default {OUT})")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    args = parser.parse_args(argv)
    missing = [f for f in ("mnist.npz", "fashion_mnist.npz") if not (args.data / f).is_file()]
    if not any((args.data / f).is_file() for f in ("cifar10_jpeg.npz", "cifar10.npz")):
        missing.append("cifar10_jpeg.npz or cifar10.npz")
    if missing:
        print(f"error: {args.data} lacks {', '.join(missing)}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    sizes = {}
    for name in ("mnist", "fashion_mnist"):
        sizes[name] = grey(name, args.data, args.out, args.seed)
        n_train, n_test = SIZES[name]
        print(f"{args.out / name}.npz: {sizes[name]:,} bytes ({n_train:,} + {n_test:,} images)")
    sizes["cifar10"], note = cifar(args.data, args.out, args.seed, BUDGET - sum(sizes.values()))
    print(f"{args.out / 'cifar10'}.npz: {sizes['cifar10']:,} bytes ({note})")
    total = sum(sizes.values())
    print(f"total: {total:,} bytes ({total / 2**20:.2f} MiB; budget {BUDGET / 2**20:.0f} MiB)")
    return 0 if total <= BUDGET else 1


if __name__ == "__main__":
    sys.exit(main())
