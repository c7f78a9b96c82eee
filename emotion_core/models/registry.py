"""The architecture registry: models are registered by name and built by one factory.

Every builder takes float32 input of shape (48, 48, 1) in [0, 1] and returns a Keras model
named after its registry entry, with a softmax over the 7 emotions. Each entry names the
layer Grad-CAM should look at, so nothing has to guess.
"""

from dataclasses import dataclass
from typing import Callable

_REGISTRY = {}


@dataclass(frozen=True)
class ModelSpec:
    name: str
    build: Callable
    gradcam_layer: str
    description: str
    family: str = "cnn"


class UnknownModelError(ValueError):
    pass


def register(name, *, gradcam_layer, description, family="cnn"):
    """Decorator adding a builder to the registry under `name`."""

    def decorate(build):
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} registered twice")
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
