"""The upload budget of uploads.load_image: heavy and hostile files load small or are refused.

The heavy cases come from tests/heavy_images.py (shared with benchmarks/bench_uploads.py), built
in a temporary folder; each is loaded in a fresh Python process, whose peak RSS during load_image
is compared with its RSS just before. Times are measured by the benchmark, never asserted here.
"""
from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

import heavy_images
from cnnviz import uploads
from cnnviz.images import ImageError

PEAK_MB = 500
ACCEPTED = "Accepted: PNG, JPEG, GIF, WebP, BMP, TIFF."

# What each case gives: loaded ("load"), or refused with a message holding these words.
OUTCOME = {
    "jpeg_512": "load",
    "png16_gray": "load",                  # 178 MB decoded, then reduced band by band
    "png_palette": "load",
    "png_rgba": "too large",               # 357 MB decoded: over DECODE_BUDGET
    "bmp_rle8": "run-length",
    "tiff_float": "too large",             # one strip: libtiff's strip buffer doubles it
    "tiff_int32": "too large",
    "tiff_pages": "load",
    "gif_frames": "load",
    "webp_still": "too large",             # refused before Pillow opens it
    "webp_canvas": "too large",
    "jpeg_progressive": "load",            # 178 MB of coefficients, decoded at 1/8 scale
    "jpeg_progressive_rgb": "too large",   # 294 MB of coefficients
    "jpeg_scans": "scans",
}


def test_every_case_has_an_expected_outcome():
    assert set(OUTCOME) == set(heavy_images.CASES)


@pytest.fixture(scope="module")
def heavy(tmp_path_factory):
    return heavy_images.write_cases(tmp_path_factory.mktemp("heavy"))


def assert_one_line(message: str, *words: str) -> None:
    assert "\n" not in message and len(message) < 200, message
    assert message.endswith(ACCEPTED), message
    for word in words:
        assert word.lower() in message.lower(), message


@pytest.mark.slow
@pytest.mark.parametrize("name", list(heavy_images.CASES))
def test_heavy_upload_loads_small_or_is_refused_within_the_memory_budget(heavy, name):
    result = heavy_images.probe(heavy[name])
    assert result["peak_mb"] < PEAK_MB, result
    if OUTCOME[name] == "load":
        assert "error" not in result, result
        assert max(result["shape"][:2]) <= 512, result
    else:
        assert "error" in result, result
        assert_one_line(result["error"], OUTCOME[name])


@pytest.mark.slow
def test_the_flagship_16_bit_png_keeps_its_values_and_notes(heavy):
    pic = uploads.load_image(heavy["png16_gray"].read_bytes())
    assert pic.pixels.shape == (512, 512)
    assert pic.notes == ("16-bit values divided by 65535",
                         "downscaled from 9450 × 9450 to 512 × 512 pixels (width × height)")
    row = ((np.arange(9450) * 7) % 65536) / 65535            # every row of the file
    assert np.allclose(pic.pixels, pic.pixels[0], atol=1e-6)  # rows stay equal
    assert abs(float(pic.pixels.mean()) - row.mean()) < 0.01


def test_many_frames_are_not_walked_through(heavy, monkeypatch):
    def walk(self):
        raise AssertionError("n_frames walks every frame")
    from PIL import GifImagePlugin, TiffImagePlugin
    monkeypatch.setattr(TiffImagePlugin.TiffImageFile, "n_frames", property(walk))
    monkeypatch.setattr(GifImagePlugin.GifImageFile, "n_frames", property(walk))
    for name in ("tiff_pages", "gif_frames"):
        pic = uploads.load_image(heavy[name].read_bytes())
        assert pic.pixels.shape == (1, 1)
        assert pic.notes == (f"used the first of more than {uploads.FRAME_COUNT_CAP} frames",)


# --------------------------------------------------------------------------- decided from the header

