import os

import pytest

from emotion_core import runs


def test_create_run_writes_config_first_and_distinct_folders(tmp_path):
    first = runs.create_run({"model": "m"}, root=tmp_path, model_name="m")
    second = runs.create_run({"model": "m"}, root=tmp_path, model_name="m")
    assert first != second  # same second, still two folders
    assert runs.read_json(first / "config.json") == {"model": "m"}
    assert runs.read_status(first)["state"] == runs.RUNNING


def test_metrics_reader_ignores_a_half_written_last_line(tmp_path):
    runs.append_metrics(tmp_path, {"epoch": 1, "loss": 1.0})
    with open(tmp_path / "metrics.jsonl", "a") as f:
        f.write('{"epoch": 2, "lo')
    assert runs.read_metrics(tmp_path) == [{"epoch": 1, "loss": 1.0}]


def test_a_running_status_with_a_dead_pid_reads_as_lost(tmp_path):
    runs.write_status(tmp_path, runs.RUNNING)
    status = runs.read_json(tmp_path / "status.json")
    status["pid"] = 2**22 + 12345  # beyond pid_max: no such process
    runs.write_json_atomic(tmp_path / "status.json", status)
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
