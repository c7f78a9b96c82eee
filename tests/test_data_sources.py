import cv2
import numpy as np
import pytest

from conftest import FER2013_DIR, face_image
from emotion_core.data import load_data
from emotion_core.errors import DataError
from emotion_core.labels import EMOTIONS


def test_kaggle_root_loads_train_and_test_splits(kaggle_root):
    train = load_data(kaggle_root, split="train")
    test = load_data(kaggle_root, split="test")
    assert train.images.shape == (21, 48, 48) and train.images.dtype == np.uint8
    assert train.class_counts().tolist() == [3] * 7
    assert test.class_counts().tolist() == [1] * 7
    assert train.names[0] == "angry/train_0.png"


def test_a_split_folder_of_class_folders_loads_directly(kaggle_root):
    assert len(load_data(kaggle_root / "test")) == 7


def test_csv_and_folder_give_the_same_labels_for_the_same_pixels(kaggle_root, fer_csv):
    # Same images in both formats: each image must land on the same canonical label.
    from_folder = load_data(kaggle_root / "test")
    from_csv = load_data(fer_csv, split="test")
    by_pixels = {img.tobytes(): lab for img, lab in zip(from_folder.images, from_folder.labels)}
    assert [by_pixels[img.tobytes()] for img in from_csv.images] == from_csv.labels.tolist()


def test_csv_usage_maps_to_splits(fer_csv):
    assert len(load_data(fer_csv, split="train")) == 14
    assert len(load_data(fer_csv, split="test")) == 7


def test_colour_and_other_sizes_are_converted(tmp_path):
    folder = tmp_path / "happy"
    folder.mkdir()
    colour = cv2.cvtColor(cv2.resize(face_image(3, 0), (96, 120)), cv2.COLOR_GRAY2BGR)
    cv2.imwrite(str(folder / "big_colour.jpg"), colour)
    data = load_data(tmp_path)
    assert data.images.shape == (1, 48, 48) and data.labels.tolist() == [EMOTIONS.index("happy")]


def test_unreadable_files_are_skipped_and_counted(kaggle_root):
    (kaggle_root / "train" / "sad" / "broken.jpg").write_bytes(b"not a jpeg")
    data = load_data(kaggle_root, split="train")
    assert len(data) == 21 and "1 unreadable skipped" in data.description


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p / "missing", "not found"),
        (lambda p: (p / "empty").mkdir() or p / "empty", "not a Kaggle-layout folder"),
        (lambda p: (p / "angry").mkdir() or p, "no images found"),
        (lambda p: (p / "x.csv").write_text("a,b\n1,2\n") and p / "x.csv", "lacks column"),
        (lambda p: (p / "y.csv").write_text("emotion,pixels\n3,1 2 3\n") and p / "y.csv", "expected 2304 pixel values"),
    ],
)
def test_bad_sources_give_clear_errors(tmp_path, make, message):
    with pytest.raises(DataError, match=message):
        load_data(make(tmp_path))


def test_second_load_comes_from_the_cache(kaggle_root, monkeypatch):
    load_data(kaggle_root, split="train")
    import emotion_core.data.sources as sources

    monkeypatch.setattr(sources, "load_class_folders", lambda *a, **k: pytest.fail("decoded twice"))
    assert len(load_data(kaggle_root, split="train")) == 21


def test_synthetic_source_is_imbalanced_like_fer2013():
    data = load_data("synthetic")
    counts = data.class_counts()
    assert data.synthetic and counts.argmax() == EMOTIONS.index("happy") and counts.argmin() == EMOTIONS.index("disgust")


@pytest.mark.slow  # decodes all 35,887 faces of FER2013: the slow tier
def test_real_fer2013_counts_match_its_readme():
    if not FER2013_DIR.is_dir():
        pytest.skip("../shared/data/fer2013 is absent")
    train = load_data(FER2013_DIR, split="train")
    test = load_data(FER2013_DIR, split="test")
    assert train.class_counts().tolist() == [3995, 436, 4097, 7215, 4965, 4830, 3171]
    assert test.class_counts().tolist() == [467, 56, 496, 895, 607, 653, 415]


def test_a_synthetic_split_is_drawn_once_and_shared_read_only():
    """Drawn once per process (every page and test loads it): the same faces each time, and a
    caller that tried to change them in place would change them for everyone, so it cannot."""
    first, again = load_data("synthetic"), load_data("synthetic")
    assert first.images is again.images and first.labels is again.labels
    with pytest.raises(ValueError, match="read-only"):
        first.images[0, 0, 0] = 255
    assert load_data("synthetic", split="test").images is not first.images
