"""The one image decoder: formats by magic bytes, size from the header, clear ImageErrors."""

import io
import struct
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from emotion_core.errors import ImageError
from emotion_core.photos.decode import decode_image, image_format, read_image_file


def encode(image, ext, params=()):
    ok, buffer = cv2.imencode(ext, image, list(params))
    assert ok
    return buffer.tobytes()


def test_jpeg_png_webp_and_bmp_decode_to_bgr():
    image = np.random.default_rng(2).integers(0, 256, (40, 60, 3), dtype=np.uint8)
    assert np.array_equal(decode_image(encode(image, ".png")), image)
    assert np.array_equal(decode_image(encode(image, ".bmp")), image)
    for ext in (".jpg", ".webp"):
        decoded = decode_image(encode(image, ext))
        assert decoded.shape == (40, 60, 3) and decoded.dtype == np.uint8, ext


def test_formats_are_recognised_by_their_first_bytes_not_their_names():
    image = np.zeros((8, 8, 3), np.uint8)
    found = {ext: image_format(encode(image, ext)) for ext in (".jpg", ".png", ".webp", ".bmp", ".tiff")}
    assert found == {".jpg": "JPEG", ".png": "PNG", ".webp": "WebP", ".bmp": "BMP", ".tiff": None}


def test_gray_mode_returns_one_channel():
    image = np.random.default_rng(3).integers(0, 256, (20, 30), dtype=np.uint8)
    assert np.array_equal(decode_image(encode(image, ".png"), gray=True), image)


def test_grayscale_and_16_bit_become_8_bit_bgr():
    gray = np.arange(0, 250, 10, dtype=np.uint8).reshape(5, 5)
    decoded = decode_image(encode(gray, ".png"))
    assert decoded.shape == (5, 5, 3) and np.array_equal(decoded[..., 1], gray)
    deep = gray.astype(np.uint16) * 257  # the same picture at 16 bits
    assert np.array_equal(decode_image(encode(deep, ".png"))[..., 0], gray)


def test_transparent_png_is_composited_onto_white():
    rgba = np.zeros((10, 10, 4), np.uint8)  # transparent black everywhere...
    rgba[:5, :, 3] = 255  # ...except an opaque black top half
    decoded = decode_image(encode(rgba, ".png"))
    assert decoded[:5].max() == 0 and decoded[5:].min() == 255


def test_jpeg_exif_rotation_is_applied():
    # A phone photo stored landscape with "rotate 90" in EXIF must come out portrait.
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.new("RGB", (40, 20)).save(buffer, "JPEG", exif=exif.tobytes())
    assert decode_image(buffer.getvalue()).shape == (40, 20, 3)


def huge_png_header(width, height):
    """A PNG that claims width x height pixels but holds no pixel data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", b"") + png_chunk(b"IEND", b"")


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def radiance_hdr(width, height):
    """A Radiance HDR file: OpenCV decodes it, Pillow cannot read its header (the bomb that got
    past the old check when named .png)."""
    header = f"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y {height} +X {width}\n".encode()
    return header + bytes(4 * min(width, 16))


BAD_BYTES = [
    (b"", "empty file (0 bytes)"),
    (b"Dear diary,\nnot a picture.\n", "not a JPEG, PNG, WebP or BMP image"),
    (encode(np.full((64, 64, 3), 90, np.uint8), ".jpg")[:300], "truncated JPEG"),
    (encode(np.full((64, 64, 3), 90, np.uint8), ".png")[:60], "damaged PNG (its pixels cannot be decoded)"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "damaged PNG (its header cannot be read)"),
    (huge_png_header(9000, 8000), "image too large: 9000 x 8000 pixels (limit 50,000,000"),
    (huge_png_header(20000, 20000), "image too large"),
    (radiance_hdr(8000, 8000), "not a JPEG, PNG, WebP or BMP image"),
    (encode(np.zeros((8, 8, 3), np.uint8), ".tiff"), "not a JPEG, PNG, WebP or BMP image"),
]


@pytest.mark.parametrize("data, problem", BAD_BYTES,
                         ids=["empty", "text", "truncated-jpeg", "truncated-png", "damaged-png-header", "too-large",
                              "pillow-bomb", "radiance-hdr-bomb", "tiff"])
def test_bad_bytes_give_an_image_error_naming_the_file_and_the_problem(data, problem):
    with pytest.raises(ImageError) as caught:
        decode_image(data, name="photo.png")
    assert caught.value.name == "photo.png" and caught.value.problem.startswith(problem), str(caught.value)
    assert str(caught.value) == f"photo.png: {caught.value.problem}"


def test_a_missing_file_or_a_folder_is_an_image_error(tmp_path):
    with pytest.raises(ImageError, match="no such file"):
        read_image_file(tmp_path / "missing.jpg")
    with pytest.raises(ImageError, match="is a directory"):
        read_image_file(tmp_path)
