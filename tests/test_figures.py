"""The figure builders of cnnviz.ui.figures: colours, pictures, mosaics, marks, charts and bytes."""
from __future__ import annotations

import io
import pathlib
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from cnnviz.ui import figures
from cnnviz.ui.figures import charts, colours

ROOT = pathlib.Path(__file__).resolve().parent.parent
WHITE = (255, 255, 255)


def test_the_package_reexports_every_public_name_and_leaves_plotly_unloaded():
    for name in figures.__all__:
        assert not name.startswith("_") and hasattr(figures, name), name
    code = ("import sys\nimport cnnviz.ui.figures\n"
            "leaked = sorted(m for m in sys.modules if m.split('.')[0] in ('plotly', 'streamlit'))\n"
            "assert not leaked, leaked\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=60)


# --------------------------------------------------------------------------- colours

def test_colorize_maps_lo_and_hi_to_the_ends_and_zero_to_white_on_the_diverging_map():
    lut = figures.colormap_lut("diverging")
    assert lut.shape == (256, 3) and lut.dtype == np.uint8
    rgb = figures.colorize(np.array([-2.0, 0.0, 2.0, -9.0, 9.0]), "diverging", -2.0, 2.0)
    assert tuple(rgb[0]) == tuple(lut[0]) == (33, 102, 172)      # lo: blue
    assert tuple(rgb[2]) == tuple(lut[-1]) == (178, 24, 43)      # hi: red
    assert min(rgb[1]) >= 240 and max(rgb[1]) - min(rgb[1]) <= 6  # 0: (near) white
    assert tuple(rgb[3]) == tuple(rgb[0]) and tuple(rgb[4]) == tuple(rgb[2])   # clipped


def test_colorize_on_viridis_and_with_no_spread():
    rgb = figures.colorize(np.array([[1.0, 3.0]]), "viridis", 1.0, 3.0)
    assert rgb.shape == (1, 2, 3)
    assert tuple(rgb[0, 0]) == (68, 1, 84) and tuple(rgb[0, 1]) == (253, 231, 37)
    flat = np.full((2, 2), 5.0)
    assert (figures.colorize(flat, "viridis", 5.0, 5.0) == figures.colormap_lut("viridis")[0]).all()
    assert (figures.colorize(flat, "diverging", 5.0, 5.0) == figures.colormap_lut("diverging")[128]).all()


def test_value_range_is_symmetric_for_the_diverging_map_and_works_per_axis():
    v = np.array([[-1.0, 4.0], [2.0, 3.0]])
    assert figures.value_range(v, "viridis") == (-1.0, 4.0)
    assert figures.value_range(v, "diverging") == (-4.0, 4.0)
    lo, hi = figures.value_range(v, "diverging", axis=0)
    np.testing.assert_array_equal(lo, [-2.0, -4.0])
    np.testing.assert_array_equal(hi, [2.0, 4.0])


@pytest.mark.parametrize("scheme", sorted(colours.SCHEMES))
def test_plotly_scales_match_the_lookup_tables_in_every_palette(scheme, monkeypatch):
    monkeypatch.setattr(colours, "_scheme_source", lambda: scheme)
    for name in ("viridis", "diverging", "inferno"):
        scale, lut = figures.plotly_scale(name), figures.colormap_lut(name)
        assert scale[0] == [0.0, f"rgb{tuple(int(c) for c in lut[0])}"]
        assert scale[-1] == [1.0, f"rgb{tuple(int(c) for c in lut[-1])}"]
    assert colours.PAD_COLOUR != colours.WINDOW_COLOUR


def test_the_chosen_palette_draws_the_maps(monkeypatch):
    v = np.array([[-1.0, 0.0, 1.0]])
    standard = figures.colorize(v, "diverging", -1, 1)
    monkeypatch.setattr(colours, "_scheme_source", lambda: "colour-blind")
    safe = figures.colorize(v, "diverging", -1, 1)
    assert (safe[0, 1] == standard[0, 1]).all()          # 0 stays white
    assert tuple(safe[0, 2]) == (215, 100, 0) and tuple(standard[0, 2]) == (178, 24, 43)
    assert tuple(figures.colormap_lut("viridis")[0]) == (0, 34, 78)   # cividis
    assert figures.sign_colours() == ("blue", "orange")                 # what the captions say
    monkeypatch.setattr(colours, "_scheme_source", lambda: "no such scheme")
    assert (figures.colorize(v, "diverging", -1, 1) == standard).all()
    assert figures.sign_colours() == ("blue", "red")


# --------------------------------------------------------------------------- pictures

def test_rgb8_and_upscale():
    grey = figures.rgb8(np.array([[0.0, 1.0]]))
    assert grey.shape == (1, 2, 3) and grey.dtype == np.uint8
    assert grey[0, 0].tolist() == [0, 0, 0] and grey[0, 1].tolist() == [255, 255, 255]
    big = figures.upscale(np.arange(4, dtype=np.uint8).reshape(2, 2), 3)
    assert big.shape == (6, 6)
    assert (big[:3, :3] == 0).all() and (big[3:, 3:] == 3).all() and (big[:3, 3:] == 1).all()
    assert figures.upscale(big, 0).shape == big.shape                  # factor at least 1


def test_fit_rgb_enlarges_by_an_integer_factor_and_shrinks_to_about_the_size():
    rgb = np.zeros((10, 7, 3), np.uint8)
    rgb[0, 0] = (255, 0, 0)
    big, f = figures.fit_rgb(rgb, 95)
    assert f == 9.0 and big.shape == (90, 63, 3)
    assert (big[:9, :9] == (255, 0, 0)).all() and (big[9:, 9:] == 0).all()   # crisp cells
    small, f = figures.fit_rgb(np.full((400, 200, 3), 77, np.uint8), 100)
    assert f == 0.25 and small.shape == (100, 50, 3) and (small == 77).all()
    same, f = figures.fit_rgb(rgb, 10)
    assert f == 1.0 and same.shape == rgb.shape


def test_picture_image_colours_a_map_or_shows_a_picture():
    img = figures.picture_image(np.array([[-1.0, 1.0]]), size=20, cmap="diverging")
    a = np.asarray(img)
    assert img.size == (20, 10)
    assert tuple(a[0, 0]) == (33, 102, 172) and tuple(a[0, -1]) == (178, 24, 43)
    grey = np.asarray(figures.picture_image(np.full((4, 4, 1), 1.0), size=8))
    assert grey.shape == (8, 8, 3) and (grey == 255).all()


def test_overlay_heat_with_no_alpha_is_the_picture():
    base = np.random.default_rng(0).random((6, 6)).astype(np.float32)
    out = np.asarray(figures.overlay_heat(base, np.ones((6, 6)), alpha=0.0, size=6))
    np.testing.assert_array_equal(out[..., 0], np.rint(base * 255).astype(np.uint8))


def test_padded_picture_and_map_picture():
    pixels = np.ones((3, 4), np.float32)
    rgb, f = figures.padded_picture(pixels, ((1, 2), (0, 1)), size=60)
    assert f == 10.0 and rgb.shape == (60, 50, 3)
    assert tuple(rgb[5, 5]) == figures.PAD_COLOUR                  # top padding row
    assert tuple(rgb[15, 5]) == WHITE                              # first input row
    assert tuple(rgb[15, 45]) == figures.PAD_COLOUR                # right padding column
    m, f = figures.map_picture(np.array([[-1.0, 0.0, 1.0]]), size=30)
    assert f == 10.0 and m.shape == (10, 30, 3)
    assert tuple(m[5, 5]) == (33, 102, 172) and tuple(m[5, 25]) == (178, 24, 43)


# --------------------------------------------------------------------------- grids

@pytest.mark.parametrize("n, cols, expected", [(1, None, (1, 1)), (8, None, (1, 8)), (9, None, (2, 8)),
                                                (64, None, (8, 8)), (100, None, (7, 15)),
                                                (10, 3, (4, 3)), (3, 10, (1, 3))])
def test_mosaic_layout(n, cols, expected):
    assert figures.mosaic_layout(n, cols) == expected


def test_mosaic_layout_needs_a_map():
    with pytest.raises(ValueError):
        figures.mosaic_layout(0)


def test_mosaic_puts_each_channel_in_its_tile():
    maps = np.zeros((4, 4, 3), np.float32)
    maps[..., 1] = 1.0
    maps[..., 2] = -1.0
    gap, width = 2, 2 + 3 * (4 * 5 + 2)                # room for tiles 5x enlarged
    a = np.asarray(figures.mosaic(maps, labels=False, gap=gap, width=width))
    assert a.shape == (4 * 5 + 2 * gap, width, 3)
    tile = lambda k: a[gap:gap + 20, gap + k * 22:gap + k * 22 + 20]   # noqa: E731
    assert (tile(0) >= 240).all()                       # 0: (near) white on the diverging map
    assert (tile(1) == (178, 24, 43)).all() and (tile(2) == (33, 102, 172)).all()
    assert (a[:gap] == 255).all() and (a[:, :gap] == 255).all()      # white gaps
    with pytest.raises(ValueError):
        figures.mosaic(np.zeros((2, 2, 2, 2)))


def test_mosaic_labels_above_make_room():
    maps = np.random.default_rng(1).random((3, 3, 4)).astype(np.float32)
    plain = figures.mosaic(maps, labels=False)
    above = figures.mosaic(maps, labels="above")
    assert above.size[0] == plain.size[0] and above.size[1] > plain.size[1]


def test_pixel_values_image_writes_the_numbers_in_shaded_cells():
    img = figures.pixel_values_image(np.array([[255]], np.uint8), channel="red", size=60)
    a = np.asarray(img)
    cell = max(16, 60 - 30)
    assert img.size == (30 + cell + 1, 30 + cell + 1)
    assert tuple(a[30 + 3, 30 + 3]) == (255, 0, 0)
    centre = a[30 + cell // 2 - 3:30 + cell // 2 + 3, 30 + 2:30 + cell - 2]
    assert (centre != (255, 0, 0)).any(axis=-1).any()   # the number is written in the cell


# --------------------------------------------------------------------------- marked pictures

def test_crop_box_image_draws_the_box_in_its_colour():
    a = np.asarray(figures.crop_box_image(np.zeros((10, 10)), 2, 3, 4, 4, size=100, colour=(0, 255, 0)))
    assert a.shape == (100, 100, 3)
    assert tuple(a[40, 30]) == (0, 255, 0) and tuple(a[0, 0]) == (0, 0, 0)


def test_pooling_image_marks_winners_and_the_window():
    v = np.zeros((4, 4), np.float32)
    a = np.asarray(figures.pooling_image(v, -1.0, 1.0, size=40, winners=np.array([[1, 2]])))
    assert a.shape == (40, 40, 3)
    assert tuple(a[15, 25]) == WHITE                               # the winner's dot, at its centre
    assert tuple(a[5, 5]) == tuple(figures.colorize(0.0, "diverging", -1.0, 1.0))
    framed = np.asarray(figures.pooling_image(v, -1.0, 1.0, size=40, box=(0, 0, 1, 1)))
    assert tuple(framed[0, 10]) == (0, 0, 0) and tuple(framed[19, 10]) == (0, 0, 0)
    assert tuple(framed[30, 30]) == tuple(a[30, 30])                # outside the box: untouched


def test_receptive_field_and_marked_map_reuse_a_base_picture():
    pixels = np.random.default_rng(2).random((5, 5)).astype(np.float32)
    pads = ((1, 1), (1, 1))
    base = figures.padded_picture(pixels, pads, 70)
    fresh, f = figures.receptive_field_image(pixels, [-1, 0, 1], [-1, 0, 1], pads, size=70)
    reused, g = figures.receptive_field_image(pixels, [-1, 0, 1], [-1, 0, 1], pads, size=70, base=base)
    assert f == g == 10.0
    np.testing.assert_array_equal(np.asarray(fresh), np.asarray(reused))
    assert (np.asarray(fresh) == figures.WINDOW_COLOUR).all(axis=-1).any()
    values = np.random.default_rng(3).standard_normal((4, 4))
    marked, f = figures.marked_map_image(values, 1, 1, size=80)
    plain, _ = figures.map_picture(values, 80)
    changed = (np.asarray(marked) != plain).any(axis=-1)
    ys, xs = np.nonzero(changed)
    assert f == 20.0 and changed.any() and ys.min() >= 15 and ys.max() <= 44 and xs.max() <= 44


# --------------------------------------------------------------------------- encoding

def test_to_png_round_trips_pixels():
    rgb = np.random.default_rng(4).integers(0, 256, (7, 9, 3), dtype=np.uint8)
    data = figures.to_png(Image.fromarray(rgb))
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(data))), rgb)


