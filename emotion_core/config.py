"""What a training run is made of: TrainConfig, its presets, its choices, and its flags.

Everything a run needs to be repeated is one frozen TrainConfig, saved as the run's
config.json. The choice tuples below are the only lists of allowed values (the CLI parser
and the Train page import them), and TRAIN_FLAGS is the only table from command-line flags to
config fields (the parser, the config builder and the model card's reproduce command read it).
"""

import dataclasses
import math
import platform
from dataclasses import dataclass, field
from pathlib import Path

from emotion_core.errors import ConfigError
from emotion_core.settings import DEFAULT
from emotion_core.labels import FACE_SIZE

IMBALANCE_STRATEGIES = ("class_weight", "balance", "none")
LR_SCHEDULES = ("constant", "cosine")
OPTIMIZERS = ("adam", "sgd")  # sgd: momentum 0.9 with Nesterov, as in the VGG-style FER2013 papers
PRECISIONS = ("auto", "float32", "mixed_bfloat16")
TRANSFER_MODES = ("feature", "finetune")
# What the model learns from: FER2013's labels (the study), the crowd's majority, its vote shares,
# or `blend`: the FER2013 label mixed with the vote shares (`crowd_share`; faces without votes keep their label).
LABEL_SOURCES = ("fer", "crowd", "crowd-soft", "blend")
SOFT_LABEL_SOURCES = ("crowd-soft", "blend")
SYNTHETIC = "synthetic"  # the built-in drawn faces, a data source that needs no files
MAX_EPOCHS = 1000  # far beyond any useful run here (the best recipe uses 50); stops typos running forever


@dataclass(frozen=True)
class AugmentConfig:
    """The study's augmentation: rotation 10 degrees, zoom 0.15, shift 0.1, shear 0.15; flips, erasing and mixup off."""

    rotation_deg: float = 10.0
    zoom: float = 0.15  # each axis scaled by a factor in [1 - zoom, 1 + zoom]
    shift: float = 0.1  # fraction of width / height
    shear: float = 0.15  # shear angle in radians
    horizontal_flip: bool = False
    erase: float = 0.0  # share of faces with one random patch (2-33% of the face) replaced by noise
    mixup: float = 0.0  # Beta(mixup, mixup) weights for mixing pairs of faces and their targets; 0: off

    def changes_faces_alone(self):
        """Whether any face-by-face transform is on (mixup works on pairs of faces and their targets)."""
        return bool(self.rotation_deg or self.zoom or self.shift or self.shear or self.horizontal_flip or self.erase)

    def is_identity(self):
        return not (self.changes_faces_alone() or self.mixup)


NO_AUGMENTATION = AugmentConfig(0.0, 0.0, 0.0, 0.0, False, 0.0, 0.0)
AUGMENT = "augment."  # TRAIN_FLAGS fields with this prefix live in TrainConfig.augment


