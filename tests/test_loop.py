import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from emotion_core import runs
from emotion_core.config import TrainConfig
from emotion_core.models.io import load_model
from emotion_core.training.loop import train
from conftest import TINY_MODEL

# The tiny test-only network (conftest.py) on 280 synthetic faces: a whole run in seconds.
TINY = TrainConfig(data="synthetic", model=TINY_MODEL, epochs=1, limit=280, batch_size=32)


def test_one_epoch_run_leaves_a_complete_run_folder(tmp_path):
    run_dir = train(TINY, root=tmp_path / "runs")
    assert {"config.json", "metrics.jsonl", "status.json", "model.keras", "evaluation.json",
            "predictions.npz"} <= {p.name for p in run_dir.iterdir()}
    config = json.loads((run_dir / "config.json").read_text())
    assert TrainConfig.from_dict(config) == TINY and "tensorflow" in config["versions"]
    (epoch,) = runs.read_metrics(run_dir)
    # the run-folder contract's epoch row (docs/ARCHITECTURE.md): which fields are there, never how long anything took
    assert {"loss", "accuracy", "val_loss", "val_accuracy", "lr"} <= set(epoch)
    assert isinstance(epoch["epoch_seconds"], float)  # recorded for the Compare table; its value is not checked
    status = runs.read_status(run_dir)
    assert status["state"] == runs.FINISHED and status["epochs_done"] == 1
    evaluation = json.loads((run_dir / "evaluation.json").read_text())
    assert evaluation["n"] == 700 and "synthetic" in evaluation["data"]  # the synthetic test split
    with np.load(run_dir / "predictions.npz") as saved:
        assert saved["probabilities"].shape == (700, 7) and np.allclose(saved["probabilities"].sum(1), 1, atol=1e-4)
    assert load_model(run_dir).name == TINY_MODEL
    assert not list(run_dir.glob(".*tmp*")), "temporary files left behind"


def test_a_stop_request_ends_the_run_as_stopped_with_a_model(tmp_path):
    from emotion_core.training.loop import start_run

    config = TrainConfig(data="synthetic", model=TINY_MODEL, epochs=50, limit=280, batch_size=16)
    run_dir = start_run(config, root=tmp_path)
    runs.request_stop(run_dir)  # asked before the first batch ends: stops within one batch
    train(config, run_dir=run_dir)
    status = runs.read_status(run_dir)
    # Keras closes the interrupted epoch (validation, on_epoch_end) after the stopping batch
    assert status["state"] == runs.STOPPED and status["epochs_done"] <= 1
    assert (run_dir / "model.keras").exists() and (run_dir / "evaluation.json").exists()


def test_a_disk_that_fills_up_mid_training_leaves_a_failed_run_that_says_so(tmp_path, monkeypatch):
    """Not "lost": the last status still lands when no temp file can be written any more."""
    import keras

    full = OSError(28, "No space left on device")

    def disk_full(*args, **kwargs):
        raise full

    class DiskFillsUp(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            monkeypatch.setattr(runs, "write_json_atomic", disk_full)  # from now on no new file fits
            raise full

    run_dir = runs.create_run({"data": "synthetic"}, root=tmp_path / "runs")
    with pytest.raises(OSError, match="No space left"):
        train(TINY, run_dir=run_dir, callbacks=[DiskFillsUp()])
    status = runs.read_status(run_dir)
    assert status["state"] == runs.FAILED and "No space left on device" in status["error"]
    assert not list(run_dir.glob(".tmp-*"))


def _start_cli_training(runs_dir, epochs=100):
    # A real architecture (a new process does not know the tests' tiny one) on 140 faces: epochs of
    # 14 batches, so the process is in its second epoch within seconds of starting.
    cmd = [sys.executable, "-m", "emotion_core", "train", "--data", "synthetic", "--model", "cnn_3blocks",
           "--epochs", str(epochs), "--limit", "140", "--batch-size", "8", "--runs-dir", str(runs_dir)]
    with open(Path(runs_dir) / "train.log", "wb") as log:  # read back by _wait_for when the wait fails
        return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)


def _wait_for(predicate, process, timeout=180):
    """Until `predicate()` holds; fails with the training's own output if it ends or the time is up."""
    deadline = time.time() + timeout
    while time.time() < deadline and process.poll() is None:
        if predicate():
            return
        time.sleep(0.2)
    log = Path(process.args[process.args.index("--runs-dir") + 1]) / "train.log"
    pytest.fail(f"the training (exit code {process.poll()}) never got there; its output ends:\n"
                f"{log.read_text(errors='replace')[-3000:]}")


def _in_second_epoch(status):
    return status.get("epoch", 0) >= 1 and status.get("batch", 0) > 0


def _first_run(runs_dir):
    found = list(Path(runs_dir).glob("*/status.json"))
    return found[0].parent if found else None


