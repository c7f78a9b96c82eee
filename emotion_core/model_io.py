"""Finding and loading trained models: a run folder, a .keras file, or `default`."""

import os
from pathlib import Path

DEFAULT = "default"
ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"


class ModelLoadError(ValueError):
    pass


def default_model_path():
    """The shipped default model (EMOTION_DEFAULT_MODEL overrides, e.g. for tests)."""
    return Path(os.environ.get("EMOTION_DEFAULT_MODEL", ASSETS_DIR / "default_model.keras"))


def resolve_model_path(ref):
    """Path of the .keras file that `ref` (run folder, .keras file or `default`) means."""
    path = default_model_path() if str(ref) == DEFAULT else Path(ref).expanduser()
    if path.is_dir():
        path = path / "model.keras"
        if not path.exists():
            raise ModelLoadError(f"{path.parent} has no model.keras yet (no epoch has finished)")
    if not path.exists():
        raise ModelLoadError(f"model not found: {path}")
    if path.suffix != ".keras":
        raise ModelLoadError(f"{path} is not a Keras model file (expected a .keras file or a run folder)")
    return path


def load_model(ref):
    """Load a model for inference; a corrupt or foreign file is a ModelLoadError, not a traceback."""
    import keras

    import emotion_core.models  # noqa: F401  (registers custom layers the saved model may use)

    from emotion_core.precision import as_float32

    path = resolve_model_path(ref)
    try:
        return as_float32(keras.saving.load_model(path, compile=False))
    except Exception as error:  # Keras raises many types for bad files
        raise ModelLoadError(f"cannot load model {path}: {type(error).__name__}: {str(error)[:200]}") from None


def save_model_atomic(model, path):
    """Save to a temp .keras file beside `path`, then rename, so a crash never leaves half a model."""
    path = Path(path)
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    model.save(tmp)
    os.replace(tmp, path)
