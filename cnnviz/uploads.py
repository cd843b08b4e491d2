"""The bytes of an uploaded image file -> a Picture, within a memory and time budget decided
from the file's header before any pixel is decoded (hostile files are refused in one line).

    >>> from cnnviz import uploads
    >>> pic = uploads.load_image(open("cat.jpg", "rb").read(), name="cat.jpg")
    >>> pic.pixels.shape, pic.notes

Pure NumPy/Pillow: this module never imports TensorFlow or Streamlit.
"""
from __future__ import annotations

import io
import re
import struct
import warnings

import numpy as np
from PIL import Image, UnidentifiedImageError

from cnnviz.images import ImageError, Picture

__all__ = ["ACCEPTED", "ACCEPTED_EXTENSIONS", "DECODE_BUDGET", "load_image"]

#: What people may upload, as they would name it.
ACCEPTED = "PNG, JPEG, GIF, WebP, BMP, TIFF"
#: File-name endings for st.file_uploader(type=...).
ACCEPTED_EXTENSIONS = ("png", "jpg", "jpeg", "gif", "webp", "bmp", "tif", "tiff")
# Pillow's format names. MPO is what Pillow calls the JPEG files many phone cameras write;
# it is opened by the JPEG plugin, so it is not passed to Image.open(formats=...).
_PILLOW_FORMATS = ("PNG", "JPEG", "GIF", "WEBP", "BMP", "TIFF")
_ACCEPTED_FORMATS = frozenset(_PILLOW_FORMATS + ("MPO",))


def _fail(what: str) -> ImageError:
    return ImageError(f"{what} Accepted: {ACCEPTED}.")


# --------------------------------------------------------------------------- loading bytes

#: The most memory one upload may take while it is decoded, in bytes: its first frame at full
#: size as Pillow and the format's own library hold it, plus the reduced working copies. It is
#: worked out from the header (size, mode, bits, compression) before any pixel is decoded; an
#: upload that would need more is refused.
DECODE_BUDGET = 256 * 2**20
#: Decoding time grows with the pixels (all of them, at any scale): the most an upload may have.
#: Pillow's default MAX_IMAGE_PIXELS; it holds where that limit has been raised or removed.
MAX_PIXELS = 89_478_485
#: Pillow decodes run-length (RLE) BMPs in Python, one step per pixel or per pair of bytes.
RLE_MAX_PIXELS = 2_000_000
RLE_MAX_BYTES = 2 * 2**20
#: A multi-scan (progressive) JPEG is decoded scan after scan over all its DCT blocks: at most
#: this many blocks x scans (a usual progressive JPEG has 6 to 12 scans; a hostile one thousands).
JPEG_SCAN_BLOCKS = 40_000_000
#: Frames of GIFs and pages of TIFFs are counted up to here, never walked through further.
FRAME_COUNT_CAP = 100

# Pixels converted and reduced at a time (a band of full-width rows: a few MB).
_BAND_PIXELS = 1 << 20
# As Pillow's resize(..., reducing_gap=3.0): box-reduce by a whole factor while the result stays
# at least 3 times the target, then resample the rest with Lanczos.
_REDUCING_GAP = 3.0
# Bytes per pixel Pillow stores for a mode; every other mode takes 4.
_STORED_BYTES = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16L": 2, "I;16B": 2, "I;16N": 2}
# Bytes per reduced pixel for the working copies (a float32 image and two float32 arrays).
_WORK_BYTES = 16
# libwebp's animation decoder (Pillow uses it for every WebP) holds two RGBA canvases, and Pillow
# copies the frame out before decoding it into its own RGBA image: 4 x 4 bytes a pixel (measured).
_WEBP_BYTES = 16
_MODE_WORDS = {"1": "black-and-white", "L": "grey", "LA": "grey + alpha", "La": "grey + alpha",
               "P": "palette", "PA": "palette + alpha", "RGB": "colour", "RGBA": "colour + alpha",
               "RGBa": "colour + alpha", "CMYK": "CMYK", "YCbCr": "colour", "LAB": "Lab", "HSV": "HSV",
               "I": "32-bit integer", "F": "32-bit float"}
_FORMAT_WORDS = {"WEBP": "WebP", "MPO": "JPEG"}
# EXIF orientation -> the transpose that makes the picture upright (as ImageOps.exif_transpose).
_UPRIGHT = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
            4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
            6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_90}


