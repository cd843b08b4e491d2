"""cnnviz.images, uploads, model_input and samples: decoding uploads, canvas drawings, conversions,
model-input preprocessing and the bundled samples."""
from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest
from PIL import Image

from cnnviz import data, images, model_input, samples, uploads
from cnnviz.images import ImageError, Picture


def encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def ramp(h=20, w=30) -> np.ndarray:
    """An H x W uint8 ramp with distinct values."""
    return ((np.arange(h * w).reshape(h, w) * 7) % 256).astype(np.uint8)


def rgb_ramp(h=20, w=30) -> np.ndarray:
    g = ramp(h, w)
    return np.stack([g, 255 - g, (g // 2 + 60)], axis=2).astype(np.uint8)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header(width: int, height: int) -> bytes:
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))


def assert_readable_error(excinfo, *words):
    msg = str(excinfo.value)
    assert "\n" not in msg and len(msg) < 200, msg
    assert "Accepted: PNG, JPEG, GIF, WebP, BMP, TIFF" in msg, msg
    for w in words:
        assert w.lower() in msg.lower(), msg


# --------------------------------------------------------------------------- formats and modes

@pytest.mark.parametrize("fmt", ["PNG", "GIF", "BMP", "TIFF", "WEBP"])
def test_grayscale_lossless_formats_keep_values(fmt):
    g = ramp()
    kw = {"lossless": True} if fmt == "WEBP" else {}
    pic = uploads.load_image(encode(Image.fromarray(g), fmt, **kw), name="x")
    if fmt == "WEBP":  # WebP stores colour; grey comes back as RGB with equal channels
        assert pic.pixels.shape == (20, 30, 3)
        np.testing.assert_allclose(pic.pixels[..., 0], g / 255, atol=1e-6)
    else:
        assert pic.pixels.shape == (20, 30)
        np.testing.assert_allclose(pic.pixels, g / 255, atol=1e-6)
    assert pic.pixels.dtype == np.float32 and pic.name == "x"


@pytest.mark.parametrize("fmt", ["PNG", "BMP", "TIFF", "WEBP"])
def test_rgb_lossless_formats_keep_values(fmt):
    c = rgb_ramp()
    kw = {"lossless": True} if fmt == "WEBP" else {}
    pic = uploads.load_image(encode(Image.fromarray(c), fmt, **kw))
    assert pic.pixels.shape == (20, 30, 3)
    np.testing.assert_allclose(pic.pixels, c / 255, atol=1e-6)


@pytest.mark.parametrize("mode", ["L", "RGB", "CMYK"])
def test_jpeg_modes(mode):
    c = Image.fromarray(rgb_ramp(40, 40)).convert(mode)
    data = encode(c, "JPEG", quality=95)
    pic = uploads.load_image(data)
    expected = np.asarray(Image.open(io.BytesIO(data)).convert("L" if mode == "L" else "RGB")) / 255
    assert pic.pixels.shape == expected.shape
    np.testing.assert_allclose(pic.pixels, expected, atol=1e-6)


def test_mode_1_bilevel():
    bits = ramp() > 128
    pic = uploads.load_image(encode(Image.fromarray(bits), "PNG"))
    assert pic.pixels.shape == (20, 30)
    np.testing.assert_array_equal(pic.pixels, bits.astype(np.float32))


def test_palette_grey_stays_2d_and_colour_palette_is_rgb():
    grey_p = Image.fromarray(ramp()).convert("P")
    pic = uploads.load_image(encode(grey_p, "GIF"))
    assert pic.pixels.ndim == 2
    colour_p = Image.fromarray(rgb_ramp()).convert("P", palette=Image.Palette.ADAPTIVE)
    pic = uploads.load_image(encode(colour_p, "PNG"))
    assert pic.pixels.shape == (20, 30, 3)
    np.testing.assert_allclose(pic.pixels, np.asarray(colour_p.convert("RGB")) / 255, atol=1e-6)


def test_palette_transparency_composited_on_white():
    p = Image.new("P", (4, 4), 0)
    p.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    p.putpixel((1, 1), 1)
    pic = uploads.load_image(encode(p, "PNG", transparency=0))
    assert pic.pixels.shape == (4, 4, 3)
    np.testing.assert_allclose(pic.pixels[1, 1], [1, 0, 0])      # the opaque red pixel
    np.testing.assert_allclose(pic.pixels[0, 0], [1, 1, 1])      # transparent -> white
    assert any("white" in n for n in pic.notes)


def test_rgba_and_la_alpha_composited_on_white():
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[0, 0] = [255, 0, 0, 255]       # opaque red
    rgba[0, 1] = [0, 0, 0, 0]           # transparent -> white
    rgba[1, 0] = [0, 0, 0, 128]         # half black -> mid grey
    rgba[1, 1] = [0, 0, 255, 255]
    pic = uploads.load_image(encode(Image.fromarray(rgba, "RGBA"), "PNG"))
    np.testing.assert_allclose(pic.pixels[0, 0], [1, 0, 0], atol=1e-6)
    np.testing.assert_allclose(pic.pixels[0, 1], [1, 1, 1], atol=1e-6)
    np.testing.assert_allclose(pic.pixels[1, 0], [1 - 128 / 255] * 3, atol=1e-6)
    la = Image.fromarray(np.array([[[0, 255], [0, 0]]], np.uint8), "LA")
    pic = uploads.load_image(encode(la, "PNG"))
    assert pic.pixels.shape == (1, 2)
    np.testing.assert_allclose(pic.pixels, [[0, 1]], atol=1e-6)


def test_opaque_rgba_has_no_transparency_note():
    rgba = np.dstack([rgb_ramp(), np.full((20, 30), 255, np.uint8)])
    pic = uploads.load_image(encode(Image.fromarray(rgba, "RGBA"), "PNG"))
    np.testing.assert_allclose(pic.pixels, rgb_ramp() / 255, atol=1e-6)
    assert not any("white" in n for n in pic.notes)


def test_16_bit_png_and_tiff_scaled_by_65535():
    v = np.array([[0, 256, 32768, 65535]], np.uint16)
    for fmt in ("PNG", "TIFF"):
        img = Image.fromarray(v)
        pic = uploads.load_image(encode(img, fmt))
        assert pic.pixels.shape == (1, 4)
        np.testing.assert_allclose(pic.pixels, v / 65535, atol=1e-6)


def test_32_bit_integer_and_float_tiffs():
    small = Image.fromarray(np.array([[0, 1000, 65535]], np.int32), "I")
    np.testing.assert_allclose(uploads.load_image(encode(small, "TIFF")).pixels, [[0, 1000 / 65535, 1]],
                               atol=1e-6)
    wide = Image.fromarray(np.array([[-100, 0, 100]], np.int32), "I")
    pic = uploads.load_image(encode(wide, "TIFF"))
    np.testing.assert_allclose(pic.pixels, [[0, 0.5, 1]], atol=1e-6)
    assert any("stretched" in n for n in pic.notes)
    unit = Image.fromarray(np.array([[0.0, 0.25, 1.0]], np.float32), "F")
    np.testing.assert_allclose(uploads.load_image(encode(unit, "TIFF")).pixels, [[0, 0.25, 1]], atol=1e-6)
    big = Image.fromarray(np.array([[2.0, 4.0, 6.0]], np.float32), "F")
    np.testing.assert_allclose(uploads.load_image(encode(big, "TIFF")).pixels, [[0, 0.5, 1]], atol=1e-6)
    nan = Image.fromarray(np.array([[np.nan, 1.0]], np.float32), "F")
    with pytest.raises(ImageError) as e:
        uploads.load_image(encode(nan, "TIFF"))
    assert_readable_error(e, "not numbers")


def test_cmyk_tiff():
    c = Image.fromarray(rgb_ramp()).convert("CMYK")
    pic = uploads.load_image(encode(c, "TIFF"))
    np.testing.assert_allclose(pic.pixels, np.asarray(c.convert("RGB")) / 255, atol=1e-6)


def test_webp_with_alpha():
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., 3] = 0
    rgba[2:4, 2:4] = [0, 0, 0, 255]
    pic = uploads.load_image(encode(Image.fromarray(rgba, "RGBA"), "WEBP", lossless=True))
    assert pic.pixels.shape == (8, 8, 3)
    assert pic.pixels[0, 0].min() > 0.99 and pic.pixels[2, 2].max() < 0.01


