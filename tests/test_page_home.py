"""AppTest for the home page and the app's navigation frame."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from conftest import FER2013_DIR

ROOT = Path(__file__).resolve().parents[1]


def test_home_shows_synthetic_data_its_distribution_and_one_face_per_emotion():
    at = AppTest.from_file(str(ROOT / "app_pages" / "home.py"), default_timeout=60).run()
    assert not at.exception
    assert any("synthetic faces" in i.value for i in at.info)
    assert len(at.get("plotly_chart")) == 1
    captions = [str(img.proto) for img in at.get("image")]
    assert all(any(name in c for c in captions) for name in ("Angry", "Disgust", "Neutral", "Sad", "Surprise"))


def test_download_offline_warns_and_the_page_carries_on(monkeypatch):
    import kagglehub

    monkeypatch.setattr(kagglehub, "dataset_download", lambda handle: (_ for _ in ()).throw(OSError("offline")))
    at = AppTest.from_file(str(ROOT / "app_pages" / "home.py"), default_timeout=60).run()
    [b for b in at.button if b.label == "Download FER2013 from Kaggle"][0].click().run()
    assert not at.exception and "could not download FER2013" in at.error[0].value
    assert len(at.get("plotly_chart")) == 1


@pytest.mark.slow  # decodes FER2013's 28,709 training faces for the chart: the slow tier
def test_home_finds_fer2013_from_the_environment(monkeypatch):
    if not FER2013_DIR.is_dir():
        pytest.skip("../shared/data/fer2013 is absent")
    monkeypatch.setenv("EMOTION_DATA_DIR", str(FER2013_DIR))
    at = AppTest.from_file(str(ROOT / "app_pages" / "home.py"), default_timeout=120).run()
    assert not at.exception and at.selectbox[0].value.startswith("FER2013 (")
    assert "28,709" in str(at.get("plotly_chart")[0].proto)


def test_the_app_frame_routes_to_the_home_page():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception and at.title[0].value == "Emotion recognition from faces"


def test_the_data_folder_set_on_home_is_used_by_every_page_and_remembered(kaggle_root, monkeypatch):
    """A teacher types the folder once: Train and Mistakes offer it, and so does the next session."""
    monkeypatch.setenv("EMOTION_DATA_ROOTS", str(kaggle_root.parent))
    home = AppTest.from_file(str(ROOT / "app_pages" / "home.py"), default_timeout=60).run()
    home.text_input(key="home_folder_box").set_value(str(kaggle_root)).run()
    assert not home.exception and home.selectbox(key="home_data").options[0] == f"FER2013 ({kaggle_root.name})"
    for page, key in (("train.py", "train_data"), ("mistakes.py", "mistakes_data")):
        other = AppTest.from_file(str(ROOT / "app_pages" / page), default_timeout=60).run()  # another session
        assert other.selectbox(key=key).options[0] == f"FER2013 ({kaggle_root.name})", page
    again = AppTest.from_file(str(ROOT / "app_pages" / "home.py"), default_timeout=60).run()
    assert again.text_input(key="home_folder_box").value == str(kaggle_root)  # back on Home: not empty


def test_a_folder_outside_the_allowed_roots_is_refused_and_not_read(kaggle_root, monkeypatch, tmp_path):
    monkeypatch.setenv("EMOTION_DATA_ROOTS", str(tmp_path / "elsewhere"))
    home = AppTest.from_file(str(ROOT / "app_pages" / "home.py"), default_timeout=60).run()
    home.text_input(key="home_folder_box").set_value(str(kaggle_root)).run()
    assert any("reads data only inside" in w.value for w in home.warning)
    assert all(not o.startswith("FER2013") for o in home.selectbox(key="home_data").options)
