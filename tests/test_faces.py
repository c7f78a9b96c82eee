import cv2
import numpy as np
import pytest

from emotion_core.data.synthetic import synthetic_faces
from emotion_core.errors import ModelLoadError
from emotion_core.photos import faces
from emotion_core.photos.decode import read_image_file
from emotion_core.photos.faces import crop_face, detect_faces, find_faces, whole_image_face

from conftest import PHOTOS_DIR


@pytest.fixture(scope="module")
def drawn_faces():
    """Three synthetic faces (seed 0) that the detector finds when shown at 200 px or more."""
    images, _, _ = synthetic_faces(14, seed=0)  # 14: the generator needs 2 per class
    return images[:3]


def paste(canvas, face, x, y, side):
    """Paste a 48x48 face into a gray or BGR canvas at (x, y), enlarged to side x side."""
    big = cv2.resize(face, (side, side), interpolation=cv2.INTER_CUBIC)
    canvas[y:y + side, x:x + side] = big if canvas.ndim == 2 else big[..., None]
    return canvas


def centre_inside(box, x, y, side):
    """The detected box's centre lies in the middle third of the pasted face."""
    bx, by, bw, bh = box
    return abs(bx + bw / 2 - (x + side / 2)) < side / 3 and abs(by + bh / 2 - (y + side / 2)) < side / 3


# --- detection -----------------------------------------------------------------------------


def test_finds_pasted_faces_left_to_right(drawn_faces):
    canvas = np.full((400, 900), 140, np.uint8)
    for i, face in enumerate(drawn_faces):
        paste(canvas, face, 50 + 300 * i, 100, 200)
    boxes = detect_faces(cv2.cvtColor(canvas, cv2.COLOR_GRAY2BGR))
    assert len(boxes) == 3
    for i, box in enumerate(boxes):  # sorted left to right, each on its own face
        assert centre_inside(box, 50 + 300 * i, 100, 200), boxes
        assert all(isinstance(v, int) for v in box)


def test_huge_image_boxes_are_in_original_pixels(drawn_faces):
    # 5000x4000 is shrunk ~26x for the detector's 192-pixel input; the box must come back at full scale.
    canvas = paste(np.full((4000, 5000, 3), 140, np.uint8), drawn_faces[0], 3000, 1500, 1200)
    (box,) = detect_faces(canvas)
    assert centre_inside(box, 3000, 1500, 1200) and 800 < box[2] < 1600, box


@pytest.mark.parametrize("angle", [0, 10, 20, 30])
def test_tilted_faces_are_found(drawn_faces, angle):
    for face in drawn_faces:
        big = cv2.resize(face, (200, 200), interpolation=cv2.INTER_CUBIC)
        turn = cv2.getRotationMatrix2D((100, 100), angle, 1.0)
        tilted = cv2.warpAffine(big, turn, (200, 200), borderMode=cv2.BORDER_REPLICATE)
        canvas = np.full((400, 600, 3), 140, np.uint8)
        canvas[120:320, 250:450] = tilted[..., None]
        (box,) = detect_faces(canvas)
        assert centre_inside(box, 250, 120, 200), (angle, box)


def test_small_faces_are_found_only_when_asked(drawn_faces):
    # a face 8% of the height of a 12-megapixel photo: too small for the whole-photo pass,
    # found in the overlapping tiles that small-faces mode adds
    canvas = paste(np.full((3000, 4000, 3), 140, np.uint8), drawn_faces[0], 2000, 1000, 240)
    assert detect_faces(canvas) == []
    (box,) = detect_faces(canvas, min_face=faces.SMALL_FACE_FRACTION)
    assert centre_inside(box, 2000, 1000, 240), box


def test_no_faces_in_noise_or_flat_images():
    rng = np.random.default_rng(0)
    assert detect_faces(rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)) == []
    assert detect_faces(np.full((300, 300, 3), 200, np.uint8)) == []
    assert detect_faces(np.zeros((10, 10, 3), np.uint8)) == []  # smaller than the detector's window


