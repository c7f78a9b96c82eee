"""The Mistakes page's logic: which test faces sit in a confusion-matrix cell, which pairs of
emotions are confused most, and the predictions to drill into (saved with a run, or computed).

Everything here is plain arrays, dicts and DataFrames, so the page only lays them out.
"""

from pathlib import Path

import numpy as np
import pandas as pd

from emotion_core import runs
from emotion_core.data.crowd import NO_MAJORITY, SIDES_LABEL, SIDES_MODEL, SIDES_NEITHER, VOTE_COLUMNS, sides
from emotion_core.labels import EMOTIONS, NUM_CLASSES
from emotion_core.models.io import DEFAULT
from emotion_core.run_records import probabilities_problem

NEUTRAL, SAD = EMOTIONS.index("neutral"), EMOTIONS.index("sad")
# The study's headline confusion: neutral faces taken for sad ones, and the reverse.
DEFAULT_CELL = (NEUTRAL, SAD)  # (true, predicted)
REVERSE_CELL = (SAD, NEUTRAL)
ORDERS = ("confidence", "index")


def cell_indices(y_true, probabilities, true_class, predicted_class, *, order="confidence"):
    """The examples of one confusion-matrix cell, most confident first.

    The surest mistakes come first because they are the instructive ones: a face the model
    calls sad at 95% says more about what it learnt than one it calls sad at 35%.

    Args:
        y_true: int array (n,) of canonical class indices.
        probabilities: float array (n, 7); the prediction is each row's argmax.
        order: `confidence` (the predicted class's probability, descending; ties keep
            dataset order) or `index` (dataset order).
    Returns:
        int64 array of indices into the n examples.
    """
    if order not in ORDERS:
        raise ValueError(f"unknown order {order!r}; use {' or '.join(ORDERS)}")
    probabilities = np.asarray(probabilities)
    predicted = probabilities.argmax(axis=1)
    members = np.flatnonzero((np.asarray(y_true) == true_class) & (predicted == predicted_class))
    if order == "index":
        return members.astype(np.int64)
    confidence = probabilities[members, predicted_class]
    return members[np.argsort(-confidence, kind="stable")].astype(np.int64)


