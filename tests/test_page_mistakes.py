"""AppTest for the Mistakes page: without a model, with a finished run, with a model that saved
no predictions; the selected cell (a button, or session state as a matrix click sets it)
drives the gallery."""

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from emotion_core import runs
from emotion_core.runs import load_predictions
from emotion_core.labels import EMOTIONS
from emotion_core.mistakes import cell_indices, face_name

PAGE = str(Path(__file__).resolve().parents[1] / "app_pages" / "mistakes.py")
PAGE_SIZE = 24  # faces per gallery page


@pytest.fixture(scope="module")
def tiny_run(trained_synthetic_run):
    """The session's finished run (conftest): model.keras, evaluation.json and predictions.npz on
    the synthetic test set, from a model that gets most faces right and confuses a few neutral and
    sad ones, as a classroom's model would. Its folder is alone under its parent."""
    return trained_synthetic_run


@pytest.fixture(autouse=True)
def synthetic_data_first(monkeypatch, tmp_path):
    """No FER2013 to find (not in EMOTION_DATA_DIR, not in ./data/fer2013), so the test set
    picker starts on the synthetic faces whatever the developer's machine holds."""
    monkeypatch.delenv("EMOTION_DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def only_the_run(tiny_run, monkeypatch):
    """The page sees the tiny run and no shipped model."""
    monkeypatch.setenv("EMOTION_RUNS_DIR", str(tiny_run.parent))
    monkeypatch.setenv("EMOTION_DEFAULT_MODEL", str(tiny_run.parent / "missing.keras"))
    return tiny_run


def run_page():
    at = AppTest.from_file(PAGE, default_timeout=90).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def gallery_heading(at):
    return next(h.value for h in at.subheader if h.value.startswith("True "))


def gallery_captions(at):
    """Captions of the gallery's faces, in the order shown (a row that wraps: the element tree's order)."""
    return [img.caption for element in at.get("image") for img in element.proto.imgs
            if img.caption and img.caption not in EMOTIONS and "attention" not in img.caption]  # not the scale


def test_without_a_model_the_page_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setenv("EMOTION_RUNS_DIR", str(tmp_path / "empty_runs"))
    monkeypatch.setenv("EMOTION_DEFAULT_MODEL", str(tmp_path / "missing.keras"))
    monkeypatch.setattr("emotion_core.settings.reference_dir", lambda: tmp_path / "no_reference_runs")
    at = run_page()
    assert any("No model yet" in info.value for info in at.info)
    assert not at.subheader  # no matrix, no gallery


def test_a_finished_run_shows_its_matrix_gallery_and_report(only_the_run):
    at = run_page()
    saved = load_predictions(only_the_run)
    assert len(at.get("plotly_chart")) == 1  # the confusion matrix
    assert any("synthetic" in info.value for info in at.info)
    accuracy = np.mean(saved["probabilities"].argmax(axis=1) == saved["true"])
    assert at.metric[0].value == f"{accuracy:.1%}"  # the saved predictions, not new ones
    neutral_as_sad = cell_indices(saved["true"], saved["probabilities"], 4, 5)
    assert gallery_heading(at) == f"True neutral, predicted sad: {len(neutral_as_sad):,} faces"
    assert len(gallery_captions(at)) == min(PAGE_SIZE, len(neutral_as_sad))
    assert len(at.dataframe) == 2  # classification report and most confused pairs


def busiest_cell(saved, *, skip):
    """The cell with the most faces other than `skip`, and its faces most confident first."""
    counts = np.zeros((7, 7), int)
    np.add.at(counts, (saved["true"], saved["probabilities"].argmax(axis=1)), 1)
    for t, p in skip:
        counts[t, p] = -1
    t, p = np.unravel_index(counts.argmax(), counts.shape)
    return (int(t), int(p)), cell_indices(saved["true"], saved["probabilities"], t, p)


def test_changing_the_selected_cell_changes_the_gallery(only_the_run):
    at = run_page()
    first = gallery_heading(at)
    next(b for b in at.button if b.label == "Sad taken for neutral").click().run()
    assert not at.exception and gallery_heading(at).startswith("True sad, predicted neutral")
    assert at.session_state["mistakes_cell"] == (5, 4)

    saved = load_predictions(only_the_run)
    cell, faces = busiest_cell(saved, skip=[(4, 5), (5, 4)])
    at.session_state["mistakes_cell"] = cell  # what a click on that marker of the matrix stores
    at.run()
    assert not at.exception
    heading = gallery_heading(at)
    assert heading == f"True {EMOTIONS[cell[0]]}, predicted {EMOTIONS[cell[1]]}: {len(faces):,} faces"
    assert heading != first
    captions = gallery_captions(at)
    assert len(captions) == min(PAGE_SIZE, len(faces))
    # most confident first: the gallery shows the cell's faces in exactly cell_indices' order
    assert captions == [face_name(saved["names"][i]) for i in faces[:PAGE_SIZE]]

    assert len(faces) > PAGE_SIZE, "the busiest cell must fill two pages for this test to mean anything"
    at.number_input(key=f"mistakes_page_{cell[0]}_{cell[1]}").set_value(2).run()  # continues where page 1 stopped
    names = gallery_captions(at)
    assert names == [face_name(saved["names"][i]) for i in faces[PAGE_SIZE:2 * PAGE_SIZE]]

    at.toggle(key="mistakes_gradcam").set_value(False).run()  # plain faces without Grad-CAM
    assert not at.exception and gallery_captions(at)


def test_mean_gradcam_per_emotion_is_drawn_on_request(only_the_run):
    at = run_page()
    before = len(at.get("image"))
    at.toggle(key="mistakes_attention").set_value(True).run()
    assert not at.exception
    assert len(at.get("image")) > before


def test_a_model_without_saved_predictions_is_predicted_on_the_page(tiny_run, monkeypatch, tmp_path):
    # the shipped model has no run folder beside it: the page predicts the test set itself
    monkeypatch.setenv("EMOTION_RUNS_DIR", str(tmp_path / "empty_runs"))
    monkeypatch.setenv("EMOTION_DEFAULT_MODEL", str(tiny_run / "model.keras"))
    at = run_page()
    saved = load_predictions(tiny_run)
    accuracy = np.mean(saved["probabilities"].argmax(axis=1) == saved["true"])
    assert at.metric[0].value == f"{accuracy:.1%}"  # the same model on the same faces
    assert gallery_heading(at).startswith("True neutral, predicted sad")


def test_a_run_viewed_on_another_test_set_is_predicted_here(only_the_run, kaggle_root, monkeypatch):
    # the run saved predictions for the synthetic faces; a Kaggle folder is predicted on the page
    monkeypatch.setenv("EMOTION_DATA_DIR", str(kaggle_root))
    at = run_page()
    assert at.selectbox(key="mistakes_data").value.startswith("FER2013 (")
    assert any("Predicted here" in caption.value for caption in at.caption)
    assert not any("synthetic" in info.value for info in at.info)
    at.session_state["mistakes_cell"] = (0, 0)
    at.run()
    assert not at.exception and gallery_heading(at).startswith("True angry, predicted angry")


def test_a_test_set_without_votes_shows_no_vote_widgets(only_the_run):
    at = run_page()
    keys = [w.key for w in (*at.toggle, *at.radio)]
    assert "mistakes_crowd_rows" not in keys and "mistakes_side" not in keys
    assert not any("crowd" in m.value for m in at.markdown)


def test_crowd_votes_give_a_headline_a_filter_and_a_crowd_matrix(voted_kaggle_root, monkeypatch, tmp_path):
    from emotion_core.data import load_data
    from emotion_core.data.crowd import votes_for
    from emotion_core.evaluation import predict_probabilities
    from emotion_core.mistakes import cell_headline, filter_by_side
    from emotion_core.models import build_model
    from emotion_core.models.io import load_model

    import keras

    keras.utils.set_random_seed(0)
    stand_in = tmp_path / "stand_in.keras"
    build_model("cnn_3blocks").save(stand_in)  # untrained: its answers are arbitrary but fixed
    monkeypatch.setenv("EMOTION_DEFAULT_MODEL", str(stand_in))
    monkeypatch.setenv("EMOTION_RUNS_DIR", str(tmp_path / "no_runs"))
    monkeypatch.setenv("EMOTION_DATA_DIR", str(voted_kaggle_root))
    test = load_data(voted_kaggle_root, split="test")
    probabilities = predict_probabilities(load_model(stand_in), test.images)
    majority = votes_for(test.names).majority()
    predicted = probabilities.argmax(axis=1)
    # the fullest off-diagonal cell: what the page must describe
    cells = [(t, p) for t in range(7) for p in range(7) if t != p]
    true, said = max(cells, key=lambda c: np.sum((test.labels == c[0]) & (predicted == c[1])))
    indices = cell_indices(test.labels, probabilities, true, said)
    assert len(indices) > 0

    at = AppTest.from_file(PAGE, default_timeout=90)
    at.session_state["mistakes_cell"] = (true, said)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert f"**{cell_headline(indices, true, said, majority)}**" in [m.value for m in at.markdown]
    # a filter that keeps some of the cell's faces but not all, so the count shown means something
    side, kept = next((side, kept) for side in ("label", "model", "neither")
                      if 0 < len(kept := filter_by_side(indices, test.labels, probabilities, majority, side)) < len(indices))
    at.radio(key="mistakes_side").set_value(side).run()
    shown = next(h.value for h in at.subheader if h.value.startswith("True "))
    assert shown.endswith(f"{len(indices):,} faces")
    assert len(gallery_captions(at)) == len(kept)
    at.toggle(key="mistakes_crowd_rows").set_value(True).run()
    assert not at.exception
    assert any(h.value.startswith("The crowd said ") for h in at.subheader)


def test_two_runs_with_the_same_name_can_both_be_chosen(trained_synthetic_run, tmp_path):
    """Renamed alike, two runs are still two choices: the picker holds references, not names."""
    import shutil

    from app_pages._shared import model_choices

    twin = runs.runs_root() / "twin"
    shutil.copytree(trained_synthetic_run, twin)
    copy = runs.runs_root() / "copy"
    shutil.copytree(trained_synthetic_run, copy)
    runs.rename_run(twin, "same name")
    runs.rename_run(copy, "same name")
    refs = [ref for name, ref, _ in model_choices() if name.startswith("same name")]
    assert sorted(refs) == sorted([str(twin), str(copy)])
    app = AppTest.from_file(PAGE, default_timeout=120).run()
    # Both are offered; the browser picks by position, and each position holds its own run folder
    # (AppTest itself matches a choice by its label, so it cannot pick between two equal labels).
    assert not app.exception and sum(o.startswith("same name") for o in app.selectbox(key="mistakes_model").options) == 2


def test_the_model_box_holds_the_run_name_and_its_accuracy_follows_as_a_caption(trained_synthetic_run):
    """'<name> · <model> — <accuracy> on <test set>' was cut in the box at 1024 px."""
    import shutil

    run = shutil.copytree(trained_synthetic_run, runs.runs_root() / trained_synthetic_run.name)
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    name = runs.load_run(run).name
    accuracy = f"{runs.load_run(run).evaluation['accuracy']:.1%}"
    at.selectbox(key="mistakes_model").set_value(str(run)).run()
    assert not at.exception and at.selectbox(key="mistakes_model").value == str(run)
    assert name in at.selectbox(key="mistakes_model").options and accuracy not in name
    assert any(accuracy in c.value for c in at.caption)
