"""Finding, loading and saving trained models: a run folder, a .keras file, or `default`."""

import os
from pathlib import Path

from emotion_core import runs
from emotion_core.errors import ModelLoadError
from emotion_core.labels import FACE_SIZE, NUM_CLASSES

DEFAULT = "default"
ASSETS_DIR = Path(__file__).resolve().parents[2] / "assets"  # in a source checkout, beside the package
DEFAULT_MODEL_FILE = "default_model.keras"


def default_model_path():
    """The shipped default model (EMOTION_DEFAULT_MODEL overrides, e.g. for tests)."""
    return Path(os.environ.get("EMOTION_DEFAULT_MODEL", ASSETS_DIR / DEFAULT_MODEL_FILE))


def resolve_model_path(ref):
    """Path of the .keras file that `ref` (run folder, .keras file or `default`) means."""
    if not str(ref).strip():
        raise ModelLoadError("no model given: name a run folder, a .keras file or `default`")
    path = default_model_path() if str(ref) == DEFAULT else Path(ref).expanduser()
    if path.is_dir():
        if not runs.has_model(path):
            raise ModelLoadError(f"{path} holds no saved model (not a run folder, or no checkpoint was completed)")
        path = runs.model_path(path)
    if not path.exists():
        raise ModelLoadError(f"model not found: {path}")
    if path.suffix != ".keras":
        raise ModelLoadError(f"{path} is not a Keras model file (expected a .keras file or a run folder)")
    return path


def load_model(ref):
    """Load a model for inference, as float32.

    Raises ModelLoadError naming the file and what is wrong with it: damaged or not a Keras
    file, or a model whose input or output does not fit 48x48 faces and 7 emotions.
    """
    import keras

    import emotion_core.models  # noqa: F401  (registers custom layers the saved model may use)
    from emotion_core.training.precision import as_float32

    path = resolve_model_path(ref)
    if path.stat().st_size == 0:
        raise ModelLoadError(f"{path} is empty (0 bytes)")
    try:
        model = keras.saving.load_model(path, compile=False)
    except Exception as error:  # Keras raises many types for damaged or foreign files
        raise ModelLoadError(f"{path} is damaged or not a Keras 3 model file "
                             f"({type(error).__name__}: {str(error)[:160]})") from None
    _check_shapes(model, path)
    return as_float32(model)


def _check_shapes(model, path):
    """A model this app can use takes (48, 48, 1) faces and returns 7 probabilities."""
    inputs, outputs = model.inputs, model.outputs
    if len(inputs) != 1 or len(outputs) != 1:
        raise ModelLoadError(f"{path} has {len(inputs)} inputs and {len(outputs)} outputs; expected one of each")
    in_shape, out_shape = tuple(inputs[0].shape[1:]), tuple(outputs[0].shape[1:])
    if in_shape != (FACE_SIZE, FACE_SIZE, 1):
        raise ModelLoadError(f"{path} takes input of shape {in_shape}; expected ({FACE_SIZE}, {FACE_SIZE}, 1) faces")
    if out_shape != (NUM_CLASSES,):
        raise ModelLoadError(f"{path} gives {out_shape[-1] if out_shape else 0} outputs; expected {NUM_CLASSES} "
                             "emotion probabilities")


def save_model_atomic(model, path):
    """Save to a temp .keras file beside `path`, then rename, so a crash never leaves half a model."""
    path = Path(path)
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    try:
        model.save(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
