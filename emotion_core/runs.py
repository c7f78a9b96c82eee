"""The run folder: the one module that knows its file names and formats.

Folder contract (docs/ARCHITECTURE.md): config.json (written first), metrics.jsonl (append-only,
one object per epoch, plus optional batch rows), status.json (replaced atomically),
model.keras (best checkpoint, replaced atomically), evaluation.json and predictions.npz once
finished. A file `stop` asks the training process to stop; train.log holds its output.

Reading never raises for a damaged folder: whatever cannot be read is reported in
`RunInfo.damaged`, so one broken folder cannot take a page or the `runs` command down.
"""

import contextlib
import functools
import fcntl
import json
import math
import os
import shutil
import socket
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from emotion_core import atomic, run_records, settings
from emotion_core.errors import RunError

CONFIG, METRICS, STATUS, MODEL = "config.json", "metrics.jsonl", "status.json", "model.keras"
EVALUATION, PREDICTIONS, NAME, STOP, LOG = "evaluation.json", "predictions.npz", "name.json", "stop", "train.log"
OWNER = ".owner.lock"  # held (flock) by the one process training the run
RUNNING, FINISHED, STOPPED, FAILED = "running", "finished", "stopped", "failed"
LOST = "lost"  # shown for a run whose process died without saying so
STATES = (RUNNING, FINISHED, STOPPED, FAILED, LOST)
HEARTBEAT_TIMEOUT_S = 120.0  # no heartbeat for this long (and pid gone) means the process died
_TEMP_PATTERNS = (".tmp-*", ".*.tmp", ".*.tmp.npz")  # what atomic writers leave when killed mid-write
ORPHAN_AGE_S = 600.0  # a temp file this old has no writer left; a younger one may be being written now


runs_root = settings.runs_root  # the runs root: a given path, else EMOTION_RUNS_DIR, else ./runs


# ---- JSON, strictly written and tolerantly read ----

def write_json_atomic(path, data):
    """Write strict JSON (NaN and infinities become null) to a temp file beside `path`, then
    rename: readers never see half a file, and every reader can parse it."""
    atomic.write_text(path, json.dumps(_finite(data), indent=2, default=str, allow_nan=False))


