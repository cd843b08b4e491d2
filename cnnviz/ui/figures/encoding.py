"""Bytes for the browser: PIL images as PNG, or shrunk to their display width and sent as JPEG."""
from __future__ import annotations


def to_png(img, level: int = 1) -> bytes:
    """PNG bytes of a PIL image with light compression (st.image otherwise spends ~20 ms a
    mosaic compressing harder)."""
    import io

    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=level)
    return buf.getvalue()


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

    buf = io.BytesIO()
    img.convert("RGB").save(buf, format="JPEG", quality=90)
    return buf.getvalue()
