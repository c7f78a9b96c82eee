"""The bad-input corpus: what a careful tester typed, uploaded or left behind.

Every case must end with a message naming the problem (one line, no traceback) and a
non-zero exit, leave no run folder behind, and change nothing on disk: the shipped model and
the runs folder are hashed before and after.
"""

import hashlib
import json
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from emotion_core import runs
from emotion_core.cli import main
from emotion_core.models.io import default_model_path
from conftest import tree_hash

SHIPPED = default_model_path()


def file_hash(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest() if Path(path).exists() else None


def run_cli(capsys, argv):
    """(exit code, stdout, stderr) of the CLI; argparse's own refusals count as exit code 2."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


def check_refused(capsys, argv, message, runs_dir):
    """The CLI refuses `argv` with `message` and touches nothing."""
    before = (tree_hash(runs_dir), file_hash(SHIPPED))
    code, out, err = run_cli(capsys, argv)
    assert code != 0, (argv, out, err)
    assert message in err, (argv, err)
    assert "Traceback" not in err and "Traceback" not in out
    assert (tree_hash(runs_dir), file_hash(SHIPPED)) == before, f"{argv} changed files on disk"
    assert not [p for p in Path(runs_dir).glob("*") if p.is_dir()], f"{argv} left a run folder behind"
    return err


# ---- CLI flags -----------------------------------------------------------------------------

TRAIN = ["train", "--data", "synthetic", "--model", "cnn_3blocks"]
FLAG_CASES = [
    (["--epochs", "0"], "epochs must be a whole number from 1 to 1,000"),
    (["--epochs", "-1"], "epochs must be a whole number from 1"),
    (["--epochs", "1000000000"], "epochs must be a whole number from 1 to 1,000"),
    (["--epochs", "abc"], "invalid int value: 'abc'"),
    (["--batch-size", "0"], "batch_size must be a whole number from 1"),
    (["--batch-size", "-1"], "batch_size must be a whole number from 1"),
    (["--learning-rate", "nan"], "learning_rate must be a finite number in (0, 1]"),
    (["--learning-rate", "inf"], "learning_rate must be a finite number"),
    (["--learning-rate", "-1"], "learning_rate must be a finite number"),
    (["--learning-rate", "0"], "learning_rate must be a finite number"),
    (["--learning-rate", "5"], "learning_rate must be a finite number"),
    (["--label-smoothing", "5"], "label_smoothing must be a finite number in [0, 1)"),
    (["--label-smoothing", "-0.1"], "label_smoothing must be a finite number"),
    (["--label-smoothing", "1"], "label_smoothing must be a finite number"),
    (["--patience", "0"], "patience must be a whole number from 1"),
    (["--patience", "-1"], "patience must be a whole number from 1"),
    (["--unfreeze", "-3"], "unfreeze must be a whole number from 0"),
    (["--validation-fraction", "0"], "validation_fraction must be a finite number in (0, 1)"),
    (["--validation-fraction", "1"], "validation_fraction must be a finite number"),
    (["--validation-fraction", "1.5"], "validation_fraction must be a finite number"),
    (["--validation-fraction", "nan"], "validation_fraction must be a finite number"),
    (["--limit", "-5"], "limit must be a whole number from 0"),
    (["--seed", "-1"], "seed must be a whole number from 0"),
    (["--input-size", "0"], "input_size must be a whole number from 32"),
    (["--input-size", "16"], "input_size must be a whole number from 32"),
    (["--test-data", "/no/such/test.csv"], "test_data: '/no/such/test.csv' does not exist"),
    (["--init-from", "/no/such/run"], "init_from: '/no/such/run' does not exist"),
    (["--init-from", "default", "--model", "seed_cnn"], "whose weights do not fit --model seed_cnn"),
    (["--model", "nope"], "unknown model 'nope'"),
    (["--imbalance", "smote"], "invalid choice: 'smote'"),
    (["--precision", "float8"], "invalid choice: 'float8'"),
    (["--lr-schedule", "step"], "invalid choice: 'step'"),
    (["--preset", "turbo"], "invalid choice: 'turbo'"),
    (["--mode", "half"], "invalid choice: 'half'"),
    (["--labels", "votes"], "invalid choice: 'votes'"),
    (["--optimizer", "rmsprop"], "invalid choice: 'rmsprop'"),
    (["--labels", "crowd"], "no crowd votes for the faces"),
    (["--labels", "crowd-soft", "--imbalance", "balance"], "crowd-soft labels cannot be balanced"),
    (["--labels", "blend", "--imbalance", "balance"], "blend labels cannot be balanced"),
    (["--labels", "blend"], "no crowd votes for the faces"),
    (["--erase", "1.5"], "erase must be a finite number in [0, 1]"),
    (["--mixup", "-0.2"], "mixup must be a finite number in [0, 10]"),
    (["--labels", "blend", "--crowd-share", "-0.1"], "crowd_share must be a finite number in [0, 1]"),
    (["--teachers", "/no/such/run"], "teachers: '/no/such/run' does not exist"),
    (["--teachers", "default", "--teacher-share", "1.5"], "teacher_share must be a finite number in [0, 1]"),
    (["--rotation", "-5"], "rotation must be a finite number in [0, 180]"),
    (["--zoom", "nan"], "zoom must be a finite number"),
]


@pytest.mark.parametrize("flags, message", FLAG_CASES, ids=[" ".join(f) for f, _ in FLAG_CASES])
def test_train_flags_out_of_range_are_refused_before_a_run_folder_exists(capsys, tmp_path, flags, message):
    runs_dir = tmp_path / "runs"
    check_refused(capsys, [*TRAIN, "--runs-dir", runs_dir, *flags], message, runs_dir)


OTHER_CLI_CASES = [
    (["train", "--data", "/no/such/folder"], "data: '/no/such/folder' does not exist"),
    (["train", "--data", ""], "data: '' does not exist"),
    (["bench", "train", "--budget-min", "0"], "--budget-min must be a positive number"),
    (["bench", "train", "--budget-min", "nan"], "--budget-min must be a positive number"),
    (["bench", "train", "--budget-min", "-3"], "--budget-min must be a positive number"),
    (["bench", "train", "--budget-min", "0.01", "--fast-model", "nope"], "unknown model 'nope'"),
    (["bench", "live"], "bench live needs --photos FOLDER"),
    (["bench", "live", "--photos", "/no/such/photos"], "photo folder not found"),
    (["runs", "--runs-dir", "/nonexistent"], "runs folder not found: /nonexistent"),
    (["ship", "/no/such/run"], "run folder not found"),
    (["evaluate", "--model", "", "--data", "synthetic"], "no model given"),
    (["evaluate", "--model", "default", "--data", "/no/such/data"], "data source not found"),
]


@pytest.mark.parametrize("argv, message", OTHER_CLI_CASES, ids=[" ".join(a) for a, _ in OTHER_CLI_CASES])
def test_other_commands_refuse_nonsense_with_one_clear_line(capsys, tmp_path, argv, message):
    check_refused(capsys, argv, message, tmp_path / "runs")


# ---- data files ----------------------------------------------------------------------------

def _csv(path, rows, header="emotion,pixels,Usage"):
    return _write(path, "\n".join([header, *rows]) + "\n")


def _write(path, content):
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


PIXELS = " ".join(["100"] * 2304)
DATA_CASES = {
    "empty folder": (lambda d: d / "empty", "not a Kaggle-layout folder"),
    "class folders of text files": (lambda d: d / "textonly", "no images found"),
    "class folders of broken images": (lambda d: d / "broken", "none of the 2 image files"),
    "csv wrong columns": (lambda d: _csv(d / "a.csv", ["x,1"], header="name,value"), "lacks column(s) emotion, pixels"),
    "csv emotion 2.7": (lambda d: _csv(d / "b.csv", [f"2.7,{PIXELS},Training"]), "line 2: unknown fer2013.csv emotion code"),
    "csv emotion 9": (lambda d: _csv(d / "c.csv", [f"9,{PIXELS},Training"]), "line 2: unknown fer2013.csv emotion code"),
    "csv pixel nan": (lambda d: _csv(d / "d.csv", [f"3,{PIXELS},Training", f"3,nan {PIXELS[4:]},Training"]),
                      "line 3: pixel value 'nan' is not a whole number"),
    "csv pixel 300": (lambda d: _csv(d / "e.csv", [f"3,300 {PIXELS[4:]},Training"]), "line 2: pixel value 300 is above 255"),
    "csv too few pixels": (lambda d: _csv(d / "f.csv", ["3,1 2 3,Training"]), "line 2: expected 2304 pixel values, got 3"),
    "csv unknown usage": (lambda d: _csv(d / "g.csv", [f"3,{PIXELS},Validation"]), "unknown Usage value(s)"),
    "csv only test rows": (lambda d: _csv(d / "h.csv", [f"3,{PIXELS},PublicTest"]), "has no rows for the train split"),
    "csv empty file": (lambda d: _write(d / "i.csv", ""), "cannot read"),
    "binary file as csv": (lambda d: _write(d / "j.csv", b"\x00\xff\x10" * 50), "j.csv"),
}


@pytest.fixture
def bad_data(tmp_path):
    root = tmp_path / "data"
    (root / "empty").mkdir(parents=True)
    for name in ("textonly", "broken"):
        (root / name / "happy").mkdir(parents=True)
    (root / "textonly" / "happy" / "notes.txt").write_text("hello")
    for i in range(2):
        (root / "broken" / "happy" / f"{i}.jpg").write_bytes(b"\xff\xd8\xff garbage")
    return root


@pytest.mark.parametrize("case", list(DATA_CASES))
def test_bad_training_data_is_refused_with_its_file_and_problem(capsys, tmp_path, bad_data, case):
    make, message = DATA_CASES[case]
    source = make(bad_data)
    runs_dir = tmp_path / "runs"
    check_refused(capsys, ["train", "--data", source, "--epochs", "1", "--runs-dir", runs_dir], message, runs_dir)


# ---- model files ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def model_files(tmp_path_factory):
    """A valid small model, and foreign or damaged ones beside it."""
    import keras

    root = tmp_path_factory.mktemp("models")
    inputs = keras.Input((48, 48, 1))
    flat = keras.layers.Flatten()(inputs)
    keras.Model(inputs, keras.layers.Dense(7, activation="softmax")(flat)).save(root / "good.keras")
    keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(flat)).save(root / "three_outputs.keras")
    keras.Model(inputs, keras.layers.Dense(7)(flat)).save(root / "no_softmax.keras")
    keras.Model(inputs, keras.layers.Reshape((1, 7))(keras.layers.Dense(7, activation="softmax")(flat))).save(
        root / "one_by_seven.keras")
    colour = keras.Input((64, 64, 3))
    keras.Model(colour, keras.layers.Dense(7)(keras.layers.Flatten()(colour))).save(root / "colour_input.keras")
    (root / "empty.keras").write_bytes(b"")
    (root / "garbage.keras").write_bytes(b"not a zip file at all")
    data = (root / "good.keras").read_bytes()
    (root / "truncated.keras").write_bytes(data[: len(data) // 2])
    with zipfile.ZipFile(root / "foreign_zip.keras", "w") as archive:
        archive.writestr("readme.txt", "a zip, but not a Keras model")
    (root / "model.h5").write_bytes(b"HDF")
    (root / "hdf5.keras").write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(512))
    (root / "empty_run").mkdir()
    return root


# case -> (file, what the message must say, what it must not say: an earlier, misleading message)
MODEL_CASES = {
    "missing": ("missing.keras", "model not found", None),
    "empty": ("empty.keras", "is empty (0 bytes)", None),
    "garbage": ("garbage.keras", "is damaged or not a Keras 3 model file", None),
    "truncated": ("truncated.keras", "it is truncated (a zip archive whose directory at the end is missing",
                  "File not found"),
    "foreign zip": ("foreign_zip.keras", "is damaged or not a Keras 3 model file", None),
    "h5 file": ("model.h5", "is not a Keras model file", None),
    "HDF5 named .keras": ("hdf5.keras", "it is an HDF5 file (a Keras 2 .h5 model) named .keras", "File not found"),
    "folder without a model": ("empty_run", "holds no saved model", None),
    "three outputs": ("three_outputs.keras", "gives 3 outputs; expected 7", None),
    "(1, 7) outputs": ("one_by_seven.keras", "gives outputs of shape (1, 7); expected 7 emotion probabilities",
                       "gives 7 outputs"),
    "no softmax": ("no_softmax.keras", "does not give probabilities (", None),
    "colour input": ("colour_input.keras", "takes input of shape (64, 64, 3)", None),
}


@pytest.mark.parametrize("case", list(MODEL_CASES))
@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_bad_model_files_are_named_with_what_is_wrong(capsys, tmp_path, model_files, case, command):
    name, message, misleading = MODEL_CASES[case]
    photo = tmp_path / "photo.png"
    cv2.imwrite(str(photo), np.full((64, 64, 3), 128, np.uint8))
    argv = (["evaluate", "--model", model_files / name, "--data", "synthetic"] if command == "evaluate"
            else ["predict", photo, "--model", model_files / name])
    err = check_refused(capsys, argv, message, tmp_path / "runs")
    assert misleading is None or misleading not in err


# ---- uploads and photos --------------------------------------------------------------------

def _png_claiming(width, height):
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"") + chunk(b"IEND", b"")


def _encoded(ext):
    return cv2.imencode(ext, np.full((32, 32, 3), 90, np.uint8))[1].tobytes()


UPLOAD_CASES = {
    "empty.jpg": (b"", "empty file (0 bytes)"),
    "notes.png": (b"just some text", "not a JPEG, PNG, WebP or BMP image"),
    "cut.jpg": (_encoded(".jpg")[:200], "truncated JPEG"),
    "cut.png": (_encoded(".png")[:50], "damaged PNG"),
    "bomb.png": (_png_claiming(30000, 30000), "image too large"),
    "big.png": (_png_claiming(9000, 8000), "image too large: 9000 x 8000 pixels"),
    "hdr.png": (b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 8000 +X 8000\n" + bytes(64), "not a JPEG, PNG, WebP or BMP"),
    "scan.tiff": (_encoded(".tiff"), "not a JPEG, PNG, WebP or BMP image"),
    "anim.gif": (b"GIF89a" + bytes(30), "not a JPEG, PNG, WebP or BMP image"),
    "**bold** [link](x).png": (b"text", "not a JPEG, PNG, WebP or BMP image"),
}


@pytest.mark.parametrize("name", list(UPLOAD_CASES))
def test_bad_photos_are_one_error_line_each(capsys, tmp_path, model_files, name):
    data, message = UPLOAD_CASES[name]
    path = tmp_path / name
    path.write_bytes(data)
    check_refused(capsys, ["predict", path, "--model", model_files / "good.keras"], f"error: {path}: {message}",
                  tmp_path / "runs")


@pytest.mark.parametrize("path, message", [("", "empty file name"), ("/no/such.jpg", "no such file"),
                                           ("/tmp", "is a directory")])
def test_paths_that_are_not_photos(capsys, tmp_path, model_files, path, message):
    check_refused(capsys, ["predict", path, "--model", model_files / "good.keras"], message, tmp_path / "runs")


# ---- damaged run folders -------------------------------------------------------------------

DAMAGE = {
    "config is a list": ("config.json", "[1, 2]"),
    "config is null": ("config.json", "null"),
    "config is a number": ("config.json", "3"),
    "config is empty": ("config.json", ""),
    "status is a list": ("status.json", "[]"),
    "status is null": ("status.json", "null"),
    "status state unknown": ("status.json", '{"state": "exploded"}'),
    "status pid is text": ("status.json", '{"state": "running", "pid": "abc", "host": "x", "heartbeat": "soon"}'),
    "status heartbeat is text": ("status.json", '{"state": "running", "heartbeat": "yesterday"}'),
    "evaluation is a list": ("evaluation.json", "[0.5]"),
    "evaluation is a number": ("evaluation.json", "0.5"),
    "evaluation accuracy is text": ("evaluation.json", '{"accuracy": "high"}'),
    "name is a list": ("name.json", '["a"]'),
    "name is a number": ("name.json", '{"name": 5}'),
    "metrics line is a list": ("metrics.jsonl", '[1, 2]\n{"epoch": 1, "val_accuracy": 0.5}\n'),
    "metrics line is null": ("metrics.jsonl", 'null\n'),
    "metrics value is text": ("metrics.jsonl", '{"epoch": 1, "val_accuracy": "high"}\n'),
    "metrics not utf-8": ("metrics.jsonl", b'\xff\xfe\x00garbage\n{"epoch": 1, "val_accuracy": 0.5}\n'),
    "metrics NaN": ("metrics.jsonl", '{"epoch": 1, "loss": NaN, "val_accuracy": Infinity}\n'),
    "predictions garbage": ("predictions.npz", b"PK\x03\x04 not really"),
    "model garbage": ("model.keras", b"not a model"),
}


def damaged_run(root, case):
    run_dir = runs.create_run({"data": "synthetic", "model": "cnn_3blocks"}, root=root, model_name="cnn_3blocks")
    runs.write_status(run_dir, runs.FINISHED, epochs_done=1)
    runs.append_metrics(run_dir, {"epoch": 1, "loss": 1.0, "accuracy": 0.3, "val_loss": 1.1, "val_accuracy": 0.3})
    name, content = DAMAGE[case]
    (run_dir / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    return run_dir


@pytest.mark.parametrize("case", list(DAMAGE))
def test_runs_lists_a_damaged_folder_instead_of_crashing(capsys, tmp_path, case):
    root = tmp_path / "runs"
    run_dir = damaged_run(root, case)
    before = tree_hash(root)
    code, out, err = run_cli(capsys, ["runs", "--runs-dir", root, "--json"])
    assert code == 0 and "Traceback" not in err, err
    (row,) = [row for row in json.loads(out) if not row["reference"]]  # the shipped reference runs are listed too
    assert row["run"] == str(run_dir) and row["state"] in runs.STATES
    assert tree_hash(root) == before


def test_a_symlinked_run_folder_is_not_listed_renamed_or_deleted(tmp_path):
    outside = runs.create_run({"model": "m"}, root=tmp_path / "elsewhere")
    runs.write_status(outside, runs.FINISHED)
    root = tmp_path / "runs"
    root.mkdir()
    (root / "linked").symlink_to(outside)
    assert runs.list_runs(root) == []
    with pytest.raises(runs.RunError, match="symbolic link"):
        runs.rename_run(root / "linked", "x", root=root)
    with pytest.raises(runs.RunError, match="symbolic link"):
        runs.delete_run(root / "linked", root=root)
    assert not (outside / "name.json").exists() and outside.is_dir()


def test_an_orphan_checkpoint_temp_file_is_cleaned_up_on_the_next_read(tmp_path):
    import os
    import time

    run_dir = runs.create_run({"model": "m"}, root=tmp_path)
    orphan, fresh = run_dir / ".tmp-12345-model.keras", run_dir / ".predictions.tmp.npz"
    orphan.write_bytes(b"half a model")
    fresh.write_bytes(b"being written by another session")
    old = time.time() - runs.ORPHAN_AGE_S - 60
    os.utime(orphan, (old, old))
    runs.write_status(run_dir, runs.FAILED, error="killed")
    runs.load_run(run_dir)
    assert not orphan.exists() and fresh.exists()  # a fresh temp file may still have its writer


def test_every_page_survives_a_runs_folder_full_of_damage(tmp_path, monkeypatch):
    """Train, Mistakes and Live list runs through the model picker or the run table."""
    from streamlit.testing.v1 import AppTest

    root = tmp_path / "runs"
    for case in DAMAGE:
        damaged_run(root, case)
    monkeypatch.setenv("EMOTION_RUNS_DIR", str(root))
    pages = Path(__file__).resolve().parents[1] / "app_pages"
    for page in ("train.py", "live.py", "mistakes.py"):
        app = AppTest.from_file(str(pages / page), default_timeout=120).run()
        assert not app.exception, (page, app.exception)
