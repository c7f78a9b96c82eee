"""The fault corpus, part 2 (issue 38): damaged files, odd data folders, memory, messages.

What a careless or hostile user leaves on disk: a votes CSV with 1.5 votes, a status.json
saying "train_seconds": "long", a named pipe called pipe.jpg, `happy/` beside `HAPPY/`, a
400 KB PNG that decodes to 374 MiB, a 1 MB .keras that unpacks to gigabytes. Each case ends
in a message naming the file and the problem, a warning, or a run marked damaged: never a
traceback, a hang, or a training that finishes with classes missing. Every file here is
written by the test itself and is tiny on disk.
"""

import json
import os
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import face_image
from emotion_core import runs
from emotion_core.cli import main, printable, to_json
from emotion_core.compare import per_class_table, runs_table
from emotion_core.config import TrainConfig
from emotion_core.data import Dataset, load_data
from emotion_core.data.crowd import load_votes
from emotion_core.errors import DataError, ImageError, ModelLoadError, RunError
from emotion_core.labels import EMOTIONS

ROOT = Path(__file__).resolve().parents[1]
VOTES_HEADER = "file,split,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF"
GOOD_VOTES = "a.jpg,PublicTest,8,0,0,2,0,0,0,0,0,0"


def run_cli(capsys, argv):
    """(exit code, stdout, stderr) of the CLI; argparse's own refusals count as exit code 2."""
    try:
        code = main([a if isinstance(a, str) else str(a) for a in argv])
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


def refused(capsys, argv, message, runs_dir=None):
    """The CLI refuses `argv` with `message` on stderr, without a traceback or a new run folder."""
    code, out, err = run_cli(capsys, argv)
    assert code != 0, (argv, out, err)
    assert message in err, (argv, err)
    assert "Traceback" not in err + out
    if runs_dir is not None:
        assert not [p for p in Path(runs_dir).glob("*") if p.is_dir()], f"{argv} left a run folder behind"
    return err


class Uniform:
    """A stand-in model: 1/7 for every emotion (predict_probabilities calls predict_on_batch)."""

    def predict_on_batch(self, batch):
        return np.full((len(batch), len(EMOTIONS)), 1 / len(EMOTIONS), np.float32)


def strict_json(text):
    """json.loads that refuses NaN and Infinity, as a strict parser (JavaScript's) does."""
    return json.loads(text, parse_constant=lambda word: pytest.fail(f"bare {word} in JSON output"))


# ---- 6. crowd votes ------------------------------------------------------------------------------

VOTES_CASES = {
    "1.5 votes": ("b.jpg,PublicTest,1.5,0,0,0,0,0,0,0,0,0", "line 3, column neutral: 1.5 is not a whole number of votes"),
    "1e20 votes": ("b.jpg,PublicTest,0,1e20,0,0,0,0,0,0,0,0", "line 3, column happiness: 1e+20 is not a whole number"),
    "negative votes": ("b.jpg,PublicTest,0,0,-1,0,0,0,0,0,0,0", "line 3, column surprise: -1 is not a whole number"),
    "votes as words": ("b.jpg,PublicTest,0,0,0,ten,0,0,0,0,0,0", "column sadness: ten is not a whole number"),
    "an empty count": ("b.jpg,PublicTest,0,0,0,0,,0,0,0,0,0", "column anger: an empty cell is not a whole number"),
    "infinite votes": ("b.jpg,PublicTest,0,0,0,0,0,inf,0,0,0,0", "column disgust: inf is not a whole number"),
    "no file name": (",PublicTest,1,0,0,0,0,0,0,0,0,0", "line 3: the file name is empty"),
}


@pytest.mark.parametrize("case", list(VOTES_CASES))
def test_a_damaged_votes_file_is_refused_naming_its_line_column_and_value(tmp_path, case):
    row, message = VOTES_CASES[case]
    path = tmp_path / "votes.csv"
    path.write_text("\n".join([VOTES_HEADER, GOOD_VOTES, row]) + "\n")
    with pytest.raises(DataError) as caught:
        load_votes(path)
    assert str(path) in str(caught.value) and message in str(caught.value), str(caught.value)


