"""`python -m emotion_core` / `emotion-core`: train, evaluate, predict, list models and runs.

Each subcommand's parser names its handler (`set_defaults(func=...)`), and each handler
returns an exit code. Bad input ends with one line on stderr naming the problem and exit
code 2, never a traceback: every error a user can cause is an EmotionCoreError, and only
that base is caught, so a bug in this project still surfaces as one.
"""

import argparse
import json
import os
import sys

from emotion_core.quiet import silenced_stderr

# TensorFlow's C++ start-up lines (oneDNN notes, absl warnings) are not ours to print: they
# come while it is imported, which happens here with stderr silenced (see quiet.py).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
with silenced_stderr():
    import keras  # noqa: E402, F401
    import tensorflow  # noqa: E402, F401

from emotion_core.config import PRESETS, TRAIN_FLAGS, config_from_flags  # noqa: E402
from emotion_core.errors import ConfigError, EmotionCoreError, ImageError, RunError  # noqa: E402
from emotion_core.labels import EMOTIONS  # noqa: E402
from emotion_core.models.io import DEFAULT  # noqa: E402


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except EmotionCoreError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def build_parser():
    parser = argparse.ArgumentParser(prog="emotion-core", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    _train_parser(sub)

    evaluate = sub.add_parser("evaluate", help="classification report of a model on labelled data")
    evaluate.add_argument("--model", required=True, help=f"run folder, .keras file, or `{DEFAULT}`")
    evaluate.add_argument("--data", required=True, help="labelled data (folder, fer2013.csv, synthetic)")
    evaluate.add_argument("--split", default="test", choices=["train", "test"])
    evaluate.add_argument("--tta", action="store_true", help="average with horizontally flipped faces")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.set_defaults(func=cmd_evaluate)

    predict = sub.add_parser("predict", help="find faces in images and classify each")
    predict.add_argument("images", nargs="+")
    predict.add_argument("--model", default=DEFAULT)
    predict.add_argument("--tta", action="store_true")
    predict.add_argument("--small-faces", action="store_true",
                         help="also scan overlapping parts of each image, for faces down to 2%% of its shorter side "
                              "(group photos; slower)")
    predict.add_argument("--json", action="store_true")
    predict.set_defaults(func=cmd_predict)

    models = sub.add_parser("models", help="list the registered architectures")
    models.add_argument("--json", action="store_true")
    models.set_defaults(func=cmd_models)

    bench = sub.add_parser("bench", help="benchmarks that print their figures")
    bench.add_argument("what", choices=["train", "live"],
                       help="train: study recipe vs fast recipe, same time budget; live: per-photo latency")
    bench.add_argument("--data", default="synthetic", help="training data (its test split is used for accuracy)")
    bench.add_argument("--test-data", help="labelled test set (default: the data's test split)")
    bench.add_argument("--budget-min", type=float, default=20.0, help="training minutes per recipe")
    bench.add_argument("--fast-model", help="architecture for the fast recipe (default: the preset's)")
    bench.add_argument("--photos", help="live: folder of photos (e.g. ../shared/data/photos)")
    bench.add_argument("--model", default=DEFAULT, help="live: model to classify and explain with")
    bench.set_defaults(func=cmd_bench)

    ship = sub.add_parser("ship", help="make a finished run the shipped default model (assets/)")
    ship.add_argument("run", help="run folder")
    ship.set_defaults(func=cmd_ship)

    runs = sub.add_parser("runs", help="list runs and their state")
    runs.add_argument("--runs-dir")
    runs.add_argument("--json", action="store_true")
    runs.set_defaults(func=cmd_runs)
    return parser


def _train_parser(sub):
    train = sub.add_parser("train", help="train a model into a new run folder")
    train.add_argument("--preset", choices=sorted(PRESETS), help="a named recipe; flags override it")
    for flag in TRAIN_FLAGS:
        if flag.type is bool:
            train.add_argument(flag.flag, dest=flag.field, action="store_true", default=None, help=flag.help)
        else:
            train.add_argument(flag.flag, dest=flag.field, type=flag.type, choices=flag.choices, help=flag.help)
    train.add_argument("--no-augment", action="store_true", help="start from no augmentation (augmentation flags given still apply)")
    train.add_argument("--runs-dir", help="runs root (default: $EMOTION_RUNS_DIR or ./runs)")
    train.add_argument("--run-dir", help="train an existing run folder from its config.json (used by the app)")
    train.set_defaults(func=cmd_train)


def config_from_args(args):
    """TrainConfig from the parsed `train` flags (a preset, overridden by the flags given)."""
    values = {flag.field: getattr(args, flag.field) for flag in TRAIN_FLAGS}
    return config_from_flags(values, preset=args.preset, no_augment=args.no_augment)


def cmd_train(args):
    from emotion_core import runs
    from emotion_core.config import TrainConfig
    from emotion_core.training.callbacks import ProgressBar
    from emotion_core.training.loop import check_data, check_model, start_run, train

    if args.run_dir:
        config_dict = runs.read_config(args.run_dir)
        if not config_dict:
            raise RunError(f"{args.run_dir} has no readable config.json")
        config = TrainConfig.from_dict(config_dict)
    else:
        config = config_from_args(args).validate()
        check_data(config)
        check_model(config)
    run_dir = args.run_dir or start_run(config, root=args.runs_dir, recipe=args.preset)
    print(f"run folder: {run_dir}", flush=True)
    train(config, run_dir=run_dir, callbacks=[ProgressBar(config.epochs)])
    status = runs.read_status(run_dir)
    evaluation = runs.read_evaluation(run_dir) or {}
    print(f"{status['state']}: {status.get('epochs_done')} epochs in {status.get('train_seconds') or 0:.0f}s, "
          f"best val accuracy {status.get('best_val_accuracy') or 0:.4f}, "
          f"accuracy on {evaluation.get('data', '?')}: {evaluation.get('accuracy') or 0:.4f}")
    return 0 if status["state"] in (runs.FINISHED, runs.STOPPED) else 1


def cmd_evaluate(args):
    from tqdm import tqdm

    from emotion_core.data import load_data
    from emotion_core.evaluation import evaluate
    from emotion_core.models.io import load_model

    model = load_model(args.model)
    with tqdm(total=None, desc="decoding", unit="img", file=sys.stderr, disable=args.json) as bar:
        dataset = load_data(args.data, split=args.split, progress=lambda done, total: _update(bar, done, total))
    with tqdm(total=len(dataset), desc="predicting", unit="img", file=sys.stderr, disable=args.json) as bar:
        result, _ = evaluate(model, dataset, tta=args.tta, progress=lambda done, total: _update(bar, done, total))
    result["model"] = str(args.model)
    print(json.dumps(result) if args.json else format_report(result))
    return 0


def _update(bar, done, total):
    bar.total = total
    bar.n = done
    bar.refresh()


def format_report(result):
    """The classification report as text, laid out like scikit-learn's."""
    lines = [f"{'':>10} {'precision':>9} {'recall':>9} {'f1-score':>9} {'support':>8}"]
    for name, row in result["per_class"].items():
        lines.append(f"{name:>10} {row['precision']:9.4f} {row['recall']:9.4f} {row['f1-score']:9.4f} {row['support']:8d}")
    lines.append(f"\n{'accuracy':>10} {'':>9} {'':>9} {result['accuracy']:9.4f} {result['n']:8d}")
    for key, label in (("macro_avg", "macro avg"), ("weighted_avg", "weighted avg")):
        row = result[key]
        lines.append(f"{label:>12} {row['precision']:7.4f} {row['recall']:9.4f} {row['f1-score']:9.4f} {result['n']:8d}")
    return "\n".join(lines)


def cmd_predict(args):
    """Classify the faces in each image. One bad file must not hide the others' results: it
    gets one `error: <path>: <problem>` line on stderr, the rest are still reported, and the
    exit code is 1 when any file failed."""
    from emotion_core.models.io import load_model
    from emotion_core.photos.faces import MIN_FACE_FRACTION, SMALL_FACE_FRACTION

    model = load_model(args.model)
    min_face = SMALL_FACE_FRACTION if args.small_faces else MIN_FACE_FRACTION
    results = [_predict_file(model, path, tta=args.tta, min_face=min_face) for path in args.images]
    for result in results:
        if result["error"]:
            print(f"error: {result['path'] or repr(result['path'])}: {result['error']}", file=sys.stderr)
    if args.json:
        print(json.dumps({"images": results}))
    else:
        print("\n".join(format_image(result) for result in results if not result["error"]))
    return 1 if any(result["error"] for result in results) else 0


def _predict_file(model, path, *, tta, min_face):
    """{"path", "faces", "error"} for one file; problems with the file become `error`, not raises."""
    from emotion_core.photos.analyse import analyse_photo
    from emotion_core.photos.decode import read_image_file

    if not path.strip():
        return {"path": path, "faces": [], "error": "empty file name"}
    try:
        image = read_image_file(path)
    except ImageError as error:
        return {"path": path, "faces": [], "error": error.problem}
    faces = analyse_photo(model, image, tta=tta, min_face=min_face)
    return {"path": path, "faces": [face.to_dict() for face in faces], "error": None}


def format_image(result):
    """Human lines for one image: per face its box, top emotion and all 7 probabilities."""
    faces = result["faces"]
    lines = [f"{result['path']}: {len(faces) or 'no'} face{'' if len(faces) == 1 else 's'} found"]
    for number, face in enumerate(faces, start=1):
        x, y, w, h = face["box"]
        top = face["probabilities"][face["emotion"]]
        lines.append(f"  face {number} at x={x} y={y} w={w} h={h}: {face['emotion']} {top:.2f}")
        lines.append("    " + " ".join(f"{name} {face['probabilities'][name]:.2f}" for name in EMOTIONS))
    return "\n".join(lines)


def cmd_models(args):
    from emotion_core.models import build_model, get_spec, model_names

    rows = []
    for name in model_names():
        model = build_model(name)
        trainable = sum(int(w.numpy().size) for w in model.trainable_weights)
        spec = get_spec(name)
        rows.append({"name": name, "params": model.count_params(), "trainable_params": trainable,
                     "family": spec.family, "description": spec.description})
    if args.json:
        print(json.dumps(rows))
    else:
        width = max(len(row["name"]) for row in rows)
        for row in rows:
            print(f"{row['name']:<{width}} {row['params']:>11,} params  {row['description']}")
    return 0


def cmd_runs(args):
    from emotion_core.runs import list_runs, runs_root

    root = runs_root(args.runs_dir)
    if args.runs_dir and not root.is_dir():
        raise RunError(f"runs folder not found: {root}")
    rows = [{"run": str(r.path), "name": r.name, "model": r.config.get("model"), "state": r.state,
             "epochs": r.epochs_done, "best_val_accuracy": r.best_val_accuracy,
             "test_accuracy": (r.evaluation or {}).get("accuracy"), "damaged": r.damaged}
            for r in list_runs(root)]
    if args.json:
        print(json.dumps(rows))
        return 0
    if not rows:
        print(f"no runs yet in {root}")
    for row in rows:
        acc = f"{row['test_accuracy']:.4f}" if row["test_accuracy"] is not None else "-"
        note = f"  (damaged: {row['damaged']})" if row["damaged"] else ""
        print(f"{row['run']:<48} {row['state']:<9} {str(row['model']):<14} {row['epochs']:>3} epochs  "
              f"test acc {acc}{note}")
    return 0


def cmd_bench(args):
    if args.what == "live":
        return _bench_live(args)
    import math

    from emotion_core.bench.train import bench_train, format_results

    if not (math.isfinite(args.budget_min) and args.budget_min > 0):
        raise ConfigError(f"--budget-min must be a positive number of minutes, not {args.budget_min!r}")
    print(f"training each recipe for {args.budget_min:g} min on {args.data}", flush=True)
    results = bench_train(args.data, budget_s=args.budget_min * 60, test_source=args.test_data,
                          fast_model=args.fast_model,
                          on_result=lambda r: print(f"done: {r.recipe}", flush=True))
    print(format_results(results))
    return 0


def _bench_live(args):
    from emotion_core.bench.live import bench_live, format_live, single_threaded

    if not args.photos:
        raise ConfigError("bench live needs --photos FOLDER")
    pinned = single_threaded()
    from emotion_core.explain import GradCam
    from emotion_core.models.io import load_model

    result = bench_live(args.photos, GradCam(load_model(args.model)))
    print(format_live(result) + ("" if pinned else "\n  (TensorFlow was already running: not pinned to one thread)"))
    return 0


def cmd_ship(args):
    from emotion_core.ship import ship

    target = ship(args.run)
    print(f"shipped {target} and {target.parent / 'MODEL_CARD.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
