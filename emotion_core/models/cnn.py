"""The study's CNNs from scratch: its chosen network and the other Table-1 experiments.

The study's network is reconstructed from its reported size (1,029,223 parameters):
blocks of 3x3 convolutions (each with batch normalisation and ReLU), 2x2 max pooling and
dropout; filters double per block from 32; a head of global average pooling and two
dense layers (1024, 512) with batch normalisation and dropout. Experiment 5, the
chosen network, has three blocks with the second block's convolutions doubled.
"""

import keras
from keras import layers

from emotion_core.labels import FACE_SIZE, NUM_CLASSES
from emotion_core.models.registry import register

INPUT_SHAPE = (FACE_SIZE, FACE_SIZE, 1)
GRADCAM_LAYER = "last_conv"  # the last convolution of every CNN here carries this name
# Keras' default 0.99 makes the moving statistics used at validation lag for hundreds of
# steps: a short classroom run then shows ~chance validation accuracy while training is fine.
BN_MOMENTUM = 0.9


def build_cnn(convs_per_block, *, name, base_filters=32, block_dropout=0.25, head_dropout=0.5):
    """A plain CNN with one block per entry of `convs_per_block`.

    Args:
        convs_per_block: e.g. (2, 4, 2) for three blocks whose second has four convolutions.
    """
    inputs = keras.Input(INPUT_SHAPE, name="image")
    x = inputs
    n_blocks = len(convs_per_block)
    for b, n_convs in enumerate(convs_per_block, start=1):
        filters = base_filters * 2 ** (b - 1)
        for c in range(1, n_convs + 1):
            last = b == n_blocks and c == n_convs
            x = layers.Conv2D(filters, 3, padding="same", name=GRADCAM_LAYER if last else f"block{b}_conv{c}")(x)
            x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"block{b}_bn{c}")(x)
            x = layers.Activation("relu", name=f"block{b}_relu{c}")(x)
        x = layers.MaxPooling2D(2, name=f"block{b}_pool")(x)
        x = layers.Dropout(block_dropout, name=f"block{b}_dropout")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    for i, units in enumerate((1024, 512), start=1):
        x = layers.Dense(units, name=f"dense{i}")(x)
        x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"dense{i}_bn")(x)
        x = layers.Activation("relu", name=f"dense{i}_relu")(x)
        x = layers.Dropout(head_dropout, name=f"dense{i}_dropout")(x)
    # float32 softmax even under mixed precision: probabilities and the loss stay accurate
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", dtype="float32", name="emotion")(x)
    return keras.Model(inputs, outputs, name=name)


# Table 1 of the study: (registry name, convolutions per block, what the experiment changed).
TABLE1 = (
    ("cnn_3blocks", (2, 2, 2), "experiment 1: three blocks"),
    ("cnn_4blocks", (2, 2, 2, 2), "experiment 2: four blocks"),
    ("cnn_5blocks", (2, 2, 2, 2, 2), "experiment 3: five blocks"),
    ("cnn_block1x2", (4, 2, 2), "experiment 4: three blocks, first block doubled"),
    ("seed_cnn", (2, 4, 2), "experiment 5 (the study's choice): three blocks, second block doubled"),
    ("cnn_block3x2", (2, 2, 4), "experiment 6: three blocks, third block doubled"),
    ("cnn_block4x2", (2, 2, 2, 4), "experiment 7: four blocks, fourth block doubled"),
    ("cnn_block1x3", (6, 2, 2), "experiment 8: three blocks, first block tripled"),
)


def _register_table1():
    for name, convs, description in TABLE1:
        register(name, gradcam_layer=GRADCAM_LAYER, description=description)(
            lambda convs=convs, name=name, **options: build_cnn(convs, name=name, **options)
        )


_register_table1()


# Beyond the study: cnn_4blocks saturates here (its training accuracy stops rising within one
# cosine cycle), so the stronger-model search needs more capacity. 1.5x the filters costs
# 1.65x the training time on these CPUs; 2x costs 2.8x and no longer fits an 8 MiB file.
register("cnn_4blocks_wide", gradcam_layer=GRADCAM_LAYER,
         description="four blocks with 1.5x the filters (48 to 384)")(
    lambda **options: build_cnn((2, 2, 2, 2), name="cnn_4blocks_wide", **{"base_filters": 48, **options})
)
