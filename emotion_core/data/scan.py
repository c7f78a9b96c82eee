"""Listing a class-folder tree (`<root>/<emotion>/<image>`): what is read, refused or ignored.

Nothing is left out silently. A file that cannot be read as a file (a named pipe, a link
that leads nowhere or in a loop, a name that is not UTF-8) is refused by name: reading a pipe
would wait for ever, and the others fail later, far from their cause. Folders are refused
when they make the layout ambiguous (`happy/` beside `Happy/`), or when an emotion would
get no faces while images sit in folders that are ignored (`sadness/`, `happy /`,
`fear/sub/`): a training must never finish with classes missing because of a folder's
name. Ignored folders beside complete classes (FER+'s `contempt/`, `happy/sub/`) are warnings.
"""

import os
from dataclasses import dataclass, field
from pathlib import Path

from emotion_core.errors import DataError
from emotion_core.labels import EMOTIONS
from emotion_core.photos.decode import IMAGE_SUFFIXES, file_problem

# Names people give these folders (FER+, other datasets), for a hint when one is ignored.
_ALIASES = {"anger": "angry", "disgusted": "disgust", "fearful": "fear", "scared": "fear", "happiness": "happy",
            "joy": "happy", "calm": "neutral", "sadness": "sad", "surprised": "surprise"}
_SHOWN = 5  # problems named in one message; the rest are counted


@dataclass
class ClassFiles:
    """pairs: (path, canonical label) of every image to read, sorted; warnings: one line each."""

    pairs: list = field(default_factory=list)
    warnings: list = field(default_factory=list)


def shown_name(name):
    """A file name fit for a message: bytes that are not UTF-8 appear as \\xff, not as surrogates."""
    return os.fsencode(str(name)).decode("utf-8", "backslashreplace")


def scan_class_folders(root):
    """The images of a class-folder tree, and warnings about what is ignored.

    Raises DataError naming the files it cannot read, case-duplicate emotion folders, or the
    ignored folders when an emotion ends up with no faces.
    """
    root = Path(root)
    folders, ignored, loose, problems = _top_level(root)
    duplicates = {e: names for e, names in folders.items() if len(names) > 1}
    if duplicates:
        e, names = next(iter(duplicates.items()))
        raise DataError(f"{root}: the folders {', '.join(shown_name(n) + '/' for n in names)} all mean {e!r}; "
                        f"merge them into one folder named {e}")
    found, nested = ClassFiles(), []
    for label, emotion in enumerate(EMOTIONS):
        if emotion in folders:
            folder = root / folders[emotion][0]
            files, folder_problems, folder_nested = _class_folder(folder)
            found.pairs.extend((path, label) for path in files)
            problems += folder_problems
            nested += folder_nested
    if problems:
        more = f" (and {len(problems) - _SHOWN} more)" if len(problems) > _SHOWN else ""
        one = len(problems) == 1
        raise DataError(f"{root}: cannot read {len(problems)} file{'' if one else 's'}: "
                        f"{'; '.join(problems[:_SHOWN])}{more}. Remove or replace {'it' if one else 'them'}")
    skipped = [_ignored_line(name, n) for name, n in ignored] + [
        f"{shown_name(path.relative_to(root))}/ ({_images(n)}): faces are read only directly inside a class folder"
        for path, n in nested]
    if loose:
        skipped.append(f"{_images(loose)} directly in {shown_name(root)}, outside any class folder")
    labels = {label for _, label in found.pairs}
    missing = [e for i, e in enumerate(EMOTIONS) if i not in labels]
    if missing and skipped:
        raise DataError(f"{root}: no faces for {', '.join(missing)}, while images were ignored in: "
                        f"{'; '.join(skipped[:_SHOWN])}. Class folders must be named {', '.join(EMOTIONS)} "
                        "and hold their images directly")
    found.warnings = [f"ignored {line}" for line in skipped]
    if missing and found.pairs:
        found.warnings.append(f"no faces for {', '.join(missing)} in {shown_name(root)}: "
                              "a model trained on this data cannot learn them")
    return found


def _top_level(root):
    """({emotion: [folder names]}, [(unknown folder name, images in it)], loose images in root, problems)."""
    folders, ignored, loose, problems = {}, [], 0, []
    for entry in sorted(os.scandir(root), key=lambda e: e.name):
        if entry.name.startswith("."):  # .DS_Store, .ipynb_checkpoints, a cache: not data
            continue
        if not _is_dir(entry) and entry.name.lower() in EMOTIONS:  # e.g. a link to a folder that is gone
            problems.append(f"{shown_name(entry.name)} {file_problem(entry.path) or 'is a file, not a folder'}")
        elif not _is_dir(entry):
            loose += Path(entry.name).suffix.lower() in IMAGE_SUFFIXES
        elif entry.name.lower() in EMOTIONS:
            folders.setdefault(entry.name.lower(), []).append(entry.name)
        else:
            count = _count_images(Path(entry.path))
            if count:
                ignored.append((entry.name, count))
    return folders, ignored, loose, problems


def _class_folder(folder):
    """(image paths, problems, [(nested folder, images in it)]) of one emotion's folder."""
    files, problems, nested = [], [], []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        name = entry.name
        if name.startswith("."):  # macOS's ._photo.jpg companions are no images
            continue
        if _is_dir(entry):
            count = _count_images(Path(entry.path))
            if count:
                nested.append((Path(entry.path), count))
            continue
        if Path(name).suffix.lower() not in IMAGE_SUFFIXES:
            continue
        where = f"{shown_name(folder.name)}/{shown_name(name)}"
        problem = "has a name that is not valid UTF-8 (rename it)" if not _utf8(name) else file_problem(entry.path)
        if problem:
            problems.append(f"{where} {problem}")
        else:
            files.append(Path(entry.path))
    return files, problems, nested


def _ignored_line(name, count):
    key = name.strip().lower()
    meant = key if key in EMOTIONS else _ALIASES.get(key)
    hint = f" (name it {meant!r})" if meant else f" (not one of {', '.join(EMOTIONS)})"
    return f"{shown_name(name)!r}/ ({_images(count)}){hint}"


def _images(count):
    return f"{count} image{'' if count == 1 else 's'}"


def _count_images(folder, depth=3):
    """Image files under `folder`, a few levels down, without following links (they may loop)."""
    count = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            count += _count_images(Path(entry.path), depth - 1) if depth > 1 else 0
        elif Path(entry.name).suffix.lower() in IMAGE_SUFFIXES:
            count += 1
    return count


def _is_dir(entry):
    try:
        return entry.is_dir()
    except OSError:  # a link in a loop
        return False


def _utf8(name):
    try:
        name.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False