# --------------------------------------------------------------------------- orientation, frames, size

def test_exif_orientation_applied():
    stored = np.zeros((20, 40, 3), np.uint8)   # 40 wide, 20 tall as stored
    stored[:, :10] = 255                       # left band white
    img = Image.fromarray(stored)
    exif = Image.Exif()
    exif[0x0112] = 6                           # rotate 90° clockwise to display
    pic = uploads.load_image(encode(img, "JPEG", exif=exif.tobytes(), quality=95))
    assert pic.pixels.shape == (40, 20, 3)     # now tall
    assert pic.pixels[:10].mean() > 0.9        # the left band is now at the top
    assert pic.pixels[20:].mean() < 0.1
    assert any("upright" in n for n in pic.notes)


def test_animated_gif_uses_first_frame_with_note():
    frames = [Image.fromarray(np.full((10, 12), v, np.uint8)).convert("P") for v in (40, 200, 120)]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    pic = uploads.load_image(data)
    assert pic.pixels.shape == (10, 12)
    np.testing.assert_allclose(pic.pixels, 40 / 255, atol=1e-6)
    assert "used the first of 3 frames" in pic.notes


def test_multipage_tiff_and_animated_webp():
    pages = [Image.fromarray(np.full((6, 6), v, np.uint8)) for v in (10, 250)]
    pic = uploads.load_image(encode(pages[0], "TIFF", save_all=True, append_images=pages[1:]))
    np.testing.assert_allclose(pic.pixels, 10 / 255, atol=1e-6)
    assert "used the first of 2 frames" in pic.notes
    rgb = [Image.fromarray(np.full((6, 6, 3), v, np.uint8)) for v in (10, 250)]
    pic = uploads.load_image(encode(rgb[0], "WEBP", save_all=True, append_images=rgb[1:], lossless=True))
    assert "used the first of 2 frames" in pic.notes
    assert abs(float(pic.pixels.mean()) - 10 / 255) < 0.02


