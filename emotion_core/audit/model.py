"""Auditing with one model: refusing a model that saw the faces, and what it says about them.

A model's predictions on faces it trained on agree with their labels, noise included (it
learnt the noise): an audit with them flags almost nothing and proves nothing. So a run whose
config trained on the audited faces (or that started from, or distilled, such a run) is refused.
The shipped model is accepted: it was trained on FER2013's train/ and is audited on test/.
"""

import hashlib
from pathlib import Path

import numpy as np

from emotion_core import atomic, runs, settings
from emotion_core.config import SYNTHETIC, split_teachers
from emotion_core.data import load_data
from emotion_core.data.crowd import votes_for
from emotion_core.errors import AuditError, DataError
from emotion_core.labels import NUM_CLASSES
from emotion_core.models.io import DEFAULT, resolve_model_path

HEAD = "emotion"  # every registered model's softmax layer; the map reads the layer before it


def faces_identity(source, split):
    """What identifies the faces of `split` of `source`: a resolved folder or file, and a split.

    Two references that read the same faces (the Kaggle root with split train, or its train/
    folder itself) give the same identity.
    """
    if str(source) == SYNTHETIC:
        return (SYNTHETIC, split)
    from emotion_core.data.sources import split_folder

    path = Path(source).expanduser()
    if path.is_file():
        return (str(path.resolve()), split)
    try:
        return (str(split_folder(path, split).resolve()), "folder")
    except DataError:
        return (str(path.resolve()), split)


def _run_of(ref):
    """The run folder a model reference belongs to (a run folder, or its model.keras), or None."""
    if str(ref) == DEFAULT:
        return None
    path = Path(ref).expanduser()
    folder = path if path.is_dir() else path.parent
    return folder if runs.read_config(folder) else None


def check_out_of_sample(ref, source, *, split="train"):
    """Raise AuditError when model `ref` trained on the faces of `split` of `source`.

    Follows the runs a run started from (`init_from`) and distilled from (`teachers`): their
    knowledge of the faces is in it too. Models without a run folder cannot be checked and pass.
    """
    audited = faces_identity(source, split)
    todo, seen = [ref], set()
    while todo:
        run_dir = _run_of(todo.pop())
        if run_dir is None or run_dir.resolve() in seen:
            continue
        seen.add(run_dir.resolve())
        config = runs.read_config(run_dir)
        if config.get("data") and faces_identity(config["data"], "train") == audited:
            via = "" if run_dir.resolve() == Path(str(ref)).expanduser().resolve() else f" (through {run_dir.name})"
            raise AuditError(f"model {ref} trained on the faces it would audit{via}: its predictions there are not "
                             f"out of sample. Audit another split, a model trained elsewhere, or use --folds K")
        todo += [t for t in [config.get("init_from", ""), *split_teachers(config.get("teachers", ""))] if t]


def _check_shipped(ref, dataset):
    """The shipped model has no run folder to check, but its card says it trained on FER2013's
    training split, whose Kaggle files are named Training_*.jpg: refuse to audit those with it."""
    if str(ref) == DEFAULT and any(str(n).rsplit("/", 1)[-1].startswith("Training_") for n in dataset.names):
        raise AuditError("the shipped model trained on FER2013's training faces (Training_*.jpg), so its predictions "
                         "there are not out of sample: audit the test split with it, or use --folds K")


def model_outputs(model, images, *, batch_size=256, progress=None):
    """What a model says about faces, in one pass: its penultimate features and its probabilities.

    Args:
        model: a loaded 7-emotion Keras model. images: uint8 (n, 48, 48).
        progress: optional callable(done, total).
    Returns:
        (float32 (n, d) the input of the final Dense layer, float32 (n, 7) probabilities).
    """
    import keras

    from emotion_core.data.prepare import scale

    head = model.get_layer(HEAD) if HEAD in [layer.name for layer in model.layers] else model.layers[-1]
    both = keras.Model(model.inputs, [head.input, model.outputs[0]])
    features, probabilities = [], []
    for start in range(0, len(images), batch_size):
        f, p = both.predict_on_batch(scale(images[start:start + batch_size]))
        features.append(np.asarray(f, np.float32).reshape(len(f), -1))
        probabilities.append(np.asarray(p, np.float32))
        if progress:
            progress(min(start + batch_size, len(images)), len(images))
    if not features:
        return np.zeros((0, 0), np.float32), np.zeros((0, NUM_CLASSES), np.float32)
    return np.concatenate(features), np.concatenate(probabilities)


def cache_file(kind, ref, dataset, *extra):
    """Where a result about model `ref` and `dataset` is kept on disk: keyed by the model file
    (path, size, time) and the faces (names, labels, pixels), so a retrained model or changed
    data never reuses it."""
    model = resolve_model_path(ref)
    stat = model.stat()
    digest = hashlib.sha256(f"{model.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{extra}".encode())
    digest.update("\n".join(map(str, dataset.names)).encode())
    digest.update(np.ascontiguousarray(dataset.labels).tobytes())
    digest.update(np.ascontiguousarray(dataset.images).tobytes())
    return settings.cache_dir() / "audit" / f"{kind}-{digest.hexdigest()[:24]}.npz"


def read_cached(path):
    """The arrays saved at `path`, or None when missing or damaged."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except (OSError, ValueError, EOFError):
        return None


def write_cached(path, **arrays):
    """Save arrays atomically (temp file, then rename); a read-only disk is not an error."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic.replaced(path) as tmp:
            np.savez(tmp, **arrays)
    except OSError:
        pass


def outputs_for(ref, dataset, *, model=None, progress=None):
    """`model_outputs` of model `ref` on `dataset`, computed once and then read from the disk cache.

    Args:
        model: the loaded model (callers that cache models pass theirs); loaded when needed.
    Returns:
        (features float32 (n, d), probabilities float32 (n, 7)).
    """
    path = cache_file("outputs", ref, dataset)
    hit = read_cached(path)
    if hit is not None and hit["probabilities"].shape == (len(dataset), NUM_CLASSES):
        return hit["features"], hit["probabilities"]
    if model is None:
        from emotion_core.models.io import load_model

        model = load_model(ref)
    features, probabilities = model_outputs(model, dataset.images, progress=progress)
    write_cached(path, features=features, probabilities=probabilities)
    return features, probabilities


def audit_with_model(source, ref, *, split="train", model=None, progress=None):
    """Audit the labels of `split` of `source` with model `ref`'s predictions; returns an Audit.

    Raises AuditError when the model trained on those faces, ModelLoadError for a model that
    is not a 48x48 7-emotion model, DataError for data that cannot be read.
    """
    from emotion_core.audit.issues import audit

    check_out_of_sample(ref, source, split=split)
    if model is None:
        from emotion_core.models.io import load_model

        model = load_model(ref)  # a model of another face size is refused here, before decoding faces
    dataset = load_data(source, split=split)
    _check_shipped(ref, dataset)
    _, probabilities = outputs_for(ref, dataset, model=model, progress=progress)
    return audit(dataset.names, dataset.labels, probabilities, crowd=votes_for(dataset.names),
                 source={"data": str(source), "split": split, "model": str(ref), "method": "model"})
