"""cnnviz.lesson: every step's question, for many seeds, against what Keras computes."""
from __future__ import annotations

import collections
import io
import math
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from cnnviz import builder, data, kernels, spec_links, uploads
from cnnviz.lesson import answers, layers, networks, question_types, questions, steps
from cnnviz.lesson.question_types import CHOICE, NUMBER

SEEDS = range(0, 240)
N = len(steps.STEPS)


def by_topic(step: int, topic: str, limit: int = 6) -> list[question_types.Question]:
    """Up to `limit` questions of one kind, from the first seeds that give it."""
    found = [q for q in (questions.question(step, s) for s in SEEDS) if q.topic == topic]
    assert found, f"no seed in {SEEDS} gives a {topic} question"
    return found[:limit]


def facts(q: question_types.Question) -> dict:
    return dict(q.facts)


def keras_out(layer, x: np.ndarray) -> np.ndarray:
    return np.asarray(layer(tf.constant(x[None].astype(np.float32))))[0]


# --------------------------------------------------------------------------- every question

def test_the_lesson_has_its_eight_steps_in_order():
    assert [s.key for s in steps.STEPS] == ["numbers", "convolution", "activation", "pooling",
                                                 "dropout", "dense", "network", "training"]
    for step in steps.STEPS:
        assert len(step.text.split()) >= 40 and step.try_params and step.try_label


@pytest.mark.parametrize("step", range(1, N + 1))
def test_same_seed_same_question_and_a_well_formed_one(step):
    for seed in SEEDS:
        q = questions.question(step, seed)
        assert q == questions.question(step, seed)
        assert (q.step, q.seed) == (step, seed) and q.text and q.explanation and q.why and q.topic
        assert q.kind in (NUMBER, CHOICE)
        if q.kind == CHOICE:
            assert len(q.choices) == len(set(q.choices)) >= 3
            assert q.choices.count(q.answer) == 1
            assert answers.check(q, q.answer).correct
            for other in set(q.choices) - {q.answer}:
                assert not answers.check(q, other).correct
        else:
            assert not q.choices and math.isfinite(q.answer) and q.tolerance >= 0
            assert answers.check(q, repr(float(q.answer))).correct
            assert answers.check(q, question_types.fmt(q.answer)).correct   # as the explanation shows it
            wrong = q.answer + max(1.0, abs(q.answer)) * 0.5 + 1
            assert not answers.check(q, str(wrong)).correct
        if q.kind == CHOICE:
            assert f"**{q.answer}**" in q.explanation
        elif q.topic != "vanishing":            # shown there as 0.25^n = **0.015625**
            assert f"**{question_types.fmt(q.answer)}**" in q.explanation


def shown_question(q: question_types.Question):
    """What a student sees and must answer: the text, the pictures, the key."""
    return q.text, repr(q.visual), str(q.answer)


@pytest.mark.parametrize("step", range(1, N + 1))
def test_students_side_by_side_mostly_get_different_questions(step):
    seen = collections.Counter(shown_question(questions.question(step, s)) for s in range(200))
    assert len(seen) >= 50, len(seen)
    assert seen.most_common(1)[0][1] <= 10, seen.most_common(1)     # no question for over 5 % of seeds


@pytest.mark.parametrize("step", range(1, N + 1))
def test_no_kind_of_question_always_has_the_same_answer(step):
    keys = collections.defaultdict(set)
    for s in range(600):
        q = questions.question(step, s)
        keys[q.topic].add(str(q.answer))
    assert all(len(k) >= 3 for k in keys.values()), {t: sorted(k) for t, k in keys.items()}


def test_question_sets_differ_between_seeds():
    sets = {tuple(q.text for q in questions.question_set(s)) for s in range(200)}
    assert len(sets) == 200
    kinds = {(q.step, q.topic) for s in SEEDS for q in questions.question_set(s)}
    assert {t for _, t in kinds} >= {
        "image_size", "pixel_value", "output_size", "which_sobel", "window_value", "relu_row",
        "slope", "vanishing", "pool_value", "pool_size", "dropout_zeroed", "dropout_scale",
        "dropout_inference", "dense_params", "two_dense", "network_shape", "conv_params", "steps",
        "overfit"}


