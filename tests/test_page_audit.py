"""AppTest for the Label audit page: without a model, with a run audited on faces it never saw,
refused on faces it trained on, the face map, and the button that trains without the flagged faces."""

from pathlib import Path

import keras
import pytest
from streamlit.testing.v1 import AppTest

from emotion_core import runs
from emotion_core.audit import audit_with_model, filter_issues
from emotion_core.config import TrainConfig
from emotion_core.data.exclude import read_names
from emotion_core.labels import EMOTIONS
from emotion_core.models import build_model
from emotion_core.models.io import save_model_atomic
from conftest import TINY_MODEL

PAGE = str(Path(__file__).resolve().parents[1] / "app_pages" / "audit.py")


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A finished one-epoch run on 400 synthetic training faces (a few seconds)."""
    from emotion_core.config import NO_AUGMENTATION
    from emotion_core.training.loop import train

    config = TrainConfig(data="synthetic", model=TINY_MODEL, epochs=1, limit=400, imbalance="none",
                         augment=NO_AUGMENTATION, batch_size=32)
    return train(config, root=tmp_path_factory.mktemp("audit_runs"))


@pytest.fixture(autouse=True)
def synthetic_data_only(monkeypatch, tmp_path):
    """No FER2013 to find, so the data picker offers the synthetic faces whatever the machine holds."""
    monkeypatch.delenv("EMOTION_DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EMOTION_DEFAULT_MODEL", str(tmp_path / "missing.keras"))


def run_page():
    at = AppTest.from_file(PAGE, default_timeout=180).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def test_without_a_model_the_page_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setenv("EMOTION_RUNS_DIR", str(tmp_path / "empty_runs"))
    monkeypatch.setattr("emotion_core.settings.reference_dir", lambda: tmp_path / "no_reference_runs")
    at = run_page()
    assert any("No model yet" in info.value for info in at.info)
    assert not at.metric


def test_test_faces_are_audited_and_training_faces_refused(tiny_run, monkeypatch):
    monkeypatch.setenv("EMOTION_RUNS_DIR", str(tiny_run.parent))
    at = run_page()
    expected = audit_with_model("synthetic", tiny_run, split="test")
    assert metric(at, "Faces audited") == f"{len(expected.labels):,}"
    assert metric(at, "Flagged as likely mislabelled") == f"{len(expected.issues):,}"
    assert any("synthetic faces" in info.value for info in at.info)
    given = at.selectbox(key="audit_given").value
    suggested = at.selectbox(key="audit_suggested").value
    chosen = filter_issues(expected, given=None if given == "any" else EMOTIONS.index(given),
                           suggested=None if suggested == "any" else EMOTIONS.index(suggested))
    table = at.dataframe[0].value
    assert list(table["file"]) == [expected.names[i] for i in chosen]  # most doubtful first
    # the run trained on the synthetic training faces: auditing them with it is refused
    at.radio(key="audit_split").set_value("train").run()
    assert any("trained on the faces it would audit" in error.value for error in at.error)
    assert not at.metric


def test_the_face_map_is_drawn_with_the_colourings_the_faces_allow(tiny_run, monkeypatch):
    monkeypatch.setenv("EMOTION_RUNS_DIR", str(tiny_run.parent))
    at = run_page()
    at.toggle(key="audit_show_map").set_value(True).run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.radio(key="audit_colour").options == ["Given label", "Model's prediction", "Flagged by the audit"]
    assert at.get("plotly_chart")  # the map


def test_the_button_trains_without_the_flagged_training_faces(tmp_path, monkeypatch):
    """A model trained elsewhere may audit the synthetic training faces; the button then starts
    the fast recipe on them with the flagged ones in its exclude file (launching is faked here)."""
    root = tmp_path / "runs"
    run_dir = runs.create_run(dict(TrainConfig().to_dict(), data=str(tmp_path)), root=root, folder_name="elsewhere")
    save_model_atomic(build_model("cnn_3blocks"), runs.model_path(run_dir))
    runs.write_status(run_dir, runs.FINISHED)
    monkeypatch.setenv("EMOTION_RUNS_DIR", str(root))
    started = []
    monkeypatch.setattr("emotion_core.training.launch.launch_training",
                        lambda config, **kw: started.append(config) or root / "started")
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.session_state["audit_split"] = "train"
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    expected = audit_with_model("synthetic", run_dir, split="train")
    assert len(expected.issues)  # an untrained model doubts many labels: the button has work to do
    at.button(key="audit_retrain").click().run()
    assert len(started) == 1 and (started[0].data, started[0].epochs) == ("synthetic", 8)  # the page's default budget
    assert read_names(started[0].exclude) == [expected.names[i] for i in expected.issues]
    assert any("Started" in s.value for s in at.success)
    assert Path(started[0].exclude).parent == root / "audit-exclude"  # under the runs root


def test_the_headline_checks_the_audit_against_the_crowd(voted_kaggle_root, tmp_path, monkeypatch):
    """On faces with votes, the headline gives the crowd's base rate worked out by hand from the
    fixture (6 of the 14 faces with an emotion majority: 43%), and a map region opens its faces."""
    root = tmp_path / "runs"
    run_dir = runs.create_run(dict(TrainConfig().to_dict(), data="synthetic"), root=root, folder_name="elsewhere")
    keras.utils.set_random_seed(0)
    save_model_atomic(build_model("cnn_3blocks"), runs.model_path(run_dir))
    runs.write_status(run_dir, runs.FINISHED)
    monkeypatch.setenv("EMOTION_RUNS_DIR", str(root))
    monkeypatch.setenv("EMOTION_DATA_DIR", str(voted_kaggle_root))
    at = run_page()
    expected = audit_with_model(voted_kaggle_root, run_dir, split="test")
    assert len(expected.issues)  # an untrained model (seeded) doubts some labels: there is a headline
    line = next(m.value for m in at.markdown if "The crowd disagrees" in m.value)
    assert "against 43% of all faces (6 of 14)" in line
    assert f"{expected.crowd['flagged_rate']:.0%} of the flagged faces" in line
    at.toggle(key="audit_show_map").set_value(True).run()
    assert "Crowd's majority" in at.radio(key="audit_colour").options  # these faces have votes


def test_out_of_fold_audit_starts_in_the_background_then_shows_its_result(voted_kaggle_root, monkeypatch):
    """Folds not started: their state and a Start button (the launch is faked). Once the folds
    are finished (trained here with a tiny recipe), the page shows their audit, and nothing trains."""
    from emotion_core.audit import audit_with_folds
    from emotion_core.config import NO_AUGMENTATION, PRESETS

    tiny = TrainConfig(model=TINY_MODEL, epochs=1, imbalance="none", augment=NO_AUGMENTATION, batch_size=32,
                       validation_fraction=0.34)
    monkeypatch.setitem(PRESETS, "demo", tiny)
    monkeypatch.setenv("EMOTION_DATA_DIR", str(voted_kaggle_root))
    launched = []
    monkeypatch.setattr("emotion_core.audit.background.launch_fold_audit",
                        lambda source, k, **kw: launched.append((source, k, kw)))
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.session_state["audit_how"] = "folds"
    at.session_state["audit_preset"] = "demo"
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert [t.value for t in at.text] == ["fold 1 of 2: not started", "fold 2 of 2: not started"]
    at.button(key="audit_start_folds").click().run()
    assert launched == [(str(voted_kaggle_root), 2, {"preset": "demo"})]
    expected = audit_with_folds(voted_kaggle_root, 2, preset="demo")  # the folds, trained here
    monkeypatch.setattr("emotion_core.training.loop.train", _no_training)
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.session_state["audit_how"] = "folds"
    at.session_state["audit_preset"] = "demo"
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert metric(at, "Faces audited") == "42"
    assert metric(at, "Flagged as likely mislabelled") == f"{len(expected.issues):,}"


def _no_training(*args, **kwargs):
    raise AssertionError("the page trained a fold itself")