def test_display_bytes_keeps_small_pictures_png_and_shrinks_large_ones_to_jpeg():
    small = Image.fromarray(np.zeros((10, 20, 3), np.uint8))
    assert figures.display_bytes(small, 20) == figures.to_png(small)
    large = Image.fromarray(np.full((100, 400, 3), 200, np.uint8))
    data = figures.display_bytes(large, 100)
    assert data[:2] == b"\xff\xd8"                                   # JPEG
    shown = Image.open(io.BytesIO(data))
    assert shown.size == (100, 25)
    assert figures.encode_picture(small, lossy=False) == figures.to_png(small)
    assert figures.encode_picture(small, lossy=True)[:2] == b"\xff\xd8"



def _streamlit_sends(data: bytes, fmt: str, width) -> bytes:
    """What st.image(data, output_format=fmt, width=width) hands the browser (its own code)."""
    from streamlit.elements.lib import image_utils
    from streamlit.elements.lib.layout_utils import LayoutConfig
    return image_utils._ensure_image_size_and_format(
        data, LayoutConfig(width=width), image_utils._validate_image_format_string(data, fmt))


@pytest.mark.parametrize("width", ["content", "stretch", 400])
def test_for_st_image_gives_streamlit_png_maps_it_sends_untouched(width):
    """A crisp RGB map as PNG: with output_format "auto" Streamlit re-encodes it as JPEG on every
    run (lossy, and CPU); for_st_image's format makes it send the very same bytes."""
    rgb = np.random.default_rng(6).integers(0, 256, (40, 60, 3), dtype=np.uint8)
    png = figures.to_png(Image.fromarray(rgb))
    assert _streamlit_sends(png, "auto", width)[:2] == b"\xff\xd8"        # the bug: JPEG
    data, fmt = figures.for_st_image(png, width)
    assert (data, fmt) == (png, "PNG")
    assert _streamlit_sends(data, fmt, width) is data
    jpeg = figures.encode_picture(Image.fromarray(rgb), lossy=True)
    assert figures.for_st_image(jpeg, width) == (jpeg, "JPEG")
    assert _streamlit_sends(jpeg, "JPEG", width) is jpeg


