"""The Convolution page (/convolution) driven through streamlit.testing.v1.AppTest."""
from __future__ import annotations

import io
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from cnnviz import images, kernels
from cnnviz.ui import widgets

from kernel_cells import cells, type_cell
from shown_charts import chart_traces

ROOT = pathlib.Path(__file__).resolve().parents[2]
PAGE = "cnnviz/ui/pages/convolution.py"
SHAPE = re.compile(r"output \*\*(\d+) × (\d+)\*\*")
VALUE = re.compile(r"Output value &nbsp; \*\*(-?[\d.]+)\*\*")


def _open(picture: images.Picture | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page(PAGE)
    at.run()
    if picture is not None:   # set after the first run, so the sidebar keeps it
        at.session_state[widgets.PICTURE_KEY] = picture
        at.run()
    assert not at.exception, at.exception
    return at


def _shape(at: AppTest) -> tuple[int, int]:
    for m in at.markdown:
        hit = SHAPE.search(m.value)
        if hit:
            return int(hit.group(1)), int(hit.group(2))
    raise AssertionError("no output shape on the page")


def _step_value(at: AppTest) -> float:
    for m in at.markdown:
        hit = VALUE.search(m.value)
        if hit:
            return float(hit.group(1))
    raise AssertionError("no step-through sum on the page")


def _picture(at: AppTest) -> np.ndarray:
    return np.asarray(at.session_state[widgets.PICTURE_KEY].pixels, dtype=np.float32)


@pytest.fixture(scope="module")
def disc() -> images.Picture:
    yy, xx = np.mgrid[0:30, 0:36]
    return images.Picture(((xx - 18) ** 2 + (yy - 15) ** 2 < 90).astype(np.float32), "test disc")


@pytest.fixture(scope="module")
def colour() -> images.Picture:
    rng = np.random.default_rng(3)
    return images.Picture(rng.random((24, 20, 3)).astype(np.float32), "test colours")


def test_page_loads_with_a_preset_applied_to_the_sample():
    at = _open()
    assert any("Convolution" in t.value for t in at.title)
    assert at.selectbox(key="conv_kernel_preset").value == "Sobel x"
    h, w = _picture(at).shape[:2]
    assert _shape(at) == (h - 2, w - 2)           # 3×3, valid, stride 1
    fmap, label = at.session_state[widgets.FEATURE_MAP_KEY]
    np.testing.assert_allclose(fmap, kernels.convolve(_picture(at), kernels.PRESETS["Sobel x"]), atol=1e-6)
    assert "Sobel x" in label
    formula = next(m.value for m in at.markdown if "o(height)" in m.value)
    assert f"⌋ + 1 = {h - 2}`" in formula and f"⌋ + 1 = {w - 2}`" in formula
    assert not at.error


def test_preset_stride_padding_and_dilation_change_the_output_shape(disc):
    at = _open(disc)
    assert _shape(at) == (28, 34)
    at.selectbox(key="conv_kernel_preset").set_value("Gaussian blur 5×5").run()
    assert _shape(at) == (26, 32)
    formula = next(m.value for m in at.markdown if "o(height)" in m.value)
    assert "= 26`" in formula and "= 32`" in formula
    at.slider(key="conv_stride").set_value(2).run()
    assert _shape(at) == (13, 16)
    at.radio(key="conv_padding").set_value("same").run()
    assert _shape(at) == (15, 18)
    at.radio(key="conv_padding").set_value("explicit").run()
    at.number_input(key="conv_p").set_value(3).run()
    assert _shape(at) == ((30 + 6 - 5) // 2 + 1, (36 + 6 - 5) // 2 + 1)
    at.slider(key="conv_stride").set_value(1).run()
    at.slider(key="conv_dilation").set_value(2).run()
    assert _shape(at) == (30 + 6 - 9 + 1, 36 + 6 - 9 + 1)
    assert not at.exception and not at.error


def test_stride_with_dilation_is_refused_like_keras(disc):
    at = _open(disc)
    at.slider(key="conv_stride").set_value(2).run()
    at.slider(key="conv_dilation").set_value(2).run()
    assert len(at.error) == 1 and "dilation" in at.error[0].value
    assert _shape(at) == (14, 17)                  # the last valid settings: stride 2, dilation 1
    assert not at.exception


def test_invalid_kernel_cell_shows_an_error_and_keeps_the_last_kernel(disc):
    at = _open(disc)
    before = at.session_state[widgets.FEATURE_MAP_KEY][0].copy()
    for bad in ("abc", "", "nan", "1e9"):
        type_cell(at, 1, 2, bad)
        assert not at.exception
        assert len(at.error) == 1, bad
        assert "row 2, column 3" in at.error[0].value and "last valid kernel" in at.error[0].value
        np.testing.assert_array_equal(at.session_state[widgets.FEATURE_MAP_KEY][0], before)
    # A valid edit is used at once.
    type_cell(at, 1, 2, "1/2")
    assert not at.error
    k = kernels.PRESETS["Sobel x"].copy()
    k[1, 2] = 0.5
    np.testing.assert_allclose(at.session_state[widgets.FEATURE_MAP_KEY][0],
                               kernels.convolve(disc.pixels, k), atol=1e-6)


@pytest.mark.slow
def test_kernel_size_normalise_and_reset(disc):
    at = _open(disc)
    at.selectbox(key="conv_kernel_preset").set_value("curve detector").run()
    assert at.selectbox(key="conv_kernel_size").value == 7
    at.button(key="conv_kernel_normalise").click().run()
    assert any("add up to 1" in c.value for c in at.caption)
    at.selectbox(key="conv_kernel_preset").set_value("Sobel y").run()
    at.button(key="conv_kernel_normalise").click().run()
    assert len(at.error) == 1 and "cannot be scaled" in at.error[0].value
    at.selectbox(key="conv_kernel_size").set_value(5).run()
    assert _shape(at) == (26, 32)
    grid = np.array(cells(at))
    assert grid.shape == (5, 5) and grid[0, 0] == "0" and grid[1, 1] == "-1"
    at.button(key="conv_kernel_reset").click().run()
    assert _shape(at) == (28, 34)
    assert not at.exception


@pytest.mark.slow
def test_step_through_sum_equals_the_feature_map_value(disc):
    at = _open(disc)
    for stride, padding, row, col in ((1, "valid", 10, 12), (2, "same", 0, 0), (3, "same", 4, 11)):
        at.slider(key="conv_stride").set_value(stride).run()
        at.radio(key="conv_padding").set_value(padding).run()
        at.slider(key="conv_row").set_value(row).run()
        at.slider(key="conv_col").set_value(col).run()
        expected = kernels.convolve(disc.pixels, kernels.PRESETS["Sobel x"], stride, padding)[row, col]
        assert _step_value(at) == pytest.approx(float(expected), abs=1e-4)
        assert any("✓" in c.value for c in at.caption)
    assert not at.exception


def test_bias_is_added_to_the_map_and_the_step_sum(disc):
    at = _open(disc)
    at.number_input(key="conv_kernel_bias").set_value(0.5).run()
    fmap = at.session_state[widgets.FEATURE_MAP_KEY][0]
    np.testing.assert_allclose(fmap, kernels.convolve(disc.pixels, kernels.PRESETS["Sobel x"]) + 0.5, atol=1e-6)
    r, c = at.session_state["conv_row"], at.session_state["conv_col"]
    assert _step_value(at) == pytest.approx(float(fmap[r, c]), abs=1e-4)


def test_the_map_follows_the_palette_chosen_in_the_sidebar(disc):
    """The page keeps its pictures between reruns: a new palette must still redraw them."""
    at = _open(disc)
    urls = [img.url for el in at.main.get("image") for img in el.proto.imgs]
    at.session_state["cnnviz_palette"] = "colour-blind"
    at.run()
    again = [img.url for el in at.main.get("image") for img in el.proto.imgs]
    assert again[0] == urls[0]                      # the input picture: no map colours
    assert again[1] != urls[1]                      # the feature map in the new colours

def test_the_pictures_reach_the_browser_as_lossless_png(colour):
    """The input and the feature map are enlarged cell by cell as PNG: Streamlit must send them
    as PNG (with output_format "auto" it re-encoded RGB pictures as JPEG on every run)."""
    at = _open(colour)
    at.radio(key="conv_mode").set_value("depthwise").run()
    urls = [img.url for el in at.get("image") for img in el.proto.imgs]
    assert len(urls) >= 4                           # thumbnail, input, output as colours, map
    assert all(url.endswith(".png") for url in urls), urls


@pytest.mark.parametrize("mode", ["gray", "depthwise", "sum"])
def test_colour_modes(colour, mode):
    at = _open(colour)
    at.radio(key="conv_mode").set_value(mode).run()
    assert not at.exception and not at.error
    k = kernels.PRESETS["Sobel x"]
    px = colour.pixels
    if mode == "gray":
        expected = kernels.convolve(px @ np.array([0.299, 0.587, 0.114], np.float32), k)
    elif mode == "depthwise":
        expected = kernels.convolve(px, k, depthwise=True)
        assert any("× 3 channels" in m.value for m in at.markdown)
        assert len(at.image) >= 3                    # input, RGB rendering (+ sidebar thumbnail)
    else:
        expected = kernels.convolve(px, k)
    fmap = at.session_state[widgets.FEATURE_MAP_KEY][0]
    np.testing.assert_allclose(fmap, expected.sum(axis=2) if expected.ndim == 3 else expected, atol=1e-5)
    r, c = at.session_state["conv_row"], at.session_state["conv_col"]
    channel = at.session_state["conv_channel"] if mode != "gray" else None
    value = expected[r, c, ("red", "green", "blue").index(channel)] if mode == "depthwise" else expected[r, c]
    assert _step_value(at) == pytest.approx(float(value), abs=1e-4)


def test_play_advances_the_window(disc):
    at = _open(disc)
    at.slider(key="conv_row").set_value(3).run()
    at.slider(key="conv_col").set_value(5).run()
    at.toggle(key="conv_play").set_value(True).run()
    assert (at.session_state["conv_row"], at.session_state["conv_col"]) == (3, 7)   # 34 wide: jumps of 2
    at.toggle(key="conv_play").set_value(False).run()
    assert not at.exception


def test_tiny_image_with_a_big_kernel_falls_back_to_same_padding():
    tiny = images.Picture(np.eye(4, dtype=np.float32), "tiny")
    at = _open(tiny)
    at.selectbox(key="conv_kernel_preset").set_value("curve detector").run()
    assert len(at.error) == 1 and "empty" in at.error[0].value
    assert _shape(at) == (4, 4)
    assert not at.exception


def test_an_uploaded_picture_changes_the_output():
    at = _open()
    before = at.session_state[widgets.FEATURE_MAP_KEY][0].copy()
    at.segmented_control(key=widgets.SOURCE_KEY).set_value("Upload").run()
    img = np.zeros((40, 50, 3), np.uint8)
    img[10:30, 20:35] = (250, 200, 30)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    at.file_uploader(key=widgets.UPLOAD_KEY).upload("square.png", buf.getvalue(), "image/png").run()
    assert not at.exception
    fmap, label = at.session_state[widgets.FEATURE_MAP_KEY]
    assert fmap.shape == (38, 48) and fmap.shape != before.shape
    assert "square.png" in label
    assert _shape(at) == (38, 48)


@pytest.mark.slow
def test_the_page_does_not_import_tensorflow():
    code = f"""
import sys
from streamlit.testing.v1 import AppTest
import cnnviz.kernels, cnnviz.ui.figures, cnnviz.ui.widgets, cnnviz.ui.kernel_editor
at = AppTest.from_file({str(ROOT / PAGE)!r}, default_timeout=60)
at.run()
assert not at.exception, at.exception
leaked = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras'))
assert not leaked, leaked
"""
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=120)


def test_the_hover_chart_holds_the_feature_map(disc):
    at = _open(disc)
    at.toggle(key="conv_hover_chart").set_value(True).run()
    assert not at.exception
    heat = chart_traces(at, "conv_heatmap")[0]
    expected = kernels.convolve(disc.pixels, kernels.PRESETS["Sobel x"])
    np.testing.assert_allclose(heat["z"], expected, atol=1e-6)
    np.testing.assert_array_equal(heat["x"], np.arange(expected.shape[1]))


def test_convolution_figures_mark_the_right_cells():
    from cnnviz.ui import figures

    rng = np.random.default_rng(0)
    img = rng.random((9, 11))
    win = kernels.window(img, kernels.PRESETS["sharpen"], 0, 0, padding="same")
    assert not win.in_image.all()
    big = rng.standard_normal((600, 300))
    fig, step = figures.feature_map_figure(big, max_side=256)
    assert step == 3 and fig.data[0].x[1] == 3
    np.testing.assert_array_equal(fig.data[0].z, big[::3, ::3].astype(np.float32))

    pads = ((1, 1), (1, 1))
    pic, f = figures.receptive_field_image(img, win.rows, win.cols, pads, size=130)
    arr = np.asarray(pic)
    assert f == 10 and arr.shape == (110, 130, 3)
    assert tuple(arr[95, 5]) == figures.PAD_COLOUR             # bottom-left: padding, untouched
    orange = np.all(arr == figures.WINDOW_COLOUR, axis=2)
    ys, xs = np.nonzero(orange)
    assert ys.min() <= 1 and xs.min() <= 1 and 28 <= ys.max() <= 32 and 28 <= xs.max() <= 32
    pic, f = figures.marked_map_image(rng.standard_normal((5, 5)), 2, 3, size=100)
    black = np.all(np.asarray(pic) == 0, axis=2)
    ys, xs = np.nonzero(black)
    assert f == 20 and 34 <= ys.min() <= 40 and 54 <= xs.min() <= 60 and 60 <= ys.max() <= 66


def test_the_window_sum_grids_write_every_input_weight_and_product():
    from cnnviz.ui import formats, number_grids

    img = np.random.default_rng(1).random((9, 11))
    win = kernels.window(img, kernels.PRESETS["sharpen"], 0, 0, padding="same")   # corner: padding
    page = number_grids.window_sum_html(win.patch, win.kernel, win.products, win.in_image, win.rows,
                                        win.cols)
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", page)
    kh, kw = win.kernel.shape
    assert "<th></th>" not in page and "row and column</span></th>" in page   # no empty header cell
    assert len(cells) == 3 * kh * kw
    patch, weights, products = (cells[i * kh * kw:(i + 1) * kh * kw] for i in range(3))
    assert patch.count(number_grids.PAD_TEXT) == int((~win.in_image).sum()) == 5
    assert [p for p in patch if p != number_grids.PAD_TEXT] == [formats.cell(v) for v in win.patch[win.in_image]]
    assert weights == [formats.cell(v) for v in win.kernel.ravel()]
    np.testing.assert_allclose(win.products, np.where(win.in_image, win.patch, 0) * win.kernel)
    assert products == [formats.cell(v) for v in win.products.ravel()]
    assert f"{formats.value(-2.5)}" in number_grids.colour_scale_html(-2.5, 2.5)
