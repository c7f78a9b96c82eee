"""Shipping a run as the default model: an inference-only copy, its provenance record and
a model card whose every figure is read from the run folder (config, status, metrics,
evaluation).

The three files are switched as one step. They are written as candidates beside the old ones;
then a small journal naming the renames is written atomically (the moment the ship happens);
then the renames run and the journal goes. A ship killed before the journal leaves the old
files byte for byte (its candidates are removed by the next ship); one killed after it is
finished by the next ship before anything else, so model, card and record never stay mixed.
The provenance record also names its model's SHA-256, so even mid-switch it is never believed
beside another model. Nothing here is read back: the card is for people, the provenance record
for training (models/provenance.py).
"""

import dataclasses
import json
import os
from pathlib import Path

from emotion_core import runs
from emotion_core.config import SYNTHETIC, TrainConfig, command_line
from emotion_core.errors import ModelLoadError, RunError
from emotion_core.models.io import DEFAULT, load_model
from emotion_core.models.provenance import provenance_path, provenance_record, starting_point
from emotion_core.runs import write_json_atomic
from emotion_core.settings import DEFAULT_MODEL_FILE, assets_dir
from emotion_core.models.dtypes import as_float16

MAX_BYTES = 8 * 1024 * 1024  # the shipped model must stay small enough to live in the repository
CARD_FILE = "MODEL_CARD.md"
CANDIDATE = ".candidate-"  # a staged file of a ship not yet switched in
JOURNAL = ".ship-journal.json"  # written once every candidate is whole: from then on the ship is done
OPTIMIZER_NAMES = {"adam": "Adam", "sgd": "SGD with Nesterov momentum 0.9"}
LABEL_DESCRIPTIONS = {
    "fer": "FER2013's",
    "crowd": "the FER+ crowd's majority (faces without an emotion majority left out)",
    "crowd-soft": "the FER+ crowd's vote shares (faces without an emotion majority left out)",
}


def _labels(config):
    if config.labels == "blend":
        share = config.crowd_share
        text = f"{1 - share:.0%} FER2013's label, {share:.0%} the FER+ crowd's vote shares (`--labels blend`)"
    else:
        text = LABEL_DESCRIPTIONS.get(config.labels, config.labels)
    teachers = config.teacher_list()
    if not teachers:
        return text
    names = ", ".join(Path(t).name for t in teachers)
    models = "1 teacher model" if len(teachers) == 1 else f"{len(teachers)} teacher models"
    return (f"{text}; each target {1 - config.teacher_share:.0%} those, {config.teacher_share:.0%} the averaged "
            f"predictions of {models} ({names}), each with its mirror (`--teachers`)")


def _reproduce(config, record):
    """The commands that rebuild the model: the run's own, after those of the runs it started from.

    A chain that starts from a shipped model file (no run folder) takes that model's commands
    from `started_from`, recorded from its card when the run began, so a recipe in several
    stages stays reproducible after its first run folder is gone and its card replaced.
    """
    configs = [config]
    while config.init_from and runs.read_config(config.init_from):
        record = runs.read_config(config.init_from)
        config = TrainConfig.from_dict(record)
        configs.insert(0, config)
    start = _started_from(record)
    if start:  # name the file as a reader who shipped it would: `default`, not this machine's path
        shipped = Path(start["file"]).name
        configs[0] = dataclasses.replace(configs[0], init_from=DEFAULT if shipped == DEFAULT_MODEL_FILE else shipped)
    commands = [command_line(_portable(c)) + (f"   # -> {Path(child.init_from).name}{_stopped_note(child.init_from, c)}"
                                   if child else "")
                for c, child in zip(configs, [*configs[1:], None])]
    if start:
        commands.insert(0, start["reproduce"] or f"# started from the weights of {start['file']}, whose recipe "
                                                  "is not recorded")
        commands.insert(1, f"# (shipped as {shipped}; the next command starts from it)")
    return "\n".join(commands)


def _portable(config):
    """`config` with this machine's paths replaced by what a reader would type (`path/to/fer2013`)."""
    def portable(value):
        if value in ("", SYNTHETIC, DEFAULT):
            return value
        return f"runs/{Path(value).name}" if runs.read_config(value) else f"path/to/{Path(value).name}"

    teachers = ",".join(portable(t) for t in config.teacher_list())
    return dataclasses.replace(config, data=portable(config.data), test_data=portable(config.test_data),
                               teachers=teachers, init_from=portable(config.init_from),
                               exclude=portable(config.exclude))


