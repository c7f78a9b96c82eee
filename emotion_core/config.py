"""TrainConfig: everything needed to repeat a training run, saved as the run's config.json."""

import dataclasses
import platform
from dataclasses import dataclass, field

from emotion_core.augment import AugmentConfig


@dataclass(frozen=True)
class TrainConfig:
    """One training run. Every CLI flag maps to one field; the Train page builds the same object.

    Defaults are the study's recipe: its CNN, class weights, its augmentation, Adam at
    1e-3, batch 64, early stopping with patience 10.
    """

    data: str = "synthetic"
    model: str = "seed_cnn"
    imbalance: str = "class_weight"  # class_weight | balance | none
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    epochs: int = 30
    batch_size: int = 64
    learning_rate: float = 1e-3
    lr_schedule: str = "constant"  # constant | cosine (decays to 0 over `epochs`: fewer epochs, same accuracy)
    reduce_lr: bool = False  # halve the rate when val_loss stalls for patience/2 epochs
    label_smoothing: float = 0.0  # FER2013 labels are noisy; 0.1 keeps the model from over-trusting them
    patience: int = 10  # early stopping on val_loss; the best weights are restored
    validation_fraction: float = 0.2
    limit: int = 0  # use at most this many images of the source (0: all), for quick lessons
    test_data: str = ""  # labelled test set to report on; empty: the source's own test split
    seed: int = 0
    precision: str = "float32"  # float32 | mixed_bfloat16 | auto (bfloat16 where the CPU has bfloat16 units)
    init_from: str = ""  # a run folder or .keras file whose weights start training (longer schedules in steps)
    # Transfer models only (vgg16, vgg19, resnet50); ignored by the CNNs.
    transfer_mode: str = "feature"  # feature: frozen backbone | finetune: last `unfreeze` convolutions train too
    unfreeze: int = 6  # the study tried 3, 6 and 9 (VGG16: block4 onward is 6)
    weights: str = "imagenet"  # imagenet (needs internet once) | none (random init) | path to a weights file
    input_size: int = 48  # faces are resized to this for the backbone (96 or 224 keep more resolution)

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
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if isinstance(values.get("augment"), dict):
            values["augment"] = AugmentConfig(**values["augment"])
        return cls(**values)


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
