"""Starting training as a separate process.

The app never trains in its own process: a crash or a stuck run cannot take the server
down, and the run folder (not memory) is what every tab and reload reads.
"""

import subprocess
import sys

from emotion_core import runs
from emotion_core.models import get_spec
from emotion_core.training.loop import check_data, check_model, start_run


def launch_training(config, *, root=None):
    """Check `config`, create the run folder, then start `python -m emotion_core train --run-dir`.

    Returns the run folder at once; the child writes its output to the run's log file.
    """
    config.validate()
    check_data(config)
    if get_spec(config.model).family == "transfer":
        check_model(config)  # missing ImageNet weights: say so now, not in a failed run
    run_dir = start_run(config, root=root)
    with open(runs.log_path(run_dir), "ab") as log:
        subprocess.Popen(
            [sys.executable, "-m", "emotion_core", "train", "--run-dir", str(run_dir)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,  # survives a Streamlit restart; Ctrl-C in the app's terminal does not kill it
        )
    return run_dir
