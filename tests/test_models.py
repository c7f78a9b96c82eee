import keras
import numpy as np
import pytest

from emotion_core.errors import UnknownModelError
from emotion_core.models import build_model, get_spec, model_names
from emotion_core.models.cnn import GRADCAM_LAYER, TABLE1


def test_seed_cnn_has_the_studys_parameter_count():
    assert build_model("seed_cnn").count_params() == 1_029_223


def test_all_eight_table1_experiments_are_registered():
    table1 = [name for name, _, _ in TABLE1]
    assert len(table1) == 8 and set(table1) <= set(model_names()) and "seed_cnn" in table1


def test_the_wide_cnn_has_one_and_a_half_times_the_filters_of_cnn_4blocks():
    narrow, wide = build_model("cnn_4blocks"), build_model("cnn_4blocks_wide")
    assert wide.get_layer("block1_conv1").filters == 48 and wide.get_layer(GRADCAM_LAYER).filters == 384
    assert 1.7 * narrow.count_params() < wide.count_params() < 2 * narrow.count_params()


def test_the_residual_net_has_sixteen_block_convolutions_and_fits_8_mib_in_float16():
    residual = build_model("cnn_residual")
    block_convs = [layer for layer in residual.layers
                   if isinstance(layer, keras.layers.Conv2D) and layer.kernel_size == (3, 3) and "block" in layer.name]
    assert len(block_convs) == 16
    assert residual.get_layer(get_spec("cnn_residual").gradcam_layer).output.shape[1:3] == (6, 6)
    assert residual.count_params() * 2 < 8 * 2**20  # float16 bytes, the shipped file's limit


@pytest.mark.parametrize("name", model_names())
def test_every_model_builds_predicts_and_names_its_gradcam_layer(name):
    model = build_model(name)
    probs = np.asarray(model(np.zeros((2, 48, 48, 1), np.float32), training=False))
    assert probs.shape == (2, 7) and np.allclose(probs.sum(axis=1), 1, atol=1e-5)
    assert model.name == name
    layer = model
    for part in get_spec(name).gradcam_layer.split("/"):  # "backbone/layer" for nested backbones
        layer = layer.get_layer(part)  # raises if the named layer is missing
    assert len(layer.output.shape) == 4


def test_unknown_model_name_lists_the_known_ones():
    with pytest.raises(UnknownModelError, match="known models: .*seed_cnn"):
        build_model("resnet9000")
