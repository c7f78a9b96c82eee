"""What each file of a run folder may hold: the type checks runs.py applies where it reads.

A field of the wrong type or out of range is dropped and named (`"status.json: train_seconds
is 'long', not a number of seconds"`), so a hand-edited or damaged file marks its run damaged
instead of breaking a page that formats "long" as minutes. Fields this version does not know
are kept as they are: a newer version may have written them.
"""

import dataclasses
import math
from typing import NamedTuple

import numpy as np

from emotion_core.labels import EMOTIONS, NUM_CLASSES

MAX_COUNT = 2**53  # whole numbers above this are not counts (and lose precision as floats)
PROBABILITY_TOLERANCE = 0.02  # a bfloat16 model's softmax rows sum to 1 within about 1e-2


class Field(NamedTuple):
    """One known field: `test(value)` says whether the value is usable, `wants` says what is."""

    test: object
    wants: str


def is_number(value, low=-math.inf, high=math.inf):
    """A finite int or float (not a bool, not text) in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if isinstance(value, int):  # a 400-digit int would overflow math.isfinite
        return low <= value <= high
    return math.isfinite(value) and low <= value <= high


def is_whole(value, low=0, high=MAX_COUNT):
    """An int (not a bool, not 3.0) in [low, high]."""
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _or_none(field):
    return Field(lambda v: v is None or field.test(v), field.wants + " (or null)")


TEXT = Field(lambda v: isinstance(v, str), "text")
FLAG = Field(lambda v: isinstance(v, bool), "true or false")
COUNT = Field(is_whole, "a whole number 0 or more")
SECONDS = Field(lambda v: is_number(v, 0), "a number of seconds")
SHARE = Field(lambda v: is_number(v, 0, 1), "a number from 0 to 1")
NUMBER = Field(is_number, "a finite number")
MATRIX = Field(lambda v: _is_matrix(v), f"a {NUM_CLASSES}x{NUM_CLASSES} table of whole numbers")

STATUS_FIELDS = {
    "pid": Field(lambda v: is_whole(v, 1), "a process id"), "host": TEXT, "heartbeat": SECONDS,
    "phase": TEXT, "error": TEXT, "traceback": TEXT,
    "epoch": COUNT, "batch": COUNT, "epochs": COUNT, "steps_per_epoch": COUNT, "epochs_done": COUNT,
    "n_train": COUNT, "n_val": COUNT, "averaged_epochs": COUNT, "average_kept": FLAG,
    "elapsed_seconds": _or_none(SECONDS), "train_seconds": _or_none(SECONDS), "step_seconds": _or_none(SECONDS),
    "best_val_accuracy": _or_none(SHARE), "test_accuracy": _or_none(SHARE), "averaged_val_accuracy": SHARE,
}
_AVERAGE = ("average_kept", "averaged_epochs", "averaged_val_accuracy")  # written together, read together

_MISTAKES = {"n": COUNT, "sides_with_model": COUNT, "sides_with_label": COUNT, "neither": COUNT}
CROWD_FIELDS = {"faces_with_votes": COUNT, "flagged": COUNT, "label_agreement": SHARE, "accuracy": SHARE,
                "confusion_matrix": MATRIX, "mistakes": Field(lambda v: _has_all(v, _MISTAKES), "counts of mistakes")}
_CLASS_ROW = {"precision": SHARE, "recall": SHARE, "f1-score": SHARE, "support": COUNT}
_AVERAGE_ROW = {"precision": SHARE, "recall": SHARE, "f1-score": SHARE}
EVALUATION_FIELDS = {
    "accuracy": SHARE, "n": COUNT, "macro_f1": SHARE, "weighted_f1": SHARE, "confusion_matrix": MATRIX,
    "per_class": Field(lambda v: isinstance(v, dict) and set(v) == set(EMOTIONS)
                       and all(_has_all(row, _CLASS_ROW) for row in v.values()),
                       f"precision, recall, f1-score and support for each of {', '.join(EMOTIONS)}"),
    "data": TEXT, "source": TEXT, "model": TEXT, "weights": TEXT, "tta": FLAG,
    "class_names": Field(lambda v: isinstance(v, list) and all(isinstance(n, str) for n in v), "a list of names"),
    "macro_avg": Field(lambda v: _has_all(v, _AVERAGE_ROW), "precision, recall and f1-score"),
    "weighted_avg": Field(lambda v: _has_all(v, _AVERAGE_ROW), "precision, recall and f1-score"),
    "crowd": Field(lambda v: isinstance(v, dict), "the comparison with the crowd's votes"),
    "crowd_error": TEXT,  # why there is no `crowd`: the votes file could not be read
}
EVALUATION_SHOWN = ("accuracy",)  # without it there is nothing to show: no evaluation
# Always written; Compare's per-class bars and the model card (ship) read them. A report without
# them is still shown where it can be (its accuracy), and its run is marked damaged.
EVALUATION_EXPECTED = ("per_class", "n", "macro_f1", "weighted_f1")
CROWD_EXPECTED = ("faces_with_votes", "label_agreement", "accuracy")
_STARTED_FROM = {"file": TEXT, "reproduce": TEXT, "minutes": Field(lambda v: is_number(v, 0), "minutes")}
CONFIG_EXTRA_FIELDS = {
    "recipe": TEXT, "precision_used": TEXT,
    "versions": Field(lambda v: isinstance(v, dict) and all(isinstance(x, str) for x in v.values()),
                      "library versions as text"),
    "started_from": Field(lambda v: v is None or _has_all(v, _STARTED_FROM), "the starting model's file and minutes"),
}


def _has_all(value, fields):
    """A dict holding every one of `fields`, each usable."""
    return isinstance(value, dict) and all(k in value and f.test(value[k]) for k, f in fields.items())


def _is_matrix(value):
    return (isinstance(value, list) and len(value) == NUM_CLASSES
            and all(isinstance(row, list) and len(row) == NUM_CLASSES and all(map(is_whole, row)) for row in value))


def shown_value(value, limit=40):
    """repr(value), cut to `limit` characters: a damaged field may hold a megabyte."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def check_fields(record, fields, *, name):
    """(record without its unusable known fields, problems): one problem line per dropped field."""
    clean, problems = dict(record), []
    for key, field in fields.items():
        if key in clean and not field.test(clean[key]):
            problems.append(f"{name}: {key} is {shown_value(clean.pop(key))}, not {field.wants}")
    return clean, problems


