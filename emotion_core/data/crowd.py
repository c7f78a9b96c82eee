"""Crowd votes (FER+): ten people's labels for each FER2013 face, joined to any dataset by file name.

FER2013's labels are noisy. For a face the model "got wrong", the votes tell whether people
side with the model (the label is the odd one out) or with the label (a real mistake).
The votes ship with the app (`emotion_core/assets/ferplus_votes.csv`, MIT licence, provenance beside it).
"""

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from emotion_core import settings
from emotion_core.errors import DataError
from emotion_core.labels import EMOTIONS, NUM_CLASSES

VOTE_COLUMNS = ("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt", "unknown", "NF")
# FER+'s seven emotion columns (its first seven) in our canonical order's indices.
_EMOTION_COLUMNS = VOTE_COLUMNS[:NUM_CLASSES]
_CANONICAL = np.array([EMOTIONS.index(n) for n in ("neutral", "happy", "surprise", "sad", "angry", "disgust", "fear")])

NO_MAJORITY = -1  # a face without votes
MAX_VOTES = 1000  # per face and column; FER+ has 10 annotators, so anything near this is damage


def votes_file():
    """The votes CSV: EMOTION_VOTES_FILE, else the one shipped in assets/."""
    return settings.votes_file()


@dataclass
class CrowdVotes:
    """Votes for the n faces of one dataset, in its order.

    Attributes:
        counts: int array (n, 10), votes per VOTE_COLUMNS column; zeros where a face has none.
        has_votes: bool array (n,).
    """

    counts: np.ndarray
    has_votes: np.ndarray

    def __len__(self):
        return len(self.has_votes)

    def emotion_votes(self):
        """int (n, 7): the votes for each emotion, in canonical order."""
        votes = np.zeros((len(self), NUM_CLASSES), np.int64)
        votes[:, _CANONICAL] = self.counts[:, :NUM_CLASSES]
        return votes

    def distribution(self):
        """float32 (n, 7): each face's emotion votes as shares (the soft label); zeros without votes."""
        votes = self.emotion_votes().astype(np.float32)
        totals = votes.sum(axis=1, keepdims=True)
        return np.divide(votes, totals, out=np.zeros_like(votes), where=totals > 0)

    def majority(self):
        """int (n,): the emotion most people chose (canonical index); NO_MAJORITY without votes.

        Only the seven emotions compete; a tie goes to the first tied column in FER+'s order
        (neutral, happiness, surprise, sadness, anger, disgust, fear).
        """
        top = _CANONICAL[np.argmax(self.counts[:, :NUM_CLASSES], axis=1)]
        return np.where(self.has_votes & (self.counts[:, :NUM_CLASSES].sum(axis=1) > 0), top, NO_MAJORITY)

    def flagged(self):
        """bool (n,): faces whose top vote is contempt, unknown or not-a-face (or with no emotion vote)."""
        counts = self.counts
        not_emotion = counts[:, NUM_CLASSES:].max(axis=1) > counts[:, :NUM_CLASSES].max(axis=1)
        return self.has_votes & (not_emotion | (counts[:, :NUM_CLASSES].sum(axis=1) == 0))


@functools.lru_cache(maxsize=4)
def _read_votes(path, modified):
    try:
        table = pd.read_csv(path)
    except Exception as error:  # pandas raises many types for non-CSV input
        raise DataError(f"cannot read crowd votes {path}: {error}") from None
    missing = [c for c in ("file", *VOTE_COLUMNS) if c not in table.columns]
    if missing:
        raise DataError(f"crowd votes {path} lack column(s) {', '.join(missing)}")
    names = table["file"]
    blank = names.isna() | (names.astype(str).str.strip() == "")
    if blank.any():
        raise DataError(f"crowd votes {path} line {_line(blank)}: the file name is empty")
    counts = table[list(VOTE_COLUMNS)].apply(pd.to_numeric, errors="coerce").to_numpy(np.float64)
    # 1.5 votes, -1 votes or 1e20 votes are damage, not data: each face has ten annotators
    bad = ~np.isfinite(counts) | (counts < 0) | (counts > MAX_VOTES) | (counts != np.floor(counts))
    if bad.any():
        row, column = np.argwhere(bad)[0]
        value = table[VOTE_COLUMNS[column]].iloc[row]
        shown = "an empty cell" if pd.isna(value) else str(value)
        raise DataError(f"crowd votes {path} line {row + 2}, column {VOTE_COLUMNS[column]}: {shown} is not a "
                        f"whole number of votes from 0 to {MAX_VOTES}")
    return dict(zip(names.astype(str), counts.astype(np.int64)))


def _line(flags):
    """The file line of the first True in a boolean Series over data rows (the header is line 1)."""
    return int(np.flatnonzero(flags.to_numpy())[0]) + 2


def load_votes(path=None):
    """dict file name -> int (10,) vote counts; {} when the votes file is absent."""
    path = Path(path or votes_file())
    if not path.is_file():
        return {}
    return _read_votes(str(path), path.stat().st_mtime)


def votes_stamp():
    """(path, modification time, size) of the votes file in use, or (path, None, None) when absent.

    For caches keyed on strings (a page's st.cache_data): a replaced or repaired votes file, or
    another EMOTION_VOTES_FILE, then gets a new key instead of yesterday's answer.
    """
    path = Path(votes_file())
    try:
        stat = path.stat()
    except OSError:
        return str(path), None, None
    return str(path), stat.st_mtime_ns, stat.st_size


def votes_for(names, votes=None):
    """The crowd votes of a dataset's faces, joined by file name.

    Args:
        names: the dataset's names (Kaggle folders give "class/file.jpg"; only the file
            name is compared). Faces whose name has no votes (a CSV row, a synthetic face,
            an unmatched file) simply have none.
        votes: dict from `load_votes` (default: the shipped votes).
    """
    votes = load_votes() if votes is None else votes
    keys = [str(name).rsplit("/", 1)[-1] for name in names]
    has = np.array([key in votes for key in keys], dtype=bool)
    counts = np.zeros((len(keys), len(VOTE_COLUMNS)), np.int64)
    for i in np.flatnonzero(has):
        counts[i] = votes[keys[i]]
    return CrowdVotes(counts, has)


def votes_or_warning(names, votes=None):
    """(votes_for(names), None), or (no votes at all, why) when the votes file cannot be read.

    For what can go on without votes (a page's gallery, a report on FER2013 labels): the faces
    are shown or scored without the crowd, and the reason is shown instead of a traceback.
    """
    try:
        return votes_for(names, votes), None
    except DataError as error:
        return CrowdVotes(np.zeros((len(names), len(VOTE_COLUMNS)), np.int64), np.zeros(len(names), bool)), str(error)


# Who the crowd sides with, for one mistake.
SIDES_MODEL, SIDES_LABEL, SIDES_NEITHER = "model", "label", "neither"


def sides(y_true, y_pred, majority):
    """Per face, whom the crowd's majority agrees with: 'model', 'label', 'neither', or '' (no votes).

    For a correct prediction model and label are the same, and 'model' is returned when the
    crowd agrees with both.
    """
    y_true, y_pred, majority = np.asarray(y_true), np.asarray(y_pred), np.asarray(majority)
    out = np.full(len(y_true), "", dtype=object)
    voted = majority != NO_MAJORITY
    out[voted] = SIDES_NEITHER
    out[voted & (majority == y_true)] = SIDES_LABEL
    out[voted & (majority == y_pred)] = SIDES_MODEL
    return out