def test_for_st_image_encodes_a_pil_image_once_as_png():
    img = Image.fromarray(np.random.default_rng(7).integers(0, 256, (5, 8, 3), dtype=np.uint8))
    data, fmt = figures.for_st_image(img)
    assert fmt == "PNG" and data is figures.to_png(img)                      # kept, not encoded again
    with pytest.raises(ValueError):
        figures.image_format(b"GIF89a")


def test_the_app_icon_is_png_bytes_that_set_page_config_sends_untouched():
    """set_page_config runs on every rerun: a PIL icon was encoded each time."""
    icon = figures.app_icon()
    assert figures.image_format(icon) == "PNG"
    assert Image.open(io.BytesIO(icon)).size == (64, 64)
    assert _streamlit_sends(icon, "auto", "stretch") is icon            # how set_page_config sends it

@pytest.mark.parametrize("kind", ["PNG", "JPEG"])
def test_for_st_image_shrinks_a_picture_wider_than_shown_once_as_streamlit_would(kind):
    rgb = np.random.default_rng(8).integers(0, 256, (30, 300, 3), dtype=np.uint8)
    original = figures.encode_picture(Image.fromarray(rgb), lossy=kind == "JPEG")
    data, fmt = figures.for_st_image(original, 120)
    assert fmt == kind and figures.image_format(data) == kind
    assert _streamlit_sends(data, fmt, 120) is data                          # not shrunk again
    ours, theirs = (np.asarray(Image.open(io.BytesIO(d)).convert("RGB"), dtype=int)
                    for d in (data, _streamlit_sends(original, kind, 120)))
    assert ours.shape == theirs.shape == (12, 120, 3)
    assert np.abs(ours - theirs).max() <= (0 if kind == "PNG" else 8)       # the same picture
    assert figures.for_st_image(original, 120)[0] is data                    # shrunk once
    assert figures.for_st_image(original, "stretch") == (original, kind)     # 300 px < 1460 px


