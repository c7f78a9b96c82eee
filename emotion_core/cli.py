"""`python -m emotion_core` / `emotion-core`: train, evaluate, predict, list models and runs.

Each subcommand's parser names its handler (`set_defaults(func=...)`), and each handler
returns an exit code. Bad input ends with one line on stderr naming the problem and exit
code 2, never a traceback: every error a user can cause is an EmotionCoreError, and only
that base is caught, so a bug in this project still surfaces as one.
"""

import argparse
import json
import math
import os
import sys

import numpy as np

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
        print(f"error: {printable(error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def printable(text):
    """`text` safe for a terminal line: control characters (an escape sequence or a newline in a
    file name would recolour the terminal or forge a line) and bytes that were not UTF-8 are
    shown as escapes, e.g. `\\x1b`, `\\n`, `\\xff`."""
    text = str(text)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable()
                   else f"\\x{ord(c) - 0xDC00:02x}" if 0xDC80 <= ord(c) <= 0xDCFF  # an undecodable byte (surrogateescape)
                   else c.encode("unicode_escape").decode("ascii") for c in text)


def _warn(warnings):
    """One `warning: ...` line on stderr per warning (stdout stays clean for --json)."""
    for warning in warnings:
        print(f"warning: {printable(warning)}", file=sys.stderr)


def to_json(value):
    """One line of strict JSON: NaN and infinities become null (bare NaN is not JSON, and a
    strict parser rejects the whole line), numpy numbers become plain ones."""
    return json.dumps(_finite(value), allow_nan=False, default=str)


def _finite(value):
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


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
    bench.add_argument("what", choices=["train", "live", "start"],
                       help="train: study recipe vs fast recipe, same time budget; live: per-photo latency; "
                            "start: seconds from the Train page's Start to the first status, batch and epoch point")
    bench.add_argument("--data", default="synthetic", help="training data (its test split is used for accuracy)")
    bench.add_argument("--test-data", help="labelled test set (default: the data's test split)")
    bench.add_argument("--budget-min", type=float, default=20.0, help="training minutes per recipe")
    bench.add_argument("--fast-model", help="architecture for the fast recipe (default: the preset's)")
    bench.add_argument("--photos", help="live: folder of photos (e.g. ../shared/data/photos)")
    bench.add_argument("--model", default=DEFAULT, help="live: model to classify and explain with")
    bench.add_argument("--preset", default="demo", choices=sorted(PRESETS), help="start: the recipe started")
    bench.add_argument("--runs-dir", help="start: runs root for the measured run (default: $EMOTION_RUNS_DIR or ./runs)")
    bench.set_defaults(func=cmd_bench)

    ship = sub.add_parser("ship", help="make a finished run the shipped default model (assets/)")
    ship.add_argument("run", help="run folder")
    ship.set_defaults(func=cmd_ship)

    reference = sub.add_parser("reference", help="the study's experiments as shipped, read-only reference runs")
    reference.add_argument("action", choices=["build", "list"],
                           help="build: train every reference run not yet finished (resumable); list: their states")
    reference.add_argument("--data", help="build: FER2013 in the Kaggle layout (train/ and test/)")
    reference.add_argument("--epochs", type=int, help="build: the epoch budget of every run (default: the shipped one)")
    reference.add_argument("--out", help="reference runs folder (default: the package's own)")
    reference.add_argument("--only", help="build: these references only (comma-separated names, see `reference list`)")
    reference.set_defaults(func=cmd_reference)

    runs = sub.add_parser("runs", help="list runs and their state")
    runs.add_argument("--runs-dir")
    runs.add_argument("--json", action="store_true")
    runs.set_defaults(func=cmd_runs)
    _audit_parser(sub)
    return parser


def _audit_parser(sub):
    audit = sub.add_parser("audit", help="likely-wrong labels (confident learning), checked against the crowd's votes")
    audit.add_argument("--data", required=True, help="labelled data to audit (folder, fer2013.csv, synthetic)")
    how = audit.add_mutually_exclusive_group(required=True)
    how.add_argument("--model", help=f"a model that never trained on these faces: run folder, .keras file, or `{DEFAULT}`")
    how.add_argument("--folds", type=int, help="train K models on K-1 folds each (resumable) and audit out of fold")
    audit.add_argument("--split", default="train", choices=["train", "test"],
                       help="with --model: the split of a train/ + test/ root to audit (--folds audits train)")
    audit.add_argument("--preset", default="fast", choices=sorted(PRESETS), help="with --folds: the folds' recipe")
    audit.add_argument("--epochs", type=int, help="with --folds: epochs per fold (default: the preset's)")
    audit.add_argument("--seed", type=int, default=0, help="with --folds: the folds' split and training seed")
    audit.add_argument("--runs-dir", help="with --folds: runs root for the fold runs (default: $EMOTION_RUNS_DIR or ./runs)")
    audit.add_argument("--top", type=int, default=20, help="without --json: flagged faces to list")
    audit.add_argument("--json", action="store_true", help="print one JSON object")
    audit.set_defaults(func=cmd_audit)


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
    from emotion_core.training.loop import check_data, check_model, start_run

    if args.run_dir:
        runs.claim_new_run(args.run_dir)  # before locking: a refused run is left byte for byte
        with runs.owned(args.run_dir):  # one process per run, for as long as it trains
            runs.claim_new_run(args.run_dir)  # again: another process may have begun it meanwhile
            runs.write_status(args.run_dir, runs.RUNNING, phase="starting")  # our pid: a death from now on is seen
            try:
                config = _run_dir_config(args.run_dir)
            except EmotionCoreError as error:  # the run says why it never trained, instead of looking lost
                runs.write_status(args.run_dir, runs.FAILED, error=str(error))
                raise
            return _train_and_report(config, args.run_dir)
    config = config_from_args(args).validate()
    _warn(check_data(config))
    check_model(config)
    run_dir = start_run(config, root=args.runs_dir, recipe=args.preset)
    with runs.owned(run_dir):
        return _train_and_report(config, run_dir)


