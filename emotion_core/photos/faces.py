"""Face detection and crop-to-48x48 preprocessing for photos and webcam frames.

Faces are found by Google's BlazeFace detectors (two small TFLite models shipped in assets/,
see FACE_DETECTOR.md), run by TensorFlow's own TFLite interpreter, so detection works offline
and finds tilted and large faces that OpenCV's Haar cascades missed. Each face is cropped the
way FER2013 faces were made: a square around the face, grayscale, shrunk to 48x48.
"""

import os
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from emotion_core import settings
from emotion_core.errors import ModelLoadError
from emotion_core.labels import FACE_SIZE
from emotion_core.quiet import silenced_stderr

# name -> (file, input side, anchor strides, anchors per cell, score threshold). The numbers
# are MediaPipe's own settings for these models (face_detection_*_range.pbtxt).
DETECTORS = {
    "short": ("face_detection_short_range.tflite", 128, (8, 16), (2, 6), 0.5),  # within ~2 m: selfies, webcams
    "full": ("face_detection_full_range_sparse.tflite", 192, (4,), (1,), 0.6),  # up to ~5 m: groups
}
# Smallest face kept, as a fraction of the shorter image side: smaller boxes are too blurry to
# classify and are where false faces (patterns on clothes) appear. SMALL_FACE_FRACTION also
# scans overlapping tiles of the photo, so faces in the back of a group are seen larger.
MIN_FACE_FRACTION = 0.05
SMALL_FACE_FRACTION = 0.02
MIN_FACE_PIXELS = 24  # below this a face is too blurry to classify
NMS_OVERLAP = 0.3  # boxes overlapping more than this (intersection over union) are one face
_TILE = 0.6  # tiles cover 60% of each side, so neighbouring tiles overlap and no face is cut in all


@dataclass
class Face:
    """One face: where it is in the original image, and its FER2013-style crop.

    box: (x, y, w, h) ints in original image pixels; crop: uint8 array (48, 48).
    """

    box: tuple
    crop: np.ndarray


class _BlazeFace:
    """One BlazeFace model: letterboxed RGB in, scored boxes (in that image's pixels) out."""

    def __init__(self, name):
        file, self.side, strides, per_cell, self.threshold = DETECTORS[name]
        path = settings.detector_dir() / file
        try:
            import tensorflow as tf

            with warnings.catch_warnings(), silenced_stderr():  # tf.lite says it will move to LiteRT; it works
                warnings.simplefilter("ignore")
                self._interpreter = tf.lite.Interpreter(model_path=str(path), num_threads=1)
                self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError, OSError) as error:
            raise ModelLoadError(f"face detector model missing or unreadable: {path} ({error})") from None
        self._input = self._interpreter.get_input_details()[0]["index"]
        outputs = self._interpreter.get_output_details()
        self._boxes = next(o["index"] for o in outputs if o["shape"][-1] == 16)
        self._scores = next(o["index"] for o in outputs if o["shape"][-1] == 1)
        self._anchors = _anchor_centres(self.side, strides, per_cell)
        self._lock = threading.Lock()  # one interpreter serves every page session: one call at a time

    def __call__(self, rgb):
        """rgb: uint8 (H, W, 3). Returns (boxes float (n, 4) x, y, w, h in its pixels, scores (n,))."""
        height, width = rgb.shape[:2]
        side = max(height, width)
        square = np.zeros((side, side, 3), np.uint8)  # letterbox: the model wants a square, undistorted
        top, left = (side - height) // 2, (side - width) // 2
        square[top:top + height, left:left + width] = rgb
        x = cv2.resize(square, (self.side, self.side), interpolation=cv2.INTER_AREA)
        x = (x.astype(np.float32) / 127.5 - 1.0)[None]
        with self._lock:
            self._interpreter.set_tensor(self._input, x)
            self._interpreter.invoke()
            raw = self._interpreter.get_tensor(self._boxes)[0]
            logits = self._interpreter.get_tensor(self._scores)[0, :, 0]
        scores = 1.0 / (1.0 + np.exp(-np.clip(logits, -80.0, 80.0)))
        keep = scores >= self.threshold
        raw, anchors = raw[keep], self._anchors[keep]
        # offsets are in input pixels from the anchor's centre; sizes in input pixels
        centre = raw[:, :2] / self.side + anchors
        size = raw[:, 2:4] / self.side
        boxes = np.concatenate([centre - size / 2, size], axis=1) * side
        boxes[:, 0] -= left
        boxes[:, 1] -= top
        return boxes, scores[keep]


def _anchor_centres(side, strides, per_cell):
    """The SSD anchor centres, in [0, 1], in the order of the model's outputs."""
    centres = []
    for stride, count in zip(strides, per_cell):
        cells = side // stride
        for y in range(cells):
            for x in range(cells):
                centres += [((x + 0.5) / cells, (y + 0.5) / cells)] * count
    return np.asarray(centres, np.float32)


_detectors = {}
_detectors_lock = threading.Lock()


def _detector(name):
    """A BlazeFace model, loaded once per process."""
    with _detectors_lock:
        if name not in _detectors:
            _detectors[name] = _BlazeFace(name)
        return _detectors[name]


