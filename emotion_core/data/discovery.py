"""Finding data for the app: where FER2013 might be, and fetching it from Kaggle."""

from pathlib import Path

from emotion_core import settings
from emotion_core.config import SYNTHETIC
from emotion_core.data.sources import split_folder
from emotion_core.errors import DataError
from emotion_core.labels import EMOTIONS

KAGGLE_DATASET = "msambare/fer2013"


def looks_like_fer2013(path):
    """True when `path` is a Kaggle-layout root with train/ (and usually test/) class folders."""
    try:
        split_folder(path, "train")
        return True
    except (DataError, OSError):
        return False


def find_sources(user_path=""):
    """Data sources the app can offer, as (label, source) pairs; synthetic is always there.

    FER2013 is looked for at `user_path`, then $EMOTION_DATA_DIR, then ./data/fer2013.
    """
    found = []
    candidates = [user_path, *settings.data_dir_candidates()]
    for candidate in candidates:
        if candidate and looks_like_fer2013(candidate):
            resolved = str(Path(candidate).expanduser())
            if resolved not in [s for _, s in found]:
                found.append((_fer2013_label(resolved, [label for label, _ in found]), resolved))
    found.append(("Synthetic faces (built in)", SYNTHETIC))
    return found


def _fer2013_label(folder, taken):
    """A short name for a select box ("FER2013 (fer2013)"): a whole path was cut at 1024 px.
    More of the path is added only where two folders share a name; pages show the path below."""
    parts = Path(folder).parts
    for depth in range(1, len(parts) + 1):
        label = f"FER2013 ({Path(*parts[-depth:])})"
        if label not in taken:
            return label
    return f"FER2013 ({folder})"


def download_fer2013():
    """Download FER2013 from Kaggle with kagglehub; returns the folder holding train/ and test/.

    Raises DataError with a readable reason when offline or when Kaggle refuses.
    """
    try:
        import kagglehub
    except ImportError:
        raise DataError("downloading FER2013 needs kagglehub (pip install 'emotion-core[download]'); or copy the "
                        "Kaggle folder (train/ and test/) to ./data/fer2013") from None
    try:
        path = Path(kagglehub.dataset_download(KAGGLE_DATASET))
    except Exception as error:  # network, credentials, or kagglehub itself
        raise DataError(
            f"could not download FER2013 from Kaggle ({type(error).__name__}: {str(error)[:160]}). "
            "Without internet, copy the Kaggle folder (train/ and test/) to ./data/fer2013 or set EMOTION_DATA_DIR."
        ) from None
    for candidate in (path, *path.glob("*")):
        if looks_like_fer2013(candidate):
            return candidate
    raise DataError(f"downloaded {KAGGLE_DATASET} to {path} but found no train/ folder with {', '.join(EMOTIONS)}")