@pytest.mark.parametrize("content, message", [
    (b"", "cannot read crowd votes"),
    (b"\x00\xff\x10" * 40, "crowd votes"),
    ((VOTES_HEADER.rsplit(",", 1)[0] + "\n" + GOOD_VOTES.rsplit(",", 1)[0] + "\n").encode(), "lack column(s) NF"),
])
def test_a_votes_file_that_is_no_votes_table_is_refused(tmp_path, content, message):
    path = tmp_path / "votes.csv"
    path.write_bytes(content)
    with pytest.raises(DataError, match="crowd votes") as caught:
        load_votes(path)
    assert message in str(caught.value) and str(path) in str(caught.value)


def test_good_votes_still_load(tmp_path):
    path = tmp_path / "votes.csv"
    path.write_text("\n".join([VOTES_HEADER, GOOD_VOTES, "b.jpg,PublicTest,0,10,0,0,0,0,0,0,0,0"]) + "\n")
    votes = load_votes(path)  # ensure the refusals above are about the damage, not about votes in general
    assert votes["a.jpg"].tolist() == [8, 0, 0, 2, 0, 0, 0, 0, 0, 0] and votes["b.jpg"][1] == 10


def damage_votes(votes_file):
    votes_file.write_text("\n".join([VOTES_HEADER, "train_angry_0.png,train,1.5,0,0,0,0,0,0,0,0,0"]) + "\n")


@pytest.mark.parametrize("labels", ["crowd", "crowd-soft", "blend"])
def test_training_on_damaged_votes_is_refused_before_a_run_exists(capsys, tmp_path, voted_kaggle_root, labels):
    damage_votes(tmp_path / "votes.csv")
    runs_dir = tmp_path / "runs"
    refused(capsys, ["train", "--data", voted_kaggle_root, "--labels", labels, "--epochs", "1",
                     "--runs-dir", runs_dir], "crowd votes", runs_dir)


def test_a_run_on_damaged_votes_fails_while_loading_its_data_not_after_training(tmp_path, voted_kaggle_root):
    """The app's path: the run folder exists already (`train --run-dir`); no epoch may run."""
    from emotion_core.training.loop import train

    damage_votes(tmp_path / "votes.csv")
    config = TrainConfig(data=str(voted_kaggle_root), model="cnn_3blocks", labels="crowd", epochs=1)
    with pytest.raises(DataError, match="1.5 is not a whole number of votes"):
        train(config, root=tmp_path / "runs")
    (run_dir,) = [p for p in (tmp_path / "runs").iterdir() if p.is_dir()]
    assert runs.read_metrics(run_dir) == [] and not runs.has_model(run_dir)
    status = runs.read_status(run_dir)
    assert status["state"] == runs.FAILED and "crowd votes" in status["error"]


def test_an_evaluation_with_fer_labels_survives_damaged_votes_and_says_why_there_is_no_crowd(tmp_path, voted_kaggle_root):
    from emotion_core.evaluation import evaluate

    damage_votes(tmp_path / "votes.csv")
    result, probabilities = evaluate(Uniform(), load_data(voted_kaggle_root, split="test"))
    assert "crowd" not in result and "1.5 is not a whole number of votes" in result["crowd_error"]
    assert probabilities.shape == (21, 7) and result["n"] == 21


