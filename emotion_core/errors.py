"""Every error a user can cause, under one base class.

The CLI and the pages catch `EmotionCoreError` and nothing broader: a message raised here is
written for the person who typed, uploaded or chose something, while any other exception is
a bug in this project and surfaces as one (a traceback in the CLI, an exception on the page).
"""


class EmotionCoreError(Exception):
    """Base of all user-facing errors; str() is the message to show."""


class ConfigError(EmotionCoreError):
    """A training setting out of range or of the wrong kind (names the value and what is allowed)."""


class DataError(EmotionCoreError):
    """Bad or missing data: a missing folder, a malformed CSV, no images."""


class ImageError(EmotionCoreError):
    """Bytes that are not a usable image; str() is "<name>: <problem>".

    The parts are kept apart so a caller that already shows the file's path (the CLI) can
    print just the problem.
    """

    def __init__(self, name, problem):
        super().__init__(f"{name}: {problem}")
        self.name, self.problem = name, problem


class ModelLoadError(EmotionCoreError):
    """A model reference that names no loadable 7-emotion model."""


class UnknownModelError(EmotionCoreError):
    """An architecture name that is not in the registry."""


class WeightsUnavailableError(EmotionCoreError):
    """ImageNet weights could not be loaded (usually: no internet and nothing cached)."""


class TrainingError(EmotionCoreError):
    """Training could not go on, e.g. the loss became NaN (the run is marked failed with this message)."""


class RunError(EmotionCoreError):
    """A run folder that cannot do what was asked (missing, still running, damaged...)."""


class AuditError(EmotionCoreError):
    """A label audit that cannot be done as asked, e.g. with a model that trained on the faces it
    would audit (its predictions there are not out of sample, so it would vouch for their labels)."""


class ReferenceBusyError(RunError):
    """A reference run that another process is building now (a second builder skips it)."""
