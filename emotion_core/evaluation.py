"""Evaluation: predictions (with flip TTA, implemented once here), the study's classification
report, the confusion matrix, and per-example predictions kept with a run.

Computing is kept apart from drawing (plots.py draws); results are plain dicts and arrays so
they can be saved with a run and read back without TensorFlow.
"""

import numpy as np
from sklearn.metrics import classification_report, confusion_matrix

from emotion_core import runs
from emotion_core.data.crowd import NO_MAJORITY, SIDES_LABEL, SIDES_MODEL, SIDES_NEITHER, sides, votes_or_warning
from emotion_core.data.prepare import scale
from emotion_core.labels import EMOTIONS, NUM_CLASSES


def predict_probabilities(model, images, *, batch_size=256, tta=False, progress=None):
    """Class probabilities for uint8 faces.

    Args:
        images: uint8 array (n, 48, 48).
        tta: also predict the mirrored faces and average (test-time augmentation).
        progress: optional callable(done, total).
    Returns:
        float32 array (n, 7), rows summing to 1.
    """
    outputs = []
    for start in range(0, len(images), batch_size):
        batch = scale(images[start:start + batch_size])
        # predict_on_batch runs a traced graph: ~3 ms for a few faces, where an eager call takes ~20
        probs = np.asarray(model.predict_on_batch(batch))
        if tta:
            probs = (probs + np.asarray(model.predict_on_batch(batch[:, :, ::-1].copy()))) / 2
        outputs.append(probs)
        if progress:
            progress(min(start + batch_size, len(images)), len(images))
    return np.concatenate(outputs).astype(np.float32) if outputs else np.zeros((0, NUM_CLASSES), np.float32)


def report(y_true, y_pred):
    """The classification report as a dict: per-class precision/recall/f1/support plus
    accuracy, macro and weighted averages, `n`, `macro_f1` and the confusion matrix.

    Args:
        y_true, y_pred: int arrays (n,) of canonical class indices.
    """
    labels = list(range(NUM_CLASSES))
    table = classification_report(
        y_true, y_pred, labels=labels, target_names=list(EMOTIONS), output_dict=True, zero_division=0
    )
    per_class = {name: {k: float(v) for k, v in table[name].items()} for name in EMOTIONS}
    for name in per_class:
        per_class[name]["support"] = int(per_class[name]["support"])
    return {
        "n": int(len(y_true)),
        "accuracy": float(np.mean(np.asarray(y_true) == np.asarray(y_pred))) if len(y_true) else 0.0,
        "macro_f1": float(table["macro avg"]["f1-score"]),
        "weighted_f1": float(table["weighted avg"]["f1-score"]),
        "macro_avg": {k: float(v) for k, v in table["macro avg"].items()},
        "weighted_avg": {k: float(v) for k, v in table["weighted avg"].items()},
        "per_class": per_class,
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "class_names": list(EMOTIONS),
    }


def evaluate(model, dataset, *, tta=False, progress=None):
    """Predict a labelled Dataset; returns (report dict, probabilities (n, 7)).

    When crowd votes exist for the dataset's faces, the report has a `crowd` entry too
    (see `crowd_report`); when the votes file cannot be read, `crowd_error` says why (a damaged
    votes file must not throw away a finished training's report).
    """
    probabilities = predict_probabilities(model, dataset.images, tta=tta, progress=progress)
    result = report(dataset.labels, probabilities.argmax(axis=1))
    result["data"] = dataset.description
    result["tta"] = bool(tta)
    votes, problem = votes_or_warning(dataset.names)
    if problem:
        result["crowd_error"] = problem
    crowd = crowd_report(dataset.labels, probabilities, votes)
    if crowd:
        result["crowd"] = crowd
    return result, probabilities


def crowd_report(y_true, probabilities, crowd):
    """How predictions and labels compare with the crowd's majority, over the faces with votes.

    Args:
        y_true: int (n,) labels. probabilities: float (n, 7). crowd: data.crowd.CrowdVotes for the same faces.
    Returns:
        None when no face has votes, else a dict: faces_with_votes, flagged (top vote not an
        emotion), label_agreement (labels that match the majority), accuracy (predictions
        that match it), mistakes {n, sides_with_model, sides_with_label, neither} over the
        wrong predictions with votes, and confusion_matrix (rows: the crowd's majority).
    """
    majority = crowd.majority()
    voted = majority != NO_MAJORITY
    if not voted.any():
        return None
    y_true, y_pred = np.asarray(y_true)[voted], np.asarray(probabilities).argmax(axis=1)[voted]
    crowd_labels = majority[voted]
    wrong = y_pred != y_true
    side = sides(y_true[wrong], y_pred[wrong], crowd_labels[wrong])
    return {
        "faces_with_votes": int(voted.sum()),
        "flagged": int(crowd.flagged().sum()),
        "label_agreement": float(np.mean(crowd_labels == y_true)),
        "accuracy": float(np.mean(crowd_labels == y_pred)),
        "mistakes": {"n": int(wrong.sum()), "sides_with_model": int((side == SIDES_MODEL).sum()),
                     "sides_with_label": int((side == SIDES_LABEL).sum()),
                     "neither": int((side == SIDES_NEITHER).sum())},
        "confusion_matrix": confusion_matrix(crowd_labels, y_pred, labels=list(range(NUM_CLASSES))).tolist(),
    }


def evaluate_run(run_dir, source, *, split="test", progress=None):
    """Evaluate a run's best model on a labelled set and save it with the run.

    Replaces the run's evaluation.json and predictions.npz, so the Compare table and the
    Mistakes page show the set the user chose last. Returns the report dict.
    """
    from emotion_core.data import load_data
    from emotion_core.models.io import load_model

    runs.refuse_reference(run_dir, "evaluated again")  # its shipped record must keep describing it
    model = load_model(run_dir)
    dataset = load_data(source, split=split)
    result, probabilities = evaluate(model, dataset, progress=progress)
    result["source"] = str(source)
    save_evaluation(run_dir, result, dataset, probabilities)
    return result


def save_evaluation(run_dir, result, dataset, probabilities):
    """Keep a report and its per-face probabilities on `dataset` with the run (see runs.py)."""
    runs.save_evaluation(run_dir, result, names=dataset.names, labels=dataset.labels, probabilities=probabilities)
