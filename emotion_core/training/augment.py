"""Augmentation as one Keras preprocessing layer, run on-graph inside tf.data.

AugmentConfig (in config.py) holds the settings; its defaults are the study's: rotation 10
degrees, zoom 0.15, shift 0.1, shear 0.15, fill 'nearest'; flips are off (as in the study).
Random erasing (Zhong et al., 2017) is off unless asked for: it replaces one patch of a share of
the faces with noise, so the model cannot rely on the mouth or the eyes alone. Mixup (Zhang et
al., 2018), also off unless asked for, works on pairs: it blends two faces and their targets with
one weight, so the model is taught to be unsure between two faces instead of sure of each label.

Why one layer and not Keras' RandomRotation + RandomZoom + RandomTranslation + RandomShear:
each of those resamples the image, and four bilinear resamplings in a row blur a 48x48
face visibly. Here the four are composed into one affine map and the image is resampled
once, which is sharper and about four times cheaper.

Why one random generator drawing a (n, 7) table: tf.random.uniform ops that share a seed
return the same numbers inside tf.data, so seven separate draws were one draw seven times
(every rotation came with its own zoom, shift and shear, and every mirrored face was turned
the same way), and each epoch replayed the last one's draws. The generator's state moves on
with every batch and every epoch.
"""

import math

import keras
import numpy as np
import tensorflow as tf

from emotion_core.config import AugmentConfig


class FaceAugmenter(keras.layers.Layer):
    """Random rotation, zoom, shift, shear, optional mirroring and optional erasing of
    (batch, h, w, c) images in [0, 1], a different draw per image, 'nearest' fill at the borders."""

    def __init__(self, config=AugmentConfig(), seed=None, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        self.seed = seed
        self._random = (tf.random.Generator.from_non_deterministic_state() if seed is None
                        else tf.random.Generator.from_seed(seed))

    def call(self, images, training=True):
        if not training or not self.config.changes_faces_alone():
            return images
        images = tf.convert_to_tensor(images, tf.float32)
        shape = tf.shape(images)
        transforms = self._sample_transforms(shape[0], tf.cast(shape[1], tf.float32), tf.cast(shape[2], tf.float32))
        images = tf.raw_ops.ImageProjectiveTransformV3(
            images=images, transforms=transforms, output_shape=shape[1:3], fill_value=0.0,
            interpolation="BILINEAR", fill_mode="NEAREST")
        return self._erase(images) if self.config.erase else images

    def _erase(self, images):
        """Replace one random rectangle (2-33% of the area, aspect 0.3-3.3) with uniform noise
        in a share `erase` of the images; the rest pass unchanged."""
        shape = tf.shape(images)
        height, width = tf.cast(shape[1], tf.float32), tf.cast(shape[2], tf.float32)
        u = tf.unstack(self._random.uniform([shape[0], 5]), axis=1)  # independent, in [0, 1)
        area = (0.02 + 0.31 * u[0]) * height * width
        aspect = tf.exp(math.log(0.3) + (math.log(3.3) - math.log(0.3)) * u[1])
        patch_h = tf.minimum(tf.round(tf.sqrt(area * aspect)), height)
        patch_w = tf.minimum(tf.round(tf.sqrt(area / aspect)), width)
        top = tf.floor(u[2] * (height - patch_h + 1))
        left = tf.floor(u[3] * (width - patch_w + 1))
        rows = tf.range(height)[None, :, None]
        cols = tf.range(width)[None, None, :]

        def column(values):
            return values[:, None, None]

        inside = ((rows >= column(top)) & (rows < column(top + patch_h))
                  & (cols >= column(left)) & (cols < column(left + patch_w))
                  & column(u[4] < self.config.erase))
        return tf.where(inside[..., None], self._random.uniform(shape), images)

    def _sample_transforms(self, n, height, width):
        """Per-image 8-number projective transforms mapping output pixels to input pixels."""
        c = self.config
        draws = tf.unstack(self._random.uniform([n, 7], -1.0, 1.0), axis=1)  # independent, in [-1, 1)
        angle = draws[0] * c.rotation_deg * (math.pi / 180.0)
        zoom_x, zoom_y = 1 + draws[1] * c.zoom, 1 + draws[2] * c.zoom
        shear = tf.tan(draws[3] * c.shear)
        shift_x, shift_y = draws[4] * c.shift * width, draws[5] * c.shift * height
        if c.horizontal_flip:
            zoom_x *= tf.where(draws[6] < 0.0, -1.0, 1.0)  # a negative x scale mirrors the face
        cos, sin = tf.cos(angle), tf.sin(angle)
        # A = rotation @ shear @ diag(zoom_x, zoom_y), applied about the image centre.
        a00, a01 = cos * zoom_x, (cos * shear - sin) * zoom_y
        a10, a11 = sin * zoom_x, (sin * shear + cos) * zoom_y
        cx, cy = (width - 1) / 2, (height - 1) / 2
        a02 = cx + shift_x - a00 * cx - a01 * cy
        a12 = cy + shift_y - a10 * cx - a11 * cy
        zeros = tf.zeros_like(a00)
        return tf.stack([a00, a01, a02, a10, a11, a12, zeros, zeros], axis=1)

    def get_config(self):
        return {**super().get_config(), "config": self.config.__dict__, "seed": self.seed}


class PairMixer:
    """Mixup on a batch: face i becomes w*face_i + (1-w)*face_j, its target the same mix of the
    two targets, with j the face at the mirrored batch position (batches are shuffled, so a random
    partner) and w drawn from Beta(alpha, alpha) per face."""

    def __init__(self, alpha, seed=None):
        self.alpha = float(alpha)
        self._random = (tf.random.Generator.from_non_deterministic_state() if seed is None
                        else tf.random.Generator.from_seed(seed))

    def __call__(self, images, targets):
        n = tf.shape(images)[0]
        # Beta(a, a) from two Gamma(a) draws; the generator hands out fresh seeds on every batch.
        gammas = [tf.random.stateless_gamma([n], seed=self._random.make_seeds(1)[:, 0], alpha=self.alpha)
                  for _ in range(2)]
        weight = gammas[0] / tf.maximum(gammas[0] + gammas[1], 1e-12)
        images, targets = tf.convert_to_tensor(images, tf.float32), tf.convert_to_tensor(targets, tf.float32)
        w_images, w_targets = tf.reshape(weight, [-1, 1, 1, 1]), weight[:, None]
        mixed_images = w_images * images + (1 - w_images) * tf.reverse(images, [0])
        mixed_targets = w_targets * targets + (1 - w_targets) * tf.reverse(targets, [0])
        return mixed_images, mixed_targets


def build_mixer(config=AugmentConfig(), *, seed=None):
    """The batch mixer for `config.mixup`, or None when mixup is off."""
    return PairMixer(config.mixup, seed=seed) if config.mixup else None


def build_augmenter(config=AugmentConfig(), *, seed=None):
    """The augmentation layer for float (batch, 48, 48, 1) images in [0, 1]."""
    return FaceAugmenter(config, seed=seed, name="augment")


def augment_fn(config=AugmentConfig(), *, seed=None):
    """A plain function images -> augmented images, for offline use (balancing)."""
    augmenter = build_augmenter(config, seed=seed)

    def apply(images):
        outputs = [np.asarray(augmenter(images[start:start + 512], training=True))
                   for start in range(0, len(images), 512)]  # bounded memory for large classes
        return np.concatenate(outputs) if outputs else images

    return apply