def check_status(status):
    """status.json's known fields checked; the averaging fields are kept only all together."""
    clean, problems = check_fields(status, STATUS_FIELDS, name="status.json")
    present = [key for key in _AVERAGE if key in clean]
    if present and len(present) < len(_AVERAGE):
        for key in present:
            clean.pop(key)
        problems.append(f"status.json: {', '.join(k for k in _AVERAGE if k not in present)} missing beside "
                        f"{', '.join(present)}")
    return clean, problems


def config_fields():
    """The typed fields of config.json: TrainConfig's (typed like their defaults), plus what runs record."""
    from emotion_core.config import AugmentConfig, TrainConfig

    fields = {f.name: _field_like(_default(f)) for f in dataclasses.fields(TrainConfig) if f.name != "augment"}
    augment = {f.name: _field_like(_default(f)) for f in dataclasses.fields(AugmentConfig)}
    fields["augment"] = Field(lambda v: isinstance(v, dict) and all(f.test(v[k]) for k, f in augment.items() if k in v),
                              "augmentation settings (numbers, and true or false for the flip)")
    return {**fields, **CONFIG_EXTRA_FIELDS}


def _default(field):
    return field.default_factory() if field.default is dataclasses.MISSING else field.default


def _field_like(default):
    if isinstance(default, bool):
        return FLAG
    if isinstance(default, int):
        return COUNT
    if isinstance(default, float):
        return NUMBER
    return TEXT


def check_config(config):
    return check_fields(config, config_fields(), name="config.json")


def check_evaluation(evaluation):
    """(evaluation, or None when it lacks what every page shows; the problems found).

    Fields of the wrong type are left out; one the writer always writes but that is missing
    is a problem too, while the rest of the report is still shown.
    """
    clean, problems = check_fields(evaluation, EVALUATION_FIELDS, name="evaluation.json")
    if "crowd" in clean:
        clean["crowd"], crowd_problems = check_fields(clean["crowd"], CROWD_FIELDS, name="evaluation.json: crowd")
        problems += crowd_problems + _lacking(clean["crowd"], CROWD_EXPECTED, name="evaluation.json: crowd")
    problems += _lacking(clean, EVALUATION_SHOWN + EVALUATION_EXPECTED, name="evaluation.json")
    return (None if any(key not in clean for key in EVALUATION_SHOWN) else clean), problems


def _lacking(record, keys, *, name):
    missing = [key for key in keys if key not in record]
    return [f"{name} lacks {', '.join(missing)}"] if missing else []


def probabilities_problem(probabilities, n=None):
    """Why `probabilities` are not n rows of 7 probabilities summing to 1, or None when they are.

    NaN rows (a model whose loss blew up, or a damaged file) would put every face in the
    first column of the confusion matrix, so they are refused like any other damage.
    """
    p = np.asarray(probabilities)
    if p.size == 0 and not n:  # an evaluation of no faces
        return None
    if p.ndim != 2 or p.shape[1] != NUM_CLASSES or (n is not None and len(p) != n):
        return f"shape {p.shape}, expected ({'n' if n is None else n}, {NUM_CLASSES})"
    if not np.issubdtype(p.dtype, np.floating):
        return f"{p.dtype} values, expected floating-point probabilities"
    if not np.isfinite(p).all():
        return f"{int((~np.isfinite(p)).any(axis=1).sum())} rows hold NaN or infinite values"
    if len(p) and (p.min() < -PROBABILITY_TOLERANCE or p.max() > 1 + PROBABILITY_TOLERANCE):
        return f"values from {p.min():.3g} to {p.max():.3g}, not probabilities in [0, 1]"
    if len(p) and np.abs(p.sum(axis=1) - 1).max() > PROBABILITY_TOLERANCE:
        return "rows that do not sum to 1"
    return None


def check_predictions(saved):
    """Why a predictions.npz's arrays cannot be trusted, or None when they can."""
    missing = [key for key in ("true", "names", "probabilities") if key not in saved]
    if missing:
        return f"lacks {', '.join(missing)}"
    true, names = np.asarray(saved["true"]), np.asarray(saved["names"])
    if true.ndim != 1 or not np.issubdtype(true.dtype, np.integer) or (len(true) and not 0 <= true.min() <= true.max() < NUM_CLASSES):
        return f"its true labels are not whole numbers 0-{NUM_CLASSES - 1}"
    if names.shape != true.shape or names.dtype.kind not in "US":
        return "its names do not match its labels"
    if "indices" in saved and np.asarray(saved["indices"]).shape != true.shape:
        return "its indices do not match its labels"
    problem = probabilities_problem(saved["probabilities"], len(true))
    return f"probabilities: {problem}" if problem else None
