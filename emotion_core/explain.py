"""Grad-CAM: which parts of a face pushed the model towards a class.

Unlike the keras-io example, the caller never names a layer (each registered architecture
names its own, see models.registry), a map that is zero everywhere stays zero instead of
dividing by zero, and whole batches go through one forward and one backward pass, so a
gallery of 50 faces costs about as much as one prediction of 50 faces.
"""

import cv2
import keras
import numpy as np
import tensorflow as tf

from emotion_core.data.prepare import scale
from emotion_core.errors import ModelLoadError
from emotion_core.labels import NUM_CLASSES
from emotion_core.models.registry import spec_of

BATCH = 64


def target_layer_path(model):
    """Where Grad-CAM reads: the registry's layer for this model ("backbone/layer" when the
    layer sits inside a nested backbone), else the last layer with a 4-D output."""
    spec = spec_of(model)
    if spec is not None:
        return spec.gradcam_layer
    for layer in reversed(model.layers):
        if len(getattr(getattr(layer, "output", None), "shape", ())) == 4:
            return layer.name
    raise ModelLoadError(f"model {model.name!r} has no convolutional layer, so Grad-CAM cannot explain it")


def _features_and_head_input(model, path):
    """A callable x -> (feature maps at `path`, input of the final Dense layer), in one pass."""
    head = model.layers[-1]
    if "/" not in path:
        both = keras.Model(model.inputs, [model.get_layer(path).output, head.input])
        return lambda x: both(x, training=False)
    # Nested backbone: run the outer chain layer by layer, asking the backbone for its inner map too.
    outer, inner = path.split("/", 1)
    backbone = model.get_layer(outer)
    inside = keras.Model(backbone.inputs, [backbone.get_layer(inner).output, backbone.outputs[0]])

    def run(x):
        features = None
        for layer in model.layers[1:-1]:  # skip the input layer and the head
            if layer is backbone:
                features, x = inside(x, training=False)
            else:
                x = layer(x, training=False)
        return features, x

    return run


class GradCam:
    """Grad-CAM for one model; build once, call for many batches.

    Example: `heatmaps = GradCam(model)(faces)` with faces uint8 (n, 48, 48).
    """

    def __init__(self, model):
        self.model = model
        self._head = model.layers[-1]  # the softmax over the emotions in every registered model
        # feature maps and the head's input from one pass, so probabilities come for free
        self._both = _features_and_head_input(model, target_layer_path(model))

    def __call__(self, images, *, class_index=None):
        """Heatmaps for a batch.

        Args:
            images: uint8 (n, 48, 48) faces, or float32 (n, 48, 48, 1) in [0, 1].
            class_index: the class to explain, one int for all faces or an int array (n,);
                None explains each face's predicted class.
        Returns:
            (heatmaps float32 (n, 48, 48) in [0, 1], probabilities float32 (n, 7)).
        """
        images = np.asarray(images)
        x = scale(images) if images.dtype == np.uint8 else images.astype(np.float32)
        maps, probs = [], []
        for start in range(0, len(x), BATCH):
            chosen = None if class_index is None else np.broadcast_to(class_index, (len(x),))[start:start + BATCH]
            batch_maps, batch_probs = self._batch(tf.constant(x[start:start + BATCH]), chosen)
            maps.append(batch_maps)
            probs.append(batch_probs)
        if not maps:
            return np.zeros((0, *x.shape[1:3]), np.float32), np.zeros((0, NUM_CLASSES), np.float32)
        return np.concatenate(maps), np.concatenate(probs)

    def _batch(self, x, chosen):
        # -1 means "the predicted class": one traced graph serves both cases.
        chosen = tf.constant(-1 if chosen is None else chosen, tf.int64, shape=[x.shape[0]])
        cam, probs = self._cam(x, chosen)
        return _resize_and_normalise(cam.numpy(), x.shape[1:3]), probs.numpy()

    @tf.function(reduce_retracing=True)  # traced once: a live frame costs one graph call, not eager ops
    def _cam(self, x, chosen):
        with tf.GradientTape() as tape:
            features, head_input = self._both(x)
            # Explain the pre-softmax score: a confident softmax has almost no gradient left.
            logits = tf.matmul(head_input, self._head.kernel) + self._head.bias
            probs = tf.nn.softmax(logits)
            classes = tf.where(chosen < 0, tf.argmax(probs, axis=1), chosen)
            score = tf.gather(logits, classes, axis=1, batch_dims=1)  # one score per face
        grads = tape.gradient(score, features)
        # how much each feature-map channel matters: its gradient averaged over the map
        weights = tf.reduce_mean(grads, axis=(1, 2), keepdims=True)
        # weighted sum of channels; ReLU keeps only evidence *for* the class
        return tf.nn.relu(tf.reduce_sum(weights * features, axis=-1)), probs