def load_image(data: bytes, max_side: int = 512, name: str = "upload", source: str = "upload") -> Picture:
    """Decode uploaded bytes into a Picture, or raise ImageError with a one-line reason.

    Only PNG, JPEG, GIF, WebP, BMP and TIFF are accepted. Pillow's decompression-bomb limit
    (Image.MAX_IMAGE_PIXELS) applies, and its warning counts as an error too. The EXIF orientation
    is applied; animated or multi-page files give their first frame; the longest side is scaled
    down to max_side. Grayscale modes stay H x W; everything else becomes RGB H x W x 3.

    Memory and time are bounded before anything is decoded: the header tells what decoding the
    first frame will cost, and whatever would need more than DECODE_BUDGET bytes is refused.
    JPEGs decode at 1/2, 1/4 or 1/8 scale (Pillow's draft); other formats decode at full size and
    are converted and box-reduced a band of rows at a time (8-bit or float32, never a full-size
    copy) before the final Lanczos resize. Frames are counted from the file's structure, up to
    FRAME_COUNT_CAP, without decoding them.

    name and source become the Picture's (source: "upload" or "camera"; load_sample says "sample").
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
            _check_webp_header(data)
            img = _open_accepted(data)
            with img:
                frames, more = _count_frames(data, img)
                if frames > 1:
                    notes.append(f"used the first of {'more than ' if more else ''}{frames} frames")
                width, height = img.size
                target = _fit(width, height, max_side)
                extra = 0
                if img.format in ("JPEG", "MPO"):
                    extra = _jpeg_coefficient_bytes(img, data)   # from the full size
                    _check_jpeg_scans(data, extra, (width, height))
                    # Decode big JPEGs at a reduced scale (still >= max_side on each side).
                    img.draft(None, (max_side, max_side))
                _check_budget(img, data, target, extra, (width, height))
                img.load()
                orientation = img.getexif().get(0x0112, 1)
                work, box, scaling = _reduce(img, target)
            if orientation in _UPRIGHT:
                notes.append("turned upright using the camera's orientation tag")
            if work.mode == "F":
                work, scale_note = _scale_high_bit(work, scaling)
                if scale_note:
                    notes.append(scale_note)
            if work.size != target:
                work = work.resize(target, Image.Resampling.LANCZOS, box=box)
            if work.mode in ("La", "RGBa"):
                work = work.convert({"La": "LA", "RGBa": "RGBA"}[work.mode])
            if orientation in _UPRIGHT:
                work = work.transpose(_UPRIGHT[orientation])
                if orientation >= 5:
                    width, height = height, width
            pixels, more_notes = _to_float(work)
            notes.extend(more_notes)
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
    return Picture(pixels, name, tuple(notes), source)


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


def _megabytes(n: int) -> str:
    return f"{n / 2**20:,.0f} MB"


def _too_costly(kind: str, size: tuple[int, int], cost: int) -> ImageError:
    return _fail(f"This {size[0]} × {size[1]} {kind} is too large to decode safely here (it needs about "
                 f"{_megabytes(cost)}; the limit is {_megabytes(DECODE_BUDGET)}).")


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


# --------------------------------------------------------------------------- the budget, from headers

def _fit(width: int, height: int, max_side: int) -> tuple[int, int]:
    """The size the picture will have: the longest side scaled down to max_side, aspect kept."""
    if max(width, height) <= max_side:
        return width, height
    factor = max_side / max(width, height)
    return max(1, round(width * factor)), max(1, round(height * factor))


def _factors(size: tuple[int, int], target: tuple[int, int]) -> tuple[int, int]:
    """Whole box-reduction factors (x, y), as Pillow's resize picks them with reducing_gap=3."""
    if size == target:
        return 1, 1
    return (max(1, int(size[0] / target[0] / _REDUCING_GAP)),
            max(1, int(size[1] / target[1] / _REDUCING_GAP)))


def _kind(img: Image.Image) -> str:
    """'16-bit grey PNG', 'colour + alpha WebP', ...: what an upload is, for people."""
    mode = "16-bit grey" if img.mode.startswith("I;16") else _MODE_WORDS.get(img.mode, img.mode)
    fmt = _FORMAT_WORDS.get(img.format or "", img.format or "image")
    if fmt == "JPEG" and img.info.get("progressive"):
        fmt = "progressive JPEG"
    return f"{mode} {fmt}"


