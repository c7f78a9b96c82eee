import pytest

from emotion_core.errors import DataError
from emotion_core.data.discovery import download_fer2013, find_sources, looks_like_fer2013


def test_synthetic_is_always_offered_and_fer2013_is_found_where_the_user_says(kaggle_root, monkeypatch):
    monkeypatch.delenv("EMOTION_DATA_DIR", raising=False)
    assert find_sources("") == [("Synthetic faces (built in)", "synthetic")]
    sources = find_sources(str(kaggle_root))
    assert sources[0][1] == str(kaggle_root) and sources[-1][1] == "synthetic"
    monkeypatch.setenv("EMOTION_DATA_DIR", str(kaggle_root))
    assert len(find_sources(str(kaggle_root))) == 2  # the same folder is offered once


def test_two_fer2013_folders_of_one_name_get_short_labels_that_differ(kaggle_root, tmp_path, monkeypatch):
    import shutil

    other = tmp_path / "elsewhere" / kaggle_root.name
    shutil.copytree(kaggle_root, other)
    monkeypatch.setenv("EMOTION_DATA_DIR", str(other))
    labels = [label for label, _ in find_sources(str(kaggle_root))]
    assert labels == [f"FER2013 ({kaggle_root.name})", f"FER2013 (elsewhere/{kaggle_root.name})",
                      "Synthetic faces (built in)"]


def test_a_folder_without_class_folders_is_not_fer2013(tmp_path):
    assert not looks_like_fer2013(tmp_path) and not looks_like_fer2013(tmp_path / "missing")


def test_download_offline_gives_a_clear_message(monkeypatch):
    import kagglehub

    def offline(handle):
        raise ConnectionError("Name or service not known")

    monkeypatch.setattr(kagglehub, "dataset_download", offline)
    with pytest.raises(DataError, match="could not download FER2013 from Kaggle .*ConnectionError.*data/fer2013"):
        download_fer2013()
