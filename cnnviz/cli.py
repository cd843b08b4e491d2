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
    t.add_argument("--dataset", required=True, choices=DATASETS)
    t.add_argument("--epochs", type=int, default=10)
    t.add_argument("--out", required=True, type=pathlib.Path, help="where to write the .keras model")
    t.add_argument("--arch", help="a cnnviz.models architecture (default: the dataset's) or a "
                                  "builder preset (tiny, lenet5, deep_sigmoid, ...)")
    t.add_argument("--data", help="an .npz file or a directory holding <dataset>.npz")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--limit", type=int, help="train on the first N shuffled training images only")
    t.add_argument("--batch-size", type=int, default=128)
    t.add_argument("--lr", type=float, default=2e-3, help="(peak) learning rate")
    t.add_argument("--optimizer", default="adamw_cosine", choices=["adamw_cosine", "adam", "sgd"],
                   help="AdamW with warm-up and cosine decay (default), or plain Adam / SGD with momentum")
    t.add_argument("--max-steps", type=int, help="stop after this many training steps")
    t.add_argument("--no-augment", action="store_true")
    e = sub.add_parser("evaluate", help="print a model's figures on a full test set")
    e.add_argument("model", type=pathlib.Path)
    e.add_argument("--dataset", required=True, choices=DATASETS)
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
    card = train.train(train.TrainConfig(
        dataset=args.dataset, epochs=args.epochs, out=args.out, arch=args.arch, data=args.data,
        seed=args.seed, limit=args.limit, batch_size=args.batch_size, learning_rate=args.lr,
        optimizer=args.optimizer, max_steps=args.max_steps,
        augment=not args.no_augment, command="python -m cnnviz " + shlex.join(argv)))
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
