"""The one in-memory shape every data source returns."""

from dataclasses import dataclass, field

import numpy as np

from emotion_core.errors import DataError
from emotion_core.labels import EMOTIONS


@dataclass
class Dataset:
    """Labelled faces in canonical form.

    Attributes:
        images: uint8 array of shape (n, 48, 48), grayscale.
        labels: int64 array of shape (n,), canonical emotion indices.
        description: where the data came from, for the UI and config.json.
        names: optional file names or row numbers, one per image (for galleries, CSVs).
        synthetic: True for the built-in drawn faces, so the UI can say so.
        warnings: what the CLI and pages should say about the source (folders ignored,
            emotions without faces), one line each.
    """

    images: np.ndarray
    labels: np.ndarray
    description: str
    names: list = field(default_factory=list)
    synthetic: bool = False
    class_names: tuple = EMOTIONS
    warnings: list = field(default_factory=list)

    def __post_init__(self):
        if len(self.images) != len(self.labels):
            raise DataError(f"{len(self.images)} images but {len(self.labels)} labels")
        if not self.names:
            self.names = [str(i) for i in range(len(self.labels))]

    def __len__(self):
        return len(self.labels)

    def class_counts(self):
        """Number of images per canonical class, int array of shape (7,)."""
        return np.bincount(self.labels, minlength=len(self.class_names))

    def subset(self, indices, description=None):
        """A new Dataset holding only `indices` (keeps names, so galleries still find files)."""
        indices = np.asarray(indices, dtype=np.int64)
        return Dataset(
            images=self.images[indices],
            labels=self.labels[indices],
            description=description or self.description,
            names=[self.names[i] for i in indices],
            synthetic=self.synthetic,
            warnings=list(self.warnings),
        )
