"""Bytes, drawings and camera shots -> validated float arrays; model-input preprocessing.

Pure NumPy/Pillow: this module never imports TensorFlow or Streamlit.

    >>> from cnnviz import images
    >>> pic = images.load_image(open("cat.jpg", "rb").read(), name="cat.jpg")
    >>> pic.pixels.shape, pic.notes
    >>> x, steps = images.to_mnist_input(pic.pixels)     # 28 x 28, how it was made

Every Picture holds float32 pixels in [0, 1]: H x W for grayscale sources, H x W x 3 for colour.
Transparent parts of an image are composited on WHITE (most transparent PNGs are dark drawings or
logos meant to be seen on a light page); the note on the Picture says so.
"""
from __future__ import annotations

import functools
import io
import json
import pathlib
import re
import warnings
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = [
    "ACCEPTED", "ACCEPTED_EXTENSIONS", "DEFAULT_SAMPLE", "ImageError", "Picture", "SAMPLES",
    "Sample", "from_canvas", "load_image", "load_sample", "shape_text", "to_cifar_input",
    "to_gray", "to_mnist_input", "to_uint8",
]

#: What people may upload, as they would name it.
ACCEPTED = "PNG, JPEG, GIF, WebP, BMP, TIFF"
#: File-name endings for st.file_uploader(type=...).
ACCEPTED_EXTENSIONS = ("png", "jpg", "jpeg", "gif", "webp", "bmp", "tif", "tiff")
# Pillow's format names. MPO is what Pillow calls the JPEG files many phone cameras write;
# it is opened by the JPEG plugin, so it is not passed to Image.open(formats=...).
_PILLOW_FORMATS = ("PNG", "JPEG", "GIF", "WEBP", "BMP", "TIFF")
_ACCEPTED_FORMATS = frozenset(_PILLOW_FORMATS + ("MPO",))
# Pillow modes that hold one grey value per pixel.
_GRAY_MODES = {"1", "L", "I", "F", "I;16", "I;16L", "I;16B", "I;16N"}

# Luma weights used by Pillow's convert("L") (ITU-R 601-2).
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


class ImageError(ValueError):
    """An input could not be used as an image; the message says why and what is accepted."""


@dataclass(frozen=True)
class Picture:
    """An image ready for the lessons.

    pixels: float32 in [0, 1]; H x W for grayscale sources, H x W x 3 for colour.
            Stored read-only (pages share it through the session): copy before changing it.
    name:   where it came from, for people ("sample: handwritten 3", "upload: cat.jpg").
    notes:  what was done while loading ("used the first of 12 frames", "downscaled from 4000 x 3000").
    """
    pixels: np.ndarray
    name: str
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        pixels = np.array(self.pixels, dtype=np.float32, copy=True)
        if not (pixels.ndim == 2 or (pixels.ndim == 3 and pixels.shape[2] == 3)):
            raise ValueError(f"Picture pixels must be H x W or H x W x 3, got shape {pixels.shape}")
        if pixels.shape[0] == 0 or pixels.shape[1] == 0:
            raise ValueError(f"Picture pixels must not be empty, got shape {pixels.shape}")
        pixels.flags.writeable = False
        object.__setattr__(self, "pixels", pixels)
        object.__setattr__(self, "notes", tuple(self.notes))

    @property
    def is_gray(self) -> bool:
        return self.pixels.ndim == 2

    @property
    def shape_text(self) -> str:
        return shape_text(self.pixels)


def shape_text(pixels: np.ndarray) -> str:
    """'28 × 28' or '480 × 480 × 3' (height × width [× channels]), the way the lesson writes it."""
    return " × ".join(str(n) for n in np.shape(pixels))


def _fail(what: str) -> ImageError:
    return ImageError(f"{what} Accepted: {ACCEPTED}.")


# --------------------------------------------------------------------------- loading bytes

