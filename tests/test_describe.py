"""The pictures' text alternatives say what their numbers say."""
import numpy as np
import pytest

from cnnviz import describe


def test_feature_map_names_size_range_strongest_cell_and_zeros():
    m = np.zeros((26, 26), np.float32)
    m[12, 8] = 2.1
    m[:5, :] = 0.5
    text = describe.feature_map(m, "Feature map of channel 3 after ReLU")
    assert text == ("Feature map of channel 3 after ReLU, 26 × 26, values 0 to 2.1, strongest at row 12, "
                    f"column 8; {round(100 * (26 * 26 - 5 * 26 - 1) / (26 * 26))} % are 0.")


def test_moving_the_maximum_moves_the_description():
    m = np.random.default_rng(0).uniform(0, 1, (10, 12))
    m[2, 3] = 5
    first = describe.feature_map(m, "map")
    m[2, 3], m[7, 11] = 0.5, 5
    second = describe.feature_map(m, "map")
    assert "row 2, column 3" in first and "row 7, column 11" in second
    assert describe.region(np.pad(np.ones((3, 3)), ((0, 9), (0, 9)))) == "upper left"
    assert describe.region(np.pad(np.ones((3, 3)), ((9, 0), (9, 0)))) == "lower right"
    assert describe.region(np.pad(np.ones((2, 2)), 5)) == "centre"
    assert describe.region(np.pad(np.ones((3, 3)), ((0, 9), (5, 4)))) == "upper centre"
    assert describe.region(np.pad(np.ones((3, 3)), ((5, 4), (0, 9)))) == "middle left"


def test_flat_and_empty_maps_say_so():
    assert describe.feature_map(np.full((4, 5), 0.25), "m") == "m, 4 × 5, every value 0.25."
    assert describe.heat_map(np.zeros((3, 3)), "Saliency") == "Saliency: 3 × 3, every value 0 (nothing stands out)."
    assert describe.region(np.zeros((3, 3))) == "nowhere (all zero)"
    with pytest.raises(ValueError):
        describe.feature_map(np.zeros((2, 2, 2)), "m")


def test_prediction_names_the_top_two_classes():
    p = np.array([0.0, 0.01, 0, 0.97, 0, 0, 0, 0, 0.02, 0])
    names = [str(i) for i in range(10)]
    assert describe.prediction(p, names) == "Prediction: 3 with 97 %; next 8 with 2 %."
    assert describe.prediction([0.998, 0.002], ["cat", "dog"]) == "Prediction: cat with > 99 %; next dog with < 1 %."
    with pytest.raises(ValueError):
        describe.prediction(p, names[:3])


def test_heat_map_says_where_the_evidence_lies_and_for_or_against():
    a = np.zeros((28, 28))
    a[2:6, 20:25] = 1.0       # upper right
    a[20, 2] = -0.5
    text = describe.heat_map(a, "Saliency for class 3")
    assert text.startswith("Saliency for class 3, 28 × 28: the strongest pixels lie in the upper right")
    assert "98 % of the weight speaks for the class" in text
    assert "the largest at row 2, column 20 (1)" in text


def test_kernel_is_read_row_by_row():
    k = np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]])
    assert describe.kernel(k, "Kernel sharpen") == (
        "Kernel sharpen, 3 × 3: row 0: 0, -1, 0; row 1: -1, 5, -1; row 2: 0, -1, 0.")


def test_picture_stack_bars_curve_confusion_window():
    img = np.zeros((28, 28))
    img[20:26, 2:8] = 255
    assert describe.picture(img, "Your picture") == (
        "Your picture: grey picture, 28 × 28 pixels, values 0 to 255; the bright part lies in the lower left; "
        "95 % is dark.")
    maps = np.zeros((4, 4, 3))
    maps[..., 1] = 2
    assert describe.stack(maps, "Layer conv", "channel") == (
        "Layer conv: 3 channels of 4 × 4, values 0 to 2; the strongest is channel 1; 2 of 3 are all 0.")
    assert describe.bars([0.1, 0.7, 0.2, 0.0], ["a", "b", "c", "d"], "Probabilities") == (
        "Probabilities: 4 bars from 0 to 0.7; largest: b (0.7), c (0.2), a (0.1); smallest: d (0).")
    assert describe.curve([2.3, 1.0, 0.4, 0.5], "Loss", steps=[0, 10, 20, 30]) == (
        "Loss: 4 points from step 0 to 30, starting at 2.3 and ending at 0.5; lowest 0.4 at step 20, "
        "highest 2.3 at step 0.")
    assert describe.curve([np.nan], "Loss") == "Loss: no values yet."
    m = np.array([[50, 2, 0], [9, 40, 1], [0, 0, 30]])
    assert describe.confusion(m, ["0", "1", "2"]) == (
        "Confusion matrix of 3 classes (rows: true class, columns: predicted): 120 of 132 right (91 %); "
        "the most frequent mistake: 1 taken for 0 (9 times).")
    assert describe.window(np.array([[1, 4], [2, 3]]), 6, 10, "Pooling window") == (
        "Pooling window: the 2 × 2 window at row 6, column 10, values 1 to 4, the largest at row 6, column 11.")


def test_numbers_read_aloud():
    assert describe.number(-0.0001) == "-0.0001"
    assert describe.number(-0.0) == "0"
    assert describe.number(123456) == "1.23e+05"
    assert describe.number(float("nan")) == "not a number"
    assert describe.percent(0.001) == "< 1 %"


def test_gallery_lists_each_tile_with_its_answer():
    assert describe.gallery([4, 7], [9, 7], [0.97, 0.6], [str(i) for i in range(10)], "Mistakes") == (
        "Mistakes: 2 pictures, 1 answered right. 1: a 4, answered 9 (97 %); 2: a 7, answered right (60 %).")


def test_a_large_maps_region_keeps_a_small_strong_feature():
    big = np.zeros((1000, 1100), np.float32)
    big[950:953, 20:23] = 1.0           # 9 pixels of 1.1 M, in the lower left
    assert describe.region(big) == "lower left"
    big[950:953, 20:23] = 0
    big[10, 1090] = -4.0
    assert describe.region(big) == "upper right"
    assert describe.feature_map(big, "m").startswith("m, 1000 × 1100, values -4 to 0, strongest at row 0, column 0")
    rgb = np.zeros((600, 800, 3), np.float32)
    rgb[500:, :100, 1] = 1.0
    assert describe.picture(rgb, "p", (1200, 1600, 3)) == (
        "p: colour picture, 1200 × 1600 pixels with 3 channels, values 0 to 1; the bright part lies in the "
        "lower left; 98 % is dark.")
