import numpy as np

from emotion_core.config import AugmentConfig
from emotion_core.training.augment import augment_fn
from emotion_core.data.prepare import (
    balance_by_augmentation,
    class_weights,
    one_hot,
    scale,
    split_train_validation,
)


def test_split_is_stratified_and_partitions_the_data():
    labels = np.repeat(np.arange(7), [50, 5, 50, 100, 60, 60, 40])
    train, val = split_train_validation(labels, validation_fraction=0.2, seed=1)
    assert sorted(np.concatenate([train, val]).tolist()) == list(range(len(labels)))
    # each class keeps its share in validation (within one example of 20%)
    expected = np.bincount(labels) * 0.2
    assert np.all(np.abs(np.bincount(labels[val], minlength=7) - expected) <= 1)


def test_split_is_repeatable_with_a_seed():
    labels = np.repeat(np.arange(7), 10)
    assert np.array_equal(split_train_validation(labels, seed=3)[1], split_train_validation(labels, seed=3)[1])


def test_scale_and_one_hot():
    x = scale(np.array([[[0, 255]]], dtype=np.uint8))
    assert x.shape == (1, 1, 2, 1) and x.dtype == np.float32 and x.max() == 1.0
    assert one_hot(np.array([2])).tolist() == [[0, 0, 1, 0, 0, 0, 0]]


def test_class_weights_are_sklearn_balanced():
    labels = np.array([0, 0, 0, 1] + [3] * 4)
    weights = class_weights(labels)
    # n / (classes_present * count): 8 / (3 * 3), 8 / (3 * 1), 8 / (3 * 4)
    assert np.isclose(weights[0], 8 / 9) and np.isclose(weights[1], 8 / 3) and np.isclose(weights[3], 8 / 12)
    assert weights[2] == 1.0  # absent class


def test_balancing_equalises_train_counts_with_new_images():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(7), [20, 3, 10, 30, 12, 12, 8])
    images = rng.integers(0, 255, size=(len(labels), 48, 48)).astype(np.uint8)
    new_images, new_labels = balance_by_augmentation(images, labels, augment_fn(AugmentConfig(), seed=0), seed=0)
    assert np.bincount(new_labels).tolist() == [30] * 7
    assert np.array_equal(new_images[: len(images)], images)  # originals kept, first
    added = new_images[len(images):]
    assert added.dtype == np.uint8 and not any((a == images).all(axis=(1, 2)).any() for a in added[:20])


def test_training_preparation_leaves_validation_untouched():
    from emotion_core.config import TrainConfig
    from emotion_core.training.loop import prepare_data

    balanced = prepare_data(TrainConfig(data="synthetic", imbalance="balance", limit=350))
    plain = prepare_data(TrainConfig(data="synthetic", imbalance="none", limit=350))
    assert np.array_equal(balanced[1][1], plain[1][1]) and np.array_equal(balanced[1][0], plain[1][0])
    assert len(set(np.bincount(balanced[0][1]).tolist())) == 1
    assert balanced[2] is None and prepare_data(TrainConfig(data="synthetic", limit=350))[2] is not None