def _stopped_note(run_dir, config):
    """Say so when a step of the chain was stopped before its last epoch: its command alone
    would train the whole schedule, and the next step started from where it was stopped."""
    status = runs.read_status(run_dir)
    done = status.get("epochs_done")
    if status["state"] != runs.STOPPED or not isinstance(done, int) or done >= config.epochs:
        return ""
    return f", stopped after {done} of its {config.epochs} epochs (its best epoch kept)"


def _started_from(record):
    """The recorded starting point of a run's config.json (runs before it was recorded: read now)."""
    if "started_from" in record:
        return record["started_from"]
    try:
        return starting_point(record.get("init_from", ""))
    except ModelLoadError:  # the file is gone
        return {"file": record["init_from"], "reproduce": "", "minutes": 0}


def _chain_seconds(info):
    """Training seconds of a run plus those of the runs (or shipped model) it was initialised from."""
    seconds, record = info.status.get("train_seconds") or 0, info.config
    while record.get("init_from") and runs.read_config(record["init_from"]):
        seconds += runs.read_status(record["init_from"]).get("train_seconds") or 0
        record = runs.read_config(record["init_from"])
    start = _started_from(record)
    return seconds + 60 * (start["minutes"] if start else 0)


def ship(run_dir, *, assets=None):
    """Make a finished run's best model the shipped default (without optimizer state) and
    write its card.

    Returns the path of the shipped model. Raises RunError when the run is not finished and
    evaluated or the model would be too large for the repository; the old default is then
    left untouched.
    """
    if assets is None and not (assets_dir().parents[1] / "pyproject.toml").is_file():
        raise RunError("ship writes the package's assets/ folder; run it from a source checkout "
                       f"(found no pyproject.toml above {assets_dir()})")
    run_dir, assets = Path(run_dir), Path(assets or assets_dir())
    if not run_dir.is_dir():
        raise RunError(f"run folder not found: {run_dir}")
    info = runs.load_run(run_dir)
    if info.state not in (runs.FINISHED, runs.STOPPED) or not info.evaluation or info.damaged:
        raise RunError(f"{run_dir.name} is {info.state}, unevaluated or damaged; ship only finished (or stopped), "
                       "evaluated runs")
    try:
        assets.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RunError(f"cannot write the shipped model into {assets}: {error.strerror or error}") from None
    finish_interrupted_ship(assets)
    target, card = assets / DEFAULT_MODEL_FILE, assets / CARD_FILE
    staged = {target: assets / f"{CANDIDATE}{target.name}", card: assets / f"{CANDIDATE}{card.name}",
              provenance_path(target): assets / f"{CANDIDATE}{provenance_path(target).name}"}
    try:
        _save_within_limit(load_model(run_dir), staged[target], run_dir.name)
        staged[card].write_text(model_card(info, staged[target]))
        record = provenance_record(staged[target], reproduce=_reproduce(TrainConfig.from_dict(info.config), info.config),
                                   minutes=round(_chain_seconds(info) / 60), run=run_dir.name)
        write_json_atomic(staged[provenance_path(target)], record)
        write_json_atomic(assets / JOURNAL, {"renames": [[c.name, t.name] for t, c in staged.items()]})
    except BaseException:
        _remove_candidates(assets)
        raise
    finish_interrupted_ship(assets)
    return target


def finish_interrupted_ship(assets):
    """Complete a ship whose journal was written (its candidates are whole), or drop the
    candidates of one killed before it. Idempotent: a rename already done is skipped."""
    shipped = (DEFAULT_MODEL_FILE, CARD_FILE, provenance_path(DEFAULT_MODEL_FILE).name)
    renames = runs.read_json(assets / JOURNAL, {}).get("renames")
    for pair in renames if isinstance(renames, list) else []:
        # only this module's own renames: a damaged journal must not move other files about
        if pair in [[f"{CANDIDATE}{name}", name] for name in shipped] and (assets / pair[0]).is_file():
            os.replace(assets / pair[0], assets / pair[1])
    _remove_candidates(assets)
    (assets / JOURNAL).unlink(missing_ok=True)


def _remove_candidates(assets):
    for leftover in assets.glob(f"{CANDIDATE}*"):
        leftover.unlink(missing_ok=True)


def _save_within_limit(model, path, name):
    """Save float32 weights where they fit in MAX_BYTES, else float16 ones (half the bytes).

    Loaded without compile, the model carries no optimizer state.
    """
    for stored in (model, as_float16(model)):
        stored.save(path)
        if path.stat().st_size <= MAX_BYTES:
            return
    raise RunError(f"{name}'s model is {path.stat().st_size / 2**20:.1f} MiB even with float16 weights, over the "
                   f"{MAX_BYTES // 2**20} MiB limit; pick a smaller architecture")


