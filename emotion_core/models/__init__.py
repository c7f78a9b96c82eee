"""Model architectures by name. Importing this package registers every architecture."""

from emotion_core.models import cnn, residual, transfer  # noqa: F401  (importing registers the architectures)
from emotion_core.models.registry import (
    ModelSpec,
    UnknownModelError,
    build_model,
    get_spec,
    model_names,
    spec_of,
)

__all__ = ["ModelSpec", "UnknownModelError", "build_model", "get_spec", "model_names", "spec_of"]
