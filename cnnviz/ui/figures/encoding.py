"""Bytes for the browser: PIL images as PNG, or shrunk to their display width and sent as JPEG;
pictures made ready for st.image so that Streamlit passes them on untouched (for_st_image).

Encoded pictures are kept (ENCODED_BYTES in all, least recently used dropped first) under a
digest of their pixels: a class shows the same pictures again and again (one sample, one
layer, a rerun that changed another view), and under 30 visitors PNG encoding was the largest
single cost left on the server (12 % of its CPU, py-spy). Hashing the pixels costs a tenth of
encoding them.
"""
from __future__ import annotations

import hashlib

import numpy as np

from cnnviz.ui.kept import Kept

ENCODED_BYTES = 64 * 2**20
_kept = Kept(ENCODED_BYTES)


def _remembered(img, how: tuple, encode) -> bytes:
    digest = hashlib.blake2b(img.tobytes(), digest_size=16)
    if img.mode in ("P", "PA"):                  # the pixels are indices: the palette is the picture too
        digest.update(bytes(img.getpalette() or []))
    return _cached((img.mode, img.size, how, repr(img.info.get("transparency")), digest.digest()), encode)


def _cached(key, make) -> bytes:
    """The bytes kept under `key`, else make()'s, kept."""
    hit = _kept.get(key)
    if hit is not None:
        return hit
    data = make()
    _kept.put(key, data, len(data))
    return data


def _key_part(value):
    """A hashable stand-in for a builder's argument: arrays by a digest of their bytes."""
    if isinstance(value, np.ndarray):
        return ("array", value.shape, value.dtype.str,
                hashlib.blake2b(np.ascontiguousarray(value).data, digest_size=16).digest())
    if isinstance(value, (list, tuple)):
        return tuple(_key_part(v) for v in value)
    if value is None or isinstance(value, (bool, int, float, str, np.generic)):
        return value
    raise TypeError(f"cannot key a picture on a {type(value).__name__}")


def drawn(builder, *args, width: int | None = None, **kwargs) -> bytes:
    """The encoded bytes of builder(*args, **kwargs) (a PIL image from numbers and settings, such
    as pixel_values_image or pooling_image), as to_png, or as display_bytes at `width`; drawn and
    encoded once per process for the same arguments and colour scheme. A rerun that shows the
    same picture again (another view of the page changed, another visitor on the same sample)
    neither draws nor encodes it: Home's pixel grid took ~50 ms to draw, its PNG's digest ~8 ms."""
    from cnnviz.ui.figures import colours
    key = ("drawn", builder.__module__, builder.__qualname__, width,
           tuple(colours.palette(role) for role in ("viridis", "diverging", "inferno")),
           _key_part(args), tuple(sorted((k, _key_part(v)) for k, v in kwargs.items())))

    def make() -> bytes:
        img = builder(*args, **kwargs)
        return to_png(img) if width is None else display_bytes(img, width)
    return _cached(key, make)


def to_png(img, level: int = 1) -> bytes:
    """PNG bytes of a PIL image with light compression (st.image otherwise spends ~20 ms a
    mosaic compressing harder)."""
    import io

    def encode() -> bytes:
        buf = io.BytesIO()
        img.save(buf, format="PNG", compress_level=level)
        return buf.getvalue()
    return _remembered(img, ("png", level), encode)


def display_bytes(img, width: int) -> bytes:
    """Encoded bytes of a PIL image for st.image(width=width).

    Small maps enlarged cell by cell stay lossless PNG (crisp cells). A picture wider than
    `width` is first shrunk to the width it is shown at (box filter) and sent as JPEG:
    encoding a 512-px map as PNG costs ~40 ms for pixels the browser would drop anyway.
    """
    from PIL import Image

    if img.width <= width:
        return to_png(img)
    shrunk = img.resize((width, max(1, round(img.height * width / img.width))), Image.Resampling.BOX)
    return encode_picture(shrunk, lossy=True)


def encode_picture(img, lossy: bool) -> bytes:
    """JPEG (quality 90) for smoothly shrunk pictures, lightly compressed PNG for crisp ones."""
    if not lossy:
        return to_png(img)
    import io

    def encode() -> bytes:
        buf = io.BytesIO()
        img.convert("RGB").save(buf, format="JPEG", quality=90)
        return buf.getvalue()
    return _remembered(img, ("jpeg", 90), encode)


_PNG_MAGIC, _JPEG_MAGIC = b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff"
ST_IMAGE_MAX_WIDTH = 2 * 730     # streamlit.elements.lib.image_utils.MAXIMUM_CONTENT_WIDTH


def image_format(data: bytes) -> str:
    """"PNG" or "JPEG": what encoded picture bytes are (from their first bytes)."""
    if data.startswith(_PNG_MAGIC):
        return "PNG"
    if data.startswith(_JPEG_MAGIC):
        return "JPEG"
    raise ValueError("not PNG or JPEG bytes")


def for_st_image(picture, width: int | str = "content") -> tuple[bytes, str]:
    """(bytes, "PNG" or "JPEG") to give st.image(bytes, output_format=..., width=width) so that
    Streamlit sends them as they are. Streamlit re-encodes on every run a picture whose
    output_format is "auto" (RGB becomes JPEG: a crisp map turns lossy) or one wider than it is
    shown (int width, else 1460 px): here a PIL image is encoded once (to_png), and a picture too
    wide is shrunk once, as Streamlit would (bilinear, to that width, in its own format)."""
    data = picture if isinstance(picture, bytes) else to_png(picture)
    fmt = image_format(data)
    target = width if isinstance(width, int) else ST_IMAGE_MAX_WIDTH
    if fmt == "PNG":
        natural = int.from_bytes(data[16:20], "big")          # IHDR: width, height
    else:
        import io

        from PIL import Image
        natural = Image.open(io.BytesIO(data)).width
    if target <= 0 or natural <= target:
        return data, fmt
    return _shrunk(data, fmt, target), fmt


def _shrunk(data: bytes, fmt: str, target: int) -> bytes:
    def make() -> bytes:
        import io

        from PIL import Image
        img = Image.open(io.BytesIO(data))
        img = img.resize((target, int(1.0 * img.height * target / img.width)), resample=Image.Resampling.BILINEAR)
        buf = io.BytesIO()
        if fmt == "PNG":
            img.save(buf, format="PNG", compress_level=1)
        else:
            img.convert("RGB").save(buf, format="JPEG", quality=90)
        return buf.getvalue()
    return _cached(("st_image_width", target, hashlib.blake2b(data, digest_size=16).digest()), make)
