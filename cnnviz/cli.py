"""Command line: python -m cnnviz train | evaluate | app."""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import shlex
import subprocess
import sys
import tomllib


def _parser() -> argparse.ArgumentParser:
    from cnnviz.data import DATASETS
    p = argparse.ArgumentParser(prog="python -m cnnviz", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train a model and write it with its model card")
    source = t.add_mutually_exclusive_group(required=True)
    source.add_argument("--dataset", choices=DATASETS)
    source.add_argument("--images", type=pathlib.Path,
                        help="your own pictures: a folder holding one folder per class")
    t.add_argument("--epochs", type=int, help="default: 10 (a dataset), or what suits a few pictures "
                                              "per class (--images)")
    t.add_argument("--transfer", action="store_true",
                   help="--images: reuse the pretrained CIFAR-10 network's convolution blocks, frozen, "
                        "and train a new head")
    t.add_argument("--held-out", type=float, default=0.2,
                   help="--images: the part of each class held out to judge the model (default 0.2)")
    t.add_argument("--out", required=True, type=pathlib.Path, help="where to write the .keras model")
    t.add_argument("--arch", help="a cnnviz.models architecture (default: the dataset's) or a "
                                  "builder preset (tiny, lenet5, deep_sigmoid, ...)")
    t.add_argument("--data", help="an .npz file or a directory holding <dataset>.npz")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--limit", type=int, help="train on the first N shuffled training images only")
    t.add_argument("--batch-size", type=int, help="default: 128 (a dataset), 32 (--images)")
    t.add_argument("--lr", type=float, help="(peak) learning rate; default: 2e-3 (a dataset), 3e-3 (--images)")
    t.add_argument("--optimizer", choices=["adamw_cosine", "adam", "sgd"],
                   help="AdamW with warm-up and cosine decay (default for a dataset), or plain Adam "
                        "(default for --images) / SGD with momentum")
    t.add_argument("--max-steps", type=int, help="stop after this many training steps")
    t.add_argument("--no-augment", action="store_true", help="no flips and shifts (a dataset)")
    t.add_argument("--augment", action="store_true", help="flips and small shifts (--images; off by default)")
    e = sub.add_parser("evaluate", help="print a model's figures on a full test set, or on your own "
                                        "pictures (--images)")
    e.add_argument("model", type=pathlib.Path)
    where = e.add_mutually_exclusive_group(required=True)
    where.add_argument("--dataset", choices=DATASETS)
    where.add_argument("--images", type=pathlib.Path,
                       help="a folder holding one folder per class, named as the model's classes "
                            "(its card, MODEL.json, names them)")
    e.add_argument("--data", help="an .npz file or a directory holding <dataset>.npz")
    e.add_argument("--limit", type=int, help="evaluate on the first N test images only")
    sub.add_parser("app", help="run the app: `streamlit run` on the installed cnnviz/ui/app.py with "
                               "cnnviz's Streamlit settings; what follows `app` goes to `streamlit "
                               "run` (e.g. --server.port 8502)")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["app"]:   # the rest is Streamlit's: argparse would refuse its --section.option
        return _app(argv[1:])
    args = _parser().parse_args(argv)
    from cnnviz.data import DataError
    if getattr(args, "images", None) is not None:
        return _own_pictures(args, argv)
    try:
        if args.command == "train":
            return _train(args, argv)
        return _evaluate(args)
    except (DataError, ValueError) as e:   # bad data, an unknown architecture, a refused layer
        print(f"error: {e}", file=sys.stderr)
        return 2


def _train(args, argv) -> int:
    if args.out.suffix != ".keras":
        print("error: --out must end in .keras", file=sys.stderr)
        return 2
    from cnnviz import train
    chosen = {"epochs": args.epochs, "batch_size": args.batch_size, "learning_rate": args.lr,
              "optimizer": args.optimizer}
    card = train.train(train.TrainConfig(
        dataset=args.dataset, out=args.out, arch=args.arch, data=args.data, seed=args.seed,
        limit=args.limit, max_steps=args.max_steps, augment=not args.no_augment,
        command="python -m cnnviz " + shlex.join(argv),
        **{"epochs": 10, **{k: v for k, v in chosen.items() if v is not None}}))
    print(f"wrote {args.out} and {args.out.with_suffix('.json')}: "
          f"test accuracy {card['test_accuracy']:.2%} on {card['test_samples']} images")
    return 0


def _evaluate(args) -> int:
    if not args.model.is_file():
        print(f"error: no model file at {args.model}", file=sys.stderr)
        return 2
    import keras
    from cnnviz import data, model_cards
    model = keras.models.load_model(args.model, compile=False, safe_mode=True)
    _, (xte, yte), names = data.load_dataset(args.dataset, args.data)
    if args.limit:
        xte, yte = xte[: args.limit], yte[: args.limit]
    print(json.dumps(model_cards.evaluate(model, xte, yte, names), indent=1))
    return 0


def _own_pictures(args, argv) -> int:
    """train/evaluate --images DIR: your own pictures, one folder per class."""
    from cnnviz.own_pictures import PictureError, read_folder
    try:
        pictures, note = read_folder(args.images)
        if note:
            print(f"note: {note}", file=sys.stderr)
        if args.command == "train":
            return _train_own(args, argv, pictures)
        return _evaluate_own(args, pictures)
    except (PictureError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def _train_own(args, argv, pictures) -> int:
    if args.out.suffix != ".keras":
        print("error: --out must end in .keras", file=sys.stderr)
        return 2
    if args.data or args.limit:
        print("error: --data and --limit are for a dataset, not --images", file=sys.stderr)
        return 2
    pictures.check_trainable()
    from cnnviz import train
    from cnnviz.own_pictures import training
    chosen = {"epochs": args.epochs, "batch_size": args.batch_size, "learning_rate": args.lr,
              "optimizer": args.optimizer, "augment": True if args.augment else None}
    settings = {**training.defaults(args.transfer), **{k: v for k, v in chosen.items() if v is not None}}
    card = train.train(train.TrainConfig(
        dataset=training.DATASET, out=args.out, pictures=pictures, transfer=args.transfer,
        held_out=args.held_out, seed=args.seed, max_steps=args.max_steps, verbose=0,
        arch=args.arch or "tiny", command="python -m cnnviz " + shlex.join(argv), **settings))
    held = sum(card["held_out"].values())
    print(f"wrote {args.out} and {args.out.with_suffix('.json')}: held-out accuracy "
          f"{card['test_accuracy']:.2%} on {held} pictures "
          f"({'transfer' if card['transfer'] else 'from scratch'}); per class: "
          + ", ".join(f"{name} {acc:.0%}" for name, acc in card["per_class_accuracy"].items()))
    return 0


def _evaluate_own(args, pictures) -> int:
    if not args.model.is_file():
        print(f"error: no model file at {args.model}", file=sys.stderr)
        return 2
    import keras
    import numpy as np

    from cnnviz import model_cards
    card_file = args.model.with_suffix(".json")
    model = keras.models.load_model(args.model, compile=False, safe_mode=True)
    n_outputs = int(model.outputs[0].shape[-1])
    names = json.loads(card_file.read_text()).get("class_names") if card_file.is_file() else None
    names = list(names or pictures.class_names)
    by_name = {n.casefold(): i for i, n in enumerate(names)}
    unknown = [n for n in pictures.class_names if n.casefold() not in by_name]
    if unknown or len(names) != n_outputs:
        print(f"error: the folders ({', '.join(pictures.class_names)}) do not match the model's "
              f"{n_outputs} classes ({', '.join(names)})", file=sys.stderr)
        return 2
    labels = np.array([by_name[pictures.class_names[c].casefold()] for c in pictures.labels], np.int64)
    print(json.dumps(model_cards.evaluate(model, pictures.images, labels, names), indent=1))
    return 0


def streamlit_flags() -> list[str]:
    """cnnviz's Streamlit settings (the checkout's .streamlit/config.toml) as `streamlit run` flags.

    `streamlit run` reads config.toml only beside the main script and in the working folder, and
    an installed app is run from anywhere.
    """
    from cnnviz import resources
    config = tomllib.loads(resources.streamlit_config_file().read_text())
    return [f"--{section}.{key}={str(value).lower() if isinstance(value, bool) else value}"
            for section, options in config.items() for key, value in options.items()]


def _app(options: list[str]) -> int:
    app = pathlib.Path(__file__).resolve().parent / "ui" / "app.py"
    command = [sys.executable, "-m", "streamlit", "run", str(app), *streamlit_flags(), *options]
    if os.name == "posix":
        os.execv(sys.executable, command)   # Streamlit itself gets the signals (see ui/lifecycle.py)
    return subprocess.call(command)