def test_bad_steps_and_seeds_are_refused():
    for step in (0, N + 1, "2", 2.0, True):
        with pytest.raises(ValueError):
            questions.question(step, 1)
    for seed in (-1, questions.SEED_MAX + 1, "7", 1.5, None):
        with pytest.raises(ValueError):
            questions.question(1, seed)
    assert 1000 <= questions.new_seed() <= 9999


# --------------------------------------------------------------------------- answers against Keras

def test_image_sizes_and_pixel_values():
    for q in by_topic(1, "image_size"):
        f = facts(q)
        assert q.answer == np.zeros((f["height"], f["width"], f["channels"])).size
    for q in by_topic(1, "pixel_value"):
        v = facts(q)["pixel"]
        buf = io.BytesIO()
        Image.fromarray(np.full((4, 4), v, np.uint8)).save(buf, format="PNG")
        loaded = uploads.load_image(buf.getvalue()).pixels       # what the app gives a network
        assert abs(float(loaded[0, 0]) - q.answer) < 1e-6


def test_output_sizes_equal_a_real_conv2d():
    qs = by_topic(2, "output_size", limit=12)
    assert {facts(q)["padding"] for q in qs} == {"valid", "same"}
    for q in qs:
        f = facts(q)
        assert f"**{f['input']} × {f['input']}**" in q.text and f"stride **{f['stride']}**" in q.text
        layer = keras.layers.Conv2D(1, f["kernel"], strides=f["stride"], padding=f["padding"])
        out = keras_out(layer, np.zeros((f["input"], f["input"], 1)))
        assert out.shape[:2] == (q.answer, q.answer)
        if f["padding"] == "same":
            assert f"⌈{f['input']} / {f['stride']}⌉" in q.explanation
        else:
            assert f"⌊({f['input']} − {f['kernel']}) / {f['stride']}⌋ + 1" in q.explanation


def test_the_sobel_x_map_is_the_one_keras_makes_and_the_others_differ():
    for q in by_topic(2, "which_sobel", limit=4):
        presets = dict(q.visual.maps)
        assert presets[q.answer] == "Sobel x" and "Sobel y" in presets.values()
        gray, maps = questions.feature_maps(q.visual)
        conv = keras.layers.Conv2D(1, 3, padding="same", use_bias=False)
        conv.build((None, *gray.shape, 1))
        conv.set_weights([kernels.PRESETS["Sobel x"][:, :, None, None].astype(np.float32)])
        reference = keras_out(conv, gray[..., None])[..., 0]
        shown = dict(maps)
        np.testing.assert_allclose(shown[q.answer], reference, atol=1e-5)
        for label, values in maps:
            if label != q.answer:
                assert not np.allclose(values, reference, atol=1e-2), label


def test_window_values_equal_a_real_conv2d():
    for q in by_topic(2, "window_value"):
        patch, kernel = (np.array(g.values, dtype=np.float32) for g in q.visual.grids)
        np.testing.assert_array_equal(kernel, kernels.PRESETS[facts(q)["kernel"]])
        conv = keras.layers.Conv2D(1, 3, use_bias=False)
        conv.build((None, 3, 3, 1))
        conv.set_weights([kernel[:, :, None, None]])
        assert abs(float(keras_out(conv, patch[..., None])[0, 0, 0]) - q.answer) < 1e-5


