"""Heavy and hostile uploads, generated small and fast, and a fresh-process probe of load_image.

Shared by tests/test_upload_budget.py (peak memory, accept or refuse) and
benchmarks/bench_uploads.py (time and memory, before and after). Nothing here is committed as
a binary file: each case is built in a fraction of a second, most of them byte by byte (PNG,
TIFF, BMP, GIF, WebP containers written by hand; long runs of equal rows deflated once and
repeated), so a 9450 × 9450 image costs a few hundred KB and no memory to make.

    >>> import heavy_images
    >>> paths = heavy_images.write_cases(tmp_dir)          # name -> file
    >>> heavy_images.probe(paths["png16_gray"])            # fresh process: error or shape, MB, s
"""
from __future__ import annotations

import io
import json
import os
import pathlib
import re
import struct
import subprocess
import sys
import zlib

import numpy as np
from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parent.parent
SIDE = 9450          # 89,302,500 pixels: just under Pillow's MAX_IMAGE_PIXELS (89,478,485)
PAGES = 30_000

# --------------------------------------------------------------------------- building blocks


def _deflate_repeated(head: bytes, chunk: bytes, count: int, tail: bytes = b"") -> bytes:
    """zlib stream of head + chunk * count + tail, compressing chunk once.

    Each part is deflated on its own and ends with a full flush (byte-aligned, no reference to
    earlier data), so the compressed chunk can be repeated; the Adler-32 covers everything.
    """
    def part(data: bytes) -> bytes:
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        return c.compress(data) + c.flush(zlib.Z_FULL_FLUSH) if data else b""

    adler = zlib.adler32(head)
    for _ in range(count):
        adler = zlib.adler32(chunk, adler)
    adler = zlib.adler32(tail, adler)
    end = zlib.compressobj(9, zlib.DEFLATED, -15).flush(zlib.Z_FINISH)   # an empty final block
    return b"\x78\xda" + part(head) + part(chunk) * count + part(tail) + end + struct.pack(">I", adler)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(width: int, height: int, color_type: int, bit_depth: int, first_row: bytes,
         extra_chunks: bytes = b"") -> bytes:
    """A PNG whose rows all equal first_row (later rows use the 'Up' filter: all zeros)."""
    assert len(first_row) == width * {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color_type] * bit_depth // 8
    up_row = b"\x02" + bytes(len(first_row))
    rows_per_chunk = 256
    count, rest = divmod(height - 1, rows_per_chunk)
    idat = _deflate_repeated(b"\x00" + first_row, up_row * rows_per_chunk, count, up_row * rest)
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + extra_chunks
            + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b""))