def _check_webp_header(data: bytes) -> None:
    """Refuse a WebP whose canvas is over the budget before Pillow opens it.

    Pillow's WebP plugin hands the file to libwebp's animation decoder as it opens it, and that
    decoder sizes its canvases from the header: the size is read here, from the first chunk.
    """
    if len(data) < 30 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return
    chunk, body = data[12:16], data[20:]
    if chunk == b"VP8X":
        size = (1 + int.from_bytes(body[4:7], "little"), 1 + int.from_bytes(body[7:10], "little"))
    elif chunk == b"VP8L" and body[0] == 0x2F:
        bits = int.from_bytes(body[1:5], "little")
        size = (1 + (bits & 0x3FFF), 1 + (bits >> 14 & 0x3FFF))
    elif chunk == b"VP8 " and body[3:6] == b"\x9d\x01\x2a":
        size = (int.from_bytes(body[6:8], "little") & 0x3FFF, int.from_bytes(body[8:10], "little") & 0x3FFF)
    else:
        return                                   # Pillow will say what is wrong with it
    cost = size[0] * size[1] * _WEBP_BYTES
    if cost > DECODE_BUDGET:
        raise _too_costly("WebP", size, cost)


def _jpeg_coefficient_bytes(img: Image.Image, data: bytes) -> int:
    """Memory libjpeg keeps for a multi-scan JPEG, whatever the scale it decodes at.

    A progressive JPEG, or one whose first scan holds only some of the colour components, is
    decoded from a buffer of all its DCT coefficients: 2 bytes for each of every component's
    samples, at full size. A single-scan (baseline) JPEG needs no such buffer: 0.
    """
    layers, first_scan = _jpeg_layout(data)
    if not layers or not (img.info.get("progressive") or first_scan < len(layers)):
        return 0
    width, height = img.size
    h_max, v_max = max(h for h, _ in layers), max(v for _, v in layers)
    total = 0
    for h, v in layers:
        blocks_x = -(-(-(-width * h // h_max)) // 8)
        blocks_y = -(-(-(-height * v // v_max)) // 8)
        total += (-(-blocks_x // h) * h) * (-(-blocks_y // v) * v) * 64 * 2
    return total


def _check_jpeg_scans(data: bytes, coefficient_bytes: int, size: tuple[int, int]) -> None:
    """Refuse a multi-scan JPEG with so many scans that decoding them would take seconds.

    Every scan passes over the image's blocks (even one that codes nothing but end-of-band runs,
    a few bytes each), so time grows with blocks x scans. Scans are counted by their SOS markers,
    which entropy-coded data cannot contain (an embedded thumbnail's count too: a harmless excess).
    """
    if not coefficient_bytes:
        return
    blocks = coefficient_bytes // 128
    scans = data.count(b"\xff\xda")
    if scans * blocks > JPEG_SCAN_BLOCKS:
        raise _fail(f"This {size[0]} × {size[1]} progressive JPEG has {scans:,} scans, too many to "
                    f"decode quickly here (at most {max(1, JPEG_SCAN_BLOCKS // blocks):,} at this size).")


_JPEG_FRAMES = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}   # SOF0-SOF15: not DHT, JPG, DAC


def _jpeg_layout(data: bytes) -> tuple[list[tuple[int, int]], int]:
    """A JPEG's colour components as their sampling factors (h, v), from its first frame header
    (SOF), and how many components its first scan (SOS) holds (255 if unknown).

    Read from the file's own bytes: Pillow keeps the sampling factors only in an undocumented
    attribute (JpegImageFile.layer).
    """
    layers: list[tuple[int, int]] = []
    pos = 2
    while pos + 4 < len(data):
        if data[pos] != 0xFF:
            break
        marker = data[pos + 1]
        if marker == 0xFF or marker == 0x01 or 0xD0 <= marker <= 0xD8:
            pos += 1 if marker == 0xFF else 2
            continue
        body = pos + 4     # after the marker and the segment's length
        if marker == 0xDA:
            return layers, data[body]
        if marker in _JPEG_FRAMES and not layers and body + 6 <= len(data):
            count = data[body + 5]        # after precision (1 byte), height and width (2 each)
            factors = data[body + 6:body + 6 + 3 * count][1::3]     # id, h << 4 | v, table: each
            layers = [(max(1, f >> 4), max(1, f & 15)) for f in factors]
        pos += 2 + int.from_bytes(data[pos + 2:pos + 4], "big")
    return layers, 255


def _check_budget(img: Image.Image, data: bytes, target: tuple[int, int], extra: int,
                  size: tuple[int, int]) -> None:
    """Refuse (ImageError) an opened image whose first frame would cost more than DECODE_BUDGET.

    Reads only the header: img.size (after a JPEG's draft), its mode, and the format's own buffers
    (extra: a multi-scan JPEG's coefficients; a compressed TIFF's strip or tile; a WebP's canvases;
    Pillow's copies of a run-length BMP), plus the reduced working copies. size: the file's own
    size, for the message.
    """
    if size[0] * size[1] > MAX_PIXELS:
        raise _fail(f"This {size[0]} × {size[1]} {_kind(img)} is too large to decode quickly here "
                    f"({size[0] * size[1]:,} pixels; the limit is {MAX_PIXELS:,}).")
    width, height = img.size
    if img.format == "BMP" and img.info.get("compression") in (1, 2):    # RLE8, RLE4
        if width * height > RLE_MAX_PIXELS or len(data) > RLE_MAX_BYTES:
            raise _fail(f"This {size[0]} × {size[1]} run-length (RLE) BMP is too large to decode safely "
                        f"here; the limit is {RLE_MAX_PIXELS:,} pixels and "
                        f"{_megabytes(RLE_MAX_BYTES)} for such BMPs.")
        extra += 2 * width * height              # Pillow's bytearray and its bytes copy
    if img.format == "WEBP":
        stored = width * height * _WEBP_BYTES
    else:
        stored = width * height * _STORED_BYTES.get(img.mode, 4)
    if img.format == "TIFF":
        extra += _tiff_buffer_bytes(img, len(data))
    kx, ky = _factors(img.size, target)
    work = -(-width // kx) * -(-height // ky) * _WORK_BYTES
    cost = stored + extra + work
    if cost > DECODE_BUDGET:
        raise _too_costly(_kind(img), size, cost)


def _tiff_buffer_bytes(img: Image.Image, file_size: int) -> int:
    """What libtiff holds besides Pillow's image: one decoded strip or tile, and the raw one."""
    tags = img.tag_v2
    if tags.get(259, 1) == 1:                    # uncompressed: Pillow reads it straight in
        return 0
    per_sample = tags.get(258, (1,))
    per_sample = per_sample if isinstance(per_sample, tuple) else (per_sample,)
    bits = sum(per_sample) if len(per_sample) > 1 else int(per_sample[0]) * int(tags.get(277, 1))
    width, height = img.size
    if 322 in tags and 323 in tags:              # tiled
        w, h = int(tags[322]), int(tags[323])
    else:
        w, h = width, min(height, int(tags.get(278, height)))
    return -(-w * bits // 8) * h + file_size


def _count_frames(data: bytes, img: Image.Image) -> tuple[int, bool]:
    """(frames, more): how many frames the file holds, or (FRAME_COUNT_CAP, True) if more.

    Read from the file's structure without decoding: GIF blocks and TIFF directories are walked
    up to the cap (Pillow's n_frames walks them all, and decodes GIF frames on the way);
    PNG (APNG) and WebP state the number in their header.
    """
    if img.format == "GIF":
        frames = _count_gif_frames(data)
    elif img.format == "TIFF":
        frames = _count_tiff_pages(data)
    elif img.format == "MPO":                    # a phone's second view: not frames to mention
        return 1, False
    else:
        return max(1, int(getattr(img, "n_frames", 1))), False
    return (FRAME_COUNT_CAP, True) if frames > FRAME_COUNT_CAP else (max(1, frames), False)


def _count_gif_frames(data: bytes) -> int:
    """Image descriptors in a GIF, counting stops past FRAME_COUNT_CAP (or where the file breaks)."""
    def skip_sub_blocks(pos: int) -> int:
        while pos < len(data):
            size = data[pos]
            pos += 1 + size
            if size == 0:
                break
        return pos

    count, pos = 0, 13
    if len(data) > 10 and data[10] & 0x80:
        pos += 3 << ((data[10] & 7) + 1)
    while pos < len(data) and count <= FRAME_COUNT_CAP:
        block = data[pos]
        if block == 0x21:                         # extension: label, then sub-blocks
            pos = skip_sub_blocks(pos + 2)
        elif block == 0x2C and pos + 10 <= len(data):  # image: descriptor, [palette], LZW size, data
            count += 1
            flags = data[pos + 9]
            pos += 10 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
            pos = skip_sub_blocks(pos + 1)
        else:                                     # the trailer (0x3B) or anything broken
            break
    return count


def _count_tiff_pages(data: bytes) -> int:
    """Image file directories in a TIFF chain, counting stops past FRAME_COUNT_CAP."""
    order = {b"II": "<", b"MM": ">"}.get(data[:2])
    if order is None:
        return 1
    big = struct.unpack(order + "H", data[2:4])[0] == 43          # BigTIFF
    entry, count_fmt, offset_fmt = (20, "Q", "Q") if big else (12, "H", "I")
    count_size = struct.calcsize(order + count_fmt)
    seen: set[int] = set()
    try:
        offset = struct.unpack_from(order + offset_fmt, data, 8 if big else 4)[0]
        while offset and offset not in seen and len(seen) <= FRAME_COUNT_CAP:
            seen.add(offset)
            entries = struct.unpack_from(order + count_fmt, data, offset)[0]
            offset = struct.unpack_from(order + offset_fmt, data, offset + count_size + entries * entry)[0]
    except struct.error:                          # cut short: count what was there
        pass
    return max(1, len(seen))


# --------------------------------------------------------------------------- decoding small

def _working_mode(img: Image.Image) -> str:
    """The mode a decoded frame is converted to: L, LA, RGB, RGBA, or F for 16/32-bit and float."""
    mode = img.mode
    if mode == "P":
        if "transparency" in img.info or img.palette is not None and img.palette.mode == "RGBA":
            return "RGBA"
        return "L" if _grey_palette(img) else "RGB"  # a grey palette is a grey image
    if mode in ("PA", "RGBa"):
        return "RGBA"
    if mode == "La":
        return "LA"
    if mode in ("L", "RGB") and "transparency" in img.info:
        return "LA" if mode == "L" else "RGBA"
    if mode == "1":
        return "L"
    if mode in ("I", "F") or mode.startswith("I;16"):
        return "F"
    if mode in ("L", "LA", "RGB", "RGBA"):
        return mode
    return "RGB"                                  # CMYK, YCbCr, LAB, HSV, ...


def _grey_palette(img: Image.Image) -> bool:
    """Whether every palette entry a P image uses is grey (read from its histogram, not its pixels)."""
    palette = img.getpalette("RGB") or []
    for index, count in enumerate(img.histogram()[:256]):
        if count and index * 3 + 2 < len(palette):
            r, g, b = palette[index * 3:index * 3 + 3]
            if not r == g == b:
                return False
    return True


def _reduce(img: Image.Image, target: tuple[int, int]) -> tuple[Image.Image, tuple | None, tuple]:
    """A decoded frame -> (small working image, box for the final resize, how to scale it).

    The frame is converted to its working mode and box-reduced a band of full-width rows at a
    time, so no full-size copy of it is ever made: 8-bit modes stay 8-bit (premultiplied La/RGBa
    when alpha will be resampled, as Pillow's resize does), 16/32-bit and float frames become
    float32 F bands, unscaled, while their range and finiteness are gathered for _scale_high_bit.
    """
    width, height = img.size
    work = _working_mode(img)
    resampled = img.size != target
    if resampled and work in ("LA", "RGBA"):
        work = {"LA": "La", "RGBA": "RGBa"}[work]
    kx, ky = _factors(img.size, target)
    rows = max(ky, _BAND_PIXELS // width // ky * ky)
    out = Image.new(work, (-(-width // kx), -(-height // ky)))
    lo, hi = np.inf, -np.inf
    lut = _palette_lut(img, work) if img.mode == "P" and work in _LUT_RAWMODES else None
    for top in range(0, height, rows):
        band = img.crop((0, top, width, min(height, top + rows)))
        if work == "F":
            if band.mode == "F":
                arr = np.asarray(band)
                if not np.isfinite(arr).all():
                    raise _fail("The image has pixel values that are not numbers (NaN or infinity).")
                extrema = float(arr.min()), float(arr.max())
            elif band.mode in ("I", "I;16"):
                extrema = band.getextrema() if band.mode == "I" else (0, 65535)
                band = band.convert("F")
            else:                                    # I;16B, I;16L, I;16N
                arr = np.asarray(band)
                extrema = int(arr.min()), int(arr.max())
                band = Image.fromarray(arr.astype(np.float32), mode="F")
            lo, hi = min(lo, float(extrema[0])), max(hi, float(extrema[1]))
        elif lut is not None:                        # palette -> colours by table lookup
            pixels = lut[np.asarray(band)]
            band = Image.frombuffer(work, band.size, pixels, "raw", _LUT_RAWMODES[work], 0, 1)
        else:
            straight = {"La": "LA", "RGBa": "RGBA"}.get(work, work)
            if band.mode != straight:
                band = band.convert(straight)       # keeps the palette's or colour key's alpha
            if band.mode != work:
                band = band.convert(work)           # premultiplied, to be resampled
        if (kx, ky) != (1, 1):
            band = band.reduce((kx, ky))
        out.paste(band, (0, top // ky))
    box = (0.0, 0.0, width / kx, height / ky) if (kx, ky) != (1, 1) else None
    return out, box, (img.mode, lo, hi)


_LUT_RAWMODES = {"RGB": "RGBX", "RGBA": "RGBA", "RGBa": "RGBa"}


def _palette_lut(img: Image.Image, work: str) -> np.ndarray:
    """A P image's palette as 256 four-byte pixels of the working mode (uint32 each).

    What convert("RGB"/"RGBA") and then "RGBa" (premultiplied) give, in one lookup: the palette's
    alpha and the transparency in img.info (one index, or bytes of alphas) applied, entries past
    the palette black and opaque, colours multiplied by alpha and rounded as Pillow does.
    """
    entries = np.asarray(img.getpalette("RGBA") or [], dtype=np.uint32).reshape(-1, 4)[:256]
    table = np.zeros((256, 4), np.uint32)
    table[:, 3] = 255
    table[:len(entries)] = entries
    transparency = img.info.get("transparency")
    if work != "RGB" and isinstance(transparency, int) and 0 <= transparency < 256:
        table[transparency, 3] = 0
    elif work != "RGB" and isinstance(transparency, bytes):
        alphas = np.frombuffer(transparency[:256], np.uint8)
        table[:len(alphas), 3] = alphas
    if work == "RGB":
        table[:, 3] = 255
    elif work == "RGBa":
        products = table[:, :3] * table[:, 3:] + 128
        table[:, :3] = (products + (products >> 8)) >> 8
    return np.ascontiguousarray(table.astype(np.uint8)).view(np.uint32)[:, 0]


def _scale_high_bit(img: Image.Image, source: tuple) -> tuple[Image.Image, str | None]:
    """A reduced F image of 16/32-bit or float values -> F in [0, 1], and a note on how.

    source: (the original mode, its smallest and largest value over the full-size frame).
    Box reduction and these linear maps commute, so scaling after reducing is what scaling the
    full frame would give.
    """
    mode, lo, hi = source
    arr = np.array(img, dtype=np.float32)
    if mode.startswith("I;16") or (mode == "I" and lo >= 0 and hi <= 65535):
        arr /= np.float32(65535.0)
        note = "16-bit values divided by 65535"
    elif mode == "F" and lo >= 0 and hi <= 1:
        note = None
    elif hi > lo:
        arr -= np.float32(lo)
        arr /= np.float32(hi - lo)
        note = f"values from {lo:g} to {hi:g} stretched to 0–1"
    else:
        arr[...] = 0.0
        note = f"every pixel is {lo:g}: shown as 0"
    return Image.fromarray(arr, mode="F"), note


def _to_float(img: Image.Image) -> tuple[np.ndarray, list[str]]:
    """A small L, LA, RGB, RGBA or F image -> float32 [0, 1], H x W or H x W x 3 (alpha on white)."""
    notes: list[str] = []
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