def test_activation_answers_equal_keras_and_tensorflow_gradients():
    for q in by_topic(3, "relu_row"):
        row = np.array(facts(q)["row"], dtype=np.float32)
        assert float(np.sum(keras.activations.relu(row))) == q.answer
    slopes = by_topic(3, "slope", limit=40)
    assert {facts(q)["function"] for q in slopes} == {"sigmoid", "tanh", "relu"}
    for q in slopes:
        f = facts(q)
        x = tf.constant(float(f["x"]))
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = getattr(keras.activations, f["function"])(x)
        assert abs(float(tape.gradient(y, x)) - q.answer) < 1e-6
        if f["function"] != "relu":             # the value the question gives is Keras's, rounded
            assert abs(float(y) - f["given"]) <= 5e-5 and question_types.fmt(f["given"]) in q.text
            g = f["given"]                      # and a student working from it is marked right
            route = g * (1 - g) if f["function"] == "sigmoid" else 1 - g * g
            assert answers.check(q, f"{route:.3g}").correct and answers.check(q, f"{route:.4g}").correct
    x = tf.constant(0.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = keras.activations.sigmoid(x)
    top = float(tape.gradient(y, x))
    vanishing = by_topic(3, "vanishing", limit=30)
    assert {facts(q)["ask"] for q in vanishing} == {"fraction", "factor"}
    for q in vanishing:
        left = top ** facts(q)["layers"]
        assert abs((left if facts(q)["ask"] == "fraction" else 1 / left) - q.answer) < 1e-9


def test_pooled_values_and_sizes_equal_keras_pooling():
    qs = by_topic(4, "pool_value", limit=12)
    assert {facts(q)["mode"] for q in qs} == {"max", "avg"}
    for q in qs:
        fmap = np.array(q.visual.grids[0].values, dtype=np.float32)
        layer = (keras.layers.MaxPooling2D if facts(q)["mode"] == "max" else keras.layers.AveragePooling2D)(2)
        r, c = facts(q)["cell"]
        assert abs(float(keras_out(layer, fmap[..., None])[r, c, 0]) - q.answer) < 1e-6
        assert f"**{layers.CORNERS[(r, c)]}**" in q.text
    for q in by_topic(4, "pool_size", limit=10):
        f = facts(q)
        out = keras_out(keras.layers.MaxPooling2D(f["pool"], strides=f["stride"]),
                        np.zeros((f["input"], f["input"], f["channels"])))
        assert out.shape == (q.answer, q.answer, f["channels"])


def test_dropout_answers_equal_what_keras_dropout_does():
    ones = np.ones(200_000, dtype=np.float32)
    for q in by_topic(5, "dropout_zeroed", limit=4):
        f = facts(q)
        out = np.asarray(keras.layers.Dropout(f["rate"], seed=1)(ones, training=True))
        assert abs(np.mean(out == 0) * f["units"] - q.answer) < 0.01 * f["units"]
    scales = by_topic(5, "dropout_scale", limit=8)
    assert {facts(q)["value"] == 1 for q in scales} == {True, False}     # the factor, or a kept value
    for q in scales:
        f = facts(q)
        out = np.asarray(keras.layers.Dropout(f["rate"], seed=2)(ones * f["value"], training=True))
        assert abs(float(out[out != 0][0]) - q.answer) < 1e-5
        assert np.allclose(out[out != 0], out[out != 0][0])
    for q in by_topic(5, "dropout_inference", limit=4):
        f = facts(q)
        out = np.asarray(keras.layers.Dropout(f["rate"])(np.full(64, f["value"], np.float32), training=False))
        assert np.allclose(out, q.answer) and q.answer != 0


def test_dense_parameter_counts_equal_keras_count_params():
    for q in by_topic(6, "dense_params", limit=8):
        f = facts(q)
        model = keras.Sequential([keras.Input(f["map"]), keras.layers.Flatten(), keras.layers.Dense(f["units"])])
        assert model.layers[-1].count_params() == q.answer
    for q in by_topic(6, "two_dense", limit=5):
        f = facts(q)
        model = keras.Sequential([keras.Input((f["inputs"],)), *(keras.layers.Dense(u) for u in f["units"])])
        assert model.count_params() == q.answer


def test_network_shapes_equal_keras_and_the_check_link_builds_the_same_network():
    qs = by_topic(7, "network_shape", limit=8)
    for q in qs:
        f = facts(q)
        stack = [keras.layers.Conv2D(layer[1], layer[2], padding=layer[3], activation="relu")
                 if layer[0] == "conv" else keras.layers.MaxPooling2D(layer[1]) for layer in f["layers"]]
        model = keras.Sequential([keras.Input(f["input"]), *stack, keras.layers.Flatten()])
        assert model.output_shape == (None, q.answer)
        page, params = q.check_link
        link = dict(params)
        assert page == "train"
        specs = spec_links.from_link(link["net"])
        assert spec_links.to_link(specs) == link["net"]             # the form the Train page writes
        shape = data.IMAGE_SHAPES[link["data"]]
        shape = shape if len(shape) == 3 else (*shape, 1)
        assert shape == f["input"]
        summary = builder.validate(specs, shape, 10)
        assert summary.rows[len(specs) - 1].output_shape == (q.answer,)
    for q in by_topic(7, "conv_params", limit=6):
        f = facts(q)
        layer = keras.layers.Conv2D(f["filters"], f["kernel"])
        layer.build((None, *f["input"]))
        assert layer.count_params() == q.answer


@pytest.mark.slow
def test_steps_per_epoch_equal_the_batches_keras_fit_runs():
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    for n, batch in [(100, 32), (64, 32), (65, 64), (7, 16)]:
        count = []
        model.fit(np.zeros((n, 1), np.float32), np.zeros((n, 1), np.float32), batch_size=batch,
                  epochs=2, verbose=0,
                  callbacks=[keras.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: count.append(b))])
        assert len(count) == 2 * networks.steps_per_epoch(n, batch)
    for q in by_topic(8, "steps", limit=10):
        f = facts(q)
        assert q.answer == f["epochs"] * math.ceil(f["pictures"] / f["batch"])


