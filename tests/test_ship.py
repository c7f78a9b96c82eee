import hashlib
import os
import re
from pathlib import Path

import numpy as np
import pytest

from emotion_core import runs
from emotion_core.config import TrainConfig, command_line
from emotion_core.errors import RunError
from emotion_core.models.io import load_model
from emotion_core.ship import ship
from emotion_core.training.loop import train
from conftest import TINY_MODEL


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A finished run of the tests' tiny network (conftest): what ship writes does not depend on the architecture."""
    config = TrainConfig(data="synthetic", model=TINY_MODEL, epochs=1, limit=280)
    return config, train(config, root=tmp_path_factory.mktemp("runs"))


@pytest.fixture(scope="module")
def study_sized_run(tmp_path_factory):
    """A finished run of a real CNN, whose weights (not the file's fixed parts) make up its size."""
    return train(TrainConfig(data="synthetic", model="cnn_3blocks", epochs=1, limit=280),
                 root=tmp_path_factory.mktemp("runs"))


def test_ship_copies_a_small_inference_model_and_writes_a_card(tmp_path, finished_run):
    config, run_dir = finished_run
    model = ship(run_dir, assets=tmp_path / "assets")
    card = (tmp_path / "assets" / "MODEL_CARD.md").read_text()
    evaluation = runs.read_evaluation(run_dir)
    assert model.stat().st_size < runs.model_path(run_dir).stat().st_size  # no optimizer state
    assert f"{evaluation['accuracy']:.4f}" in card and command_line(config) in card


def test_a_model_too_large_as_float32_is_shipped_with_float16_weights_and_the_card_says_so(
        tmp_path, study_sized_run, monkeypatch):
    run_dir = study_sized_run
    float32_size = ship(run_dir, assets=tmp_path / "float32").stat().st_size
    assert "the shipped copy is float32" in (tmp_path / "float32" / "MODEL_CARD.md").read_text()
    monkeypatch.setattr("emotion_core.ship.MAX_BYTES", int(0.75 * float32_size))
    shipped = ship(run_dir, assets=tmp_path / "float16")
    assert shipped.stat().st_size < 0.6 * float32_size
    assert "stores float16 weights" in (tmp_path / "float16" / "MODEL_CARD.md").read_text()
    x = np.random.default_rng(0).random((8, 48, 48, 1), np.float32)
    assert np.allclose(load_model(shipped).predict_on_batch(x), load_model(run_dir).predict_on_batch(x), atol=1e-3)


def test_ship_refuses_an_unfinished_run(tmp_path):
    run_dir = runs.create_run({"model": "seed_cnn"}, root=tmp_path)
    with pytest.raises(RunError, match="ship only finished"):
        ship(run_dir, assets=tmp_path / "assets")


def test_a_refused_ship_leaves_the_old_default_byte_for_byte(tmp_path, finished_run, monkeypatch):
    _, run_dir = finished_run
    assets = tmp_path / "assets"
    assets.mkdir()
    (assets / "default_model.keras").write_bytes(b"the old default")
    (assets / "MODEL_CARD.md").write_text("the old card")
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in assets.iterdir()}
    monkeypatch.setattr("emotion_core.ship.MAX_BYTES", 1000)  # any real model is now too large
    with pytest.raises(RunError, match="over the 0 MiB limit"):
        ship(run_dir, assets=assets)
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in assets.iterdir()}
    assert after == before  # same files, same bytes, no candidate left beside them


def test_a_run_started_from_the_shipped_model_keeps_that_models_recipe(tmp_path, finished_run, monkeypatch):
    _, first_run = finished_run
    first = ship(first_run, assets=tmp_path / "first")
    monkeypatch.setenv("EMOTION_DEFAULT_MODEL", str(first))
    config = TrainConfig(data="synthetic", model=TINY_MODEL, epochs=1, limit=280, init_from="default",
                         learning_rate=5e-4)
    second_run = train(config, root=tmp_path / "runs")
    (tmp_path / "first" / "MODEL_CARD.md").write_text("a later ship replaced this card: the card is never read back")
    ship(second_run, assets=tmp_path / "second")
    card = (tmp_path / "second" / "MODEL_CARD.md").read_text()
    first_command = command_line(TrainConfig.from_dict(runs.read_config(first_run)))
    assert card.index(first_command) < card.index(command_line(config))  # the first stage comes first
    assert "--init-from default" in card and "shipped as default_model.keras" in card