def load_image(data: bytes, max_side: int = 512, name: str = "upload") -> Picture:
    """Decode uploaded bytes into a Picture, or raise ImageError with a one-line reason.

    Only PNG, JPEG, GIF, WebP, BMP and TIFF are accepted. Pillow's decompression-bomb limit
    (Image.MAX_IMAGE_PIXELS) applies, and its warning counts as an error too. The EXIF orientation
    is applied; animated or multi-page files give their first frame; the longest side is scaled
    down to max_side. Grayscale modes stay H x W; everything else becomes RGB H x W x 3.
    """
    if max_side < 1:
        raise ValueError("max_side must be at least 1")
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise _fail(f"Expected the bytes of an image file, got {type(data).__name__}.")
    data = bytes(data)
    if not data:
        raise _fail("The file is empty.")
    notes: list[str] = []
    try:
        # Not thread-safe in Python < 3.14 (a global filter), but only ever makes bombs fail.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = _open_accepted(data)
            with img:
                frames = getattr(img, "n_frames", 1) if img.format != "MPO" else 1
                if frames > 1:
                    img.seek(0)
                    notes.append(f"used the first of {frames} frames")
                width, height = img.size
                if img.format in ("JPEG", "MPO"):
                    # Decode big JPEGs at a reduced scale (still >= max_side on each side).
                    img.draft(None, (max_side, max_side))
                img.load()
                orientation = img.getexif().get(0x0112, 1)
                upright = ImageOps.exif_transpose(img)
                if orientation in (2, 3, 4, 5, 6, 7, 8):
                    notes.append("turned upright using the camera's orientation tag")
                    if orientation >= 5:
                        width, height = height, width
                pixels, more = _to_float(upright, max_side)
                notes.extend(more)
                if pixels.shape[:2] != (height, width):
                    notes.append(f"downscaled from {width} × {height} to {pixels.shape[1]} × "
                                 f"{pixels.shape[0]} pixels (width × height)")
    except ImageError:
        raise
    except Image.DecompressionBombError as e:
        raise _too_big(e) from None
    except Image.DecompressionBombWarning as e:
        raise _too_big(e) from None
    except UnidentifiedImageError:
        raise _fail(f"This is not an image we can read ({_guess_kind(data)}).") from None
    except MemoryError:
        raise _fail("The image is too large to decode here.") from None
    except Exception as e:  # Pillow raises many kinds of errors on corrupt input
        reason = str(e).split("\n")[0][:80] or type(e).__name__
        raise _fail(f"The image file is damaged or cut short ({reason}).") from None
    return Picture(pixels, name, tuple(notes))


def _open_accepted(data: bytes) -> Image.Image:
    if len(data) < 8:
        raise _fail(f"The file is too short to be an image ({len(data)} bytes).")
    img = Image.open(io.BytesIO(data), formats=_PILLOW_FORMATS)
    if img.format not in _ACCEPTED_FORMATS:
        fmt = img.format
        img.close()
        raise _fail(f"{fmt} images are not accepted.")
    if img.width <= 0 or img.height <= 0:
        size = img.size
        img.close()
        raise _fail(f"The image has no pixels ({size[0]} × {size[1]}).")
    return img


def _too_big(e: Exception) -> ImageError:
    found = re.search(r"\((\d+) pixels\)", str(e))
    size = f" ({int(found.group(1)):,} pixels)" if found else ""
    limit = Image.MAX_IMAGE_PIXELS
    limit_text = f"; the limit is {limit:,} pixels" if limit else ""
    return _fail(f"The image is too large to open safely{size}{limit_text}.")