def _resize_and_normalise(cams, size):
    """Upsample each map to the face size and scale it to [0, 1]; an all-zero map stays zero."""
    out = np.empty((len(cams), *size), np.float32)
    for i, cam in enumerate(cams):
        up = cv2.resize(cam.astype(np.float32), (size[1], size[0]), interpolation=cv2.INTER_LINEAR)
        peak = up.max()
        out[i] = up / peak if peak > 1e-12 else 0.0
    return out


def gradcam(model, images, *, class_index=None):
    """One-shot Grad-CAM: heatmaps float32 (n, 48, 48) in [0, 1] for the predicted (or given) class."""
    return GradCam(model)(images, class_index=class_index)[0]


def overlay(face, heatmap, *, alpha=0.45, size=144):
    """Colour the heatmap (jet) over the face; returns uint8 RGB (size, size, 3) for display.

    Args:
        face: uint8 (h, w) grayscale. heatmap: float (h, w) in [0, 1].
    """
    face_rgb = cv2.cvtColor(cv2.resize(face, (size, size), interpolation=cv2.INTER_CUBIC), cv2.COLOR_GRAY2RGB)
    heat = cv2.resize((np.clip(heatmap, 0, 1) * 255).astype(np.uint8), (size, size), interpolation=cv2.INTER_LINEAR)
    colour = cv2.cvtColor(cv2.applyColorMap(heat, cv2.COLORMAP_JET), cv2.COLOR_BGR2RGB)
    return cv2.addWeighted(colour, alpha, face_rgb, 1 - alpha, 0)


def beside(face, heatmap, *, alpha=0.45, size=144):
    """The face alone and the face with its heatmap, side by side: uint8 RGB (size, 2 * size, 3).

    Over the face alone, a strong heatmap hides the very expression it explains.
    """
    plain = cv2.cvtColor(cv2.resize(face, (size, size), interpolation=cv2.INTER_CUBIC), cv2.COLOR_GRAY2RGB)
    return np.hstack([plain, overlay(face, heatmap, alpha=alpha, size=size)])


def colour_scale(width=256, height=14):
    """The heatmaps' colour scale as a picture, from no attention (left) to the most (right)."""
    ramp = np.tile(np.linspace(0, 255, width).astype(np.uint8), (height, 1))
    return cv2.cvtColor(cv2.applyColorMap(ramp, cv2.COLORMAP_JET), cv2.COLOR_BGR2RGB)


def mean_heatmaps(explainer, images, labels, *, max_per_class=100):
    """The mean Grad-CAM map per true class, over correctly classified faces (study, 3.1.6).

    Returns:
        dict class index -> float32 (48, 48) in [0, 1] (classes with no correct face are absent).
    """
    means = {}
    for label in np.unique(labels):
        faces = images[labels == label][:max_per_class * 3]
        heatmaps, probs = explainer(faces, class_index=int(label))
        correct = probs.argmax(axis=1) == label
        if correct.any():
            mean = heatmaps[correct][:max_per_class].mean(axis=0)
            means[int(label)] = mean / mean.max() if mean.max() > 0 else mean
    return means
