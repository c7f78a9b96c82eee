"""The label audit (emotion_core.audit), `train --exclude`, the face map and its figure.

Tiny data made here or in conftest.py; every model is a few-second one. The crowd's numbers
are checked against counts worked out by hand from the `voted_kaggle_root` fixture.
"""

import dataclasses
import json

import keras
import numpy as np
import pytest

from emotion_core import runs
from emotion_core.audit import (audit, audit_with_folds, audit_with_model, crowd_check, filter_issues, find_issues,
                                headline, issues_table, model_outputs, project)
from emotion_core.audit.facemap import face_map, map_groups
from emotion_core.cli import main
from emotion_core.config import NO_AUGMENTATION, PRESETS, TrainConfig
from emotion_core.data import load_data
from emotion_core.data.crowd import votes_for
from emotion_core.data.exclude import drop_excluded, write_names
from emotion_core.errors import AuditError, DataError
from emotion_core.evaluation import predict_probabilities
from emotion_core.labels import EMOTIONS
from emotion_core.models import build_model
from emotion_core.models.io import load_model, save_model_atomic
from emotion_core.plots import face_map_figure, face_map_selection
from tests.conftest import TINY_MODEL, face_image

NEUTRAL, SAD = EMOTIONS.index("neutral"), EMOTIONS.index("sad")


def confident(labels, *, said=None, p=0.88):
    """Probabilities (n, 7) that give each face's `said` class (default: its label) probability p."""
    said = np.asarray(labels if said is None else said)
    probabilities = np.full((len(said), 7), (1 - p) / 6)
    probabilities[np.arange(len(said)), said] = p
    return probabilities


def make_run(root, name, model, **config):
    """A run folder holding `model` and a config.json with the given fields (no training)."""
    run_dir = runs.create_run(dict(TrainConfig().to_dict(), **config), root=root, folder_name=name)
    save_model_atomic(model, runs.model_path(run_dir))
    runs.write_status(run_dir, runs.FINISHED)
    return run_dir


@pytest.fixture(scope="module")
def small_model():
    """An untrained 48x48 7-emotion model (its predictions are arbitrary, but out of sample anywhere)."""
    keras.utils.set_random_seed(0)
    return build_model("cnn_3blocks")


# ---- finding issues ----

def test_confidently_contradicted_labels_are_flagged_and_ranked_by_the_labels_probability():
    labels = np.repeat(np.arange(7), 3)
    said = labels.copy()
    said[[4, 10]] = [5, 0]  # faces 4 and 10: the model is sure of another class
    probabilities = confident(labels, said=said)
    probabilities[10, labels[10]] -= 0.01  # face 10's own label is a little less likely than face 4's
    probabilities[10, 6] += 0.01
    issues, scores = find_issues(labels, probabilities)
    assert set(issues) == {4, 10}
    # independent reference: the score is the probability of the given label, and lower ranks first
    reference = probabilities[np.arange(len(labels)), labels]
    np.testing.assert_allclose(scores, reference, rtol=1e-5)
    assert list(issues) == sorted([4, 10], key=lambda i: reference[i])


def test_an_audit_needs_a_row_of_seven_probabilities_per_label():
    with pytest.raises(AuditError, match="7 probabilities"):
        find_issues([0, 1, 2], np.full((3, 5), 0.2))


def test_filter_keeps_sad_faces_flagged_as_neutral_in_rank_order():
    labels = np.array([SAD, SAD, NEUTRAL, SAD, 0, 0, 1, 1, 2, 2, 3, 3, 5, 5, 6, 6, NEUTRAL, NEUTRAL, 4, 4, 4])
    said = labels.copy()
    said[[0, 3]] = NEUTRAL  # two sad faces the model calls neutral
    said[2] = SAD  # and a neutral one it calls sad
    result = audit([f"f{i}" for i in range(len(labels))], labels, confident(labels, said=said))
    assert set(result.issues) == {0, 2, 3}
    chosen = filter_issues(result, given=SAD, suggested=NEUTRAL)
    assert set(chosen) == {0, 3}
    assert list(chosen) == [i for i in result.issues if i in (0, 3)]  # the audit's ranking is kept
    table = issues_table(result, chosen)
    assert list(table["file"]) == [f"f{i}" for i in chosen]
    assert set(table["label"]) == {"sad"} and set(table["suggested"]) == {"neutral"}


