"""Example faces for display (the study's Figure 1)."""

import cv2
import numpy as np


def example_faces(dataset, *, size=144, seed=0):
    """One face per emotion present, enlarged for display.

    Returns:
        list of (label index, uint8 (size, size) image), in canonical order.
    """
    rng = np.random.default_rng(seed)
    faces = []
    for label in range(len(dataset.class_names)):
        candidates = np.flatnonzero(dataset.labels == label)
        if len(candidates):
            face = dataset.images[rng.choice(candidates)]
            faces.append((label, cv2.resize(face, (size, size), interpolation=cv2.INTER_CUBIC)))
    return faces