def test_the_overfitting_run_is_the_only_one_whose_validation_loss_turns_up():
    for q in by_topic(8, "overfit", limit=30):
        for run in q.visual.runs:
            train, val = np.array(run.train), np.array(run.validation)
            assert np.all(np.diff(train) < 0)                      # training loss always falls
            if run.label == q.answer:
                assert val[-1] > val.min() + 0.2
                assert int(np.argmin(val)) + 1 == facts(q)["best_epoch"]
            else:
                assert np.all(np.diff(val) <= 1e-9)


# --------------------------------------------------------------------------- typed answers

def test_typed_answers_people_write_are_understood():
    q = questions.question(6, next(s for s in SEEDS if questions.question(6, s).topic == "dense_params"))
    answer = int(q.answer)
    for typed in (str(answer), f" {answer} ", f"{answer:,}", f"{answer:_}", f"{answer:,}".replace(",", " "),
                  f"{answer}.0"):
        assert answers.check(q, typed).correct, typed
    scale = by_topic(5, "dropout_scale")[0]
    r = facts(scale)["rate"]
    for typed in (f"1/{1 - r:g}", f"{1 / (1 - r):.3f}", f"{1 / (1 - r):.2f}".replace(".", ",")):
        assert answers.check(scale, typed).correct, typed
    relu = next(q for q in by_topic(3, "slope", 20) if facts(q)["x"] < 0)
    assert answers.check(relu, "−0").correct


@pytest.mark.parametrize("typed", ["abc", "1e999", "-1e999", "", "   ", "x" * 10_000, "9" * 10_000,
                                   "nan", "inf", "1/0", "1/2/3", "12abc", "0x1F", None, "1e13"])
def test_bad_typed_values_give_one_short_line(typed):
    q = questions.question(2, 1)
    q = q if q.kind == NUMBER else questions.question(1, 1)
    with pytest.raises(answers.AnswerError) as info:
        answers.check(q, typed)
    message = str(info.value)
    assert "\n" not in message and len(message) < 160, message
    assert "Type a number" in message


def test_choices_must_be_one_of_the_answers():
    q = by_topic(8, "overfit")[0]
    for bad in (None, "", "Run Z", "x" * 10_000):
        with pytest.raises(answers.AnswerError) as info:
            answers.check(q, bad)
        assert len(str(info.value)) < 160