# ---- the check against the crowd ----

def test_crowd_check_counts_by_hand(voted_kaggle_root):
    """Per class, the crowd agrees with the label on face 0, says neutral on face 1 and
    not-a-face on face 2 (no emotion majority). So of 14 faces with a majority, 6 disagree
    (face 1 of the 6 classes that are not neutral): base rate 6/14."""
    dataset = load_data(voted_kaggle_root, split="test")
    crowd = votes_for(dataset.names)
    face = np.array([int(name.rsplit("_", 1)[1].split(".")[0]) for name in dataset.names])
    flagged = face == 1  # flag every face 1: 6 disagree (neutral's own face 1 agrees)
    result = crowd_check(dataset.labels, flagged, crowd, suggested=np.full(len(face), NEUTRAL))
    assert (result["faces_with_votes"], result["disagree"]) == (14, 6)
    assert result["base_rate"] == pytest.approx(6 / 14)
    assert (result["flagged"], result["flagged_with_votes"], result["flagged_disagree"]) == (7, 7, 6)
    assert result["flagged_rate"] == pytest.approx(6 / 7)
    assert result["flagged_sides_with_suggestion"] == 7
    assert "86% of the flagged faces" in headline(result) and "43% of all faces" in headline(result)


def test_audit_of_faces_the_crowd_relabels_finds_them(voted_kaggle_root):
    """A model that says neutral wherever the crowd does: the audit flags exactly the 6
    faces whose label the crowd rejects, and the crowd disagrees on all of them."""
    dataset = load_data(voted_kaggle_root, split="test")
    face = np.array([int(name.rsplit("_", 1)[1].split(".")[0]) for name in dataset.names])
    said = np.where(face == 1, NEUTRAL, dataset.labels)
    result = audit(dataset.names, dataset.labels, confident(dataset.labels, said=said),
                   crowd=votes_for(dataset.names))
    assert set(result.issues) == set(np.flatnonzero((face == 1) & (dataset.labels != NEUTRAL)))
    assert (result.crowd["flagged_disagree"], result.crowd["flagged_rate"]) == (6, 1.0)


# ---- auditing with a model, and refusing one that saw the faces ----

