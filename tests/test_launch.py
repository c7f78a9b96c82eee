"""Starting trainings from the app: one at a time whatever the timing, and never stuck."""

import threading
import time

import pytest

from emotion_core import runs
from emotion_core.cli import main
from emotion_core.config import TrainConfig
from emotion_core.errors import ConfigError, RunError
from emotion_core.training import launch
from conftest import TINY_MODEL

CONFIG = TrainConfig(data="synthetic", model="cnn_3blocks", epochs=1, limit=140)


def _launch_from_threads(n):
    barrier, outcomes = threading.Barrier(n), []

    def press_start():
        barrier.wait()  # every thread presses Start at the same moment
        try:
            outcomes.append(launch.launch_training(CONFIG))
        except RunError as error:
            outcomes.append(error)

    threads = [threading.Thread(target=press_start) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_simultaneous_starts_make_exactly_one_training(stand_in_children):
    outcomes = _launch_from_threads(4)
    started = [o for o in outcomes if not isinstance(o, RunError)]
    assert len(started) == 1 and len(runs.list_runs()) == 1
    assert all("still training" in str(o) or "being started" in str(o) for o in outcomes if isinstance(o, RunError))


def test_a_child_killed_before_it_wrote_its_status_is_lost_not_running_for_ever(stand_in_children):
    stand_in_children.seconds = 0.2  # the child dies at once, before writing anything
    run_dir = launch.launch_training(CONFIG)
    deadline = time.time() + 30
    while runs.read_status(run_dir)["state"] == runs.RUNNING and time.time() < deadline:
        time.sleep(0.2)
    assert runs.read_status(run_dir)["state"] == runs.LOST
    assert launch.launch_training(CONFIG) != run_dir  # and Start works again


def test_a_bad_max_trainings_setting_is_refused_by_name(monkeypatch, stand_in_children):
    monkeypatch.setenv("EMOTION_MAX_TRAININGS", "abc")
    with pytest.raises(ConfigError, match="EMOTION_MAX_TRAININGS"):
        launch.launch_training(CONFIG)


def test_train_run_dir_refuses_a_finished_run_and_leaves_it_byte_for_byte(tmp_path, capsys):
    from emotion_core.training.loop import train

    run_dir = train(TrainConfig(data="synthetic", model=TINY_MODEL, epochs=1, limit=140), root=tmp_path / "runs")
    before = {p.name: p.read_bytes() for p in run_dir.iterdir() if p.is_file()}
    assert main(["train", "--run-dir", str(run_dir)]) == 2
    assert "has already trained (finished)" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in run_dir.iterdir() if p.is_file()} == before


def test_a_run_being_trained_cannot_be_trained_by_a_second_process(tmp_path):
    from emotion_core.training.loop import start_run

    run_dir = start_run(CONFIG, root=tmp_path / "runs")
    with runs.owned(run_dir):  # as the first training process holds it
        with pytest.raises(RunError, match="being trained by another process"):
            with runs.owned(run_dir):
                pass
    with runs.owned(run_dir):  # released when its holder ends
        pass