def _tiff(width: int, height: int, bits: int, sample_format: int, first_row: bytes,
          fill: bytes, rows_per_strip: int) -> bytes:
    """A one-sample little-endian TIFF, Adobe-deflate strips of rows_per_strip rows.

    Every strip holds first_row and then rows of `fill` repeated; equal strips share their bytes.
    """
    row_bytes = width * bits // 8
    assert len(first_row) == row_bytes and row_bytes % len(fill) == 0
    fill_row = fill * (row_bytes // len(fill))

    def strip(rows: int) -> bytes:
        per = max(1, min(rows - 1, (4 << 20) // row_bytes))
        count, rest = divmod(rows - 1, per)
        return _deflate_repeated(first_row, fill_row * per, count, fill_row * rest)

    full, last_rows = divmod(height, rows_per_strip)
    datas = [strip(rows_per_strip)] + ([strip(last_rows)] if last_rows else [])
    n_strips = full + (1 if last_rows else 0)
    tags = [(256, 4, [width]), (257, 4, [height]), (258, 3, [bits]), (259, 3, [8]),
            (262, 3, [1]), (273, 4, None), (277, 3, [1]), (278, 4, [rows_per_strip]),
            (279, 4, None), (339, 3, [sample_format])]
    # layout: header, strip data, strip offset/bytecount arrays, IFD
    out = bytearray(b"II*\x00\x00\x00\x00\x00")
    positions = []
    for data in datas:
        positions.append(len(out))
        out += data + (b"\x00" if len(data) % 2 else b"")
    offsets = [positions[0]] * full + ([positions[1]] if last_rows else [])
    counts = [len(datas[0])] * full + ([len(datas[1])] if last_rows else [])
    arrays = {}
    for tag, values in ((273, offsets), (279, counts)):
        if n_strips == 1:
            arrays[tag] = None
        else:
            arrays[tag] = len(out)
            out += struct.pack(f"<{n_strips}I", *values)
    ifd = len(out)
    struct.pack_into("<I", out, 4, ifd)
    out += struct.pack("<H", len(tags))
    for tag, kind, values in tags:
        if tag in (273, 279):
            values_here = offsets if tag == 273 else counts
            if n_strips == 1:
                out += struct.pack("<HHII", tag, 4, 1, values_here[0])
            else:
                out += struct.pack("<HHII", tag, 4, n_strips, arrays[tag])
        elif kind == 3:
            out += struct.pack("<HHIHH", tag, 3, 1, values[0], 0)
        else:
            out += struct.pack("<HHII", tag, 4, 1, values[0])
    out += b"\x00\x00\x00\x00"
    return bytes(out)


def _encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _riff_chunk(kind: bytes, data: bytes) -> bytes:
    return kind + struct.pack("<I", len(data)) + data + (b"\x00" if len(data) % 2 else b"")


def _vp8l_constant(width: int, height: int, alpha: bool) -> bytes:
    """A lossless WebP bitstream of one colour at any size.

    libwebp codes a one-colour image without any bits per pixel, so the bitstream of a 16 x 16
    image is the bitstream of every size once the size fields of its header are changed.
    """
    small = _encode(Image.new("RGBA", (16, 16), (20, 140, 220, 255)), "WEBP", lossless=True,
                    method=0, quality=0)
    assert small[12:16] == b"VP8L" and small[20] == 0x2F
    body = bytearray(small[20:20 + struct.unpack("<I", small[16:20])[0]])
    bits = (width - 1) | (height - 1) << 14 | int(alpha) << 28
    body[1:5] = struct.pack("<I", bits)
    return bytes(body)


def _riff_webp(chunks: bytes) -> bytes:
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WEBP" + chunks


def bmp_rle8_header(width: int, height: int, data_size: int) -> bytes:
    """BMP file and info headers for an 8-bit run-length (RLE8) bitmap, with a 256-entry palette."""
    palette = b"".join(bytes((i, (i * 3) % 256, 255 - i, 0)) for i in range(256))
    offset = 14 + 40 + len(palette)
    return (b"BM" + struct.pack("<IHHI", offset + data_size, 0, 0, offset)
            + struct.pack("<IiiHHIIiiII", 40, width, height, 1, 8, 1, data_size, 2835, 2835, 256, 0)
            + palette)


# --------------------------------------------------------------------------- the cases

def png16_gray() -> bytes:
    """9450 × 9450 16-bit grey PNG, every row the same ramp (~200 KB)."""
    row = ((np.arange(SIDE) * 7) % 65536).astype(">u2").tobytes()
    return _png(SIDE, SIDE, 0, 16, row)


def png_palette() -> bytes:
    """9450 × 9450 colour palette PNG with transparent entries (tRNS)."""
    palette = bytes(b for i in range(256) for b in (i, (i * 5) % 256, 255 - i))
    alphas = bytes(0 if i % 16 == 0 else 255 for i in range(256))
    row = bytes(i % 256 for i in range(SIDE))
    return _png(SIDE, SIDE, 3, 8, row, _png_chunk(b"PLTE", palette) + _png_chunk(b"tRNS", alphas))


def png_rgba() -> bytes:
    """9450 × 9450 RGBA PNG, half of each row transparent."""
    x = np.arange(SIDE)
    row = np.stack([x % 256, (x // 37) % 256, 255 - x % 256, np.where(x < SIDE // 2, 0, 255)], axis=1)
    return _png(SIDE, SIDE, 6, 8, row.astype(np.uint8).tobytes())


def bmp_rle8() -> bytes:
    """9450 × 9450 RLE8 BMP: one pixel then 'end of line' on every row (~38 KB).

    Pillow's RLE decoder is Python and pads each row one byte at a time: ~89 million steps.
    """
    data = (b"\x01\x07\x00\x00" * SIDE) + b"\x00\x01"
    return bmp_rle8_header(SIDE, SIDE, len(data)) + data


def tiff_float() -> bytes:
    """9450 × 9450 32-bit float TIFF (values 0 to 944.9), one deflated strip."""
    first = (np.arange(SIDE, dtype=np.float32) / 10).astype("<f4").tobytes()
    return _tiff(SIDE, SIDE, 32, 3, first, struct.pack("<f", 2.5), rows_per_strip=SIDE)


def tiff_int32() -> bytes:
    """9450 × 9450 32-bit signed integer TIFF, deflated strips of 64 rows."""
    first = (np.arange(SIDE, dtype=np.int32) * 1000 - 70_000).astype("<i4").tobytes()
    return _tiff(SIDE, SIDE, 32, 2, first, struct.pack("<i", 12345), rows_per_strip=64)


def tiff_pages() -> bytes:
    """A TIFF of 30,000 pages of 1 × 1 grey pixel (each page its own IFD)."""
    out = bytearray(b"II*\x00\x00\x00\x00\x00\x80\x00")   # the one pixel all pages share, at 8
    first_ifd = len(out)
    struct.pack_into("<I", out, 4, first_ifd)
    tags = [(256, 1), (257, 1), (258, 8), (259, 1), (262, 1), (273, 8), (277, 1), (278, 1), (279, 1)]
    size = 2 + 12 * len(tags) + 4
    for page in range(PAGES):
        here = first_ifd + page * size
        out += struct.pack("<H", len(tags))
        for tag, value in tags:
            out += struct.pack("<HHII", tag, 4 if tag in (256, 257, 273, 278, 279) else 3, 1, value)
        out += struct.pack("<I", here + size if page < PAGES - 1 else 0)
    return bytes(out)


def gif_frames() -> bytes:
    """A GIF of 30,000 frames of 1 × 1 pixel."""
    one = _encode(Image.new("P", (1, 1), 1), "GIF")
    start = one.index(b"\x2c", 13)                       # first image descriptor
    frame = one[start:-1]                                # up to (not including) the trailer
    return one[:start] + frame * PAGES + b"\x3b"


def webp_still() -> bytes:
    """9450 × 9450 lossless WebP of one colour with an alpha flag (~40 bytes)."""
    return _riff_webp(_riff_chunk(b"VP8L", _vp8l_constant(SIDE, SIDE, alpha=True)))


def webp_canvas() -> bytes:
    """Animated WebP: a 9450 × 9450 canvas holding two 16 × 16 frames."""
    vp8x = struct.pack("<B3x", 0x02 | 0x10) + (SIDE - 1).to_bytes(3, "little") * 2
    anim = struct.pack("<IH", 0xFFFFFFFF, 0)
    frame = _riff_chunk(b"VP8L", _vp8l_constant(16, 16, alpha=True))
    anmf = b"".join(_riff_chunk(b"ANMF", (0).to_bytes(3, "little") * 2 + (15).to_bytes(3, "little") * 2
                                + (100).to_bytes(3, "little") + b"\x00" + frame) for _ in range(2))
    return _riff_webp(_riff_chunk(b"VP8X", vp8x) + _riff_chunk(b"ANIM", anim) + anmf)


def jpeg_progressive() -> bytes:
    """9450 × 9450 progressive grey JPEG (~350 KB); libjpeg keeps all its coefficients."""
    img = Image.new("L", (SIDE, SIDE), 120)
    img.paste(200, (SIDE // 4, SIDE // 4, SIDE // 2, SIDE // 2))
    return _encode(img, "JPEG", progressive=True, quality=50)


def jpeg_progressive_rgb() -> bytes:
    """7000 × 7000 progressive colour JPEG without chroma subsampling (coefficients ~290 MB)."""
    img = Image.new("RGB", (7000, 7000), (30, 120, 200))
    img.paste((250, 200, 10), (1000, 1000, 3000, 3000))
    return _encode(img, "JPEG", progressive=True, quality=50, subsampling=0)


def jpeg_scans() -> bytes:
    """4000 × 4000 progressive grey JPEG whose smallest scan is repeated 3000 times (~3 MB).

    Each repeat is a few hundred bytes of end-of-band runs, yet libjpeg passes over all 250,000
    blocks for it (and only warns that the progression is odd).
    """
    img = Image.new("L", (4000, 4000), 90)
    img.paste(180, (1000, 1000, 2000, 3000))
    data = _encode(img, "JPEG", progressive=True, quality=50)
    scans = []
    for start in (m.start() for m in re.finditer(rb"\xff\xda", data)):
        header = 2 + int.from_bytes(data[start + 2:start + 4], "big")
        end = re.compile(rb"\xff[^\x00\xd0-\xd7]").search(data, start + header).start()
        scans.append((end - start, start, end))
    _, start, end = min(scans)
    return data[:end] + data[start:end] * 3000 + data[end:]


def jpeg_512() -> bytes:
    """The reference: an ordinary 512 × 512 colour photo-like JPEG."""
    yy, xx = np.mgrid[0:512, 0:512] / 512
    rgb = np.stack([xx, yy, 0.5 + 0.5 * np.sin(12 * xx * yy)], axis=2)
    noise = np.random.default_rng(0).normal(0, 0.05, rgb.shape)
    return _encode(Image.fromarray((np.clip(rgb + noise, 0, 1) * 255).astype(np.uint8)), "JPEG",
                   quality=90)


#: name -> generator; the reference (an ordinary upload) first.
CASES = {f.__name__: f for f in (
    jpeg_512, png16_gray, png_palette, png_rgba, bmp_rle8, tiff_float, tiff_int32, tiff_pages,
    gif_frames, webp_still, webp_canvas, jpeg_progressive, jpeg_progressive_rgb, jpeg_scans)}
REFERENCE = "jpeg_512"


def write_cases(directory: os.PathLike, names=None) -> dict[str, pathlib.Path]:
    """Write each case (all by default) to directory/<name>.<ext>; name -> path."""
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name in names or CASES:
        path = directory / f"{name}.{name.split('_')[0]}"
        if not path.exists():
            path.write_bytes(CASES[name]())
        paths[name] = path
    return paths


# --------------------------------------------------------------------------- measuring

_CHILD = r"""
import importlib.util, json, resource, sys, time
path, module = sys.argv[1], sys.argv[2]
if module == "cnnviz.uploads":
    from cnnviz import images, uploads
else:                                  # an older images.py (from git history), which held load_image
    spec = importlib.util.spec_from_file_location("images_under_test", module)
    images = uploads = sys.modules[spec.name] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(images)
data = open(path, "rb").read()

def status_kb(field):
    # VmHWM is this process's own peak RSS. ru_maxrss is not: after fork and exec it starts at
    # the parent's RSS (the kernel carries the old address space's peak over).
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

before = status_kb("VmRSS")            # now, not the peak so far: the stricter baseline
start, cpu = time.perf_counter(), time.process_time()
try:
    pic = uploads.load_image(data, name="upload")
    out = {"shape": list(pic.pixels.shape), "notes": list(pic.notes)}
except images.ImageError as e:
    out = {"error": str(e)}
out["seconds"] = time.perf_counter() - start
out["cpu_seconds"] = time.process_time() - cpu
out["peak_mb"] = (status_kb("VmHWM") - before) / 1024
print(json.dumps(out))
"""


def probe(path: os.PathLike, module: str | os.PathLike = "cnnviz.uploads", timeout: float = 300) -> dict:
    """load_image(path's bytes) in a fresh Python process.

    Returns {"shape": [...], "notes": [...]} or {"error": message}, plus "seconds" and
    "cpu_seconds" (load_image alone: wall clock, and CPU time, steadier on a busy machine) and
    "peak_mb" (the process's peak RSS during the call minus its RSS just before).
    module: "cnnviz.uploads" or the path of an older images.py (which held load_image) instead.
    """
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-c", _CHILD, str(path), str(module)], capture_output=True,
                          text=True, timeout=timeout, env=env, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"probe of {path} failed ({done.returncode}): {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])
