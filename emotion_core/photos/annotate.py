"""Drawing the results of `analyse_photo` onto the photo: a box and a label per face."""

import cv2

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
