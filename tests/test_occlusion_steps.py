"""occlusion.step_within: the finest occlusion step whose windows fit one view's budget."""
from __future__ import annotations

import pytest

from cnnviz.attributions.occlusion import step_within, window_count


@pytest.mark.parametrize("shape, patch, stride, most, unit, expected", [
    ((32, 32, 3), 2, 1, 400, 1, 2),        # 961 windows -> 256
    ((28, 28), 2, 1, 400, 1, 2),           # 729 -> 196
    ((32, 32, 3), 4, 2, 400, 1, 2),        # the default, 225: kept
    ((32, 32, 3), 3, 1, 200, 1, 3),        # 900 -> 256 -> 121 at step 3
    ((32, 32), 2, 1, 10, 1, 2),            # nothing fits: the step stops at the patch
    ((200, 200), 14, 7, 400, 7, 14),       # a scaled model (unit 7): steps move in units
])
def test_step_within(shape, patch, stride, most, unit, expected):
    step = step_within(shape, patch, stride, most, unit)
    assert step == expected
    if step < patch:
        assert window_count(shape, patch, step) <= most
    if step > stride:
        assert window_count(shape, patch, step - unit) > most