# --------------------------------------------------------------------------- charts

RNG = np.random.default_rng(5)
MAP = RNG.standard_normal((6, 6))
LARGE_MAP = RNG.random((12, 12))
BIG_MAP = RNG.standard_normal((30, 20))
X = np.linspace(-3, 3, 13)
SIGNAL, OUTPUT = np.arange(5.0), np.arange(5.0) * 2 - 1
TAPS = np.array([-1, 0, 1])


def _every_chart():
    curves = [{"label": "tanh", "colour": "#1f77b4", "f": np.tanh(X), "df": 1 - np.tanh(X) ** 2,
               "saturated": np.abs(X) > 2, "extra": [("line", X / 3, "dot")]},
              {"label": "relu", "colour": "#ff7f0e", "f": np.maximum(X, 0), "df": None}]
    return {
        "map_heatmap": charts.map_heatmap(MAP, "m", marks=np.array([[0, 1], [4, 2]]), grid=(2, 2)),
        "map_heatmap_large": charts.map_heatmap(LARGE_MAP, text=False),
        "vector_bars": charts.vector_bars(np.arange(4.0) - 1.5, "v", labels=list("abcd"), highlight=1,
                                          customdata=np.arange(8).reshape(4, 2)),
        "activation_figure": charts.activation_figure(X, curves, x0=0.5),
        "gradient_norms_figure": charts.gradient_norms_figure({"a": [1e-6, 0.0, 1.0]}, {"a": "red"}),
        "conv1d_figure": charts.conv1d_figure(SIGNAL, OUTPUT, TAPS, [0.5, 1.0, 0.25], 0),
        "feature_map_figure": charts.feature_map_figure(BIG_MAP, max_side=10, title="f")[0],
    }


