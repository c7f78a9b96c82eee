"""Starting training as a separate process, and reading its progress for a live display.

The app never trains in its own process: a crash or a stuck run cannot take the server
down, and the run folder (not memory) is what every tab and reload reads.
"""

import subprocess
import sys
import time

from emotion_core import runs
from emotion_core.models import get_spec
from emotion_core.training import check_model, start_run


def launch_training(config, *, root=None):
    """Create the run folder, then start `python -m emotion_core train --run-dir` on it.

    Returns the run folder at once; the child writes its log to train.log in that folder.
    """
    if get_spec(config.model).family == "transfer":
        check_model(config)  # missing ImageNet weights: say so now, not in a failed run
    run_dir = start_run(config, root=root)
    with open(run_dir / "train.log", "ab") as log:
        subprocess.Popen(
            [sys.executable, "-m", "emotion_core", "train", "--run-dir", str(run_dir)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,  # survives a Streamlit restart; Ctrl-C in the app's terminal does not kill it
        )
    return run_dir


def progress(status, *, now=None):
    """What a progress bar needs, from status.json: fraction done, a caption, and an ETA.

    Returns:
        dict with fraction (0-1), epoch (1-based, current), epochs, batch, steps,
        elapsed_s, eta_s (None until something is measured), caption.
    """
    epochs = int(status.get("epochs") or 0)
    steps = int(status.get("steps_per_epoch") or 0)
    epoch, batch = int(status.get("epoch") or 0), int(status.get("batch") or 0)
    elapsed = float(status.get("elapsed_seconds") or 0.0)
    if status.get("state") == runs.RUNNING and status.get("heartbeat"):
        elapsed += max(0.0, (now or time.time()) - float(status["heartbeat"]))
    done_steps = epoch * steps + batch
    total_steps = epochs * steps
    fraction = min(1.0, done_steps / total_steps) if total_steps else 0.0
    eta = elapsed / done_steps * (total_steps - done_steps) if done_steps else None
    phase = status.get("phase", "")
    if status.get("state") != runs.RUNNING:
        caption = f"{status.get('state')}: {status.get('epochs_done', epoch)} epochs"
    elif phase != "training":
        caption = f"{phase}…"
    else:
        caption = (f"epoch {min(epoch + 1, epochs)}/{epochs}, batch {batch}/{steps}, elapsed {_clock(elapsed)}"
                   + (f", about {_clock(eta)} left" if eta is not None else ""))
    return {"fraction": fraction, "epoch": epoch + 1, "epochs": epochs, "batch": batch, "steps": steps,
            "elapsed_s": elapsed, "eta_s": eta, "caption": caption}


def _clock(seconds):
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else f"{seconds // 60}:{seconds % 60:02d}"
