"""Out-of-fold probabilities: K models, each trained without one fold, each asked only about it.

This is how a training folder can be audited: no model has an opinion on a face it trained on.
Each fold is an ordinary run of the one training loop (its held-out faces left out through the
`exclude` CSV that `train --exclude` reads), so it shows up live in the app, survives a crash as
a readable record, and is reused when the audit runs again: a finished fold is never retrained.
Folds are named by a key of (the faces, the recipe, K, the seed), so changing any of them
starts afresh, and nothing else does.
"""

import dataclasses
import hashlib
import json
from pathlib import Path

import numpy as np

from emotion_core import runs
from emotion_core.config import PRESETS, SYNTHETIC
from emotion_core.data import load_data
from emotion_core.data.crowd import votes_for
from emotion_core.data.exclude import write_names
from emotion_core.errors import AuditError
from emotion_core.labels import NUM_CLASSES

FOLDS_FOLDER = "audit-folds"  # under the runs root: the held-out names of each fold (no config.json, so no run)
MAX_FOLDS = 20


def fold_of(labels, k, *, seed=0):
    """int (n,): the fold (0..k-1) of each face, stratified so every fold has the class mix of the whole."""
    from sklearn.model_selection import KFold, StratifiedKFold

    labels = np.asarray(labels)
    counts = np.bincount(labels)
    splitter = (StratifiedKFold(k, shuffle=True, random_state=seed) if counts[counts > 0].min() >= k
                else KFold(k, shuffle=True, random_state=seed))  # a class smaller than k cannot be stratified
    folds = np.empty(len(labels), dtype=np.int64)
    for fold, (_, held_out) in enumerate(splitter.split(np.zeros(len(labels)), labels)):
        folds[held_out] = fold
    return folds


def folds_key(dataset, config, k):
    """A short hash of what the folds depend on: the faces (names, labels, pixels), the recipe and K."""
    recipe = dataclasses.replace(config, exclude="", data="").to_dict()
    digest = hashlib.sha256(json.dumps({"recipe": recipe, "k": k}, sort_keys=True, default=str).encode())
    digest.update("\n".join(map(str, dataset.names)).encode())
    digest.update(np.ascontiguousarray(dataset.labels).tobytes())
    digest.update(np.ascontiguousarray(dataset.images).tobytes())
    return digest.hexdigest()[:10]


def fold_config(source, *, preset="fast", config=None, seed=0):
    """The recipe each fold trains with: `config`, else the named preset, on `source`'s training split."""
    if config is None:
        if preset not in PRESETS:
            raise AuditError(f"unknown preset {preset!r}; use one of {', '.join(sorted(PRESETS))}")
        config = PRESETS[preset]
    data = source if str(source) == SYNTHETIC else str(Path(source).expanduser().resolve())
    return dataclasses.replace(config, data=data, seed=seed, exclude="")


def train_folds(source, k, *, preset="fast", config=None, seed=0, root=None, progress=None, callbacks_for=None):
    """Train (or reuse) the K fold runs; returns (the Dataset, fold per face, the K run folders).

    Args:
        source: the data whose training split is audited.
        config: the recipe (tests pass a tiny one); default: PRESETS[preset].
        progress: optional callable(fold from 1, k, message), before each fold.
        callbacks_for: optional callable(fold from 1, k) -> list of Keras callbacks (the CLI's progress bar).
    Raises AuditError when K is out of range, a fold is training in another process, or a fold was stopped.
    """
    base, dataset, folds, names = plan_folds(source, k, preset=preset, config=config, seed=seed)
    run_dirs = []
    for fold, name in enumerate(names):
        run_dirs.append(_fold_run(dataset, folds, fold, k, base, name, root=root, progress=progress,
                                  callbacks=callbacks_for(fold + 1, k) if callbacks_for else ()))
    return dataset, folds, run_dirs


