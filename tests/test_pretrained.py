"""The shipped models: they load safely and match their model cards."""
import numpy as np
import pytest

from cnnviz import data, model_cards, models


def test_every_expected_model_is_shipped_with_its_card():
    assert set(models.PRETRAINED) >= {"mnist", "fashion_mnist", "cifar10"}
    for name, card in models.PRETRAINED.items():
        assert card["dataset"] == name and len(card["class_names"]) == 10
        assert models.model_path(name).stat().st_size <= 4_000_000
        assert card["command"].startswith(("python -m cnnviz train",
                                           "KERAS_BACKEND=jax python scripts/train_on_accelerator.py",
                                           "KERAS_BACKEND=torch python scripts/train_on_accelerator.py"))


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(models.PRETRAINED))
def test_accuracy_on_first_1000_matches_card(name, data_dir):
    card = models.PRETRAINED[name]
    model = models.load_pretrained(name)
    _, (xte, yte), _ = data.load_dataset(card["dataset"], data_dir)
    xte, yte = xte[:1000], yte[:1000]
    measured = model_cards.evaluate(model, xte, yte, card["class_names"])["test_accuracy"]
    # The first 1000 test images are not a balanced sample (CIFAR-10's are all airplanes):
    # weight the card's per-class accuracy by the classes actually present.
    per_class = np.array([card["per_class_accuracy"][c] for c in card["class_names"]])
    expected = float(per_class @ np.bincount(yte, minlength=10) / len(yte))
    assert abs(measured - expected) <= 0.015, (measured, expected)


@pytest.mark.parametrize("name", sorted(models.PRETRAINED))
def test_single_image_call_matches_batch(name):
    model = models.load_pretrained(name)
    x = np.random.default_rng(0).random((2, *model.input_shape[1:]), dtype=np.float32)
    one = np.asarray(model(x[:1], training=False))
    both = np.asarray(model(x, training=False))
    assert np.allclose(one[0], both[0], atol=1e-5) and np.isclose(one.sum(), 1, atol=1e-5)


def test_unknown_model_name():
    with pytest.raises(KeyError, match="No pretrained model 'imagenet'"):
        models.load_pretrained("imagenet")
