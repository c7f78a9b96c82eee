"""Writing a file so that readers see the old one or the new one, never half of either.

Every writer in this project goes through `replaced`: the content is written to a temp file
beside the target under a name no other writer uses (pid and a random part: two processes,
or two threads, saving the same file never share a temp file), renamed over the target on
success and removed on failure, so a full disk or an exception leaves nothing behind.
"""

import contextlib
import os
import uuid
from pathlib import Path

TEMP_PREFIX = ".tmp-"  # runs.py sweeps old files starting with this from a run folder


def temp_path_for(path):
    """A unique temp name beside `path`, keeping its suffix (Keras and NumPy check suffixes)."""
    path = Path(path)
    return path.with_name(f"{TEMP_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}-{path.name}")


@contextlib.contextmanager
def replaced(path):
    """Yield a temp path to write; on leaving the block it replaces `path` (or is removed on error)."""
    tmp = temp_path_for(path)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def write_text(path, text):
    with replaced(path) as tmp:
        Path(tmp).write_text(text)
