"""AppTest for the Mistakes page: with and without runs; the selected cell drives the gallery."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "mistakes.py")


def test_without_a_model_the_page_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setenv("EMOTION_DEFAULT_MODEL", str(tmp_path / "missing.keras"))
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception and any("No model yet" in i.value for i in at.info)


def test_the_gallery_follows_the_selected_cell(trained_synthetic_run, monkeypatch):
    monkeypatch.setenv("EMOTION_RUNS_DIR", str(trained_synthetic_run.parent))
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.subheader[0].value.startswith("True neutral, predicted sad")
    [b for b in at.button if b.label == "Sad → predicted neutral"][0].click().run()
    assert at.subheader[0].value.startswith("True sad, predicted neutral")
    at.session_state["cell"] = (3, 3)  # what a click on the happy/happy marker stores
    at.run()
    assert at.subheader[0].value.startswith("True happy, predicted happy")
    assert len(at.get("image")) >= 1 and not at.exception
