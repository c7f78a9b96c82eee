"""The Mistakes page's logic: which test faces sit in a confusion-matrix cell, which pairs
of emotions are confused most, and the predictions to drill into (saved or computed)."""

from pathlib import Path

import numpy as np
import pandas as pd

from emotion_core.labels import EMOTIONS

NEUTRAL, SAD = EMOTIONS.index("neutral"), EMOTIONS.index("sad")
DEFAULT_CELL = (NEUTRAL, SAD)  # the study's finding: true neutral predicted sad...
REVERSE_CELL = (SAD, NEUTRAL)  # ...and the reverse


def cell_indices(y_true, probabilities, true_class, predicted_class):
    """Examples whose true label is `true_class` and prediction `predicted_class`, most
    confident first (the surest mistakes are the most instructive).

    Args:
        y_true: int (n,). probabilities: float (n, 7).
    Returns:
        int array of indices into the n examples.
    """
    predicted = probabilities.argmax(axis=1)
    members = np.flatnonzero((np.asarray(y_true) == true_class) & (predicted == predicted_class))
    confidence = probabilities[members, predicted_class]
    return members[np.argsort(-confidence, kind="stable")]


def most_confused_pairs(matrix, *, top=5):
    """Off-diagonal cells by count: list of (true, predicted, count, share of the true class)."""
    matrix = np.asarray(matrix)
    rows = matrix.sum(axis=1)
    pairs = [(t, p, int(matrix[t, p]), float(matrix[t, p] / rows[t]) if rows[t] else 0.0)
             for t in range(len(matrix)) for p in range(len(matrix)) if t != p and matrix[t, p] > 0]
    return sorted(pairs, key=lambda pair: -pair[2])[:top]


def cell_table(names, y_true, probabilities, indices):
    """The faces of a cell as a table (for CSV download): index, name, labels, 7 probabilities."""
    table = pd.DataFrame({
        "index": indices,
        "file": [names[i] for i in indices],
        "true": [EMOTIONS[y_true[i]] for i in indices],
        "predicted": [EMOTIONS[int(probabilities[i].argmax())] for i in indices],
    })
    for c, name in enumerate(EMOTIONS):
        table[name] = probabilities[indices, c].astype(float).round(4) if len(indices) else []
    return table


def saved_predictions(run_dir, dataset):
    """The run's saved probabilities when they were made on exactly this dataset, else None."""
    from emotion_core.evaluation import load_predictions

    if run_dir is None or not Path(run_dir).is_dir():
        return None
    saved = load_predictions(run_dir)
    if saved is None or len(saved["true"]) != len(dataset):
        return None
    if not np.array_equal(saved["true"], dataset.labels) or list(saved["names"]) != list(dataset.names):
        return None
    return saved["probabilities"]
