"""The shipped reference runs: the build command, the listing, the read-only guard, the comparison view."""

import dataclasses
import json
import shutil
from pathlib import Path

import keras
import pytest
from streamlit.testing.v1 import AppTest

from emotion_core import reference, runs, settings
from emotion_core.cli import main
from emotion_core.errors import RunError
from emotion_core.evaluation import evaluate_run
from conftest import TINY_MODEL

BUILT = ("seed_cnn-class_weight", "cnn_3blocks-none")


def tiny_on_140_faces(reference_config):
    """The real recipe cut to 140 training faces and the tests' tiny network: under test is what
    the command does with a run (states, float16, records, names), not what the network learns.
    That each reference records its real architecture is checked on the shipped runs
    (test_each_shipped_reference_run_is_finished_evaluated_and_loadable)."""
    return lambda *args, **kwargs: dataclasses.replace(reference_config(*args, **kwargs), limit=140,
                                                       model=TINY_MODEL)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Two references built on synthetic faces with the real command, one epoch each."""
    out = tmp_path_factory.mktemp("reference_runs")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(reference, "reference_config", tiny_on_140_faces(reference.reference_config))
        assert main(["reference", "build", "--data", "synthetic", "--epochs", "1", "--out", str(out),
                     "--only", ",".join(BUILT)]) == 0
    return out


@pytest.fixture
def shipped(built, tmp_path, monkeypatch):
    """`built` standing in for the package's reference folder."""
    folder = tmp_path / "reference_runs"
    shutil.copytree(built, folder)
    monkeypatch.setattr(settings, "reference_dir", lambda: folder)
    return folder


def test_the_build_command_makes_finished_float16_runs_with_their_records(built):
    for name in BUILT:
        info = runs.load_run(built / name)
        assert info.state == runs.FINISHED and info.damaged is None
        assert info.evaluation["weights"] == "float16"  # evaluated from the shipped file itself
        assert info.config["epochs"] == 1 and info.config["recipe"] == "reference"
        stored = keras.saving.load_model(runs.model_path(built / name), compile=False)
        assert stored.weights[0].dtype == "float16"
        assert runs.load_predictions(built / name) is not None  # the Mistakes page needs no recomputation
    assert runs.load_run(built / "seed_cnn-class_weight").name == "seed_cnn, class weights"
    assert runs.load_run(built / "cnn_3blocks-none").name == "Exp. 1 cnn_3blocks, unweighted"


