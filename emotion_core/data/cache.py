"""A small on-disk cache of decoded datasets, so a second load of FER2013 takes a second.

The key covers the path, its size and modification times, so editing the data
invalidates the cache without any bookkeeping by the user.
"""

import hashlib
import json
from pathlib import Path

import numpy as np

from emotion_core import atomic, settings
from emotion_core.data.dataset import Dataset


def cache_dir():
    """EMOTION_CACHE_DIR, or ~/.cache/emotion_core."""
    return settings.cache_dir()


def key_for(path, kind):
    """A hash of what identifies the data at `path`: its files' names, sizes and mtimes."""
    path = Path(path).resolve()
    digest = hashlib.sha256(f"{path}|{kind}|v1".encode())
    entries = [path] if path.is_file() else sorted(path.rglob("*"))
    for entry in entries:
        try:
            stat = entry.stat()
        except OSError:  # a link that leads nowhere or in a loop, outside what is read: its own metadata
            stat = entry.lstat()
        # surrogateescape: a file name that is not UTF-8 is hashed as its bytes instead of failing
        digest.update(f"{entry.relative_to(path.parent)}|{stat.st_size}|{stat.st_mtime_ns}".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()[:24]


def read(key):
    """The cached Dataset for `key`, or None (a damaged cache file counts as a miss)."""
    file = cache_dir() / f"{key}.npz"
    if not file.exists():
        return None
    try:
        with np.load(file, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            return Dataset(data["images"], data["labels"], meta["description"], list(data["names"]))
    except Exception:  # a half-written or foreign file: decode again
        return None


def write(key, dataset):
    """Store `dataset` atomically (temp file, then rename); a read-only disk is not an error."""
    try:
        folder = cache_dir()
        folder.mkdir(parents=True, exist_ok=True)
        meta = json.dumps({"description": dataset.description})
        with atomic.replaced(folder / f"{key}.npz") as tmp:  # a full disk leaves no partial file behind
            np.savez(tmp, images=dataset.images, labels=dataset.labels, names=np.asarray(dataset.names), meta=meta)
    except OSError:
        pass