def _train_and_report(config, run_dir):
    from emotion_core import runs
    from emotion_core.training.callbacks import ProgressBar
    from emotion_core.training.loop import train

    print(f"run folder: {printable(run_dir)}", flush=True)
    train(config, run_dir=run_dir, callbacks=[ProgressBar(config.epochs)])
    status = runs.read_status(run_dir)
    evaluation = runs.read_evaluation(run_dir) or {}
    print(f"{status['state']}: {status.get('epochs_done')} epochs in {status.get('train_seconds') or 0:.0f}s, "
          f"best val accuracy {status.get('best_val_accuracy') or 0:.4f}, "
          f"accuracy on {evaluation.get('data', '?')}: {evaluation.get('accuracy') or 0:.4f}")
    return 0 if status["state"] in (runs.FINISHED, runs.STOPPED) else 1


def _run_dir_config(run_dir):
    """The TrainConfig of an existing run folder, checked like a new run's (a config.json edited
    by hand may say epochs 1e9 or augment "x"); the message names the file."""
    from pathlib import Path

    from emotion_core import runs
    from emotion_core.config import TrainConfig
    from emotion_core.models import get_spec

    path = Path(run_dir) / runs.CONFIG
    config_dict = runs.read_json(path)  # as written: read_config would leave out what is wrong
    if not config_dict:
        raise RunError(f"{run_dir} has no readable config.json")
    try:
        config = TrainConfig.from_dict(config_dict).validate()
        get_spec(config.model)
    except EmotionCoreError as error:
        raise ConfigError(f"{path}: {error}") from None
    return config


def cmd_evaluate(args):
    from tqdm import tqdm

    from emotion_core.data import load_data
    from emotion_core.evaluation import evaluate
    from emotion_core.models.io import load_model

    model = load_model(args.model)
    with tqdm(total=None, desc="decoding", unit="img", file=sys.stderr, disable=args.json) as bar:
        dataset = load_data(args.data, split=args.split, progress=lambda done, total: _update(bar, done, total))
    _warn(dataset.warnings)
    with tqdm(total=len(dataset), desc="predicting", unit="img", file=sys.stderr, disable=args.json) as bar:
        result, _ = evaluate(model, dataset, tta=args.tta, progress=lambda done, total: _update(bar, done, total))
    result["model"] = str(args.model)
    if result.get("crowd_error") and not args.json:
        print(f"warning: no comparison with the crowd: {printable(result['crowd_error'])}", file=sys.stderr)
    print(to_json(result) if args.json else format_report(result))
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
            print(f"error: {printable(result['path'] or repr(result['path']))}: {printable(result['error'])}",
                  file=sys.stderr)
    if args.json:
        print(to_json({"images": results}))
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
    lines = [f"{printable(result['path'])}: {len(faces) or 'no'} face{'' if len(faces) == 1 else 's'} found"]
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
        print(to_json(rows))
    else:
        width = max(len(row["name"]) for row in rows)
        for row in rows:
            print(f"{row['name']:<{width}} {row['params']:>11,} params  {row['description']}")
    return 0


def cmd_runs(args):
    from emotion_core.reference import reference_runs
    from emotion_core.runs import is_reference, list_runs, runs_root

    root = runs_root(args.runs_dir)
    if args.runs_dir and not root.is_dir():
        raise RunError(f"runs folder not found: {root}")
    rows = [{"run": str(r.path), "name": r.name, "model": r.config.get("model"), "state": r.state,
             "epochs": r.epochs_done, "best_val_accuracy": r.best_val_accuracy,
             "test_accuracy": (r.evaluation or {}).get("accuracy"), "damaged": r.damaged,
             "reference": is_reference(r.path)}
            for r in list_runs(root) + reference_runs()]
    if args.json:
        print(to_json(rows))
        return 0
    own = [row for row in rows if not row["reference"]]
    if not own:
        print(f"no runs yet in {printable(root)}")
    for row in own:
        print(_run_line(row))
    shipped = [row for row in rows if row["reference"]]
    if shipped:
        print("reference runs (shipped, read-only):")
        print("\n".join(_run_line(row) for row in shipped))
    return 0


