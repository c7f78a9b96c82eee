"""Data sources: a Kaggle-layout folder, the original fer2013.csv, or `synthetic`.

Every source loads into a `Dataset` with labels in the canonical order of
`emotion_core.labels`, whatever naming the files used.
"""

from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from emotion_core.config import SYNTHETIC
from emotion_core.data import cache
from emotion_core.data.dataset import Dataset
from emotion_core.data.scan import scan_class_folders
from emotion_core.errors import DataError, ImageError
from emotion_core.labels import EMOTIONS, FACE_SIZE, index_from_csv_code
from emotion_core.photos.decode import read_image_file

SPLITS = ("train", "test")
# fer2013.csv `Usage` values -> our split names. The Kaggle folder's test/ holds both
# test halves, so the CSV's do too: the two formats then give the same splits.
_CSV_USAGE_TO_SPLIT = {"Training": "train", "PublicTest": "test", "PrivateTest": "test"}
_CSV_COLUMNS = ("emotion", "pixels")


def load_data(source, *, split="train", progress=None):
    """Load one split of a data source.

    Args:
        source: `synthetic`, a path to fer2013.csv, a folder of class folders, or a
            folder holding `train/` and `test/` class-folder trees.
        split: `train` or `test`; ignored for a folder that is itself one split.
        progress: optional callable(done, total) for long decodes.

    Returns:
        A `Dataset`, whose `warnings` say what a class-folder tree had that was ignored.
        Raises `DataError` with a user-facing message on bad input.
    """
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}; expected one of {', '.join(SPLITS)}")
    if str(source) == SYNTHETIC:
        from emotion_core.data.synthetic import synthetic_dataset

        return synthetic_dataset(split=split)
    path = Path(source).expanduser()
    if not str(source).strip() or not path.exists():
        raise DataError(f"data source not found: {str(source)!r}")
    try:
        if path.is_file():
            return _cached(path, split, lambda: load_csv(path, split=split))
        folder = split_folder(path, split)
        found = scan_class_folders(folder)  # refuses what it cannot read before the cache lists the files
        dataset = _cached(folder, "folder", lambda: load_class_folders(folder, progress=progress, found=found))
        dataset.warnings = list(found.warnings)
        return dataset
    except PermissionError as error:
        raise DataError(f"no permission to read {error.filename or path}") from None
    except OSError as error:  # a folder that vanished or turned unreadable while being listed
        raise DataError(f"cannot read {error.filename or path}: {(error.strerror or str(error)).lower()}") from None


def has_split(source, split):
    """True when `source` offers `split` (a CSV with that Usage, or a `split/` folder)."""
    if str(source) == SYNTHETIC:
        return True
    path = Path(source)
    if path.is_file():
        return True
    return (path / split).is_dir() or (split == "train" and _is_class_folder_tree(path))


def split_folder(root, split):
    """The class-folder tree to read for `split` under a Kaggle-layout `root`."""
    root = Path(root).expanduser()
    if (root / split).is_dir():
        return root / split
    if _is_class_folder_tree(root):
        return root
    raise DataError(
        f"{root} is not a Kaggle-layout folder: expected class folders "
        f"({', '.join(EMOTIONS)}) or {split}/ containing them"
    )


def _is_class_folder_tree(path):
    return any((path / name).is_dir() for name in EMOTIONS)


def list_class_files(root):
    """(path, label) pairs for every image file under `root/<class>/`, sorted for repeatability
    (see data.scan for what is refused and what is ignored)."""
    return scan_class_folders(root).pairs


