"""cnnviz.own_pictures: the picture set (to_picture, caps, names, the split) and reading a zip or a
folder of one folder per class, with hostile archives refused in one line. Real zips, real PNGs."""
from __future__ import annotations

import io
import stat
import zipfile

import numpy as np
import pytest
from PIL import Image

from cnnviz import decoding
from cnnviz.own_pictures import (MAX_PER_CLASS, MAX_TOTAL, SIZE, Limits, PictureError, PictureSet,
                                 read_files, read_folder, read_zip, shapes, to_picture)


def png(seed: int = 0, size=(40, 30), mode="RGB") -> bytes:
    rng = np.random.default_rng(seed)
    channels = {"RGB": 3, "RGBA": 4, "L": 1}[mode]
    pixels = rng.integers(0, 256, (size[1], size[0], channels), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels[..., 0] if channels == 1 else pixels, mode).save(buf, "PNG")
    return buf.getvalue()


def make_zip(entries: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buf.getvalue()


def good_entries(prefix: str = "", per_class: int = 3) -> dict[str, bytes]:
    return {f"{prefix}{cls}/{i}.png": png(10 * c + i) for c, cls in enumerate(["pen", "cup"])
            for i in range(per_class)}


# --------------------------------------------------------------------------- to_picture

@pytest.mark.parametrize("shape,dtype", [((50, 70), np.uint8), ((70, 50, 1), np.uint8), ((32, 32, 3), np.uint8),
                                         ((64, 40, 4), np.uint8), ((9, 200, 3), np.float32), ((1, 1), np.uint8)])
def test_to_picture_gives_32_by_32_colour(shape, dtype):
    image = np.random.default_rng(0).random(shape)
    image = image.astype(dtype) if dtype == np.float32 else (image * 255).astype(np.uint8)
    out = to_picture(image)
    assert out.shape == (SIZE, SIZE, 3) and out.dtype == np.uint8


def test_to_picture_keeps_a_32_picture_crops_the_centre_and_puts_alpha_on_white():
    picture = np.random.default_rng(1).integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)
    assert np.array_equal(to_picture(picture), picture)
    wide = np.zeros((SIZE, 3 * SIZE, 3), np.uint8)
    wide[:, SIZE:2 * SIZE] = 200                       # the centre square is grey 200, the sides black
    assert np.all(to_picture(wide) == 200)
    grey = np.full((10, 10), 77, np.uint8)
    assert np.all(to_picture(grey) == 77)
    clear = np.zeros((SIZE, SIZE, 4), np.uint8)        # fully transparent black -> white
    assert np.all(to_picture(clear) == 255)
    assert np.all(to_picture(np.full((SIZE, SIZE, 3), 0.5, np.float32)) == 128)


@pytest.mark.parametrize("bad", [np.zeros((5, 5, 2), np.uint8), np.zeros((0, 4), np.uint8), np.zeros(7),
                                 np.full((4, 4), np.nan), np.zeros((5000, 2), np.uint8),
                                 np.array([["a"]])])
def test_to_picture_refuses_what_is_not_a_picture_in_one_line(bad):
    with pytest.raises(PictureError) as e:
        to_picture(bad)
    assert "\n" not in str(e.value)


# --------------------------------------------------------------------------- the set

def test_classes_are_named_plainly_uniquely_and_briefly():
    s = PictureSet.empty(["pen"]).with_class("  cup   of tea ")
    assert s.class_names == ("pen", "cup of tea")
    for bad in ["", "   ", "PEN", "x" * 25, "a\x00b", "a\u200bb", 7]:
        with pytest.raises(PictureError):
            s.with_class(bad)
    assert s.renamed(0, "Pen").class_names == ("Pen", "cup of tea")     # its own name, in new case
    with pytest.raises(PictureError):
        s.renamed(0, "Cup of tea")
    full = PictureSet.empty([str(i) for i in range(10)])
    with pytest.raises(PictureError, match="10"):
        full.with_class("eleven")


def test_pictures_are_added_removed_and_classes_dropped_with_their_labels():
    s = PictureSet.empty(["a", "b", "c"])
    s, note = s.with_pictures(1, [np.zeros((40, 40, 3), np.uint8)] * 2)
    s, _ = s.with_pictures(2, [np.full((8, 8), 255, np.uint8)])
    assert note == "" and s.counts() == (0, 2, 1) and s.images.shape == (3, SIZE, SIZE, 3)
    assert not s.images.flags.writeable
    t = s.without_class(1)
    assert t.class_names == ("a", "c") and t.counts() == (0, 1) and np.all(t.images == 255)
    u = s.without_picture(0)
    assert u.counts() == (0, 1, 1) and s.counts() == (0, 2, 1)         # the old set is unchanged
    with pytest.raises(PictureError):
        s.without_picture(3)
    with pytest.raises(PictureError):
        s.with_pictures(3, [np.zeros((4, 4), np.uint8)])


