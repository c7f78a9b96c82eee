"""Starting training as a separate process.

The app never trains in its own process: a crash or a stuck run cannot take the server
down, and the run folder (not memory) is what every tab and reload reads.
"""

import os
import subprocess
import sys

from emotion_core import runs
from emotion_core.errors import RunError
from emotion_core.models import get_spec
from emotion_core.training.loop import check_data, check_model, start_run


def max_trainings():
    """How many trainings the app may run at once: EMOTION_MAX_TRAININGS, default 1. On a
    shared classroom server with 2 cores, a second training halves the first one's speed."""
    try:
        return max(1, int(os.environ.get("EMOTION_MAX_TRAININGS", "1")))
    except ValueError:
        return 1


def launch_training(config, *, root=None, recipe=None):
    """Check `config`, create the run folder, then start `python -m emotion_core train --run-dir`.

    Refused while `max_trainings()` runs are already training under the runs root.
    Returns the run folder at once; the child writes its output to the run's log file.
    """
    running = [info for info in runs.list_runs(root) if info.state == runs.RUNNING]
    if len(running) >= max_trainings():
        raise RunError(f"{running[0].name} is still training, and this server runs {max_trainings()} training(s) at "
                       "a time: stop it or wait for it to finish (EMOTION_MAX_TRAININGS allows more)")
    config.validate()
    check_data(config)
    if get_spec(config.model).family == "transfer" or config.teachers:
        check_model(config)  # missing ImageNet weights or a teacher that is no model: say so now, not in a failed run
    run_dir = start_run(config, root=root, recipe=recipe)
    with open(runs.log_path(run_dir), "ab") as log:
        subprocess.Popen(
            [sys.executable, "-m", "emotion_core", "train", "--run-dir", str(run_dir)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,  # survives a Streamlit restart; Ctrl-C in the app's terminal does not kill it
        )
    return run_dir
