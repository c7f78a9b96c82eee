"""Tables for comparing runs."""

import pandas as pd

from emotion_core import runs
from emotion_core.compare import mixed_test_sets, per_class_table, runs_table, describe_test_set
from emotion_core.labels import EMOTIONS


def test_runs_table_and_per_class_table(tmp_path):
    run_dir = runs.create_run({"data": "synthetic", "model": "seed_cnn", "imbalance": "none"}, root=tmp_path)
    runs.append_metrics(run_dir, {"epoch": 1, "val_accuracy": 0.4})
    runs.append_metrics(run_dir, {"epoch": 2, "val_accuracy": 0.5})
    report = {"accuracy": 0.45, "macro_f1": 0.3, "crowd": {"accuracy": 0.61},
              "per_class": {e: {"precision": 0.1, "recall": 0.2, "f1-score": 0.3, "support": 4} for e in EMOTIONS}}
    runs.save_evaluation(run_dir, report, names=[], labels=[], probabilities=[])
    runs.write_status(run_dir, runs.FINISHED, train_seconds=120)
    row = runs_table(runs.list_runs(tmp_path)).iloc[0]
    assert row["crowd accuracy"] == 0.61 and row["labels"] == "fer"  # both accuracies, side by side
    assert (row["epochs"], row["best val accuracy"], row["test accuracy"], row["training time (min)"]) == (2, 0.5, 0.45, 2.0)
    distilled = runs.create_run({"data": "synthetic", "model": "seed_cnn", "labels": "blend",
                                 "teachers": "runs/a, runs/b"}, root=tmp_path / "other")
    assert runs_table([runs.load_run(distilled)]).iloc[0]["labels"] == "blend + 2 teachers"
    table = per_class_table({"a": report})
    assert table.loc["Sad", ("a", "recall")] == 0.2 and isinstance(table.columns, pd.MultiIndex)


def test_describe_test_sets_and_a_warning_when_runs_were_tested_on_different_faces():
    fer = {"data": "/home/t/fer2013/test (3589 images)", "n": 3589}
    synthetic = {"data": "synthetic faces (test, 700 drawn faces)", "n": 700}
    assert describe_test_set(fer) == "fer2013/test, 3,589 faces"
    assert describe_test_set(synthetic) == "synthetic test, 700 faces"
    assert mixed_test_sets([fer, dict(fer)]) == []
    assert mixed_test_sets([fer, synthetic, None]) == ["fer2013/test, 3,589 faces", "synthetic test, 700 faces"]
