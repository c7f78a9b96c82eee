"""The one training loop, for the CLI and the app; everything it learns goes into the run folder.

Read top to bottom: `start_run` checks the config and makes the folder, `train` records the
outcome whatever happens, `_train_into` loads data, builds, fits, and evaluates the best epoch.
"""

import signal
import warnings
import threading
import time
import traceback
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from emotion_core import runs
from emotion_core.config import AugmentConfig, library_versions
from emotion_core.data import Dataset, has_split, load_data
from emotion_core.data.crowd import NO_MAJORITY, votes_for
from emotion_core.data.exclude import drop_excluded
from emotion_core.data.prepare import balance_by_augmentation, class_weights, split_train_validation
from emotion_core.errors import ConfigError, DataError, TrainingError
from emotion_core.evaluation import evaluate, predict_probabilities, save_evaluation
from emotion_core.labels import NUM_CLASSES
from emotion_core.models import build_model, get_spec
from emotion_core.models.io import load_model, save_model_atomic
from emotion_core.models.provenance import starting_point
from emotion_core.training.augment import augment_fn, build_augmenter, build_mixer
from emotion_core.training.callbacks import RunRecorder, StopOnRequest, WeightAverager
from emotion_core.training.precision import dtype_policy, resolve_precision


def start_run(config, *, root=None, recipe=None, folder_name=None):
    """Check `config`, then create its run folder (config.json first) without training yet.

    Every check comes first, so a refused config leaves no folder behind. `recipe` (the
    preset the settings started from) is recorded for the run's display name.
    """
    config.validate()
    get_spec(config.model)  # an unknown model fails here, before a folder exists
    record = dict(config.to_dict(), versions=library_versions(), precision_used=resolve_precision(config.precision),
                  recipe=recipe or "custom")
    start = starting_point(config.init_from)
    if start:  # a shipped model may be replaced later: keep how it was made
        record["started_from"] = start
    return runs.create_run(record, root=root, model_name=config.model, folder_name=folder_name)


def check_data(config):
    """Load the training data (and a named test set) once before a run folder exists, so bad
    data is refused with its message instead of leaving a failed run. Decoded sets are cached,
    so the run itself loads them again in about a second.

    Returns the data's warnings (folders ignored, emotions without faces), for the caller to show.
    """
    faces = training_faces(config)
    crowd_labelled(faces, config.labels, config.crowd_share)
    warnings = list(getattr(faces, "warnings", []))
    if config.test_data:
        warnings += load_data(config.test_data, split="test").warnings
    return warnings


def check_model(config):
    """Build the model once before a run folder exists: an unknown name, unavailable ImageNet
    weights or starting weights of another architecture fail here with their message
    instead of leaving a failed run."""
    model = build_model(config.model, **config.model_options(get_spec(config.model).family))
    if config.init_from:
        _check_same_architecture(model, load_model(config.init_from), config)
    for teacher in config.teacher_list():
        load_model(teacher)


def _check_same_architecture(model, start, config):
    shapes = [tuple(w.shape) for w in model.weights]
    if [tuple(w.shape) for w in start.weights] != shapes:
        raise ConfigError(f"init_from {config.init_from!r} holds a {start.name} model, whose weights do not fit "
                          f"--model {config.model}; pick the same architecture")


def train(config, *, root=None, run_dir=None, callbacks=()):
    """Train `config` into a run folder (a new one, or `run_dir` made by `start_run`).

    Returns the run folder. The folder records the outcome whatever happens: `finished`,
    `stopped` (stop file or SIGTERM/SIGINT), or `failed` with the error.
    """
    run_dir = Path(run_dir) if run_dir else start_run(config, root=root)
    _stop_on_signals(run_dir)
    try:
        _train_into(run_dir, config, callbacks)
    except BaseException as error:
        if isinstance(error, TrainingError):  # its message says it all; no traceback needed
            runs.write_last_status(run_dir, runs.FAILED, error=str(error))
            raise
        runs.write_last_status(run_dir, runs.FAILED, error=f"{type(error).__name__}: {error}",
                               traceback=traceback.format_exc()[-4000:])
        raise
    return run_dir