def _storage_note(model_path):
    """How the shipped file stores its weights; loading makes float16 ones float32 again."""
    import keras

    if keras.saving.load_model(model_path, compile=False).weights[0].dtype == "float32":
        return "the shipped copy is float32"
    return ("the shipped copy stores float16 weights to fit\n  the repository's size limit (loaded as float32; "
            "the figures below were measured before rounding)")


def _crowd_line(evaluation):
    crowd = evaluation.get("crowd")
    if not crowd:
        return ""
    return (f"\nAgreement with the crowd's majority (FER+ votes, {crowd['faces_with_votes']:,} faces): "
            f"**{crowd['accuracy']:.4f}** (FER2013's own labels: {crowd['label_agreement']:.4f}).")


def _kept_weights(status):
    """Which weights the run kept: its best epoch, or the average of its last epochs (--average-from)."""
    if "average_kept" not in status:
        return "the best epoch by validation accuracy is kept"
    averaged = f"the average of its last {status['averaged_epochs']} epochs' weights"
    if status["average_kept"]:
        return (f"{averaged} is kept: validation accuracy {status['averaged_val_accuracy']:.4f}, "
                "above its best single epoch")
    return (f"the best epoch by validation accuracy is kept ({averaged} scored "
            f"{status['averaged_val_accuracy']:.4f}, less)")


def _data_line(config, status):
    """What the run trained on, from its own records (never assumed to be all of FER2013)."""
    seen = [status.get(key) for key in ("n_train", "n_val")]
    faces = f"{sum(seen):,} faces" if all(isinstance(n, int) for n in seen) else "faces"
    if config.data == SYNTHETIC:
        return f"the built-in synthetic drawn faces ({faces}; not real faces)"
    limit = f", at most {config.limit:,} of them" if config.limit else ""
    return f"`{Path(config.data).name}` ({faces}{limit}, 48x48 grayscale, 7 emotions)"


def model_card(info, model_path):
    """The model card as Markdown, from the run's own records."""
    config = TrainConfig.from_dict(info.config)
    metrics = runs.read_metrics(info.path)
    evaluation = info.evaluation
    seconds = _chain_seconds(info)
    per_epoch = sorted(m["epoch_seconds"] for m in metrics if "epoch_seconds" in m)
    rows = "\n".join(f"| {name} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1-score']:.3f} | {r['support']} |"
                     for name, r in evaluation["per_class"].items())
    return f"""# Model card: the shipped default model

`emotion_core/assets/{DEFAULT_MODEL_FILE}` ({model_path.stat().st_size / 2**20:.1f} MiB), used by `--model default` and as
the app's default. Every figure below was read from its run folder (`{info.path.name}`) by
`python -m emotion_core ship RUN`.

## Data
Trained on {_data_line(config, info.status)}, of which
{100 * config.validation_fraction:.0f}% (stratified, seed {config.seed}) was held out for validation and checkpoint
selection. Evaluated on the test split of `{Path(config.test_data or config.data).name}` ({evaluation['n']:,} faces), never used for
training or checkpoint selection, but used to choose which finished run to ship.

## Architecture and recipe
- architecture: `{config.model}` ({load_model(model_path).count_params():,} parameters)
- training labels: {_labels(config)}
- imbalance strategy: {config.imbalance}; augmentation: {json.dumps(config.augment.__dict__)}
- {OPTIMIZER_NAMES.get(config.optimizer, config.optimizer)}, learning rate {config.learning_rate} ({config.lr_schedule} schedule), batch {config.batch_size},
  label smoothing {config.label_smoothing}, {info.epochs_done} of {config.epochs} epochs ({info.state};
  early-stopping patience {config.patience}); {_kept_weights(info.status)}
- arithmetic: {info.config.get('precision_used', 'float32')} (`--precision {config.precision}`); {_storage_note(model_path)}
- versions: {json.dumps(info.config.get('versions', {}))}

Reproduce:
```
{_reproduce(config, info.config)}
```

## Cost
{seconds / 60:.0f} minutes of training in all (this run and the runs it started from) on this project's development machine (2 CPU cores, no GPU),
median {per_epoch[len(per_epoch) // 2] if per_epoch else 0:.0f} s per epoch (other work shared the machine part of the time).

## PublicTest results
Accuracy **{evaluation['accuracy']:.4f}**, macro F1 {evaluation['macro_f1']:.4f}, weighted F1 {evaluation['weighted_f1']:.4f}
(the study's CNN: 0.64).{_crowd_line(evaluation)}

| emotion | precision | recall | F1 | support |
|---|---|---|---|---|
{rows}

## Limits
FER2013 faces are mostly young, white and frontal and its labels are noisy (human accuracy
is about 65%); disgust has only 436 training faces. Expect worse results on faces unlike
these, and never use this model to make decisions about people: it is for teaching.
"""