def test_a_chain_started_from_the_shipped_file_by_its_path_names_it_default_not_this_machines_path(
        tmp_path, finished_run):
    _, first_run = finished_run
    first = ship(first_run, assets=tmp_path / "first")
    second = train(TrainConfig(data="synthetic", model=TINY_MODEL, epochs=1, limit=280, init_from=str(first)),
                   root=tmp_path / "runs")
    third = train(TrainConfig(data="synthetic", model=TINY_MODEL, epochs=1, limit=280, init_from=str(second)),
                  root=tmp_path / "runs")
    ship(third, assets=tmp_path / "third")
    commands = re.search(r"Reproduce:\n```\n(.*?)\n```", (tmp_path / "third" / "MODEL_CARD.md").read_text(), re.S)
    lines = commands.group(1).splitlines()
    assert str(tmp_path) not in lines[2] and "--init-from default " in lines[2]  # the step after the shipped file
    assert lines[2].endswith(f"# -> {Path(second).name}") and f"--init-from runs/{Path(second).name}" in lines[3]


def test_nothing_ship_writes_names_a_path_of_this_machine(tmp_path, finished_run):
    """The card and the provenance record travel with the repository: no absolute paths in them."""
    _, run_dir = finished_run
    model = ship(run_dir, assets=tmp_path / "assets")
    written = (tmp_path / "assets" / "MODEL_CARD.md").read_text() + model.with_suffix(".json").read_text()
    assert "/" + str(tmp_path).strip("/").split("/")[0] + "/" not in written and str(run_dir.parent) not in written
    assert runs.read_json(model.with_suffix(".json"))["run"] == run_dir.name


def test_a_ship_killed_before_its_model_was_replaced_leaves_no_record_claiming_the_old_model(tmp_path, finished_run):
    """The provenance record names its model's digest: beside another model it is not believed."""
    from emotion_core.models.provenance import read_provenance

    _, run_dir = finished_run
    model = ship(run_dir, assets=tmp_path / "assets")
    assert read_provenance(model)["run"] == run_dir.name
    model.write_bytes(model.read_bytes() + b"another model")
    assert read_provenance(model) is None


def _shipped_files(assets):
    return {p.name: p.read_bytes() for p in sorted(assets.iterdir())}


class Killed(BaseException):
    """Stands for SIGKILL at one moment of a ship (nothing after it runs)."""


def test_a_ship_killed_before_its_switch_leaves_the_old_files_and_is_cleaned_up(tmp_path, finished_run, monkeypatch):
    import emotion_core.ship as shipping

    _, run_dir = finished_run
    assets = tmp_path / "assets"
    ship(run_dir, assets=assets)
    before = _shipped_files(assets)
    write = shipping.write_json_atomic
    monkeypatch.setattr(shipping, "write_json_atomic",
                        lambda path, data: (_ for _ in ()).throw(Killed()) if path.name == shipping.JOURNAL
                        else write(path, data))
    with pytest.raises(Killed):
        ship(run_dir, assets=assets)
    assert _shipped_files(assets) == before  # the old model, card and record, byte for byte, no candidate


def test_a_ship_killed_between_its_renames_is_finished_by_the_next_one(tmp_path, finished_run, monkeypatch):
    """Model, card and record switch as one: a half-done switch is completed, never left mixed."""
    import emotion_core.ship as shipping
    from emotion_core.models.provenance import read_provenance

    _, run_dir = finished_run
    assets = tmp_path / "assets"
    (assets).mkdir()
    for name, text in (("default_model.keras", "the old model"), ("MODEL_CARD.md", "the old card"),
                       ("default_model.json", "{}")):
        (assets / name).write_text(text)
    renames, real_replace = [], os.replace

    def replace_once(source, target):  # the switch's first rename happens, then the process dies
        if Path(source).name.startswith(shipping.CANDIDATE):
            if renames:
                raise Killed()
            renames.append(target)
        real_replace(source, target)

    monkeypatch.setattr(shipping.os, "replace", replace_once)
    with pytest.raises(Killed):
        ship(run_dir, assets=assets)
    assert (assets / shipping.JOURNAL).is_file() and len(renames) == 1  # mixed: one file new, two old
    monkeypatch.undo()
    shipping.finish_interrupted_ship(assets)  # what the next ship does first
    assert sorted(p.name for p in assets.iterdir()) == ["MODEL_CARD.md", "default_model.json", "default_model.keras"]
    assert read_provenance(assets / "default_model.keras")["run"] == run_dir.name  # the record matches the model
    assert run_dir.name in (assets / "MODEL_CARD.md").read_text()


