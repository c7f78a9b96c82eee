"""Decoding image files into FER2013's 48x48 grayscale form."""

import cv2
import numpy as np

SIZE = 48
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".gif", ".tif", ".tiff")


def to_face_array(image):
    """Convert any decoded image to uint8 (48, 48) grayscale.

    Colour (3 or 4 channels) is converted, other sizes are resized with area
    interpolation (the right filter when shrinking), so such files are accepted, not rejected.
    """
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    elif image.ndim == 3 and image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    elif image.ndim == 3:
        image = image[..., 0]
    if image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    if image.shape != (SIZE, SIZE):
        image = cv2.resize(image, (SIZE, SIZE), interpolation=cv2.INTER_AREA)
    return image


def read_face_file(path):
    """Read one image file as uint8 (48, 48); None when the file cannot be decoded."""
    data = np.fromfile(str(path), dtype=np.uint8)
    if data.size == 0:
        return None
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    return None if image is None else to_face_array(image)