def test_a_run_killed_mid_epoch_leaves_a_readable_folder(tmp_path):
    process = _start_cli_training(tmp_path)
    try:
        # wait until an epoch has finished and the next one is under way
        _wait_for(lambda: _first_run(tmp_path) and _in_second_epoch(runs.read_status(_first_run(tmp_path))), process)
    finally:
        process.kill()
        process.wait()
    run_dir = _first_run(tmp_path)
    info = runs.load_run(run_dir)
    assert info.state == runs.LOST  # the process is gone without saying so
    assert info.epochs_done >= 1 and info.config["model"] == "cnn_3blocks"
    assert load_model(run_dir).output_shape == (None, 7)


@pytest.mark.skipif(os.name == "nt", reason="POSIX signals")
def test_sigterm_stops_the_run_gracefully(tmp_path):
    process = _start_cli_training(tmp_path)
    _wait_for(lambda: _first_run(tmp_path) and runs.read_status(_first_run(tmp_path)).get("batch", 0) > 0, process)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0
    assert runs.read_status(_first_run(tmp_path))["state"] == runs.STOPPED


def test_crowd_soft_labels_train_on_vote_shares_and_leave_out_non_faces(voted_kaggle_root):
    from emotion_core.training.loop import prepare_data

    config = TrainConfig(data=str(voted_kaggle_root), model=TINY_MODEL, epochs=1, labels="crowd-soft",
                         imbalance="none", validation_fraction=0.25)
    (x_train, y_train), (x_val, y_val), _ = prepare_data(config)
    assert len(x_train) + len(x_val) == 7 * 4  # of 6 faces per class, the 2 called not-a-face are left out
    assert y_train.shape == (len(x_train), 7) and np.allclose(y_train.sum(axis=1), 1)
    assert y_val.ndim == 1  # validation scores against the crowd's majority
    run_dir = train(config)
    assert runs.read_status(run_dir)["state"] == runs.FINISHED and runs.read_config(run_dir)["labels"] == "crowd-soft"
    assert runs.read_evaluation(run_dir)["crowd"]["faces_with_votes"] == 7 * 2  # test faces with an emotion majority


def test_blend_labels_keep_every_face_and_mix_label_with_votes(voted_kaggle_root):
    from emotion_core.data import load_data
    from emotion_core.labels import EMOTIONS
    from emotion_core.training.loop import crowd_labelled

    dataset = load_data(str(voted_kaggle_root), split="train")
    same, targets = crowd_labelled(dataset, "blend")
    assert same is dataset and targets.shape == (len(dataset), 7)  # no face is left out
    file = [str(n).rsplit("/", 1)[-1] for n in dataset.names]
    angry = EMOTIONS.index("angry")
    agreed, said_neutral, not_a_face = (file.index(f"train_angry_{i}.png") for i in range(3))
    assert targets[agreed, angry] == 1.0  # the crowd agrees: the label stays whole
    assert targets[said_neutral, angry] == 0.5 and targets[said_neutral, EMOTIONS.index("neutral")] == 0.5
    assert targets[not_a_face, angry] == 1.0  # no emotion majority: the label alone
    _, quarter = crowd_labelled(dataset, "blend", crowd_share=0.25)
    assert quarter[said_neutral, angry] == 0.75 and quarter[said_neutral, EMOTIONS.index("neutral")] == 0.25
    assert quarter[agreed, angry] == 1.0 and np.allclose(quarter.sum(axis=1), 1.0)
    config = TrainConfig(data=str(voted_kaggle_root), model=TINY_MODEL, epochs=1, labels="blend",
                         imbalance="none", validation_fraction=0.25)
    run_dir = train(config)
    assert runs.read_status(run_dir)["state"] == runs.FINISHED and runs.read_config(run_dir)["labels"] == "blend"


def test_sgd_trains_with_nesterov_momentum(tmp_path):
    import keras

    config = TrainConfig(model=TINY_MODEL, epochs=1, limit=280, optimizer="sgd", learning_rate=0.01)
    run_dir = train(config, root=tmp_path)
    assert runs.read_status(run_dir)["state"] == runs.FINISHED
    optimizer = keras.saving.load_model(runs.model_path(run_dir)).optimizer  # saved with the checkpoint
    assert type(optimizer).__name__ == "SGD" and optimizer.nesterov and optimizer.momentum == 0.9


def test_crowd_labels_on_data_without_votes_are_refused_before_a_run_folder_exists():
    from emotion_core.errors import DataError
    from emotion_core.training.loop import check_data

    with pytest.raises(DataError, match="no crowd votes for the faces"):
        check_data(TrainConfig(data="synthetic", labels="crowd"))


def test_distilled_targets_mix_the_labels_with_the_teachers_predictions():
    from emotion_core.training.loop import distilled_targets

    uniform = np.full((2, 7), 1 / 7, np.float32)
    targets = distilled_targets(np.array([0, 2]), uniform, 0.25)
    assert targets[0, 0] == pytest.approx(0.75 + 0.25 / 7) and targets[0, 1] == pytest.approx(0.25 / 7)
    assert targets[1].argmax() == 2 and np.allclose(targets.sum(axis=1), 1)
    soft = np.full((2, 7), 0.0, np.float32)
    soft[:, 3] = 1.0
    assert np.allclose(distilled_targets(soft, uniform, 1.0), uniform)  # all teacher: the labels are gone