def _finite(value):
    """`value` with every non-finite float replaced by None (JSON has no NaN)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def read_json(path, default=None):
    """The JSON object at `path`, or `default` when it is missing, unreadable or not an object."""
    try:
        data = json.loads(Path(path).read_text(errors="replace"))
    except (OSError, ValueError):
        return default
    return data if isinstance(data, dict) else default


# ---- creating a run and reporting its progress ----

def create_run(config_dict, *, root=None, model_name="model", folder_name=None):
    """Make a new run folder `YYYYmmdd-HHMMSS-<model>` (or `folder_name`) and write config.json into it first.

    Two runs started in the same second get distinct folders (a numeric suffix), and the
    folder is created with exist_ok=False, so concurrent starts never share a folder.
    """
    root, run_dir = runs_root(root), None
    try:
        root.mkdir(parents=True, exist_ok=True)
        stem = folder_name or f"{datetime.now():%Y%m%d-%H%M%S}-{model_name}"
        for attempt in range(1000):
            run_dir = root / (stem if attempt == 0 else f"{stem}-{attempt + 1}")
            try:
                run_dir.mkdir()
                break
            except FileExistsError:
                continue
        write_json_atomic(run_dir / CONFIG, config_dict)
        write_status(run_dir, RUNNING)
    except OSError as error:
        if run_dir is not None and run_dir.is_dir():  # a full disk must not leave an empty run behind
            shutil.rmtree(run_dir, ignore_errors=True)
        raise RunError(f"cannot create a run folder in {root}: {error.strerror or error}") from None
    return run_dir


def read_config(run_dir):
    """config.json as a dict ({} when missing or damaged; fields of the wrong type left out)."""
    return _read_checked(Path(run_dir) / CONFIG, run_records.check_config)[0] or {}


def _read_checked(path, check):
    """(the JSON object at `path` through `check`, or None; the problems found, one line each).

    A missing file is no problem (not written yet); one that holds no JSON object is.
    """
    data = read_json(path)
    if data is None:
        return None, ([f"{path.name} is not a readable JSON object"] if path.exists() else [])
    return check(data)


def write_status(run_dir, state, **fields):
    """Replace status.json with `state`, our pid, a heartbeat time and any extra fields."""
    status = {"state": state, "pid": os.getpid(), "host": socket.gethostname(), "heartbeat": time.time()}
    status.update(fields)
    write_json_atomic(Path(run_dir) / STATUS, status)


def write_last_status(run_dir, state, **fields):
    """`write_status` for a run's last word, which must land even on a full disk: when the temp
    file cannot be written, status.json is overwritten in place, in the blocks it already has,
    with the state and the start of the error (a run that said nothing would read as "lost")."""
    try:
        write_status(run_dir, state, **fields)
    except OSError:
        short = {"state": state, "pid": os.getpid(), "heartbeat": time.time(),
                 "error": str(fields.get("error", ""))[:300]}
        with contextlib.suppress(OSError), open(Path(run_dir) / STATUS, "r+") as file:
            file.write(json.dumps(short))
            file.truncate()


def read_status(run_dir):
    """status.json with `state` corrected to `lost` when a running process is gone; fields of
    the wrong type are left out (`load_run` names them in `RunInfo.damaged`)."""
    return _read_status(run_dir)[0]


def _read_status(run_dir):
    """(read_status's dict, the problems found in status.json)."""
    status, problems = _read_checked(Path(run_dir) / STATUS, run_records.check_status)
    status = status if status is not None else {"state": FAILED, "error": "no readable status.json"}
    if status.get("state") not in STATES:
        problems = [*problems, f"status.json: state {run_records.shown_value(status.get('state'))} is unknown"]
        status = dict(status, state=FAILED, error=f"status.json has an unknown state {status.get('state')!r}")
    if status["state"] == RUNNING and _looks_dead(status):
        status = dict(status, state=LOST)
    return status, problems


def _looks_dead(status):
    pid = _number(status.get("pid"))
    if status.get("host") == socket.gethostname() and pid:
        try:
            os.kill(int(pid), 0)
        except (ProcessLookupError, OverflowError, ValueError):
            return True
        except PermissionError:
            return False
        return False
    return time.time() - (_number(status.get("heartbeat")) or 0.0) > HEARTBEAT_TIMEOUT_S


def _number(value):
    """A finite float from a JSON value, or None (text, null, lists and booleans are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def append_metrics(run_dir, record):
    """Append one JSON line to metrics.jsonl and flush it to disk at once."""
    with open(Path(run_dir) / METRICS, "a") as file:
        file.write(json.dumps(_finite(record), allow_nan=False) + "\n")
        file.flush()
        os.fsync(file.fileno())


def read_metrics(run_dir, *, batches=False):
    """The epoch records of metrics.jsonl (with `batches`, the batch-level rows instead).

    Lines that are not JSON objects (a half-written last line, damage) are skipped, and
    values that are not numbers are dropped, so a plot never meets "high" as an accuracy.
    """
    path = Path(run_dir) / METRICS
    records = []
    try:
        lines = path.read_text(errors="replace").splitlines() if path.exists() else []
    except OSError:
        return []
    for line in lines:
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if not isinstance(row, dict):
            continue
        row = {k: _number(v) for k, v in row.items() if _number(v) is not None}
        if batches and row.get("step") is not None and "epoch" not in row:
            records.append(row)
        elif not batches and row.get("epoch") is not None and row["epoch"] >= 1:
            row["epoch"] = int(row["epoch"])
            records.append(row)
    return records


def request_stop(run_dir):
    """Ask a running training to stop; it notices within a batch or two."""
    refuse_reference(run_dir, "stopped")
    (Path(run_dir) / STOP).touch()


def stop_requested(run_dir):
    return (Path(run_dir) / STOP).exists()


def log_path(run_dir):
    return Path(run_dir) / LOG


def model_path(run_dir):
    """Where a run keeps its best checkpoint (it may not exist yet)."""
    return Path(run_dir) / MODEL


def has_model(run_dir):
    return model_path(run_dir).is_file()


# ---- evaluation ----

def save_evaluation(run_dir, result, *, names, labels, probabilities):
    """Write predictions.npz (indices, names, true labels, probabilities), then evaluation.json."""
    run_dir = Path(run_dir)
    try:
        with atomic.replaced(run_dir / PREDICTIONS) as tmp:
            np.savez(tmp, indices=np.arange(len(labels), dtype=np.int64), names=np.asarray(names),
                     true=np.asarray(labels, dtype=np.int64), probabilities=np.asarray(probabilities, dtype=np.float32))
        write_json_atomic(run_dir / EVALUATION, result)
    except OSError as error:  # a read-only or full disk: say so, the old evaluation stays whole
        raise RunError(f"cannot save the evaluation in {run_dir.name}: {error.strerror or error}") from None


def read_evaluation(run_dir):
    """evaluation.json as a dict, or None when the run has not been (readably) evaluated.

    A report lacking what the pages read (accuracy, n, F1s, per-class rows, the confusion
    matrix), or holding them with the wrong types, counts as none; optional parts of the wrong
    type (e.g. `crowd`) are left out. `load_run` names the problems."""
    return _read_checked(Path(run_dir) / EVALUATION, run_records.check_evaluation)[0]


def load_predictions(run_dir):
    """predictions.npz of a run as a dict of arrays, or None when it has none (or a damaged one)."""
    path = Path(run_dir) / PREDICTIONS
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            saved = {key: data[key] for key in data.files}
    except Exception:  # a truncated or foreign file: as if there were none, predictions are redone
        return None
    # NaN or otherwise impossible probabilities are never trusted: the page would show their accuracy
    return saved if run_records.check_predictions(saved) is None else None


def _predictions_problems(run_dir):
    """[why predictions.npz cannot be trusted] or [] (none, or a good one); checked once per version of the file."""
    path = Path(run_dir) / PREDICTIONS
    try:
        stat = path.stat()
    except OSError:
        return []
    problem = _predictions_problem(str(path), stat.st_mtime_ns, stat.st_size)
    return [f"{PREDICTIONS}: {problem}"] if problem else []


@functools.lru_cache(maxsize=256)
def _predictions_problem(path, modified_ns, size):
    try:
        with np.load(path, allow_pickle=False) as data:
            saved = {key: data[key] for key in data.files}
    except Exception:  # truncated, foreign, or pickled objects
        return "not a readable .npz file of arrays"
    return run_records.check_predictions(saved)


# ---- the registry of runs ----

@dataclass
class RunInfo:
    """What the run table shows about one run folder."""

    path: Path
    name: str
    config: dict
    status: dict
    evaluation: dict | None
    epochs_done: int
    best_val_accuracy: float | None
    damaged: str | None = None  # why part of the folder could not be read; None when all is well

    @property
    def state(self):
        return self.status.get("state", FAILED)


def load_run(run_dir):
    """Read one run folder into a RunInfo; a damaged folder is described, never raised."""
    run_dir = Path(run_dir)
    if not (run_dir / CONFIG).is_file():
        raise RunError(f"{run_dir} is not a run folder (no {CONFIG})")
    config, problems = _read_checked(run_dir / CONFIG, run_records.check_config)
    if config is None and not problems:  # vanished between the check above and this read
        problems = [f"{CONFIG} is not a readable JSON object"]
    status, status_problems = _read_status(run_dir)
    if status.get("state") != RUNNING:
        _remove_orphans(run_dir)
    metrics = read_metrics(run_dir)
    accuracies = [m["val_accuracy"] for m in metrics if m.get("val_accuracy") is not None]
    label = read_json(run_dir / NAME, default={}).get("name")
    evaluation, evaluation_problems = _read_checked(run_dir / EVALUATION, run_records.check_evaluation)
    problems += status_problems + evaluation_problems + _predictions_problems(run_dir)
    return RunInfo(
        path=run_dir,
        name=label if isinstance(label, str) and label.strip() else default_name(run_dir, config or {}),
        config=config or {},
        status=status,
        evaluation=evaluation,
        epochs_done=len(metrics),
        best_val_accuracy=max(accuracies) if accuracies else None,
        damaged="; ".join(problems[:3]) + (f" (and {len(problems) - 3} more)" if len(problems) > 3 else "") or None,
    )


IMBALANCE_WORDS = {"class_weight": "class weights", "balance": "balanced", "none": "unweighted"}


def default_name(run_dir, config):
    """A readable name for a run nobody has named: recipe, model, data, labels and start time,
    e.g. "fast cnn_4blocks on fer2013, unweighted, crowd-soft labels (30 Nov 12:05:31)"; the seconds keep
    two runs started in the same minute apart in a list."""
    data = str(config.get("data") or "?")
    data = data if data == "synthetic" else Path(data).name or data
    labels = config.get("labels", "fer")
    parts = [str(config.get("recipe") or ""), str(config.get("model") or "?"), "on", data]
    name = " ".join(p for p in parts if p)
    imbalance = IMBALANCE_WORDS.get(config.get("imbalance"))
    name += f", {imbalance}" if imbalance else ""  # runs that differ only here must not look alike
    name += "" if labels in ("fer", None) else f", {labels} labels"
    try:
        started = datetime.strptime(Path(run_dir).name[:15], "%Y%m%d-%H%M%S")
        name += f" ({started:%d %b %H:%M:%S})"
    except ValueError:
        pass
    return name


def _remove_orphans(run_dir):
    """Delete temp files that a killed writer left (an atomic write that never got renamed).

    Only old ones: another session may be evaluating this run and writing its temp file now.
    """
    for pattern in _TEMP_PATTERNS:
        for path in run_dir.glob(pattern):
            try:
                if time.time() - path.stat().st_mtime > ORPHAN_AGE_S:
                    path.unlink()
            except OSError:
                pass


def list_runs(root=None):
    """Every run under the runs root, newest first. Symlinked folders are not followed (a link
    could point anywhere), and a folder that cannot be read is left out, not raised."""
    root = runs_root(root)
    try:
        folders = sorted((p for p in root.iterdir() if not p.is_symlink() and (p / CONFIG).is_file()), reverse=True)
    except OSError:
        return []
    infos = []
    for folder in folders:
        try:
            infos.append(load_run(folder))
        except (OSError, RunError):
            continue
    return infos


def _inside_root(run_dir, root):
    """Refuse a run folder that is a symlink or lies outside the runs root."""
    run_dir = Path(run_dir)
    if run_dir.is_symlink():
        raise RunError(f"{run_dir.name} is a symbolic link, not a run folder; it is left alone")
    if root is not None and run_dir.resolve().parent != runs_root(root).resolve():
        raise RunError(f"{run_dir} is not inside the runs folder {runs_root(root)}")


@contextlib.contextmanager
def exclusive(lock_file, busy_message):
    """Hold an exclusive lock on `lock_file` for the block, or raise RunError(busy_message).

    A kernel lock (flock), not a file that says "locked": it is released when its process
    ends however it ends, so a killed training never leaves a run locked for ever, and two
    threads or processes asking at the same moment cannot both get it.
    """
    try:
        fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as error:
        raise RunError(f"cannot lock {lock_file}: {error.strerror or error}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunError(busy_message) from None
        yield
    finally:
        os.close(fd)


def owned(run_dir):
    """Be the one process that writes `run_dir` for the block (see `exclusive`)."""
    return exclusive(Path(run_dir) / OWNER, f"{Path(run_dir).name} is being trained by another process")


def claim_new_run(run_dir):
    """Refuse a run folder that has already trained (finished, stopped, failed or under way):
    `train --run-dir` starts a run the app created, it never retrains or overwrites one."""
    run_dir = Path(run_dir)
    refuse_reference(run_dir, "trained again")
    if not (run_dir / CONFIG).is_file():
        raise RunError(f"{run_dir} is not a run folder (no {CONFIG})")
    if read_metrics(run_dir) or has_model(run_dir) or (run_dir / EVALUATION).exists():
        raise RunError(f"{run_dir.name} has already trained ({read_status(run_dir)['state']}): "
                       "start a new run instead of training it again")


def is_reference(run_dir):
    """True for a shipped reference run (settings.reference_dir()): read-only for everyone."""
    try:
        return Path(run_dir).resolve().parent == settings.reference_dir().resolve()
    except OSError:
        return False


def refuse_reference(run_dir, action):
    if is_reference(run_dir):
        raise RunError(f"{Path(run_dir).name} is a shipped reference run: it cannot be {action} "
                       "(train your own run to change something)")


def rename_run(run_dir, name, *, root=None):
    """Give a run a display name (the folder keeps its name, so running jobs are unaffected)."""
    refuse_reference(run_dir, "renamed")
    _inside_root(run_dir, root)
    try:
        write_json_atomic(Path(run_dir) / NAME, {"name": check_name(name)})
    except OSError as error:
        raise RunError(f"cannot rename {Path(run_dir).name}: {error.strerror or error}") from None


def check_name(name):
    """`name` stripped, or RunError when it cannot name a run."""
    name = str(name).strip()
    if not name:
        raise RunError("a run name cannot be empty")
    if len(name) > 120:
        raise RunError(f"a run name can have at most 120 characters, not {len(name)}")
    return name


def delete_run(run_dir, *, root=None):
    """Delete a run folder; refused while its training is still running."""
    refuse_reference(run_dir, "deleted")
    _inside_root(run_dir, root)
    if read_status(run_dir).get("state") == RUNNING:
        raise RunError(f"{Path(run_dir).name} is still running; stop it before deleting it")
    try:
        shutil.rmtree(run_dir)
    except OSError as error:
        raise RunError(f"could not delete {Path(run_dir).name}: {error.strerror or error}") from None


# ---- progress, for a live display ----

def progress(status, *, now=None, stopping=False):
    """What a progress bar needs, from status.json: fraction done, a caption, and an ETA.

    The time left comes from the median time of recent steps (written by the training
    process), not from the elapsed time, which includes loading data and tracing the first,
    much slower steps. `stopping`: a stop was requested and the run is winding down.

    Returns:
        dict with fraction (0-1), epoch (1-based, current), epochs, batch, steps,
        elapsed_s, eta_s (None until something is measured), caption.
    """
    epochs, steps = int(_number(status.get("epochs")) or 0), int(_number(status.get("steps_per_epoch")) or 0)
    epoch, batch = int(_number(status.get("epoch")) or 0), int(_number(status.get("batch")) or 0)
    elapsed = _number(status.get("elapsed_seconds")) or 0.0
    heartbeat = _number(status.get("heartbeat"))
    if status.get("state") == RUNNING and heartbeat:
        elapsed += max(0.0, (now or time.time()) - heartbeat)
    done_steps, total_steps = epoch * steps + batch, epochs * steps
    fraction = min(1.0, done_steps / total_steps) if total_steps else 0.0
    step_seconds = _number(status.get("step_seconds"))
    eta = None
    # The first steps trace the model and run slowly: an estimate from them said "19 min left" for
    # a 3-minute demo. None until a tenth of the run (or 3 full epochs' worth of steps) is done.
    if done_steps >= min(total_steps / 10, 3 * steps) and done_steps >= 20:
        eta = (step_seconds * (total_steps - done_steps) if step_seconds
               else elapsed / done_steps * (total_steps - done_steps))
    if status.get("state") == FINISHED:
        fraction = 1.0  # early stopping ends before the planned epochs; the run is still complete
    phase = status.get("phase", "")
    if status.get("state") == RUNNING and stopping:
        caption, eta = "stopping… the current batch ends, then the best epoch is evaluated", None
    elif status.get("state") != RUNNING:
        done = int(_number(status.get("epochs_done")) or epoch)
        caption = f"{status.get('state')}: {done} epoch{'' if done == 1 else 's'}"
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
