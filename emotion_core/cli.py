"""`python -m emotion_core` / `emotion-core`: train, evaluate, predict, list models and runs.

Bad input ends with one line on stderr naming the problem and a non-zero exit, never a
traceback: every error type the library raises for user mistakes is caught in `main`.
"""

import argparse
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter off the terminal

from emotion_core import cli_commands  # noqa: E402


def build_parser():
    parser = argparse.ArgumentParser(prog="emotion-core", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train a model into a new run folder")
    train.add_argument("--data", help="synthetic, a Kaggle-layout folder, or fer2013.csv")
    train.add_argument("--model", help="architecture name (see `models`)")
    train.add_argument("--preset", choices=sorted(cli_commands.PRESETS), help="a named recipe; flags override it")
    train.add_argument("--imbalance", choices=["class_weight", "balance", "none"])
    train.add_argument("--epochs", type=int)
    train.add_argument("--batch-size", type=int)
    train.add_argument("--learning-rate", type=float)
    train.add_argument("--lr-schedule", choices=["constant", "cosine"])
    train.add_argument("--reduce-lr", action="store_true", default=None, help="halve the rate on plateaus")
    train.add_argument("--label-smoothing", type=float)
    train.add_argument("--patience", type=int, help="early-stopping patience in epochs")
    train.add_argument("--validation-fraction", type=float)
    train.add_argument("--limit", type=int, help="use at most N images of the source")
    train.add_argument("--test-data", help="labelled test set to report on (default: the source's test split)")
    train.add_argument("--no-augment", action="store_true", help="turn augmentation off")
    train.add_argument("--flip", action="store_true", default=None, help="add horizontal flips to augmentation")
    train.add_argument("--seed", type=int)
    train.add_argument("--precision", choices=["auto", "float32", "mixed_bfloat16"],
                       help="mixed_bfloat16 trains ~2x faster on CPUs with bfloat16 units; auto picks it there")
    train.add_argument("--init-from", help="start from the weights of a run folder or .keras file")
    train.add_argument("--mode", dest="transfer_mode", choices=["feature", "finetune"],
                       help="transfer models: frozen backbone, or fine-tune its last --unfreeze convolutions")
    train.add_argument("--unfreeze", type=int, help="transfer models: convolutions to fine-tune (study: 3, 6, 9)")
    train.add_argument("--weights", help="transfer models: imagenet, none (random init), or a weights file")
    train.add_argument("--input-size", type=int, help="transfer models: resize faces to this (48, 96, 224)")
    train.add_argument("--runs-dir", help="runs root (default: $EMOTION_RUNS_DIR or ./runs)")
    train.add_argument("--run-dir", help="train an existing run folder from its config.json (used by the app)")

    evaluate = sub.add_parser("evaluate", help="classification report of a model on labelled data")
    evaluate.add_argument("--model", required=True, help="run folder, .keras file, or `default`")
    evaluate.add_argument("--data", required=True, help="labelled data (folder, fer2013.csv, synthetic)")
    evaluate.add_argument("--split", default="test", choices=["train", "test"])
    evaluate.add_argument("--tta", action="store_true", help="average with horizontally flipped faces")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")

    predict = sub.add_parser("predict", help="find faces in images and classify each")
    predict.add_argument("images", nargs="+")
    predict.add_argument("--model", default="default")
    predict.add_argument("--tta", action="store_true")
    predict.add_argument("--small-faces", action="store_true",
                         help="also look for faces down to 5%% of the shorter side (group photos; slower)")
    predict.add_argument("--json", action="store_true")

    models = sub.add_parser("models", help="list the registered architectures")
    models.add_argument("--json", action="store_true")

    bench = sub.add_parser("bench", help="benchmarks that print their figures")
    bench.add_argument("what", choices=["train", "live"],
                       help="train: study recipe vs fast recipe, same time budget; live: per-photo latency")
    bench.add_argument("--data", default="synthetic", help="training data (its test split is used for accuracy)")
    bench.add_argument("--test-data", help="labelled test set (default: the data's test split)")
    bench.add_argument("--budget-min", type=float, default=20.0, help="training minutes per recipe")
    bench.add_argument("--fast-model", help="architecture for the fast recipe (default: the preset's)")
    bench.add_argument("--photos", help="live: folder of photos (e.g. ../shared/data/photos)")
    bench.add_argument("--model", default="default", help="live: model to classify and explain with")

    ship = sub.add_parser("ship", help="make a finished run the shipped default model (assets/)")
    ship.add_argument("run", help="run folder")

    runs = sub.add_parser("runs", help="list runs and their state")
    runs.add_argument("--runs-dir")
    runs.add_argument("--json", action="store_true")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    handler = getattr(cli_commands, f"cmd_{args.command}")
    try:
        return handler(args) or 0
    except cli_commands.USER_ERRORS as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def print_json(data):
    print(json.dumps(data, indent=None, default=str))


if __name__ == "__main__":
    sys.exit(main())