def _shown(fig) -> list[dict]:
    """Each trace's x, y, z, text and customdata as plain float arrays (None where absent)."""
    def values(v):
        if v is None:
            return None
        cells = np.asarray(v, dtype=object)
        return cells if any(isinstance(c, str) for c in cells.ravel()) else np.asarray(v, dtype=float)
    return [{k: values(getattr(t, k, None)) for k in ("x", "y", "z", "text", "customdata")}
            for t in fig.data]


def _cells(v) -> np.ndarray:
    return np.asarray([[f"{a:.2f}" for a in row] for row in np.asarray(v, np.float32).tolist()], object)


# What each chart must draw: its own input numbers, trace by trace.
EXPECTED = {
    "map_heatmap": lambda: [{"z": MAP.astype(np.float32), "text": _cells(MAP)},
                            {"x": [1, 2], "y": [0, 4]},                  # marks: (row, col) -> (x, y)
                            {"x": [-0.5, 5.5, np.nan] * 2 + [1.5, 1.5, np.nan, 3.5, 3.5, np.nan],
                             "y": [1.5, 1.5, np.nan, 3.5, 3.5, np.nan] + [-0.5, 5.5, np.nan] * 2}],
    "map_heatmap_large": lambda: [{"z": LARGE_MAP.astype(np.float32), "text": None}],
    "vector_bars": lambda: [{"x": np.array(list("abcd"), object), "y": np.arange(4.0) - 1.5,
                             "customdata": np.arange(8).reshape(4, 2)}],
    "activation_figure": lambda: [{"x": X, "y": np.tanh(X)}, {"x": X, "y": 1 - np.tanh(X) ** 2},
                                  {"x": X, "y": np.where(np.abs(X) > 2, np.tanh(X), np.nan)},
                                  {"x": X, "y": X / 3}, {"x": X, "y": np.maximum(X, 0)}],
    "gradient_norms_figure": lambda: [{"x": [1, 2, 3], "y": [1e-6, np.nan, 1.0]}],   # 0: not drawn on log
    "conv1d_figure": lambda: [{"x": np.arange(5), "y": SIGNAL},
                              {"x": [0, 1], "y": SIGNAL[[0, 1]],
                               "text": np.array(["×1", "×0.25"], object)},       # taps inside
                              {"x": [-1], "y": [0.0], "text": np.array(["0"], object)},   # padding
                              {"x": np.arange(5), "y": OUTPUT}, {"x": [0], "y": [OUTPUT[0]]}],
    "feature_map_figure": lambda: [{"z": BIG_MAP.astype(np.float32)[::3, ::3], "x": np.arange(0, 20, 3),
                                    "y": np.arange(0, 30, 3)}],
}