def png_header_only(width: int, height: int, color_type: int, bit_depth: int = 8) -> bytes:
    """A PNG with a header and no pixel data: only a decoder that reads on would notice."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b""))
            + chunk(b"IEND", b""))


def test_refused_from_the_header_before_any_pixel_is_decoded():
    with pytest.raises(ImageError) as e:
        uploads.load_image(png_header_only(9000, 9000, 6))      # RGBA: 309 MB once decoded
    assert_one_line(str(e.value), "9000 × 9000", "too large", "MB", "limit")
    # the same header at a size within the budget gets as far as the (missing) pixel data
    with pytest.raises(ImageError) as e:
        uploads.load_image(png_header_only(3000, 3000, 6))
    assert_one_line(str(e.value), "damaged")


def test_the_budget_applies_to_every_format(monkeypatch):
    small = Image.fromarray((np.arange(200 * 300).reshape(200, 300) % 251).astype(np.uint8))
    datas = {}
    for fmt in ("PNG", "GIF", "BMP", "TIFF", "WEBP", "JPEG"):
        buf = io.BytesIO()
        small.save(buf, format=fmt)
        datas[fmt] = buf.getvalue()
        assert uploads.load_image(datas[fmt]).pixels.shape[:2] == (200, 300)
    monkeypatch.setattr(uploads, "DECODE_BUDGET", 100_000)
    for fmt, data in datas.items():
        with pytest.raises(ImageError) as e:
            uploads.load_image(data)
        assert_one_line(str(e.value), "300 × 200", "too large")


def test_a_pixel_limit_of_its_own_where_pillows_is_lifted(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    with pytest.raises(ImageError) as e:
        uploads.load_image(png_header_only(10_000, 9_000, 0))     # grey: 86 MB, 90 million pixels
    assert_one_line(str(e.value), "10000 × 9000", "too large", "90,000,000 pixels")


def test_webp_canvas_refused_before_pillow_opens_it(monkeypatch):
    def no_open(*args, **kwargs):
        raise AssertionError("Pillow opened the WebP")
    monkeypatch.setattr(Image, "open", no_open)
    for make in (heavy_images.webp_still, heavy_images.webp_canvas):
        with pytest.raises(ImageError) as e:
            uploads.load_image(make())
        assert_one_line(str(e.value), "9450 × 9450 WebP", "too large")


def test_small_run_length_bmp_still_loads_and_large_ones_are_refused():
    width, height = 40, 3
    rows = b"".join(bytes((width, 7 + y, 0, 0)) for y in range(height)) + b"\x00\x01"
    pic = uploads.load_image(heavy_images.bmp_rle8_header(width, height, len(rows)) + rows)
    assert pic.pixels.shape == (3, 40, 3)
    palette = [(255 - i, (i * 3) % 256, i) for i in (7, 8, 9)]      # BGR entries; rows bottom-up
    np.testing.assert_allclose(pic.pixels[:, 0], np.array(palette[::-1]) / 255, atol=1e-6)
    with pytest.raises(ImageError) as e:
        uploads.load_image(heavy_images.bmp_rle8())
    assert_one_line(str(e.value), "run-length", f"{uploads.RLE_MAX_PIXELS:,} pixels")


def test_many_scans_of_a_progressive_jpeg_are_refused_and_a_few_accepted():
    img = Image.new("RGB", (600, 400), (30, 120, 200))
    buf = io.BytesIO()
    img.save(buf, format="JPEG", progressive=True)
    assert uploads.load_image(buf.getvalue()).pixels.shape == (341, 512, 3)
    with pytest.raises(ImageError) as e:
        uploads.load_image(heavy_images.jpeg_scans())
    assert_one_line(str(e.value), "progressive JPEG", "scans")


# --------------------------------------------------------------------------- reduced as if at full size

H, W = 1000, 1300      # two bands of rows; box-reduced 4 x and 2 x for max_side 100 and 200


def pattern() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:H, 0:W]
    grey = ((xx * 3 + yy * 5 + rng.integers(0, 40, (H, W))) % 256).astype(np.uint8)
    alpha = ((xx // 7 + yy // 11) % 256).astype(np.uint8)
    return grey, alpha


def full_size_reference(img: Image.Image, target: tuple[int, int]) -> np.ndarray:
    """What load_image did before the budget: convert at full size, then Pillow's resize."""
    if img.mode in ("RGBA", "P"):
        rgba = img.convert("RGBA").resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
        arr = np.asarray(rgba, dtype=np.float32) / 255
        return arr[..., :3] * arr[..., 3:] + (1 - arr[..., 3:])
    values = np.asarray(img, dtype=np.float64)
    lo, hi = values.min(), values.max()
    scaled = values / 65535 if img.mode.startswith("I;16") else (values - lo) / (hi - lo)
    small = Image.fromarray(scaled.astype(np.float32), "F").resize(target, Image.Resampling.LANCZOS,
                                                                  reducing_gap=3.0)
    return np.clip(np.asarray(small), 0, 1)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["RGBA", "P with tRNS", "I;16", "F"])
def test_band_reduction_matches_converting_at_full_size(kind):
    grey, alpha = pattern()
    if kind == "RGBA":
        img = Image.fromarray(np.dstack([grey, 255 - grey, grey // 2, alpha]), "RGBA")
        fmt, kw = "PNG", {}
    elif kind == "P with tRNS":
        img = Image.fromarray(np.dstack([grey, 255 - grey, grey // 2])).convert(
            "P", palette=Image.Palette.ADAPTIVE)
        fmt, kw = "PNG", {"transparency": bytes(range(0, 256))}
    elif kind == "I;16":
        img = Image.fromarray(grey.astype(np.uint16) * 201)
        fmt, kw = "PNG", {}
    else:
        img = Image.fromarray(grey.astype(np.float32) * 3.5 - 100, "F")
        fmt, kw = "TIFF", {}
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    for max_side in (100, 200):
        pic = uploads.load_image(buf.getvalue(), max_side=max_side)
        target = (max_side, round(H * max_side / W))
        reference = full_size_reference(Image.open(io.BytesIO(buf.getvalue())), target)
        assert pic.pixels.shape == reference.shape
        np.testing.assert_allclose(pic.pixels, reference, atol=1e-5)
