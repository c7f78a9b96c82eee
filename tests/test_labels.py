import pytest

from emotion_core import labels
from emotion_core.errors import DataError


def test_canonical_order_is_kaggle_folder_order():
    assert labels.EMOTIONS == ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")


@pytest.mark.parametrize(
    "code, name",
    [(0, "angry"), (1, "disgust"), (2, "fear"), (3, "happy"), (4, "sad"), (5, "surprise"), (6, "neutral")],
)
def test_csv_codes_map_to_the_same_emotion_as_folder_names(code, name):
    assert labels.index_from_csv_code(code) == labels.index_of(name)
    assert labels.csv_code_of(labels.index_of(name)) == code


def test_folder_names_are_case_insensitive_and_bad_names_fail():
    assert labels.index_of(" Happy ") == 3
    with pytest.raises(DataError, match="unknown emotion"):
        labels.index_of("bored")
    with pytest.raises(DataError, match="0-6"):
        labels.index_from_csv_code(7)


@pytest.mark.parametrize("code", [2.7, "2.7", "x", -1, ""])
def test_csv_codes_that_are_not_whole_numbers_0_to_6_are_refused(code):
    with pytest.raises(DataError, match="0-6"):
        labels.index_from_csv_code(code)