@dataclass(frozen=True)
class TrainConfig:
    """One training run. Every CLI flag maps to one field; the Train page builds the same object.

    Defaults are the study's recipe: its CNN, class weights, its augmentation, Adam at
    1e-3, batch 64, early stopping with patience 10.
    """

    data: str = SYNTHETIC
    model: str = "seed_cnn"
    imbalance: str = "class_weight"  # one of IMBALANCE_STRATEGIES
    labels: str = "fer"  # one of LABEL_SOURCES; crowd labels need FER2013's Kaggle files (votes are keyed by name)
    crowd_share: float = 0.5  # blend labels only: the vote shares' part of each target, the rest is the label
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    epochs: int = 30
    batch_size: int = 64
    learning_rate: float = 1e-3
    optimizer: str = "adam"  # one of OPTIMIZERS; sgd usually wants a larger rate (0.01)
    lr_schedule: str = "constant"  # cosine decays to 0 over `epochs`: fewer epochs, same accuracy
    reduce_lr: bool = False  # halve the rate when val_loss stalls for patience/2 epochs
    label_smoothing: float = 0.0  # FER2013 labels are noisy; 0.1 keeps the model from over-trusting them
    patience: int = 10  # early stopping on val_loss; the best weights are restored
    # Stochastic weight averaging: from this epoch on, the weights at each epoch's end are
    # averaged; the average is kept when it beats the best epoch on validation (0: off).
    average_from: int = 0
    validation_fraction: float = 0.2
    limit: int = 0  # use at most this many images of the source (0: all), for quick lessons
    test_data: str = ""  # labelled test set to report on; empty: the source's own test split
    # A one-column CSV of face file names left out of the training data (e.g. the faces a label
    # audit flagged); empty: none. Names that match no face are refused, not silently ignored.
    exclude: str = ""
    seed: int = 0
    precision: str = "float32"  # one of PRECISIONS; auto: bfloat16 where the CPU has bfloat16 units
    init_from: str = ""  # a run folder, .keras file or `default` whose weights start training (schedules in steps)
    # Distillation: models (comma-separated run folders, .keras files or `default`) whose averaged
    # predictions (with their mirror) make up `teacher_share` of each training target.
    teachers: str = ""
    teacher_share: float = 0.5
    # Transfer models only (vgg16, vgg19, resnet50); ignored by the CNNs.
    transfer_mode: str = "feature"  # feature: frozen backbone | finetune: last `unfreeze` convolutions train too
    unfreeze: int = 6  # the study tried 3, 6 and 9 (VGG16: block4 onward is 6)
    weights: str = "imagenet"  # imagenet (needs internet once) | none (random init) | path to a weights file
    input_size: int = FACE_SIZE  # faces are resized to this for the backbone (96 or 224 keep more resolution)

    def model_options(self, family):
        """Builder keyword arguments for a model of `family` (only transfer models take any)."""
        if family != "transfer":
            return {}
        return {"mode": self.transfer_mode, "unfreeze": self.unfreeze, "weights": self.weights,
                "input_size": self.input_size}

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data):
        """Rebuild from config.json, ignoring keys this version does not know (e.g. versions)."""
        if not isinstance(data, dict):
            raise ConfigError(f"a run's config must be a JSON object, not {type(data).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if "augment" in values:
            if not isinstance(values["augment"], dict):
                raise ConfigError(f"augment must be a JSON object of augmentation settings, not {values['augment']!r}")
            augment_fields = {f.name for f in dataclasses.fields(AugmentConfig)}
            values["augment"] = AugmentConfig(**{k: v for k, v in values["augment"].items() if k in augment_fields})
        return cls(**values)

    def validate(self):
        """Raise ConfigError naming the first setting out of range; returns self when all are fine.

        Called where a run starts, before its folder exists, so a refused run leaves nothing behind.
        """
        _kinds(self)
        _kinds(self.augment)
        for flag in TRAIN_FLAGS:  # every choice and range comes from the one table of settings
            flag.check(flag_value(self, flag.field))
        if self.labels in SOFT_LABEL_SOURCES and self.imbalance == "balance":
            raise ConfigError(f"{self.labels} labels cannot be balanced by augmentation (copies need one label); "
                              "use imbalance class_weight or none")
        _whole("average_from", self.average_from, 0, self.epochs)  # a range that depends on another setting
        _existing("data", self.data, allow_synthetic=True)
        _existing("test_data", self.test_data, allow_empty=True, allow_synthetic=True)
        _existing("exclude", self.exclude, allow_empty=True)
        if self.init_from != DEFAULT:  # the shipped model
            _existing("init_from", self.init_from, allow_empty=True)
        if not isinstance(self.teachers, str):
            raise ConfigError(f"teachers must be model references separated by commas, not {self.teachers!r}")
        for teacher in self.teacher_list():
            if teacher != DEFAULT:
                _existing("teachers", teacher)
        return self

    def teacher_list(self):
        """The teachers' model references, in order (empty: no distillation)."""
        return split_teachers(self.teachers)


def split_teachers(text):
    """'runs/a, default' -> ['runs/a', 'default']: the comma-separated `teachers` field as a list."""
    return [t.strip() for t in str(text or "").split(",") if t.strip()]


def _kinds(settings):
    """Text fields must hold text and switches true or false (a config.json edited by hand may
    say "model": 5 or "reduce_lr": "no", which would otherwise pass as truthy); numbers are
    checked with their ranges below."""
    for f in dataclasses.fields(settings):
        value, default = getattr(settings, f.name), f.default
        if f.name == "teachers":  # checked below, with a message that says what the text holds
            continue
        if isinstance(default, str) and not isinstance(value, str):
            raise ConfigError(f"{f.name} must be text, not {value!r}")
        if isinstance(default, bool) and not isinstance(value, bool):
            raise ConfigError(f"{f.name} must be true or false, not {value!r}")


def _choice(name, value, allowed):
    if value not in allowed:
        raise ConfigError(f"{name} {value!r} is not allowed; use one of {', '.join(allowed)}")


def _whole(name, value, low, high):
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{name} must be a whole number from {low} to {high:,}, not {value!r}")


def _number(name, value, low, high, *, low_open=False, high_open=False):
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value > low if low_open else value >= low) and (value < high if high_open else value <= high)
    if not ok:
        interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        raise ConfigError(f"{name} must be a finite number in {interval}, not {value!r}")


