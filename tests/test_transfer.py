"""Transfer models: built offline with weights=None; the ImageNet path fails clearly offline."""

import keras
import numpy as np
import pytest

from emotion_core.config import TrainConfig
from emotion_core.explain import GradCam
from emotion_core.models import build_model
from emotion_core.errors import WeightsUnavailableError
from emotion_core.models.transfer import BACKBONES, convolutions

# Trainable convolutions for N = 3, 6, 9 are the backbone's last N Conv2D layers.
EXPECTED_FIRST_TRAINABLE = {
    ("vgg16", 6): "block4_conv1",  # the study: VGG16 from block4 onward is 6
    ("vgg16", 9): "block3_conv1",  # and from block3 onward is 9
    ("vgg19", 3): "block5_conv2",
    ("resnet50", 3): "conv5_block3_1_conv",
}


@pytest.mark.parametrize("backbone", list(BACKBONES))
@pytest.mark.parametrize("unfreeze", [3, 6, 9])
def test_finetuning_trains_exactly_the_last_n_convolutions(backbone, unfreeze):
    model = build_model(backbone, mode="finetune", unfreeze=unfreeze, weights="none")
    base = model.get_layer(backbone)
    trainable = [layer.name for layer in convolutions(base) if layer.trainable]
    assert len(trainable) == unfreeze and trainable == [c.name for c in convolutions(base)][-unfreeze:]
    if (backbone, unfreeze) in EXPECTED_FIRST_TRAINABLE:
        assert trainable[0] == EXPECTED_FIRST_TRAINABLE[(backbone, unfreeze)]
    # BatchNorm (ResNet50 only; VGG has none) stays frozen whatever is fine-tuned
    norms = [layer for layer in base.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(norms) == (53 if backbone == "resnet50" else 0)
    assert not any(layer.trainable for layer in norms)


def test_feature_extraction_freezes_the_whole_backbone():
    model = build_model("vgg16", mode="feature", weights="none")
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert trainable == 512 * 256 + 256 + 256 * 7 + 7  # only the study's head: Flatten(1x1x512) -> 256 -> 7


@pytest.mark.parametrize("backbone", list(BACKBONES))
def test_one_training_step_and_a_gradcam_map_from_the_nested_backbone(backbone):
    model = build_model(backbone, mode="finetune", unfreeze=3, weights="none")
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    x = np.random.default_rng(0).random((4, 48, 48, 1)).astype(np.float32)
    y = np.eye(7, dtype=np.float32)[[0, 3, 4, 5]]
    before = [w.numpy().copy() for w in model.trainable_weights]
    model.train_on_batch(x, y)
    assert any(not np.allclose(a, w.numpy()) for a, w in zip(before, model.trainable_weights))
    heatmaps, probs = GradCam(model)((x[..., 0] * 255).astype(np.uint8))
    assert heatmaps.shape == (4, 48, 48) and heatmaps.min() >= 0 and heatmaps.max() <= 1
    assert np.allclose(probs.sum(axis=1), 1, atol=1e-5)


def test_bigger_input_size_is_resized_inside_the_model():
    model = build_model("vgg16", weights="none", input_size=96)
    assert model.get_layer("vgg16").output.shape[1:3] == (3, 3)  # 96 / 32


def _offline(monkeypatch):
    import keras

    def offline(*args, **kwargs):
        raise Exception("URL fetch failure: no network")

    monkeypatch.setattr(keras.utils, "get_file", offline)
    monkeypatch.setattr("keras.src.applications.vgg16.file_utils.get_file", offline)


def test_imagenet_weights_offline_say_which_file_to_put_where(monkeypatch, tmp_path):
    """A teacher without internet is told the file's name, where it comes from and the folder to put it in."""
    _offline(monkeypatch)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    with pytest.raises(WeightsUnavailableError) as raised:
        build_model("vgg16", weights="imagenet")
    message = str(raised.value)
    assert "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5" in message and str(tmp_path / "keras" / "models") in message
    assert "https://storage.googleapis.com/tensorflow/keras-applications/vgg16/" in message
    assert "\\" not in message and "--weights" not in message  # no escaped URL, no command-line flags on a page


def test_a_weights_file_already_in_the_keras_cache_is_used_with_no_network(monkeypatch, tmp_path):
    import h5py
    import numpy as np
    from keras.src.legacy.saving import legacy_h5_format

    from emotion_core.models.transfer import imagenet_weights_file

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    source = build_model("vgg16", weights="none").get_layer("vgg16")
    cached = imagenet_weights_file("vgg16")
    cached.parent.mkdir(parents=True)
    with h5py.File(cached, "w") as file:  # Keras's own ImageNet files are in this legacy HDF5 layout
        legacy_h5_format.save_weights_to_hdf5_group(file, source)
    _offline(monkeypatch)  # any attempt to download now fails
    loaded = build_model("vgg16", weights="imagenet").get_layer("vgg16")
    assert all(np.array_equal(a, b) for a, b in zip(loaded.get_weights(), source.get_weights()))


def test_random_init_fallback_trains_through_the_cli(capsys, tmp_path, kaggle_root):
    from emotion_core.cli import main

    # reported on the 7 test faces of the tiny Kaggle folder, not VGG16 over 700 synthetic ones: the CLI path is the subject
    code = main(["train", "--data", "synthetic", "--model", "vgg16", "--mode", "finetune", "--unfreeze", "3",
                 "--weights", "none", "--epochs", "1", "--limit", "140", "--test-data", str(kaggle_root),
                 "--runs-dir", str(tmp_path)])
    assert code == 0 and "finished: 1 epochs" in capsys.readouterr().out
    assert TrainConfig().weights == "imagenet"  # the study's default; offline users pick none