def load_class_folders(root, *, progress=None, found=None):
    """Decode every image of a class-folder tree; files that do not decode are skipped and counted.

    Args:
        found: the tree's `scan_class_folders` result, when the caller has it already.
    """
    root = Path(root)
    found = found or scan_class_folders(root)
    pairs = found.pairs
    if not pairs:
        raise DataError(f"no images found in {root} (expected {', '.join(EMOTIONS)} folders of images)")
    images, labels, names, bad = [], [], [], []
    for done, (path, label) in enumerate(pairs, start=1):
        face = _read_face_file(path)
        if face is None:
            bad.append(path.name)
        else:
            images.append(face)
            labels.append(label)
            names.append(f"{path.parent.name}/{path.name}")
        if progress and (done % 500 == 0 or done == len(pairs)):
            progress(done, len(pairs))
    if not images:
        raise DataError(f"none of the {len(pairs)} image files in {root} could be decoded")
    description = f"{root} ({len(images)} images" + (f", {len(bad)} unreadable skipped)" if bad else ")")
    return Dataset(np.stack(images), np.asarray(labels, dtype=np.int64), description, names,
                   warnings=list(found.warnings))


def load_csv(path, *, split="train"):
    """Load fer2013.csv (`emotion,pixels[,Usage]`); without `Usage`, every row is `train`."""
    try:
        table = pd.read_csv(path, dtype={"pixels": str})
    except Exception as error:  # pandas raises many types for non-CSV input
        raise DataError(f"cannot read {path} as CSV: {error}") from None
    missing = [c for c in _CSV_COLUMNS if c not in table.columns]
    if missing:
        raise DataError(
            f"{path} lacks column(s) {', '.join(missing)}; fer2013.csv has emotion,pixels,Usage"
        )
    if "Usage" in table.columns:
        unknown = set(table["Usage"]) - set(_CSV_USAGE_TO_SPLIT)
        if unknown:
            raise DataError(f"{path}: unknown Usage value(s) {sorted(map(str, unknown))}")
        rows = table[table["Usage"].map(_CSV_USAGE_TO_SPLIT) == split]
    else:
        rows = table if split == "train" else table.iloc[:0]
    if rows.empty:
        raise DataError(f"{path} has no rows for the {split} split")
    images = np.stack([_parse_pixels(p, path, i) for i, p in zip(rows.index, rows["pixels"])])
    labels = np.asarray([_parse_label(c, path, i) for i, c in zip(rows.index, rows["emotion"])], dtype=np.int64)
    names = [f"row {i}" for i in rows.index]
    return Dataset(images, labels, f"{path} ({split}, {len(rows)} rows)", names)


def _line(row):
    """The file line of data row `row` (0-based, after the header line)."""
    return row + 2


def _parse_label(code, path, row):
    try:
        return index_from_csv_code(code)
    except DataError as error:
        raise DataError(f"{path} line {_line(row)}: {error}") from None


def _parse_pixels(text, path, row):
    """48*48 whole numbers 0-255 separated by spaces -> uint8 (48, 48)."""
    words = str(text).split() if isinstance(text, str) else []
    if len(words) != FACE_SIZE * FACE_SIZE:
        raise DataError(f"{path} line {_line(row)}: expected {FACE_SIZE * FACE_SIZE} pixel values, got {len(words)}")
    if not all(word.isdigit() for word in words):
        bad = next(word for word in words if not word.isdigit())
        raise DataError(f"{path} line {_line(row)}: pixel value {bad!r} is not a whole number 0-255")
    values = np.array(words, dtype=np.int64)
    if values.max() > 255:
        raise DataError(f"{path} line {_line(row)}: pixel value {values.max()} is above 255")
    return values.astype(np.uint8).reshape(FACE_SIZE, FACE_SIZE)


def _read_face_file(path):
    """One dataset image as uint8 (48, 48) grayscale; None when it cannot be decoded.

    Other sizes are resized with area interpolation (the right filter when shrinking), so
    such files are accepted, not rejected.
    """
    try:
        image = read_image_file(path, gray=True)
    except ImageError:
        return None
    if image.shape != (FACE_SIZE, FACE_SIZE):
        image = cv2.resize(image, (FACE_SIZE, FACE_SIZE), interpolation=cv2.INTER_AREA)
    return image


def _cached(path, kind, load):
    """Decode once, then read the arrays back from the cache while the source is unchanged."""
    key = cache.key_for(path, kind)
    hit = cache.read(key)
    if hit is not None:
        return hit
    dataset = load()
    cache.write(key, dataset)
    return dataset
