"""Shipping a run as the default model: an inference-only copy and a model card whose
every figure is read from the run folder (config, status, metrics, evaluation)."""

import json
from pathlib import Path

from emotion_core import runs
from emotion_core.config import TrainConfig
from emotion_core.model_io import ASSETS_DIR, load_model, save_model_atomic

MAX_BYTES = 8 * 1024 * 1024  # the shipped model must stay small enough to live in the repository


def cli_command(config):
    """The `python -m emotion_core train ...` command that reproduces `config` (non-default flags only)."""
    default = TrainConfig()
    flags = []
    for field, flag in (("data", "--data"), ("model", "--model"), ("imbalance", "--imbalance"), ("epochs", "--epochs"),
                        ("batch_size", "--batch-size"), ("learning_rate", "--learning-rate"),
                        ("lr_schedule", "--lr-schedule"), ("label_smoothing", "--label-smoothing"),
                        ("patience", "--patience"), ("validation_fraction", "--validation-fraction"),
                        ("limit", "--limit"), ("test_data", "--test-data"), ("seed", "--seed"), ("init_from", "--init-from"),
                        ("precision", "--precision"),
                        ("transfer_mode", "--mode"), ("unfreeze", "--unfreeze"), ("weights", "--weights"),
                        ("input_size", "--input-size")):
        value = getattr(config, field)
        if value != getattr(default, field) or field in ("data", "model"):
            flags += [flag, str(value)]
    if config.reduce_lr:
        flags.append("--reduce-lr")
    if config.augment.is_identity():
        flags.append("--no-augment")
    elif config.augment.horizontal_flip:
        flags.append("--flip")
    return "python -m emotion_core train " + " ".join(flags)


def _reproduce(config):
    """The commands that rebuild the model: the run's own, after those of the run it started from."""
    commands = [cli_command(config)]
    parent = Path(config.init_from) / "config.json" if config.init_from else None
    while parent and parent.exists():
        parent_config = TrainConfig.from_dict(json.loads(parent.read_text()))
        commands.insert(0, cli_command(parent_config) + f"   # -> {parent.parent.name}")
        parent = Path(parent_config.init_from) / "config.json" if parent_config.init_from else None
    return "\n".join(commands)


def _chain_seconds(info):
    """Training seconds of a run plus those of the runs it was initialised from."""
    seconds, config = info.status.get("train_seconds") or 0, info.config
    while config.get("init_from") and (Path(config["init_from"]) / "status.json").exists():
        parent = Path(config["init_from"])
        seconds += runs.read_status(parent).get("train_seconds") or 0
        config = runs.read_json(parent / "config.json", default={})
    return seconds


def ship(run_dir, *, assets=ASSETS_DIR):
    """Copy a finished run's best model into assets/ (without optimizer state) and write its card.

    Returns the path of the shipped model. Raises RunError when the run is not finished or
    the model would be too large for the repository.
    """
    run_dir, assets = Path(run_dir), Path(assets)
    info = runs.load_run(run_dir)
    if info.state not in (runs.FINISHED, runs.STOPPED) or not info.evaluation:
        raise runs.RunError(f"{run_dir.name} is {info.state} or unevaluated; ship only finished (or stopped), "
                            "evaluated runs")
    assets.mkdir(parents=True, exist_ok=True)
    target = assets / "default_model.keras"
    save_model_atomic(load_model(run_dir), target)  # loaded without compile: no optimizer state saved
    if target.stat().st_size > MAX_BYTES:
        target.unlink()
        raise runs.RunError(f"{run_dir.name}'s model is over {MAX_BYTES // 2**20} MiB; pick a smaller architecture")
    (assets / "MODEL_CARD.md").write_text(model_card(info, target))
    return target


def model_card(info, model_path):
    """The model card as Markdown, from the run's own records."""
    config = TrainConfig.from_dict(info.config)
    metrics = runs.read_metrics(info.path)
    evaluation = info.evaluation
    seconds = _chain_seconds(info)
    per_epoch = sorted(m["epoch_seconds"] for m in metrics)
    rows = "\n".join(f"| {name} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1-score']:.3f} | {r['support']} |"
                     for name, r in evaluation["per_class"].items())
    return f"""# Model card: the shipped default model

`assets/default_model.keras` ({model_path.stat().st_size / 2**20:.1f} MiB), used by `--model default` and as
the app's default. Every figure below was read from its run folder (`{info.path.name}`) by
`python -m emotion_core ship RUN`.

## Data
Trained on FER2013 `train/` (Kaggle layout, 28,709 faces, 48x48 grayscale, 7 emotions), of which
{100 * config.validation_fraction:.0f}% (stratified, seed {config.seed}) was held out for validation and checkpoint
selection. Evaluated on `test/` = FER2013 PublicTest ({evaluation['n']:,} faces), never used for
training or selection.

## Architecture and recipe
- architecture: `{config.model}` ({load_model(model_path).count_params():,} parameters)
- imbalance strategy: {config.imbalance}; augmentation: {json.dumps(config.augment.__dict__)}
- Adam, learning rate {config.learning_rate} ({config.lr_schedule} schedule), batch {config.batch_size},
  label smoothing {config.label_smoothing}, {info.epochs_done} of {config.epochs} epochs ({info.state};
  early-stopping patience {config.patience}); the best epoch by validation accuracy is kept
- arithmetic: {info.config.get('precision_used', 'float32')} (`--precision {config.precision}`); the shipped copy is float32
- versions: {json.dumps(info.config.get('versions', {}))}

Reproduce:
```
{_reproduce(config)}
```

## Cost
{seconds / 60:.0f} minutes of training in all (this run and the runs it started from) on this project's development machine (2 CPU cores, no GPU),
median {per_epoch[len(per_epoch) // 2] if per_epoch else 0:.0f} s per epoch (other work shared the machine part of the time).

## PublicTest results
Accuracy **{evaluation['accuracy']:.4f}**, macro F1 {evaluation['macro_f1']:.4f}, weighted F1 {evaluation['weighted_f1']:.4f}
(the study's CNN: 0.64).

| emotion | precision | recall | F1 | support |
|---|---|---|---|---|
{rows}

## Limits
FER2013 faces are mostly young, white and frontal and its labels are noisy (human accuracy
is about 65%); disgust has only 436 training faces. Expect worse results on faces unlike
these, and never use this model to make decisions about people: it is for teaching.
"""
