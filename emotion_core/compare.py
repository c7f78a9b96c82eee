"""Tables for comparing runs (the study's Tables 1-5, for any runs the user picks).

Every value is type-checked where it is read: a RunInfo built by hand, or a report from an
older version, shows an empty cell for what it lacks instead of breaking the table.
"""

from pathlib import Path

import pandas as pd

from emotion_core import runs
from emotion_core.config import split_teachers
from emotion_core.labels import EMOTIONS
from emotion_core.run_records import EVALUATION_FIELDS, is_number, is_whole

RUN_COLUMNS = ("name", "recipe", "data", "architecture", "labels", "imbalance", "epochs", "best val accuracy",
               "test accuracy", "tested on", "crowd accuracy", "macro F1", "training time (min)", "state")


def runs_table(infos):
    """One row per run (a runs.RunInfo), with the columns of RUN_COLUMNS plus the folder path."""
    rows = []
    for info in infos:
        evaluation = info.evaluation if isinstance(info.evaluation, dict) else {}
        crowd = evaluation.get("crowd") if isinstance(evaluation.get("crowd"), dict) else {}
        seconds = next((s for s in (info.status.get("train_seconds"), info.status.get("elapsed_seconds"))
                        if is_number(s, 0) and s), None)
        rows.append({
            "name": info.name,
            "recipe": _text(info.config.get("recipe", "custom")),
            "data": _short_source(info.config.get("data", "")),
            "architecture": _text(info.config.get("model")),
            "labels": _labels(info.config),
            "imbalance": _text(info.config.get("imbalance")),
            "epochs": info.epochs_done,
            "best val accuracy": info.best_val_accuracy,
            "test accuracy": _share(evaluation.get("accuracy")),
            "tested on": describe_test_set(evaluation) if evaluation else None,
            # agreement with the crowd's majority on the test faces that have FER+ votes
            "crowd accuracy": _share(crowd.get("accuracy")),
            "macro F1": _share(evaluation.get("macro_f1")),
            "training time (min)": round(seconds / 60, 1) if seconds else None,
            "state": "shipped" if runs.is_reference(info.path) else info.state,
            "path": str(info.path),
        })
    return pd.DataFrame(rows, columns=[*RUN_COLUMNS, "path"])


def study_table(rows):
    """The table "reported by the study / measured here" from reference.study_rows()."""
    # epochs as text before pandas sees them: a column of ints and Nones becomes floats (5.0, NaN)
    rows = [dict(row, epochs=str(row["epochs"]) if is_whole(row["epochs"]) else "—") for row in rows]
    table = pd.DataFrame(rows).rename(columns={"reported": "reported by the study", "measured": "measured here",
                                               "crowd": "crowd agreement"})
    for column in ("reported by the study", "measured here", "crowd agreement"):
        table[column] = table[column].map(lambda v: f"{v:.0%}" if is_number(v, 0, 1) else "—")
    table["architecture"] = table["architecture"].fillna("—")
    return table


def _text(value):
    return value if isinstance(value, str) else None


def _share(value):
    return float(value) if is_number(value, 0, 1) else None


def _labels(config):
    """The run's label source, and how many teachers it was distilled from."""
    teachers = split_teachers(config.get("teachers") if isinstance(config.get("teachers"), str) else "")
    labels = _text(config.get("labels", "fer"))
    return f"{labels} + {len(teachers)} teacher{'s' if len(teachers) > 1 else ''}" if teachers else labels


def describe_test_set(evaluation):
    """Which faces an accuracy was measured on, short: "fer2013/test, 3,589 faces" or
    "synthetic test, 700 faces". Accuracies on different sets must not be compared blindly."""
    source = str(evaluation.get("data", "?")).split(" (")[0]
    if "synthetic" in source.lower():
        name = "synthetic test"
    else:
        path = Path(source)
        name = f"{path.parent.name}/{path.name}" if path.parent.name else path.name
    n = evaluation.get("n")
    return f"{name}, {n:,} faces" if is_whole(n) else name


def mixed_test_sets(evaluations):
    """The distinct test sets among `evaluations` when there is more than one, else []."""
    names = sorted({describe_test_set(e) for e in evaluations if e})
    return names if len(names) > 1 else []


def per_class_table(reports):
    """Precision, recall and F1 per emotion side by side: rows emotions, columns (run, metric).

    A report without usable per-class rows (hand-made, or damaged) is left out."""
    columns = {}
    for name, report in reports.items():
        if not isinstance(report, dict) or not EVALUATION_FIELDS["per_class"].test(report.get("per_class")):
            continue
        for metric in ("precision", "recall", "f1-score"):
            columns[(name, metric)] = [report["per_class"][e][metric] for e in EMOTIONS]
        columns[(name, "support")] = [report["per_class"][e]["support"] for e in EMOTIONS]
    table = pd.DataFrame(columns, index=[e.capitalize() for e in EMOTIONS])
    table.columns = pd.MultiIndex.from_tuples(table.columns) if columns else pd.MultiIndex.from_arrays([[], []])
    return table


def _short_source(source):
    text = str(source)
    return text if len(text) <= 40 else "…" + text[-39:]
