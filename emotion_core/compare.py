"""Tables for comparing runs (the study's Tables 1-5, for any runs the user picks)."""

import pandas as pd

from emotion_core.labels import EMOTIONS

RUN_COLUMNS = ("name", "data", "architecture", "labels", "imbalance", "epochs", "best val accuracy", "test accuracy",
               "crowd accuracy", "macro F1", "training time (min)", "state")


def runs_table(infos):
    """One row per run (a runs.RunInfo), with the columns of RUN_COLUMNS plus the folder path."""
    rows = []
    for info in infos:
        evaluation = info.evaluation or {}
        seconds = info.status.get("train_seconds") or info.status.get("elapsed_seconds")
        rows.append({
            "name": info.name,
            "data": _short_source(info.config.get("data", "")),
            "architecture": info.config.get("model"),
            "labels": info.config.get("labels", "fer"),
            "imbalance": info.config.get("imbalance"),
            "epochs": info.epochs_done,
            "best val accuracy": info.best_val_accuracy,
            "test accuracy": evaluation.get("accuracy"),
            # agreement with the crowd's majority on the test faces that have FER+ votes
            "crowd accuracy": (evaluation.get("crowd") or {}).get("accuracy"),
            "macro F1": evaluation.get("macro_f1"),
            "training time (min)": round(seconds / 60, 1) if seconds else None,
            "state": info.state,
            "path": str(info.path),
        })
    return pd.DataFrame(rows, columns=[*RUN_COLUMNS, "path"])


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
