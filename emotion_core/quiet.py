"""Keeping TensorFlow's C++ log lines off the terminal.

TensorFlow and its TFLite interpreter print start-up notes ("oneDNN custom operations are on",
"Created TensorFlow Lite XNNPACK delegate") straight to the process's stderr from C++, past
every Python and environment setting. The library never prints, so those moments run with
stderr pointed at /dev/null; EMOTION_TF_LOGS=1 lets them through for debugging.
"""

import contextlib
import os

from emotion_core import settings


@contextlib.contextmanager
def silenced_stderr():
    """Point file descriptor 2 at /dev/null for the block (exceptions still propagate)."""
    if settings.tf_logs():
        yield
        return
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
