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


def test_labels_on_a_640_px_video_frame_are_at_least_16_px_tall():
    """8-10 px labels, shrunk to a webcam face's box, could not be read from a projector."""
    frame = np.full((480, 640, 3), 255, np.uint8)
    box = (260, 200, 110, 110)  # a face at arm's length from a laptop's camera
    image = annotate(frame, [_result(box, emotion_index=4)], numbered=False)  # "neutral": no descenders
    text = (image[:box[1] - 2] < 60).all(axis=2)  # the black text on the amber tag above the box
    rows, columns = np.flatnonzero(text.any(axis=1)), np.flatnonzero(text.any(axis=0))
    assert rows.max() - rows.min() + 1 >= 16
    assert columns.max() - columns.min() > 60  # the emotion's name, not a face number


def test_a_video_label_wider_than_its_face_stays_inside_the_frame():
    frame = np.full((480, 640, 3), 255, np.uint8)
    image = annotate(frame, [_result((600, 200, 36, 36), emotion_index=6)], numbered=False)  # "surprise", at the edge
    columns = np.flatnonzero((image[:198] < 60).all(axis=2).any(axis=0))
    assert columns.max() < 640 and columns.max() - columns.min() > 80  # the whole word, not cut by the edge
