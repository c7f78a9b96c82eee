"""One photo in, every face out: box, 48x48 crop, emotion probabilities and Grad-CAM.

The Live page and anything else that shows a photo use this, so the page stays widgets only.
"""

from dataclasses import dataclass

import cv2
import numpy as np

from emotion_core.evaluation import predict_probabilities
from emotion_core.faces import MIN_FACE_FRACTION, faces_or_whole
from emotion_core.labels import EMOTIONS


@dataclass
class FaceResult:
    box: tuple  # (x, y, w, h) in the photo's own pixels
    crop: np.ndarray  # uint8 (48, 48), what the model saw
    probabilities: np.ndarray  # float32 (7,), canonical order
    heatmap: np.ndarray  # float32 (48, 48) in [0, 1], Grad-CAM of the predicted class

    @property
    def emotion(self):
        return EMOTIONS[int(np.argmax(self.probabilities))]


def analyse_photo(explainer, image_bgr, *, whole_if_none=False, tta=False, min_face=MIN_FACE_FRACTION):
    """Find, classify and explain every face in a BGR photo.

    Args:
        explainer: an explain.GradCam for the model (one forward/backward pass gives both
            probabilities and heatmaps).
        whole_if_none: when no face is found, treat the whole photo as one face.
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
    heatmaps, probabilities = explainer(crops)
    if tta:
        mirrored = predict_probabilities(explainer.model, crops[:, :, ::-1])  # a forward pass, no heatmap
        probabilities = (probabilities + mirrored) / 2
    return [FaceResult(tuple(int(v) for v in f.box), f.crop, p, h) for f, p, h in zip(faces, probabilities, heatmaps)]


BOX_COLOUR = (255, 191, 0)  # RGB amber: readable on skin, hair and most backgrounds


def annotate(image_bgr, results):
    """The photo as RGB with every face boxed and labelled ("1 happy 87%"), sized to the photo."""
    image = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB)
    thickness = max(2, round(max(image.shape[:2]) / 400))
    scale = max(0.5, max(image.shape[:2]) / 1000)
    for number, result in enumerate(results, start=1):
        x, y, w, h = result.box
        cv2.rectangle(image, (x, y), (x + w, y + h), BOX_COLOUR, thickness)
        _draw_label(image, f"{number} {result.emotion} {result.probabilities.max():.0%}", x, y, w, scale, thickness)
    return image


def _draw_label(image, label, x, y, width, scale, thickness):
    """Draw `label` on a filled tag above a box, shrunk to the box's width: side-by-side faces
    in a group photo would otherwise get labels that run over each other."""
    font = cv2.FONT_HERSHEY_SIMPLEX
    (tw, _), _ = cv2.getTextSize(label, font, scale, thickness)
    if tw > width:
        scale = scale * width / tw
        thickness = max(1, round(thickness * width / tw))
    (tw, th), base = cv2.getTextSize(label, font, scale, thickness)
    top = max(th + base, y)
    cv2.rectangle(image, (x, top - th - base), (x + min(tw, width), top), BOX_COLOUR, -1)
    cv2.putText(image, label, (x, top - base), font, scale, (0, 0, 0), thickness)
