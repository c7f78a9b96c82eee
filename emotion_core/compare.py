"""Tables for comparing runs (the study's Tables 1-5, for any runs the user picks)."""

from pathlib import Path

import pandas as pd

from emotion_core.config import split_teachers
from emotion_core.labels import EMOTIONS

RUN_COLUMNS = ("name", "recipe", "data", "architecture", "labels", "imbalance", "epochs", "best val accuracy",
               "test accuracy", "tested on", "crowd accuracy", "macro F1", "training time (min)", "state")


def runs_table(infos):
    """One row per run (a runs.RunInfo), with the columns of RUN_COLUMNS plus the folder path."""
    rows = []
    for info in infos:
        evaluation = info.evaluation or {}
        seconds = info.status.get("train_seconds") or info.status.get("elapsed_seconds")
        rows.append({
            "name": info.name,
            "recipe": info.config.get("recipe", "custom"),
            "data": _short_source(info.config.get("data", "")),
            "architecture": info.config.get("model"),
            "labels": _labels(info.config),
            "imbalance": info.config.get("imbalance"),
            "epochs": info.epochs_done,
            "best val accuracy": info.best_val_accuracy,
            "test accuracy": evaluation.get("accuracy"),
            "tested on": describe_test_set(evaluation) if evaluation else None,
            # agreement with the crowd's majority on the test faces that have FER+ votes
            "crowd accuracy": (evaluation.get("crowd") or {}).get("accuracy"),
            "macro F1": evaluation.get("macro_f1"),
            "training time (min)": round(seconds / 60, 1) if seconds else None,
            "state": info.state,
            "path": str(info.path),
        })
    return pd.DataFrame(rows, columns=[*RUN_COLUMNS, "path"])


def _labels(config):
    """The run's label source, and how many teachers it was distilled from."""
    teachers = split_teachers(config.get("teachers"))
    labels = config.get("labels", "fer")
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
    return f"{name}, {n:,} faces" if isinstance(n, int) else name


def mixed_test_sets(evaluations):
    """The distinct test sets among `evaluations` when there is more than one, else []."""
    names = sorted({describe_test_set(e) for e in evaluations if e})
    return names if len(names) > 1 else []


def per_class_table(reports):
    """Precision, recall and F1 per emotion side by side: rows emotions, columns (run, metric)."""
    columns = {}
    for name, report in reports.items():
        for metric in ("precision", "recall", "f1-score"):
            columns[(name, metric)] = [report["per_class"][e][metric] for e in EMOTIONS]
        columns[(name, "support")] = [report["per_class"][e]["support"] for e in EMOTIONS]
    table = pd.DataFrame(columns, index=[e.capitalize() for e in EMOTIONS])
    table.columns = pd.MultiIndex.from_tuples(table.columns)
    return table


def _short_source(source):
    text = str(source)
    return text if len(text) <= 40 else "…" + text[-39:]
