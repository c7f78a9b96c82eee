"""AppTest for the Train & compare page: empty, finished and running runs; Start and Stop."""

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from emotion_core import runs
from emotion_core.config import PRESETS

PAGE = str(Path(__file__).resolve().parents[1] / "app_pages" / "train.py")
# Runs started from the page train in a new process, which knows only the real architectures:
# the smallest of them on few faces keeps each one to seconds of training.
SMALL_MODEL, FEW_FACES = "cnn_3blocks", 140


def small_run_settings(at, *, epochs):
    """Set the demo recipe's widgets for a short run: `epochs`, the smallest real network, few faces."""
    at.number_input(key="train_epochs_demo").set_value(epochs)
    at.selectbox(key="train_model_demo").set_value(SMALL_MODEL)
    at.number_input(key="train_limit_demo").set_value(FEW_FACES)


def run_page():
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def wait_for_state(run_dir, states, timeout=180):
    deadline = time.time() + timeout
    while time.time() < deadline:
        state = runs.read_status(run_dir).get("state")
        if state in states:
            return state
        time.sleep(0.5)
    pytest.fail(f"{run_dir} still {runs.read_status(run_dir)} after {timeout}s")


def test_renders_with_no_runs():
    at = run_page()
    assert any("No runs yet" in i.value for i in at.info)


def test_renders_a_running_run_being_appended_to(tmp_path):
    run_dir = runs.create_run({"data": "synthetic", "model": "seed_cnn", "imbalance": "none"}, model_name="seed_cnn")
    runs.write_status(run_dir, runs.RUNNING, phase="training", epochs=5, steps_per_epoch=10, epoch=1, batch=3)
    runs.append_metrics(run_dir, {"epoch": 1, "loss": 1.9, "accuracy": 0.3, "val_loss": 1.8, "val_accuracy": 0.35})
    at = run_page()
    assert "epoch 2/5, batch 3/10" in at.get("progress")[0].proto.text
    assert any(b.label == "Stop" for b in at.button)
    assert epochs_plotted(at) == [1]
    runs.append_metrics(run_dir, {"epoch": 2, "loss": 1.7, "accuracy": 0.4, "val_loss": 1.6, "val_accuracy": 0.42})
    at.run()  # what the fragment's timer does every 2 s
    assert not at.exception and epochs_plotted(at) == [1, 2]


def epochs_plotted(at):
    """The epochs on the live curves' training-loss trace (the legend's name-only traces have no points)."""
    import json

    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    return next(t["x"] for t in figure["data"] if t.get("x") and t["x"] != [None])


def test_start_creates_a_run_that_finishes_then_compare_shows_it():
    at = run_page()
    small_run_settings(at, epochs=1)
    at.slider(key="train_erase_demo").set_value(0.5)
    at.slider(key="train_mixup_demo").set_value(0.2)
    [b for b in at.button if b.label == "Start training"][0].click().run()
    assert not at.exception
    (info,) = runs.list_runs()
    assert (info.config["epochs"], info.config["model"], info.config["limit"]) == (1, SMALL_MODEL, FEW_FACES)
    assert info.config["data"] == "synthetic"
    assert info.config["augment"]["erase"] == 0.5 and info.config["augment"]["mixup"] == 0.2  # the run trains so
    assert wait_for_state(info.path, {runs.FINISHED, runs.FAILED}) == runs.FINISHED
    at.run()
    assert not at.exception and at.dataframe  # the Compare tab lists the run


def test_stop_ends_a_run_as_stopped_with_a_model():
    at = run_page()
    small_run_settings(at, epochs=200)
    [b for b in at.button if b.label == "Start training"][0].click().run()
    (info,) = runs.list_runs()
    deadline = time.time() + 120
    while runs.read_status(info.path).get("phase") != "training" and time.time() < deadline:
        time.sleep(0.5)
    at.run()
    [b for b in at.button if b.label == "Stop"][0].click().run()
    assert wait_for_state(info.path, {runs.STOPPED, runs.FAILED}) == runs.STOPPED
    assert runs.has_model(info.path)


def test_batch_rows_draw_curves_before_the_first_epoch_ends():
    run_dir = runs.create_run({"data": "synthetic", "model": "seed_cnn"}, model_name="seed_cnn")
    runs.write_status(run_dir, runs.RUNNING, phase="training", epochs=5, steps_per_epoch=10, epoch=0, batch=4)
    runs.append_metrics(run_dir, {"step": 1, "epoch_progress": 0.1, "loss": 2.1, "accuracy": 0.12})
    runs.append_metrics(run_dir, {"step": 4, "epoch_progress": 0.4, "loss": 1.9, "accuracy": 0.2})
    at = run_page()
    import json

    (chart,) = at.get("plotly_chart")
    traces = json.loads(chart.proto.spec)["data"]
    within = [t for t in traces if t["name"].endswith("training (within epochs)")]
    assert [t["x"] for t in within] == [[0.1, 0.4], [0.1, 0.4]]


def test_a_stop_click_is_recorded_in_its_callback_and_the_run_shows_stopping():
    run_dir = runs.create_run({"data": "synthetic", "model": "seed_cnn"}, model_name="seed_cnn")
    runs.write_status(run_dir, runs.RUNNING, phase="training", epochs=5, steps_per_epoch=10, epoch=1, batch=3)
    at = run_page()
    [b for b in at.button if b.label == "Stop"][0].click().run()
    assert runs.stop_requested(run_dir)  # written by the click's callback, before the rerun
    (stopping,) = [b for b in at.button if b.label == "Stopping…"]
    assert stopping.disabled and at.get("progress")[0].proto.text.startswith("stopping…")


