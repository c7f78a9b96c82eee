"""Starting training as a separate process.

The app never trains in its own process: a crash or a stuck run cannot take the server
down, and the run folder (not memory) is what every tab and reload reads.
"""

import os
import subprocess
import sys
import threading

from emotion_core import runs, settings
from emotion_core.errors import RunError
from emotion_core.models import get_spec
from emotion_core.training.loop import check_data, check_model, start_run


LAUNCH_LOCK = ".launch.lock"  # in the runs root: one launch at a time, across threads and processes


def launch_training(config, *, root=None, recipe=None, name=""):
    """Check `config`, create the run folder, then start `python -m emotion_core train --run-dir`.

    Refused while `settings.max_trainings()` runs are already training under the runs root.
    Counting the running runs and creating the new one happen under one lock, so two clicks
    10 ms apart, in two browser sessions or two servers, can never both pass the count.
    Returns the run folder at once; the child writes its output to the run's log file.
    """
    limit = settings.max_trainings()
    if name.strip():
        runs.check_name(name)
    config.validate()
    check_data(config)
    if get_spec(config.model).family == "transfer" or config.teachers:
        check_model(config)  # missing ImageNet weights or a teacher that is no model: say so now, not in a failed run
    folder = runs.runs_root(root)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RunError(f"cannot create the runs folder {folder}: {error.strerror or error}") from None
    with runs.exclusive(folder / LAUNCH_LOCK, "another training is being started at this moment; try again"):
        running = [info for info in runs.list_runs(root) if info.state == runs.RUNNING]
        if len(running) >= limit:
            raise RunError(f"{running[0].name} is still training, and this server runs {limit} training(s) at a "
                           "time: stop it or wait for it to finish")
        run_dir = start_run(config, root=root, recipe=recipe)
        if name.strip():  # a short label given at Start
            runs.rename_run(run_dir, name)
        with open(runs.log_path(run_dir), "ab") as log:
            child = subprocess.Popen(
                [sys.executable, "-m", "emotion_core", "train", "--run-dir", str(run_dir)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,  # survives a Streamlit restart; Ctrl-C in the app's terminal does not kill it
            )
        # Reap the child when it ends: an unreaped dead child still answers "alive" to kill(pid, 0).
        threading.Thread(target=child.wait, daemon=True).start()
        # The child's pid at once, not the server's: a child killed before it writes its own
        # status is then seen as lost within seconds, instead of "running" for ever.
        if runs.read_status(run_dir).get("pid") == os.getpid():  # unless the child has written its own
            runs.write_status(run_dir, runs.RUNNING, pid=child.pid, phase="starting")
    return run_dir