def test_feedback_gives_the_why_when_right_and_the_method_when_wrong():
    q = questions.question(2, next(s for s in SEEDS if questions.question(2, s).topic == "output_size"
                                   and facts(questions.question(2, s))["padding"] == "valid"))
    right = answers.check(q, str(q.answer))
    assert right.correct and right.message.startswith("**Right.**") and q.why in right.message
    wrong = answers.check(q, str(q.answer + 3))
    assert not wrong.correct and f"you answered `{q.answer + 3}`." in wrong.message     # no "read as"
    assert "⌊(" in wrong.message and f"**{q.answer}**" in wrong.message


def test_the_lesson_imports_neither_streamlit_nor_tensorflow():
    code = ("import sys, cnnviz.lesson.questions as q, cnnviz.lesson.answers as a; "
            "a.check(q.question(1, 1), '1'); "
            "print('tensorflow' in sys.modules, 'keras' in sys.modules, 'streamlit' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False", "False"]


# --------------------------------------------------------------------------- how students write numbers

def first(step: int, topic: str, where=lambda q: True, limit: int = 4) -> list[question_types.Question]:
    """Up to `limit` questions of a kind that satisfy `where`, over many seeds."""
    found = [q for q in (questions.question(step, s) for s in range(2000)) if q.topic == topic and where(q)]
    assert found, f"no seed gives a {topic} question like that"
    return found[:limit]


def right(q, typed: str, read_as: str | None = None) -> answers.Feedback:
    got = answers.check(q, typed)
    assert got.correct, (typed, q.answer, got.message)
    if read_as is not None:
        assert f"`{typed}` was read as {read_as}." in got.message, got.message
    return got


def wrong(q, typed: str, read_as: str | None = None) -> answers.Feedback:
    got = answers.check(q, typed)
    assert not got.correct, (typed, q.answer)
    said = f"you answered `{typed}`" + (f" (read as {read_as})." if read_as else "")
    assert said in got.message, got.message
    return got


def test_a_comma_with_a_leading_zero_is_a_decimal_comma():
    q = questions.question(1, 0)                                   # the case: 240 / 255
    assert q.topic == "pixel_value" and round(q.answer, 3) == 0.941
    right(q, "0,941", "0.941")
    for q in first(1, "pixel_value", limit=6):
        right(q, f"{q.answer:.3g}".replace(".", ","))
        wrong(q, "0,001", "0.001")
    vanishing = first(3, "vanishing", lambda q: facts(q)["ask"] == "fraction" and facts(q)["layers"] == 3)[0]
    wrong(vanishing, "0,016", "0.016")              # read as a decimal (was 16); 3 digits are asked for
    right(vanishing, "0,0156", "0.0156")


def test_an_ambiguous_comma_takes_the_reading_the_question_needs():
    for q in first(5, "dropout_scale", lambda q: facts(q) == {"rate": 0.25, "value": 1.0}, limit=2):
        right(q, "1,333", "1.333")                  # a decimal answer: 1.333, not 1333
        right(q, "1,33", "1.33")
    for q in first(6, "dense_params", lambda q: q.answer >= 1000, limit=4):
        right(q, f"{int(q.answer):,}")              # a count: 8,010 is eight thousand and ten
        assert "read as" not in answers.check(q, f"{int(q.answer):,}").message
        wrong(q, "1,333")


def test_mixed_numbers_are_read_as_whole_plus_fraction():
    cases = {0.25: "1 1/3", 0.4: "1 2/3", 0.6: "2 1/2", 0.2: "1 1/4"}
    for rate, typed in cases.items():
        for q in first(5, "dropout_scale", lambda q: facts(q) == {"rate": rate, "value": 1.0}, limit=2):
            right(q, typed)
    q = first(5, "dropout_scale", lambda q: facts(q) == {"rate": 0.2, "value": 1.0})[0]
    wrong(q, "1 1/3", "1.33333")                    # was read as 11/3


def test_a_size_answers_a_question_about_a_side():
    qs = first(2, "output_size", limit=5) + first(4, "pool_size", limit=5)
    for q in qs:
        a = int(q.answer)
        for typed in (f"{a} x {a}", f"{a}×{a}", f"{a} X {a}", f"{a} by {a}", f"{a} {a}", f"{a}, {a}",
                      f"{a} pixels", f"{a} px", f"{a} pixels wide"):
            right(q, typed)
        right(q, f"{a} × {a}", f"{a}, the width of {a} × {a}")
        wrong(q, f"{a + 1} × {a + 1}", f"{a + 1}, the width of {a + 1} × {a + 1}")
    for q in first(4, "pool_size", limit=3):
        a, c = int(q.answer), facts(q)["channels"]
        right(q, f"{a} × {a} × {c}")


