"""The live display's logic, tested as plain functions (fragment timers do not fire in AppTest)."""

import pandas as pd

from emotion_core import runs
from emotion_core.compare import per_class_table, runs_table
from emotion_core.jobs import progress
from emotion_core.labels import EMOTIONS


def test_progress_counts_batches_across_epochs_and_estimates_time_left():
    status = {"state": "running", "phase": "training", "epochs": 4, "steps_per_epoch": 10, "epoch": 1,
              "batch": 5, "elapsed_seconds": 30.0, "heartbeat": 100.0}
    shown = progress(status, now=100.0)
    assert shown["fraction"] == 15 / 40
    assert shown["eta_s"] == 30.0 / 15 * 25  # same pace for the remaining 25 batches
    assert "epoch 2/4, batch 5/10" in shown["caption"] and "left" in shown["caption"]


def test_progress_of_a_finished_or_fresh_run():
    assert progress({"state": "finished", "epochs_done": 3})["caption"] == "finished: 3 epochs"
    fresh = progress({"state": "running", "phase": "loading data"})
    assert fresh["fraction"] == 0 and fresh["eta_s"] is None and fresh["caption"] == "loading data…"


def test_runs_table_and_per_class_table(tmp_path):
    run_dir = runs.create_run({"data": "synthetic", "model": "seed_cnn", "imbalance": "none"}, root=tmp_path)
    runs.append_metrics(run_dir, {"epoch": 1, "val_accuracy": 0.4})
    runs.append_metrics(run_dir, {"epoch": 2, "val_accuracy": 0.5})
    report = {"accuracy": 0.45, "macro_f1": 0.3,
              "per_class": {e: {"precision": 0.1, "recall": 0.2, "f1-score": 0.3, "support": 4} for e in EMOTIONS}}
    runs.write_json_atomic(run_dir / "evaluation.json", report)
    runs.write_status(run_dir, runs.FINISHED, train_seconds=120)
    row = runs_table(runs.list_runs(tmp_path)).iloc[0]
    assert (row["epochs"], row["best val accuracy"], row["test accuracy"], row["training time (min)"]) == (2, 0.5, 0.45, 2.0)
    table = per_class_table({"a": report})
    assert table.loc["Sad", ("a", "recall")] == 0.2 and isinstance(table.columns, pd.MultiIndex)