def _existing(name, value, *, allow_empty=False, allow_synthetic=False):
    if (allow_empty and value == "") or (allow_synthetic and value == SYNTHETIC):
        return
    if not str(value).strip() or not Path(value).expanduser().exists():
        raise ConfigError(f"{name}: {str(value)!r} does not exist")


def library_versions():
    """Versions that affect results, recorded in config.json."""
    import keras
    import numpy
    import tensorflow

    import emotion_core

    return {
        "python": platform.python_version(),
        "tensorflow": tensorflow.__version__,
        "keras": keras.__version__,
        "numpy": numpy.__version__,
        "emotion_core": emotion_core.__version__,
    }


# Named recipes shared by the CLI (--preset) and the Train page. Flags override them.
PRESETS = {
    # The study's recipe: its CNN, class weights, its augmentation, Adam 1e-3, batch 64.
    "study": TrainConfig(epochs=60),
    # A first run for a lesson: a small slice of the data, a few epochs, curves move within a minute.
    "demo": TrainConfig(epochs=8, limit=1500, patience=8),
    # Best accuracy per CPU-minute found so far (see assets/MODEL_CARD.md): mirrored faces
    # double the data, a cosine schedule anneals within the budget, label smoothing
    # tolerates FER2013's noisy labels, and no class weights (they trade accuracy for recall).
    "fast": TrainConfig(
        imbalance="none",
        augment=AugmentConfig(horizontal_flip=True),
        epochs=36,
        lr_schedule="cosine",
        label_smoothing=0.1,
        validation_fraction=0.1,
        patience=36,
        precision="auto",
    ),
}
# The best model found (see assets/MODEL_CARD.md): the fast recipe on the four-block CNN,
# trained on (FER2013 label + crowd votes) / 2, continued from the shipped model with a new
# cosine cycle. It needs FER2013 in the Kaggle layout (the votes are keyed by its file names).
PRESETS["best"] = dataclasses.replace(PRESETS["fast"], model="cnn_4blocks", labels="blend", init_from="default",
                                      epochs=30, patience=30, learning_rate=5e-4)
# What each preset is for, in the words the Train page shows (every preset needs one).
PRESET_DESCRIPTIONS = {
    "demo": "1-2 minutes: a slice of the data, a few epochs; curves move within seconds",
    "study": "the study's recipe: its CNN, class weights, its augmentation, up to 60 epochs",
    "fast": "best accuracy per CPU-minute found: flips, cosine schedule, label smoothing, bfloat16",
    "best": f"improve the shipped model: {PRESETS['best'].epochs} more epochs on label + crowd votes "
            "(an hour or more; FER2013 only)",
}
# The names people see for each allowed value (the Train page, the model card, run names).
CHOICE_NAMES = {
    "imbalance": {"class_weight": "Class weights", "balance": "Balance by augmentation", "none": "None"},
    "labels": {"fer": "FER2013's", "crowd": "Crowd majority", "crowd-soft": "Crowd votes (soft)",
               "blend": "Label + crowd votes"},
    "optimizer": {"adam": "Adam", "sgd": "SGD, Nesterov (try rate 0.01)"},
    "precision": {"auto": "auto", "float32": "float32", "mixed_bfloat16": "bfloat16"},
    "transfer_mode": {"feature": "Feature extraction", "finetune": "Fine-tuning"},
    "lr_schedule": {"constant": "constant", "cosine": "cosine"},
}


