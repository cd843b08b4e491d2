"""The map palettes stay readable with each colour-vision deficiency (Machado 2009 simulation):
neighbouring steps stay apart, and in the diverging map a value and its negative never look alike."""
import numpy as np
import pytest

from cnnviz import colour_vision
from cnnviz.ui.figures.colours import _CMAP_ANCHORS, colormap_lut

KINDS = [None, *colour_vision.MACHADO_2009]
STEPS = 9            # a reader tells 9 levels apart on a map's scale
MIN_STEP = 5.0       # ΔE76 between neighbouring steps; about 2.3 is just noticeable
MIN_SIGN = 10.0      # ΔE76 between +v and -v at an eighth of the range


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


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k or "normal")
def test_the_diverging_map_keeps_signs_apart(kind):
    assert sign_pairs(colormap_lut("diverging"), kind).min() > MIN_SIGN


def test_a_red_green_diverging_map_would_fail():
    """The check can fail: green - white - red loses the sign for a deuteranope."""
    anchors = np.array([(0, 140, 0), (247, 247, 247), (200, 0, 0)], dtype=float)
    t = np.linspace(0, 1, 256)
    lut = np.stack([np.interp(t, [0, 0.5, 1], anchors[:, k]) for k in range(3)], 1).round()
    assert sign_pairs(lut, None).min() > MIN_SIGN
    assert sign_pairs(lut, "deuteranopia").min() < MIN_SIGN
