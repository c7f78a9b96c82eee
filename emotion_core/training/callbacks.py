"""Small Keras callbacks, one concern each: stop on request, record into the run folder, and
a terminal progress bar. The run folder is the app's message bus; runs.py owns its files."""

import statistics
import time
from collections import deque

import keras
import numpy as np
from tqdm import tqdm

from emotion_core import runs
from emotion_core.models.io import save_model_atomic

STATUS_EVERY_S = 1.0  # how often batch progress is written; often enough for a live progress bar
BATCH_ROW_EVERY_S = 3.0  # how often a batch-level metrics row is appended: curves move within seconds
STEP_WINDOW = 50  # recent steps whose median time estimates the time left (the first, traced steps are slow)


class StopOnRequest(keras.callbacks.Callback):
    """Stops training within a batch of a stop request appearing in the run folder."""

    def __init__(self, run_dir):
        super().__init__()
        self.run_dir = run_dir

    def on_train_batch_end(self, batch, logs=None):
        if runs.stop_requested(self.run_dir):
            self.model.stop_training = True


class RunRecorder(keras.callbacks.Callback):
    """Appends a metrics line per epoch (and a batch-level row every few seconds), keeps the
    best model by val_accuracy, and heartbeats batch progress and step time into status.json."""

    def __init__(self, run_dir, *, epochs, steps_per_epoch, n_train, n_val):
        super().__init__()
        self.run_dir = run_dir
        self.progress = {"epochs": epochs, "steps_per_epoch": steps_per_epoch, "n_train": n_train, "n_val": n_val}
        self.best_val_accuracy = None
        self.epochs_done = 0
        self.diverged = False  # the loss became NaN or infinite: nothing more can be learnt
        self._started = self._epoch_started = self._last_status = self._step_started = time.time()
        self._next_batch_row = 0.0  # the first batch gets a row at once
        self._step_seconds = deque(maxlen=STEP_WINDOW)

    def on_train_begin(self, logs=None):
        self._started = time.time()
        self._write_status(epoch=0, batch=0)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_started = time.time()
        self._write_status(epoch=epoch, batch=0)

    def on_train_batch_begin(self, batch, logs=None):
        self._step_started = time.time()

    def on_train_batch_end(self, batch, logs=None):
        now = time.time()
        self._step_seconds.append(now - self._step_started)
        logs = logs or {}
        loss = logs.get("loss")
        if loss is not None and not np.isfinite(float(loss)):
            self.diverged = True
            self.model.stop_training = True
        if now >= self._next_batch_row:
            self._next_batch_row = now + BATCH_ROW_EVERY_S
            steps = self.progress["steps_per_epoch"]
            runs.append_metrics(self.run_dir, {
                "step": self.epochs_done * steps + batch + 1, "epoch_progress": self.epochs_done + (batch + 1) / steps,
                # Keras reports the running mean over the epoch so far: already smooth
                **{k: float(logs[k]) for k in ("loss", "accuracy") if k in logs}, "time": now})
        if now - self._last_status >= STATUS_EVERY_S:
            self._write_status(epoch=self.epochs_done, batch=batch + 1)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self.epochs_done = epoch + 1
        record = {"epoch": epoch + 1, **{k: float(v) for k, v in logs.items() if np.isscalar(v)},
                  "lr": self._learning_rate(), "epoch_seconds": time.time() - self._epoch_started,
                  "elapsed_seconds": time.time() - self._started, "time": time.time()}
        record.pop("learning_rate", None)
        runs.append_metrics(self.run_dir, record)
        val_accuracy = logs.get("val_accuracy")
        if val_accuracy is not None and (self.best_val_accuracy is None or val_accuracy > self.best_val_accuracy):
            self.best_val_accuracy = float(val_accuracy)
            save_model_atomic(self.model, runs.model_path(self.run_dir))
        self._write_status(epoch=self.epochs_done, batch=0)

    def _learning_rate(self):
        return float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))

    def _write_status(self, *, epoch, batch):
        self._last_status = time.time()
        step_seconds = statistics.median(self._step_seconds) if self._step_seconds else None
        runs.write_status(self.run_dir, runs.RUNNING, phase="training", epoch=epoch, batch=batch,
                          elapsed_seconds=time.time() - self._started, step_seconds=step_seconds,
                          best_val_accuracy=self.best_val_accuracy, **self.progress)


class WeightAverager(keras.callbacks.Callback):
    """Averages the weights at the end of every epoch from `start_epoch` (1-based) on.

    Stochastic weight averaging (Izmailov et al., 2018): the epochs of a late, high-rate phase
    sit around a wide optimum, and their average often lies nearer its centre than any one
    of them. Batch-normalisation statistics are averaged with the rest: re-estimating them on
    training batches measured no better here (docs/decisions/shipped_model.md, and git history).
    """

    def __init__(self, start_epoch):
        super().__init__()
        self.start_epoch = start_epoch
        self.count = 0
        self._sums = None

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 < self.start_epoch:
            return
        weights = [np.asarray(w, dtype=np.float64) for w in self.model.get_weights()]
        self._sums = weights if self._sums is None else [s + w for s, w in zip(self._sums, weights)]
        self.count += 1

    def average(self):
        """The averaged weights, in `model.get_weights()` order (None before the first averaged epoch)."""
        if not self.count:
            return None
        return [(s / self.count).astype(w.dtype) for s, w in zip(self._sums, self.model.get_weights())]


class ProgressBar(keras.callbacks.Callback):
    """A terminal progress bar per epoch, and one greppable line after it (the CLI's output)."""

    def __init__(self, epochs):
        super().__init__()
        self.epochs = epochs
        self.bar = None

    def on_epoch_begin(self, epoch, logs=None):
        steps = self.params.get("steps") if self.params else None
        self.bar = tqdm(total=steps, desc=f"epoch {epoch + 1}/{self.epochs}", unit="batch", leave=False)

    def on_train_batch_end(self, batch, logs=None):
        if self.bar is not None:
            self.bar.update(1)
            if logs and "loss" in logs:
                self.bar.set_postfix(loss=f"{float(logs['loss']):.4f}", refresh=False)

    def on_epoch_end(self, epoch, logs=None):
        seconds = 0.0
        if self.bar is not None:
            seconds = self.bar.format_dict["elapsed"]
            self.bar.close()
        logs = logs or {}
        tqdm.write(f"epoch {epoch + 1}: loss {logs.get('loss', float('nan')):.4f}, "
                   f"accuracy {logs.get('accuracy', float('nan')):.4f}, val loss {logs.get('val_loss', float('nan')):.4f}, "
                   f"val accuracy {logs.get('val_accuracy', float('nan')):.4f}, {seconds:.0f}s")

    def on_train_end(self, logs=None):
        if self.bar is not None:
            self.bar.close()
