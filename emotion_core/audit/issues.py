"""Likely-wrong labels by confident learning (cleanlab), and the check of that audit against the crowd.

Why confident learning: a face is doubtful when a model that never trained on it gives its
label a probability below what the model usually gives that class, with per-class thresholds
estimated from the data itself (Northcutt et al., 2021). The audit is only as honest as its
probabilities are out of sample, which is why `model.py` and `folds.py` exist.
Why the crowd: FER+'s ten votes per face are an independent second opinion, so the audit's
precision can be measured instead of believed.
"""

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from emotion_core.data.crowd import NO_MAJORITY
from emotion_core.errors import AuditError
from emotion_core.labels import EMOTIONS, NUM_CLASSES


def find_issues(labels, probabilities):
    """Indices of the faces whose label is likely wrong, most doubtful first, and every face's score.

    Args:
        labels: int (n,) given labels. probabilities: float (n, 7), out-of-sample.
    Returns:
        (int64 (m,) indices ranked most doubtful first, float32 (n,) label quality: the model's
        probability of the given label; lower is more doubtful).
    """
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores

    labels, probabilities = _checked(labels, probabilities)
    with warnings.catch_warnings():  # "too few examples in class c": the library does not print
        warnings.simplefilter("ignore")
        ranked = find_label_issues(labels, probabilities, return_indices_ranked_by="self_confidence",
                                   n_jobs=1)  # n_jobs=1: no worker processes inside a web server
        scores = get_label_quality_scores(labels, probabilities, method="self_confidence")
    return np.asarray(ranked, dtype=np.int64), np.asarray(scores, dtype=np.float32)


def _checked(labels, probabilities):
    labels, probabilities = np.asarray(labels, dtype=np.int64), np.asarray(probabilities, dtype=np.float64)
    if probabilities.ndim != 2 or probabilities.shape[1] != NUM_CLASSES or len(labels) != len(probabilities):
        raise AuditError(f"an audit needs one row of {NUM_CLASSES} probabilities per label, not "
                         f"{probabilities.shape} for {len(labels)} labels")
    if len(labels) < 2:
        raise AuditError(f"an audit needs at least 2 faces, not {len(labels)}")
    # cleanlab wants rows that sum to 1; float32 softmax rows are off by ~1e-7
    return labels, probabilities / probabilities.sum(axis=1, keepdims=True)


def crowd_check(labels, flagged, crowd, *, suggested=None):
    """How often the crowd's majority disagrees with the label, on the flagged faces and on all.

    Args:
        labels: int (n,). flagged: bool (n,), the audit's flags. crowd: data.crowd.CrowdVotes
            for the same faces. suggested: optional int (n,), the audit's suggested labels.
    Returns:
        None when no face has votes, else a dict: faces_with_votes, disagree, base_rate (of all
        faces with votes), flagged, flagged_with_votes, flagged_disagree, flagged_rate (None
        when no flagged face has votes) and, with `suggested`, flagged_sides_with_suggestion
        (flagged faces whose majority is the suggested label). A "crowd majority" is the
        emotion most people chose, as on the Mistakes page.
    """
    labels, flagged = np.asarray(labels), np.asarray(flagged, dtype=bool)
    majority = crowd.majority()
    voted = majority != NO_MAJORITY
    if not voted.any():
        return None
    disagree = voted & (majority != labels)
    flagged_voted = flagged & voted
    result = {
        "faces_with_votes": int(voted.sum()),
        "disagree": int(disagree.sum()),
        "base_rate": float(disagree.sum() / voted.sum()),
        "flagged": int(flagged.sum()),
        "flagged_with_votes": int(flagged_voted.sum()),
        "flagged_disagree": int((flagged & disagree).sum()),
        "flagged_rate": float((flagged & disagree).sum() / flagged_voted.sum()) if flagged_voted.any() else None,
    }
    if suggested is not None:
        result["flagged_sides_with_suggestion"] = int((flagged_voted & (majority == np.asarray(suggested))).sum())
    return result


def headline(crowd):
    """The page's and the CLI's one line on a `crowd_check` result, or None without one."""
    if not crowd or crowd["flagged_rate"] is None:
        return None
    return (f"The crowd disagrees with the label on {crowd['flagged_rate']:.0%} of the flagged faces "
            f"({crowd['flagged_disagree']:,} of {crowd['flagged_with_votes']:,} with votes), against "
            f"{crowd['base_rate']:.0%} of all faces ({crowd['disagree']:,} of {crowd['faces_with_votes']:,}).")