def test_a_missing_detector_model_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(faces, "_detectors", {})
    monkeypatch.setenv("EMOTION_DETECTOR_DIR", str(tmp_path))
    with pytest.raises(ModelLoadError, match="face detector model missing or unreadable.*face_detection_short_range"):
        detect_faces(np.zeros((100, 100, 3), np.uint8))
    monkeypatch.setattr(faces, "_detectors", {})  # the next test loads the real models again


def test_overlapping_boxes_keep_the_surest():
    boxes = np.array([[10, 10, 100, 100], [20, 20, 80, 80], [15, 12, 95, 95], [300, 10, 50, 50]], float)
    scores = np.array([0.7, 0.9, 0.8, 0.6])
    kept = faces._suppress_overlaps(boxes, scores)
    assert kept.tolist() == [[20, 20, 80, 80], [300, 10, 50, 50]]


def test_anchor_centres_match_the_models_outputs():
    assert len(faces._anchor_centres(128, (8, 16), (2, 6))) == 896  # short range: 16x16x2 + 8x8x6
    assert len(faces._anchor_centres(192, (4,), (1,))) == 2304  # full range: 48x48x1
    assert faces._anchor_centres(128, (8, 16), (2, 6))[0].tolist() == [1 / 32, 1 / 32]


# --- crops ---------------------------------------------------------------------------------


def test_crops_are_48x48_uint8_even_at_borders():
    image = np.random.default_rng(1).integers(0, 256, (300, 500, 3), dtype=np.uint8)
    for box in [(100, 100, 80, 80), (0, 0, 60, 90), (460, 260, 40, 40), (0, 0, 500, 300), (10, 10, 1, 1)]:
        crop = crop_face(image, box)
        assert crop.shape == (48, 48) and crop.dtype == np.uint8, box


def test_crop_is_the_square_around_the_box_in_grayscale():
    # Left half black, right half white: a box on the edge, no margin, crops half and half.
    image = np.zeros((200, 200, 3), np.uint8)
    image[:, 100:] = 255
    crop = crop_face(image, (60, 60, 80, 80), margin=0.0)
    assert crop[:, :24].max() == 0 and crop[:, 24:].min() == 255
    # Margin widens the square around the same centre: still half and half.
    crop = crop_face(image, (60, 60, 80, 80), margin=0.25)
    assert crop[:, :24].max() == 0 and crop[:, 24:].min() == 255


def test_crop_at_the_border_shifts_inwards_and_keeps_the_whole_box():
    image = np.zeros((200, 200, 3), np.uint8)
    image[:50, :50] = 255  # the "face" fills the corner box
    crop = crop_face(image, (0, 0, 50, 50), margin=0.2)  # 70 px square, shifted to (0, 0)
    white = crop > 127
    assert white[0, 0] and white.sum() == pytest.approx(48 * 48 * (50 / 70) ** 2, rel=0.1)


def test_find_faces_and_whole_image_face(drawn_faces):
    canvas = paste(np.full((400, 600, 3), 140, np.uint8), drawn_faces[1], 200, 100, 220)
    (face,) = find_faces(canvas)
    assert face.crop.shape == (48, 48) and face.crop.dtype == np.uint8
    whole = whole_image_face(canvas)
    assert whole.box == (100, 0, 400, 400)  # largest centred square: cropped, not stretched
    assert whole.crop.shape == (48, 48) and whole.crop.dtype == np.uint8


# --- real photos (../shared/data/photos, skipped when absent) -------------------------------


def shared_photos():
    if not PHOTOS_DIR.is_dir():
        pytest.skip(f"no development photos at {PHOTOS_DIR}")
    return sorted(PHOTOS_DIR.glob("*.jpg"))


def test_every_shared_photo_has_a_face_the_couple_two_and_the_selfie_four():
    counts = {}
    for path in shared_photos():
        image = read_image_file(path)
        counts[path.name] = len(detect_faces(image))
    assert all(n >= 1 for n in counts.values()), counts
    # the selfie's other three faces are cut off by the photo's border
    assert counts["couple.jpg"] == 2 and counts["selfie-many-people.jpg"] == 4, counts
