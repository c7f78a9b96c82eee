"""Each training setting is declared once (config.TRAIN_FLAGS): the page's widgets, the CLI and
validation read it from there, and the environment's settings are checked by name."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from emotion_core import settings
from emotion_core.config import FLAGS_BY_FIELD, PRESET_DESCRIPTIONS, PRESETS
from emotion_core.errors import ConfigError

PAGE = str(Path(__file__).resolve().parents[1] / "app_pages" / "train.py")


def _page_with_everything_open():
    app = AppTest.from_file(PAGE, default_timeout=60).run()
    app.selectbox(key="train_preset").set_value("fast").run()
    app.radio(key="train_labels_fast").set_value("blend").run()
    return app


def test_every_numeric_widget_offers_exactly_the_validated_range():
    app = _page_with_everything_open()
    by_name = {flag.name: flag for flag in FLAGS_BY_FIELD.values() if flag.low is not None}
    widgets = [w for w in [*app.slider, *app.number_input] if w.label in by_name]
    assert len(widgets) >= 14  # the augmentation sliders, the training numbers, the crowd share...
    for widget in widgets:
        flag = by_name[widget.label]
        assert (widget.min, widget.max) == pytest.approx(flag.widget_range()), widget.label


def test_the_ends_of_every_range_are_valid_and_one_step_beyond_is_refused():
    for flag in FLAGS_BY_FIELD.values():
        if flag.low is None:
            continue
        for end in flag.widget_range():
            flag.check(flag.type(end))
        beyond = flag.high + (flag.step or 1)
        with pytest.raises(ConfigError, match=flag.flag.removeprefix("--") if "augment" in flag.field else flag.field):
            flag.check(flag.type(beyond))


def test_every_preset_is_offered_on_the_page_with_its_description():
    assert set(PRESET_DESCRIPTIONS) == set(PRESETS)
    app = AppTest.from_file(PAGE, default_timeout=60).run()
    assert sorted(app.selectbox(key="train_preset").options) == sorted(PRESETS)


def test_settings_from_the_environment_are_checked_by_name(monkeypatch):
    monkeypatch.setenv("EMOTION_MAX_TRAININGS", "abc")
    monkeypatch.setenv("EMOTION_ICE_SERVERS", "not json")
    found = settings.problems()
    assert any("EMOTION_MAX_TRAININGS" in p for p in found) and any("EMOTION_ICE_SERVERS" in p for p in found)
    monkeypatch.setenv("EMOTION_MAX_TRAININGS", "2")
    monkeypatch.delenv("EMOTION_ICE_SERVERS")
    assert settings.problems() == [] and settings.max_trainings() == 2


def test_a_path_setting_with_a_tilde_means_the_home_folder(monkeypatch):
    monkeypatch.setenv("EMOTION_RUNS_DIR", "~/emotion-runs")
    assert settings.runs_root() == Path.home() / "emotion-runs"


def test_shipped_files_are_found_through_the_package():
    assert (settings.assets_dir() / "default_model.keras").is_file() and settings.votes_file().is_file()
