import os

import pytest

from emotion_core import runs
from emotion_core.errors import RunError


def test_create_run_writes_config_first_and_distinct_folders(tmp_path, monkeypatch):
    seen = []
    write_status = runs.write_status
    monkeypatch.setattr(runs, "write_status", lambda d, *a, **k: (seen.append(runs.read_config(d)),
                                                                   write_status(d, *a, **k)))
    first = runs.create_run({"model": "m"}, root=tmp_path, model_name="m")
    second = runs.create_run({"model": "m"}, root=tmp_path, model_name="m")
    assert seen == [{"model": "m"}, {"model": "m"}]  # config.json was there before the first status
    assert first != second  # same second, still two folders
    assert runs.read_status(first)["state"] == runs.RUNNING


def test_metrics_reader_ignores_a_half_written_last_line(tmp_path):
    runs.append_metrics(tmp_path, {"epoch": 1, "loss": 1.0})
    with open(tmp_path / runs.METRICS, "a") as f:
        f.write('{"epoch": 2, "lo')
    assert runs.read_metrics(tmp_path) == [{"epoch": 1, "loss": 1.0}]


def test_a_running_status_with_a_dead_pid_reads_as_lost(tmp_path):
    runs.write_status(tmp_path, runs.RUNNING)
    status = runs.read_json(tmp_path / runs.STATUS)
    status["pid"] = 2**22 + 12345  # beyond pid_max: no such process
    runs.write_json_atomic(tmp_path / runs.STATUS, status)
    assert runs.read_status(tmp_path)["state"] == runs.LOST


def test_list_rename_and_delete(tmp_path):
    run_dir = runs.create_run({"model": "seed_cnn"}, root=tmp_path, model_name="seed_cnn")
    with pytest.raises(runs.RunError, match="still running"):
        runs.delete_run(run_dir)
    runs.write_status(run_dir, runs.FINISHED)
    runs.rename_run(run_dir, "baseline")
    (info,) = runs.list_runs(tmp_path)
    assert info.name == "baseline" and info.state == runs.FINISHED
    runs.delete_run(run_dir)
    assert runs.list_runs(tmp_path) == [] and not os.path.exists(run_dir)


def test_progress_counts_batches_across_epochs_and_estimates_time_left():
    status = {"state": "running", "phase": "training", "epochs": 4, "steps_per_epoch": 100, "epoch": 1,
              "batch": 50, "elapsed_seconds": 30.0, "heartbeat": 100.0}
    shown = runs.progress(status, now=100.0)
    assert shown["fraction"] == 150 / 400
    assert shown["eta_s"] == 30.0 / 150 * 250  # same pace for the remaining 250 batches
    assert "epoch 2/4, batch 50/100" in shown["caption"] and "left" in shown["caption"]


def test_no_time_left_is_shown_from_the_first_slow_steps():
    """The first steps trace the model: an estimate from them said 19 minutes for a 3-minute demo."""
    status = {"state": "running", "phase": "training", "epochs": 8, "steps_per_epoch": 24, "epoch": 0,
              "batch": 6, "elapsed_seconds": 20.0, "heartbeat": 100.0, "step_seconds": 3.0}
    shown = runs.progress(status, now=100.0)
    assert shown["eta_s"] is None and "left" not in shown["caption"] and "batch 6/24" in shown["caption"]


def test_progress_of_a_finished_or_fresh_run():
    assert runs.progress({"state": "finished", "epochs_done": 3})["caption"] == "finished: 3 epochs"
    fresh = runs.progress({"state": "running", "phase": "loading data"})
    assert fresh["fraction"] == 0 and fresh["eta_s"] is None and fresh["caption"] == "loading data…"


def test_progress_of_a_finished_run_is_a_full_bar_even_when_it_stopped_early():
    shown = runs.progress({"state": "finished", "epochs": 30, "steps_per_epoch": 10, "epoch": 12, "epochs_done": 12})
    assert shown["fraction"] == 1.0 and shown["caption"] == "finished: 12 epochs"
    assert runs.progress({"state": "stopped", "epochs_done": 1})["caption"] == "stopped: 1 epoch"


def test_json_is_written_strictly_so_every_reader_can_parse_it(tmp_path):
    runs.append_metrics(tmp_path, {"epoch": 1, "loss": float("nan"), "val_loss": float("inf"), "accuracy": 0.5})
    runs.write_json_atomic(tmp_path / runs.STATUS, {"state": "failed", "best": float("nan")})
    import json

    line = (tmp_path / runs.METRICS).read_text().strip()
    assert json.loads(line, parse_constant=lambda c: pytest.fail(f"{c} in metrics.jsonl")) == {
        "epoch": 1, "loss": None, "val_loss": None, "accuracy": 0.5}
    assert runs.read_metrics(tmp_path) == [{"epoch": 1, "accuracy": 0.5}]
    assert runs.read_json(tmp_path / runs.STATUS) == {"state": "failed", "best": None}


def test_time_left_comes_from_recent_step_times_not_from_the_slow_start():
    # 60 s elapsed for 15 steps (most of it loading and tracing), but a step now takes 0.5 s
    status = {"state": "running", "phase": "training", "epochs": 4, "steps_per_epoch": 100, "epoch": 1,
              "batch": 50, "elapsed_seconds": 60.0, "heartbeat": 100.0, "step_seconds": 0.5}
    assert runs.progress(status, now=100.0)["eta_s"] == 0.5 * 250
    stopping = runs.progress(status, now=100.0, stopping=True)
    assert stopping["caption"].startswith("stopping…") and stopping["eta_s"] is None


def test_batch_rows_are_read_apart_from_epoch_rows(tmp_path):
    runs.append_metrics(tmp_path, {"step": 1, "epoch_progress": 0.01, "loss": 2.0, "accuracy": 0.1})
    runs.append_metrics(tmp_path, {"step": 40, "epoch_progress": 0.4, "loss": 1.8, "accuracy": 0.2})
    runs.append_metrics(tmp_path, {"epoch": 1, "loss": 1.7, "val_accuracy": 0.3})
    assert [r["step"] for r in runs.read_metrics(tmp_path, batches=True)] == [1, 40]
    assert runs.read_metrics(tmp_path) == [{"epoch": 1, "loss": 1.7, "val_accuracy": 0.3}]


def test_a_read_only_runs_folder_gives_messages_not_oserrors(tmp_path, monkeypatch):
    run_dir = runs.create_run({"model": "m"}, root=tmp_path)

    def read_only(path, data):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(runs, "write_json_atomic", read_only)
    with pytest.raises(RunError, match="cannot rename .*Read-only file system"):
        runs.rename_run(run_dir, "new name")
    with pytest.raises(RunError, match="cannot save the evaluation .*Read-only file system"):
        runs.save_evaluation(run_dir, {"accuracy": 1.0}, names=["a"], labels=[0], probabilities=[[1.0] * 7])


def test_a_run_folder_that_cannot_be_written_is_removed_not_left_empty(tmp_path, monkeypatch):
    """A full disk while config.json is written: no empty run folder, no temp file, one clear message."""
    def disk_full(path, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(runs, "write_json_atomic", disk_full)
    with pytest.raises(RunError, match="No space left on device"):
        runs.create_run({"model": "m"}, root=tmp_path / "runs")
    assert list((tmp_path / "runs").iterdir()) == []
