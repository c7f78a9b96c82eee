"""The seven FER2013 emotions in one canonical order, and the mappings into it.

Canonical order is the alphabetical order of the Kaggle folders (the order the study's
reports use), so a label index means the same thing whatever format the data came in.
"""

EMOTIONS = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")
NUM_CLASSES = len(EMOTIONS)

# fer2013.csv codes: 0 Angry, 1 Disgust, 2 Fear, 3 Happy, 4 Sad, 5 Surprise, 6 Neutral.
_CSV_CODE_TO_NAME = {0: "angry", 1: "disgust", 2: "fear", 3: "happy", 4: "sad", 5: "surprise", 6: "neutral"}


def index_of(name):
    """Canonical index of an emotion name; case and surrounding spaces are ignored."""
    key = str(name).strip().lower()
    if key not in EMOTIONS:
        raise ValueError(f"unknown emotion {name!r}; expected one of {', '.join(EMOTIONS)}")
    return EMOTIONS.index(key)


def index_from_csv_code(code):
    """Canonical index of a fer2013.csv `emotion` code (0-6)."""
    if int(code) not in _CSV_CODE_TO_NAME:
        raise ValueError(f"unknown fer2013.csv emotion code {code!r}; expected 0-6")
    return EMOTIONS.index(_CSV_CODE_TO_NAME[int(code)])


def csv_code_of(index):
    """Inverse of `index_from_csv_code`, for writing fer2013.csv files."""
    name = EMOTIONS[index]
    return next(code for code, n in _CSV_CODE_TO_NAME.items() if n == name)


def title(index):
    """Display name of an emotion index, e.g. 'Neutral'."""
    return EMOTIONS[index].capitalize()