def test_a_second_build_skips_finished_references_and_restarts_a_stopped_one(built, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(reference, "reference_config", tiny_on_140_faces(reference.reference_config))
    out = tmp_path / "out"
    shutil.copytree(built, out)
    stopped = out / "cnn_3blocks-none"
    runs.write_status(stopped, runs.STOPPED)
    before = (out / "seed_cnn-class_weight" / runs.MODEL).read_bytes()
    capsys.readouterr()
    assert main(["reference", "build", "--data", "synthetic", "--epochs", "1", "--out", str(out),
                 "--only", ",".join(BUILT)]) == 0
    printed = capsys.readouterr().out
    assert printed.count("finished before: skipped") == 1
    assert (out / "seed_cnn-class_weight" / runs.MODEL).read_bytes() == before
    assert runs.read_status(stopped)["state"] == runs.FINISHED


def test_an_unknown_reference_name_is_refused(capsys):
    assert main(["reference", "build", "--data", "synthetic", "--only", "vgg99-none", "--out", "x"]) == 2
    assert "unknown reference vgg99-none" in capsys.readouterr().err


def test_runs_json_lists_reference_runs_beside_the_users(shipped, capsys):
    assert main(["runs", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    listed = {row["run"]: row for row in rows if row["reference"]}
    assert set(listed) == {str(shipped / name) for name in BUILT}
    row = listed[str(shipped / "seed_cnn-class_weight")]
    assert row["model"] == TINY_MODEL and row["test_accuracy"] == runs.read_evaluation(shipped / "seed_cnn-class_weight")["accuracy"]


@pytest.mark.parametrize("action", [
    lambda run: runs.delete_run(run),
    lambda run: runs.rename_run(run, "mine now"),
    lambda run: runs.request_stop(run),
    lambda run: evaluate_run(run, "synthetic"),
])
def test_reference_runs_are_read_only(shipped, action):
    run = shipped / "seed_cnn-class_weight"
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    with pytest.raises(RunError, match="shipped reference run"):
        action(run)
    assert {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()} == before


def test_train_run_dir_refuses_a_reference_run(shipped, capsys):
    assert main(["train", "--run-dir", str(shipped / "cnn_3blocks-none")]) == 2
    assert "shipped reference run" in capsys.readouterr().err


def test_the_study_table_puts_the_reported_figures_beside_the_measured_ones(shipped):
    rows = {row["architecture"]: row for row in reference.study_rows(reference.reference_runs())}
    measured = runs.read_evaluation(shipped / "cnn_3blocks-none")["accuracy"]
    assert rows["cnn_3blocks"]["reported"] == 0.55 and rows["cnn_3blocks"]["measured"] == measured
    assert rows["seed_cnn"]["reported"] == 0.64 and rows["seed_cnn"]["measured"] is None  # not built here
    assert rows["vgg16"]["reported"] == 0.38 and rows["vgg16"]["measured"] is None  # transfer: reported only


def test_train_and_compare_shows_the_study_comparison_at_one_click(shipped):
    app = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app_pages" / "train.py"),
                            default_timeout=60).run()
    assert not app.exception
    assert any("Reference runs (shipped)" in s.value for s in app.subheader)
    app.toggle(key="train_show_study").set_value(True).run()
    assert not app.exception
    table = app.dataframe[0].value
    row = table[table["architecture"] == "cnn_3blocks"].iloc[0]
    measured = runs.read_evaluation(shipped / "cnn_3blocks-none")["accuracy"]
    assert row["reported by the study"] == "55%" and row["measured here"] == f"{measured:.0%}"
    assert row["epochs"] == "1" and table[table["architecture"] == "cnn_5blocks"].iloc[0]["epochs"] == "—"
    assert len(app.get("plotly_chart")) >= 3  # the bars, the Table-1 curves, the strategies' recall


def test_the_mistakes_page_offers_the_reference_runs(shipped):
    from app_pages._shared import model_choices

    labels = [label for label, ref, _ in model_choices() if ref == str(shipped / "cnn_3blocks-none")]
    assert labels and labels[0].startswith("Reference: Exp. 1 cnn_3blocks")


SHIPPED = [name for name in (r.name for r in reference.references())
           if (settings.reference_dir() / name / runs.CONFIG).is_file()]


def test_the_shipped_reference_runs_fit_in_40_mib():
    folder = settings.reference_dir()
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else 0
    assert size < 40 * 2**20


@pytest.mark.parametrize("name", SHIPPED)
def test_each_shipped_reference_run_is_finished_evaluated_and_loadable(name):
    from emotion_core.models.io import load_model

    run = settings.reference_dir() / name
    info = runs.load_run(run)
    assert info.state == runs.FINISHED and info.damaged is None and info.evaluation["n"] == 3589
    built_as = next(r for r in reference.references() if r.name == name)
    assert (info.config["model"], info.config["imbalance"]) == (built_as.model, built_as.imbalance)
    assert load_model(run).output.shape[-1] == 7


@pytest.mark.slow
@pytest.mark.parametrize("name", SHIPPED)
def test_each_shipped_reference_model_scores_on_publictest_what_its_record_claims(name):
    """The shipped float16 file itself, evaluated afresh on faces it never saw."""
    from conftest import FER2013_DIR

    from emotion_core.data import load_data
    from emotion_core.evaluation import evaluate
    from emotion_core.models.io import load_model

    if not FER2013_DIR.is_dir():
        pytest.skip("../shared/data/fer2013 is absent")
    run = settings.reference_dir() / name
    result, _ = evaluate(load_model(run), load_data(FER2013_DIR / "test", split="test"))
    assert result["n"] == 3589 and abs(result["accuracy"] - runs.read_evaluation(run)["accuracy"]) < 0.02


def test_reference_list_names_every_reference_and_its_state(shipped, capsys):
    assert main(["reference", "list"]) == 0  # the package's own folder (here: `shipped`)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(reference.references())
    assert any(line.startswith("cnn_3blocks-none") and "finished" in line for line in lines)
    assert any(line.startswith("cnn_block1x3-none") and "missing" in line for line in lines)
