"""Emotions of the faces in one photo: detection, 48x48 crops, the model's probabilities.

Results are plain dicts of Python numbers so the CLI can print them as JSON and the Live page
can draw them without knowing about arrays.
"""

import numpy as np

from emotion_core.evaluation import predict_probabilities
from emotion_core.faces import MIN_FACE_FRACTION, faces_or_whole
from emotion_core.labels import EMOTIONS, NUM_CLASSES


def classify_faces(model, faces, *, tta=False):
    """Class probabilities for each face.

    Args:
        faces: list of `faces.Face` (their 48x48 crops are classified).
        tta: also classify the mirrored crops and average.
    Returns:
        float32 array (n, 7) in canonical emotion order, rows summing to 1.
    """
    if not faces:
        return np.zeros((0, NUM_CLASSES), dtype=np.float32)
    crops = np.stack([face.crop for face in faces])
    return predict_probabilities(model, crops, tta=tta)


def predict_image(model, image_bgr, *, tta=False, whole_if_none=False, min_face=MIN_FACE_FRACTION):
    """Find every face in a photo and classify it.

    Args:
        image_bgr: uint8 array (H, W, 3), e.g. from `faces.decode_image`.
        whole_if_none: when no face is found, classify the image itself as one face
            (for close-ups such as a FER2013 face, which the detector needs more context for).
        min_face: smallest face looked for, as a fraction of the shorter image side.
    Returns:
        list of {"box": [x, y, w, h], "probabilities": {emotion: float}, "emotion": name},
        left to right; [] when no face is found (and whole_if_none is False).
    """
    faces = faces_or_whole(image_bgr, whole_if_none=whole_if_none, min_face=min_face)
    probabilities = classify_faces(model, faces, tta=tta)
    return [_face_result(face, row) for face, row in zip(faces, probabilities)]


def _face_result(face, probabilities):
    """One face's result with plain Python types (JSON-ready)."""
    return {
        "box": [int(v) for v in face.box],
        "probabilities": {name: float(p) for name, p in zip(EMOTIONS, probabilities)},
        "emotion": EMOTIONS[int(np.argmax(probabilities))],
    }
