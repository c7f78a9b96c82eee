"""The augmentation layer: independent random draws, new ones every epoch, random erasing."""

import numpy as np
import tensorflow as tf

from emotion_core.config import NO_AUGMENTATION, AugmentConfig
from emotion_core.training.augment import build_augmenter
from emotion_core.training.loop import make_dataset


def transforms_in_tf_data(augmenter, n):
    """The layer's transforms as tf.data computes them (where shared seeds once repeated numbers)."""
    pipeline = tf.data.Dataset.range(1).map(lambda _: augmenter._sample_transforms(n, 48.0, 48.0))
    return next(iter(pipeline)).numpy()


def test_rotation_zoom_and_mirroring_are_drawn_independently():
    augmenter = build_augmenter(AugmentConfig(horizontal_flip=True), seed=0)
    t = transforms_in_tf_data(augmenter, 4000)
    mirrored = t[:, 0] < 0  # rotations stay within 10 degrees, so only a mirror makes a00 negative
    sign = np.where(mirrored, -1.0, 1.0)
    angle = np.arctan2(t[:, 3] * sign, t[:, 0] * sign)
    zoom_x = np.hypot(t[:, 0], t[:, 3])
    assert abs(mirrored.mean() - 0.5) < 0.05
    assert np.degrees(np.abs(angle)).max() < 10.001
    # one shared draw made these correlations 1.0
    assert abs(np.corrcoef(angle, zoom_x)[0, 1]) < 0.1
    assert abs(np.corrcoef(angle, mirrored)[0, 1]) < 0.1


def test_every_epoch_draws_new_augmentations():
    face = np.tile(np.arange(48, dtype=np.uint8) * 5, (48, 1))
    images, labels = np.stack([face] * 32), np.zeros(32, dtype=np.int64)
    augmenter = build_augmenter(AugmentConfig(), seed=0)
    dataset = make_dataset(images, labels, batch_size=32, augmenter=augmenter, seed=0)
    first, second = (next(iter(dataset))[0].numpy() for _ in range(2))  # all faces alike: order cannot matter
    assert np.abs(first - second).mean() > 0.01
    assert np.abs(first[0] - first[1]).mean() > 0.01  # and faces within a batch differ


def test_no_augmentation_returns_the_faces_unchanged():
    faces = np.random.default_rng(0).random((4, 48, 48, 1)).astype("float32")
    augmenter = build_augmenter(AugmentConfig(0.0, 0.0, 0.0, 0.0, False), seed=0)
    np.testing.assert_array_equal(np.asarray(augmenter(faces, training=True)), faces)


def erased_masks(share, n=400):
    """Which pixels erasing changed in n grey faces, with no other augmentation."""
    faces = np.full((n, 48, 48, 1), 0.5, dtype="float32")
    augmenter = build_augmenter(AugmentConfig(0.0, 0.0, 0.0, 0.0, False, erase=share), seed=0)
    return np.asarray(augmenter(faces, training=True))[..., 0] != 0.5


def test_erasing_replaces_one_rectangle_in_the_share_of_faces_asked_for():
    changed = erased_masks(1.0)
    areas = changed.mean(axis=(1, 2))
    assert areas.min() > 0.015 and areas.max() < 0.35  # 2-33% of the face
    for mask in changed[:50]:
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        assert mask.sum() == len(rows) * len(cols)  # the changed pixels fill their bounding box
        assert rows[-1] - rows[0] + 1 == len(rows) and cols[-1] - cols[0] + 1 == len(cols)
    assert 0.4 < erased_masks(0.5).any(axis=(1, 2)).mean() < 0.6
    assert not erased_masks(0.0).any() and NO_AUGMENTATION.is_identity()