def test_a_distilled_run_learns_from_the_averaged_teachers(trained_synthetic_run, tmp_path, monkeypatch):
    import dataclasses

    from emotion_core.data import load_data
    from emotion_core.evaluation import predict_probabilities
    from emotion_core.training import loop

    faces = load_data("synthetic", split="test").images[:40]
    teacher, default = str(trained_synthetic_run), "default"
    told = []
    both = loop.teachers_probabilities([teacher, default], faces, progress=lambda i, n: told.append((i, n)))
    assert told == [(1, 2), (2, 2)]
    alone = [predict_probabilities(load_model(t), faces, tta=True) for t in (teacher, default)]
    assert np.allclose(both, (alone[0] + alone[1]) / 2, atol=1e-5)
    asked = []
    monkeypatch.setattr(loop, "teachers_probabilities", lambda ts, images, progress: asked.append((ts, len(images))) or
                        predict_probabilities(load_model(ts[0]), images, tta=True))
    config = dataclasses.replace(TINY, teachers=f"{teacher}, default", teacher_share=0.5)
    run_dir = train(config, root=tmp_path / "runs")
    assert runs.read_status(run_dir)["state"] == runs.FINISHED
    (x_train, _), _, _ = loop.prepare_data(config)
    assert asked == [([teacher, "default"], len(x_train))]  # every training face, once
    assert TrainConfig.from_dict(runs.read_config(run_dir)).teacher_list() == [teacher, "default"]


def test_a_mixup_run_trains_on_batches_that_went_through_the_mixer(tmp_path, monkeypatch):
    import dataclasses

    from emotion_core.config import AugmentConfig
    from emotion_core.training import loop
    from emotion_core.training.augment import PairMixer

    mixed = []

    class CountingMixer(PairMixer):
        def __call__(self, images, targets):
            mixed.append(self.alpha)  # runs when tf.data traces the training pipeline
            return super().__call__(images, targets)

    monkeypatch.setattr(loop, "build_mixer", lambda augment, seed=None: CountingMixer(augment.mixup, seed=seed))
    config = dataclasses.replace(TINY, augment=AugmentConfig(0.0, 0.0, 0.0, 0.0, False, mixup=0.3))
    run_dir = train(config, root=tmp_path / "runs")
    assert runs.read_status(run_dir)["state"] == runs.FINISHED
    assert mixed and set(mixed) == {0.3}


def test_an_averaged_run_keeps_whichever_of_average_and_best_epoch_did_better(tmp_path):
    config = TrainConfig(data="synthetic", model=TINY_MODEL, epochs=3, limit=280, batch_size=32, average_from=2)
    run_dir = train(config, root=tmp_path)
    status = runs.read_status(run_dir)
    best_epoch = max(row["val_accuracy"] for row in runs.read_metrics(run_dir))
    assert status["averaged_epochs"] == 2
    assert status["average_kept"] == (status["averaged_val_accuracy"] > best_epoch)
    assert status["best_val_accuracy"] == pytest.approx(max(best_epoch, status["averaged_val_accuracy"]))


@pytest.mark.parametrize("best_so_far, kept", [(-1.0, True), (2.0, False)])
def test_the_average_is_saved_only_when_it_beats_the_best_epoch(tmp_path, best_so_far, kept):
    import types

    import keras

    from emotion_core.models.io import save_model_atomic
    from emotion_core.training.callbacks import WeightAverager
    from emotion_core.training.loop import _keep_average, make_dataset

    model = keras.Sequential([keras.Input((48, 48, 1)), keras.layers.Flatten(), keras.layers.Dense(7, activation="softmax")])
    model.compile(loss="categorical_crossentropy", metrics=["accuracy"])
    save_model_atomic(model, runs.model_path(tmp_path))
    best_epoch_weights = model.get_weights()
    averager = WeightAverager(start_epoch=1)
    averager.set_model(model)
    for value in (0.0, 0.02):
        model.set_weights([np.full_like(w, value) for w in model.get_weights()])
        averager.on_epoch_end(0)
    val_ds = make_dataset(np.zeros((8, 48, 48), np.uint8), np.arange(8) % 7, batch_size=4)
    recorder = types.SimpleNamespace(best_val_accuracy=best_so_far, epochs_done=2)
    result = _keep_average(tmp_path, model, averager, val_ds, recorder)
    assert result["average_kept"] is kept and result["averaged_epochs"] == 2
    saved = load_model(tmp_path).get_weights()
    expected = averager.average() if kept else best_epoch_weights
    assert all(np.allclose(s, e) for s, e in zip(saved, expected))
