"""A K-fold audit in the background: started as its own process, followed through its run folders.

Why a process: the folds are K full trainings (hours on FER2013 here); the app must stay
responsive and survive a restart, exactly as a training started from the Train page does.
The process is `python -m emotion_core audit --folds K ... --json`, so the CLI and the app share
one code path; the page follows the fold runs' status files, and once every fold is finished,
`folds.audit_with_folds` reuses them and only predicts.
"""

import subprocess
import sys

from emotion_core import runs, settings
from emotion_core.audit.folds import FOLDS_FOLDER, plan_folds
from emotion_core.errors import RunError

NOT_STARTED = "not started"


def fold_run_names(source, k, *, preset="fast", seed=0):
    """The K run folder names of this audit (named by its faces, recipe, K and seed)."""
    return plan_folds(source, k, preset=preset, seed=seed)[3]


def fold_states(names, *, root=None):
    """Where each fold stands, from its run folder (cheap enough to poll every few seconds).

    Args:
        names: the folds' run folder names (`fold_run_names`).
    Returns:
        list of dicts: name, run (its folder), state (a runs state, or NOT_STARTED) and
        caption (the run's progress line, as the Train page shows it).
    """
    states = []
    for name in names:
        run_dir = runs.runs_root(root) / name
        status = runs.read_status(run_dir) if run_dir.is_dir() else None
        states.append({"name": name, "run": run_dir, "state": status["state"] if status else NOT_STARTED,
                       "caption": runs.progress(status)["caption"] if status else NOT_STARTED})
    return states


def launch_fold_audit(source, k, *, preset="fast", seed=0, root=None):
    """Start the K-fold audit of `source` as a separate process; finished folds are reused by it.

    Refused while `settings.max_trainings()` runs are training under the runs root (a fold is
    a training). Returns the log file the process writes its progress to.
    """
    running = [info for info in runs.list_runs(root) if info.state == runs.RUNNING]
    if len(running) >= settings.max_trainings():
        raise RunError(f"{running[0].name} is still training, and this server runs {settings.max_trainings()} "
                       "training(s) at a time: wait for it, or stop it")
    names = fold_run_names(source, k, preset=preset, seed=seed)  # bad data or K: refused here, not in the process
    folder = runs.runs_root(root) / FOLDS_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    stem = names[0].rsplit("-fold", 1)[0]
    log = folder / f"{stem}.log"
    command = [sys.executable, "-m", "emotion_core", "audit", "--data", str(source), "--folds", str(k),
               "--preset", preset, "--seed", str(seed), "--runs-dir", str(runs.runs_root(root)), "--json"]
    with open(folder / f"{stem}.json", "wb") as out, open(log, "ab") as err:
        subprocess.Popen(command, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                         start_new_session=True)  # survives a Streamlit restart
    return log
