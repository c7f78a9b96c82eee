import json

import pytest

from conftest import TINY_MODEL
from emotion_core.cli import main


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--data", "/no/such/folder"], "data: '/no/such/folder' does not exist"),
        (["train", "--data", "synthetic", "--model", "nope"], "unknown model 'nope'"),
        (["evaluate", "--model", "/no/model.keras", "--data", "synthetic"], "model not found"),
    ],
)
def test_bad_input_gives_one_line_and_nonzero_exit(capsys, argv, message):
    code, _, err = run_cli(capsys, *argv)
    assert code != 0 and message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_empty_folder_wrong_csv_and_corrupt_model(capsys, tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "bad.csv").write_text("name,value\nx,1\n")
    (tmp_path / "corrupt.keras").write_bytes(b"not a zip")
    from emotion_core.models import build_model

    build_model(TINY_MODEL).save(tmp_path / "tiny.keras")
    cases = [
        (["evaluate", "--model", str(tmp_path / "tiny.keras"), "--data", str(tmp_path / "empty")], "not a Kaggle-layout folder"),
        (["train", "--data", str(tmp_path / "bad.csv"), "--epochs", "1"], "lacks column(s) emotion, pixels"),
        (["evaluate", "--model", str(tmp_path / "corrupt.keras"), "--data", "synthetic"], "is damaged or not a Keras 3 model file"),
    ]
    for argv, message in cases:
        code, _, err = run_cli(capsys, *argv)
        assert code != 0 and message in err and "Traceback" not in err, (argv, err)


def test_models_json_lists_names_and_parameter_counts(capsys):
    code, out, _ = run_cli(capsys, "models", "--json")
    rows = {row["name"]: row for row in json.loads(out)}
    assert code == 0 and rows["seed_cnn"]["params"] == 1_029_223


def test_models_table_keeps_its_columns_aligned_for_the_longest_name(capsys):
    code, out, _ = run_cli(capsys, "models")
    lines = out.strip().splitlines()
    assert code == 0 and any(line.startswith("cnn_4blocks_wide ") for line in lines)
    assert len({line.index(" params  ") for line in lines}) == 1, out


def test_train_then_evaluate_json_then_runs(capsys, tmp_path):
    code, out, _ = run_cli(capsys, "train", "--data", "synthetic", "--model", TINY_MODEL, "--epochs", "1",
                           "--limit", "280", "--runs-dir", str(tmp_path))
    assert code == 0 and "finished: 1 epochs" in out
    run_dir = out.split("run folder: ")[1].split()[0]
    code, out, _ = run_cli(capsys, "evaluate", "--model", run_dir, "--data", "synthetic", "--json")
    report = json.loads(out)
    assert code == 0 and report["n"] == 700 and set(report["per_class"]["sad"]) >= {"precision", "recall", "f1-score", "support"}
    assert {"accuracy", "macro_f1"} <= set(report)
    code, out, _ = run_cli(capsys, "runs", "--runs-dir", str(tmp_path), "--json")
    assert json.loads(out)[0]["state"] == "finished"


def test_a_command_prints_only_its_own_output_not_tensorflows_start_up_lines(tmp_path):
    import subprocess
    import sys

    (tmp_path / "runs").mkdir()
    done = subprocess.run([sys.executable, "-m", "emotion_core", "runs", "--runs-dir", str(tmp_path / "runs")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.startswith("no runs yet in ")
    assert done.stderr == ""  # no "oneDNN custom operations are on", no absl warning