def test_downscale_keeps_aspect_and_notes_it():
    img = Image.fromarray(np.tile(ramp(), (25, 50)))   # 500 x 1500
    pic = uploads.load_image(encode(img, "PNG"), max_side=300)
    assert pic.pixels.shape == (100, 300)
    assert any("downscaled from 1500 × 500 to 300 × 100" in n for n in pic.notes)
    assert pic.pixels.min() >= 0 and pic.pixels.max() <= 1
    big_jpeg = encode(Image.fromarray(np.tile(rgb_ramp(), (60, 40, 1))), "JPEG")  # 1200 x 1200
    pic = uploads.load_image(big_jpeg)
    assert pic.pixels.shape == (512, 512, 3)
    assert any("from 1200 × 1200" in n for n in pic.notes)
    thin = Image.fromarray(np.zeros((1, 3000), np.uint8))
    assert uploads.load_image(encode(thin, "PNG")).pixels.shape == (1, 512)


def test_small_images_untouched():
    pic = uploads.load_image(encode(Image.fromarray(ramp(1, 1)), "PNG"))
    assert pic.pixels.shape == (1, 1) and pic.notes == ()


# --------------------------------------------------------------------------- bad inputs

def test_empty_bytes():
    with pytest.raises(ImageError) as e:
        uploads.load_image(b"")
    assert_readable_error(e, "empty")


def test_text_is_not_an_image():
    with pytest.raises(ImageError) as e:
        uploads.load_image(b"hello, this is a text file and not a picture\n" * 3)
    assert_readable_error(e, "not an image", "text")