def _stop_on_signals(run_dir):
    """Turn SIGTERM and Ctrl-C into a stop request, so a stopped run still saves and evaluates."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: runs.request_stop(run_dir))


def _train_into(run_dir, config, extra_callbacks):
    keras.utils.set_random_seed(config.seed)
    runs.write_status(run_dir, runs.RUNNING, phase=f"loading the faces of {Path(str(config.data)).name}")
    train_data, val_data, weights = prepare_data(config)
    if config.teachers:
        x_train, y_train = train_data
        teacher_probs = teachers_probabilities(config.teacher_list(), x_train, progress=lambda i, n: runs.write_status(
            run_dir, runs.RUNNING, phase=f"asking teacher {i} of {n} about {len(x_train):,} faces"))
        train_data = (x_train, distilled_targets(y_train, teacher_probs, config.teacher_share))
    steps = int(np.ceil(len(train_data[1]) / config.batch_size))
    runs.write_status(run_dir, runs.RUNNING, phase=f"building {config.model} for {len(train_data[1]):,} training faces; "
                                                   "the first batch is the slowest")
    with dtype_policy(resolve_precision(config.precision)):
        model = build_model(config.model, **config.model_options(get_spec(config.model).family))
    if config.init_from:
        model.set_weights(load_model(config.init_from).get_weights())
    model.compile(
        optimizer=_optimizer(config, _learning_rate(config, steps)),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing),
        metrics=["accuracy"],
    )
    augmenter = build_augmenter(config.augment, seed=config.seed) if config.augment.changes_faces_alone() else None
    train_ds = make_dataset(*train_data, batch_size=config.batch_size, augmenter=augmenter,
                            mixer=build_mixer(config.augment, seed=config.seed), seed=config.seed)
    val_ds = make_dataset(*val_data, batch_size=256)
    recorder = RunRecorder(run_dir, epochs=config.epochs, steps_per_epoch=steps,
                           n_train=len(train_data[1]), n_val=len(val_data[1]))
    averager = WeightAverager(config.average_from) if config.average_from else None
    callbacks = [StopOnRequest(run_dir), recorder, *([averager] if averager else []), *_schedule_callbacks(config),
                 *extra_callbacks]
    started = time.time()
    with warnings.catch_warnings():  # Keras warns that shuffle=True is ignored for tf.data; we shuffle ourselves
        warnings.simplefilter("ignore", UserWarning)
        model.fit(train_ds, validation_data=val_ds, epochs=config.epochs, class_weight=weights,
                  callbacks=callbacks, verbose=0)
    if recorder.diverged:
        raise TrainingError(f"the loss became NaN or infinite in epoch {recorder.epochs_done + 1}: the learning "
                            f"rate ({config.learning_rate}) is probably too high for this model")
    averaged = _keep_average(run_dir, model, averager, val_ds, recorder) if averager and averager.count else {}
    state = runs.STOPPED if runs.stop_requested(run_dir) else runs.FINISHED
    if not runs.has_model(run_dir):  # stopped before the first epoch ended
        save_model_atomic(model, runs.model_path(run_dir))
    runs.write_status(run_dir, runs.RUNNING, phase="evaluating", epochs_done=recorder.epochs_done)
    evaluation = _evaluate_best(run_dir, config)
    runs.write_status(run_dir, state, epochs_done=recorder.epochs_done, train_seconds=time.time() - started,
                      n_train=len(train_data[1]), n_val=len(val_data[1]),
                      best_val_accuracy=recorder.best_val_accuracy, test_accuracy=evaluation.get("accuracy"), **averaged)


def _keep_average(run_dir, model, averager, val_ds, recorder):
    """Save the averaged weights as the run's model if they beat its best epoch on validation.

    Returns what status.json records about the average, so the choice can be checked later.
    """
    runs.write_status(run_dir, runs.RUNNING, phase=f"checking the average of {averager.count} epochs",
                      epochs_done=recorder.epochs_done)
    model.set_weights(averager.average())
    _, val_accuracy = model.evaluate(val_ds, verbose=0)
    kept = recorder.best_val_accuracy is None or val_accuracy > recorder.best_val_accuracy
    if kept:
        save_model_atomic(model, runs.model_path(run_dir))
        recorder.best_val_accuracy = float(val_accuracy)
    return {"averaged_epochs": averager.count, "averaged_val_accuracy": float(val_accuracy), "average_kept": kept}


def prepare_data(config):
    """Load, split 80/20 stratified, and apply the imbalance strategy to the training part only.

    With crowd labels, faces without an emotion majority are left out, and the training
    targets are the majority (`crowd`) or the vote shares (`crowd-soft`); validation
    scores against the majority. `blend` keeps every face and FER2013's labels for validation.

    Returns ((train_images, train_targets), (val_images, val_labels), class_weight or None):
    targets are int labels (n,), or float32 shares (n, 7) for crowd-soft and blend.
    """
    dataset, soft = crowd_labelled(training_faces(config), config.labels, config.crowd_share)
    if config.limit and config.limit < len(dataset):
        keep, _ = split_train_validation(dataset.labels, validation_fraction=1 - config.limit / len(dataset),
                                         seed=config.seed)
        dataset, soft = dataset.subset(np.sort(keep)), None if soft is None else soft[np.sort(keep)]
    train_idx, val_idx = split_train_validation(dataset.labels, validation_fraction=config.validation_fraction,
                                                seed=config.seed)
    x_train, y_train = dataset.images[train_idx], dataset.labels[train_idx]
    weights = None
    if config.imbalance == "class_weight":
        weights = class_weights(y_train)
    elif config.imbalance == "balance":
        recipe = config.augment if config.augment.changes_faces_alone() else AugmentConfig()
        x_train, y_train = balance_by_augmentation(x_train, y_train, augment_fn(recipe, seed=config.seed),
                                                   seed=config.seed)
    if soft is not None:  # TrainConfig.validate refuses soft labels with balancing
        y_train = soft[train_idx]
    return (x_train, y_train), (dataset.images[val_idx], dataset.labels[val_idx]), weights


def training_faces(config):
    """The training split of `config.data`, less the faces its `exclude` CSV names (dropped
    before the split, so they are in neither training nor validation)."""
    return drop_excluded(load_data(config.data, split="train"), config.exclude)


def make_dataset(images, labels, *, batch_size, augmenter=None, mixer=None, seed=None):
    """A tf.data pipeline: cached uint8 in memory, shuffled, batched, scaled, augmented and mixed on-graph.

    Augmenting whole batches (not single images) is what keeps a small CPU busy with
    convolutions instead of Python-level per-image work.
    """
    ds = tf.data.Dataset.from_tensor_slices((images, labels)).cache()
    if augmenter is not None or mixer is not None or seed is not None:
        ds = ds.shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size).map(_to_model_input, num_parallel_calls=tf.data.AUTOTUNE)
    if augmenter is not None:
        ds = ds.map(lambda x, y: (augmenter(x, training=True), y), num_parallel_calls=tf.data.AUTOTUNE)
    if mixer is not None:
        ds = ds.map(mixer, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE).with_options(without_autotune_thread())


def without_autotune_thread():
    """tf.data options with the autotuning thread off (parallelism and prefetch keep their defaults).

    Why: on a busy 2-core machine, dropping an iterator sometimes waits for that thread to
    sleep out its optimisation period, up to a minute (TensorFlow 2.21; seen with py-spy and gdb
    as a 35-60 s stall of the next training in the same process: the test suite, and
    `reference build` or an audit training several models in one process). Measured on FER2013
    with the fast preset, interleaved: 159-196 images/s with it, 182-193 without
    (docs/decisions/tfdata_autotune.md).
    """
    options = tf.data.Options()
    options.autotune.enabled = False
    return options


def _to_model_input(images, targets):
    """uint8 faces -> float [0, 1] with a channel axis; int labels -> one-hot (soft targets pass)."""
    x = tf.cast(images, tf.float32)[..., None] / 255.0
    if targets.shape.rank == 1:
        return x, tf.one_hot(targets, NUM_CLASSES)
    return x, tf.cast(targets, tf.float32)


def crowd_labelled(dataset, labels, crowd_share=0.5):
    """The dataset relabelled by the crowd, and the vote shares for soft targets.

    Args:
        labels: one of LABEL_SOURCES. `fer` returns the dataset unchanged.
        crowd_share: for `blend`, the vote shares' part of each target.
    Returns:
        (Dataset, float32 (n, 7) soft targets or None). Faces without votes, or whose top vote
        is contempt, unknown or not-a-face, are left out of crowd training; `blend` keeps them
        with their FER2013 label alone.
    """
    if labels == "fer":
        return dataset, None
    crowd = votes_for(dataset.names)
    voted = (crowd.majority() != NO_MAJORITY) & ~crowd.flagged()
    keep = np.flatnonzero(voted)
    if not len(keep):
        raise DataError(f"no crowd votes for the faces of {dataset.description}: crowd labels need FER2013 in "
                        "the Kaggle layout (the votes are keyed by its file names)")
    if labels == "blend":
        return dataset, blend_targets(dataset.labels, crowd.distribution(), voted, crowd_share)
    relabelled = dataset.subset(keep, description=f"{dataset.description}, crowd labels ({len(keep)} faces with votes)")
    relabelled.labels = crowd.majority()[keep]
    return relabelled, crowd.distribution()[keep] if labels == "crowd-soft" else None


def blend_targets(labels, shares, voted, crowd_share=0.5):
    """float32 (n, 7): the one-hot label mixed with the crowd's shares where `voted`, else the label.

    Why mix: the crowd's shares alone move the model away from FER2013's labels (the test's
    answer key), the labels alone teach their noise. Below half a crowd share the label always
    stays the largest target (at half it ties only when every voter chose one other emotion);
    the crowd shapes the rest. The share trades one agreement for the other.
    """
    targets = np.eye(NUM_CLASSES, dtype=np.float32)[labels]
    targets[voted] = (1 - crowd_share) * targets[voted] + crowd_share * shares[voted]
    return targets


def teachers_probabilities(teachers, images, progress=None):
    """float32 (n, 7): the teachers' predictions for `images`, each with its mirror, averaged.

    progress: optional callable(teacher number from 1, number of teachers), called before each.
    """
    total = np.zeros((len(images), NUM_CLASSES), np.float32)
    for i, teacher in enumerate(teachers, start=1):
        if progress:
            progress(i, len(teachers))
        total += predict_probabilities(load_model(teacher), images, tta=True)
    return total / len(teachers)


def distilled_targets(targets, teacher_probs, teacher_share):
    """float32 (n, 7): the labels' targets (int labels or soft rows) mixed with the teachers'.

    Why: an ensemble of models is more accurate than any of its members, but costs each of them
    on every Live frame; a single network trained towards the ensemble's answers keeps much of
    its gain at one network's cost (Hinton et al., 2015). The labels keep the rest of the target,
    so the student also learns where every teacher is wrong.
    """
    if targets.ndim == 1:
        targets = np.eye(NUM_CLASSES, dtype=np.float32)[targets]
    return ((1 - teacher_share) * targets + teacher_share * teacher_probs).astype(np.float32)


def _optimizer(config, learning_rate):
    if config.optimizer == "sgd":
        return keras.optimizers.SGD(learning_rate, momentum=0.9, nesterov=True)
    return keras.optimizers.Adam(learning_rate)


def _learning_rate(config, steps_per_epoch):
    if config.lr_schedule == "cosine":
        return keras.optimizers.schedules.CosineDecay(config.learning_rate, decay_steps=config.epochs * steps_per_epoch)
    if config.lr_schedule != "constant":
        raise ValueError(f"unknown learning-rate schedule {config.lr_schedule!r}; use constant or cosine")
    return config.learning_rate


def _schedule_callbacks(config):
    callbacks = [keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.patience, restore_best_weights=True)]
    if config.reduce_lr and config.lr_schedule == "constant":
        callbacks.append(keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5,
                                                           patience=max(1, config.patience // 2)))
    return callbacks


def _evaluate_best(run_dir, config):
    """Evaluate the best checkpoint on the test split (or validation split when there is none)."""
    model = load_model(run_dir)
    try:
        test = load_test_data(config)
    except DataError:
        if config.test_data:  # a test set the user named must not be silently replaced
            raise
        test = None
    if test is None:
        (_, _), (x_val, y_val), _ = prepare_data(config)
        test = Dataset(x_val, y_val, f"validation split of {config.data}")
    result, probabilities = evaluate(model, test)
    save_evaluation(run_dir, result, test, probabilities)
    return result


def load_test_data(config):
    """The labelled test set for a config: `test_data`, else the source's test split, else None."""
    if config.test_data:
        return load_data(config.test_data, split="test")
    if has_split(config.data, "test"):
        return load_data(config.data, split="test")
    return None
