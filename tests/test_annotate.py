"""annotate: boxes and labels drawn on the photo the Live page shows."""

import numpy as np

from emotion_core.photos.analyse import FaceResult
from emotion_core.photos.annotate import annotate


def _result(box, emotion_index=3):
    probabilities = np.full(7, 0.01, np.float32)
    probabilities[emotion_index] = 0.94
    return FaceResult(box, np.zeros((48, 48), np.uint8), probabilities, np.zeros((48, 48), np.float32))


def test_labels_of_side_by_side_faces_stay_over_their_own_box():
    white = np.full((600, 600, 3), 255, np.uint8)
    left, right = (100, 200, 60, 60), (160, 200, 60, 60)  # narrow boxes that touch, as in a group selfie
    image = annotate(white, [_result(left), _result(right)])
    label_band = image[100:200]  # above both boxes, where the labels go
    drawn_columns = np.flatnonzero((label_band != 255).any(axis=(0, 2)))
    assert drawn_columns.min() >= left[0]
    assert drawn_columns.max() <= right[0] + right[2]
    left_label = label_band[:, left[0]:right[0]]
    assert (left_label != 255).any(), "the left face lost its label"


def test_a_wide_box_keeps_the_full_size_label():
    white = np.full((600, 600, 3), 255, np.uint8)
    image = annotate(white, [_result((100, 300, 400, 200))])
    label_rows = np.flatnonzero((image[:300] != 255).any(axis=(1, 2)))
    assert label_rows.size >= 15  # scale 0.6 text: about 20 px tall


def test_a_box_too_small_for_a_readable_label_gets_its_number():
    white = np.full((600, 600, 3), 255, np.uint8)
    box = (300, 300, 26, 26)  # a small face found with "Small faces" on
    image = annotate(white, [_result(box)])
    label_band = image[:box[1] - 2]
    rows = np.flatnonzero((label_band != 255).any(axis=(1, 2)))
    columns = np.flatnonzero((label_band != 255).any(axis=(0, 2)))
    assert rows.size >= 10  # readable height, not a squashed "1 happy 94%"
    assert columns.max() - columns.min() < 2 * box[2]  # the number only, not the full label