def test_the_mistakes_page_shows_no_votes_and_a_warning_when_the_votes_are_damaged(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    votes = tmp_path / "votes.csv"
    monkeypatch.setenv("EMOTION_VOTES_FILE", str(votes))
    monkeypatch.delenv("EMOTION_DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)  # no ./data/fer2013: the page starts on synthetic faces and the shipped model
    # first a sound votes file, read and cached by the page (as any earlier visitor would) ...
    votes.write_text("\n".join([VOTES_HEADER, "x.jpg,PublicTest,1,0,0,0,0,0,0,0,0,9"]) + "\n")
    app = AppTest.from_file(str(ROOT / "app_pages" / "mistakes.py"), default_timeout=180).run()
    assert not app.exception and not app.warning, [w.value for w in app.warning]
    # ... then the same file damaged: the page must read it again, not show the cached answer
    votes.write_text("\n".join([VOTES_HEADER, "x.jpg,PublicTest,1e20,0,0,0,0,0,0,0,0,0"]) + "\n")
    app = AppTest.from_file(str(ROOT / "app_pages" / "mistakes.py"), default_timeout=180).run()
    assert not app.exception, [e.message for e in app.exception]
    warnings = [w.value for w in app.warning]
    assert any("Shown without the crowd" in w and "1e+20 is not a whole number" in w for w in warnings), warnings
    assert any(h.value.startswith("True ") for h in app.subheader)  # the gallery is still there


# ---- 7 and 4b. damaged run folders ---------------------------------------------------------------

def finished_run(root, name="run"):
    """A finished, evaluated run whose every file is as the training writes it."""
    from emotion_core.evaluation import report

    record = dict(TrainConfig(data="synthetic", model="cnn_3blocks", epochs=2).to_dict(), recipe="custom",
                  versions={"python": "3.11"}, precision_used="float32")
    run_dir = runs.create_run(record, root=root, folder_name=name)
    for epoch in (1, 2):
        runs.append_metrics(run_dir, {"epoch": epoch, "loss": 1.0, "accuracy": 0.4, "val_loss": 1.1, "val_accuracy": 0.5})
    labels = np.arange(14) % 7
    probabilities = np.full((14, 7), 0.05, np.float32)
    probabilities[np.arange(14), (labels + np.arange(14) // 7) % 7] = 0.7  # half right
    result = dict(report(labels, probabilities.argmax(axis=1)), data="synthetic faces (test, 14)", tta=False)
    runs.save_evaluation(run_dir, result, names=[f"f{i}.png" for i in range(14)], labels=labels,
                         probabilities=probabilities)
    runs.write_status(run_dir, runs.FINISHED, epochs_done=2, train_seconds=120.0, n_train=10, n_val=4,
                      best_val_accuracy=0.5, test_accuracy=result["accuracy"])
    return run_dir


def _update(updates):
    return lambda record: record.update(updates)


def _only(replacement):
    return lambda record: (record.clear(), record.update(replacement))


def _drop_sad(record):
    del record["per_class"]["sad"]


RUN_DAMAGE = {
    "status train_seconds is text": ("status.json", _update({"train_seconds": "long"}), "train_seconds is 'long'"),
    "status epochs 1e308": ("status.json", _update({"epochs": 1e308}), "status.json: epochs is 1e+308"),
    "status accuracy 7": ("status.json", _update({"best_val_accuracy": 7}), "best_val_accuracy is 7"),
    "status averaged without its figures": ("status.json", _update({"average_kept": True}),
                                            "averaged_epochs, averaged_val_accuracy missing"),
    "config epochs 1e308": ("config.json", _update({"epochs": 1e308}), "config.json: epochs is 1e+308"),
    "config augment is text": ("config.json", _update({"augment": "x"}), "config.json: augment is 'x'"),
    "config model is a number": ("config.json", _update({"model": 5}), "config.json: model is 5"),
    "config started_from minutes text": ("config.json", _update({"started_from": {"file": "a", "reproduce": "",
                                                                                 "minutes": "x"}}), "started_from is"),
    "evaluation crowd is a list": ("evaluation.json", _update({"crowd": [1]}), "evaluation.json: crowd is [1]"),
    "evaluation crowd accuracy text": ("evaluation.json", _update({"crowd": {"accuracy": "x", "faces_with_votes": 3,
                                                                             "label_agreement": 0.5}}),
                                       "crowd: accuracy is 'x'"),
    "evaluation only an accuracy": ("evaluation.json", _only({"accuracy": 0.5}), "lacks per_class, n, macro_f1"),
    "evaluation accuracy 1e308": ("evaluation.json", _update({"accuracy": 1e308}), "accuracy is 1e+308"),
    "evaluation per_class lacks sad": ("evaluation.json", _drop_sad, "per_class is"),
    "evaluation n is text": ("evaluation.json", _update({"n": "many"}), "n is 'many'"),
    "evaluation matrix 1x1": ("evaluation.json", _update({"confusion_matrix": [[1]]}), "confusion_matrix is [[1]]"),
}


def damage_run(run_dir, case):
    name, change, _ = RUN_DAMAGE[case]
    record = json.loads((run_dir / name).read_text())
    change(record)
    (run_dir / name).write_text(json.dumps(record))


PREDICTION_DAMAGE = {
    "predictions full of NaN": (lambda s: s["probabilities"].fill(np.nan), "14 rows hold NaN"),
    "predictions are scores, not probabilities": (lambda s: s["probabilities"].__isub__(0.5), "not probabilities in [0, 1]"),
    "predictions rows do not sum to 1": (lambda s: s["probabilities"].__imul__(0.5), "rows that do not sum to 1"),
    "predictions label 9": (lambda s: s["true"].__setitem__(0, 9), "true labels are not whole numbers 0-6"),
    "predictions name missing": (lambda s: s.__setitem__("names", s["names"][:-1]), "names do not match"),
}


def damage_predictions(run_dir, case):
    change, _ = PREDICTION_DAMAGE[case]
    with np.load(run_dir / runs.PREDICTIONS) as data:
        saved = {key: data[key].copy() for key in data.files}
    change(saved)
    np.savez(run_dir / runs.PREDICTIONS, **saved)


def test_an_undamaged_run_reads_as_undamaged(tmp_path):
    """Ensure the damage below is what is detected: the same run without it is clean."""
    info = runs.load_run(finished_run(tmp_path))
    assert info.damaged is None and info.evaluation["n"] == 14 and info.evaluation["accuracy"] == 0.5
    assert runs.load_predictions(info.path) is not None and info.config["epochs"] == 2


@pytest.mark.parametrize("case", list(RUN_DAMAGE) + list(PREDICTION_DAMAGE))
def test_a_damaged_run_file_marks_the_run_damaged_and_breaks_no_table_or_ship(capsys, tmp_path, case):
    from emotion_core.plots import per_class_metrics
    from emotion_core.ship import ship

    root = tmp_path / "runs"
    run_dir = finished_run(root)
    if case in RUN_DAMAGE:
        damage_run(run_dir, case)
        message = RUN_DAMAGE[case][2]
    else:
        damage_predictions(run_dir, case)
        message = PREDICTION_DAMAGE[case][1]
    info = runs.load_run(run_dir)
    assert message in (info.damaged or ""), info.damaged
    table = runs_table(runs.list_runs(root))  # the Compare tab's table
    assert table.iloc[0]["path"] == str(run_dir)
    reports = {info.name: info.evaluation} if info.evaluation else {}
    per_class_table(reports), per_class_metrics(reports)  # the Compare tab's table and bars
    runs.progress(info.status)  # the Train tab's progress bar
    with pytest.raises(RunError, match="damaged"):
        ship(run_dir, assets=tmp_path / "assets")
    assert not list((tmp_path / "assets").glob("*.keras"))
    code, out, err = run_cli(capsys, ["runs", "--runs-dir", root, "--json"])
    (row,) = [row for row in strict_json(out) if row["run"] == str(run_dir)]  # shipped reference runs are listed too
    assert code == 0 and message in row["damaged"], err


def test_wrongly_typed_fields_are_left_out_where_they_are_read(tmp_path):
    run_dir = finished_run(tmp_path)
    damage_run(run_dir, "status train_seconds is text")
    damage_run(run_dir, "config epochs 1e308")
    damage_run(run_dir, "evaluation crowd is a list")
    info = runs.load_run(run_dir)
    assert "train_seconds" not in runs.read_status(run_dir) and "epochs" not in runs.read_config(run_dir)
    assert "crowd" not in info.evaluation and info.evaluation["accuracy"] == 0.5  # the rest is still shown
    row = runs_table([info]).iloc[0]
    assert row["training time (min)"] is None and row["crowd accuracy"] is None and row["test accuracy"] == 0.5


def test_an_evaluation_is_shown_as_far_as_it_goes(tmp_path):
    """An accuracy alone is shown (the run is marked damaged); no usable accuracy, no evaluation."""
    from emotion_core.plots import per_class_metrics

    partial, broken = finished_run(tmp_path, "partial"), finished_run(tmp_path, "broken")
    damage_run(partial, "evaluation only an accuracy")
    damage_run(broken, "evaluation accuracy 1e308")
    assert runs.read_evaluation(partial) == {"accuracy": 0.5} and runs.load_run(partial).damaged
    assert runs.read_evaluation(broken) is None and runs.load_run(broken).evaluation is None
    reports = {"partial": runs.read_evaluation(partial), "whole": runs.read_evaluation(finished_run(tmp_path, "whole"))}
    assert [bar.name for bar in per_class_metrics(reports).data] == ["whole"]  # Compare's bars skip the partial one
    assert list(per_class_table(reports).columns.get_level_values(0).unique()) == ["whole"]


@pytest.mark.parametrize("case", list(PREDICTION_DAMAGE))
def test_saved_predictions_that_cannot_be_trusted_are_predicted_again(tmp_path, case):
    """The Mistakes page showed 13.9% from NaN predictions instead of the run's 59.4%."""
    from emotion_core.mistakes import predictions_for

    run_dir = finished_run(tmp_path)
    damage_predictions(run_dir, case)
    with np.load(run_dir / runs.PREDICTIONS) as data:
        names = [str(n) for n in data["names"]]
    faces = Dataset(np.zeros((len(names), 48, 48), np.uint8), np.arange(len(names)) % 7, "tiny", names)
    assert runs.load_predictions(run_dir) is None
    _, probabilities = predictions_for(run_dir, "tiny", dataset=faces, load_model=lambda ref: Uniform())
    np.testing.assert_allclose(probabilities, 1 / 7, rtol=1e-6)


def test_a_cached_prediction_file_full_of_nan_is_predicted_again(tmp_path):
    from emotion_core import mistakes

    model_file = tmp_path / "m.keras"
    model_file.write_bytes(b"stands in for a model: only its name, size and time key the cache")
    faces = Dataset(np.zeros((5, 48, 48), np.uint8), np.arange(5), "tiny", [f"f{i}.png" for i in range(5)])
    cached = mistakes._predictions_file(model_file, faces)
    cached.parent.mkdir(parents=True)
    np.save(cached, np.full((5, 7), np.nan, np.float32))
    _, probabilities = mistakes.predictions_for(model_file, "tiny", dataset=faces, load_model=lambda ref: Uniform())
    np.testing.assert_allclose(probabilities, 1 / 7, rtol=1e-6)


def test_the_train_page_survives_runs_with_every_new_kind_of_damage(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    root = tmp_path / "runs"
    for number, case in enumerate(RUN_DAMAGE):
        damage_run(finished_run(root, f"run-{number:02d}"), case)
    for number, case in enumerate(PREDICTION_DAMAGE):
        damage_predictions(finished_run(root, f"pred-{number:02d}"), case)
    monkeypatch.setenv("EMOTION_RUNS_DIR", str(root))
    app = AppTest.from_file(str(ROOT / "app_pages" / "train.py"), default_timeout=120).run()
    assert not app.exception, [e.message for e in app.exception]
    assert len(runs.list_runs(root)) == len(RUN_DAMAGE) + len(PREDICTION_DAMAGE)


# ---- 12. train --run-dir validates its config.json -------------------------------------------------

RUN_DIR_CONFIGS = {
    "epochs 1e9": ({"epochs": 1e9}, "epochs must be a whole number from 1 to 1,000, not 1000000000.0"),
    "epochs 1e308": ({"epochs": 1e308}, "epochs must be a whole number from 1 to 1,000"),
    "augment x": ({"augment": "x"}, "augment must be a JSON object of augmentation settings, not 'x'"),
    "batch -5": ({"batch_size": -5}, "batch_size must be a whole number from 1 to 4,096, not -5"),
    "learning rate text": ({"learning_rate": "0.1"}, "learning_rate must be a finite number in (0, 1], not '0.1'"),
    "rotation 1e6": ({"augment": {"rotation_deg": 1e6}}, "rotation must be a finite number in [0, 180], not 1000000.0"),
    "model is a number": ({"model": 5}, "model must be text, not 5"),
    "model unknown": ({"model": "nope"}, "unknown model 'nope'"),
    "reduce_lr text": ({"reduce_lr": "no"}, "reduce_lr must be true or false, not 'no'"),
    "data is a list": ({"data": ["a"]}, "data must be text, not ['a']"),
}


@pytest.mark.parametrize("case", list(RUN_DIR_CONFIGS))
def test_train_run_dir_refuses_a_config_a_new_run_would_refuse(capsys, tmp_path, case):
    changes, message = RUN_DIR_CONFIGS[case]
    run_dir = runs.create_run(TrainConfig(data="synthetic", model="cnn_3blocks", epochs=1).to_dict(),
                              root=tmp_path / "runs")
    record = json.loads((run_dir / runs.CONFIG).read_text())
    record.update(changes)
    (run_dir / runs.CONFIG).write_text(json.dumps(record))
    err = refused(capsys, ["train", "--run-dir", run_dir], message)
    assert f"{run_dir / runs.CONFIG}: " in err  # the message names the file
    assert runs.read_metrics(run_dir) == [] and not runs.has_model(run_dir)  # nothing trained


# ---- 10. data folders --------------------------------------------------------------------------

def class_tree(root, per_class=2, names=EMOTIONS):
    """`root/<emotion>/<i>.png` for every emotion: a complete tiny tree to damage."""
    for label, name in enumerate(names):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            cv2.imwrite(str(root / name / f"{i}.png"), face_image(label, i))
    return root


def _fifo(root):
    os.mkfifo(root / "happy" / "pipe.jpg")


def _dangling(root):
    (root / "happy" / "gone.png").symlink_to(root / "nowhere.png")


def _loop(root):
    (root / "sad" / "a.png").symlink_to(root / "sad" / "b.png")
    (root / "sad" / "b.png").symlink_to(root / "sad" / "a.png")


def _undecodable(root):
    name = os.fsencode(root / "fear") + b"/caf\xe9.png"  # Latin-1, not UTF-8
    with open(name, "wb") as file:
        file.write((root / "fear" / "0.png").read_bytes())


def _case_duplicates(root):
    for name in ("Happy", "HAPPY"):
        (root / name).mkdir()
        (root / name / "x.png").write_bytes((root / "happy" / "0.png").read_bytes())


def _rename(old, new):
    return lambda root: (root / old).rename(root / new)


def _nested_only(root):
    (root / "disgust" / "sub").mkdir()
    for path in (root / "disgust").glob("*.png"):
        path.rename(root / "disgust" / "sub" / path.name)


def _emotion_link_gone(root):
    for path in (root / "surprise").iterdir():
        path.unlink()
    (root / "surprise").rmdir()
    (root / "surprise").symlink_to(root / "moved_away")


FOLDER_REFUSALS = {
    "FIFO named pipe.jpg": (_fifo, "happy/pipe.jpg is a named pipe (FIFO), not a file"),
    "dangling symlink": (_dangling, "happy/gone.png is a symbolic link that leads nowhere"),
    "symlink loop": (_loop, "sad/a.png is a symbolic link in a loop"),
    "undecodable file name": (_undecodable, "fear/caf\\xe9.png has a name that is not valid UTF-8"),
    "happy/ Happy/ HAPPY/": (_case_duplicates, "the folders HAPPY/, Happy/, happy/ all mean 'happy'"),
    "folder 'happy '": (_rename("happy", "happy "), "no faces for happy, while images were ignored in: 'happy '/ (2 images) (name it 'happy')"),
    "folder 'sadness'": (_rename("sad", "sadness"), "no faces for sad, while images were ignored in: 'sadness'/ (2 images) (name it 'sad')"),
    "faces only in disgust/sub/": (_nested_only, "no faces for disgust, while images were ignored in: disgust/sub/ (2 images)"),
    "emotion folder is a dangling link": (_emotion_link_gone, "surprise is a symbolic link that leads nowhere"),
}


@pytest.mark.parametrize("case", list(FOLDER_REFUSALS))
def test_a_data_folder_with_what_cannot_be_read_or_would_lose_a_class_is_refused_by_name(capsys, tmp_path, case):
    make, message = FOLDER_REFUSALS[case]
    root = class_tree(tmp_path / "data")
    make(root)
    runs_dir = tmp_path / "runs"
    refused(capsys, ["train", "--data", root, "--epochs", "1", "--runs-dir", runs_dir], message, runs_dir)


@pytest.mark.parametrize("case", ["FIFO named pipe.jpg", "dangling symlink", "symlink loop"])
def test_evaluate_and_the_data_loader_refuse_the_same_folders(capsys, tmp_path, case):
    make, message = FOLDER_REFUSALS[case]
    root = class_tree(tmp_path / "data")
    make(root)
    with pytest.raises(DataError, match="cannot read 1 file|cannot read 2 files"):
        load_data(root)
    refused(capsys, ["evaluate", "--model", "default", "--data", root], message)


def test_predict_refuses_a_fifo_by_name_instead_of_waiting_for_a_writer(capsys, tmp_path):
    pipe = tmp_path / "pipe.jpg"
    os.mkfifo(pipe)
    refused(capsys, ["predict", pipe], f"error: {pipe}: is a named pipe (FIFO), not a file")


def test_a_nested_folder_beside_a_complete_class_is_a_warning(capsys, tmp_path):
    root = class_tree(tmp_path / "data")
    (root / "happy" / "more").mkdir()
    (root / "happy" / "more" / "x.png").write_bytes((root / "happy" / "0.png").read_bytes())
    data = load_data(root)
    assert data.class_counts().tolist() == [2] * 7
    assert data.warnings == ["ignored happy/more/ (1 image): faces are read only directly inside a class folder"]


def test_an_extra_folder_is_a_warning_on_every_load_and_on_the_command_line(capsys, tmp_path):
    root = class_tree(tmp_path / "data", names=(*EMOTIONS, "contempt"))
    first, second = load_data(root), load_data(root)  # the second comes from the cache
    expected = "ignored 'contempt'/ (2 images) (not one of angry, disgust, fear, happy, neutral, sad, surprise)"
    assert first.warnings == second.warnings == [expected] and len(second) == 14
    code, out, err = run_cli(capsys, ["evaluate", "--model", "default", "--data", root, "--json"])
    assert code == 0 and f"warning: {expected}" in err and strict_json(out)["n"] == 14


def test_a_genuinely_missing_class_is_a_warning_not_a_refusal(tmp_path):
    root = class_tree(tmp_path / "data", names=EMOTIONS[:5])
    data = load_data(root)
    assert len(data) == 10 and data.warnings == [
        f"no faces for sad, surprise in {root}: a model trained on this data cannot learn them"]


@pytest.mark.parametrize("path", ["a\x00b", os.fsdecode(b"/tmp/\xff\xfe"), "loop", "gone"])
def test_the_home_path_box_answers_no_for_paths_that_are_no_folder(tmp_path, path):
    from emotion_core.data.discovery import find_sources, looks_like_fer2013

    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    (tmp_path / "gone").symlink_to(tmp_path / "nowhere")
    path = str(tmp_path / path) if path in ("loop", "gone") else path
    assert looks_like_fer2013(path) is False
    assert find_sources(path)[-1] == ("Synthetic faces (built in)", "synthetic")


# ---- 11. memory: images and model archives ---------------------------------------------------------

def png_header(width, height, *, depth, colour):
    """A PNG that only claims its size and depth (IHDR; an empty IDAT)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"") + chunk(b"IEND", b"")


def write_blank_png(path, width, height, *, depth, colour):
    """A real, fully transparent PNG, compressed row by row (small on disk, never whole in memory)."""
    samples = {0: 1, 2: 3, 4: 2, 6: 4}[colour] * depth // 8
    header = png_header(width, height, depth=depth, colour=colour)
    compressor, row = zlib.compressobj(9), bytes(1 + width * samples)  # filter byte 0, then zeros
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    idat = struct.pack(">I", len(data)) + b"IDAT" + data + struct.pack(">I", zlib.crc32(b"IDAT" + data))
    path.write_bytes(header[:33] + idat + header[-12:])
    return path


def test_a_16_bit_rgba_7000_square_png_is_refused_from_its_header(tmp_path):
    from emotion_core.photos.decode import decode_image

    with pytest.raises(ImageError, match=r"too large to decode: 7000 x 7000 pixels \(16-bit, 4 channels\) take 374 MiB"):
        decode_image(png_header(7000, 7000, depth=16, colour=6), name="deep.png")


def peak_growth_mib(tmp_path, path):
    """(what read_image_file said, growth of peak RSS in MiB) in a fresh process."""
    script = ("import resource, sys\n"
              "from emotion_core.photos.decode import read_image_file\n"
              "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
              "try:\n    said = 'ok %s' % (read_image_file(sys.argv[1]).shape,)\n"
              "except Exception as error:\n    said = repr(error)\n"
              "print(said, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)\n")
    out = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, check=True,
                         cwd=ROOT).stdout.strip()
    said, growth = out.rsplit(" ", 1)
    return said, int(growth)


def test_a_real_16_bit_rgba_7000_square_png_costs_no_memory_to_refuse(tmp_path):
    """It cost 2.6 GiB of peak memory to decode before; refused from its header it costs none."""
    path = write_blank_png(tmp_path / "deep.png", 7000, 7000, depth=16, colour=6)
    assert path.stat().st_size < 1_000_000
    said, growth = peak_growth_mib(tmp_path, path)
    assert "too large to decode" in said and growth < 64, (said, growth)


def test_an_8_bit_rgba_7000_square_png_decodes_without_full_size_float_copies(tmp_path):
    """2.25 GiB of peak memory before (float32 alpha and white images); 187 MiB of pixels
    decoded plus 140 MiB of result now."""
    said, growth = peak_growth_mib(tmp_path, write_blank_png(tmp_path / "wide.png", 7000, 7000, depth=8, colour=6))
    assert said == "ok (7000, 7000, 3)" and growth < 700, (said, growth)


def test_compositing_in_blocks_matches_the_whole_image_formula(tmp_path):
    from emotion_core.photos.decode import decode_image

    rng = np.random.default_rng(0)
    bgra = rng.integers(0, 256, size=(1600, 700, 4), dtype=np.uint8)  # 1600 rows: two blocks of rows
    image = decode_image(cv2.imencode(".png", bgra)[1].tobytes(), name="bgra.png")
    alpha = bgra[..., 3:4].astype(np.float32) / 255.0
    expected = np.round(bgra[..., :3] * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)
    np.testing.assert_array_equal(image, expected)


@pytest.fixture(scope="module")
def small_models(tmp_path_factory):
    """A good 7-emotion model and one whose config is padded to 32 MiB."""
    import keras

    root = tmp_path_factory.mktemp("archives")
    inputs = keras.Input((48, 48, 1))
    flat = keras.layers.Flatten()(inputs)
    keras.Model(inputs, keras.layers.Dense(7, activation="softmax")(flat)).save(root / "good.keras")
    with zipfile.ZipFile(root / "good.keras") as source, \
            zipfile.ZipFile(root / "padded.keras", "w", zipfile.ZIP_DEFLATED) as padded:
        for member in source.infolist():
            content = source.read(member.filename)
            if member.filename == "config.json":  # valid JSON: 32 MiB of spaces after the opening brace
                content = content[:1] + b" " * (32 * 2**20) + content[1:]
            padded.writestr(member.filename, content)
    return root


def test_a_padded_archive_is_refused_from_its_zip_directory_before_keras_reads_it(small_models, monkeypatch):
    import keras

    from emotion_core.models.io import load_model

    assert (small_models / "padded.keras").stat().st_size < 2**20
    monkeypatch.setattr(keras.saving, "load_model", lambda *a, **k: pytest.fail("Keras was asked to load it"))
    with pytest.raises(ModelLoadError, match="its config.json would unpack to 32 MiB .*refused before loading"):
        load_model(small_models / "padded.keras")


def test_the_good_archive_still_loads(small_models):
    from emotion_core.models.io import load_model

    assert load_model(small_models / "good.keras").output_shape == (None, 7)  # ensure the refusals are meaningful


# the damaged and foreign model files of item 16 are cases of test_bad_input.py::MODEL_CASES


# ---- 16. messages ------------------------------------------------------------------------------

def test_json_output_has_null_where_a_number_is_not_finite():
    text = to_json({"a": float("nan"), "b": [np.float32("inf"), 1.5], "c": np.int64(3)})
    assert strict_json(text) == {"a": None, "b": [None, 1.5], "c": 3}


def test_evaluate_json_never_prints_a_bare_nan(capsys, monkeypatch):
    from emotion_core import evaluation

    real = evaluation.evaluate

    def with_nan(*args, **kwargs):
        result, probabilities = real(*args, **kwargs)
        return dict(result, macro_f1=float("nan")), probabilities

    monkeypatch.setattr(evaluation, "evaluate", with_nan)
    code, out, err = run_cli(capsys, ["evaluate", "--model", "default", "--data", "synthetic", "--json"])
    assert code == 0 and strict_json(out)["macro_f1"] is None and "NaN" not in out


@pytest.mark.parametrize("name, shown", [
    ("clear\x1b[2Jscreen.png", "clear\\x1b[2Jscreen.png"),
    ("two\nlines.png", "two\\nlines.png"),
    ("back\u202etxt.png", "back\\u202etxt.png"),  # right-to-left override: would show as back"gnp.txt"
])
def test_control_characters_in_file_names_are_escaped_in_messages(capsys, tmp_path, small_models, name, shown):
    path = tmp_path / name
    path.write_bytes(b"not an image")
    err = refused(capsys, ["predict", path, "--model", small_models / "good.keras"], f"{tmp_path}/{shown}: not a JPEG")
    assert name not in err and [line for line in err.splitlines() if shown in line][0].startswith("error: ")


def test_an_undecodable_file_name_is_printed_escaped_not_crashing_the_output(capsys, tmp_path, small_models):
    path = os.fsdecode(os.fsencode(tmp_path) + b"/caf\xe9.png")
    Path(path).write_bytes(b"not an image")
    refused(capsys, ["predict", path, "--model", small_models / "good.keras"], f"{tmp_path}/caf\\xe9.png: not a JPEG")


def test_a_data_error_naming_a_file_with_an_escape_sequence_is_escaped(capsys, tmp_path):
    root = class_tree(tmp_path / "data")
    os.mkfifo(root / "happy" / "p\x1b[31m.jpg")
    err = refused(capsys, ["train", "--data", root, "--runs-dir", tmp_path / "runs"],
                  "happy/p\\x1b[31m.jpg is a named pipe (FIFO), not a file", tmp_path / "runs")
    assert "\x1b" not in err


def test_printable_leaves_ordinary_text_alone():
    assert printable("data/train/happy/Überraschung 1.png") == "data/train/happy/Überraschung 1.png"