def test_caps_keep_what_fits_and_say_what_was_left_out():
    one = np.zeros((SIZE, SIZE, 3), np.uint8)
    s, note = PictureSet.empty(["a", "b"]).with_pictures(0, [one] * (MAX_PER_CLASS + 5))
    assert s.counts() == (MAX_PER_CLASS, 0)
    assert note == f"left out 5 of {MAX_PER_CLASS + 5} pictures for a (at most {MAX_PER_CLASS} per class)"
    with pytest.raises(PictureError, match="full"):
        s.with_pictures(0, [one])
    names = [str(i) for i in range(6)]
    s = PictureSet.empty(names)
    for c in range(5):
        s, _ = s.with_pictures(c, [one] * MAX_PER_CLASS)
    assert len(s) == MAX_TOTAL
    with pytest.raises(PictureError, match=f"{MAX_TOTAL}"):
        s.with_pictures(5, [one])
    # a bad picture among good ones is counted, the good ones are added
    s, note = PictureSet.empty(["a", "b"]).with_pictures(1, [one, np.zeros((3, 3, 2)), one])
    assert s.counts() == (0, 2) and note.startswith("1 could not be used")


def test_from_arrays_and_merged():
    images = np.random.default_rng(0).integers(0, 256, (6, 20, 20, 3), dtype=np.uint8)
    s, note = PictureSet.from_arrays(images, [0, 1, 0, 1, 2, 2])
    assert s.class_names == ("class 0", "class 1", "class 2") and s.counts() == (2, 2, 2) and note == ""
    named, _ = PictureSet.from_arrays(images, [0, 1, 0, 1, 0, 1], class_names=["x", "y"])
    merged, _ = named.merged(PictureSet.from_arrays(images[:3], [0, 0, 1], ["Y", "z"])[0])
    assert merged.class_names == ("x", "y", "z") and merged.counts() == (3, 5, 1)
    with pytest.raises(PictureError):
        PictureSet.from_arrays(images, [0, 1, 2, 3, 4, 5], class_names=["x", "y"])


def test_check_trainable_says_what_is_missing():
    with pytest.raises(PictureError, match="at least 2 classes"):
        shapes(3).without_class(0).without_class(0).check_trainable()
    s, _ = PictureSet.empty(["a", "b"]).with_pictures(0, [np.zeros((4, 4), np.uint8)] * 3)
    with pytest.raises(PictureError, match="b"):
        s.check_trainable()
    shapes(2).check_trainable()


def test_split_is_stratified_seeded_and_holds_out_at_least_one_of_each():
    s = shapes(10, seed=3)
    s, _ = s.with_pictures(0, list(shapes(7, seed=4).images[:7]))          # 17, 10, 10
    train, held = s.split(0.2, seed=5)
    assert len(set(train) & set(held)) == 0 and len(train) + len(held) == len(s)
    assert list(np.bincount(s.labels[held])) == [3, 2, 2]
    again = s.split(0.2, seed=5)
    assert np.array_equal(again[0], train) and np.array_equal(again[1], held)
    assert not np.array_equal(s.split(0.2, seed=6)[1], held)
    tiny = shapes(2)
    train, held = tiny.split(0.5)
    assert list(np.bincount(tiny.labels[held])) == [1, 1, 1] and list(np.bincount(tiny.labels[train])) == [1, 1, 1]
    assert list(np.bincount(tiny.labels[tiny.split(0.01)[1]])) == [1, 1, 1]
    with pytest.raises(PictureError):
        s.split(1.0)


def test_generated_shapes_are_reproducible_and_differ_by_class():
    a, b = shapes(4, seed=1), shapes(4, seed=1)
    assert a.class_names == ("circle", "square", "triangle") and a.counts() == (4, 4, 4)
    assert np.array_equal(a.images, b.images) and not np.array_equal(a.images, shapes(4, seed=2).images)


# --------------------------------------------------------------------------- zip layouts

def test_a_good_zip_gives_its_classes_sorted_with_their_pictures():
    s, note = read_zip(make_zip(good_entries()))
    assert s.class_names == ("cup", "pen") and s.counts() == (3, 3) and note == ""
    # the pictures are the files' pixels, centre-cropped and resized
    expected = to_picture(np.asarray(Image.open(io.BytesIO(png(10)))))
    assert np.abs(s.images[0].astype(int) - expected).max() <= 2


