"""Every location and every EMOTION_* environment variable, in one place.

Why one module: a setting read in nine places is validated in none, and a wheel installed
outside the checkout must find its shipped files through the package (`importlib.resources`),
not through a path computed from a source tree. Values are read when asked, not at import,
so tests and the app can set them per process. `problems()` checks them all at start-up.

| variable              | what it sets                                      | default                          |
|-----------------------|---------------------------------------------------|----------------------------------|
| EMOTION_RUNS_DIR      | the runs root                                     | ./runs                           |
| EMOTION_CACHE_DIR     | decoded datasets, predictions, audits             | ~/.cache/emotion_core            |
| EMOTION_DATA_DIR      | where FER2013 is looked for first                 | ./data/fer2013                   |
| EMOTION_DEFAULT_MODEL | the model `default` means                         | the shipped one                  |
| EMOTION_VOTES_FILE    | the crowd's votes (FER+)                          | the shipped ones                 |
| EMOTION_DETECTOR_DIR  | the BlazeFace .tflite files                       | the shipped ones                 |
| EMOTION_MAX_TRAININGS | trainings the app runs at once                    | 1                                |
| EMOTION_ICE_SERVERS   | STUN/TURN servers for live video (JSON list)      | none                             |
| EMOTION_TF_LOGS       | 1: let TensorFlow's start-up logs through          | off                              |
| EMOTION_DATA_ROOTS    | folders the app's data box may read (os.pathsep)  | ./data, EMOTION_DATA_DIR's parent, kagglehub's cache |
"""

import json
import os
from importlib import resources
from pathlib import Path

from emotion_core.errors import ConfigError

DEFAULT = "default"  # the model reference that means the shipped model
DEFAULT_MODEL_FILE = "default_model.keras"
VOTES_FILE = "ferplus_votes.csv"
REFERENCE_RUNS = "reference_runs"


def assets_dir():
    """The package's shipped files (default model, card, detector, votes, reference runs)."""
    return Path(str(resources.files("emotion_core") / "assets"))


def _path(variable, default):
    """A path from the environment (with ~ expanded: `~/x` is never a literal folder), else `default`."""
    value = os.environ.get(variable, "").strip()
    return Path(value).expanduser() if value else Path(default)


def runs_root(path=None):
    """The runs root: `path`, else EMOTION_RUNS_DIR, else ./runs."""
    return Path(path).expanduser() if path else _path("EMOTION_RUNS_DIR", "runs")


def cache_dir():
    return _path("EMOTION_CACHE_DIR", Path.home() / ".cache" / "emotion_core")


def data_dir_candidates():
    """Where FER2013 may be, in the order looked at (EMOTION_DATA_DIR first)."""
    given = os.environ.get("EMOTION_DATA_DIR", "").strip()
    return ([str(Path(given).expanduser())] if given else []) + ["data/fer2013"]


def default_model_path():
    return _path("EMOTION_DEFAULT_MODEL", assets_dir() / DEFAULT_MODEL_FILE)


def votes_file():
    return _path("EMOTION_VOTES_FILE", assets_dir() / VOTES_FILE)


def detector_dir():
    return _path("EMOTION_DETECTOR_DIR", assets_dir())


def reference_dir():
    """The shipped reference runs (read-only run folders)."""
    return assets_dir() / REFERENCE_RUNS


def data_roots():
    """Folders (and their children) whose images the app's data box may read. Why a limit: any
    browser user can type a path, and the app shows and caches the images it finds there."""
    given = os.environ.get("EMOTION_DATA_ROOTS", "").strip()
    if given:
        return [Path(p).expanduser().resolve() for p in given.split(os.pathsep) if p.strip()]
    roots = [Path("data").resolve(), Path.home() / ".cache" / "kagglehub"]
    data_dir = os.environ.get("EMOTION_DATA_DIR", "").strip()
    if data_dir:
        roots.append(Path(data_dir).expanduser().resolve().parent)
    return roots


def allowed_data_folder(path):
    """True when `path` lies inside one of `data_roots()`."""
    try:
        resolved = Path(path).expanduser().resolve()
    except (OSError, RuntimeError):  # a symlink loop
        return False
    return any(resolved == root or root in resolved.parents for root in data_roots())


_APP_STATE = "app.json"  # what the app remembers between sessions, in the cache folder


def remembered_data_folder():
    """The FER2013 folder last chosen in the app (any session), or "" when none is remembered."""
    try:
        state = json.loads((cache_dir() / _APP_STATE).read_text())
    except (OSError, ValueError):
        return ""
    folder = state.get("data_folder") if isinstance(state, dict) else None
    return folder if isinstance(folder, str) and allowed_data_folder(folder) else ""


def remember_data_folder(folder):
    """Remember `folder` for every page and the next session (a read-only disk is not an error)."""
    from emotion_core import atomic

    try:
        cache_dir().mkdir(parents=True, exist_ok=True)
        atomic.write_text(cache_dir() / _APP_STATE, json.dumps({"data_folder": str(folder)}))
    except OSError:
        pass


def max_trainings():
    """How many trainings the app may run at once. On a shared classroom server with 2 cores,
    a second training halves the first one's speed, hence 1."""
    value = os.environ.get("EMOTION_MAX_TRAININGS", "").strip() or "1"
    if not value.isdigit() or not 1 <= int(value) <= 64:
        raise ConfigError(f"EMOTION_MAX_TRAININGS must be a whole number from 1 to 64, not {value!r}")
    return int(value)


def ice_servers():
    """STUN/TURN servers for the live video, as RTCIceServer dicts (a JSON list in the variable)."""
    text = os.environ.get("EMOTION_ICE_SERVERS", "").strip()
    if not text:
        return []
    try:
        servers = json.loads(text)
    except ValueError:
        servers = None
    if not isinstance(servers, list) or not all(isinstance(s, dict) and "urls" in s for s in servers):
        raise ConfigError('EMOTION_ICE_SERVERS must be a JSON list such as [{"urls": ["stun:host:3478"]}], '
                          f"not {text[:80]!r}")
    return servers


def tf_logs():
    return bool(os.environ.get("EMOTION_TF_LOGS"))


def problems():
    """Messages for every setting in the environment that cannot be used (empty: all fine)."""
    found = []
    for check in (max_trainings, ice_servers):
        try:
            check()
        except ConfigError as error:
            found.append(str(error))
    return found
