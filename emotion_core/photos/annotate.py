"""Drawing the results of `analyse_photo` onto the photo: a box and a label per face, and,
for live video, each face's Grad-CAM map where its crop was taken."""

import cv2
import numpy as np

from emotion_core.photos.faces import CROP_MARGIN, crop_square

BOX_COLOUR = (255, 191, 0)  # RGB amber: readable on skin, hair and most backgrounds
LABEL_FONT = cv2.FONT_HERSHEY_SIMPLEX
MIN_LABEL_SCALE = 0.4  # smaller Hershey text cannot be read on screen


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


def draw_heatmaps(image_bgr, results, *, alpha=0.45):
    """Blend each face's Grad-CAM map (jet colours) over the square its crop was cut from.

    Args:
        image_bgr: uint8 (H, W, 3), drawn on in place and returned.
        results: FaceResults with heatmaps (those without are skipped).
    """
    for result in results:
        if result.heatmap is None:
            continue
        x0, y0, x1, y1 = crop_square(result.box, image_bgr.shape[:2], margin=CROP_MARGIN)
        heat = cv2.resize((np.clip(result.heatmap, 0, 1) * 255).astype(np.uint8), (x1 - x0, y1 - y0),
                          interpolation=cv2.INTER_LINEAR)
        colour = cv2.applyColorMap(heat, cv2.COLORMAP_JET)
        patch = image_bgr[y0:y1, x0:x1]
        image_bgr[y0:y1, x0:x1] = cv2.addWeighted(colour, alpha, patch, 1 - alpha, 0)
    return image_bgr


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
