"""Face detection and crop-to-48x48 preprocessing for photos people upload.

Faces are found with OpenCV's frontal-face Haar cascade, which ships inside the opencv-python(-headless) 4.x wheel
so detection works offline, and each face is cropped the way FER2013 faces were made:
a square around the face, grayscale, shrunk to 48x48.
"""

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from emotion_core.labels import FACE_SIZE

CASCADE_FILE = "haarcascade_frontalface_alt2.xml"  # fewer false faces than _default on real photos (measured)

# Detection parameters, tuned on the development photos (one to a dozen faces, 400-4600 px wide).
SCALE_FACTOR = 1.2  # 20% steps between window sizes: same faces found on the photos as 1.1, 40% faster
MIN_NEIGHBORS = 5  # overlapping hits needed to accept a face; fewer lets false faces in (text, clothes)
# Smallest face looked for, as a fraction of the shorter image side. 0.1 (48 px in a 640x480
# webcam frame) keeps detection under 30 ms there; group photos with small faces need the
# slower SMALL_FACE_FRACTION (0.05 also found a bow tie on the shared selfie).
MIN_FACE_FRACTION = 0.1
SMALL_FACE_FRACTION = 0.05
MIN_FACE_PIXELS = 24  # just above the cascade's 20-pixel window; smaller faces are too blurry to classify
NMS_OVERLAP = 0.3  # boxes overlapping more than this (intersection over the smaller box) are one face

_cascades = {}


@dataclass
class Face:
    """One face: where it is in the original image, and its FER2013-style crop.

    box: (x, y, w, h) ints in original image pixels; crop: uint8 array (48, 48).
    """

    box: tuple
    crop: np.ndarray


def _cascade(filename=None):
    """The Haar cascade, loaded once per process (loading parses a ~1 MB XML file)."""
    filename = filename or CASCADE_FILE
    if filename not in _cascades:
        path = Path(cv2.data.haarcascades) / filename
        cascade = cv2.CascadeClassifier(str(path)) if path.exists() else None
        if cascade is None or cascade.empty():
            raise RuntimeError(
                f"face detector model missing or unreadable: {path}; "
                "install opencv-python-headless<5, whose wheel ships the Haar cascades"
            )
        _cascades[filename] = cascade
    return _cascades[filename]


def detect_faces(image_bgr, *, min_face=MIN_FACE_FRACTION):
    """Find frontal faces.

    The smallest face looked for is `min_face` of the shorter image side. Detection
    runs on a copy shrunk until that face is MIN_FACE_PIXELS wide: every face that would be
    accepted is still found, while the cascade, whose time grows with the pixel count,
    scans far fewer windows (with the default `min_face`, a 640x480 webcam frame becomes
    320x240, a 20-megapixel photo about 360x240). Boxes are mapped back to the original image.

    Args:
        image_bgr: uint8 array (H, W, 3) (or (H, W) grayscale).
    Returns:
        list of (x, y, w, h) int tuples in original pixels, sorted left to right.
    """
    gray = image_bgr if image_bgr.ndim == 2 else cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY)
    if min(gray.shape) < MIN_FACE_PIXELS:
        return []
    scale = detection_scale(gray.shape, min_face)
    if scale < 1.0:
        size = (max(1, round(gray.shape[1] * scale)), max(1, round(gray.shape[0] * scale)))
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    gray = cv2.equalizeHist(gray)  # stretches the contrast of dim or washed-out photos
    found = _cascade().detectMultiScale(gray, scaleFactor=SCALE_FACTOR, minNeighbors=MIN_NEIGHBORS,
                                        minSize=(MIN_FACE_PIXELS, MIN_FACE_PIXELS))
    boxes = _suppress_overlaps(np.asarray(found, dtype=np.float64).reshape(-1, 4))
    boxes = [tuple(int(round(v / scale)) for v in box) for box in boxes]
    return sorted(boxes, key=lambda box: (box[0], box[1]))


def detection_scale(shape, min_face=MIN_FACE_FRACTION):
    """How much to shrink an image of `shape` (H, W) before detection (1.0: not at all)."""
    smallest_face = max(MIN_FACE_PIXELS, min_face * min(shape[:2]))
    return min(1.0, MIN_FACE_PIXELS / smallest_face)


def _suppress_overlaps(boxes, *, overlap=NMS_OVERLAP):
    """Keep the largest of boxes that overlap: the cascade sometimes reports a face twice,
    or a small false face inside a real one.

    Args:
        boxes: float array (n, 4) of (x, y, w, h).
    Returns:
        the kept rows, largest first.
    """
    order = np.argsort(-(boxes[:, 2] * boxes[:, 3]))
    kept = []
    for i in order:
        if all(_overlap(boxes[i], boxes[j]) <= overlap for j in kept):
            kept.append(i)
    return boxes[kept]


def _overlap(a, b):
    """Intersection area over the smaller box's area: 1.0 when one box holds the other."""
    width = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    height = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    return width * height / min(a[2] * a[3], b[2] * b[3])


def crop_face(image_bgr, box, *, margin=0.1):
    """Crop one face the way FER2013 faces look: square, a little room around, gray, 48x48.

    Args:
        image_bgr: uint8 array (H, W, 3) (or (H, W) grayscale).
        box: (x, y, w, h) in image pixels.
        margin: extra room on each side, as a fraction of the box's larger side.
    Returns:
        uint8 array (48, 48).
    """
    x0, y0, x1, y1 = _square_around(box, margin, image_bgr.shape[:2])
    patch = image_bgr[y0:y1, x0:x1]
    if patch.ndim == 3:
        patch = cv2.cvtColor(patch, cv2.COLOR_BGR2GRAY)
    # INTER_AREA averages the pixels each output pixel covers: no aliasing when shrinking.
    return cv2.resize(patch, (FACE_SIZE, FACE_SIZE), interpolation=cv2.INTER_AREA)


def _square_around(box, margin, shape):
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