def test_a_zip_with_one_top_folder_macos_extras_and_folder_entries():
    entries = good_entries("photos/")
    entries.update({"photos/": b"", "photos/cup/": b"", "__MACOSX/photos/cup/._0.png": b"junk",
                    "photos/.DS_Store": b"junk", "photos/cup/.hidden.png": b"junk"})
    s, note = read_zip(make_zip(entries))
    assert s.class_names == ("cup", "pen") and s.counts() == (3, 3) and note == ""


def test_empty_class_folders_and_non_pictures_are_left_out_and_counted():
    entries = good_entries()
    entries.update({"empty/": b"", "texts/readme.txt": b"hello", "cup/notes.md": b"x",
                    "cup/deeper/4.png": png(99), "loose.png": png(98)})
    s, note = read_zip(make_zip(entries))
    assert s.class_names == ("cup", "pen") and s.counts() == (4, 3)
    assert "skipped 2 files that are not pictures" in note
    assert "skipped 1 file outside the class folders" in note
    assert "left out 2 empty folders (empty, texts)" in note


def test_a_zip_with_one_class_only_is_read_and_says_so():
    s, note = read_zip(make_zip({f"cup/{i}.png": png(i) for i in range(3)}))
    assert s.class_names == ("cup",) and "only one class" in note
    with pytest.raises(PictureError):
        s.check_trainable()


def test_pictures_that_cannot_be_decoded_are_counted():
    entries = good_entries()
    entries["cup/broken.png"] = b"\x89PNG\r\n\x1a\n" + b"not really" * 10
    s, note = read_zip(make_zip(entries))
    assert s.counts() == (3, 3) and note.startswith("1 picture could not be read")


def test_too_many_pictures_are_capped_fairly_with_a_note(monkeypatch):
    from cnnviz.own_pictures import archive
    monkeypatch.setattr(archive, "MAX_PER_CLASS", 4)
    monkeypatch.setattr(archive, "MAX_TOTAL", 6)
    entries = {f"a/{i}.png": png(i, (8, 8)) for i in range(7)}
    entries.update({f"b/{i}.png": png(i, (8, 8)) for i in range(2)})
    s, note = read_zip(make_zip(entries))
    assert s.counts() == (4, 2)
    assert note == "left out 3 pictures (at most 4 per class and 6 in all)"


def test_no_class_folders_or_too_many_classes_is_one_line():
    with pytest.raises(PictureError, match="no class folders"):
        read_zip(make_zip({"a.png": png(0), "b.txt": b"x"}))
    with pytest.raises(PictureError, match="no class folders"):
        read_zip(make_zip({}))
    with pytest.raises(PictureError, match="11 class folders"):
        read_zip(make_zip({f"c{i}/0.png": png(i, (4, 4)) for i in range(11)}))
    with pytest.raises(PictureError, match="not a zip"):
        read_zip(png(0))


# --------------------------------------------------------------------------- hostile zips

def refused(data: bytes, match: str, limits: Limits = Limits()) -> str:
    with pytest.raises(PictureError, match=match) as e:
        read_zip(data, limits)
    assert "\n" not in str(e.value)
    return str(e.value)


@pytest.mark.parametrize("name,match", [("../evil/0.png", "outside"), ("cup/../../0.png", "outside"),
                                        ("/etc/cup/0.png", "absolute"), ("C:/cup/0.png", "absolute"),
                                        ("cup\\..\\0.png", "backslash"), ("cup//0.png", "outside"),
                                        ("cup/a\x01.png", "control")])
def test_traversal_and_absolute_names_are_refused(name, match):
    entries = good_entries()
    entries[name] = png(0)
    refused(make_zip(entries), match)


def test_symbolic_links_are_refused():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in good_entries().items():
            z.writestr(name, data)
        link = zipfile.ZipInfo("cup/link.png")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        z.writestr(link, "/etc/passwd")
    refused(buf.getvalue(), "symbolic link")


def test_a_ratio_bomb_is_refused_before_it_is_unpacked():
    entries = good_entries()
    entries["cup/bomb.bmp"] = b"\0" * (20 * 2**20)           # 20 MB of zeros: ~20 KB compressed
    refused(make_zip(entries), "compressed .* times")


