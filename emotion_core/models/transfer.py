"""The study's transfer-learning models: VGG16, VGG19 and ResNet50 from keras.applications.

Each backbone sits nested inside the model (so it can be frozen as one piece) behind a
preprocessing layer that turns our grayscale [0, 1] faces into what the backbone was
trained on. Two modes, as in the study: `feature` (frozen base, a new head) and
`finetune` (the last N convolutions trainable too, with a small learning rate).
"""

import os
from pathlib import Path

import keras
from keras import layers

from emotion_core.config import TRANSFER_MODES
from emotion_core.errors import WeightsUnavailableError
from emotion_core.labels import FACE_SIZE, NUM_CLASSES
from emotion_core.models.registry import register

# name -> (application, the backbone's last convolution output for Grad-CAM)
BACKBONES = {
    "vgg16": (keras.applications.VGG16, "block5_conv3"),
    "vgg19": (keras.applications.VGG19, "block5_conv4"),
    "resnet50": (keras.applications.ResNet50, "conv5_block3_out"),
}
WEIGHT_SIZES_MB = {"vgg16": 58, "vgg19": 80, "resnet50": 94}  # the no-top ImageNet files, for the offline message
# ImageNet 'caffe' preprocessing shared by all three: BGR order, mean pixel subtracted.
# Our faces are gray, so the channel order does not matter, only the means.
CAFFE_MEANS = (103.939, 116.779, 123.68)

@keras.saving.register_keras_serializable(package="emotion_core")
class BackbonePreprocess(layers.Layer):
    """Gray (h, w, 1) in [0, 1] -> RGB (size, size, 3) in the backbone's own input scaling."""

    def __init__(self, size=FACE_SIZE, **kwargs):
        super().__init__(**kwargs)
        self.size = size

    def call(self, x):
        x = keras.ops.repeat(x * 255.0, 3, axis=-1)
        if self.size != FACE_SIZE:
            x = keras.ops.image.resize(x, (self.size, self.size), interpolation="bilinear")
        return x - keras.ops.convert_to_tensor(CAFFE_MEANS, dtype=x.dtype)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.size, self.size, 3)

    def get_config(self):
        return {**super().get_config(), "size": self.size}


def build_transfer(backbone, *, name=None, mode="feature", unfreeze=0, weights="none", input_size=FACE_SIZE):
    """A backbone with the study's head (Flatten, Dense 256 relu, Dropout 0.5, Dense 7 softmax).

    Args:
        mode: `feature` freezes the whole backbone; `finetune` also trains its last
            `unfreeze` convolutions (the study tried 3, 6 and 9).
        weights: `imagenet` (downloaded by Keras on first use, then cached), `none` for
            random initialisation, or a path to a weights file.
        input_size: faces are resized to this before the backbone (48 as in the study;
            96 or 224 keep more of the backbone's spatial resolution).
    """
    if mode not in TRANSFER_MODES:
        raise ValueError(f"unknown mode {mode!r}; use {' or '.join(TRANSFER_MODES)}")  # TrainConfig.validate checks first
    application, _ = BACKBONES[backbone]
    base = _load_backbone(application, backbone, weights, input_size)
    set_trainable_convolutions(base, unfreeze if mode == "finetune" else 0)
    inputs = keras.Input((FACE_SIZE, FACE_SIZE, 1), name="image")
    x = BackbonePreprocess(input_size, name="preprocess")(inputs)
    x = base(x, training=False)  # keep frozen BatchNorm layers (ResNet50) in inference mode
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(256, activation="relu", name="dense1")(x)
    x = layers.Dropout(0.5, name="dense1_dropout")(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", dtype="float32", name="emotion")(x)  # see cnn.py
    return keras.Model(inputs, outputs, name=name or backbone)


def imagenet_weights_file(backbone):
    """Where Keras keeps `backbone`'s ImageNet weights (no classifier top): the file a room
    without internet must copy in, from a machine that has it or from `imagenet_weights_url`."""
    home = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras").expanduser()
    return home / "models" / f"{backbone}_weights_tf_dim_ordering_tf_kernels_notop.h5"


def imagenet_weights_url(backbone):
    folder = "resnet" if backbone.startswith("resnet") else backbone
    return f"https://storage.googleapis.com/tensorflow/keras-applications/{folder}/{imagenet_weights_file(backbone).name}"


def _load_backbone(application, backbone, weights, input_size):
    chosen = None if str(weights).lower() in ("none", "", "random") else weights
    cached = imagenet_weights_file(backbone)
    if chosen == "imagenet" and cached.is_file():
        chosen = str(cached)  # the file itself: no download, no network, whatever Keras would check
    try:
        return application(include_top=False, weights=chosen, input_shape=(input_size, input_size, 3))
    except Exception as error:  # a download failure surfaces as many exception types
        if chosen != "imagenet":
            raise WeightsUnavailableError(f"the weights file {chosen} does not fit {backbone} "
                                          f"({type(error).__name__}: {str(error)[:160]})") from None
        raise WeightsUnavailableError(
            f"ImageNet weights for {backbone} are not on this machine and could not be downloaded (no internet?). "
            f"Copy the file {cached.name} (from {imagenet_weights_url(backbone)}, about "
            f"{WEIGHT_SIZES_MB[backbone]} MB) into the folder {cached.parent}; the app then uses it without "
            "internet. Or choose random initialisation instead of ImageNet weights."
        ) from None


def convolutions(base):
    """The backbone's Conv2D layers in order (what 'the last N convolutions' counts)."""
    return [layer for layer in base.layers if isinstance(layer, layers.Conv2D)]


def set_trainable_convolutions(base, n):
    """Freeze the backbone except its last `n` convolutions (BatchNorm stays frozen)."""
    base.trainable = n > 0
    convs = convolutions(base)
    for layer in base.layers:
        layer.trainable = False
    for layer in convs[len(convs) - n:] if n else []:
        layer.trainable = True


def _register_backbones():
    for backbone, (_, last_conv) in BACKBONES.items():
        register(backbone, gradcam_layer=f"{backbone}/{last_conv}", family="transfer",
                 description=f"{backbone.upper()} transfer learning (feature extraction or fine-tuning)")(
            lambda backbone=backbone, **options: build_transfer(backbone, **options))


_register_backbones()
