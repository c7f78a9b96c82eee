"""Grad-CAM (emotion_core.explain): shapes and ranges for every registered model, no division
by zero, speed of a gallery, and that a trained model's map for 'happy' sits on the mouth."""


import keras
import numpy as np
import pytest

from emotion_core.data.synthetic import synthetic_faces
from emotion_core.explain import GradCam, gradcam, mean_heatmaps, overlay
from emotion_core.labels import EMOTIONS
from emotion_core.models.io import load_model
from emotion_core.models import build_model, model_names
from emotion_core.runs import read_evaluation

HAPPY = EMOTIONS.index("happy")
FOREHEAD = (slice(2, 12), slice(12, 36))  # rows, columns above the brows of a drawn 48x48 face


@pytest.fixture(scope="module")
def trained_run(trained_synthetic_run):
    """The session's small synthetic-trained model (see conftest), so its maps mean something."""
    return trained_synthetic_run


@pytest.fixture(scope="module")
def explainer(trained_run):
    return GradCam(load_model(trained_run))


@pytest.mark.parametrize("name", model_names())
def test_every_registered_model_gives_one_map_per_face_in_0_1(name):
    # untrained (transfer models with random weights): the maps need not mean anything yet,
    # but every architecture must resolve its layer and return the documented shapes
    faces = synthetic_faces(14, seed=2)[0][:5]
    heatmaps, probs = GradCam(build_model(name))(faces)
    assert heatmaps.shape == (5, 48, 48) and heatmaps.dtype == np.float32
    assert np.isfinite(heatmaps).all() and heatmaps.min() >= 0 and heatmaps.max() <= 1
    assert probs.shape == (5, 7) and np.allclose(probs.sum(axis=1), 1, atol=1e-4)


def dead_model():
    """A model whose last convolution outputs zeros everywhere: Grad-CAM's raw map is 0."""
    inputs = keras.Input((48, 48, 1))
    x = keras.layers.Conv2D(4, 3, padding="same", kernel_initializer="zeros", bias_initializer="zeros",
                            name="dead_conv")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(7, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="dead")


def test_an_all_zero_map_stays_zero_instead_of_dividing_by_zero():
    heatmaps, probs = GradCam(dead_model())(synthetic_faces(14, seed=3)[0][:4])
    assert np.isfinite(heatmaps).all() and np.all(heatmaps == 0)
    assert np.allclose(probs, 1 / 7)


def test_maps_of_a_trained_model_are_in_0_1_and_not_constant(explainer):
    heatmaps, probs = explainer(synthetic_faces(70, seed=5)[0])
    assert heatmaps.shape == (70, 48, 48) and probs.shape == (70, 7)
    assert heatmaps.min() >= 0 and heatmaps.max() <= 1
    assert all(h.std() > 0.01 for h in heatmaps)  # each face has a map with a shape, not a flat field
    assert np.allclose(heatmaps.max(axis=(1, 2)), 1)  # each map is scaled to its own peak


def test_a_gallery_of_50_faces_is_one_batch_with_the_same_maps_as_one_by_one(trained_run):
    # Speed is a benchmark's business (bench live); here: batching must not change the maps.
    faces = synthetic_faces(70, seed=6)[0][:50]
    explainer = GradCam(load_model(trained_run))
    heatmaps, _ = explainer(faces)
    assert heatmaps.shape == (50, 48, 48)
    one_by_one = np.concatenate([explainer(faces[i:i + 1])[0] for i in (0, 17, 49)])
    assert np.allclose(heatmaps[[0, 17, 49]], one_by_one, atol=1e-4)


def test_happy_maps_look_at_the_mouth_more_than_the_forehead(trained_run):
    # the synthetic 'happy' face differs from 'neutral' only in its mouth, so a model that
    # learnt the faces must point there; the forehead carries no cue at all
    assert read_evaluation(trained_run)["accuracy"] > 0.8  # it has learnt the faces
    images, labels, mouths = synthetic_faces(300, seed=11)
    happy = labels == HAPPY
    heatmaps = gradcam(load_model(trained_run), images[happy], class_index=HAPPY)
    mouth = np.array([h[y0:y1, x0:x1].mean() for h, (x0, y0, x1, y1) in zip(heatmaps, mouths[happy])])
    forehead = heatmaps[:, FOREHEAD[0], FOREHEAD[1]].mean(axis=(1, 2))
    assert mouth.mean() > 2 * forehead.mean(), (mouth.mean(), forehead.mean())
    assert (mouth > forehead).mean() > 0.9, (mouth > forehead).mean()


def test_mean_maps_per_class_cover_the_classes_the_model_gets_right(explainer):
    images, labels, _ = synthetic_faces(140, seed=4)
    means = mean_heatmaps(explainer, images, labels)
    _, probs = explainer(images)
    right = {int(c) for c in labels[probs.argmax(axis=1) == labels]}
    assert set(means) == right and len(right) >= 6  # a class with no correct face has no mean map
    assert all(m.shape == (48, 48) and m.min() >= 0 and np.isclose(m.max(), 1) for m in means.values())


def test_overlay_is_an_rgb_picture_of_the_requested_size():
    picture = overlay(np.zeros((48, 48), np.uint8), np.ones((48, 48)), size=96)
    assert picture.shape == (96, 96, 3) and picture.dtype == np.uint8
