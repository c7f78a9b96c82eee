"""The live video's per-frame work, without a browser: boxes, Grad-CAM, history, pause."""

import cv2
import numpy as np
import pytest

from emotion_core.data.synthetic import synthetic_faces
from emotion_core.explain import GradCam
from emotion_core.models import build_model
from emotion_core.photos.annotate import BOX_COLOUR
from emotion_core.photos.video import HISTORY_S, LiveAnalyser
from emotion_core.plots import emotion_strip_chart

AMBER_BGR = BOX_COLOUR[::-1]


@pytest.fixture(scope="module")
def explainer():
    return GradCam(build_model("cnn_3blocks"))


@pytest.fixture(scope="module")
def frame():
    """A 640x480 webcam-like frame with one drawn face."""
    face = synthetic_faces(14, seed=0)[0][3]
    canvas = np.full((480, 640, 3), 120, np.uint8)
    canvas[140:340, 220:420] = cv2.resize(face, (200, 200), interpolation=cv2.INTER_CUBIC)[..., None]
    return canvas


def amber_pixels(image):
    return int(np.all(image == AMBER_BGR, axis=2).sum())


def test_a_frame_comes_back_boxed_labelled_and_explained(explainer, frame):
    analyser = LiveAnalyser(explainer, heatmaps=True)
    drawn = analyser.process(frame.copy(), now=100.0)
    assert drawn.shape == frame.shape and drawn.dtype == np.uint8
    assert amber_pixels(drawn) > 500 and amber_pixels(frame) == 0  # the box and its label tag
    inside = drawn[210:270, 290:350].astype(int)  # the middle of the face, inside its box
    assert np.abs(inside[..., 0] - inside[..., 2]).mean() > 10  # jet colours over the gray face
    plain = LiveAnalyser(explainer, heatmaps=False).process(frame.copy(), now=100.0)
    inside = plain[210:270, 290:350].astype(int)
    assert np.abs(inside[..., 0] - inside[..., 2]).max() == 0  # no heatmap: the face stays gray


def test_history_is_smoothed_and_keeps_the_last_30_seconds(explainer, frame):
    analyser = LiveAnalyser(explainer, heatmaps=False)
    for t in (0.0, 10.0, 20.0, 35.0):
        analyser.process(frame.copy(), now=t)
    seconds, probabilities = analyser.history(now=35.0)
    assert seconds.tolist() == [-25.0, -15.0, 0.0]  # the frame at t=0 is older than HISTORY_S
    assert HISTORY_S == 30.0 and probabilities.shape == (3, 7)
    assert np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)


def test_pause_keeps_the_last_frame_and_stops_the_history(explainer, frame):
    analyser = LiveAnalyser(explainer, heatmaps=False)
    first = analyser.process(frame.copy(), now=1.0)
    analyser.paused = True
    blank = np.zeros_like(frame)
    assert analyser.process(blank, now=2.0) is first
    assert len(analyser.history(now=2.0)[0]) == 1
    analyser.paused = False
    assert amber_pixels(analyser.process(blank, now=3.0)) == 0  # resumed: the blank frame, no face


def test_a_frame_without_faces_passes_through_unchanged(explainer):
    blank = np.full((480, 640, 3), 90, np.uint8)
    assert np.array_equal(LiveAnalyser(explainer).process(blank.copy()), blank)


def test_strip_chart_has_one_line_per_emotion_over_the_last_30_seconds():
    fig = emotion_strip_chart([-2.0, -1.0, 0.0], np.full((3, 7), 1 / 7))
    assert len(fig.data) == 7 and list(fig.data[5].x) == [-2.0, -1.0, 0.0] and fig.data[5].name == "Sad"
    assert list(fig.layout.xaxis.range) == [-30.0, 0]
