import hashlib

import pytest

from emotion_core import runs
from emotion_core.config import TrainConfig, command_line
from emotion_core.errors import RunError
from emotion_core.ship import ship
from emotion_core.training.loop import train


def test_ship_copies_a_small_inference_model_and_writes_a_card(tmp_path):
    config = TrainConfig(data="synthetic", model="cnn_3blocks", epochs=1, limit=280)
    run_dir = train(config, root=tmp_path / "runs")
    model = ship(run_dir, assets=tmp_path / "assets")
    card = (tmp_path / "assets" / "MODEL_CARD.md").read_text()
    evaluation = runs.read_evaluation(run_dir)
    assert model.stat().st_size < runs.model_path(run_dir).stat().st_size  # no optimizer state
    assert f"{evaluation['accuracy']:.4f}" in card and command_line(config) in card


def test_ship_refuses_an_unfinished_run(tmp_path):
    run_dir = runs.create_run({"model": "seed_cnn"}, root=tmp_path)
    with pytest.raises(RunError, match="ship only finished"):
        ship(run_dir, assets=tmp_path / "assets")
