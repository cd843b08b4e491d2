"""The map palettes stay readable with each colour-vision deficiency (Machado 2009 simulation):
neighbouring steps stay apart, and in the diverging maps a value and its negative never look alike.
The "colour-blind" scheme goes further: its sequential map looks almost the same to protanopes and
deuteranopes as to everyone else, and its diverging map keeps the sign in lightness alone."""
import numpy as np
import pytest

from cnnviz import colour_vision
from cnnviz.ui.figures.colours import _CMAP_ANCHORS, SCHEMES, colormap_lut

DIVERGING = sorted({scheme["diverging"] for scheme in SCHEMES.values()})
RED_GREEN = ["protanopia", "deuteranopia"]

KINDS = [None, *colour_vision.MACHADO_2009]
STEPS = 9            # a reader tells 9 levels apart on a map's scale
MIN_STEP = 5.0       # ΔE76 between neighbouring steps; about 2.3 is just noticeable
MIN_SIGN = 10.0      # ΔE76 between +v and -v at an eighth of the range
MIN_SIGN_LIGHTNESS = 8.0    # CIELAB L* between +v and -v at 1/8 .. 4/8 of the range (no hue needed)
MAX_SHIFT = 10.0     # ΔE76 between a colour as a protanope/deuteranope sees it and as it is


def steps(lut: np.ndarray) -> np.ndarray:
    return lut[np.linspace(0, 255, STEPS).round().astype(int)]


def sign_pairs(lut: np.ndarray, kind) -> np.ndarray:
    """ΔE between the colours of +k/8 and -k/8 of the range, k = 1..4."""
    c = steps(lut)
    mid = STEPS // 2
    return np.array([colour_vision.delta_e(c[mid + k], c[mid - k], kind) for k in range(1, mid + 1)])


def test_the_simulation_keeps_grey_and_merges_red_with_green():
    grey = np.array([128, 128, 128])
    for kind in colour_vision.MACHADO_2009:
        assert colour_vision.delta_e(grey, grey, kind) == pytest.approx(0, abs=1e-9)
        assert np.allclose(colour_vision.simulate(grey, kind), colour_vision.simulate(grey, None), atol=0.01)
    red, green = np.array([200, 60, 40]), np.array([90, 140, 40])
    assert colour_vision.delta_e(red, green) > 40
    assert colour_vision.delta_e(red, green, "deuteranopia") < colour_vision.delta_e(red, green) / 3


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k or "normal")
@pytest.mark.parametrize("name", sorted(_CMAP_ANCHORS))
def test_every_map_palette_keeps_its_steps_apart(name, kind):
    c = steps(colormap_lut(name))
    gaps = colour_vision.delta_e(c[1:], c[:-1], kind)
    assert gaps.min() > MIN_STEP, (name, kind, gaps.round(1))


def lightness(colours: np.ndarray) -> np.ndarray:
    return colour_vision.lab(colour_vision.simulate(colours, None))[..., 0]


def sign_lightness(lut: np.ndarray) -> np.ndarray:
    """|L*(+k/8) - L*(-k/8)|, k = 1..4: how far apart the signs stay in a grey printout."""
    c = steps(lut)
    mid = STEPS // 2
    return np.array([abs(lightness(c[mid + k]) - lightness(c[mid - k])) for k in range(1, mid + 1)])


def largest_shift(lut: np.ndarray) -> float:
    """The largest ΔE76 between a step as seen with protanopia or deuteranopia and as it is."""
    c = steps(lut)
    normal = colour_vision.lab(colour_vision.simulate(c, None))
    return max(np.linalg.norm(colour_vision.lab(colour_vision.simulate(c, k)) - normal, axis=-1).max()
               for k in RED_GREEN)


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k or "normal")
@pytest.mark.parametrize("name", DIVERGING)
def test_the_diverging_maps_keep_signs_apart(name, kind):
    assert sign_pairs(colormap_lut(name), kind).min() > MIN_SIGN, name


def test_every_scheme_draws_each_role_with_shipped_anchors():
    for scheme in SCHEMES.values():
        assert set(scheme) == {"viridis", "diverging", "inferno"}
        assert set(scheme.values()) <= set(_CMAP_ANCHORS)


def test_the_colour_blind_diverging_map_keeps_the_sign_in_lightness():
    safe = SCHEMES["colour-blind"]["diverging"]
    assert sign_lightness(colormap_lut(safe)).min() > MIN_SIGN_LIGHTNESS
    # the standard blue-white-red map is symmetric in lightness: only hue tells its signs apart
    assert sign_lightness(colormap_lut(SCHEMES["standard"]["diverging"])).min() < 2


def test_the_colour_blind_sequential_map_looks_the_same_to_red_green_deficiencies():
    for role in ("viridis", "inferno"):
        assert largest_shift(colormap_lut(SCHEMES["colour-blind"][role])) < MAX_SHIFT, role
        # viridis and inferno stay readable (steps apart above) but look quite different
        assert largest_shift(colormap_lut(SCHEMES["standard"][role])) > 3 * MAX_SHIFT, role


def test_a_red_green_diverging_map_would_fail():
    """The check can fail: green - white - red loses the sign for a deuteranope."""
    anchors = np.array([(0, 140, 0), (247, 247, 247), (200, 0, 0)], dtype=float)
    t = np.linspace(0, 1, 256)
    lut = np.stack([np.interp(t, [0, 0.5, 1], anchors[:, k]) for k in range(3)], 1).round()
    assert sign_pairs(lut, None).min() > MIN_SIGN
    assert sign_pairs(lut, "deuteranopia").min() < MIN_SIGN
