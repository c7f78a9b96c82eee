"""The run folder's callbacks, driven by hand: batch rows, step times, a loss gone NaN."""

import types

from emotion_core import runs
from emotion_core.training.callbacks import RunRecorder, StopOnRequest


def recorder(run_dir):
    callback = RunRecorder(run_dir, epochs=2, steps_per_epoch=10, n_train=100, n_val=20)
    callback.set_model(types.SimpleNamespace(stop_training=False))
    return callback


def test_the_first_batch_gets_a_row_at_once_and_its_step_time_reaches_the_status(tmp_path):
    callback = recorder(tmp_path)
    callback.on_train_begin()
    callback.on_epoch_begin(0)
    callback.on_train_batch_begin(0)
    callback.on_train_batch_end(0, {"loss": 2.0, "accuracy": 0.1})
    callback.on_train_batch_begin(1)
    callback.on_train_batch_end(1, {"loss": 1.9, "accuracy": 0.2})  # within 3 s: no second row
    (row,) = runs.read_metrics(tmp_path, batches=True)
    assert row["step"] == 1 and row["epoch_progress"] == 0.1 and row["loss"] == 2.0
    callback._write_status(epoch=0, batch=2)
    assert runs.read_status(tmp_path)["step_seconds"] > 0  # measured, not a default


def test_a_nan_loss_stops_training_and_is_remembered(tmp_path):
    callback = recorder(tmp_path)
    callback.on_train_begin()
    callback.on_train_batch_begin(0)
    callback.on_train_batch_end(0, {"loss": float("nan")})
    assert callback.diverged and callback.model.stop_training


def test_a_stop_request_stops_within_a_batch(tmp_path):
    callback = StopOnRequest(tmp_path)
    callback.set_model(types.SimpleNamespace(stop_training=False))
    callback.on_train_batch_end(0)
    assert not callback.model.stop_training
    runs.request_stop(tmp_path)
    callback.on_train_batch_end(1)
    assert callback.model.stop_training


def test_the_weight_averager_averages_the_epochs_from_its_start_on():
    import keras
    import numpy as np

    from emotion_core.training.callbacks import WeightAverager

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    averager = WeightAverager(start_epoch=2)
    averager.set_model(model)
    assert averager.average() is None
    for epoch, value in enumerate([10.0, 1.0, 2.0, 6.0]):  # epoch 1 (10.0) comes before the start
        model.set_weights([np.full_like(w, value) for w in model.get_weights()])
        averager.on_epoch_end(epoch)
    assert averager.count == 3
    assert [w.tolist() for w in averager.average()] == [[[3.0], [3.0]], [3.0]]  # kernel (2, 1), bias (1,)
