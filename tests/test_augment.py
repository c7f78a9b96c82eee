"""The augmentation layer: independent random draws, new ones every epoch, random erasing."""

import numpy as np
import tensorflow as tf

from emotion_core.config import NO_AUGMENTATION, AugmentConfig
from emotion_core.training.augment import build_augmenter, build_mixer
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


def test_the_pipeline_runs_without_the_autotuning_thread_and_still_batches_every_face():
    """Dropping an iterator could wait up to a minute for tf.data's autotuning thread (see
    `without_autotune_thread`): every pipeline the trainings use is built without it."""
    images, labels = np.arange(10 * 48 * 48, dtype=np.uint8).reshape(10, 48, 48) % 251, np.arange(10) % 7
    for dataset in (make_dataset(images, labels, batch_size=4),
                    make_dataset(images, labels, batch_size=4, augmenter=build_augmenter(AugmentConfig(), seed=0),
                                 seed=0)):
        assert dataset.options().autotune.enabled is False
        batches = [x.shape[0] for x, _ in dataset]
        assert batches == [4, 4, 2]


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


def mixed_batch(alpha, n=2000, seed=0):
    """One mixed batch of n flat faces (face i has brightness i / n) with one-hot targets i % 7,
    and each face's own weight, read off its brightness."""
    faces = (np.arange(n, dtype="float32") / n)[:, None, None, None] * np.ones((1, 48, 48, 1), "float32")
    targets = np.eye(7, dtype="float32")[np.arange(n) % 7]
    images, mixed = build_mixer(AugmentConfig(0.0, 0.0, 0.0, 0.0, False, mixup=alpha), seed=seed)(faces, targets)
    images, partner = np.asarray(images), faces[::-1]  # the partner: the face at the mirrored batch position
    weight = (images[:, 0, 0, 0] - partner[:, 0, 0, 0]) / (faces[:, 0, 0, 0] - partner[:, 0, 0, 0])
    return targets, images, np.asarray(mixed), weight


def test_mixup_mixes_each_face_and_its_target_with_the_same_weight():
    targets, images, mixed, weight = mixed_batch(1.0)
    expected = weight[:, None] * targets + (1 - weight[:, None]) * targets[::-1]
    np.testing.assert_allclose(mixed, expected, atol=1e-4)
    np.testing.assert_allclose(mixed.sum(axis=1), 1.0, atol=1e-5)
    assert np.ptp(images[:, :, :, 0], axis=(1, 2)).max() < 1e-6  # whole faces are mixed, not patches
    assert 0.25 < weight.std() < 0.35  # Beta(1, 1) is uniform: std 0.29


def test_small_mixup_alphas_keep_most_faces_nearly_whole():
    def nearly_whole(alpha):
        weight = mixed_batch(alpha)[3]
        return np.mean((weight < 0.1) | (weight > 0.9))

    assert nearly_whole(0.2) > 0.5 and nearly_whole(2.0) < 0.1  # Beta(0.2) piles up near 0 and 1


def test_mixup_draws_new_weights_every_epoch_and_no_mixer_when_off():
    faces = np.stack([np.full((48, 48), i * 8, np.uint8) for i in range(32)])
    labels = np.arange(32) % 7
    mixer = build_mixer(AugmentConfig(0.0, 0.0, 0.0, 0.0, False, mixup=0.4), seed=0)
    dataset = make_dataset(faces, labels, batch_size=32, mixer=mixer, seed=0)
    first, second = (np.sort(next(iter(dataset))[0].numpy()[:, 0, 0, 0]) for _ in range(2))
    assert np.abs(first - second).max() > 0.01  # sorted, so shuffling alone cannot differ
    assert build_mixer(AugmentConfig(mixup=0.0)) is None
