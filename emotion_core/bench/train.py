"""Training benchmark: the study's recipe (plain port) vs. this project's fast recipe,
each trained for the same wall-clock budget on the same data, side by side in one run.

The plain port feeds numpy arrays through Keras' legacy ImageDataGenerator (per-image
scipy transforms in Python), as the study's code did; the fast recipe uses the project's
training pipeline (cached tf.data, one on-graph affine per batch) and the `fast` preset,
with its cosine schedule stretched over the time budget instead of over epochs, and its
precision (bfloat16 where the CPU has bfloat16 units; the plain port is float32 as the study's was).
"""

import dataclasses
import math
import time
import warnings
from dataclasses import dataclass

import keras
import numpy as np

from emotion_core.config import PRESETS, TrainConfig
from emotion_core.data import load_data
from emotion_core.data.prepare import class_weights, one_hot, scale, split_train_validation
from emotion_core.evaluation import evaluate
from emotion_core.errors import ConfigError
from emotion_core.models import build_model, get_spec
from emotion_core.training.precision import dtype_policy, resolve_precision


@dataclass
class BenchResult:
    recipe: str
    precision: str
    images_per_s: float
    epochs: float
    seconds: float
    test_accuracy: float
    test_accuracy_tta: float


class _Budget(keras.callbacks.Callback):
    """Stops training when the budget is spent; counts images; optionally anneals the
    learning rate on a cosine over the budget's *time*."""

    def __init__(self, budget_s, batch_size, *, cosine_from=None):
        super().__init__()
        self.budget_s, self.batch_size, self.cosine_from = budget_s, batch_size, cosine_from
        self.images, self.started = 0, None

    def on_train_begin(self, logs=None):
        self.started = time.perf_counter()

    def on_train_batch_begin(self, batch, logs=None):
        if self.cosine_from:
            fraction = min(1.0, self.elapsed() / self.budget_s)
            self.model.optimizer.learning_rate.assign(self.cosine_from * 0.5 * (1 + math.cos(math.pi * fraction)))

    def on_train_batch_end(self, batch, logs=None):
        self.images += self.batch_size
        if self.elapsed() >= self.budget_s:
            self.model.stop_training = True

    def elapsed(self):
        return time.perf_counter() - self.started


def _compiled(name, learning_rate, label_smoothing=0.0, precision="float32"):
    with dtype_policy(precision):
        model = build_model(name)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss=keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing), metrics=["accuracy"])
    return model


def train_study_plain(x, y, budget_s, config=TrainConfig()):
    """The study's recipe as its code ran it: ImageDataGenerator.flow, class weights, batch 64."""
    from keras._tf_keras.keras.preprocessing.image import ImageDataGenerator

    a = config.augment
    generator = ImageDataGenerator(rotation_range=a.rotation_deg, zoom_range=a.zoom, width_shift_range=a.shift,
                                   height_shift_range=a.shift, shear_range=a.shear, fill_mode="nearest")
    model = _compiled(config.model, config.learning_rate)
    budget = _Budget(budget_s, config.batch_size)
    flow = generator.flow(scale(x), one_hot(y), batch_size=config.batch_size, seed=config.seed)
    model.fit(flow, epochs=10_000, class_weight=class_weights(y), callbacks=[budget], verbose=0)
    return model, budget


def train_fast(x, y, budget_s, config=PRESETS["fast"]):
    """The fast preset through the project's pipeline, cosine-annealed over the time budget."""
    from emotion_core.training.augment import build_augmenter
    from emotion_core.training.loop import make_dataset

    model = _compiled(config.model, config.learning_rate, config.label_smoothing, resolve_precision(config.precision))
    budget = _Budget(budget_s, config.batch_size, cosine_from=config.learning_rate)
    data = make_dataset(x, y, batch_size=config.batch_size, augmenter=build_augmenter(config.augment), seed=config.seed)
    with warnings.catch_warnings():  # "shuffle ignored for tf.data": we shuffle in the pipeline
        warnings.simplefilter("ignore", UserWarning)
        model.fit(data, epochs=10_000, callbacks=[budget], verbose=0)
    return model, budget


def bench_train(source, *, budget_s, test_source=None, fast_model=None, on_result=None):
    """Train both recipes for `budget_s` seconds each; returns [study result, fast result]."""
    if not (isinstance(budget_s, (int, float)) and math.isfinite(budget_s) and budget_s > 0):
        raise ConfigError(f"the time budget must be a positive number of minutes, not {budget_s / 60!r}")
    if fast_model:
        get_spec(fast_model)  # an unknown name fails now, not after the first recipe has trained
    train = load_data(source, split="train")
    train_idx, _ = split_train_validation(train.labels, seed=0)  # both train on the same 80%
    x, y = train.images[train_idx], train.labels[train_idx]
    test = load_data(test_source or source, split="test")
    fast_config = PRESETS["fast"] if not fast_model else dataclasses.replace(PRESETS["fast"], model=fast_model)
    results = []
    for recipe, precision, run in (
            ("study recipe, plain port", "float32", train_study_plain),
            ("fast recipe, this project", resolve_precision(fast_config.precision),
             lambda *a: train_fast(*a, config=fast_config))):
        keras.utils.set_random_seed(0)
        model, budget = run(x, y, budget_s)
        seconds = budget.elapsed()
        plain, _ = evaluate(model, test)
        flipped, _ = evaluate(model, test, tta=True)
        result = BenchResult(recipe, precision, budget.images / seconds, budget.images / len(y), seconds,
                             plain["accuracy"], flipped["accuracy"])
        results.append(result)
        if on_result:
            on_result(result)
    return results


def format_results(results):
    """The benchmark as a small table plus the throughput ratio."""
    lines = [f"{'recipe':<28} {'precision':<15} {'images/s':>9} {'epochs':>7} {'seconds':>8} {'test acc':>9} {'+flip TTA':>10}"]
    for r in results:
        lines.append(f"{r.recipe:<28} {r.precision:<15} {r.images_per_s:9.1f} {r.epochs:7.2f} {r.seconds:8.0f} "
                     f"{r.test_accuracy:9.4f} {r.test_accuracy_tta:10.4f}")
    if len(results) == 2 and results[0].images_per_s:
        lines.append(f"throughput ratio (fast / study): {results[1].images_per_s / results[0].images_per_s:.2f}x")
    return "\n".join(lines)