def test_a_huge_declared_size_is_refused_from_the_directory():
    data = bytearray(make_zip(good_entries()))
    # declare 5 GB for the first entry in the central directory (uncompressed size at +24)
    central = data.rfind(b"PK\x01\x02", 0, data.rfind(b"PK\x05\x06"))
    first = data.find(b"PK\x01\x02")
    assert first <= central
    data[first + 24:first + 28] = (0xFFFFFFF0).to_bytes(4, "little")
    refused(bytes(data), "would unpack to")


def test_an_entry_that_unpacks_to_more_than_it_declares_is_stopped_while_reading():
    payload = b"\0" * (3 * 2**20)
    data = bytearray(make_zip({"cup/a.bmp": payload, "pen/b.png": png(1)}))
    first = data.find(b"PK\x01\x02")
    data[first + 24:first + 28] = (1000).to_bytes(4, "little")   # says 1,000 bytes
    refused(bytes(data), "damaged|more than it says|compressed")


def test_size_entry_count_depth_and_total_limits():
    zipped = make_zip(good_entries())
    refused(zipped, "limit is", Limits(max_bytes=len(zipped) - 1))
    refused(zipped, "entries", Limits(max_entries=5))
    refused(make_zip({"a/b/c/d/e/0.png": png(0), "x/0.png": png(1)}), "nested")
    refused(zipped, "would unpack to", Limits(max_total_uncompressed=1000))
    refused(zipped, "per file", Limits(max_entry=100))


def test_too_many_entries_refused_before_reading():
    refused(make_zip({f"cup/{i}.txt": b"" for i in range(2001)}), "2,001 entries")


def test_a_password_protected_zip_is_refused():
    data = bytearray(make_zip(good_entries()))
    pos = 0
    while (pos := data.find(b"PK\x01\x02", pos)) >= 0:          # set the "encrypted" flag bit
        data[pos + 8] |= 1
        pos += 4
    refused(bytes(data), "password")


# --------------------------------------------------------------------------- folders and files

def test_a_folder_on_disk_reads_like_the_zip(tmp_path):
    for name, data in good_entries("top/").items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    (tmp_path / "top" / "pen" / "note.txt").write_text("x")
    (tmp_path / "top" / "cup" / "link.png").symlink_to(tmp_path / "top" / "cup" / "0.png")
    s, note = read_folder(tmp_path)
    assert s.class_names == ("cup", "pen") and s.counts() == (3, 3)
    assert note == "skipped 1 file that is not a picture"
    z, _ = read_zip(make_zip(good_entries()))
    assert np.array_equal(s.images, z.images)
    with pytest.raises(PictureError, match="not a folder"):
        read_folder(tmp_path / "missing")


def test_read_files_decodes_several_uploads_and_counts_the_bad_ones():
    pictures, note = read_files([("a.png", png(0, mode="RGBA")), ("b.txt", b"hello there, not a picture"),
                                 ("c.png", png(1, mode="L"))])
    assert [p.shape for p in pictures] == [(SIZE, SIZE, 3)] * 2
    assert note.startswith("1 picture could not be read")


def test_reading_takes_a_decoding_slot_and_is_busy_when_none_is_free():
    held = [decoding.slots.acquire(blocking=False) for _ in range(decoding.SLOTS)]
    try:
        with pytest.raises(decoding.Busy):
            read_zip(make_zip(good_entries()))
    finally:
        for got in held:
            if got:
                decoding.slots.release()


def test_reading_stops_after_its_time_and_says_so():
    with pytest.raises(PictureError, match="stopped reading after 0 s: 6 pictures not read"):
        read_zip(make_zip(good_entries()), Limits(seconds=0))


# --------------------------------------------------------------------------- the command line's refusals

def test_the_command_line_refuses_unusable_folders_in_one_line(tmp_path, capsys):
    from cnnviz import cli
    out = str(tmp_path / "m.keras")
    (tmp_path / "empty").mkdir()
    assert cli.main(["train", "--images", str(tmp_path / "empty"), "--out", out]) == 2
    assert capsys.readouterr().err.strip().startswith("error: The folder holds no class folders")
    (tmp_path / "one" / "cup").mkdir(parents=True)
    (tmp_path / "one" / "cup" / "a.png").write_bytes(png(0))
    (tmp_path / "one" / "cup" / "b.png").write_bytes(png(1))
    assert cli.main(["train", "--images", str(tmp_path / "one"), "--out", out]) == 2
    err = capsys.readouterr().err
    assert "only one class (cup)" in err and "error: Add at least 2 classes" in err
    assert cli.main(["evaluate", out, "--images", str(tmp_path / "one")]) == 2
    assert "no model file" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["train", "--images", str(tmp_path / "one"), "--dataset", "mnist", "--out", out])