def _guess_kind(data: bytes) -> str:
    """Name what the bytes look like, for the error message (never decodes anything)."""
    head = data[:512]
    signatures = [
        (b"%PDF", "a PDF document"), (b"8BPS", "a Photoshop PSD file"),
        (b"\x00\x00\x01\x00", "an ICO icon"), (b"\x00\x00\x02\x00", "a CUR cursor"),
        (b"PK\x03\x04", "a ZIP archive or Office document"), (b"\x89HDF", "an HDF5 file"),
        (b"qoif", "a QOI image"), (b"\x00\x00\x00\x0cjP  ", "a JPEG 2000 image"),
        (b"\xffO\xff", "a JPEG 2000 image"), (b"P1", "a PBM/PGM/PPM image"),
        (b"P2", "a PGM image"), (b"P3", "a PPM image"), (b"P4", "a PBM image"),
        (b"P5", "a PGM image"), (b"P6", "a PPM image"), (b"\x1f\x8b", "a gzip archive"),
        (b"II*\x00", "a damaged TIFF"), (b"MM\x00*", "a damaged TIFF"),
        (b"\x89PNG", "a damaged PNG"), (b"\xff\xd8", "a damaged JPEG"), (b"GIF8", "a damaged GIF"),
    ]
    for magic, kind in signatures:
        if head.startswith(magic):
            return f"it looks like {kind}"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"mif1", b"msf1", b"hevc"):
            return "it looks like a HEIC photo; export it as JPEG"
        if brand in (b"avif", b"avis"):
            return "it looks like an AVIF image"
        return "it looks like a video or HEIF file"
    if head.startswith(b"RIFF") and head[8:12] != b"WEBP":
        return "it looks like a RIFF audio or video file"
    lowered = head.lstrip().lower()
    if lowered.startswith((b"<svg", b"<?xml")) or b"<svg" in lowered:
        return "it looks like an SVG drawing"
    if lowered.startswith((b"<!doctype html", b"<html")):
        return "it looks like a web page"
    try:
        head.decode("utf-8")
        return "it looks like text"
    except UnicodeDecodeError:
        return "the format is unknown"


def _to_float(img: Image.Image, max_side: int) -> tuple[np.ndarray, list[str]]:
    """Any Pillow mode -> float32 [0, 1], H x W (grey modes) or H x W x 3; downscaled."""
    notes: list[str] = []
    mode = img.mode
    if mode == "P":
        has_alpha = "transparency" in img.info or img.palette is not None and img.palette.mode == "RGBA"
        img = img.convert("RGBA" if has_alpha else "RGB")
        if not has_alpha:
            rgb = np.asarray(img)
            if np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2]):
                img = img.convert("L")  # a grey palette is a grey image
    elif mode in ("PA", "RGBa", "La"):
        img = img.convert("RGBA" if mode != "La" else "LA")
    elif mode in ("L", "RGB") and "transparency" in img.info:
        img = img.convert("LA" if mode == "L" else "RGBA")
    elif mode == "1":
        img = img.convert("L")
    elif mode.startswith("I;16"):
        img = img.convert("I")
        mode = "I;16"
    elif mode not in ("L", "LA", "RGB", "RGBA", "I", "F"):
        img = img.convert("RGB")  # CMYK, YCbCr, LAB, HSV, ...
    if img.width == 0 or img.height == 0:
        raise _fail(f"The image has no pixels ({img.width} × {img.height}).")

    # Scale the way the storage type means it.
    if img.mode in ("I", "F"):
        img, scale_note = _scale_high_bit(img, mode)
        if scale_note:
            notes.append(scale_note)

    if max(img.size) > max_side:
        w, h = img.size
        factor = max_side / max(w, h)
        new = (max(1, round(w * factor)), max(1, round(h * factor)))
        img = img.resize(new, Image.Resampling.LANCZOS, reducing_gap=3.0)

    if img.mode == "F":
        arr = np.clip(np.asarray(img, dtype=np.float32), 0.0, 1.0)
    else:
        arr = np.asarray(img, dtype=np.float32) / 255.0
    if img.mode in ("LA", "RGBA"):
        alpha = arr[..., -1:]
        if float(alpha.min()) < 1.0:
            notes.append("transparent parts shown on white")
        arr = arr[..., :-1] * alpha + (1.0 - alpha)
        if img.mode == "LA":
            arr = arr[..., 0]
    return np.ascontiguousarray(arr, dtype=np.float32), notes


def _scale_high_bit(img: Image.Image, original_mode: str) -> tuple[Image.Image, str | None]:
    """16/32-bit integer and float images -> an 'F' image in [0, 1], and a note on how."""
    arr = np.asarray(img, dtype=np.float64)
    if not np.isfinite(arr).all():
        raise _fail("The image has pixel values that are not numbers (NaN or infinity).")
    lo, hi = (float(arr.min()), float(arr.max())) if arr.size else (0.0, 0.0)
    if original_mode == "I;16" or (img.mode == "I" and lo >= 0 and hi <= 65535):
        out, note = arr / 65535.0, "16-bit values divided by 65535"
    elif img.mode == "F" and lo >= 0 and hi <= 1:
        out, note = arr, None
    elif hi > lo:
        out = (arr - lo) / (hi - lo)
        note = f"values from {lo:g} to {hi:g} stretched to 0–1"
    else:
        out, note = np.zeros_like(arr), f"every pixel is {lo:g}: shown as 0"
    return Image.fromarray(out.astype(np.float32), mode="F"), note


