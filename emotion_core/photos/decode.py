"""The one image decoder: every image that enters the app (uploads, webcam frames, photos on
disk, dataset files) is decoded here, in memory, under the same rules.

Only the formats the app offers are accepted, recognised by their first bytes rather than
their names (JPEG, PNG and WebP for photos; BMP too, which some face datasets use). The pixel
count and depth are read from the header before any pixel is decoded: a small file that
claims a gigapixel (a decompression bomb), or 16-bit colour with alpha at 7000 x 7000 (400 KB
on disk, 374 MiB decoded), is refused without taking the memory, and what is decoded is
converted without full-size float copies. Only regular files are opened (a named pipe would
block the reader for ever). Nothing is written to disk or logged.
"""

import errno
import io
import os
import stat
import warnings
from pathlib import Path

import cv2
import numpy as np

from emotion_core.errors import ImageError

MAX_PIXELS = 50_000_000  # well above any phone photo (~12-50 MP), well below a memory problem
MAX_DECODED_BYTES = 256 * 2**20  # what OpenCV may allocate for the pixels: 50 MP of 8-bit BGR is 143 MiB
MAX_FILE_BYTES = 256 * 2**20  # a photo file is a few MB; a bigger one is not read into memory at all
_COMPOSITE_PIXELS = 2**20  # alpha is composited this many pixels at a time (a 16 MB float block, not 2 GB)
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
    size = _header_size(data, name, kind)
    _check_size(size, name, min_side)
    _check_decoded_bytes(size, _sample_layout(data, kind), name)
    # JPEG has no alpha and is what phones write with an EXIF rotation, which only
    # IMREAD_COLOR applies; other formats keep alpha and depth with IMREAD_UNCHANGED.
    flags = cv2.IMREAD_COLOR if kind == "JPEG" else cv2.IMREAD_UNCHANGED
    image = _imdecode_quietly(np.frombuffer(data, dtype=np.uint8), flags)
    if image is None or image.size == 0:
        raise ImageError(name, f"damaged {kind} (its pixels cannot be decoded)")
    image = _to_bgr(_to_uint8(image), name)
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if gray else image


def read_image_file(path, *, gray=False):
    """`decode_image` for a file on disk; a missing, unreadable or special file is an ImageError too."""
    return decode_image(read_file_bytes(path), name=str(path), gray=gray)


def read_file_bytes(path, *, limit=MAX_FILE_BYTES):
    """The bytes of a regular file of at most `limit` bytes; ImageError for anything else.

    Opened without blocking and checked on the open descriptor (no race with a swap of the
    name): a named pipe called photo.jpg would otherwise wait for a writer for ever, and a
    device such as /dev/zero never ends.
    """
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as error:  # missing, no permission, a dangling link or a loop of links
        raise ImageError(str(path), _open_problem(path, error)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ImageError(str(path), f"is {special_file_kind(info.st_mode)}, not a file")
        if info.st_size > limit:
            raise ImageError(str(path), f"file too large: {info.st_size / 2**20:,.0f} MiB (limit {limit / 2**20:,.0f} MiB)")
        with os.fdopen(os.dup(fd), "rb") as file:
            return file.read(limit + 1)
    except OSError as error:
        raise ImageError(str(path), (error.strerror or type(error).__name__).lower()) from None
    finally:
        os.close(fd)


def file_problem(path):
    """Why `path` cannot be read as a regular file ("is a named pipe (FIFO), not a file"), or None.

    Only the file's metadata is read: a folder scan asks this of every file before decoding any.
    """
    try:
        mode = os.stat(path).st_mode
    except OSError as error:
        return _open_problem(path, error)
    return None if stat.S_ISREG(mode) else f"is {special_file_kind(mode)}, not a file"


def special_file_kind(mode):
    """What a file that is not a regular one is, in words: 'a named pipe (FIFO)', 'a directory'..."""
    kinds = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"),
             (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))
    return next((words for test, words in kinds if test(mode)), "a special file")


def _open_problem(path, error):
    if error.errno == errno.ELOOP:
        return "is a symbolic link in a loop (it leads back to itself)"
    if error.errno == errno.ENOENT and os.path.islink(path):
        return f"is a symbolic link that leads nowhere ({os.fsdecode(os.readlink(path))!r} does not exist)"
    if error.errno == errno.EISDIR:
        return "is a directory"
    return (error.strerror or type(error).__name__).lower()


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


def _sample_layout(data, kind):
    """(channels, bytes per sample) that OpenCV will decode at most, from the header."""
    if kind == "PNG" and len(data) >= 26:
        depth, colour = data[24], data[25]  # IHDR: bit depth, colour type (0 gray, 2 RGB, 3 palette, 4 GA, 6 RGBA)
        return (4 if colour in (3, 4, 6) else 3), (2 if depth == 16 else 1)
    return (3 if kind == "JPEG" else 4), 1


def _check_decoded_bytes(size, layout, name):
    channels, depth = layout
    needed = size[0] * size[1] * channels * depth
    if needed > MAX_DECODED_BYTES:
        what = f"{8 * depth}-bit, {channels} channels"
        raise ImageError(name, f"image too large to decode: {size[0]} x {size[1]} pixels ({what}) take "
                               f"{needed / 2**20:,.0f} MiB (limit {MAX_DECODED_BYTES // 2**20} MiB); "
                               "save it as an 8-bit JPEG, or smaller")


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
        np.right_shift(image, 8, out=image)  # in place: one uint8 copy, not two full-size temporaries
        return image.astype(np.uint8)
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
        return _on_white(image)
    raise ImageError(name, f"{image.shape[2]} channels; expected gray, colour or colour with alpha")


def _on_white(image):
    """BGRA uint8 (H, W, 4) composited onto white, as BGR (H, W, 3), a block of rows at a time:
    float copies of a whole 49-megapixel image would take 2 GB, a block takes 16 MB."""
    out = np.empty(image.shape[:2] + (3,), np.uint8)
    rows = max(1, _COMPOSITE_PIXELS // max(1, image.shape[1]))
    for top in range(0, image.shape[0], rows):
        block = image[top:top + rows]
        alpha = block[..., 3:4].astype(np.float32) / 255.0
        out[top:top + rows] = np.round(block[..., :3] * alpha + 255.0 * (1.0 - alpha))
    return out
