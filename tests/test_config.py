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
    TrainConfig(augment=AugmentConfig(rotation_deg=20.0, zoom=0.0, shear=0.3, horizontal_flip=True, erase=0.5)),
    TrainConfig(augment=AugmentConfig(0.0, 0.0, 0.0, 0.0, False, erase=0.25)),
    TrainConfig(augment=AugmentConfig(0.0, 0.0, 0.0, 0.0, False, mixup=0.2)),  # mixup alone is still augmentation
    dataclasses.replace(PRESETS["best"], crowd_share=0.25),
    dataclasses.replace(PRESETS["fast"], teachers="runs/a,default", teacher_share=0.7),
    dataclasses.replace(PRESETS["fast"], optimizer="sgd", average_from=25),
])
def test_the_reproduce_command_parses_back_to_the_same_config(config):
    argv = shlex.split(command_line(config))[3:]  # drop "python -m emotion_core"
    assert config_from_args(build_parser().parse_args(argv)) == config




def test_augmentation_flags_override_the_preset_and_no_augment_starts_from_nothing():
    args = build_parser().parse_args(["train", "--preset", "fast", "--rotation", "5", "--erase", "0.5"])
    assert config_from_args(args).augment == AugmentConfig(rotation_deg=5.0, horizontal_flip=True, erase=0.5)
    args = build_parser().parse_args(["train", "--no-augment", "--flip"])
    assert config_from_args(args).augment == AugmentConfig(0.0, 0.0, 0.0, 0.0, horizontal_flip=True)
    assert command_line(PRESETS["fast"]).endswith("--flip")  # only what differs from the study's recipe
    assert "--rotation" not in command_line(PRESETS["fast"])


def test_weights_cannot_be_averaged_from_an_epoch_the_run_never_reaches():
    from emotion_core.errors import ConfigError

    with pytest.raises(ConfigError, match=r"average_from must be a whole number from 0 to 12, not 13"):
        TrainConfig(epochs=12, average_from=13).validate()
    assert TrainConfig(epochs=12, average_from=12).validate().average_from == 12


def test_teachers_in_an_edited_config_json_must_be_one_comma_separated_string():
    from emotion_core.errors import ConfigError

    with pytest.raises(ConfigError, match=r"teachers must be model references separated by commas, not \['a'\]"):
        TrainConfig.from_dict({"teachers": ["a"]}).validate()
    assert TrainConfig(teachers=" default, ,default ").validate().teacher_list() == ["default", "default"]


def test_the_best_preset_is_the_last_step_on_the_shipped_model_card():
    """`--preset best` promises to rerun the step that made the shipped model: the card's last command."""
    from emotion_core.settings import assets_dir

    card = (assets_dir() / "MODEL_CARD.md").read_text()
    last = [line for line in card.splitlines() if line.startswith("python -m emotion_core train ")][-1]
    argv = shlex.split(last.split("   #")[0])[3:]
    card_config = config_from_args(build_parser().parse_args(argv))
    assert card_config == dataclasses.replace(PRESETS["best"], data=card_config.data)
