"""One photo in, every face out: box, 48x48 crop, emotion probabilities and Grad-CAM.

The one photo pipeline: the CLI's `predict`, the Live page and the live benchmark all call
`analyse_photo`, so a face found, cropped or classified in one place is the same everywhere.
"""

from dataclasses import dataclass

import numpy as np

from emotion_core.evaluation import predict_probabilities
from emotion_core.labels import EMOTIONS
from emotion_core.photos.faces import MIN_FACE_FRACTION, faces_or_whole


@dataclass
class FaceResult:
    box: tuple  # (x, y, w, h) in the photo's own pixels
    crop: np.ndarray  # uint8 (48, 48), what the model saw
    probabilities: np.ndarray  # float32 (7,), canonical order
    heatmap: np.ndarray | None  # float32 (48, 48) in [0, 1], Grad-CAM of the predicted class; None if not asked

    @property
    def emotion(self):
        return EMOTIONS[int(np.argmax(self.probabilities))]

    def to_dict(self):
        """Plain Python numbers, ready for JSON: box, probabilities by emotion, top emotion."""
        return {"box": [int(v) for v in self.box],
                "probabilities": {name: float(p) for name, p in zip(EMOTIONS, self.probabilities)},
                "emotion": self.emotion}


def analyse_photo(model, image_bgr, *, explainer=None, whole_if_none=False, tta=False,
                  min_face=MIN_FACE_FRACTION):
    """Find, classify and (with an explainer) explain every face in a BGR photo.

    Args:
        model: the Keras model that classifies the 48x48 faces.
        explainer: an explain.GradCam for `model`, to add heatmaps; its one forward and
            backward pass gives the probabilities too. None: probabilities only (the CLI).
        whole_if_none: when no face is found, treat the whole photo as one face (close-ups
            such as a FER2013 face give the detector too little context).
        tta: average the probabilities with those of the mirrored faces.
        min_face: smallest face looked for, as a fraction of the shorter side
            (faces.SMALL_FACE_FRACTION for group photos).
    Returns:
        list of FaceResult, left to right; empty when no face was found.
    """
    faces = faces_or_whole(image_bgr, whole_if_none=whole_if_none, min_face=min_face)
    if not faces:
        return []
    crops = np.stack([face.crop for face in faces])
    maps = [None] * len(faces)
    if explainer is not None:
        maps, probabilities = explainer(crops)
    if tta or explainer is None:
        probabilities = predict_probabilities(model, crops, tta=tta)
    return [FaceResult(tuple(int(v) for v in f.box), f.crop, p, h) for f, p, h in zip(faces, probabilities, maps)]