@dataclass
class Audit:
    """A label audit of n faces.

    Attributes:
        names: the faces' names (n,). labels: int (n,) given labels.
        probabilities: float32 (n, 7), out of sample. issues: int64 (m,), flagged faces, most
        doubtful first. scores: float32 (n,), label quality (lower: more doubtful).
        crowd: a `crowd_check` dict, or None when no face has votes. source: what was audited, and how.
    """

    names: list
    labels: np.ndarray
    probabilities: np.ndarray
    issues: np.ndarray
    scores: np.ndarray
    crowd: dict | None
    source: dict

    @property
    def suggested(self):
        """int (n,): the label the model would give each face."""
        return np.asarray(self.probabilities).argmax(axis=1)

    @property
    def flagged(self):
        """bool (n,): whether each face is an issue."""
        mask = np.zeros(len(self.labels), dtype=bool)
        mask[self.issues] = True
        return mask

    def to_dict(self):
        """The CLI's JSON: {"issues": [{"file", "label", "suggested", "score"}...], "n", "crowd", ...}."""
        suggested = self.suggested
        issues = [{"file": str(self.names[i]), "label": EMOTIONS[int(self.labels[i])],
                   "suggested": EMOTIONS[int(suggested[i])], "score": round(float(self.scores[i]), 6)}
                  for i in self.issues]
        return {"issues": issues, "n": int(len(self.labels)), "flagged": int(len(self.issues)),
                "crowd": self.crowd, **self.source}


def audit(names, labels, probabilities, *, crowd=None, source=None):
    """Audit the labels of n faces from out-of-sample probabilities; returns an `Audit`.

    Args:
        crowd: optional data.crowd.CrowdVotes for the same faces, to check the audit against.
        source: dict of what was audited and how, kept in the JSON (e.g. {"data": ..., "model": ...}).
    """
    issues, scores = find_issues(labels, probabilities)
    probabilities = np.asarray(probabilities, dtype=np.float32)
    flagged = np.zeros(len(labels), dtype=bool)
    flagged[issues] = True
    checked = None if crowd is None else crowd_check(labels, flagged, crowd, suggested=probabilities.argmax(axis=1))
    return Audit(list(names), np.asarray(labels, dtype=np.int64), probabilities, issues, scores, checked, source or {})


def filter_issues(result, *, given=None, suggested=None):
    """The flagged faces (indices, most doubtful first) with that given and/or suggested label.

    Args:
        result: an Audit. given, suggested: canonical class indices, or None for any.
    """
    issues = np.asarray(result.issues, dtype=np.int64)
    keep = np.ones(len(issues), dtype=bool)
    if given is not None:
        keep &= result.labels[issues] == given
    if suggested is not None:
        keep &= result.suggested[issues] == suggested
    return issues[keep]


def issues_table(result, indices, *, crowd=None):
    """Flagged faces as a table, for display and CSV download.

    Args:
        result: an Audit. indices: faces to list, in display order.
        crowd: optional CrowdVotes for the audit's faces: adds the crowd's majority and its
            votes per emotion ("" / -1 where a face has none).
    Returns:
        DataFrame with columns rank, file, label, suggested, score, and the crowd's columns.
    """
    indices = np.asarray(indices, dtype=np.int64)
    rank = {int(i): r for r, i in enumerate(result.issues, start=1)}
    table = pd.DataFrame({
        "rank": [rank.get(int(i), 0) for i in indices],
        "file": [str(result.names[i]) for i in indices],
        "label": [EMOTIONS[int(result.labels[i])] for i in indices],
        "suggested": [EMOTIONS[int(result.suggested[i])] for i in indices],
        "score": result.scores[indices].astype(float).round(4),
    })
    if crowd is not None:
        majority = crowd.majority()[indices]
        table["crowd majority"] = [EMOTIONS[m] if m != NO_MAJORITY else "" for m in majority]
        votes = crowd.emotion_votes()[indices]
        for c, name in enumerate(EMOTIONS):
            table[f"votes {name}"] = np.where(crowd.has_votes[indices], votes[:, c], -1)
    return table


def face_lines(probabilities, votes=None, *, top=2):
    """Two short lines for under a face in a narrow gallery column: the model's top emotions,
    and what the crowd chose (e.g. "model: neutral 84%, sad 6%" and "crowd: neutral 8, sad 2").

    Args:
        probabilities: float (7,). votes: optional ints (7,) per emotion in canonical order
            (None: the face has no votes).
    """
    probabilities = np.asarray(probabilities, dtype=float)
    best = np.argsort(-probabilities, kind="stable")[:top]
    model = "model: " + ", ".join(f"{EMOTIONS[c]} {probabilities[c]:.0%}" for c in best)
    if votes is None:
        return [model, "crowd: no votes"]
    votes = np.asarray(votes)
    chosen = [c for c in np.argsort(-votes, kind="stable") if votes[c] > 0]
    return [model, "crowd: " + (", ".join(f"{EMOTIONS[c]} {int(votes[c])}" for c in chosen) or "no emotion")]
