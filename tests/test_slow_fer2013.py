"""Real FER2013 training and benchmarks: slow, run with `pytest -m slow` (needs ../shared/data)."""

import json

import pytest

from conftest import FER2013_DIR, PHOTOS_DIR
from emotion_core.cli import main

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def needs_fer2013():
    if not FER2013_DIR.is_dir():
        pytest.skip("../shared/data/fer2013 is absent")


def test_one_real_epoch_of_the_study_cnn_then_evaluate(capsys, tmp_path):
    assert main(["train", "--data", str(FER2013_DIR), "--model", "seed_cnn", "--epochs", "1",
                 "--runs-dir", str(tmp_path)]) == 0
    run_dir = capsys.readouterr().out.split("run folder: ")[1].split()[0]
    assert main(["evaluate", "--model", run_dir, "--data", str(FER2013_DIR / "test"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    supports = [report["per_class"][e]["support"] for e in ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")]
    assert report["n"] == 3589 and supports == [467, 56, 496, 895, 607, 653, 415]


def test_the_shipped_model_beats_the_study_on_publictest(capsys):
    assert main(["evaluate", "--model", "default", "--data", str(FER2013_DIR / "test"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["accuracy"] >= 0.64


def test_live_benchmark_on_the_shared_photos(capsys):
    if not PHOTOS_DIR.is_dir():
        pytest.skip("../shared/data/photos is absent")
    assert main(["bench", "live", "--photos", str(PHOTOS_DIR)]) == 0
    assert "median per photo" in capsys.readouterr().out
