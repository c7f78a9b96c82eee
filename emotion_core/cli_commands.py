"""The CLI's subcommands; each returns an exit code and prints for humans or as JSON."""

import dataclasses
import json
import sys

from tqdm import tqdm

from emotion_core.config import PRESETS, TrainConfig
from emotion_core.data import DataError
from emotion_core.model_io import ModelLoadError
from emotion_core.models import UnknownModelError
from emotion_core.models.transfer import WeightsUnavailableError
from emotion_core.runs import RunError

USER_ERRORS = (DataError, ModelLoadError, UnknownModelError, RunError, WeightsUnavailableError, FileNotFoundError,
               ValueError)

# CLI flag -> TrainConfig field, for flags that map one to one.
_FLAG_FIELDS = ("data", "model", "imbalance", "epochs", "batch_size", "learning_rate", "lr_schedule", "reduce_lr",
                "label_smoothing", "patience", "validation_fraction", "limit", "test_data", "seed", "init_from", "precision",
                "transfer_mode", "unfreeze", "weights", "input_size")


def config_from_args(args):
    """TrainConfig from a preset (default: the study's recipe) overridden by the given flags."""
    base = PRESETS[args.preset] if args.preset else TrainConfig()
    changes = {f: getattr(args, f) for f in _FLAG_FIELDS if getattr(args, f) is not None}
    augment = base.augment
    if args.flip:
        augment = dataclasses.replace(augment, horizontal_flip=True)
    if args.no_augment:
        from emotion_core.augment import NO_AUGMENTATION

        augment = NO_AUGMENTATION
    return dataclasses.replace(base, augment=augment, **changes)


def cmd_train(args):
    from emotion_core import runs
    from emotion_core.training import check_model, start_run, train
    from emotion_core.training_progress import ProgressBar

    if args.run_dir:
        config = TrainConfig.from_dict(runs.read_json(f"{args.run_dir}/config.json") or _no_config(args.run_dir))
    else:
        config = config_from_args(args)
        _check_data(config.data)
        check_model(config)
    run_dir = args.run_dir or start_run(config, root=args.runs_dir)
    print(f"run folder: {run_dir}", flush=True)
    train(config, run_dir=run_dir, callbacks=[ProgressBar(config.epochs)])
    status = runs.read_status(run_dir)
    evaluation = runs.read_json(f"{run_dir}/evaluation.json") or {}
    print(f"{status['state']}: {status.get('epochs_done')} epochs in {status.get('train_seconds', 0):.0f}s, "
          f"best val accuracy {status.get('best_val_accuracy') or 0:.4f}, "
          f"accuracy on {evaluation.get('data', '?')}: {evaluation.get('accuracy', 0):.4f}")
    return 0 if status["state"] in (runs.FINISHED, runs.STOPPED) else 1


def _no_config(run_dir):
    raise RunError(f"{run_dir} has no readable config.json")


def _check_data(source):
    """Fail before creating a run folder when the data source is plainly wrong."""
    from pathlib import Path

    from emotion_core.data import SYNTHETIC

    if source != SYNTHETIC and not Path(source).expanduser().exists():
        raise DataError(f"data source not found: {source}")


def cmd_evaluate(args):
    from emotion_core.data import load_data
    from emotion_core.evaluation import evaluate
    from emotion_core.model_io import load_model

    model = load_model(args.model)
    with tqdm(total=None, desc="decoding", unit="img", file=sys.stderr, disable=args.json) as bar:
        dataset = load_data(args.data, split=args.split, progress=lambda done, total: _update(bar, done, total))
    with tqdm(total=len(dataset), desc="predicting", unit="img", file=sys.stderr, disable=args.json) as bar:
        result, _ = evaluate(model, dataset, tta=args.tta, progress=lambda done, total: _update(bar, done, total))
    result["model"] = str(args.model)
    if args.json:
        print(json.dumps(result))
    else:
        print(format_report(result))
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
        for row in rows:
            print(f"{row['name']:<14} {row['params']:>11,} params  {row['description']}")
    return 0


def cmd_runs(args):
    from emotion_core.runs import list_runs

    rows = [{"run": str(r.path), "name": r.name, "model": r.config.get("model"), "state": r.state,
             "epochs": r.epochs_done, "best_val_accuracy": r.best_val_accuracy,
             "test_accuracy": (r.evaluation or {}).get("accuracy")} for r in list_runs(args.runs_dir)]
    if args.json:
        print(json.dumps(rows))
    elif not rows:
        print("no runs yet")
    for row in [] if args.json else rows:
        acc = f"{row['test_accuracy']:.4f}" if row["test_accuracy"] is not None else "-"
        print(f"{row['run']:<48} {row['state']:<9} {row['model']:<14} {row['epochs']:>3} epochs  test acc {acc}")
    return 0


def cmd_bench(args):
    if args.what == "live":
        return _bench_live(args)
    from emotion_core.bench import bench_train, format_results

    print(f"training each recipe for {args.budget_min:g} min on {args.data}", flush=True)
    results = bench_train(args.data, budget_s=args.budget_min * 60, test_source=args.test_data,
                          fast_model=args.fast_model,
                          on_result=lambda r: print(f"done: {r.recipe}", flush=True))
    print(format_results(results))
    return 0


def _bench_live(args):
    from emotion_core.bench_live import bench_live, format_live, single_threaded

    pinned = single_threaded()
    from emotion_core.explain import GradCam
    from emotion_core.model_io import load_model

    if not args.photos:
        raise ValueError("bench live needs --photos FOLDER")
    result = bench_live(args.photos, GradCam(load_model(args.model)))
    print(format_live(result) + ("" if pinned else "\n  (TensorFlow was already running: not pinned to one thread)"))
    return 0


def cmd_ship(args):
    from emotion_core.model_card import ship

    print(f"shipped {ship(args.run)} and assets/MODEL_CARD.md")
    return 0


def cmd_predict(args):
    from emotion_core.predict_cli import run_predict

    return run_predict(args)
