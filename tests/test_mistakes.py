"""emotion_core.mistakes on tiny hand-written vectors (no model, no TensorFlow work)."""

import numpy as np
import pytest

from emotion_core.data import Dataset
from emotion_core.evaluation import save_evaluation
from emotion_core.labels import EMOTIONS
from emotion_core.mistakes import (
    DEFAULT_CELL,
    REVERSE_CELL,
    cell_indices,
    cell_table,
    clicked_cell,
    gallery_pictures,
    most_confused_pairs,
    page_count,
    page_of,
    pairs_table,
    predictions_for,
    probability_lines,
    report_for,
    report_table,
    saved_predictions,
)

NEUTRAL, SAD, HAPPY = EMOTIONS.index("neutral"), EMOTIONS.index("sad"), EMOTIONS.index("happy")


def probs_for(predicted, confidence):
    """Rows (n, 7) whose argmax is `predicted` with probability `confidence`, the rest spread evenly."""
    p = np.empty((len(predicted), 7), np.float32)
    for i, (c, conf) in enumerate(zip(predicted, confidence)):
        p[i] = (1 - conf) / 6
        p[i, c] = conf
    return p


# six faces: true labels, predicted labels, confidence of the prediction
Y_TRUE = np.array([NEUTRAL, NEUTRAL, NEUTRAL, SAD, NEUTRAL, SAD])
PROBS = probs_for([SAD, NEUTRAL, SAD, NEUTRAL, SAD, SAD], [0.5, 0.9, 0.8, 0.7, 0.6, 0.9])


def test_default_cell_is_neutral_predicted_sad_and_reverse_is_its_mirror():
    assert DEFAULT_CELL == (NEUTRAL, SAD) and REVERSE_CELL == (SAD, NEUTRAL)


def test_a_cell_holds_exactly_its_examples_most_confident_first():
    # true neutral predicted sad: faces 0, 2, 4 with confidence 0.5, 0.8, 0.6
    assert cell_indices(Y_TRUE, PROBS, *DEFAULT_CELL).tolist() == [2, 4, 0]
    assert cell_indices(Y_TRUE, PROBS, *REVERSE_CELL).tolist() == [3]
    # the diagonal is a cell too (correct faces), and an empty cell is an empty array
    assert cell_indices(Y_TRUE, PROBS, SAD, SAD).tolist() == [5]
    assert cell_indices(Y_TRUE, PROBS, HAPPY, HAPPY).tolist() == []


def test_every_example_lands_in_exactly_one_cell():
    cells = [set(cell_indices(Y_TRUE, PROBS, t, p).tolist()) for t in range(7) for p in range(7)]
    assert sorted(i for cell in cells for i in cell) == list(range(len(Y_TRUE)))


def test_ties_keep_dataset_order_and_index_order_is_available():
    probs = probs_for([SAD, SAD, SAD], [0.7, 0.9, 0.7])
    y_true = np.full(3, NEUTRAL)
    assert cell_indices(y_true, probs, NEUTRAL, SAD).tolist() == [1, 0, 2]
    assert cell_indices(y_true, probs, NEUTRAL, SAD, order="index").tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="order"):
        cell_indices(y_true, probs, NEUTRAL, SAD, order="random")


def test_gallery_pages_cover_every_face_once():
    indices = np.arange(50)[::-1]
    assert [page_count(n, 24) for n in (0, 1, 24, 25, 50)] == [1, 1, 1, 2, 3]
    pages = [page_of(indices, page, 24) for page in range(1, page_count(50, 24) + 1)]
    assert [len(p) for p in pages] == [24, 24, 2] and np.concatenate(pages).tolist() == indices.tolist()
    assert len(page_of(indices, 4, 24)) == 0


def test_most_confused_pairs_skip_the_diagonal_and_give_the_share_of_the_true_row():
    matrix = np.zeros((7, 7), int)
    matrix[NEUTRAL, NEUTRAL], matrix[NEUTRAL, SAD], matrix[SAD, NEUTRAL], matrix[2, 0] = 50, 10, 3, 7
    assert most_confused_pairs(matrix, top=2) == [(NEUTRAL, SAD, 10, 10 / 60), (2, 0, 7, 1.0)]
    assert len(most_confused_pairs(matrix)) == 3  # only non-empty off-diagonal cells
    assert most_confused_pairs(np.eye(7, dtype=int) * 5) == []  # a perfect model confuses nothing
    table = pairs_table(most_confused_pairs(matrix, top=1))
    assert table.iloc[0].tolist() == ["neutral", "sad", 10, 10 / 60]


def test_cell_table_lists_files_labels_and_probabilities_in_gallery_order():
    indices = cell_indices(Y_TRUE, PROBS, *DEFAULT_CELL)
    table = cell_table([f"f{i}.jpg" for i in range(6)], Y_TRUE, PROBS, indices)
    assert list(table.columns) == ["index", "file", "true", "predicted", *EMOTIONS]
    assert table["file"].tolist() == ["f2.jpg", "f4.jpg", "f0.jpg"]
    assert set(table["true"]) == {"neutral"} and set(table["predicted"]) == {"sad"}
    assert table["sad"].tolist() == pytest.approx([0.8, 0.6, 0.5])
    assert "index,file,true,predicted,angry" in table.to_csv(index=False)
    assert len(cell_table([], Y_TRUE, PROBS, np.array([], int))) == 0  # an empty cell downloads a header only