def test_two_numbers_where_one_is_asked_are_quoted_exactly():
    q = first(6, "dense_params")[0]
    for typed in ("20 20", "20, 20", "20 , 20"):
        with pytest.raises(answers.AnswerError) as info:
            answers.check(q, typed)
        assert str(info.value).startswith(f"Your answer {typed!r} holds 2 numbers (20 and 20)"), str(info.value)
    with pytest.raises(answers.AnswerError) as info:
        answers.check(q, "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16")
    assert "holds 16 numbers; type one" in str(info.value) and len(str(info.value)) < 160
    for q in first(1, "image_size", limit=4):               # a product is a product
        f = facts(q)
        right(q, " × ".join(str(f[k]) for k in ("height", "width", "channels") if f[k] > 1 or k != "channels"))


@pytest.mark.slow
def test_signs_brackets_percentages_and_powers():
    negative = first(2, "window_value", lambda q: q.answer < 0, limit=4)
    for q in negative:
        a = int(-q.answer)
        for typed in (f"-{a}", f"−{a}", f"- {a}", f"(-{a})", f"( − {a} )"):
            right(q, typed)
    for n in (2, 3, 4):
        q = first(3, "vanishing", lambda q: facts(q) == {"layers": n, "ask": "fraction"})[0]
        for typed in (f"0.25^{n}", f"4^-{n}", f"4^(-{n})", f"1/{4 ** n}", f"{100 * 0.25 ** n:.3g}%",
                      f"0.25 ^ {n}", f"0.25**{n}"):
            right(q, typed)
        q = first(3, "vanishing", lambda q: facts(q) == {"layers": n, "ask": "factor"})[0]
        right(q, f"4^{n}", str(4 ** n))
    q = first(3, "vanishing", lambda q: facts(q) == {"layers": 2, "ask": "fraction"})[0]
    right(q, "6.25%", "0.0625")
    for bad in ("4^-", "^2", "2^^2", "(2", "9^9^9^9"):
        with pytest.raises(answers.AnswerError) as info:
            answers.check(q, bad)
        assert repr(bad) in str(info.value) and "Type a number" in str(info.value)


@pytest.mark.parametrize("step", range(1, N + 1))
def test_every_decimal_question_states_its_precision_and_is_judged_by_it(step):
    """One rule for every kind: whole numbers exactly; decimals to 3 significant digits, and the
    question says so."""
    for seed in range(120):
        q = questions.question(step, seed)
        if q.kind != NUMBER:
            continue
        a = float(q.answer)
        if q.hint == question_types.WHOLE:
            assert a.is_integer() and "significant digits" not in q.text
            wrong(q, str(int(a) + 1))
            continue
        assert "3 significant digits" in q.text and "3 significant digits" in q.hint
        right(q, f"{a:.3g}")
        if a != 0:
            unit = 10.0 ** (math.floor(math.log10(abs(a))) - 2)
            assert answers.check(q, repr(round(a, 12) + 2 * unit)).correct is False
            assert q.tolerance == pytest.approx(unit / 2)


def test_two_decimals_are_not_enough_where_three_digits_are_asked_and_the_question_says_so():
    for n in range(2, 6):
        q = first(3, "vanishing", lambda q: facts(q) == {"layers": n, "ask": "fraction"})[0]
        assert "3 significant digits" in q.text
        wrong(q, f"{q.answer:.2f}")
        right(q, f"{q.answer:.3g}")


def test_the_steps_and_window_questions_say_how_they_count():
    for q in by_topic(8, "steps", limit=5):
        assert "last batch of an epoch may be smaller, and it counts as a step" in q.text
    for q in by_topic(2, "window_value", limit=5):
        assert "does not flip the kernel" in q.text