def test_cli_audit_json_with_a_model_trained_elsewhere(voted_kaggle_root, small_model, tmp_path, capsys):
    run = make_run(tmp_path / "runs", "elsewhere", small_model, data="synthetic")
    assert main(["audit", "--data", str(voted_kaggle_root / "test"), "--model", str(run), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n"] == 21 and out["flagged"] == len(out["issues"])
    assert (out["crowd"]["faces_with_votes"], out["crowd"]["disagree"]) == (14, 6)  # see the test above
    for issue in out["issues"]:
        assert set(issue) == {"file", "label", "suggested", "score"}
        assert issue["file"].split("/")[0] == issue["label"]  # Kaggle folders name the label
    scores = [issue["score"] for issue in out["issues"]]
    assert scores == sorted(scores)  # most doubtful first
    # the same probabilities, recomputed independently, give the same issues
    dataset = load_data(voted_kaggle_root, split="test")
    issues, _ = find_issues(dataset.labels, predict_probabilities(small_model, dataset.images))
    assert [i["file"] for i in out["issues"]] == [dataset.names[i] for i in issues]


def test_a_model_that_trained_on_the_faces_is_refused(voted_kaggle_root, small_model, tmp_path):
    run = make_run(tmp_path / "runs", "inside", small_model, data=str(voted_kaggle_root))
    for source, split in ((voted_kaggle_root, "train"), (voted_kaggle_root / "train", "train")):
        with pytest.raises(AuditError, match="trained on the faces it would audit"):
            audit_with_model(source, run, split=split)
    assert len(audit_with_model(voted_kaggle_root, run, split="test").labels) == 21  # test faces: out of sample


def test_a_run_started_from_such_a_model_is_refused_too(voted_kaggle_root, small_model, tmp_path):
    inside = make_run(tmp_path / "runs", "inside", small_model, data=str(voted_kaggle_root))
    child = make_run(tmp_path / "runs", "child", small_model, data="synthetic", init_from=str(inside))
    with pytest.raises(AuditError, match="through inside"):
        audit_with_model(voted_kaggle_root, child, split="train")


def test_the_shipped_model_is_refused_on_fer2013_training_files(tmp_path, small_model, monkeypatch):
    folder = tmp_path / "fer_train"
    for label, name in enumerate(EMOTIONS):
        (folder / name).mkdir(parents=True)
        import cv2

        cv2.imwrite(str(folder / name / f"Training_{label}.png"), face_image(label, 0))
    small_model.save(tmp_path / "shipped.keras")
    monkeypatch.setenv("EMOTION_DEFAULT_MODEL", str(tmp_path / "shipped.keras"))
    with pytest.raises(AuditError, match="Training_"):
        audit_with_model(folder, "default")


def test_cli_refuses_a_model_of_another_face_size(voted_kaggle_root, tmp_path, capsys):
    inputs = keras.Input((64, 64, 1))
    outputs = keras.layers.Dense(7, activation="softmax")(keras.layers.Flatten()(inputs))
    keras.Model(inputs, outputs).save(tmp_path / "big.keras")
    assert main(["audit", "--data", str(voted_kaggle_root / "test"), "--model", str(tmp_path / "big.keras")]) == 2
    err = capsys.readouterr().err
    assert "(64, 64, 1)" in err and "expected (48, 48, 1)" in err and "Traceback" not in err


def test_cli_refuses_an_empty_folder(tmp_path, small_model, capsys):
    run = make_run(tmp_path / "runs", "elsewhere", small_model, data="synthetic")
    (tmp_path / "empty").mkdir()
    assert main(["audit", "--data", str(tmp_path / "empty"), "--model", str(run)]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("error: ") and "empty" in err and "Kaggle-layout" in err


# ---- train --exclude ----

def test_excluded_faces_are_in_neither_training_nor_validation(kaggle_root, tmp_path):
    csv = write_names(tmp_path / "out.csv", ["sad/train_0.png", "happy/train_1.png"])
    config = TrainConfig(data=str(kaggle_root), exclude=str(csv), validation_fraction=0.4, imbalance="none",
                         augment=NO_AUGMENTATION)
    from emotion_core.training.loop import prepare_data

    (x_train, _), (x_val, _), _ = prepare_data(config)
    seen = np.concatenate([x_train, x_val])
    assert len(seen) == 21 - 2
    present = lambda image: any(np.array_equal(image, face) for face in seen)  # noqa: E731
    assert not present(face_image(SAD, 0)) and not present(face_image(EMOTIONS.index("happy"), 1))
    assert present(face_image(SAD, 1)) and present(face_image(EMOTIONS.index("happy"), 0))


def test_bare_file_names_match_in_every_class_folder(kaggle_root, tmp_path):
    dataset = load_data(kaggle_root, split="train")
    kept = drop_excluded(dataset, write_names(tmp_path / "out.csv", ["train_0.png"]))
    assert len(kept) == len(dataset) - 7
    assert not any(name.endswith("/train_0.png") for name in kept.names)


def test_cli_train_refuses_an_exclude_file_of_unknown_names(kaggle_root, tmp_path, capsys):
    listed = ["Training_1.jpg", "Training_2.jpg", "x/Training_3.jpg", "Training_4.jpg"]  # another dataset's names
    csv = write_names(tmp_path / "other.csv", listed)
    code = main(["train", "--data", str(kaggle_root), "--exclude", str(csv), "--epochs", "1", "--runs-dir",
                 str(tmp_path / "runs")])
    err = capsys.readouterr().err
    assert code == 2
    assert "none of the 4 face name(s)" in err and "'Training_1.jpg'" in err and "1 more" in err
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())  # refused before a run folder


def test_an_exclude_file_that_leaves_nothing_is_refused(kaggle_root, tmp_path):
    dataset = load_data(kaggle_root, split="train")
    with pytest.raises(DataError, match="leaves out every face"):
        drop_excluded(dataset, write_names(tmp_path / "all.csv", dataset.names))


# ---- out-of-fold probabilities ----

TINY = TrainConfig(model=TINY_MODEL, epochs=1, imbalance="none", augment=NO_AUGMENTATION, batch_size=32,
                   validation_fraction=0.34)


def test_two_folds_give_each_face_the_probabilities_of_the_model_that_never_saw_it(voted_kaggle_root, tmp_path,
                                                                                    monkeypatch, capsys):
    root = tmp_path / "runs"
    monkeypatch.setitem(PRESETS, "demo", TINY)  # the CLI's presets, made tiny
    assert main(["audit", "--data", str(voted_kaggle_root), "--folds", "2", "--preset", "demo", "--runs-dir",
                 str(root), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)  # the folds' epoch lines went to stderr
    assert (out["n"], out["folds"], len(out["runs"])) == (42, 2, 2)
    # a second audit reuses the finished folds: training again would fail here
    monkeypatch.setattr("emotion_core.training.loop.train", _no_training)
    result = audit_with_folds(voted_kaggle_root, 2, preset="demo", root=root)
    assert [issue["file"] for issue in out["issues"]] == [result.names[i] for i in result.issues]
    dataset = load_data(voted_kaggle_root, split="train")
    fold_runs = [runs.load_run(r) for r in result.source["runs"]]
    assert [info.state for info in fold_runs] == [runs.FINISHED] * 2
    held_out = [set(drop_excluded_names(info)) for info in fold_runs]
    assert held_out[0].isdisjoint(held_out[1]) and held_out[0] | held_out[1] == set(dataset.names)
    from emotion_core.training.loop import prepare_data

    for info, names in zip(fold_runs, held_out):
        # the fold's model never saw its held-out faces, in training or validation
        (x_train, _), (x_val, _), _ = prepare_data(TrainConfig.from_dict(info.config))
        seen = {face.tobytes() for face in np.concatenate([x_train, x_val])}
        held = [i for i, n in enumerate(dataset.names) if n in names]
        assert not seen & {dataset.images[i].tobytes() for i in held}
        # and those faces' probabilities are that model's, recomputed independently
        expected = predict_probabilities(load_model(info.path), dataset.images[held])
        np.testing.assert_allclose(result.probabilities[held], expected, atol=1e-5)


def drop_excluded_names(info):
    from emotion_core.data.exclude import read_names

    return read_names(info.config["exclude"])


def _no_training(*args, **kwargs):
    raise AssertionError("a finished fold was trained again")


def test_the_folds_can_be_shortened_to_an_epoch_budget_and_a_bad_one_is_named(capsys):
    from emotion_core.cli import fold_recipe

    short = fold_recipe("fast", 8)
    assert (short.epochs, short.patience) == (8, 8)  # no early stop before the budget
    assert dataclasses.replace(short, epochs=PRESETS["fast"].epochs, patience=PRESETS["fast"].patience) == PRESETS["fast"]
    assert fold_recipe("fast") == PRESETS["fast"]
    assert main(["audit", "--data", "synthetic", "--folds", "2", "--epochs", "0"]) != 0
    assert "epochs" in capsys.readouterr().err


def test_folds_out_of_range_are_refused(voted_kaggle_root, tmp_path):
    with pytest.raises(AuditError, match="from 2 to"):
        audit_with_folds(voted_kaggle_root, 1, config=TINY, root=tmp_path / "runs")


# ---- the face map ----

def two_blobs(n=30, d=20):
    rng = np.random.default_rng(0)
    features = np.concatenate([rng.normal(0, 1, (n, d)), rng.normal(12, 1, (n, d))])
    return features, np.repeat([0, 1], n)


@pytest.mark.parametrize("method", ["tsne", "pca"])
def test_projection_keeps_each_face_beside_its_look_alikes(method):
    features, blob = two_blobs()
    xy = project(features, method=method)
    distances = np.linalg.norm(xy[:, None] - xy[None], axis=-1)
    np.fill_diagonal(distances, np.inf)
    assert xy.shape == (60, 2)
    assert np.array_equal(blob[distances.argmin(axis=1)], blob)  # every nearest neighbour is in its own blob


def test_penultimate_features_feed_the_head_to_give_the_probabilities(small_model):
    images = np.stack([face_image(label, 0) for label in range(7)])
    features, probabilities = model_outputs(small_model, images)
    head = small_model.get_layer("emotion")
    kernel, bias = (np.asarray(w) for w in head.get_weights())
    logits = features @ kernel + bias
    reference = np.exp(logits - logits.max(axis=1, keepdims=True))
    np.testing.assert_allclose(probabilities, reference / reference.sum(axis=1, keepdims=True), atol=1e-5)
    assert features.shape == (7, kernel.shape[0])


def test_face_map_is_computed_once_then_read_from_disk(voted_kaggle_root, small_model, tmp_path, monkeypatch):
    run = make_run(tmp_path / "runs", "elsewhere", small_model, data="synthetic")
    dataset = load_data(voted_kaggle_root, split="test")
    steps = []
    xy, probabilities = face_map(run, dataset, method="pca", progress=lambda f, message: steps.append(f))
    assert steps[-1] == 1.0 and xy.shape == (21, 2)
    monkeypatch.setattr("emotion_core.audit.facemap.project", _no_projection)
    again, _ = face_map(run, dataset, method="pca")
    np.testing.assert_array_equal(again, xy)


def _no_projection(*args, **kwargs):
    raise AssertionError("the map was projected again")


def test_map_groups_by_crowd_say_no_votes_where_there_are_none():
    groups = map_groups("crowd", labels=[0, 1], probabilities=confident([0, 1]), majority=np.array([SAD, -1]))
    assert list(groups) == ["sad", "no votes"]
    with pytest.raises(AuditError):
        map_groups("flag", labels=[0], probabilities=confident([0]))  # no audit flags given


def test_face_map_figure_round_trips_a_selection():
    groups = np.array(["sad", "flagged", "sad", "neutral", "flagged"], dtype=object)
    figure = face_map_figure(np.arange(10).reshape(5, 2), groups, names=[f"f{i}" for i in range(5)])
    assert [trace.name for trace in figure.data] == ["Neutral", "Sad", "Flagged"]  # emotions first, flags on top
    assert [list(trace.customdata) for trace in figure.data] == [[3], [0, 2], [1, 4]]
    dragged = {"points": [{"customdata": 4}, {"customdata": [2]}, {"customdata": {"0": 2}}]}
    assert list(face_map_selection(dragged)) == [2, 4]
    assert len(face_map_selection(None)) == 0


def test_an_audit_of_test_faces_cannot_be_left_out_of_training(voted_kaggle_root, tmp_path):
    from emotion_core.audit.retrain import without_flagged

    result = audit([f"f{i}" for i in range(21)], np.repeat(np.arange(7), 3), confident(np.repeat(np.arange(7), 3)),
                   source={"data": str(voted_kaggle_root), "split": "test"})
    with pytest.raises(AuditError, match="train split"):
        without_flagged(result)
    trained = dataclasses.replace(result, source={"data": str(voted_kaggle_root), "split": "train"},
                                  issues=np.array([0, 4]))
    config = without_flagged(trained, root=tmp_path / "runs")
    assert config.data == str(voted_kaggle_root) and config.epochs == 36  # the fast preset
    from emotion_core.data.exclude import read_names

    assert read_names(config.exclude) == ["f0", "f4"]


def test_face_lines_name_the_models_top_two_and_every_emotion_people_chose():
    from emotion_core.audit import face_lines

    probabilities = np.array([0.01, 0.01, 0.02, 0.04, 0.84, 0.06, 0.02])  # neutral, then sad
    votes = np.zeros(7, int)
    votes[[NEUTRAL, SAD]] = [8, 2]
    assert face_lines(probabilities, votes) == ["model: neutral 84%, sad 6%", "crowd: neutral 8, sad 2"]
    assert face_lines(probabilities)[1] == "crowd: no votes"
    assert face_lines(probabilities, np.zeros(7, int))[1] == "crowd: no emotion"  # all 10 said not-a-face


def test_a_fold_audit_starts_as_its_own_process_and_waits_for_a_free_slot(voted_kaggle_root, tmp_path, monkeypatch):
    from emotion_core.audit.background import NOT_STARTED, fold_run_names, fold_states, launch_fold_audit
    from emotion_core.errors import RunError

    root = tmp_path / "runs"
    names = fold_run_names(voted_kaggle_root, 2, preset="demo")
    assert [s["state"] for s in fold_states(names, root=root)] == [NOT_STARTED] * 2
    started = []
    monkeypatch.setattr("subprocess.Popen", lambda command, **kw: started.append(command))
    launch_fold_audit(voted_kaggle_root, 2, preset="demo", root=root)
    command = started[0]
    assert command[1:4] == ["-m", "emotion_core", "audit"] and command[command.index("--folds") + 1] == "2"
    assert command[command.index("--runs-dir") + 1] == str(root) and "--json" in command
    runs.create_run({"data": "synthetic"}, root=root, folder_name="busy")  # running, with this process's pid
    with pytest.raises(RunError, match="is still training"):
        launch_fold_audit(voted_kaggle_root, 2, preset="demo", root=root)