def test_not_bytes():
    with pytest.raises(ImageError):
        uploads.load_image("cat.png")  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "WEBP", "BMP", "TIFF"])
def test_truncated_files(fmt):
    data = encode(Image.fromarray(rgb_ramp(64, 64)).convert("L" if fmt == "GIF" else "RGB"), fmt)
    with pytest.raises(ImageError) as e:
        uploads.load_image(data[: len(data) // 2])
    assert_readable_error(e)
    assert isinstance(e.value, ValueError)


def test_corrupt_png_data():
    data = bytearray(encode(Image.fromarray(rgb_ramp(64, 64)), "PNG"))
    data[60:120] = b"\x00" * 60          # damage the compressed pixel data and its CRC
    with pytest.raises(ImageError) as e:
        uploads.load_image(bytes(data))
    assert_readable_error(e, "damaged")


def test_decompression_bomb_error_from_header():
    # a 100000 x 100000 PNG header: Pillow refuses it before decoding anything
    data = png_header(100_000, 100_000) + png_chunk(b"IEND", b"")
    with pytest.raises(ImageError) as e:
        uploads.load_image(data)
    assert_readable_error(e, "too large")
    assert "10,000,000,000 pixels" in str(e.value)


def test_decompression_bomb_warning_is_an_error(monkeypatch):
    data = encode(Image.fromarray(ramp(100, 100)), "PNG")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 6000)  # 10000 px: a warning, not yet Pillow's error
    with pytest.raises(ImageError) as e:
        uploads.load_image(data)
    assert_readable_error(e, "too large", "6,000")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 4000)  # 10000 > 2 * 4000: Pillow's error
    with pytest.raises(ImageError):
        uploads.load_image(data)


def test_decompression_bomb_limit_applies_to_animated_gifs(monkeypatch):
    frames = [Image.fromarray(np.full((100, 100), v, np.uint8)).convert("P") for v in (1, 2)]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:])
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 6000)
    with pytest.raises(ImageError):
        uploads.load_image(data)


@pytest.mark.parametrize("fmt,word", [("ICO", "ICO"), ("PPM", "PPM"), ("TGA", "not an image"),
                                      ("PCX", "not an image")])
def test_formats_pillow_reads_but_we_do_not_accept(fmt, word):
    data = encode(Image.fromarray(rgb_ramp(16, 16)), fmt)
    with pytest.raises(ImageError) as e:
        uploads.load_image(data)
    assert_readable_error(e, word)