# --------------------------------------------------------------------------- canvas

def from_canvas(rgba: np.ndarray | None, name: str = "drawing") -> Picture | None:
    """streamlit-drawable-canvas image_data (H x W x 4 uint8, white ink on black) -> grey Picture.

    Returns None when nothing is drawn (no pixel brighter than 10/255). Transparent pixels count
    as black (the canvas background).
    """
    if rgba is None:
        return None
    arr = np.asarray(rgba)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4) or arr.shape[0] == 0 or arr.shape[1] == 0:
        return None
    arr = arr.astype(np.float32)
    if np.issubdtype(np.asarray(rgba).dtype, np.integer):
        arr /= 255.0
    gray = arr[..., :3] @ _LUMA
    if arr.shape[2] == 4:
        gray = gray * arr[..., 3]
    gray = np.clip(gray, 0.0, 1.0)
    if float(gray.max()) <= 10 / 255:
        return None
    return Picture(gray, name, ("white ink on black",))


# --------------------------------------------------------------------------- conversions

def to_gray(pixels: np.ndarray) -> np.ndarray:
    """H x W float32: grey images unchanged, RGB by ITU-R 601 luma (what Pillow's convert('L') uses)."""
    arr = np.asarray(pixels, dtype=np.float32)
    if arr.ndim == 2:
        return arr.copy()
    if arr.ndim == 3 and arr.shape[2] == 3:
        return arr @ _LUMA
    if arr.ndim == 3 and arr.shape[2] == 1:
        return arr[..., 0].copy()
    raise ValueError(f"expected H x W or H x W x 3 pixels, got shape {arr.shape}")


def to_uint8(pixels: np.ndarray) -> np.ndarray:
    """[0, 1] floats -> 0..255 uint8 (rounded, clipped): the numbers an image file stores."""
    return np.clip(np.rint(np.asarray(pixels, dtype=np.float32) * 255.0), 0, 255).astype(np.uint8)


def _resize(gray: np.ndarray, size_wh: tuple[int, int]) -> np.ndarray:
    """Resize one float channel with Pillow's antialiased Lanczos filter, clipped to [0, 1]."""
    img = Image.fromarray(np.ascontiguousarray(gray, dtype=np.float32), mode="F")
    return np.clip(np.asarray(img.resize(size_wh, Image.Resampling.LANCZOS), dtype=np.float32), 0, 1)


MNIST_SIDE = 28
MNIST_BOX = 20
INK_THRESHOLD = 0.2   # after the background is set to 0 and the strongest ink to 1
MIN_CONTRAST = 0.08   # less than this between background and ink: a blank image