def test_a_step_stopped_before_its_last_epoch_is_marked_in_the_reproduce_commands(tmp_path):
    """A cosine cycle stopped early cannot be rebuilt from its command alone: the card must say where it stopped."""
    first = train(TrainConfig(data="synthetic", model=TINY_MODEL, epochs=3, limit=280), root=tmp_path / "runs")
    status = {key: value for key, value in runs.read_status(first).items() if key != "state"}
    runs.write_status(first, runs.STOPPED, **{**status, "epochs_done": 2})  # as if stopped in its last epoch
    second = train(TrainConfig(data="synthetic", model=TINY_MODEL, epochs=1, limit=280, init_from=str(first)),
                   root=tmp_path / "runs")
    ship(second, assets=tmp_path / "assets")
    commands = re.search(r"Reproduce:\n```\n(.*?)\n```", (tmp_path / "assets" / "MODEL_CARD.md").read_text(), re.S)
    first_line, second_line = commands.group(1).splitlines()
    assert first_line.endswith(f"# -> {Path(first).name}, stopped after 2 of its 3 epochs (its best epoch kept)")
    assert "stopped after" not in second_line


def test_starting_weights_of_another_architecture_are_refused_before_a_run_folder_exists(tmp_path, finished_run):
    from emotion_core.errors import ConfigError
    from emotion_core.training.loop import check_model

    _, tiny_run = finished_run
    with pytest.raises(ConfigError, match=f"holds a {TINY_MODEL} model, whose weights do not fit --model seed_cnn"):
        check_model(TrainConfig(model="seed_cnn", init_from=str(tiny_run)))


def test_the_card_states_the_blend_of_label_and_crowd_votes(tmp_path, finished_run):
    """A run trained with `--labels blend --crowd-share 0.25` (its config.json edited: synthetic faces have no votes)."""
    import json
    import shutil

    _, run_dir = finished_run
    blended = shutil.copytree(run_dir, tmp_path / "blended")
    config = json.loads((blended / "config.json").read_text())
    (blended / "config.json").write_text(json.dumps({**config, "labels": "blend", "crowd_share": 0.25}))
    ship(blended, assets=tmp_path / "assets")
    card = (tmp_path / "assets" / "MODEL_CARD.md").read_text()
    assert "- training labels: 75% FER2013's label, 25% the FER+ crowd's vote shares" in card
    assert "--labels blend --crowd-share 0.25" in card  # and the reproduce command keeps the mix


def test_the_card_names_the_teachers_of_a_distilled_model(tmp_path, finished_run):
    import json
    import shutil

    _, run_dir = finished_run
    distilled = shutil.copytree(run_dir, tmp_path / "distilled")
    config = json.loads((distilled / "config.json").read_text())
    teachers = f"{tmp_path / 'runs' / 'teacher_a'},default"
    (distilled / "config.json").write_text(json.dumps({**config, "teachers": teachers, "teacher_share": 0.75}))
    ship(distilled, assets=tmp_path / "assets")
    card = (tmp_path / "assets" / "MODEL_CARD.md").read_text()
    assert ("- training labels: FER2013's; each target 25% those, 75% the averaged predictions of 2 teacher "
            "models (teacher_a, default)") in card
    assert "--teachers path/to/teacher_a,default --teacher-share 0.75" in card  # no path of this machine


@pytest.mark.parametrize("kept, says", [
    (True, "the average of its last 4 epochs' weights is kept: validation accuracy 0.6800, above its best single epoch"),
    (False, "the best epoch by validation accuracy is kept (the average of its last 4 epochs' weights scored 0.6800, less)"),
])
def test_the_card_says_whether_the_averaged_weights_were_kept(tmp_path, finished_run, kept, says):
    """A run trained with `--average-from` (its config.json and status.json edited, as if it had)."""
    import json
    import shutil

    _, run_dir = finished_run
    averaged = shutil.copytree(run_dir, tmp_path / "averaged")
    config = json.loads((averaged / "config.json").read_text())
    (averaged / "config.json").write_text(json.dumps({**config, "epochs": 6, "average_from": 3}))
    status = runs.read_status(averaged)
    runs.write_status(averaged, status.pop("state"), **status, averaged_epochs=4, averaged_val_accuracy=0.68,
                      average_kept=kept)
    ship(averaged, assets=tmp_path / "assets")
    card = (tmp_path / "assets" / "MODEL_CARD.md").read_text()
    assert says in " ".join(card.split())
    assert "--average-from 3" in card
