"""Preparation as in the study: stratified split, [0, 1] scaling, one-hot labels,
and the imbalance strategies (class weights, balancing by augmentation, none)."""

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.utils.class_weight import compute_class_weight

from emotion_core.errors import DataError
from emotion_core.labels import NUM_CLASSES


def split_train_validation(labels, *, validation_fraction=0.2, seed=0):
    """Shuffled, stratified indices for training and validation.

    Args:
        labels: int array (n,).
    Returns:
        (train_indices, validation_indices), int arrays that partition range(n).
    """
    indices = np.arange(len(labels))
    counts = np.bincount(labels)
    stratify = labels if counts[counts > 0].min() >= 2 else None  # stratifying needs 2 per class
    try:
        return train_test_split(
            indices, test_size=validation_fraction, random_state=seed, shuffle=True, stratify=stratify
        )
    except ValueError as error:
        raise DataError(f"cannot split {len(labels)} images into train/validation: {error}") from None


def scale(images):
    """uint8 (n, 48, 48) -> float32 (n, 48, 48, 1) in [0, 1], the models' input."""
    return (np.asarray(images, dtype=np.float32) / 255.0)[..., None]


def one_hot(labels):
    """int (n,) -> float32 (n, 7)."""
    return np.eye(NUM_CLASSES, dtype=np.float32)[labels]


def class_weights(labels):
    """scikit-learn's 'balanced' weights, n / (classes * count), as a Keras class_weight dict.

    Classes absent from `labels` get weight 1 so Keras never sees a missing key.
    """
    present = np.unique(labels)
    weights = compute_class_weight("balanced", classes=present, y=labels)
    table = {c: 1.0 for c in range(NUM_CLASSES)}
    table.update({int(c): float(w) for c, w in zip(present, weights)})
    return table


def balance_by_augmentation(images, labels, augment, *, seed=0):
    """Add augmented copies of minority-class images until every class is as large as the largest.

    Only ever call this on the training split: validation must keep the real distribution.

    Args:
        images: uint8 (n, 48, 48). labels: int (n,).
        augment: callable mapping float32 (m, 48, 48, 1) in [0, 1] to the same shape.
    Returns:
        (images, labels) with the added examples appended, same dtypes.
    """
    rng = np.random.default_rng(seed)
    counts = np.bincount(labels, minlength=NUM_CLASSES)
    target = counts.max()
    new_images, new_labels = [images], [labels]
    for label, count in enumerate(counts):
        if count == 0 or count == target:
            continue
        sources = rng.choice(np.flatnonzero(labels == label), size=target - count, replace=True)
        augmented = np.asarray(augment(scale(images[sources])))
        new_images.append(np.clip(augmented[..., 0] * 255.0 + 0.5, 0, 255).astype(np.uint8))
        new_labels.append(np.full(len(sources), label, dtype=labels.dtype))
    return np.concatenate(new_images), np.concatenate(new_labels)
