"""One photo in, every face out: box, 48x48 crop, emotion probabilities and Grad-CAM.

The Live page and anything else that shows a photo use this, so the page stays widgets only.
"""

from dataclasses import dataclass

import cv2
import numpy as np

from emotion_core.evaluation import predict_probabilities
from emotion_core.faces import MIN_FACE_FRACTION, faces_or_whole
from emotion_core.labels import EMOTIONS

BOX_COLOUR = (255, 191, 0)  # RGB amber: readable on skin, hair and most backgrounds
LABEL_FONT = cv2.FONT_HERSHEY_SIMPLEX
MIN_LABEL_SCALE = 0.4  # smaller Hershey text cannot be read on screen


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


def annotate(image_bgr, results):
    """The photo as RGB with every face boxed and labelled ("1 happy 87%"), sized to the photo."""
    image = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB)
    thickness = max(2, round(max(image.shape[:2]) / 400))
    scale = max(0.5, max(image.shape[:2]) / 1000)
    for number, result in enumerate(results, start=1):
        x, y, w, h = result.box
        cv2.rectangle(image, (x, y), (x + w, y + h), BOX_COLOUR, thickness)
        label = f"{number} {result.emotion} {result.probabilities.max():.0%}"
        _draw_label(image, label, str(number), x, y, w, scale, thickness)
    return image


def _draw_label(image, label, short_label, x, y, width, scale, thickness):
    """Draw `label` on a filled tag above a box, shrunk to the box's width so that labels of
    side-by-side faces in a group photo do not run over each other. When that would make it
    unreadable, `short_label` (the face's number, which the bars beside the photo repeat) is
    drawn instead."""
    fitted = _scale_to_fit(label, width, scale, thickness)
    if fitted < MIN_LABEL_SCALE:
        label = short_label
        fitted = max(MIN_LABEL_SCALE, _scale_to_fit(label, width, scale, thickness))
    thickness = max(1, round(thickness * fitted / scale))
    (tw, th), base = cv2.getTextSize(label, LABEL_FONT, fitted, thickness)
    top = max(th + base, y)
    cv2.rectangle(image, (x, top - th - base), (x + tw, top), BOX_COLOUR, -1)
    cv2.putText(image, label, (x, top - base), LABEL_FONT, fitted, (0, 0, 0), thickness)


def _scale_to_fit(label, width, scale, thickness):
    """The font scale at which `label` is at most `width` pixels wide, never above `scale`."""
    text_width = cv2.getTextSize(label, LABEL_FONT, scale, thickness)[0][0]
    return scale * min(1.0, width / text_width)