def test_a_click_on_a_matrix_marker_names_its_cell():
    # recorded from a real click on the true-neutral/predicted-sad marker in Chromium: numpy
    # customdata reaches Python as a dict {"0": true, "1": predicted}, not as a list
    selection = {"points": [{"curve_number": 0, "point_number": 33, "point_index": 33, "x": "Sad", "y": "Neutral",
                             "customdata": {"0": NEUTRAL, "1": SAD}, "text": "11"}],
                 "point_indices": [33], "box": [], "lasso": []}
    assert clicked_cell(selection) == (NEUTRAL, SAD)
    assert clicked_cell({"points": [{"customdata": [SAD, NEUTRAL]}]}) == (SAD, NEUTRAL)  # list customdata too
    assert clicked_cell({"points": [{"point_index": 7 * SAD + NEUTRAL}]}) == (SAD, NEUTRAL)
    assert clicked_cell({"points": [], "point_indices": []}) is None and clicked_cell(None) is None


def test_gallery_pictures_explain_the_cells_predicted_class_or_show_plain_faces():
    faces = np.zeros((3, 48, 48), np.uint8)
    asked = []

    def explainer(images, class_index=None):  # stands in for explain.GradCam
        asked.append(class_index)
        return np.ones((len(images), 48, 48), np.float32), np.full((len(images), 7), 1 / 7)

    pictures = gallery_pictures(faces, explainer=explainer, class_index=SAD, size=96)
    assert asked == [SAD] and [p.shape for p in pictures] == [(96, 96, 3)] * 3
    assert [p.shape for p in gallery_pictures(faces)] == [(48, 48)] * 3


def test_probability_lines_show_all_seven_emotions():
    lines = probability_lines(PROBS[2], width=10).splitlines()
    assert [line.split()[0] for line in lines] == [name[:3] for name in EMOTIONS]
    assert lines[SAD].endswith("80%") and lines[SAD].count("█") == 8
    assert max(len(line) for line in probability_lines(np.eye(7)[0]).splitlines()) <= 15  # fits a narrow column


def test_report_table_has_a_row_per_emotion_and_the_averages():
    table = report_table(report_for(Y_TRUE, PROBS))
    assert list(table.index) == [*EMOTIONS, "macro avg", "weighted avg"]
    assert table.loc["sad", "recall"] == pytest.approx(0.5) and table.loc["neutral", "support"] == 4


def tiny_test_set():
    return Dataset(np.zeros((3, 48, 48), np.uint8), np.array([0, NEUTRAL, SAD]), "tiny", ["x", "y", "z"])


def test_saved_predictions_are_used_only_for_the_same_test_set(tmp_path):
    data = tiny_test_set()
    probs = probs_for([0, SAD, SAD], [0.9, 0.9, 0.9])
    save_evaluation(tmp_path, {"accuracy": 2 / 3}, data, probs)
    assert np.allclose(saved_predictions(tmp_path, data), probs)
    relabelled = Dataset(data.images, np.array([0, NEUTRAL, NEUTRAL]), "other", ["x", "y", "z"])
    reordered = Dataset(data.images, data.labels, "tiny", ["y", "x", "z"])
    assert saved_predictions(tmp_path, relabelled) is None and saved_predictions(tmp_path, reordered) is None
    assert saved_predictions(None, data) is None and saved_predictions(tmp_path / "missing", data) is None


def test_predictions_for_loads_no_model_when_the_run_saved_them(tmp_path):
    data = tiny_test_set()
    probs = probs_for([0, SAD, SAD], [0.9, 0.9, 0.9])
    save_evaluation(tmp_path, {}, data, probs)

    def no_model(ref):
        raise AssertionError("saved predictions should have been used")

    dataset, got = predictions_for(str(tmp_path), "unused", dataset=data, load_model=no_model)
    assert dataset is data and np.allclose(got, probs)


def test_predictions_for_predicts_once_with_progress_when_nothing_is_saved(tmp_path):
    data = tiny_test_set()
    calls = []

    class ConstantModel:  # stands in for a Keras model: (n, 48, 48, 1) -> (n, 7)
        def predict_on_batch(self, x):
            return np.tile(probs_for([HAPPY], [0.7]), (len(x), 1))

    _, got = predictions_for(str(tmp_path), "unused", dataset=data, load_model=lambda ref: ConstantModel(),
                             progress=lambda done, total: calls.append((done, total)))
    assert got.shape == (3, 7) and (got.argmax(axis=1) == HAPPY).all() and calls[-1] == (3, 3)


def test_predictions_are_kept_on_disk_so_a_restart_does_not_redo_them(tmp_path):
    from emotion_core.data import load_data
    from emotion_core.mistakes import predictions_for
    from emotion_core.models import build_model

    model_file = tmp_path / "m.keras"
    build_model("cnn_3blocks").save(model_file)
    calls = []

    def counting_load(ref):
        from emotion_core.models.io import load_model

        calls.append(ref)
        return load_model(ref)

    dataset = load_data("synthetic", split="test")
    _, first = predictions_for(str(model_file), "synthetic", dataset=dataset, load_model=counting_load)
    _, again = predictions_for(str(model_file), "synthetic", dataset=dataset, load_model=counting_load)
    assert len(calls) == 1 and np.array_equal(first, again)  # the second call read them from disk
    build_model("cnn_3blocks").save(model_file)  # a new model in the same file: predicted afresh
    predictions_for(str(model_file), "synthetic", dataset=dataset, load_model=counting_load)
    assert len(calls) == 2


def test_face_names_are_short_in_the_gallery():
    from emotion_core.mistakes import face_name

    assert face_name("sad/PublicTest_123.jpg") == "PublicTest_123" and face_name("row 7") == "row 7"