@pytest.mark.parametrize("data,word", [
    (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n", "PDF"),
    (b"8BPS\x00\x01" + b"\x00" * 60, "Photoshop"),
    (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00" + b"\x00" * 40, "HEIC"),
    (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "SVG"),
    (bytes(range(256)) * 4, "not an image"),
])
def test_formats_we_cannot_read(data, word):
    with pytest.raises(ImageError) as e:
        uploads.load_image(data)
    assert_readable_error(e, word)


def test_zero_size_images():
    data = png_header(0, 5) + png_chunk(b"IDAT", zlib.compress(b"")) + png_chunk(b"IEND", b"")
    with pytest.raises(ImageError) as e:
        uploads.load_image(data)
    assert_readable_error(e)
    gif = bytearray(encode(Image.fromarray(ramp(4, 4)).convert("P"), "GIF"))
    gif[6:10] = b"\x00\x00\x00\x00"      # logical screen 0 x 0: Pillow takes the frame's 4 x 4
    pic = uploads.load_image(bytes(gif))
    np.testing.assert_allclose(pic.pixels, ramp(4, 4) / 255, atol=1e-6)


def test_error_is_value_error_and_one_line_for_very_short_input():
    with pytest.raises(ValueError) as e:
        uploads.load_image(b"\x89PNG")
    assert_readable_error(e)


def test_load_image_never_imports_tensorflow_or_streamlit():
    code = ("import sys; from cnnviz import images, model_input, samples, uploads; "
            "assert 'tensorflow' not in sys.modules and 'streamlit' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------------------------- Picture, canvas, conversions

def test_picture_is_float32_read_only_and_validated():
    pic = Picture(np.zeros((3, 4), np.float64), "x", ["a"])
    assert pic.pixels.dtype == np.float32 and pic.notes == ("a",)
    with pytest.raises(ValueError):
        pic.pixels[0, 0] = 1
    assert Picture(np.zeros((3, 4, 3)), "c").shape_text == "3 × 4 × 3"
    with pytest.raises(ValueError):
        Picture(np.zeros((3, 4, 4)), "rgba")
    with pytest.raises(ValueError):
        Picture(np.zeros((0, 4)), "empty")
    with pytest.raises(ValueError, match="source"):
        Picture(np.zeros((3, 4)), "x", source="sample: 3")
    with pytest.raises(ValueError, match="dataset"):
        Picture(np.zeros((3, 4)), "x", source="sample", dataset="MNIST")


def test_a_picture_knows_where_it_came_from():
    digit = samples.load_sample(samples.DEFAULT_SAMPLE)
    assert (digit.source, digit.dataset) == ("sample", "mnist")
    shapes = [n for n, s in samples.SAMPLES.items() if s.dataset is None]
    assert shapes and samples.load_sample(shapes[0]).dataset is None
    png = encode(Image.fromarray(ramp()), "PNG")
    assert (uploads.load_image(png).source, uploads.load_image(png).dataset) == ("upload", None)
    assert uploads.load_image(png, source="camera").source == "camera"
    ink = np.zeros((28, 28, 4), np.uint8)
    ink[10:18, 10:18] = 255
    assert (images.from_canvas(ink).source, images.from_canvas(ink).dataset) == ("drawing", None)


def test_from_canvas_blank_is_none():
    assert images.from_canvas(None) is None
    assert images.from_canvas(np.zeros((280, 280, 4), np.uint8)) is None
    black = np.zeros((280, 280, 4), np.uint8)
    black[..., 3] = 255
    assert images.from_canvas(black) is None
    assert images.from_canvas(np.zeros((5, 5), np.uint8)) is None


def test_from_canvas_white_strokes():
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., 3] = 255
    rgba[100:120, 50:200, :3] = 255
    rgba[130, 50:200] = [255, 255, 255, 128]          # a half-transparent white line
    pic = images.from_canvas(rgba)
    assert pic is not None and pic.pixels.shape == (280, 280)
    assert pic.pixels[110, 100] == 1.0 and pic.pixels[0, 0] == 0.0
    assert abs(pic.pixels[130, 100] - 128 / 255) < 1e-6
    assert pic.name == "drawing"


def test_to_gray_matches_pillow_L():
    c = rgb_ramp(32, 32)
    ours = images.to_uint8(images.to_gray(c / 255))
    pil = np.asarray(Image.fromarray(c).convert("L"))
    assert np.abs(ours.astype(int) - pil).max() <= 1
    g = np.random.default_rng(0).random((5, 6)).astype(np.float32)
    np.testing.assert_array_equal(images.to_gray(g), g)


def test_to_uint8_rounds_and_clips():
    np.testing.assert_array_equal(images.to_uint8(np.array([-0.5, 0, 0.5, 1, 2])), [0, 0, 128, 255, 255])
    g = ramp()
    np.testing.assert_array_equal(images.to_uint8(g / 255), g)


# --------------------------------------------------------------------------- model inputs

def centre_of_mass(a):
    yy, xx = np.mgrid[0:a.shape[0], 0:a.shape[1]]
    return (yy * a).sum() / a.sum(), (xx * a).sum() / a.sum()


def ink_box(a, thr=0.0):
    rows, cols = np.flatnonzero((a > thr).any(1)), np.flatnonzero((a > thr).any(0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def check_mnist_like(x):
    assert x.shape == (28, 28) and x.dtype == np.float32
    assert x.min() >= 0 and x.max() <= 1
    cy, cx = centre_of_mass(x)
    assert abs(cy - 14) <= 1 and abs(cx - 14) <= 1, (cy, cx)
    h, w = ink_box(x)
    assert max(h, w) <= 20 and max(h, w) >= 18


def test_mnist_input_of_an_mnist_digit_is_close_to_itself():
    digit = samples.load_sample(samples.DEFAULT_SAMPLE).pixels
    x, steps = model_input.to_mnist_input(digit)
    check_mnist_like(x)
    assert not any("invert" in s for s in steps)
    assert np.corrcoef(x.ravel(), digit.ravel())[0, 1] > 0.85


def test_mnist_input_inverts_dark_ink_on_light_paper_and_centres():
    digit = samples.load_sample(samples.DEFAULT_SAMPLE).pixels
    big = np.asarray(Image.fromarray(digit, "F").resize((84, 84), Image.Resampling.BILINEAR))
    page = np.full((300, 200), 0.9, np.float32)                        # light grey paper
    page[20:104, 10:94] = 0.9 - 0.8 * np.clip(big, 0, 1)               # dark ink, off-centre
    x, steps = model_input.to_mnist_input(np.dstack([page] * 3))            # as a colour photo
    check_mnist_like(x)
    assert any("grey" in s for s in steps)
    assert any("inverted" in s for s in steps)
    assert any("cropped" in s for s in steps)
    ref, _ = model_input.to_mnist_input(digit)
    assert np.corrcoef(x.ravel(), ref.ravel())[0, 1] > 0.9


def test_mnist_input_wide_stroke_keeps_aspect():
    img = np.zeros((100, 100), np.float32)
    img[45:55, 10:90] = 1.0                                            # a wide bar: 10 x 80
    x, _ = model_input.to_mnist_input(img)
    h, w = ink_box(x, 0.5)
    assert w == 20 and h in (2, 3)
    cy, cx = centre_of_mass(x)
    assert abs(cy - 14) <= 1 and abs(cx - 14) <= 1


def test_mnist_input_blank_images():
    for blank in (np.zeros((28, 28)), np.ones((50, 40)), np.full((10, 10, 3), 0.4)):
        x, steps = model_input.to_mnist_input(blank)
        assert x.shape == (28, 28) and not x.any()
        assert any("blank" in s for s in steps)


def test_mnist_input_from_canvas_drawing():
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., 3] = 255
    rgba[40:240, 130:150, :3] = 255                                    # a drawn "1"
    x, _ = model_input.to_mnist_input(images.from_canvas(rgba).pixels)
    check_mnist_like(x)


def test_fashion_input_fills_the_square_centred_by_its_box():
    coat = np.ones((300, 200), np.float32)                             # white page
    coat[40:220, 30:120] = 0.3                                         # a dark coat, tall, off-centre
    coat[100:140, 60:90] = 0.6                                         # a lighter pocket: grey kept
    x, steps = model_input.to_fashion_input(np.dstack([coat] * 3))
    assert x.shape == (28, 28) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    h, w = ink_box(x, 0.05)
    assert h == 28 and w in (13, 14, 15)                               # longest side 28, aspect kept
    rows, cols = np.flatnonzero((x > 0.05).any(1)), np.flatnonzero((x > 0.05).any(0))
    assert abs((cols[0] + cols[-1]) / 2 - 13.5) <= 0.5                 # centred by its box
    assert 0.3 < x[14, cols[0] + w // 2] < 0.8                         # the pocket stays grey
    assert steps == [
        "turned the colour image grey (Fashion-MNIST pictures are grey)",
        "inverted the colours: the background is light, and Fashion-MNIST clothes are light on "
        "black (shop photos on white, negated)",
        "stretched the contrast: background 0.00 → 0, brightest part 0.70 → 1",
        "cropped to the garment: 180 × 90 pixels of the 300 × 200 image",
        "scaled to 28 × 14 pixels so the longest side is 28, filling the square as Fashion-MNIST "
        "clothes do (shape kept)",
        "placed in the middle of a 28 × 28 black square (0 rows and 14 columns of border)",
    ]


def test_fashion_input_box_centring_is_not_centre_of_mass():
    shoe = np.zeros((60, 120), np.float32)
    shoe[10:50, 10:110] = 0.15                                         # faint body
    shoe[10:50, 80:110] = 1.0                                          # bright heel on the right
    x, _ = model_input.to_fashion_input(shoe)
    h, w = ink_box(x, 0.05)
    assert w == 28 and h in (11, 12)
    cy, cx = centre_of_mass(x)
    assert cx > 17                                                     # mass stays to the right
    y, _ = model_input.to_mnist_input(shoe)
    assert max(ink_box(y, 0.05)) <= 20                                 # MNIST keeps its 20 px box


def test_fashion_input_of_a_fashion_sample_is_close_to_itself():
    names = [n for n, s in samples.SAMPLES.items() if s.dataset == "fashion_mnist"]
    for name in names:
        item = samples.load_sample(name).pixels
        x, steps = model_input.to_fashion_input(item)
        assert not any("invert" in s for s in steps)
        assert np.corrcoef(x.ravel(), item.ravel())[0, 1] > 0.9, name


def test_fashion_input_blank_images():
    for blank in (np.zeros((28, 28)), np.ones((50, 40)), np.full((10, 10, 3), 0.4)):
        x, steps = model_input.to_fashion_input(blank)
        assert x.shape == (28, 28) and not x.any()
        assert any("blank" in s for s in steps)


def shop_photo(item: np.ndarray, rng) -> bytes:
    """A Fashion-MNIST picture as a shop would have it: dark on white (negated), 3-4 times
    larger, on a white page with margins of random sizes (off-centre), as a colour PNG."""
    side = 28 * int(rng.integers(3, 5))
    photo = Image.fromarray(255 - item).resize((side, side), Image.Resampling.BICUBIC)
    top, bottom, left, right = (int(m) for m in rng.integers(4, 60, size=4))
    page = Image.new("L", (side + left + right, side + top + bottom), 255)
    page.paste(photo, (left, top))
    return encode(page.convert("RGB"), "PNG")


@pytest.mark.slow
def test_fashion_input_keeps_the_fashion_network_accurate_on_uploads(data_dir):
    """Fashion test images uploaded as shop photos: through to_fashion_input the pretrained
    Fashion network is about as accurate as on the originals, and clearly more than through
    to_mnist_input (which shrinks clothes into the 20-px digit box)."""
    from cnnviz import models
    (_, _), (x_test, y_test), _ = data.load_dataset("fashion_mnist", data_dir)
    n = 1000
    items, labels = x_test[:n], np.asarray(y_test[:n]).ravel()
    rng = np.random.default_rng(0)
    photos = [uploads.load_image(shop_photo(item, rng), name=f"product-{i}.png").pixels
              for i, item in enumerate(items)]
    assert all(u.ndim == 3 and max(u.shape) > 84 for u in photos)
    fashion = np.stack([model_input.to_fashion_input(u)[0] for u in photos])
    mnist = np.stack([model_input.to_mnist_input(u)[0] for u in photos])
    model = models.load_pretrained("fashion_mnist")

    def accuracy(batch):
        scores = model.predict(batch[..., None].astype(np.float32), batch_size=500, verbose=0)
        return float((scores.argmax(axis=1) == labels).mean())

    original = accuracy(items.astype(np.float32) / 255)
    via_fashion, via_mnist = accuracy(fashion), accuracy(mnist)
    print(f"Fashion-MNIST accuracy on {n} test images: original {original:.1%}, "
          f"uploads via to_fashion_input {via_fashion:.1%}, via to_mnist_input {via_mnist:.1%}")
    assert original > 0.85
    assert via_fashion >= original - 0.03, (original, via_fashion)
    assert via_fashion >= via_mnist + 0.10, (via_fashion, via_mnist)


def test_cifar_input_shapes_and_steps():
    x, steps = model_input.to_cifar_input(np.random.default_rng(1).random((60, 90)))
    assert x.shape == (32, 32, 3) and x.dtype == np.float32
    assert np.array_equal(x[..., 0], x[..., 1])
    assert any("grey" in s for s in steps) and any("centre square" in s for s in steps)
    assert any("32 × 32" in s for s in steps)
    cat = samples.load_sample("cifar-cat").pixels
    same, steps = model_input.to_cifar_input(cat)
    np.testing.assert_array_equal(same, cat)
    assert steps == []
    wide = np.zeros((100, 300, 3), np.float32)
    wide[:, 100:200] = 1.0                                             # the centre square is white
    x, _ = model_input.to_cifar_input(wide)
    assert x.min() > 0.99


# --------------------------------------------------------------------------- samples

def test_samples_index_and_files():
    index = json.loads((samples.SAMPLES_DIR / "samples.json").read_text(encoding="utf-8"))
    assert len(index["samples"]) == len(samples.SAMPLES) >= 20
    datasets = [s.dataset for s in samples.SAMPLES.values()]
    assert datasets.count("mnist") >= 6 and datasets.count("fashion_mnist") >= 6
    assert datasets.count("cifar10") >= 8
    total = sum(p.stat().st_size for p in samples.SAMPLES_DIR.iterdir())
    assert total < 300_000
    for name, s in samples.SAMPLES.items():
        assert s.title and s.source and (samples.SAMPLES_DIR / s.file).is_file()
        pic = samples.load_sample(name)
        assert pic.name == f"sample: {s.title}" and pic.source == "sample"
        assert pic.dataset == s.dataset and (s.dataset is None or s.dataset in data.TABLE)
    titled = {e["name"]: e["dataset"] for e in index["samples"]}
    for name, s in samples.SAMPLES.items():   # the index's titles became the datasets' keys
        assert titled[name] == ("cnnviz" if s.dataset is None else data.TABLE[s.dataset].title)
        assert pic.pixels.shape in ((28, 28), (32, 32, 3), (128, 128))


def test_default_sample_is_an_mnist_3():
    s = samples.SAMPLES[samples.DEFAULT_SAMPLE]
    assert s.dataset == "mnist" and s.label == "3"
    assert samples.load_sample(samples.DEFAULT_SAMPLE).pixels.shape == (28, 28)


def test_samples_found_from_any_directory(tmp_path):
    code = "from cnnviz import samples; print(samples.load_sample(samples.DEFAULT_SAMPLE).shape_text)"
    import pathlib
    root = pathlib.Path(images.__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True, capture_output=True,
                         text=True, env={"PYTHONPATH": str(root)})
    assert out.stdout.strip() == "28 × 28"


def test_unknown_sample():
    with pytest.raises(KeyError):
        samples.load_sample("no-such-sample")


@pytest.mark.parametrize("pixels, shape", [
    (np.random.default_rng(0).random((40, 60, 3)), (16, 16, 1)),
    (np.random.default_rng(1).random((50, 20)), (24, 12, 3)),
    (np.random.default_rng(2).random((10, 10)), (64, 64, 1)),
    (np.random.default_rng(3).random((28, 28, 3)), (28, 28, 3)),
])
def test_fit_input_gives_any_network_its_input_shape(pixels, shape):
    x, steps = model_input.fit_input(pixels.astype(np.float32), *shape)
    assert x.shape == shape and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() <= 1.0
    if pixels.shape[:2] == shape[:2] and (pixels.ndim == 3) == (shape[2] == 3):
        assert steps == [] and np.array_equal(x, pixels.astype(np.float32))
    else:
        assert steps


def test_cifar_input_is_fit_input_for_32_by_32_colour():
    px = np.random.default_rng(4).random((48, 64)).astype(np.float32)
    a, steps_a = model_input.to_cifar_input(px)
    b, steps_b = model_input.fit_input(px, 32, 32, 3)
    assert np.array_equal(a, b) and steps_a == steps_b
    assert "cut out the centre square: 48 × 64 → 48 × 48" in steps_a
