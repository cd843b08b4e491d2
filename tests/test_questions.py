"""cnnviz.lesson: every step's question, for many seeds, against what Keras computes."""
from __future__ import annotations

import io
import math
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from cnnviz import builder, data, kernels, uploads
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


@pytest.mark.parametrize("step", range(1, N + 1))
def test_different_seeds_give_different_questions(step):
    texts = {questions.question(step, s).text for s in range(100)}
    assert len(texts) >= 15, len(texts)


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
    for q in by_topic(3, "slope", limit=12):
        f = facts(q)
        x = tf.constant(float(f["x"]))
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = getattr(keras.activations, f["function"])(x)
        assert abs(float(tape.gradient(y, x)) - q.answer) < 1e-6
    x = tf.constant(0.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = keras.activations.sigmoid(x)
    top = float(tape.gradient(y, x))
    for q in by_topic(3, "vanishing"):
        assert abs(top ** facts(q)["layers"] - q.answer) < 1e-9


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
    for q in by_topic(5, "dropout_scale", limit=4):
        out = np.asarray(keras.layers.Dropout(facts(q)["rate"], seed=2)(ones, training=True))
        assert abs(float(out[out != 0][0]) - q.answer) < 1e-5
        assert np.allclose(out[out != 0], out[out != 0][0])
    for q in by_topic(5, "dropout_inference", limit=2):
        f = facts(q)
        out = np.asarray(keras.layers.Dropout(f["rate"])(np.ones(f["units"], np.float32), training=False))
        assert int(np.sum(out == 0)) == q.answer == 0 and np.all(out == 1)


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
        specs = builder.from_link(link["net"])
        assert builder.to_link(specs) == link["net"]             # the form the Train page writes
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
    assert not wrong.correct and f"you answered {q.answer + 3}" in wrong.message
    assert "⌊(" in wrong.message and f"**{q.answer}**" in wrong.message


def test_the_lesson_imports_neither_streamlit_nor_tensorflow():
    code = ("import sys, cnnviz.lesson.questions as q, cnnviz.lesson.answers as a; "
            "a.check(q.question(1, 1), '1'); "
            "print('tensorflow' in sys.modules, 'keras' in sys.modules, 'streamlit' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False", "False"]
