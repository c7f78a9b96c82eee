import numpy as np
import pytest

from emotion_core.errors import UnknownModelError
from emotion_core.models import build_model, get_spec, model_names


def test_seed_cnn_has_the_studys_parameter_count():
    assert build_model("seed_cnn").count_params() == 1_029_223


def test_all_eight_table1_experiments_are_registered():
    cnns = [n for n in model_names() if get_spec(n).family == "cnn"]
    assert len(cnns) == 8 and "seed_cnn" in cnns


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
