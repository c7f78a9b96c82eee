"""analyse_photo: the one photo pipeline (CLI predict, Live page, live benchmark)."""

import numpy as np
import pytest

from emotion_core.explain import GradCam
from emotion_core.labels import EMOTIONS
from emotion_core.models import build_model
from emotion_core.photos.analyse import analyse_photo


@pytest.fixture(scope="module")
def model():
    return build_model("cnn_3blocks")


def test_no_face_gives_nothing_unless_the_whole_image_is_asked_for(model):
    blank = np.full((120, 200, 3), 180, np.uint8)
    assert analyse_photo(model, blank) == []
    (face,) = analyse_photo(model, blank, whole_if_none=True)
    assert face.box == (40, 0, 120, 120)  # the largest centred square
    result = face.to_dict()
    assert list(result["probabilities"]) == list(EMOTIONS) and result["box"] == [40, 0, 120, 120]
    assert sum(result["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)
    assert face.heatmap is None  # no explainer, no Grad-CAM pass


def test_with_an_explainer_the_probabilities_are_the_same_and_heatmaps_come_too(model):
    blank = np.random.default_rng(0).integers(0, 256, (120, 200, 3), dtype=np.uint8)
    (plain,) = analyse_photo(model, blank, whole_if_none=True)
    (explained,) = analyse_photo(model, blank, explainer=GradCam(model), whole_if_none=True)
    assert np.allclose(plain.probabilities, explained.probabilities, atol=1e-5)
    assert explained.heatmap.shape == (48, 48)


def test_tta_averages_with_the_mirrored_crop(model):
    from emotion_core.evaluation import predict_probabilities

    image = np.random.default_rng(1).integers(0, 256, (96, 96, 3), dtype=np.uint8)
    (face,) = analyse_photo(model, image, whole_if_none=True, tta=True)
    expected = (predict_probabilities(model, face.crop[None]) + predict_probabilities(model, face.crop[None, :, ::-1]))
    assert np.allclose(face.probabilities, expected[0] / 2, atol=1e-5)