def _run_line(row):
    acc = f"{row['test_accuracy']:.4f}" if row["test_accuracy"] is not None else "-"
    note = f"  (damaged: {printable(row['damaged'])})" if row["damaged"] else ""
    return (f"{printable(row['run']):<48} {row['state']:<9} {printable(row['model']):<14} {row['epochs']:>3} epochs  "
            f"test acc {acc}{note}")


def cmd_bench(args):
    if args.what == "live":
        return _bench_live(args)
    if args.what == "start":
        from emotion_core.bench.start import bench_start, format_start

        print(format_start(bench_start(args.data, args.preset, root=args.runs_dir)))
        return 0
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


def cmd_reference(args):
    from pathlib import Path

    from emotion_core import reference, runs, settings
    from emotion_core.config import MAX_EPOCHS
    from emotion_core.errors import ReferenceBusyError
    from emotion_core.training.callbacks import ProgressBar

    out = Path(args.out) if args.out else settings.reference_dir()
    todo = reference.references()
    if args.only:
        known = {ref.name: ref for ref in todo}
        wanted = [name.strip() for name in args.only.split(",") if name.strip()]
        unknown = [name for name in wanted if name not in known]
        if unknown or not wanted:
            raise ConfigError(f"unknown reference {', '.join(unknown) or repr(args.only)}; known: {', '.join(known)}")
        todo = [known[name] for name in wanted]
    if args.action == "list":
        for ref in todo:
            print(f"{ref.name:<28} {reference.state_of(out / ref.name):<9} {ref.title}")
        return 0
    if not args.data:
        raise ConfigError("reference build needs --data: FER2013 in the Kaggle layout")
    epochs = args.epochs or reference.REFERENCE_EPOCHS
    if not 1 <= epochs <= MAX_EPOCHS:
        raise ConfigError(f"--epochs must be a whole number from 1 to {MAX_EPOCHS}, not {epochs}")
    for number, ref in enumerate(todo, start=1):
        print(f"[{number}/{len(todo)}] {ref.name}: {ref.title}", flush=True)
        try:
            folder = reference.build_reference(ref, args.data, out=out, epochs=epochs,
                                               callbacks=[ProgressBar(epochs)])
        except ReferenceBusyError as error:  # two builders share the work instead of colliding
            print(f"  {error}: skipped", flush=True)
            continue
        if folder is None:
            print("  finished before: skipped", flush=True)
            continue
        evaluation = runs.read_evaluation(folder) or {}
        print(f"  {folder}: test accuracy {evaluation.get('accuracy') or 0:.4f}", flush=True)
    return 0


def cmd_ship(args):
    from emotion_core.ship import ship

    target = ship(args.run)
    print(f"shipped {target} and {target.parent / 'MODEL_CARD.md'}")
    return 0


def cmd_audit(args):
    """Audit a dataset's labels; the fold runs (if any) print their epochs like `train` does."""
    from tqdm import tqdm

    from emotion_core.audit import audit_with_folds, audit_with_model
    from emotion_core.training.callbacks import ProgressBar

    if args.model:
        with tqdm(total=None, desc="predicting", unit="img", file=sys.stderr, disable=args.json, delay=1) as bar:
            result = audit_with_model(args.data, args.model, split=args.split,
                                      progress=lambda done, total: _update(bar, done, total))
    else:
        import contextlib

        config = fold_recipe(args.preset, args.epochs)
        say = (lambda fold, k, message: print(message, file=sys.stderr, flush=True))
        with contextlib.redirect_stdout(sys.stderr):  # the folds' epoch lines: stdout is for the result
            result = audit_with_folds(args.data, args.folds, preset=args.preset, config=config, seed=args.seed,
                                      root=args.runs_dir, progress=say,
                                      callbacks_for=lambda fold, k: [ProgressBar(config.epochs)])
    print(json.dumps(result.to_dict()) if args.json else format_audit(result.to_dict(), top=args.top))
    return 0


def fold_recipe(preset, epochs=None):
    """The folds' TrainConfig: the preset, shortened to `epochs` (no early stop before them) when given."""
    config = PRESETS[preset]
    if epochs is None:
        return config
    return config_from_flags({"epochs": epochs, "patience": min(config.patience, epochs)}, preset=preset).validate()


def format_audit(result, *, top=20):
    """The audit as text: how many faces are flagged, the crowd's check, the most doubtful ones."""
    from emotion_core.audit import headline

    lines = [f"{result['flagged']:,} of {result['n']:,} faces flagged as likely mislabelled"]
    lines += [headline(result["crowd"])] if headline(result["crowd"]) else []
    lines.append(f"{'score':>6}  {'label':<9} {'suggested':<9} file")
    lines += [f"{issue['score']:6.3f}  {issue['label']:<9} {issue['suggested']:<9} {issue['file']}"
              for issue in result["issues"][:top]]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
