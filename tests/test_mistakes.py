import numpy as np

from emotion_core.data import Dataset
from emotion_core.mistakes import DEFAULT_CELL, cell_indices, cell_table, most_confused_pairs, saved_predictions


def probs_for(predicted, confidence):
    p = np.full((len(predicted), 7), 0.0, np.float32)
    for i, (c, conf) in enumerate(zip(predicted, confidence)):
        p[i] = (1 - conf) / 6
        p[i, c] = conf
    return p


def test_a_cell_holds_exactly_its_examples_most_confident_first():
    y_true = np.array([4, 4, 4, 5, 4, 5])
    probs = probs_for([5, 4, 5, 4, 5, 5], [0.5, 0.9, 0.8, 0.7, 0.6, 0.9])
    # true neutral (4) predicted sad (5): examples 0, 2, 4, by confidence 0.8, 0.6, 0.5
    assert cell_indices(y_true, probs, *DEFAULT_CELL).tolist() == [2, 4, 0]
    assert cell_indices(y_true, probs, 5, 4).tolist() == [3]
    assert cell_indices(y_true, probs, 0, 0).tolist() == []


def test_most_confused_pairs_skip_the_diagonal():
    matrix = np.zeros((7, 7), int)
    matrix[4, 4], matrix[4, 5], matrix[5, 4], matrix[2, 0] = 50, 10, 3, 7
    assert most_confused_pairs(matrix, top=2) == [(4, 5, 10, 10 / 60), (2, 0, 7, 1.0)]


def test_cell_table_lists_files_labels_and_probabilities():
    probs = probs_for([5, 5], [0.8, 0.6])
    table = cell_table(["a.jpg", "b.jpg"], np.array([4, 4]), probs, np.array([0, 1]))
    assert table["file"].tolist() == ["a.jpg", "b.jpg"] and table["predicted"].tolist() == ["sad", "sad"]
    assert table["sad"].tolist() == [0.8, 0.6]


def test_saved_predictions_are_used_only_for_the_same_test_set(tmp_path):
    from emotion_core.evaluation import save_evaluation

    data = Dataset(np.zeros((3, 48, 48), np.uint8), np.array([0, 4, 5]), "tiny", ["x", "y", "z"])
    probs = probs_for([0, 5, 5], [0.9, 0.9, 0.9])
    save_evaluation(tmp_path, {"accuracy": 2 / 3}, data, probs)
    assert np.allclose(saved_predictions(tmp_path, data), probs)
    other = Dataset(data.images, np.array([0, 4, 4]), "other", ["x", "y", "z"])
    assert saved_predictions(tmp_path, other) is None and saved_predictions(None, data) is None
