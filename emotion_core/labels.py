"""The seven FER2013 emotions in one canonical order, the face size, and the mappings into them.

Canonical order is the alphabetical order of the Kaggle folders (the order the study's
reports use), so a label index means the same thing whatever format the data came in.
"""

from emotion_core.errors import DataError

EMOTIONS = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")
NUM_CLASSES = len(EMOTIONS)
FACE_SIZE = 48  # FER2013 faces are 48x48 grayscale; every model takes this size

# fer2013.csv codes: 0 Angry, 1 Disgust, 2 Fear, 3 Happy, 4 Sad, 5 Surprise, 6 Neutral.
_CSV_CODE_TO_NAME = {0: "angry", 1: "disgust", 2: "fear", 3: "happy", 4: "sad", 5: "surprise", 6: "neutral"}


def index_of(name):
    """Canonical index of an emotion name; case and surrounding spaces are ignored."""
    key = str(name).strip().lower()
    if key not in EMOTIONS:
        raise DataError(f"unknown emotion {name!r}; expected one of {', '.join(EMOTIONS)}")
    return EMOTIONS.index(key)


def index_from_csv_code(code):
    """Canonical index of a fer2013.csv `emotion` code: an integer 0-6 (2.7 or 'x' is refused)."""
    text = str(code).strip()
    if not text.isdigit() or int(text) not in _CSV_CODE_TO_NAME:
        raise DataError(f"unknown fer2013.csv emotion code {code!r}; expected an integer 0-6")
    return EMOTIONS.index(_CSV_CODE_TO_NAME[int(text)])


def csv_code_of(index):
    """Inverse of `index_from_csv_code`, for writing fer2013.csv files."""
    name = EMOTIONS[index]
    return next(code for code, n in _CSV_CODE_TO_NAME.items() if n == name)
