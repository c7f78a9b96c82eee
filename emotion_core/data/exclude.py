"""Leaving named faces out of a dataset: the `--exclude FILE.csv` of `train`, and the audit's folds.

The file is one column of face names, as a dataset names them ("sad/PublicTest_1.jpg") or by
file name alone ("PublicTest_1.jpg"). A name that matches no face is refused: a CSV from another
dataset would otherwise train on everything while the run's config claims something was left out.
"""

import csv
from pathlib import Path

import numpy as np

from emotion_core import atomic
from emotion_core.errors import DataError

HEADER = "file"  # the column name written by `write_names`; a first row that says so is skipped
_SHOWN = 3  # unknown names quoted in an error message


def read_names(path):
    """The face names in a one-column CSV (a header row `file` is skipped, blank rows too).

    Returns:
        list of str, in file order. Raises DataError when the file is missing, unreadable or empty.
    """
    path = Path(path).expanduser()
    try:
        with open(path, newline="", errors="replace") as file:
            rows = [row for row in csv.reader(file) if row and row[0].strip()]
    except OSError as error:
        raise DataError(f"cannot read the exclude file {path}: {error.strerror or error}") from None
    names = [row[0].strip() for row in rows]
    if names and names[0].lower() == HEADER:
        names = names[1:]
    if not names:
        raise DataError(f"the exclude file {path} lists no face names (one file name per line)")
    return names


def write_names(path, names):
    """Write `names` as a one-column CSV with a `file` header (temp file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic.replaced(path) as tmp, open(tmp, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow([HEADER])
        writer.writerows([str(name)] for name in names)
    return path


def excluded_mask(names, excluded, *, source="the exclude file"):
    """bool (n,): which of a dataset's `names` are listed in `excluded`.

    A listed name with a folder part ("sad/x.jpg") must match a face's whole name; one without
    (x.jpg) matches by file name, so a list of bare file names works on a Kaggle folder.
    Raises DataError, naming a few of them, when no listed name matches a face: the list is
    for another dataset. (Some unmatched names are allowed: an audit of train/ and test/
    together may be applied to train/ alone.)
    """
    whole = {str(n) for n in excluded if "/" in str(n)}
    bare = {str(n) for n in excluded if "/" not in str(n)}
    keys = [str(name) for name in names]
    mask = np.array([key in whole or key.rsplit("/", 1)[-1] in bare for key in keys], dtype=bool)
    if len(excluded) and not mask.any():
        listed = list(dict.fromkeys(map(str, excluded)))
        more = f" and {len(listed) - _SHOWN} more" if len(listed) > _SHOWN else ""
        raise DataError(f"none of the {len(listed)} face name(s) in {source} is in the data, e.g. "
                        f"{', '.join(map(repr, listed[:_SHOWN]))}{more}: is it a list for another dataset?")
    return mask


def drop_excluded(dataset, path):
    """`dataset` without the faces listed in the CSV at `path` (unchanged when `path` is empty).

    Returns:
        A Dataset (a subset keeping names), whose description says how many faces were left out.
    """
    if not path:
        return dataset
    mask = excluded_mask(dataset.names, read_names(path), source=f"the exclude file {path}")
    keep = np.flatnonzero(~mask)
    if not len(keep):
        raise DataError(f"the exclude file {path} leaves out every face of {dataset.description}")
    return dataset.subset(keep, description=f"{dataset.description}, {int(mask.sum())} excluded by {Path(path).name}")
