"""The architecture registry: models are registered by name and built by one factory.

Every builder takes float32 input of shape (48, 48, 1) in [0, 1] and returns a Keras model
named after its registry entry, with a softmax over the 7 emotions. Each entry names the
layer Grad-CAM should look at, so nothing has to guess.
"""

from dataclasses import dataclass
from typing import Callable

from emotion_core.errors import UnknownModelError

_REGISTRY = {}


@dataclass(frozen=True)
class ModelSpec:
    name: str
    build: Callable
    gradcam_layer: str
    description: str
    family: str = "cnn"


def register(name, *, gradcam_layer, description, family="cnn"):
    """Decorator adding a builder to the registry under `name`."""

    def decorate(build):
        if name in _REGISTRY:
            raise RuntimeError(f"model {name!r} registered twice")  # a programming error, not a user's
        _REGISTRY[name] = ModelSpec(name, build, gradcam_layer, description, family)
        return build

    return decorate


def model_names():
    """Registered names, in registration order."""
    return list(_REGISTRY)


def get_spec(name):
    """The `ModelSpec` for `name`; an unknown name is a clear error listing the known ones."""
    if name not in _REGISTRY:
        raise UnknownModelError(f"unknown model {name!r}; known models: {', '.join(_REGISTRY)}")
    return _REGISTRY[name]


def build_model(name, **options):
    """Build a fresh, uncompiled model by registry name."""
    return get_spec(name).build(**options)


def spec_of(model):
    """The ModelSpec a built (or loaded) model came from, or None for a foreign model.

    Every builder names its model after its registry key (tests/test_models.py checks this
    for each entry), and Keras saves that name with the model, so a model loaded from a
    .keras file still knows which entry, and so which Grad-CAM layer, is its own.
    """
    return _REGISTRY.get(model.name)
