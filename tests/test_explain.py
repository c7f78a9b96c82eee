import time

import numpy as np
import pytest

from emotion_core import runs
from emotion_core.data.synthetic import synthetic_faces
from emotion_core.explain import GradCam, _resize_and_normalise, gradcam, mean_heatmaps, overlay
from emotion_core.labels import EMOTIONS
from emotion_core.model_io import load_model
from emotion_core.models import build_model, model_names


@pytest.mark.parametrize("name", model_names())
def test_every_registered_model_yields_maps_in_0_1(name):
    faces = synthetic_faces(14, seed=2)[0]
    heatmaps, probs = GradCam(build_model(name))(faces)
    assert heatmaps.shape == (14, 48, 48) and heatmaps.dtype == np.float32
    assert heatmaps.min() >= 0 and heatmaps.max() <= 1 and probs.shape == (14, 7)


def test_an_all_zero_map_stays_zero_instead_of_dividing_by_zero():
    out = _resize_and_normalise(np.zeros((1, 6, 6), np.float32), (48, 48))
    assert np.all(out == 0) and np.isfinite(out).all()


def test_overlay_is_an_rgb_picture():
    picture = overlay(np.zeros((48, 48), np.uint8), np.ones((48, 48)), size=96)
    assert picture.shape == (96, 96, 3) and picture.dtype == np.uint8


def test_happy_maps_look_at_the_mouth_more_than_the_forehead(trained_synthetic_run):
    model = load_model(trained_synthetic_run)
    assert runs.read_json(trained_synthetic_run / "evaluation.json")["accuracy"] > 0.6  # it has learnt the faces
    images, labels, mouths = synthetic_faces(300, seed=11)
    happy = labels == EMOTIONS.index("happy")
    heatmaps = gradcam(model, images[happy], class_index=EMOTIONS.index("happy"))
    assert all(h.std() > 0 for h in heatmaps)  # not constant
    mouth = np.mean([h[y0:y1, x0:x1].mean() for h, (x0, y0, x1, y1) in zip(heatmaps, mouths[happy])])
    forehead = heatmaps[:, 2:12, 12:36].mean()
    assert mouth > 2 * forehead, (mouth, forehead)


def test_a_gallery_of_50_faces_takes_seconds_and_mean_maps_per_class(trained_synthetic_run):
    explainer = GradCam(load_model(trained_synthetic_run))
    images, labels, _ = synthetic_faces(140, seed=4)
    explainer(images[:50])  # first call traces the graph
    started = time.perf_counter()
    explainer(images[:50])
    assert time.perf_counter() - started < 3
    means = mean_heatmaps(explainer, images, labels)
    assert means and all(m.shape == (48, 48) and m.max() <= 1 for m in means.values())