def plan_folds(source, k, *, preset="fast", config=None, seed=0):
    """What a K-fold audit of `source` trains, without training anything.

    Returns:
        (the folds' TrainConfig, the training Dataset (n), int (n,) fold of each face, the K run folder names).
    """
    if isinstance(k, bool) or not isinstance(k, int) or not 2 <= k <= MAX_FOLDS:
        raise AuditError(f"--folds must be a whole number from 2 to {MAX_FOLDS}, not {k!r}")
    base = fold_config(source, preset=preset, config=config, seed=seed)
    dataset = load_data(base.data, split="train")
    if len(dataset) < 2 * k:
        raise AuditError(f"{len(dataset)} faces are too few for {k} folds")
    key = folds_key(dataset, base, k)
    return base, dataset, fold_of(dataset.labels, k, seed=seed), [f"audit-{key}-fold{i + 1}of{k}" for i in range(k)]


def _fold_run(dataset, folds, fold, k, base, name, *, root, progress, callbacks):
    """One fold's finished run folder: reused when finished, else (re)trained here."""
    from emotion_core.training.loop import start_run, train

    run_dir = runs.runs_root(root) / name
    status = runs.read_status(run_dir) if run_dir.is_dir() else {}
    if status.get("state") == runs.FINISHED and runs.has_model(run_dir):
        if progress:
            progress(fold + 1, k, f"fold {fold + 1} of {k}: finished earlier, reused")
        return run_dir
    if status.get("state") == runs.RUNNING:
        raise AuditError(f"fold {fold + 1} of {k} ({run_dir}) is training in another process (pid "
                         f"{status.get('pid')}): wait for it, or stop it")
    if run_dir.is_dir():  # failed, stopped or lost: start it again from scratch
        runs.delete_run(run_dir)
    held_out = runs.runs_root(root) / FOLDS_FOLDER / f"{name}.csv"
    write_names(held_out, [dataset.names[i] for i in np.flatnonzero(folds == fold)])
    config = dataclasses.replace(base, exclude=str(held_out))
    if progress:
        progress(fold + 1, k, f"fold {fold + 1} of {k}: training on {int((folds != fold).sum()):,} faces")
    run_dir = start_run(config, root=root, recipe=f"audit fold {fold + 1}/{k}", folder_name=name)
    runs.rename_run(run_dir, f"audit fold {fold + 1} of {k} on {Path(str(base.data)).name}", root=root)
    train(config, run_dir=run_dir, callbacks=list(callbacks))
    if runs.read_status(run_dir).get("state") != runs.FINISHED:
        raise AuditError(f"fold {fold + 1} of {k} was stopped; run the audit again to resume from it")
    return run_dir


def out_of_fold_probabilities(dataset, folds, run_dirs, *, progress=None):
    """float32 (n, 7): each face's probabilities from the one fold model that never trained on it."""
    from emotion_core.audit.model import outputs_for

    probabilities = np.zeros((len(dataset), NUM_CLASSES), np.float32)
    for fold, run_dir in enumerate(run_dirs):
        held_out = np.flatnonzero(folds == fold)
        _, probabilities[held_out] = outputs_for(run_dir, dataset.subset(held_out), progress=progress)
    return probabilities


def audit_with_folds(source, k, *, preset="fast", config=None, seed=0, root=None, progress=None, callbacks_for=None):
    """Audit the training split of `source` with K-fold out-of-fold probabilities; returns an Audit.

    See `train_folds` for the arguments; folds already finished are reused.
    """
    from emotion_core.audit.issues import audit

    dataset, folds, run_dirs = train_folds(source, k, preset=preset, config=config, seed=seed, root=root,
                                           progress=progress, callbacks_for=callbacks_for)
    probabilities = out_of_fold_probabilities(dataset, folds, run_dirs)
    return audit(dataset.names, dataset.labels, probabilities, crowd=votes_for(dataset.names),
                 source={"data": str(source), "split": "train", "folds": k,
                         "preset": preset if config is None else "custom", "seed": seed,
                         "epochs": (config or PRESETS[preset]).epochs,
                         "runs": [str(r) for r in run_dirs]})
