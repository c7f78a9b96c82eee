"""A terminal progress bar for training: one bar per epoch and one greppable line after it."""

import keras
from tqdm import tqdm


class ProgressBar(keras.callbacks.Callback):
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
