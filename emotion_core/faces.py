"""Face detection and crop-to-48x48 preprocessing for photos people upload.

Uploaded bytes are decoded in memory (never written to disk or logged), faces are found with
OpenCV's frontal-face Haar cascade, which ships inside the opencv-python(-headless) 4.x wheel
so detection works offline, and each face is cropped the way FER2013 faces were made:
a square around the face, grayscale, shrunk to 48x48.
"""

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from emotion_core.data.images import SIZE

MAX_PIXELS = 50_000_000  # well above any phone photo (~12-50 MP), well below a memory problem
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

_JPEG_START, _JPEG_END = b"\xff\xd8", b"\xff\xd9"
_cascades = {}


class ImageError(ValueError):
    """Bytes that are not a usable image; str() is "<name>: <problem>".

    The parts are kept apart so a caller that already shows the file's path (the CLI) can
    print just the problem.
    """

    def __init__(self, name, problem):
        super().__init__(f"{name}: {problem}")
        self.name, self.problem = name, problem


@dataclass
class Face:
    """One face: where it is in the original image, and its FER2013-style crop.

    box: (x, y, w, h) ints in original image pixels; crop: uint8 array (48, 48).
    """

    box: tuple
    crop: np.ndarray


def decode_image(data, *, name="image"):
    """Decode image bytes (JPEG, PNG, WebP, BMP, TIFF...) into uint8 BGR, in memory only.

    Grayscale becomes three equal channels, 16-bit is scaled to 8-bit, and transparency is
    composited onto white (a transparent background would otherwise turn black and hide
    the face's outline).

    Args:
        data: the file's bytes.
        name: how messages refer to the file (e.g. its upload name).
    Returns:
        uint8 array (H, W, 3), BGR.
    Raises:
        ImageError: empty, truncated, not decodable, or larger than MAX_PIXELS.
    """
    if not data:
        raise ImageError(name, "empty file (0 bytes)")
    if data[:2] == _JPEG_START and data.rfind(_JPEG_END) == -1:
        raise ImageError(name, "truncated JPEG (its end marker is missing; was the upload cut off?)")
    _check_header(data, name)
    buffer = np.frombuffer(data, dtype=np.uint8)
    # JPEG has no alpha and is what phones write with an EXIF rotation, which only
    # IMREAD_COLOR applies; other formats keep alpha and depth with IMREAD_UNCHANGED.
    flags = cv2.IMREAD_COLOR if data[:2] == _JPEG_START else cv2.IMREAD_UNCHANGED
    image = _imdecode_quietly(buffer, flags)
    if image is None or image.size == 0:
        raise ImageError(name, "not an image OpenCV can decode")
    _check_size(image.shape[1::-1], name)
    return _to_bgr(_to_uint8(image), name)


def _imdecode_quietly(buffer, flags):
    """cv2.imdecode, None on failure, without OpenCV's warnings on stderr (the library never
    prints; a damaged upload is reported once, as an ImageError)."""
    level = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    try:
        return cv2.imdecode(buffer, flags)
    except cv2.error:
        return None
    finally:
        cv2.utils.logging.setLogLevel(level)


def _check_header(data, name):
    """Reject an image whose header claims more than MAX_PIXELS, before decoding any pixel.

    A small compressed file can claim a gigapixel; decoding it first would take the memory.
    Pillow reads only the header here; formats it does not know are checked after decoding.
    """
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow warns about large images; we check ourselves
            with Image.open(io.BytesIO(data)) as image:
                size = image.size
    except Image.DecompressionBombError:
        raise ImageError(name, f"image too large: over {2 * Image.MAX_IMAGE_PIXELS:,} pixels "
                               f"(limit {MAX_PIXELS:,} pixels)") from None
    except Exception:  # not a format Pillow knows, or damaged: OpenCV decides
        return
    _check_size(size, name)


def _check_size(size, name):
    """size: (width, height)."""
    if size[0] * size[1] > MAX_PIXELS:
        raise ImageError(name, f"image too large: {size[0]} x {size[1]} pixels (limit {MAX_PIXELS:,} pixels)")


def _to_uint8(image):
    """16-bit and float images (PNG-16, TIFF) down to uint8, keeping the full range."""
    if image.dtype == np.uint8:
        return image
    if image.dtype == np.uint16:
        return (image >> 8).astype(np.uint8)
    if np.issubdtype(image.dtype, np.floating):
        return np.clip(np.nan_to_num(image) * 255.0, 0, 255).astype(np.uint8)
    return np.clip(image, 0, 255).astype(np.uint8)


def _to_bgr(image, name):
    """Gray, BGR or BGRA (H, W[, C]) to BGR (H, W, 3); alpha is composited onto white."""
    if image.ndim == 2 or image.shape[2] == 1:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 3:
        return image
    if image.shape[2] == 4:
        alpha = image[..., 3:4].astype(np.float32) / 255.0
        white = np.full_like(image[..., :3], 255, dtype=np.float32)
        return np.round(image[..., :3] * alpha + white * (1.0 - alpha)).astype(np.uint8)
    raise ImageError(name, f"{image.shape[2]} channels; expected gray, colour or colour with alpha")


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
    return cv2.resize(patch, (SIZE, SIZE), interpolation=cv2.INTER_AREA)


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
