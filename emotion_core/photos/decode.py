"""The one image decoder: every image that enters the app (uploads, webcam frames, photos on
disk, dataset files) is decoded here, in memory, under the same rules.

Only the formats the app offers are accepted, recognised by their first bytes rather than
their names (JPEG, PNG and WebP for photos; BMP too, which some face datasets use). The pixel
count is read from the header before any pixel is decoded: a small file that claims a
gigapixel (a decompression bomb) is refused without taking the memory. Nothing is written
to disk or logged.
"""

import io
import warnings
from pathlib import Path

import cv2
import numpy as np

from emotion_core.errors import ImageError

MAX_PIXELS = 50_000_000  # well above any phone photo (~12-50 MP), well below a memory problem
# Magic bytes -> format name; a file that starts otherwise is refused before any decoder sees it.
_SIGNATURES = ((b"\xff\xd8\xff", "JPEG"), (b"\x89PNG\r\n\x1a\n", "PNG"), (b"BM", "BMP"))
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp")  # file names worth opening in a folder
_JPEG_END = b"\xff\xd9"


def image_format(data):
    """'JPEG', 'PNG', 'WebP' or 'BMP' from the first bytes of `data`; None for anything else."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP"
    return next((name for magic, name in _SIGNATURES if data.startswith(magic)), None)


def decode_image(data, *, name="image", gray=False, min_side=1):
    """Decode image bytes into uint8 BGR (or grayscale), in memory only.

    Grayscale becomes three equal channels, 16-bit is scaled to 8-bit, transparency is
    composited onto white (a transparent background would otherwise turn black and hide the
    face's outline), and a JPEG's EXIF rotation is applied.

    Args:
        data: the file's bytes.
        name: how messages refer to the file (e.g. its upload name).
        gray: return (H, W) grayscale instead of (H, W, 3) BGR.
        min_side: refuse images narrower or lower than this (a photo that is to hold a
            face needs some room; a 1 x 40000 strip has none).
    Returns:
        uint8 array (H, W, 3) BGR, or (H, W) when `gray`.
    Raises:
        ImageError: empty, not JPEG/PNG/WebP/BMP, truncated, damaged, or over MAX_PIXELS.
    """
    if not data:
        raise ImageError(name, "empty file (0 bytes)")
    kind = image_format(data)
    if kind is None:
        raise ImageError(name, "not a JPEG, PNG, WebP or BMP image")
    if kind == "JPEG" and data.rfind(_JPEG_END) == -1:
        raise ImageError(name, "truncated JPEG (its end marker is missing; was the upload cut off?)")
    _check_size(_header_size(data, name, kind), name, min_side)
    # JPEG has no alpha and is what phones write with an EXIF rotation, which only
    # IMREAD_COLOR applies; other formats keep alpha and depth with IMREAD_UNCHANGED.
    flags = cv2.IMREAD_COLOR if kind == "JPEG" else cv2.IMREAD_UNCHANGED
    image = _imdecode_quietly(np.frombuffer(data, dtype=np.uint8), flags)
    if image is None or image.size == 0:
        raise ImageError(name, f"damaged {kind} (its pixels cannot be decoded)")
    image = _to_bgr(_to_uint8(image), name)
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if gray else image


def read_image_file(path, *, gray=False):
    """`decode_image` for a file on disk; a missing or unreadable file is an ImageError too."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:  # missing, a folder, no permission
        raise ImageError(str(path), (error.strerror or type(error).__name__).lower()) from None
    return decode_image(data, name=str(path), gray=gray)


def _header_size(data, name, kind):
    """(width, height) from the header alone; Pillow reads no pixel data in Image.open."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow warns about large images; we check ourselves
            with Image.open(io.BytesIO(data)) as image:
                return image.size
    except Image.DecompressionBombError:
        raise ImageError(name, f"image too large: over {2 * Image.MAX_IMAGE_PIXELS:,} pixels "
                               f"(limit {MAX_PIXELS:,} pixels)") from None
    except Exception:  # Pillow raises many types for a damaged header
        raise ImageError(name, f"damaged {kind} (its header cannot be read)") from None


def _check_size(size, name, min_side=1):
    """size: (width, height)."""
    if size[0] * size[1] > MAX_PIXELS:
        raise ImageError(name, f"image too large: {size[0]} x {size[1]} pixels (limit {MAX_PIXELS:,} pixels)")
    if min(size) < max(1, min_side):
        raise ImageError(name, f"image too small to hold a face: {size[0]} x {size[1]} pixels "
                               f"(at least {min_side} pixels each way)")


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


def _to_uint8(image):
    """16-bit and float images (PNG-16) down to uint8, keeping the full range."""
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
