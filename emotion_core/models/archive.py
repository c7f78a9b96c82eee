"""A .keras file checked from its zip directory before Keras reads a byte of it.

Keras unpacks config.json into memory whole: a 1 MB archive whose config is padded with a
gigabyte of spaces (compressed a thousand to one) took 2.8 GB to load. The zip directory
states every member's unpacked size, and Python's zipfile never unpacks more than stated
(it stops there and fails the CRC), so checking the stated sizes bounds the memory a load
can take. The file's first bytes also say what it is when it is no zip at all, so an HDF5
file or a truncated copy gets its own message instead of Keras's "File not found".
"""

import zipfile

from emotion_core.errors import ModelLoadError

MAX_JSON_BYTES = 16 * 2**20  # a model's config.json is tens of KB; a ResNet50's is under 1 MB
MAX_UNPACKED_BYTES = 2**30  # all members together; the largest registered model stores ~100 MB of weights
_HDF5 = b"\x89HDF\r\n\x1a\n"
_ZIP = b"PK\x03\x04"
_DAMAGED = "is damaged or not a Keras 3 model file"


def check_archive(path):
    """Raise ModelLoadError unless `path` is a complete zip holding a config.json of sane size.

    Args:
        path: pathlib.Path of a non-empty file.
    """
    with open(path, "rb") as file:
        head = file.read(8)
    if head.startswith(_HDF5):
        raise ModelLoadError(f"{path} {_DAMAGED}: it is an HDF5 file (a Keras 2 .h5 model) named .keras; "
                             "load it with the Keras that made it and save it again as .keras")
    if not head.startswith(_ZIP):
        raise ModelLoadError(f"{path} {_DAMAGED}: a .keras file is a zip archive, and this is none")
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError):
        raise ModelLoadError(f"{path} {_DAMAGED}: it is truncated (a zip archive whose directory at the end is "
                             "missing or broken; was the copy cut off?)") from None
    _check_members(path, members)


def _check_members(path, members):
    names = {member.filename for member in members}
    if "config.json" not in names:
        raise ModelLoadError(f"{path} {_DAMAGED}: the zip archive holds no config.json")
    for member in members:
        if member.filename.endswith(".json") and member.file_size > MAX_JSON_BYTES:
            raise ModelLoadError(f"{path} {_DAMAGED}: its {member.filename} would unpack to "
                                 f"{_mib(member.file_size)} (a model's is well under {_mib(MAX_JSON_BYTES)}); "
                                 "refused before loading")
    unpacked = sum(member.file_size for member in members)
    if unpacked > MAX_UNPACKED_BYTES:
        raise ModelLoadError(f"{path} would unpack to {_mib(unpacked)}, over the {_mib(MAX_UNPACKED_BYTES)} "
                             "this app loads; refused before loading")


def _mib(size):
    return f"{size / 2**20:,.0f} MiB"