def page_count(n, size):
    """Gallery pages needed for n faces, `size` per page (at least 1, so a page input has a range)."""
    return max(1, -(-int(n) // size))


def page_of(indices, page, size):
    """The faces on gallery page `page` (1-based) of `indices`; empty past the last page."""
    start = (int(page) - 1) * size
    return np.asarray(indices)[start:start + size]


def most_confused_pairs(matrix, top=5):
    """The largest off-diagonal cells of a confusion matrix.

    Args:
        matrix: ints (7, 7), rows true, columns predicted.
    Returns:
        list of (true, predicted, count, fraction of the true class), largest count first;
        empty cells are left out.
    """
    matrix = np.asarray(matrix)
    rows = matrix.sum(axis=1)
    pairs = [(t, p, int(matrix[t, p]), float(matrix[t, p] / rows[t]))
             for t in range(len(matrix)) for p in range(len(matrix)) if t != p and matrix[t, p] > 0]
    return sorted(pairs, key=lambda pair: -pair[2])[:top]  # sorted() is stable: ties stay in row order


def pairs_table(pairs):
    """`most_confused_pairs` as a display table (names instead of indices)."""
    return pd.DataFrame([{"true": EMOTIONS[t], "predicted": EMOTIONS[p], "faces": n, "share of true class": share}
                         for t, p, n, share in pairs], columns=["true", "predicted", "faces", "share of true class"])


def report_for(y_true, probabilities):
    """`evaluation.report` for probabilities (n, 7): the prediction is each row's argmax."""
    from emotion_core.evaluation import report

    return report(np.asarray(y_true), np.asarray(probabilities).argmax(axis=1))


def report_table(result):
    """The study's classification report (an `evaluation.report` dict) as a DataFrame:
    one row per emotion, then the macro and weighted averages."""
    columns = ["precision", "recall", "f1-score", "support"]
    rows = {name: result["per_class"][name] for name in EMOTIONS}
    rows["macro avg"] = dict(result["macro_avg"], support=result["n"])
    rows["weighted avg"] = dict(result["weighted_avg"], support=result["n"])
    table = pd.DataFrame.from_dict(rows, orient="index")[columns]
    table["support"] = table["support"].astype(int)
    return table


def cell_table(names, y_true, probabilities, indices, *, crowd=None):
    """The faces of a cell as a table for CSV download.

    Args:
        names: file names (or row labels), one per example. y_true: int (n,).
        probabilities: float (n, 7). indices: the cell's examples, in display order.
        crowd: optional data.crowd.CrowdVotes for the n examples: adds the 10 vote counts
            and the crowd's majority (empty where a face has no votes).
    Returns:
        DataFrame with columns index, file, true, predicted, one per emotion, and the votes.
    """
    indices = np.asarray(indices, dtype=np.int64)
    probabilities = np.asarray(probabilities)
    table = pd.DataFrame({
        "index": indices,
        "file": [names[i] for i in indices],
        "true": [EMOTIONS[int(y_true[i])] for i in indices],
        "predicted": [EMOTIONS[int(probabilities[i].argmax())] for i in indices],
    })
    for c, name in enumerate(EMOTIONS):
        table[name] = probabilities[indices, c].astype(float).round(4)
    if crowd is not None:
        majority = crowd.majority()[indices]
        table["crowd majority"] = [EMOTIONS[m] if m != NO_MAJORITY else "" for m in majority]
        for c, column in enumerate(VOTE_COLUMNS):
            table[f"votes {column}"] = np.where(crowd.has_votes[indices], crowd.counts[indices, c], -1)
    return table


# Filters of a cell's faces by whom the crowd sides with (see data.crowd.sides).
SIDE_FILTERS = ("all", SIDES_MODEL, SIDES_LABEL, SIDES_NEITHER)


def filter_by_side(indices, y_true, probabilities, majority, side):
    """The faces of `indices` whose crowd majority agrees with `side` ('all' keeps every face)."""
    indices = np.asarray(indices, dtype=np.int64)
    if side == "all":
        return indices
    predicted = np.asarray(probabilities)[indices].argmax(axis=1)
    chosen = sides(np.asarray(y_true)[indices], predicted, np.asarray(majority)[indices]) == side
    return indices[chosen]


def cell_headline(indices, true_class, predicted_class, majority):
    """One line on what the crowd said about a cell's faces, e.g. "Of 156 sad faces taken for
    neutral, 150 have crowd votes: 10 people called 86% of them neutral and 13% sad."; None when
    no face of the cell has votes."""
    majority = np.asarray(majority)[np.asarray(indices, dtype=np.int64)]
    voted = majority[majority != NO_MAJORITY]
    if not len(voted):
        return None
    true_name, predicted_name = EMOTIONS[true_class], EMOTIONS[predicted_class]
    said_predicted, said_true = np.mean(voted == predicted_class), np.mean(voted == true_class)
    return (f"Of {len(majority):,} {true_name} faces taken for {predicted_name}, {len(voted):,} have crowd votes: "
            f"10 people called {said_predicted:.0%} of them {predicted_name} (the model's answer) and "
            f"{said_true:.0%} {true_name} (the label).")


def clicked_cell(selection):
    """The (true, predicted) cell of a click on `plots.confusion_matrix_figure`, or None.

    Args:
        selection: Streamlit's plotly selection state, e.g. {"points": [{"point_index": 19,
            "customdata": {"0": 2, "1": 5}, ...}], ...}. Plotly sends numpy customdata as a
            typed array, which reaches Python as a dict keyed "0", "1", not as a list.
    """
    points = (selection or {}).get("points") or []
    if not points:
        return None
    point = points[0]
    data = point.get("customdata")
    if isinstance(data, dict):
        data = [data[key] for key in sorted(data, key=int)]
    if data is not None and len(data) == 2:
        return tuple(int(v) for v in data)
    if point.get("point_index") is not None:  # the figure lays cells out row by row
        return divmod(int(point["point_index"]), NUM_CLASSES)
    return None


def face_name(name):
    """A face's short name for a gallery caption: "sad/PublicTest_123.jpg" -> "PublicTest_123"."""
    return str(name).rsplit("/", 1)[-1].rsplit(".", 1)[0]


def probability_lines(probabilities, *, votes=None, width=6):
    """The 7 probabilities of one face as monospaced text bars, one line per emotion, with the
    crowd's votes beside them when given.

    Names are cut to three letters (all distinct) so that a line fits a narrow gallery
    column: `sad ████·· 71% |||·· 3` (the model's 71%, and 3 of the 10 people).

    Args:
        votes: optional ints (7,), the crowd's votes per emotion in canonical order.
    """
    lines = []
    for i, (name, p) in enumerate(zip(EMOTIONS, np.asarray(probabilities, dtype=float))):
        filled = int(round(p * width))
        line = f"{name[:3]} {'█' * filled}{'·' * (width - filled)} {p:4.0%}"
        if votes is not None:
            count = int(votes[i])
            line += f" {'|' * min(count, 10)}{'·' * max(0, 10 - count)} {count}"
        lines.append(line)
    return "\n".join(lines)


def saved_test_source(run_dir):
    """The data source a run's predictions.npz was made on (config test_data, else data), or None."""
    config = runs.read_config(run_dir) if run_dir else {}
    return config.get("test_data") or config.get("data") or None


def saved_predictions(run_dir, dataset):
    """The run's saved probabilities (n, 7) when they were made on exactly this dataset, else None.

    Same length, labels and names, in the same order: anything else (another test set, or the
    validation split a run without a test split was scored on) would put faces in wrong cells.
    """
    if run_dir is None or not Path(run_dir).is_dir():
        return None
    saved = runs.load_predictions(run_dir)
    if saved is None or len(saved["true"]) != len(dataset):
        return None
    if not np.array_equal(saved["true"], dataset.labels) or list(saved["names"]) != list(dataset.names):
        return None
    return saved["probabilities"]


def predictions_for(ref, source, *, dataset=None, load_model=None, progress=None):
    """The test set of `source` and a model's probabilities on it, computed only when needed.

    Args:
        ref: a run folder, a .keras file or `default` (see model_io.resolve_model_path).
        source: a labelled data source; its `test` split is used.
        dataset: the already loaded test Dataset (callers that cache it pass it in).
        load_model: callable ref -> Keras model (callers that cache models pass theirs);
            only called when the run has no saved predictions for this set.
        progress: optional callable(done, total) while predicting.
    Returns:
        (Dataset, float32 probabilities (n, 7)).
    """
    from emotion_core.data import load_data
    from emotion_core.evaluation import predict_probabilities

    dataset = dataset if dataset is not None else load_data(source, split="test")
    run_dir = Path(ref) if str(ref) != DEFAULT and Path(ref).is_dir() else None
    saved = saved_predictions(run_dir, dataset)
    if saved is not None:
        return dataset, saved
    cached = _read_cached_predictions(ref, dataset)
    if cached is not None:
        return dataset, cached
    if load_model is None:
        from emotion_core.models.io import load_model
    probabilities = predict_probabilities(load_model(ref), dataset.images, progress=progress)
    _write_cached_predictions(ref, dataset, probabilities)
    return dataset, probabilities


def _predictions_file(ref, dataset):
    """Where predictions of model `ref` on `dataset` are kept between server restarts: keyed by
    the model file (path, size, time) and the faces (names, labels and pixels), so a retrained
    model or changed data never reuses them."""
    import hashlib

    from emotion_core.data.cache import cache_dir
    from emotion_core.errors import ModelLoadError
    from emotion_core.models.io import resolve_model_path

    try:
        model = resolve_model_path(ref)
    except ModelLoadError:  # a stand-in model (tests) or a missing file: nothing to key on
        return None
    stat = model.stat()
    digest = hashlib.sha256(f"{model.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    digest.update("\n".join(map(str, dataset.names)).encode())
    digest.update(np.ascontiguousarray(dataset.labels).tobytes())
    digest.update(np.ascontiguousarray(dataset.images).tobytes())
    return cache_dir() / "predictions" / f"{digest.hexdigest()[:24]}.npy"


def _read_cached_predictions(ref, dataset):
    path = _predictions_file(ref, dataset)
    try:
        probabilities = np.load(path, allow_pickle=False) if path else None
    except (OSError, ValueError):
        return None
    # NaN rows or non-probabilities (a damaged file) are predicted again, never shown as an accuracy
    ok = probabilities is not None and probabilities_problem(probabilities, len(dataset)) is None
    return probabilities if ok else None


def _write_cached_predictions(ref, dataset, probabilities):
    """Keep predictions on disk (temp file, then rename); a read-only disk is not an error."""
    from emotion_core import atomic

    path = _predictions_file(ref, dataset)
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic.replaced(path) as tmp:
            np.save(tmp, np.asarray(probabilities, dtype=np.float32))
    except OSError:
        pass


def gallery_pictures(images, *, explainer=None, class_index=None, size=144, alpha=0.45, side_by_side=False):
    """The gallery's pictures: each face with its Grad-CAM map for `class_index` over it (or
    beside it), or the plain faces when `explainer` is None.

    Args:
        images: uint8 (n, 48, 48). explainer: an `explain.GradCam`, or None.
        class_index: the class to explain (the cell's predicted class: what made the model
            say it); None explains each face's own prediction.
        alpha: the heatmap's opacity. side_by_side: the face alone, then the face with its map.
    Returns:
        list of n uint8 pictures: RGB (size, size, 3) with Grad-CAM ((size, 2 * size, 3)
        side by side), else the (48, 48) faces.
    """
    if explainer is None:
        return list(images)
    from emotion_core.explain import beside, overlay

    draw = beside if side_by_side else overlay
    heatmaps, _ = explainer(images, class_index=class_index)
    return [draw(face, heatmap, alpha=alpha, size=size) for face, heatmap in zip(images, heatmaps)]


def attention_overlays(explainer, images, labels, *, max_per_class=50, size=144):
    """Per true class, the mean Grad-CAM map over correctly classified faces, drawn over the
    class's mean face: where the model looks when it gets an emotion right (study, 3.1.6).

    Args:
        explainer: an `explain.GradCam`. images: uint8 (n, 48, 48). labels: int (n,).
    Returns:
        dict class index -> uint8 RGB (size, size, 3); classes with no correct face are absent.
    """
    from emotion_core.explain import mean_heatmaps, overlay

    labels = np.asarray(labels)
    maps = mean_heatmaps(explainer, images, labels, max_per_class=max_per_class)
    faces = {c: images[labels == c].mean(axis=0).astype(np.uint8) for c in maps}
    return {c: overlay(faces[c], maps[c], size=size) for c in maps}
