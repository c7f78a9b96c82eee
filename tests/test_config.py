"""TrainConfig: validation, the flag table, and the reproduce command."""

import dataclasses
import shlex

import pytest

from emotion_core.cli import build_parser, config_from_args
from emotion_core.config import PRESETS, AugmentConfig, TrainConfig, command_line


@pytest.mark.parametrize("config", [
    TrainConfig(),
    PRESETS["fast"],
    PRESETS["best"],
    dataclasses.replace(PRESETS["demo"], data="x/fer2013", model="vgg16", transfer_mode="finetune", unfreeze=9,
                        weights="none", input_size=96, reduce_lr=True, augment=AugmentConfig(0, 0, 0, 0, False)),
    TrainConfig(optimizer="sgd", learning_rate=0.01, reduce_lr=True),
])
def test_the_reproduce_command_parses_back_to_the_same_config(config):
    argv = shlex.split(command_line(config))[3:]  # drop "python -m emotion_core"
    assert config_from_args(build_parser().parse_args(argv)) == config


