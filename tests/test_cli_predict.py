import json

import cv2
import numpy as np
import pytest

from emotion_core.cli import main
from emotion_core.data.synthetic import synthetic_faces
from emotion_core.labels import EMOTIONS


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    """An untrained small CNN saved as .keras: enough to check shapes and plumbing."""
    from emotion_core.models import build_model

    path = tmp_path_factory.mktemp("model") / "m.keras"
    build_model("cnn_3blocks").save(path)
    return path


@pytest.fixture
def photo(tmp_path):
    """A PNG with two drawn faces side by side (the detector finds both, see test_faces)."""
    images, _, _ = synthetic_faces(14, seed=0)
    canvas = np.full((400, 620), 140, np.uint8)
    for i, face in enumerate(images[:2]):
        canvas[100:300, 50 + 300 * i:250 + 300 * i] = cv2.resize(face, (200, 200), interpolation=cv2.INTER_CUBIC)
    path = tmp_path / "two faces.png"
    cv2.imwrite(str(path), canvas)
    return path


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def check_face(face):
    """One face's JSON: a box of 4 ints, 7 probabilities summing to 1, emotion = the largest."""
    assert len(face["box"]) == 4 and all(isinstance(v, int) for v in face["box"])
    assert list(face["probabilities"]) == list(EMOTIONS)
    assert sum(face["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)
    assert face["emotion"] == max(face["probabilities"], key=face["probabilities"].get)


def test_json_reports_every_face(capsys, model_file, photo):
    code, out, err = run_cli(capsys, "predict", photo, "--model", model_file, "--json")
    result = json.loads(out)  # one JSON object, nothing else on stdout
    assert code == 0 and err == ""
    (image,) = result["images"]
    assert image["path"] == str(photo) and image["error"] is None and len(image["faces"]) == 2
    for face in image["faces"]:
        check_face(face)
    assert image["faces"][0]["box"][0] < image["faces"][1]["box"][0]  # left to right


def test_bad_file_is_one_line_and_the_good_one_is_still_reported(capsys, model_file, photo, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a picture")
    code, out, err = run_cli(capsys, "predict", notes, photo, tmp_path / "missing.jpg", "--model", model_file, "--json")
    assert code == 1 and "Traceback" not in err
    assert err.splitlines() == [
        f"error: {notes}: not a JPEG, PNG, WebP or BMP image",
        f"error: {tmp_path / 'missing.jpg'}: no such file or directory",
    ]
    images = json.loads(out)["images"]
    assert [bool(i["error"]) for i in images] == [True, False, True] and len(images[1]["faces"]) == 2


def test_human_output_names_faces_and_all_probabilities(capsys, model_file, photo, tmp_path):
    blank = tmp_path / "wall.png"
    cv2.imwrite(str(blank), np.full((200, 300, 3), 180, np.uint8))
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    code, out, err = run_cli(capsys, "predict", photo, blank, empty, "--model", model_file, "--tta")
    assert code == 1 and err.strip() == f"error: {empty}: empty file (0 bytes)"
    assert f"{photo}: 2 faces found" in out and f"{blank}: no faces found" in out
    face_lines = [line for line in out.splitlines() if line.strip().startswith("face ")]
    assert len(face_lines) == 2 and "face 1 at x=" in face_lines[0]
    assert all(name in out for name in EMOTIONS)


def test_no_face_is_an_empty_list_in_json(capsys, model_file, tmp_path):
    blank = tmp_path / "wall.png"
    cv2.imwrite(str(blank), np.full((200, 300, 3), 180, np.uint8))
    code, out, _ = run_cli(capsys, "predict", blank, "--model", model_file, "--json")
    assert code == 0 and json.loads(out)["images"][0]["faces"] == []


def test_missing_model_is_one_line_error(capsys, photo, tmp_path):
    code, out, err = run_cli(capsys, "predict", photo, "--model", tmp_path / "nope.keras")
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and "model not found" in err


def test_small_faces_flag_finds_a_face_the_default_skips(capsys, model_file, tmp_path):
    images, _, _ = synthetic_faces(14, seed=0)
    canvas = np.full((3000, 4000), 140, np.uint8)  # the face is 8% of the height: see test_faces
    canvas[1000:1240, 2000:2240] = cv2.resize(images[0], (240, 240), interpolation=cv2.INTER_CUBIC)
    path = tmp_path / "group.png"
    cv2.imwrite(str(path), canvas)
    _, out, _ = run_cli(capsys, "predict", path, "--model", model_file, "--json")
    assert json.loads(out)["images"][0]["faces"] == []
    _, out, _ = run_cli(capsys, "predict", path, "--model", model_file, "--json", "--small-faces")
    (face,) = json.loads(out)["images"][0]["faces"]
    check_face(face)
