"""cnnviz.ui.kept.Kept: the byte budget of the kept pictures and page results."""
from __future__ import annotations

import pytest

from cnnviz.ui.kept import Kept


def test_least_recently_used_go_first_and_the_budget_holds():
    kept = Kept(budget=800)
    for key in "abcd":
        kept.put(key, key * 100, 100)
    assert kept.get("a") == "a" * 100              # a is now the most recently used
    for key in "efghi":
        kept.put(key, key, 100)
    assert kept.size == 800 and kept.get("b") is None and kept.get("a") == "a" * 100
    kept.put("a", "A", 50)                          # replaced: its old size no longer counts
    assert kept.size == 750 and kept.get("a") == "A"


def test_a_value_over_an_eighth_of_the_budget_is_not_kept():
    kept = Kept(budget=800)
    kept.put("big", b"x", 101)
    assert kept.get("big", "missing") == "missing" and kept.size == 0


def test_an_unhashable_key_says_so():
    with pytest.raises(TypeError):
        Kept(100).get(["a list"])
