"""A residual network from scratch, beyond the study: the stronger-model search's next shape.

The wide four-block CNN stopped improving on FER2013 after eight training cycles
(docs/decisions/shipped_model.md), so this network spends its compute on depth instead of width (it
trains at about three quarters of the wide network's speed): a stem convolution, then four
stages of two residual blocks (32 to 256 filters, 16 convolutions in all, stride-2
convolutions instead of pooling), global average pooling and one dense layer. Shortcuts let
a network this deep train from scratch; 2.8 million weights keep the float16 file under the
shipped model's 8 MiB limit.
"""

import keras
from keras import layers

from emotion_core.labels import NUM_CLASSES
from emotion_core.models.cnn import BN_MOMENTUM, INPUT_SHAPE
from emotion_core.models.registry import register

GRADCAM_LAYER = "last_block_out"  # the last block's output: 6x6 maps, as the CNNs' last convolution


def _conv_bn(x, filters, *, stride=1, kernel=3, name):
    x = layers.Conv2D(filters, kernel, strides=stride, padding="same", use_bias=False, name=f"{name}_conv")(x)
    return layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn")(x)


def _residual_block(x, filters, *, stride, name, out_name=None):
    """Two 3x3 convolutions plus a shortcut (a 1x1 projection where the shape changes)."""
    y = _conv_bn(x, filters, stride=stride, name=f"{name}_a")
    y = layers.Activation("relu", name=f"{name}_a_relu")(y)
    y = _conv_bn(y, filters, name=f"{name}_b")
    shortcut = x if stride == 1 and x.shape[-1] == filters else _conv_bn(x, filters, stride=stride, kernel=1,
                                                                       name=f"{name}_shortcut")
    y = layers.Add(name=f"{name}_add")([y, shortcut])
    return layers.Activation("relu", name=out_name or f"{name}_out")(y)


def build_residual(*, name="cnn_residual", base_filters=32, blocks_per_stage=2, head_dropout=0.4):
    inputs = keras.Input(INPUT_SHAPE, name="image")
    x = layers.Activation("relu", name="stem_relu")(_conv_bn(inputs, base_filters, name="stem"))
    n_stages = 4
    for s in range(1, n_stages + 1):
        for b in range(1, blocks_per_stage + 1):
            last = s == n_stages and b == blocks_per_stage
            x = _residual_block(x, base_filters * 2 ** (s - 1), stride=2 if s > 1 and b == 1 else 1,
                                name=f"stage{s}_block{b}", out_name=GRADCAM_LAYER if last else None)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    x = layers.Dropout(head_dropout, name="head_dropout")(x)
    # float32 softmax even under mixed precision, as in the CNNs
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", dtype="float32", name="emotion")(x)
    return keras.Model(inputs, outputs, name=name)


register("cnn_residual", gradcam_layer=GRADCAM_LAYER,
         description="four stages of two residual blocks (32 to 256 filters, 16 convolutions)")(build_residual)
