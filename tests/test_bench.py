"""The training benchmark: the two recipes run within a budget (slow: minutes of real training
beside anything else), and its table's arithmetic (fast)."""

import time

import pytest

from emotion_core.bench.train import BenchResult, bench_train, format_results
from emotion_core.cli import main


@pytest.mark.slow  # a benchmark: it trains until its time budget is spent, twice
def test_bench_runs_both_recipes_on_synthetic_and_reports_what_they_did():
    results = bench_train("synthetic", budget_s=3)
    assert [r.recipe for r in results] == ["study recipe, plain port", "fast recipe, this project"]
    for r in results:
        assert r.images_per_s > 0 and r.epochs > 0 and r.seconds >= 3  # trained until the budget was spent
    assert "throughput ratio (fast / study)" in format_results(results)


@pytest.mark.slow  # a benchmark through the CLI: two more budgets of training
def test_bench_cli_prints_its_table(capsys):
    assert main(["bench", "train", "--data", "synthetic", "--budget-min", "0.02"]) == 0
    out = capsys.readouterr().out
    assert "images/s" in out and "throughput ratio" in out


def test_format_results_ratio():
    rows = [BenchResult("a", "float32", 100.0, 1, 60, 0.5, 0.51), BenchResult("b", "mixed_bfloat16", 250.0, 2.5, 60, 0.6, 0.61)]
    assert "2.50x" in format_results(rows)


@pytest.mark.slow  # a benchmark: a real training process, stopped after its first epoch
def test_bench_start_times_the_first_status_batch_and_epoch_and_stops_the_run(tmp_path, capsys):
    from emotion_core import runs

    assert main(["bench", "start", "--data", "synthetic", "--preset", "demo", "--runs-dir", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    seconds = [float(line.split()[-2]) for line in printed.splitlines()[1:]]
    assert len(seconds) == 3 and seconds == sorted(seconds), printed  # status, then a batch, then an epoch
    (run,) = runs.list_runs(tmp_path)
    deadline = time.time() + 120
    while runs.load_run(run.path).state == runs.RUNNING and time.time() < deadline:
        time.sleep(0.5)
    assert runs.load_run(run.path).state == runs.STOPPED  # one epoch measured, the rest not trained
