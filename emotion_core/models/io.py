"""Finding, loading and saving trained models: a run folder, a .keras file, or `default`."""

from pathlib import Path

from emotion_core import atomic, runs, settings
from emotion_core.errors import ModelLoadError
from emotion_core.models.archive import check_archive
from emotion_core.labels import FACE_SIZE, NUM_CLASSES

DEFAULT = settings.DEFAULT


def default_model_path():
    """The shipped default model (EMOTION_DEFAULT_MODEL overrides, e.g. for tests)."""
    return settings.default_model_path()


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
    from emotion_core.models.dtypes import as_float32

    path = resolve_model_path(ref)
    if path.stat().st_size == 0:
        raise ModelLoadError(f"{path} is empty (0 bytes)")
    check_archive(path)  # from the zip directory, before Keras unpacks anything into memory
    try:
        model = keras.saving.load_model(path, compile=False)
    except Exception as error:  # Keras raises many types for damaged or foreign files
        raise ModelLoadError(f"{path} is damaged or not a Keras 3 model file "
                             f"({type(error).__name__}: {str(error)[:160]})") from None
    _check_shapes(model, path)
    model = as_float32(model)
    _check_probabilities(model, path)
    return model


def _check_shapes(model, path):
    """A model this app can use takes (48, 48, 1) faces and returns 7 probabilities."""
    inputs, outputs = model.inputs, model.outputs
    if len(inputs) != 1 or len(outputs) != 1:
        raise ModelLoadError(f"{path} has {len(inputs)} inputs and {len(outputs)} outputs; expected one of each")
    in_shape, out_shape = tuple(inputs[0].shape[1:]), tuple(outputs[0].shape[1:])
    if in_shape != (FACE_SIZE, FACE_SIZE, 1):
        raise ModelLoadError(f"{path} takes input of shape {in_shape}; expected ({FACE_SIZE}, {FACE_SIZE}, 1) faces")
    if out_shape != (NUM_CLASSES,):
        # (3,) is "3 outputs"; (1, 7) has 7 in its last place too, so it is named by its shape
        given = f"{out_shape[0]} outputs" if len(out_shape) == 1 else f"outputs of shape {out_shape}"
        raise ModelLoadError(f"{path} gives {given}; expected {NUM_CLASSES} emotion probabilities")


def _check_probabilities(model, path):
    """A model without a softmax at its end (or with NaN weights) gives scores, not probabilities:
    shown as bars and percentages, they would be nonsense. Three made-up faces (black, grey and
    noise) show it: a softmax gives rows of 7 values in [0, 1] that sum to 1 for any input."""
    import numpy as np

    from emotion_core.run_records import probabilities_problem

    faces = np.stack([np.zeros((FACE_SIZE, FACE_SIZE, 1)), np.full((FACE_SIZE, FACE_SIZE, 1), 0.5),
                      np.random.default_rng(0).random((FACE_SIZE, FACE_SIZE, 1))]).astype(np.float32)
    problem = probabilities_problem(np.asarray(model(faces, training=False), dtype=np.float32))
    if problem:
        raise ModelLoadError(f"{path} does not give probabilities ({problem}); its last layer needs a softmax "
                             "activation")


def save_model_atomic(model, path):
    """Save to a temp .keras file beside `path`, then rename, so a crash never leaves half a model."""
    with atomic.replaced(path) as tmp:
        model.save(tmp)