@dataclass(frozen=True)
class Flag:
    """One training setting, declared once: its `train` flag, the TrainConfig field it sets, its
    display name and help (the Train page and the model card), and its allowed values (checked
    by TrainConfig.validate, offered by the page's widget: the two cannot disagree)."""

    flag: str
    field: str
    type: type
    help: str
    choices: tuple = None
    label: str = ""  # the name people see; empty: the flag without its dashes
    low: float = None  # allowed range of a number (None: not a number with a range)
    high: float = None
    low_open: bool = False  # the range excludes `low` (a learning rate of 0 learns nothing)
    high_open: bool = False
    step: float = None  # the widget's step

    @property
    def name(self):
        return self.label or self.flag.removeprefix("--").replace("-", " ").capitalize()

    def widget_range(self):
        """(lowest, highest) value a widget may offer: the allowed range, open ends moved in by a step."""
        low = self.low + self.step if self.low_open else self.low
        high = self.high - self.step if self.high_open else self.high
        return low, high

    def check(self, value):
        """Raise ConfigError naming this setting when `value` is not allowed."""
        name = self.flag.removeprefix("--") if self.field.startswith(AUGMENT) else self.field
        if self.choices:
            _choice(name, value, self.choices)
        elif self.low is not None and self.type is int:
            _whole(name, value, self.low, self.high)
        elif self.low is not None:
            _number(name, value, self.low, self.high, low_open=self.low_open, high_open=self.high_open)


TRAIN_FLAGS = (
    Flag("--data", "data", str, "synthetic, a Kaggle-layout folder, or fer2013.csv"),
    Flag("--model", "model", str, "architecture name (see `models`)", label="Architecture"),
    Flag("--imbalance", "imbalance", str, "how to handle the class imbalance", IMBALANCE_STRATEGIES,
         label="Class imbalance"),
    Flag("--labels", "labels", str,
         "train on FER2013's labels, the crowd's majority, its vote shares (FER+ votes), or label and votes blended",
         LABEL_SOURCES),
    Flag("--crowd-share", "crowd_share", float,
         "blend labels: the votes' share of each target, the rest is the label; more crowd agrees more with the "
         "crowd and less with FER2013's test labels", low=0.0, high=1.0, step=0.05),
    Flag("--epochs", "epochs", int, "epochs to train", low=1, high=MAX_EPOCHS),
    Flag("--batch-size", "batch_size", int, "faces per training step", low=1, high=4096),
    Flag("--learning-rate", "learning_rate", float, "the optimizer's (peak) learning rate", low=0.0, high=1.0,
         low_open=True, step=1e-5),
    Flag("--optimizer", "optimizer", str, "Adam, or SGD with Nesterov momentum 0.9 (give it a larger rate, 0.01)",
         OPTIMIZERS),
    Flag("--lr-schedule", "lr_schedule", str, "constant, or cosine decay to 0 over the epochs", LR_SCHEDULES,
         label="Schedule"),
    Flag("--reduce-lr", "reduce_lr", bool, "halve the rate on plateaus"),
    Flag("--label-smoothing", "label_smoothing", float, "how much to distrust the labels (FER2013's are noisy)",
         low=0.0, high=1.0, high_open=True, step=0.01),
    Flag("--patience", "patience", int, "stop after this many epochs without a better validation loss",
         low=1, high=MAX_EPOCHS),
    Flag("--average-from", "average_from", int,
         "average the weights of every epoch from this one on (0: off); kept if it beats the best epoch"),
    Flag("--validation-fraction", "validation_fraction", float, "share of the training data held out",
         low=0.0, high=1.0, low_open=True, high_open=True, step=0.01),
    Flag("--limit", "limit", int, "use at most this many training images (0: all)", label="Max images",
         low=0, high=10**8),
    Flag("--test-data", "test_data", str, "labelled test set to report on (default: the source's test split)"),
    Flag("--exclude", "exclude", str, "a one-column CSV of face file names to leave out of training (e.g. from `audit`)"),
    Flag("--seed", "seed", int, "random seed (splits, initial weights, augmentation)", low=0, high=2**32 - 1),
    Flag("--precision", "precision", str,
         "bfloat16 arithmetic trains about twice as fast on CPUs with bfloat16 units (Intel AMX / AVX512-BF16) "
         "and slower on others; auto picks it where it helps", PRECISIONS),
    Flag("--init-from", "init_from", str, "start from the weights of a run folder, a .keras file or `default`"),
    Flag("--teachers", "teachers", str,
         "distil: comma-separated models (run folders, .keras files, `default`) whose averaged predictions join the targets"),
    Flag("--teacher-share", "teacher_share", float, "with teachers: the teachers' share of each target",
         label="Teachers' share", low=0.0, high=1.0, step=0.05),
    Flag("--rotation", AUGMENT + "rotation_deg", float, "augmentation: turn faces by up to this many degrees",
         label="Rotation (degrees)", low=0.0, high=180.0, step=1.0),
    Flag("--zoom", AUGMENT + "zoom", float, "augmentation: scale each axis by a factor in [1 - zoom, 1 + zoom]",
         low=0.0, high=0.9, step=0.01),
    Flag("--shift", AUGMENT + "shift", float, "augmentation: move faces by up to this share of their size",
         label="Shift (share of size)", low=0.0, high=0.5, step=0.01),
    Flag("--shear", AUGMENT + "shear", float, "augmentation: shear faces by up to this angle in radians",
         label="Shear (radians)", low=0.0, high=1.5, step=0.01),
    Flag("--flip", AUGMENT + "horizontal_flip", bool, "augmentation: mirror half of the faces",
         label="Mirror faces (horizontal flip)"),
    Flag("--erase", AUGMENT + "erase", float, "augmentation: the share of faces with one random patch hidden "
         "behind noise", label="Random erasing", low=0.0, high=1.0, step=0.05),
    Flag("--mixup", AUGMENT + "mixup", float,
         "augmentation: mix pairs of faces and their targets with Beta(a, a) weights (0: off; 0.2 mostly keeps "
         "one face in front)", low=0.0, high=10.0, step=0.05),
    Flag("--mode", "transfer_mode", str,
         "transfer models: frozen backbone, or fine-tune its last convolutions", TRANSFER_MODES, label="Mode"),
    Flag("--unfreeze", "unfreeze", int, "transfer models: convolutions to fine-tune (the study: 3, 6, 9)",
         label="Convolutions to fine-tune", low=0, high=1000),
    Flag("--weights", "weights", str, "transfer models: imagenet, none (random init), or a weights file"),
    Flag("--input-size", "input_size", int, "transfer models: resize faces to this (48, 96, 224; bigger is slower)",
         low=32, high=512),  # keras.applications need at least 32x32
)
FLAGS_BY_FIELD = {flag.field: flag for flag in TRAIN_FLAGS}


