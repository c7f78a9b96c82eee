"""Built-in synthetic faces: drawn 48x48 grayscale faces with seven expressions.

They make the app and the tests work offline and in seconds. Each face varies in identity
(face shape, skin tone), pose (shift, rotation), lighting and noise; class sizes follow
FER2013's imbalance, and sad is drawn as a mild frown so that, like in FER2013, it is
easily confused with neutral. The generator returns where it drew each mouth so that
tests can check what a model looks at.
"""

import functools
from dataclasses import dataclass

import cv2
import numpy as np

from emotion_core.data.dataset import Dataset
from emotion_core.labels import EMOTIONS, FACE_SIZE

# FER2013 training counts in canonical order, so synthetic data is imbalanced the same way.
FER2013_TRAIN_COUNTS = (3995, 436, 4097, 7215, 4965, 4830, 3171)
SIZES = {"train": 2100, "test": 700}
_SEEDS = {"train": 0, "test": 1}


@dataclass(frozen=True)
class Expression:
    """How one emotion bends the face; numbers are in pixels of a 48x48 face."""

    mouth_curve: float  # + smile, - frown
    mouth_open: float  # height of an open mouth
    mouth_width: float
    brow_tilt: float  # + inner ends down (anger), - inner ends up (sadness, fear)
    brow_lift: float  # + raised brows
    eye_open: float  # eye half-height


EXPRESSIONS = {
    "angry": Expression(-1.5, 0.0, 12, 3.5, -1.0, 1.6),
    "disgust": Expression(-2.5, 1.5, 9, 2.0, -1.5, 1.0),
    "fear": Expression(-1.0, 3.5, 13, -2.5, 2.5, 3.0),
    "happy": Expression(4.5, 1.0, 15, 0.0, 0.0, 2.0),  # eyes and brows as neutral: the mouth is the cue
    "neutral": Expression(0.0, 0.0, 12, 0.0, 0.0, 2.0),
    "sad": Expression(-1.6, 0.0, 11, -1.6, 0.3, 1.8),
    "surprise": Expression(0.0, 6.0, 8, -0.5, 4.0, 3.2),
}


def class_sizes(total):
    """Per-class counts summing to `total`, proportional to FER2013 (at least 2 per class)."""
    weights = np.asarray(FER2013_TRAIN_COUNTS, dtype=float) / sum(FER2013_TRAIN_COUNTS)
    counts = np.maximum(2, np.floor(weights * total)).astype(int)
    counts[int(np.argmax(counts))] += total - counts.sum()
    return counts


def synthetic_faces(total, *, seed=0):
    """Draw `total` faces.

    Returns:
        images: uint8 array (n, 48, 48); labels: int64 array (n,);
        mouth_boxes: int array (n, 4) of (x0, y0, x1, y1) around each drawn mouth.
    """
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(len(EMOTIONS)), class_sizes(total))
    rng.shuffle(labels)
    images = np.empty((len(labels), FACE_SIZE, FACE_SIZE), dtype=np.uint8)
    boxes = np.empty((len(labels), 4), dtype=int)
    for i, label in enumerate(labels):
        images[i], boxes[i] = draw_face(EXPRESSIONS[EMOTIONS[label]], rng)
    return images, labels.astype(np.int64), boxes


def synthetic_dataset(*, split="train"):
    """The built-in synthetic split as a `Dataset` (same faces every time)."""
    images, labels = _drawn_split(split)
    names = [f"synthetic {split} {i}" for i in range(len(labels))]
    return Dataset(images, labels, f"synthetic faces ({split}, {len(labels)})", names, synthetic=True)


@functools.lru_cache(maxsize=None)
def _drawn_split(split):
    """A split is the same faces every time, so it is drawn once per process (about a second
    for 2,800 faces); the arrays are read-only because every caller shares them."""
    images, labels, _ = synthetic_faces(SIZES[split], seed=_SEEDS[split])
    images.flags.writeable = labels.flags.writeable = False
    return images, labels


def draw_face(expression, rng):
    """Draw one face at a random identity, pose and lighting; returns (image, mouth box)."""
    scale = 4  # draw at 192x192 and shrink, for smooth anti-aliased strokes
    canvas = np.full((FACE_SIZE * scale, FACE_SIZE * scale), rng.uniform(30, 110), dtype=np.float32)
    cx, cy = 24 + rng.normal(0, 1.5), 25 + rng.normal(0, 1.5)
    fw, fh = rng.uniform(15, 19), rng.uniform(19, 23)
    intensity = rng.uniform(0.6, 1.2)  # how strongly this face shows its emotion
    skin = rng.uniform(140, 220)
    ink = skin - rng.uniform(90, 130)

    def pt(x, y):
        return int(round(x * scale)), int(round(y * scale))

    cv2.ellipse(canvas, pt(cx, cy), pt(fw, fh), 0, 0, 360, skin, -1, cv2.LINE_AA)
    e = expression
    eye_y, eye_dx = cy - 4 + rng.normal(0, 0.7), rng.uniform(6.5, 8.5)
    for side in (-1, 1):
        ex = cx + side * eye_dx
        cv2.ellipse(canvas, pt(ex, eye_y), pt(3, max(0.5, e.eye_open * intensity)), 0, 0, 360, ink, -1, cv2.LINE_AA)
        brow_y = eye_y - 5 - e.brow_lift * intensity
        inner, outer = ex - side * 3.5, ex + side * 3.5
        tilt = e.brow_tilt * intensity / 2
        cv2.line(canvas, pt(inner, brow_y + tilt), pt(outer, brow_y - tilt), ink, 2 * scale, cv2.LINE_AA)
    mouth_y = cy + 9 + rng.normal(0, 0.7)
    half = e.mouth_width / 2
    curve = e.mouth_curve * intensity
    xs = np.linspace(cx - half, cx + half, 20)
    ys = mouth_y + curve * (1 - ((xs - cx) / half) ** 2) - curve  # image y grows downwards
    upper = np.stack([xs, ys], axis=1)
    lower = np.stack([xs, ys + e.mouth_open * intensity * np.sin(np.linspace(0, np.pi, 20))], axis=1)
    poly = (np.concatenate([upper, lower[::-1]]) * scale).round().astype(np.int32)
    cv2.fillPoly(canvas, [poly], ink * 0.6, cv2.LINE_AA)
    cv2.polylines(canvas, [poly], True, ink, max(1, int(1.5 * scale)), cv2.LINE_AA)
    image = _vary_pose_and_light(canvas, rng, (cx * scale, cy * scale))
    ys_all = np.concatenate([upper[:, 1], lower[:, 1]])
    box = (int(cx - half - 2), int(ys_all.min() - 2), int(cx + half + 2), int(ys_all.max() + 2))
    return image, box


def _vary_pose_and_light(canvas, rng, centre):
    """Rotate a little, shrink to 48x48, add a lighting gradient and sensor noise."""
    angle = rng.normal(0, 5)
    rotation = cv2.getRotationMatrix2D(centre, angle, 1.0)
    canvas = cv2.warpAffine(canvas, rotation, canvas.shape[::-1], borderMode=cv2.BORDER_REPLICATE)
    small = cv2.resize(canvas, (FACE_SIZE, FACE_SIZE), interpolation=cv2.INTER_AREA)
    gx, gy = rng.normal(0, 0.8, size=2)
    half = FACE_SIZE // 2
    ramp = (np.arange(FACE_SIZE)[None, :] - half) * gx + (np.arange(FACE_SIZE)[:, None] - half) * gy
    noisy = small + ramp + rng.normal(0, rng.uniform(3, 10), size=small.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)
