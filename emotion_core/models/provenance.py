"""What a shipped model file remembers of how it was made: a JSON file beside it.

Why a file of its own: a run started from a model file (`--init-from default`) must keep
that model's recipe after the file is replaced. Reading it back from the model card made a
generated document an input; `ship` writes this record beside the model instead, and it
names the model's SHA-256, so a record left beside another model is never believed.
"""

import hashlib
from pathlib import Path

from emotion_core import runs


def provenance_path(model_path):
    """`default_model.keras` -> `default_model.json`."""
    return Path(model_path).with_suffix(".json")


def file_digest(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def provenance_record(model_path, *, reproduce, minutes, run):
    """The record `ship` writes beside `model_path` (commands without machine paths)."""
    return {"model_sha256": file_digest(model_path), "run": run, "reproduce": reproduce, "minutes": int(minutes)}


def read_provenance(model_path):
    """The record beside `model_path` if it describes exactly that file, else None."""
    record = runs.read_json(provenance_path(model_path))
    if not record or record.get("model_sha256") != file_digest(model_path):
        return None
    reproduce, minutes = record.get("reproduce"), record.get("minutes")
    if not isinstance(reproduce, str) or isinstance(minutes, bool) or not isinstance(minutes, int):
        return None
    return record


def starting_point(init_from):
    """What a run starting from a model file (not a run folder) must remember of it: the
    file's name, its reproduce commands and training minutes. None for a run folder or none."""
    from emotion_core.models.io import resolve_model_path

    if not init_from or runs.read_config(init_from):
        return None
    path = resolve_model_path(init_from)
    record = read_provenance(path) or {"reproduce": "", "minutes": 0}
    return {"file": path.name, "reproduce": record["reproduce"], "minutes": record["minutes"]}
