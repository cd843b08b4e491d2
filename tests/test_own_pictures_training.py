"""Training on your own pictures (issue N): real Keras training on generated shapes, from scratch
and by transfer, through train_on, the /train page's live.Trainer and the command line."""
from __future__ import annotations

import json
import time

import keras
import numpy as np
import pytest
from PIL import Image

from cnnviz import architectures, cli, layer_specs, live, model_cards, model_files, models
from cnnviz.own_pictures import PictureError, PictureSet, shapes
from cnnviz.own_pictures.training import TRANSFER_FROM, train_on

pytestmark = pytest.mark.slow

TINY = tuple(layer_specs.to_dict(s) for s in architectures.PRESETS["tiny"])


@pytest.fixture(scope="module")
def pictures() -> PictureSet:
    return shapes(60, seed=0)


@pytest.fixture(scope="module")
def transferred(pictures):
    return train_on(pictures, transfer=True, seed=0)


def held_out_figures(model, pictures: PictureSet, card: dict) -> tuple[np.ndarray, np.ndarray]:
    """Keras's own answers on the card's held-out pictures: (true labels, predicted labels)."""
    index = np.asarray(card["held_out_index"])
    probs = model.predict(pictures.images[index].astype("float32") / 255.0, verbose=0)
    return pictures.labels[index], probs.argmax(axis=1)


def test_transfer_learns_the_shapes_and_its_card_is_what_keras_answers(pictures, transferred):
    model, card = transferred
    assert card["dataset"] == "own" and card["transfer"] and card["transfer_from"] == TRANSFER_FROM
    assert card["class_names"] == ["circle", "square", "triangle"]
    assert card["held_out"] == {"circle": 12, "square": 12, "triangle": 12}
    assert card["learned_from"] == {"circle": 48, "square": 48, "triangle": 48}
    assert card["test_accuracy"] >= 0.9
    true, predicted = held_out_figures(model, pictures, card)
    for c, name in enumerate(card["class_names"]):
        assert card["per_class_accuracy"][name] == round(float(np.mean(predicted[true == c] == c)), 4)
    confusion = np.zeros((3, 3), int)
    np.add.at(confusion, (true, predicted), 1)
    assert card["confusion_matrix"] == confusion.tolist()
    wrong = np.flatnonzero(predicted != true)
    assert card["wrong_count"] == len(wrong)
    assert sorted(w["held_out"] for w in card["wrong"]) == sorted(wrong.tolist())
    for w in card["wrong"]:
        assert w["index"] == card["held_out_index"][w["held_out"]]
        assert w["true"] == card["class_names"][pictures.labels[w["index"]]] != w["predicted"]


def test_transfer_keeps_the_pretrained_convolutions_frozen(transferred):
    model, _ = transferred
    pretrained = models.load_pretrained(TRANSFER_FROM)
    convs = [layer for layer in pretrained.layers if isinstance(layer, (keras.layers.Conv2D,
                                                                         keras.layers.BatchNormalization))]
    assert len(convs) == 12
    for layer in convs:
        mine = model.get_layer(layer.name)
        assert not mine.trainable
        for a, b in zip(mine.get_weights(), layer.get_weights()):
            np.testing.assert_array_equal(a, b)
    assert model.get_layer("logits").trainable and model.output.shape[-1] == 3


def test_scratch_learns_the_shapes_with_the_pages_network():
    pictures = shapes(60, seed=1)
    model, card = train_on(pictures, layers=TINY, seed=0, epochs=40, augment=False)
    assert not card["transfer"] and card["architecture"] == "built in cnnviz"
    assert card["test_accuracy"] >= 0.6             # from scratch, 48 pictures a class: well above 1/3
    true, predicted = held_out_figures(model, pictures, card)
    assert card["test_accuracy"] == round(float(np.mean(true == predicted)), 4)


