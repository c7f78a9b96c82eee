"""AppTest for the Live page: upload photos, see faces; bad files get clear errors."""

from pathlib import Path

import cv2
import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from emotion_core.data.synthetic import synthetic_faces

PAGE = str(Path(__file__).resolve().parents[1] / "app_pages" / "live.py")


@pytest.fixture
def default_model(tmp_path_factory, monkeypatch):
    """An untrained tiny model standing in for the shipped one (the page only needs a model)."""
    from conftest import TINY_MODEL
    from emotion_core.models import build_model

    path = tmp_path_factory.mktemp("model") / "tiny.keras"
    build_model(TINY_MODEL).save(path)
    monkeypatch.setenv("EMOTION_DEFAULT_MODEL", str(path))
    return path


def photo_with_a_face():
    """A drawn face enlarged and pasted on a larger background, as PNG bytes."""
    images, _, _ = synthetic_faces(14, seed=5)
    canvas = np.full((360, 480), 90, np.uint8)
    canvas[80:280, 140:340] = cv2.resize(images[3], (200, 200), interpolation=cv2.INTER_CUBIC)
    return cv2.imencode(".png", canvas)[1].tobytes()


def upload(at, files):
    at.file_uploader(key="live_uploads").set_value(files).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_without_any_model_the_page_explains_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setenv("EMOTION_DEFAULT_MODEL", str(tmp_path / "missing.keras"))
    monkeypatch.setattr("emotion_core.settings.reference_dir", lambda: tmp_path / "no_reference_runs")
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception and any("No model yet" in i.value for i in at.info)


def test_an_uploaded_photo_shows_its_face_with_probabilities(default_model):
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    upload(at, [("class.png", photo_with_a_face(), "image/png")])
    assert not at.error and not at.warning
    assert len(at.get("plotly_chart")) == 1  # one face, one probability chart
    assert any("class.png: 1 face(s)" in str(image.proto) for image in at.get("image"))


def test_a_corrupt_file_gets_a_clear_error_and_the_other_photo_still_shows(default_model):
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    upload(at, [("broken.jpg", b"\xff\xd8\xff\xe0 not really a jpeg", "image/jpeg"),
                ("class.png", photo_with_a_face(), "image/png")])
    assert len(at.error) == 1 and "broken.jpg" in at.error[0].value
    assert len(at.get("plotly_chart")) == 1


def test_no_face_offers_to_classify_the_whole_image(default_model):
    noise = cv2.imencode(".png", np.random.default_rng(0).integers(0, 255, (200, 200), dtype=np.uint8))[1].tobytes()
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    upload(at, [("wall.png", noise, "image/png")])
    assert "No face found in wall.png" in at.warning[0].value and not at.get("plotly_chart")
    at.checkbox[0].check().run()
    assert len(at.get("plotly_chart")) == 1


def test_the_small_faces_toggle_finds_a_face_in_a_group_sized_photo(default_model):
    images, _, _ = synthetic_faces(14, seed=0)
    canvas = np.full((3000, 4000), 140, np.uint8)  # the face is 8% of the height (see test_faces)
    canvas[1000:1240, 2000:2240] = cv2.resize(images[0], (240, 240), interpolation=cv2.INTER_CUBIC)
    group = cv2.imencode(".png", canvas)[1].tobytes()
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    upload(at, [("group.png", group, "image/png")])
    assert "No face found in group.png" in at.warning[0].value
    at.toggle[2].set_value(True).run()
    assert not at.warning and len(at.get("plotly_chart")) == 1


def test_a_name_with_markdown_is_shown_as_typed_not_rendered(default_model):
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    upload(at, [("**bold** [link](x).png", b"not a picture", "image/png")])
    (error,) = at.error
    assert "\\*\\*bold\\*\\* \\[link\\](x).png" in error.value  # escaped: the page shows the asterisks


def test_a_one_pixel_high_strip_is_refused_as_too_small_to_hold_a_face(default_model):
    strip = cv2.imencode(".png", np.full((1, 40000), 128, np.uint8))[1].tobytes()
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    upload(at, [("strip.png", strip, "image/png")])
    (error,) = at.error
    assert "strip.png: image too small to hold a face: 40000 x 1 pixels" in error.value
