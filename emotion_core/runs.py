"""The run registry on disk: one folder per run, the message bus between training, CLI and app.

Folder contract (see DESIGN.md): config.json (written first), metrics.jsonl (append-only,
one object per epoch), status.json (replaced atomically), model.keras (best checkpoint,
replaced atomically), evaluation.json and predictions.npz once finished. A file `stop` in
the folder asks the training process to stop.
"""

import json
import os
import shutil
import socket
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

RUNNING, FINISHED, STOPPED, FAILED = "running", "finished", "stopped", "failed"
LOST = "lost"  # shown for a run whose process died without saying so
STATES = (RUNNING, FINISHED, STOPPED, FAILED, LOST)
HEARTBEAT_TIMEOUT_S = 120.0  # no heartbeat for this long (and pid gone) means the process died


class RunError(ValueError):
    pass


def runs_root(path=None):
    """The runs root: `path`, else EMOTION_RUNS_DIR, else ./runs."""
    return Path(path or os.environ.get("EMOTION_RUNS_DIR", "runs"))


def write_json_atomic(path, data):
    """Write JSON to a temp file beside `path`, then rename: readers never see half a file."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str))
    os.replace(tmp, path)


def read_json(path, default=None):
    """Parsed JSON at `path`, or `default` when missing or unreadable."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return default


def create_run(config_dict, *, root=None, model_name="model"):
    """Make a new run folder `YYYYmmdd-HHMMSS-<model>` and write config.json into it first.

    Two runs started in the same second get distinct folders (a numeric suffix), and the
    folder is created with exist_ok=False, so concurrent starts never share a folder.
    """
    root = runs_root(root)
    root.mkdir(parents=True, exist_ok=True)
    stem = f"{datetime.now():%Y%m%d-%H%M%S}-{model_name}"
    for attempt in range(1000):
        run_dir = root / (stem if attempt == 0 else f"{stem}-{attempt + 1}")
        try:
            run_dir.mkdir()
            break
        except FileExistsError:
            continue
    write_json_atomic(run_dir / "config.json", config_dict)
    write_status(run_dir, RUNNING)
    return run_dir


def write_status(run_dir, state, **fields):
    """Replace status.json with `state`, our pid, a heartbeat time and any extra fields."""
    status = {"state": state, "pid": os.getpid(), "host": socket.gethostname(), "heartbeat": time.time()}
    status.update(fields)
    write_json_atomic(Path(run_dir) / "status.json", status)


def append_metrics(run_dir, record):
    """Append one JSON line to metrics.jsonl and flush it to disk at once."""
    with open(Path(run_dir) / "metrics.jsonl", "a") as file:
        file.write(json.dumps(record) + "\n")
        file.flush()
        os.fsync(file.fileno())


def read_metrics(run_dir):
    """All complete records of metrics.jsonl; a half-written last line is ignored."""
    path = Path(run_dir) / "metrics.jsonl"
    records = []
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                records.append(json.loads(line))
            except ValueError:
                continue
    return records


def read_status(run_dir):
    """status.json with `state` corrected to `lost` when a running process is gone."""
    status = read_json(Path(run_dir) / "status.json", default={"state": FAILED, "error": "no status.json"})
    if status.get("state") == RUNNING and _looks_dead(status):
        status = dict(status, state=LOST)
    return status


def _looks_dead(status):
    if status.get("host") == socket.gethostname() and status.get("pid"):
        try:
            os.kill(int(status["pid"]), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False
    return time.time() - float(status.get("heartbeat", 0)) > HEARTBEAT_TIMEOUT_S


def request_stop(run_dir):
    """Ask a running training to stop; it notices within a batch or two."""
    (Path(run_dir) / "stop").touch()


def stop_requested(run_dir):
    return (Path(run_dir) / "stop").exists()


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

    @property
    def state(self):
        return self.status.get("state", FAILED)


def load_run(run_dir):
    """Read one run folder into a RunInfo."""
    run_dir = Path(run_dir)
    if not (run_dir / "config.json").exists():
        raise RunError(f"{run_dir} is not a run folder (no config.json)")
    metrics = read_metrics(run_dir)
    accuracies = [m["val_accuracy"] for m in metrics if m.get("val_accuracy") is not None]
    label = read_json(run_dir / "name.json", default={}).get("name")
    return RunInfo(
        path=run_dir,
        name=label or run_dir.name,
        config=read_json(run_dir / "config.json", default={}),
        status=read_status(run_dir),
        evaluation=read_json(run_dir / "evaluation.json"),
        epochs_done=len([m for m in metrics if "epoch" in m]),
        best_val_accuracy=max(accuracies) if accuracies else None,
    )


def list_runs(root=None):
    """Every run under the runs root, newest first; folders without config.json are skipped."""
    root = runs_root(root)
    if not root.is_dir():
        return []
    folders = sorted((p for p in root.iterdir() if (p / "config.json").exists()), reverse=True)
    return [load_run(p) for p in folders]


def rename_run(run_dir, name):
    """Give a run a display name (the folder keeps its name, so running jobs are unaffected)."""
    name = str(name).strip()
    if not name:
        raise RunError("a run name cannot be empty")
    write_json_atomic(Path(run_dir) / "name.json", {"name": name})


def delete_run(run_dir):
    """Delete a run folder; refused while its training is still running."""
    if read_status(run_dir).get("state") == RUNNING:
        raise RunError(f"{Path(run_dir).name} is still running; stop it before deleting it")
    shutil.rmtree(run_dir)
