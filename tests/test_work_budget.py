"""cnnviz.work_budget and the occlusion settings the explorer scales with the input (no TensorFlow
model needed: shapes and counts only)."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from cnnviz import work_budget
from cnnviz.model_files import MAX_SIDE, MIN_SIDE

occlusion = pytest.importorskip("cnnviz.attributions.occlusion")
SQUARES, STEPS = [2, 3, 4, 6, 8], [1, 2, 3, 4]      # the explorer's choices, in units


@pytest.mark.parametrize("windows", [16, 100, occlusion.REFERENCE_WINDOWS])
def test_every_supported_input_and_setting_stays_within_the_windows_allowed(windows):
    sides = sorted({MIN_SIDE, 9, 27, 28, 31, 32, 33, 63, 64, 100, 127, 199, 200, 255, MAX_SIDE})
    for h, w in itertools.product(sides, sides):
        unit = occlusion.unit_for((h, w, 1), windows)
        assert (unit == 1) == (h * w <= windows), (h, w)
        for square, step in itertools.product(SQUARES, STEPS):
            patch, stride = square * unit, min(step, square) * unit
            count = occlusion.window_count((h, w), patch, stride)
            if patch <= min(h, w):
                assert count == len(occlusion.windows((h, w), patch, stride)) <= occlusion.MAX_WINDOWS
                assert count <= 1.1 * windows + 2 * (h + w) / unit, (h, w, patch, stride, count)
            else:
                assert count == 0


def test_fit_keeps_the_shipped_settings_and_scales_bigger_networks_down():
    ref = work_budget.REFERENCE_VALUES
    assert work_budget.fit(50, ref) == 50 and work_budget.fit(50, 1000) == 50
    assert work_budget.fit(50, 2 * ref) == 25
    assert work_budget.fit(50, 1000 * ref) == 1 and work_budget.fit(50, 1000 * ref, least=5) == 5


def test_shrink_averages_blocks_and_keeps_partial_ones():
    maps = np.arange(5 * 4 * 2, dtype=np.float32).reshape(5, 4, 2)
    small = work_budget.shrink(maps, 2)
    assert small.shape == (3, 2, 2)
    assert small[0, 0, 1] == maps[:2, :2, 1].mean()
    assert small[2, 1, 0] == maps[4:, 2:, 0].mean()          # the last row: one row of the block
    assert np.array_equal(work_budget.shrink(maps, 1), maps)
    assert work_budget.shrink_factor(256, 256, 4, 640) == 2
    assert work_budget.shrink_factor(28, 28, 8, 640) == 1
