"""Drawing the results of `analyse_photo` onto the photo: a box and a label per face, and,
for live video, each face's Grad-CAM map where its crop was taken."""

import cv2
import numpy as np

from emotion_core.photos.faces import CROP_MARGIN, crop_square

BOX_COLOUR = (255, 191, 0)  # RGB amber: readable on skin, hair and most backgrounds
LABEL_FONT = cv2.FONT_HERSHEY_SIMPLEX
# The smallest label, as its text's height (digits and capitals) per pixel of the picture's width:
# 16 px in a 640-px video frame. The page shows a frame at about half its size beside the chart,
# and smaller labels (8-10 px, shrunk to narrow face boxes) could not be read from a projector.
MIN_LABEL_HEIGHT = 16 / 640


def annotate(image_bgr, results, *, numbered=True):
    """The photo as RGB with every face boxed and labelled ("1 happy 87%"), sized to the photo.

    Args:
        numbered: start each label with the face's number, which the page's bars beside a photo
            repeat (a face too narrow for the whole label gets its number alone). Live video has
            no bars: its labels are "happy 87%", else "happy", never smaller than MIN_LABEL_HEIGHT
            even where that is wider than the face.
    """
    image = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB)
    thickness = max(2, round(max(image.shape[:2]) / 400))
    least = _scale_for_height(MIN_LABEL_HEIGHT * image.shape[1], thickness)
    scale = max(0.5, max(image.shape[:2]) / 1000, least)
    for number, result in enumerate(results, start=1):
        x, y, w, h = result.box
        cv2.rectangle(image, (x, y), (x + w, y + h), BOX_COLOUR, thickness)
        said = f"{result.emotion} {result.probabilities.max():.0%}"
        labels = (f"{number} {said}", str(number)) if numbered else (said, result.emotion)
        _draw_label(image, labels, x, y, w, scale, thickness, least=least)
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


def _draw_label(image, labels, x, y, width, scale, thickness, *, least):
    """Draw the first of `labels` (most telling first) that fits the box's width at the scale
    `least` or larger, on a filled tag above the box: shrunk to the box so that labels of
    side-by-side faces in a group photo do not run over each other. The last one is drawn at
    `least` at smallest, even where that is wider than the box."""
    for label in labels:
        fitted = _scale_to_fit(label, width, scale, thickness)
        if fitted >= least:
            break
    fitted = max(least, fitted)
    thickness = max(1, round(thickness * fitted / scale))
    (tw, th), base = cv2.getTextSize(label, LABEL_FONT, fitted, thickness)
    x = max(0, min(x, image.shape[1] - tw))  # a tag wider than its box stays inside the picture
    top = max(th + base, y)
    cv2.rectangle(image, (x, top - th - base), (x + tw, top), BOX_COLOUR, -1)
    cv2.putText(image, label, (x, top - base), LABEL_FONT, fitted, (0, 0, 0), thickness)


def _scale_for_height(pixels, thickness):
    """The font scale at which a label's text is `pixels` tall (Hershey text is 22 px at 1.0)."""
    return pixels / cv2.getTextSize("0", LABEL_FONT, 1.0, thickness)[0][1]


def _scale_to_fit(label, width, scale, thickness):
    """The font scale at which `label` is at most `width` pixels wide, never above `scale`."""
    text_width = cv2.getTextSize(label, LABEL_FONT, scale, thickness)[0][0]
    return scale * min(1.0, width / text_width)