def detect_faces(image_bgr, *, min_face=MIN_FACE_FRACTION):
    """Find faces.

    Both models look at the whole image (the short-range one finds close, large faces; the
    full-range one smaller, farther ones); with `min_face` at SMALL_FACE_FRACTION the
    full-range one also looks at overlapping tiles, where faces at the back of a group
    appear larger. Overlapping boxes are merged, the surest kept.

    Args:
        image_bgr: uint8 array (H, W, 3) (or (H, W) grayscale).
        min_face: smallest face kept, as a fraction of the shorter image side.
    Returns:
        list of (x, y, w, h) int tuples in original pixels, inside the image, left to right.
    """
    rgb = cv2.cvtColor(image_bgr, cv2.COLOR_GRAY2RGB if image_bgr.ndim == 2 else cv2.COLOR_BGR2RGB)
    height, width = rgb.shape[:2]
    if min(height, width) < MIN_FACE_PIXELS:
        return []
    found = [_detector("short")(rgb), _detector("full")(rgb)]
    if min_face <= SMALL_FACE_FRACTION:
        found += [_shifted(_detector("full")(rgb[y:y + h, x:x + w]), x, y) for x, y, w, h in _tiles(width, height)]
    boxes = np.concatenate([b for b, _ in found]) if found else np.zeros((0, 4))
    scores = np.concatenate([s for _, s in found]) if found else np.zeros(0)
    boxes = _clip(boxes, width, height)
    smallest = max(MIN_FACE_PIXELS, min_face * min(height, width))
    large_enough = np.minimum(boxes[:, 2], boxes[:, 3]) >= smallest
    kept = _suppress_overlaps(boxes[large_enough], scores[large_enough])
    return sorted((tuple(int(round(v)) for v in box) for box in kept), key=lambda box: (box[0], box[1]))


def _tiles(width, height):
    """(x, y, w, h) of 2x2 overlapping tiles covering the image."""
    w, h = int(width * _TILE), int(height * _TILE)
    return [(x, y, w, h) for y in (0, height - h) for x in (0, width - w)]


def _shifted(found, x, y):
    boxes, scores = found
    return boxes + np.array([x, y, 0, 0], np.float32), scores


def _clip(boxes, width, height):
    """Boxes cut to the image (a face at the border can reach outside it)."""
    x0 = np.clip(boxes[:, 0], 0, width)
    y0 = np.clip(boxes[:, 1], 0, height)
    x1 = np.clip(boxes[:, 0] + boxes[:, 2], 0, width)
    y1 = np.clip(boxes[:, 1] + boxes[:, 3], 0, height)
    return np.stack([x0, y0, x1 - x0, y1 - y0], axis=1)


def _suppress_overlaps(boxes, scores, *, overlap=NMS_OVERLAP):
    """Keep the surest of boxes that overlap: both models, and neighbouring anchors, report
    the same face.

    Args:
        boxes: float array (n, 4) of (x, y, w, h). scores: float (n,).
    Returns:
        the kept rows, surest first.
    """
    kept = []
    for i in np.argsort(-scores, kind="stable"):
        if all(_iou(boxes[i], boxes[j]) <= overlap for j in kept):
            kept.append(i)
    return boxes[kept]


def _iou(a, b):
    """Intersection over union of two (x, y, w, h) boxes."""
    width = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    height = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


CROP_MARGIN = 0.1  # room around a detected face in its crop, as a fraction of the box's larger side


def crop_face(image_bgr, box, *, margin=CROP_MARGIN):
    """Crop one face the way FER2013 faces look: square, a little room around, gray, 48x48.

    Args:
        image_bgr: uint8 array (H, W, 3) (or (H, W) grayscale).
        box: (x, y, w, h) in image pixels.
        margin: extra room on each side, as a fraction of the box's larger side.
    Returns:
        uint8 array (48, 48).
    """
    x0, y0, x1, y1 = crop_square(box, image_bgr.shape[:2], margin=margin)
    patch = image_bgr[y0:y1, x0:x1]
    if patch.ndim == 3:
        patch = cv2.cvtColor(patch, cv2.COLOR_BGR2GRAY)
    # INTER_AREA averages the pixels each output pixel covers: no aliasing when shrinking.
    return cv2.resize(patch, (FACE_SIZE, FACE_SIZE), interpolation=cv2.INTER_AREA)


def crop_square(box, shape, *, margin=CROP_MARGIN):
    """(x0, y0, x1, y1) of a square around `box`, grown by `margin`, inside an image of `shape`.

    At a border the square is shifted inwards rather than shrunk, so the whole face stays in
    the crop; it shrinks only when the image itself is smaller than the square.
    """
    x, y, w, h = box
    height, width = shape
    side = int(round(max(w, h) * (1 + 2 * margin)))
    side = max(1, min(side, width, height))
    x0 = int(round(x + w / 2 - side / 2))
    y0 = int(round(y + h / 2 - side / 2))
    x0 = min(max(0, x0), width - side)
    y0 = min(max(0, y0), height - side)
    return x0, y0, x0 + side, y0 + side


def find_faces(image_bgr, *, min_face=MIN_FACE_FRACTION):
    """Every face in the image with its 48x48 crop, left to right; [] when none is found."""
    return [Face(box, crop_face(image_bgr, box)) for box in detect_faces(image_bgr, min_face=min_face)]


def whole_image_face(image_bgr):
    """The image as one face, for close-ups the detector misses (a FER2013 face, a tight crop).

    The largest centred square is used, so a non-square image is cropped rather than stretched
    (a stretched face looks like another expression); the box says which square that was.
    """
    height, width = image_bgr.shape[:2]
    side = min(height, width)
    box = ((width - side) // 2, (height - side) // 2, side, side)
    return Face(box, crop_face(image_bgr, box, margin=0.0))


def faces_or_whole(image_bgr, *, whole_if_none=False, min_face=MIN_FACE_FRACTION):
    """`find_faces`, falling back to the whole image as one face when asked and none is found
    (close-ups such as FER2013 faces give the detector too little context)."""
    faces = find_faces(image_bgr, min_face=min_face)
    return [whole_image_face(image_bgr)] if not faces and whole_if_none else faces