def test_a_second_start_is_refused_while_a_training_runs(monkeypatch):
    busy = runs.create_run({"data": "synthetic", "model": "seed_cnn", "recipe": "demo"}, model_name="seed_cnn")
    runs.write_status(busy, runs.RUNNING, phase="training")
    at = run_page()
    [b for b in at.button if b.label == "Start training"][0].click().run()
    assert not at.exception and len(runs.list_runs()) == 1  # nothing new was started
    (error,) = at.error
    assert "is still training, and this server runs 1 training(s) at a time" in error.value


def test_accuracies_say_which_test_set_they_were_measured_on():
    run_dir = runs.create_run({"data": "synthetic", "model": "seed_cnn", "recipe": "demo"}, model_name="seed_cnn")
    runs.save_evaluation(run_dir, {"accuracy": 0.387, "macro_f1": 0.2, "n": 700,
                                   "data": "synthetic faces (test, 700)"}, names=[], labels=[], probabilities=[])
    runs.write_status(run_dir, runs.FINISHED, epochs_done=2)
    at = run_page()
    assert any("Accuracy on synthetic test, 700 faces: **38.7%**" in i.value for i in at.info)
    assert at.selectbox(key="train_run_select").options == [run_dir.name]  # short in the box...
    captions = [c.value.replace("\\", "") for c in at.caption]  # plain() escapes Markdown's "_"
    assert any(c.startswith("demo seed_cnn on synthetic (") for c in captions)  # ...the full name below


def test_the_best_recipe_starts_from_the_shipped_model_and_needs_crowd_votes():
    at = run_page()
    at.selectbox(key="train_preset").set_value("best").run()
    assert any("Starts from the weights of the shipped model" in c.value for c in at.caption)
    assert at.radio(key="train_labels_best").value == "blend"
    assert at.slider(key="train_crowd_share_best").value == PRESETS["best"].crowd_share  # the mix, to change
    assert at.selectbox(key="train_model_best").value == PRESETS["best"].model  # the shipped model's
    [b for b in at.button if b.label == "Start training"][0].click().run()  # on the synthetic faces: no votes
    assert not at.exception and runs.list_runs() == []
    assert any("no crowd votes for the faces" in e.value for e in at.error)


def test_recipe_and_architecture_boxes_hold_names_and_their_descriptions_follow_as_captions():
    """A long 'name — description' option is cut off mid-word in the box at 1024 px."""
    at = run_page()
    assert at.selectbox(key="train_preset").options == ["demo", "study", "fast", "best"]
    at.selectbox(key="train_preset").set_value("fast").run()
    assert not [s for s in at.slider if s.key.startswith("train_crowd_share")]  # only blend labels have a mix
    captions = [c.value for c in at.caption]
    assert "Best accuracy per CPU-minute found: flips, cosine schedule, label smoothing, bfloat16." in captions
    at.selectbox(key="train_model_fast").set_value("cnn_block4x2").run()
    assert "Experiment 7: four blocks, fourth block doubled." in [c.value for c in at.caption]


def test_finished_runs_can_teach_a_new_run(trained_synthetic_run, stand_in_children):
    """The distillation box lists finished runs; the chosen ones reach the new run's config,
    which the training process reads (its command names only the run folder). That command runs
    to the end in test_start_creates_a_run_that_finishes_then_compare_shows_it, and training with
    teachers in test_loop's test_a_distilled_run_learns_from_the_averaged_teachers."""
    import shutil

    teacher = shutil.copytree(trained_synthetic_run, runs.runs_root() / trained_synthetic_run.name)
    at = run_page()
    small_run_settings(at, epochs=1)
    box = at.multiselect(key="train_teachers_demo")
    assert box.options == [runs.load_run(teacher).name]
    assert at.slider(key="train_teacher_share_demo").disabled  # no teacher yet: nothing to share
    box.select(str(teacher)).run()
    assert f"Teachers: {runs.load_run(teacher).name}." in [c.value.replace("\\", "") for c in at.caption]
    at.slider(key="train_teacher_share_demo").set_value(0.75).run()
    [b for b in at.button if b.label == "Start training"][0].click().run()
    assert not at.exception
    (new,) = [i for i in runs.list_runs() if i.path != teacher]
    assert (new.config["teachers"], new.config["teacher_share"]) == (str(teacher), 0.75)
    assert [args[-3:] for args in stand_in_children.commands] == [["train", "--run-dir", str(new.path)]]


def test_a_double_click_on_start_makes_one_training_and_no_error(stand_in_children):
    """Two clicks in a row (a double click) are one intent: one run, and no refusal shown."""
    at = run_page()
    at.text_input(key="train_run_name").set_value("double click")
    start = [b for b in at.button if b.label == "Start training"][0]
    start.click().run()
    [b for b in at.button if b.label == "Start training"][0].click().run()
    assert not at.exception and [i.name for i in runs.list_runs()] == ["double click"]
    assert not at.error
    assert len(stand_in_children.commands) == 1


def test_folders_the_scan_ignores_are_named_under_the_data_box_before_any_start(kaggle_root, monkeypatch):
    import shutil

    shutil.copytree(kaggle_root / "train" / "happy", kaggle_root / "train" / "contempt")  # FER+'s 8th class
    monkeypatch.setenv("EMOTION_DATA_DIR", str(kaggle_root))
    at = run_page()
    assert at.selectbox(key="train_data").value.startswith("FER2013 (")
    assert any("ignored" in w.value and "contempt" in w.value for w in at.warning), [w.value for w in at.warning]
    assert not runs.list_runs()  # nothing was started
