import dataclasses
import shlex

import pytest

from emotion_core import runs
from emotion_core.augment import AugmentConfig
from emotion_core.cli import build_parser
from emotion_core.cli_commands import config_from_args
from emotion_core.config import PRESETS, TrainConfig
from emotion_core.model_card import cli_command, ship
from emotion_core.training import train


@pytest.mark.parametrize("config", [
    TrainConfig(),
    PRESETS["fast"],
    dataclasses.replace(PRESETS["demo"], data="x/fer2013", model="vgg16", transfer_mode="finetune", unfreeze=9,
                        weights="none", input_size=96, reduce_lr=True, augment=AugmentConfig(0, 0, 0, 0, False)),
])
def test_the_reproduce_command_parses_back_to_the_same_config(config):
    argv = shlex.split(cli_command(config))[3:]  # drop "python -m emotion_core"
    assert config_from_args(build_parser().parse_args(argv)) == config


def test_ship_copies_a_small_inference_model_and_writes_a_card(tmp_path):
    config = TrainConfig(data="synthetic", model="cnn_3blocks", epochs=1, limit=280)
    run_dir = train(config, root=tmp_path / "runs")
    model = ship(run_dir, assets=tmp_path / "assets")
    card = (tmp_path / "assets" / "MODEL_CARD.md").read_text()
    evaluation = runs.read_json(run_dir / "evaluation.json")
    assert model.stat().st_size < (run_dir / "model.keras").stat().st_size  # no optimizer state
    assert f"{evaluation['accuracy']:.4f}" in card and cli_command(config) in card


def test_ship_refuses_an_unfinished_run(tmp_path):
    run_dir = runs.create_run({"model": "seed_cnn"}, root=tmp_path)
    with pytest.raises(runs.RunError, match="ship only finished"):
        ship(run_dir, assets=tmp_path / "assets")
