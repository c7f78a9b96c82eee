"""The fast preset: it trains, and its learning rates follow the intended cosine shape."""

import dataclasses
import math
import time
from types import SimpleNamespace

import keras
import pytest

from emotion_core import runs
from emotion_core.bench.train import _Budget
from emotion_core.config import PRESETS, TrainConfig
from emotion_core.training.loop import _learning_rate, train
from conftest import TINY_MODEL


def cosine(rate, fraction):
    return rate * 0.5 * (1 + math.cos(math.pi * fraction))


def test_cosine_schedule_falls_from_the_rate_to_zero_over_the_epochs():
    config = dataclasses.replace(PRESETS["fast"], epochs=10, learning_rate=1e-3)
    schedule = _learning_rate(config, steps_per_epoch=100)
    steps = (0, 250, 500, 750, 1000)
    rates = [float(schedule(step)) for step in steps]
    assert rates == pytest.approx([cosine(1e-3, step / 1000) for step in steps], abs=1e-9)
    assert rates[0] == pytest.approx(1e-3) and rates[2] == pytest.approx(5e-4) and rates[-1] == pytest.approx(0)
    assert _learning_rate(TrainConfig(), 100) == 1e-3  # the study's constant rate


def test_the_fast_preset_trains_on_synthetic_and_records_the_cosine_rates(tmp_path):
    # the preset's recipe on the tests' tiny network: the schedule is the subject, not the architecture
    config = dataclasses.replace(PRESETS["fast"], data="synthetic", model=TINY_MODEL, epochs=3, limit=280, batch_size=32)
    run_dir = train(config, root=tmp_path / "runs")
    assert runs.read_status(run_dir)["state"] == runs.FINISHED
    recorded = [m["lr"] for m in runs.read_metrics(run_dir)]
    # at the end of epoch e of 3 the schedule is e/3 of the way down
    assert recorded == pytest.approx([cosine(config.learning_rate, e / 3) for e in (1, 2, 3)], abs=1e-7)


def test_the_benchmark_anneals_over_the_time_budget():
    budget = _Budget(100, 32, cosine_from=1e-3)
    budget.set_model(SimpleNamespace(optimizer=SimpleNamespace(learning_rate=keras.Variable(1e-3)), stop_training=False))
    rates = []
    for elapsed in (0, 50, 99):
        budget.started = time.perf_counter() - elapsed
        budget.on_train_batch_begin(0)
        rates.append(float(budget.model.optimizer.learning_rate))
    assert rates == pytest.approx([cosine(1e-3, 0), cosine(1e-3, 0.5), cosine(1e-3, 0.99)], abs=2e-6)
    budget.on_train_batch_end(0)  # 99 s spent of 100: carries on
    assert not budget.model.stop_training
    budget.started = time.perf_counter() - 101
    budget.on_train_batch_end(1)
    assert budget.model.stop_training
