"""cnnviz.decoding: uploads decoded in short-lived child processes, at most SLOTS at once, and a
visitor over the slots told "busy" without waiting. Real heavy files (tests/heavy_images.py)."""
from __future__ import annotations

import threading

import numpy as np
import pytest

import heavy_images
from cnnviz import decoding, uploads
from cnnviz.images import ImageError


@pytest.fixture(scope="module")
def heavy(tmp_path_factory):
    paths = heavy_images.write_cases(tmp_path_factory.mktemp("heavy"),
                                     ["png16_gray", "png_palette", "jpeg_progressive", "jpeg_512"])
    return {name: path.read_bytes() for name, path in paths.items()}


class NeverWaits(threading.BoundedSemaphore):
    """decoding.slots that fails the test the moment a caller would wait for a slot."""

    def acquire(self, blocking=True, timeout=None):
        got = super().acquire(blocking=False)
        if not got and (blocking or timeout):
            raise AssertionError("a visitor over the decoding slots was made to wait for one")
        return got


@pytest.mark.slow
def test_heavy_decodes_beyond_the_slots_are_told_busy_at_once(heavy, monkeypatch):
    monkeypatch.setattr(decoding, "slots", NeverWaits(decoding.SLOTS))
    entered = [threading.Event() for _ in range(decoding.SLOTS)]
    gate = threading.Event()
    real = decoding.decode_in_child
    inside = iter(entered)

    def held_open(*args, **kwargs):       # each decode stays in its slot until the gate opens
        next(inside).set()
        gate.wait()
        return real(*args, **kwargs)

    monkeypatch.setattr(decoding, "decode_in_child", held_open)
    names = ["png16_gray", "jpeg_progressive"][:decoding.SLOTS]
    results: dict[str, object] = {}

    def visitor(name):
        try:
            results[name] = decoding.decode(heavy[name], name=name)
        except Exception as e:            # reported below
            results[name] = e

    threads = [threading.Thread(target=visitor, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for e in entered:
        assert e.wait(60), "a decode never started"
    try:
        with pytest.raises(decoding.Busy, match="busy"):
            decoding.decode(heavy["png_palette"], name="third")
    finally:
        gate.set()
        for t in threads:
            t.join(120)
    for name in names:
        assert not isinstance(results[name], Exception), results[name]
        assert max(results[name].pixels.shape[:2]) == 512
    monkeypatch.setattr(decoding, "decode_in_child", real)
    assert decoding.decode(heavy["png_palette"], name="later").pixels.shape[:2] == (512, 512)


@pytest.mark.slow
def test_decoding_happens_in_a_child_process_with_the_same_result(heavy, monkeypatch):
    expected = uploads.load_image(heavy["jpeg_512"], name="x.jpg")

    def not_here(*args, **kwargs):
        raise AssertionError("load_image ran in the server process")

    monkeypatch.setattr(uploads, "load_image", not_here)
    pic = decoding.decode(heavy["jpeg_512"], name="x.jpg", source="camera")
    assert np.array_equal(pic.pixels, expected.pixels) and pic.pixels.dtype == np.float32
    assert (pic.name, pic.source, pic.notes) == ("x.jpg", "camera", expected.notes)
    with pytest.raises(ImageError, match="not an image we can read"):
        decoding.decode(b"just some text, not a picture\n" * 4)


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise KeyError(field)


@pytest.mark.slow
def test_a_heavy_decode_leaves_the_server_process_its_memory(heavy):
    """The 9450 x 9450 16-bit PNG takes about 180 MB to decode: none of it in this process."""
    try:
        with open("/proc/self/clear_refs", "w") as f:    # VmHWM := VmRSS from here
            f.write("5")
    except OSError:
        pytest.skip("needs Linux's /proc/self/clear_refs to measure the peak")
    base = _status_mb("VmRSS")
    pic = decoding.decode(heavy["png16_gray"], name="big")
    assert pic.pixels.shape == (512, 512)
    assert _status_mb("VmHWM") - base < 60
    assert _status_mb("VmRSS") - base < 30


@pytest.mark.parametrize("out,code", [(b"", -9), (b"not json\n", 0), (b'{"shape": [600, 600], "notes": []}\n', 0),
                                      (b'{"shape": [2, 2], "notes": []}\n' + bytes(15), 0)])
def test_a_failed_or_malformed_child_answer_is_one_line(out, code):
    with pytest.raises(ImageError) as e:
        decoding._answer(out, code, b"", "x", "upload", 512)
    assert "\n" not in str(e.value) and "could not be read here" in str(e.value)
