"""Training again without the flagged faces: the exclude file an audit writes, and the run's recipe.

Why a file under the runs root: the run's config.json names it (`exclude`), so the run can be
repeated, compared with the run that kept the faces, and read by `train --exclude` as is.
"""

import dataclasses
from datetime import datetime

from emotion_core import runs
from emotion_core.config import PRESETS
from emotion_core.data.exclude import write_names
from emotion_core.errors import AuditError

EXCLUDE_FOLDER = "audit-exclude"  # no config.json inside, so run lists never take it for a run


def exclude_file(names, *, root=None):
    """Write `names` as an exclude CSV under the runs root; returns its path."""
    names = [str(n) for n in names]
    if not names:
        raise AuditError("no flagged faces to leave out")
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    return write_names(runs.runs_root(root) / EXCLUDE_FOLDER / f"{stamp}-{len(names)}-faces.csv", names)


def without_flagged(result, *, preset="fast", epochs=None, root=None):
    """The recipe that trains on the audited training faces less the flagged ones.

    Args:
        result: an Audit of a training split (`source["split"] == "train"`): flagged test
            faces are not in any training data, so leaving them out would change nothing.
        epochs: the run's budget (default: the preset's); a pair of runs compared at an equal
            budget needs the same number for both.
    Returns:
        TrainConfig: PRESETS[preset] on the audited data, with `exclude` naming a new CSV.
    """
    if result.source.get("split") != "train":
        raise AuditError("only an audit of training faces can be left out of a training: audit the train split "
                         "(with a model that never saw it, or with --folds K)")
    base = PRESETS[preset]
    epochs = epochs or base.epochs
    path = exclude_file([result.names[i] for i in result.issues], root=root)
    return dataclasses.replace(base, data=result.source["data"], exclude=str(path), epochs=epochs,
                               patience=min(base.patience, epochs))