def to_mnist_input(pixels: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Prepare any image the way MNIST digits were made: 28 x 28 float32 in [0, 1] and the steps.

    Grey; white ink on black (inverted when the background is light); background to 0 and the
    strongest ink to 1; cropped to the ink; scaled so the longest side is 20 px (aspect kept,
    antialiased); placed in a 28 x 28 square with its centre of mass at the centre.
    """
    arr = np.asarray(pixels, dtype=np.float32)
    steps: list[str] = []
    if arr.ndim == 3:
        steps.append("turned the colour image grey (MNIST digits are grey)")
    gray = to_gray(arr)
    h, w = gray.shape
    border = np.concatenate([gray[0, :], gray[-1, :], gray[:, 0], gray[:, -1]])
    background = float(np.median(border))
    if background > 0.5:
        gray = 1.0 - gray
        background = 1.0 - background
        steps.append("inverted the colours: the background is light, and MNIST digits are "
                     "white ink on black")
    ink = float(gray.max())
    if ink - background < MIN_CONTRAST:
        steps.append("the image looks blank (no ink stands out from the background), "
                     "so the network gets an empty 28 × 28 square")
        return np.zeros((MNIST_SIDE, MNIST_SIDE), np.float32), steps
    gray = np.clip((gray - background) / (ink - background), 0.0, 1.0)
    if background > 0.02 or ink < 0.98:
        steps.append(f"stretched the contrast: background {background:.2f} → 0, "
                     f"strongest ink {ink:.2f} → 1")
    rows = np.flatnonzero((gray > INK_THRESHOLD).any(axis=1))
    cols = np.flatnonzero((gray > INK_THRESHOLD).any(axis=0))
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    crop = gray[top:bottom, left:right]
    ch, cw = crop.shape
    steps.append(f"cropped to the ink: {ch} × {cw} pixels of the {h} × {w} image")
    factor = MNIST_BOX / max(ch, cw)
    nw, nh = max(1, round(cw * factor)), max(1, round(ch * factor))
    digit = _resize(crop, (nw, nh)) if (nw, nh) != (cw, ch) else crop
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


CIFAR_SIDE = 32


def to_cifar_input(pixels: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Prepare any image for a CIFAR-10 network: 32 x 32 x 3 float32 in [0, 1] and the steps."""
    arr = np.asarray(pixels, dtype=np.float32)
    steps: list[str] = []
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
        steps.append("copied the grey image into the red, green and blue channels")
    elif not (arr.ndim == 3 and arr.shape[2] == 3):
        raise ValueError(f"expected H x W or H x W x 3 pixels, got shape {arr.shape}")
    h, w = arr.shape[:2]
    side = min(h, w)
    if h != w:
        top, left = (h - side) // 2, (w - side) // 2
        arr = arr[top:top + side, left:left + side]
        steps.append(f"cut out the centre square: {h} × {w} → {side} × {side}")
    if side != CIFAR_SIDE:
        arr = np.stack([_resize(arr[..., c], (CIFAR_SIDE, CIFAR_SIDE)) for c in range(3)], axis=2)
        steps.append(f"resized {side} × {side} → {CIFAR_SIDE} × {CIFAR_SIDE} "
                     f"({'shrunk' if side > CIFAR_SIDE else 'enlarged'}, smoothed)")
    return np.ascontiguousarray(arr, dtype=np.float32), steps


# --------------------------------------------------------------------------- samples

SAMPLES_DIR = pathlib.Path(__file__).resolve().parent.parent / "pretrained" / "samples"


@dataclass(frozen=True)
class Sample:
    """One entry of pretrained/samples/samples.json."""
    name: str        # key, e.g. "mnist-3"
    file: str        # file name inside SAMPLES_DIR
    title: str       # for people: "Handwritten 3"
    dataset: str     # "MNIST", "Fashion-MNIST", "CIFAR-10" or "cnnviz"
    label: str       # the dataset's label ("3", "ankle boot", "cat"); "" when none
    source: str      # licence and source


def _read_samples() -> dict[str, Sample]:
    index = SAMPLES_DIR / "samples.json"
    try:
        entries = json.loads(index.read_text(encoding="utf-8"))["samples"]
    except (OSError, ValueError, KeyError):
        return {}
    return {e["name"]: Sample(**{k: e.get(k, "") for k in Sample.__dataclass_fields__})
            for e in entries}


#: name -> Sample, in display order (digits, fashion, photos, shapes).
SAMPLES: dict[str, Sample] = _read_samples()
#: The sample pre-selected when a visitor arrives: a handwritten digit with curves.
DEFAULT_SAMPLE = "mnist-3"


@functools.lru_cache(maxsize=64)
def load_sample(name: str) -> Picture:
    """The Picture of a bundled sample (KeyError names the samples that exist)."""
    if name not in SAMPLES:
        raise KeyError(f"no sample {name!r}; samples: {', '.join(SAMPLES)}")
    sample = SAMPLES[name]
    pic = load_image((SAMPLES_DIR / sample.file).read_bytes(), name=f"sample: {sample.title}")
    if sample.dataset == "cnnviz":
        note = "drawn for cnnviz"
    else:
        note = f"{sample.dataset} test image" + (f", labelled “{sample.label}”" if sample.label else "")
    return Picture(pic.pixels, pic.name, (note,) + pic.notes)