def test_arrays_with_labels_and_a_written_model_that_the_explorer_opens(tmp_path, pictures):
    out = tmp_path / "mine.keras"
    model, card = train_on(list(pictures.images), labels=pictures.labels, class_names=["o", "[]", "/\\"],
                           transfer=True, epochs=3, out=out)
    assert json.loads(out.with_suffix(".json").read_text())["class_names"] == ["o", "[]", "/\\"]
    opened = model_files.for_explorer(keras.models.load_model(out, compile=False, safe_mode=True))
    x = pictures.images[:4].astype("float32") / 255.0
    np.testing.assert_allclose(opened.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-5)
    with pytest.raises(PictureError, match="labels"):
        train_on(list(pictures.images))


# --------------------------------------------------------------------------- the page's way

def test_live_trainer_trains_own_pictures_and_keeps_none_of_them(tmp_path):
    pictures = shapes(20, seed=2)
    trainer = live.Trainer(live.Limits(), folder=tmp_path)
    try:
        with pytest.raises(PictureError):
            trainer.submit(live.JobSettings("own", TINY, pictures=pictures.without_class(0).without_class(0)), "me")
        with pytest.raises(PictureError):
            trainer.submit(live.JobSettings("own", TINY), "me")
        job = trainer.submit(live.JobSettings("own", TINY, optimizer="adam", batch_size=32, epochs=4,
                                              learning_rate=3e-3, pictures=pictures, transfer=True), "me")
        end = time.monotonic() + 300
        while (run := trainer.view(job, "me")).active and time.monotonic() < end:
            time.sleep(0.1)
        assert run.state == "finished", run.message
        assert run.settings.pictures is None                      # the server kept none of them
        assert run.info["class_names"] == list(pictures.class_names)
        assert run.info["frozen"][:2] == ["conv1", "bn1"]
        held = np.asarray(run.card["held_out_index"])
        np.testing.assert_array_equal(run.info["held_out_images"], pictures.images[held])
        np.testing.assert_array_equal(run.info["held_out_labels"], pictures.labels[held])
        assert run.measured and set(run.measured[-1][3]) == {"logits"}   # frozen layers: no gradient
        assert run.card["class_names"] == list(pictures.class_names) and run.card["transfer"]
        model = model_files.for_explorer(keras.models.load_model(run.model_file, compile=False,
                                                                 safe_mode=True))
        true, predicted = held_out_figures(model, pictures, run.card)
        assert run.card["test_accuracy"] == round(float(np.mean(true == predicted)), 4)
        assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["trained.json", "trained.keras"]
    finally:
        trainer.close()


# --------------------------------------------------------------------------- the command line

def write_folder(root, pictures: PictureSet):
    for i, (image, label) in enumerate(zip(pictures.images, pictures.labels)):
        folder = root / pictures.class_names[label]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(folder / f"{i}.png")
    return root


def test_the_command_line_trains_and_evaluates_a_folder(tmp_path, capsys):
    pictures = shapes(20, seed=3)
    folder = write_folder(tmp_path / "shapes", pictures)
    (folder / "circle" / "notes.txt").write_text("not a picture")
    out = tmp_path / "shapes.keras"
    assert cli.main(["train", "--images", str(folder), "--out", str(out), "--transfer", "--epochs", "8"]) == 0
    said = capsys.readouterr()
    assert "held-out accuracy" in said.out and "skipped 1 file that is not a picture" in said.err
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["class_names"] == ["circle", "square", "triangle"] and card["transfer"]
    assert cli.main(["evaluate", str(out), "--images", str(folder)]) == 0
    figures = json.loads(capsys.readouterr().out)
    model = keras.models.load_model(out, compile=False)
    assert figures == model_cards.evaluate(model, pictures.images, pictures.labels, card["class_names"])
    (folder / "square").rename(folder / "box")
    assert cli.main(["evaluate", str(out), "--images", str(folder)]) == 2
    assert "do not match" in capsys.readouterr().err