def config_from_flags(values, *, preset=None, no_augment=False):
    """TrainConfig from a preset (default: the study's recipe) overridden by the flags given.

    Args:
        values: dict field -> value for the TRAIN_FLAGS given (None or absent: not given).
        no_augment: start from no augmentation instead of the preset's (augmentation flags still apply).
    """
    base = PRESETS[preset] if preset else TrainConfig()
    given = {f.field: values[f.field] for f in TRAIN_FLAGS if values.get(f.field) is not None}
    augment = NO_AUGMENTATION if no_augment else base.augment
    augment = dataclasses.replace(augment, **{k.removeprefix(AUGMENT): v for k, v in given.items() if k.startswith(AUGMENT)})
    changes = {k: v for k, v in given.items() if not k.startswith(AUGMENT)}
    return dataclasses.replace(base, augment=augment, **changes)


def flag_value(config, field):
    """The value of a TRAIN_FLAGS field in `config` (augmentation fields live in config.augment)."""
    if field.startswith(AUGMENT):
        return getattr(config.augment, field.removeprefix(AUGMENT))
    return getattr(config, field)


def command_line(config):
    """The `python -m emotion_core train ...` command that rebuilds `config` (non-default flags only)."""
    default = TrainConfig()
    no_augment = config.augment.is_identity()
    words = []
    for f in TRAIN_FLAGS:
        if no_augment and f.field.startswith(AUGMENT):
            continue  # --no-augment below says it all
        value = flag_value(config, f.field)
        if f.type is bool:
            words += [f.flag] if value else []
        elif value != flag_value(default, f.field) or f.field in ("data", "model"):
            words += [f.flag, str(value)]
    if no_augment:
        words.append("--no-augment")
    return "python -m emotion_core train " + " ".join(words)
