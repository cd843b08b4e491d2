"""Training: quick real runs on a slice of MNIST."""
import json

import keras
import numpy as np
import pytest

from cnnviz import cli, models, train

pytestmark = pytest.mark.slow

CARD_FIELDS = {"dataset", "architecture", "parameters", "epochs", "seed", "training_seconds", "machine",
               "command", "cnnviz_version", "date", "test_accuracy", "test_loss", "per_class_accuracy",
               "confusion_matrix", "class_names", "history"}


class Recorder(train.TrainingListener):
    def __init__(self, stop_at_batch=None):
        self.batch_losses, self.epochs, self.stop_at_batch = [], [], stop_at_batch

    def on_batch_end(self, batch, batches, logs):
        self.batch_losses.append(logs["loss"])

    def on_epoch_end(self, epoch, epochs, logs):
        self.epochs.append(epoch)

    def should_stop(self):
        return self.stop_at_batch is not None and len(self.batch_losses) >= self.stop_at_batch


def _config(tmp_path, data_dir, **kw):
    return train.TrainConfig(dataset="mnist", epochs=1, out=tmp_path / "mnist.keras", data=str(data_dir),
                             limit=512, batch_size=32, verbose=0, **kw)


def test_quick_training_writes_model_and_sane_card(tmp_path, data_dir):
    rec = Recorder()
    card = train.train(_config(tmp_path, data_dir, listeners=[rec], command="python -m cnnviz train ..."))
    assert rec.epochs == [0] and len(rec.batch_losses) == 15  # 460 training images / 32
    assert rec.batch_losses[-1] < rec.batch_losses[0]  # the loss goes down
    assert CARD_FIELDS <= set(card)
    saved = keras.models.load_model(tmp_path / "mnist.keras", compile=False)
    assert saved.get_layer("conv1") is not None   # the named digits_cnn, not the builder's copy
    assert card["train_samples"] + card["validation_samples"] == 512
    assert 0.3 < card["test_accuracy"] <= 1 and card["test_loss"] > 0 and card["test_samples"] == 10000
    confusion = np.array(card["confusion_matrix"])
    assert confusion.shape == (10, 10) and confusion.sum() == 10000
    assert np.isclose(np.trace(confusion) / 10000, card["test_accuracy"], atol=1e-4)
    assert card["parameters"] == models.build("digits_cnn", "mnist").count_params()
    on_disk = json.loads((tmp_path / "mnist.json").read_text())
    assert on_disk == card
    model = keras.models.load_model(tmp_path / "mnist.keras", safe_mode=True)
    assert model.output_shape == (None, 10)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_same_seed_same_result(tmp_path, data_dir):
    a = train.train(_config(tmp_path / "a", data_dir, seed=3))
    b = train.train(_config(tmp_path / "b", data_dir, seed=3))
    assert a["confusion_matrix"] == b["confusion_matrix"]


@pytest.mark.parametrize("how", ["cancel", "crash"])
def test_interrupted_training_keeps_the_old_model(tmp_path, data_dir, how):
    old_model, old_card = b"the good old model", b"{}"
    (tmp_path / "mnist.keras").write_bytes(old_model)
    (tmp_path / "mnist.json").write_bytes(old_card)

    class Crash(Recorder):
        def on_batch_end(self, batch, batches, logs):
            if batch == 3:
                raise KeyboardInterrupt

    listener = Recorder(stop_at_batch=3) if how == "cancel" else Crash()
    expected = train.TrainingCancelled if how == "cancel" else KeyboardInterrupt
    with pytest.raises(expected):
        train.train(_config(tmp_path, data_dir, listeners=[listener]))
    assert (tmp_path / "mnist.keras").read_bytes() == old_model
    assert (tmp_path / "mnist.json").read_bytes() == old_card
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mnist.json", "mnist.keras"]


def test_cli_train_and_evaluate(tmp_path, data_dir, capsys):
    out = tmp_path / "m.keras"
    assert cli.main(["train", "--dataset", "mnist", "--epochs", "1", "--limit", "256", "--out", str(out),
                     "--data", str(data_dir), "--seed", "1"]) == 0
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["command"].startswith("python -m cnnviz train --dataset mnist --epochs 1 --limit 256")
    capsys.readouterr()
    assert cli.main(["evaluate", str(out), "--dataset", "mnist", "--data", str(data_dir)]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["test_accuracy"] == card["test_accuracy"]
    assert figures["confusion_matrix"] == card["confusion_matrix"]