@pytest.mark.parametrize("name", list(_every_chart()))
def test_every_chart_is_valid_plotly_and_draws_its_numbers(name):
    """The builders skip Plotly's validation; validating the spec here catches a bad property, and
    each trace must carry the numbers the chart was built from."""
    import plotly.graph_objects as go

    fig = _every_chart()[name]
    go.Figure(fig.to_dict())                             # raises on any invalid property
    shown, expected = _shown(fig), EXPECTED[name]()
    assert len(shown) == len(expected), [t.type for t in fig.data]
    for i, (got, want) in enumerate(zip(shown, expected)):
        for key, value in want.items():
            if value is None:
                assert got[key] is None, (i, key)
            elif np.asarray(value).dtype == object:
                assert got[key].tolist() == np.asarray(value).tolist(), (i, key)
            else:
                np.testing.assert_allclose(got[key], value, rtol=1e-6, err_msg=f"trace {i}: {key}")


def test_chart_contents():
    figs = _every_chart()
    heat = figs["map_heatmap"].data
    m = float(np.abs(MAP).max())
    assert heat[0].type == "heatmap" and (heat[0].zmin, heat[0].zmax) == pytest.approx((-m, m))
    assert [t.type for t in heat] == ["heatmap", "scatter", "scatter"]
    assert list(figs["vector_bars"].data[0].marker.color) == ["#4c78a8", "#ff8c00", "#4c78a8", "#4c78a8"]
    assert [t.name for t in figs["activation_figure"].data] == [
        "tanh", "tanh′ (slope)", "tanh: saturated", "line", "relu"]
    assert figs["activation_figure"].layout.shapes[0].x0 == 0.5
    assert [t.name for t in figs["conv1d_figure"].data] == [
        "input", "inputs that y[0] sees", "padding (zeros)", "output", "y[0]"]
    fig, step = charts.feature_map_figure(np.ones((30, 20)), max_side=10)
    assert step == 3 and fig.data[0].z.shape == (10, 7)


def test_long_training_curves_are_thinned_evenly_keeping_both_ends():
    from cnnviz.ui.figures import training
    steps, values = training.thinned(np.arange(20_000) * 0.5)
    assert len(steps) <= training.MAX_CURVE_POINTS
    assert steps[0] == 1 and steps[-1] == 20_000 and np.array_equal(values, (steps - 1) * 0.5)
    short_steps, short = training.thinned([3.0, 2.0, 1.0])
    assert short_steps.tolist() == [1, 2, 3] and short.tolist() == [3.0, 2.0, 1.0]
