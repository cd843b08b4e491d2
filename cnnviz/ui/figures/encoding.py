"""Bytes for the browser: PIL images as PNG, or shrunk to their display width and sent as JPEG.

Encoded pictures are kept (ENCODED_BYTES in all, least recently used dropped first) under a
digest of their pixels: a class shows the same pictures again and again (one sample, one
layer, a rerun that changed another view), and under 30 visitors PNG encoding was the largest
single cost left on the server (12 % of its CPU, py-spy). Hashing the pixels costs a tenth of
encoding them.
"""
from __future__ import annotations

import collections
import hashlib
import threading

ENCODED_BYTES = 64 * 2**20
_kept: "collections.OrderedDict[tuple, bytes]" = collections.OrderedDict()
_kept_size = [0]
_lock = threading.Lock()


def _remembered(img, how: tuple, encode) -> bytes:
    digest = hashlib.blake2b(img.tobytes(), digest_size=16)
    if img.mode in ("P", "PA"):                  # the pixels are indices: the palette is the picture too
        digest.update(bytes(img.getpalette() or []))
    key = (img.mode, img.size, how, repr(img.info.get("transparency")), digest.digest())
    with _lock:
        hit = _kept.get(key)
        if hit is not None:
            _kept.move_to_end(key)
            return hit
    data = encode()
    with _lock:
        if key not in _kept and len(data) <= ENCODED_BYTES // 8:
            _kept[key] = data
            _kept_size[0] += len(data)
            while _kept_size[0] > ENCODED_BYTES:
                _kept_size[0] -= len(_kept.popitem(last=False)[1])
    return data


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
