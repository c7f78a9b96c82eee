"""Live-page benchmark: median time per photo for detection, classification and Grad-CAM.

Photos are resized to a webcam-like size first (default 640x480) and everything runs
single-threaded, so the figures say what one core gives a live video mode.
"""

import statistics
import time
from pathlib import Path

import cv2
import numpy as np

from emotion_core.errors import DataError
from emotion_core.evaluation import predict_probabilities
from emotion_core.labels import FACE_SIZE
from emotion_core.photos.analyse import analyse_photo
from emotion_core.photos.decode import IMAGE_SUFFIXES, read_image_file
from emotion_core.photos.faces import find_faces
from emotion_core.photos.video import LiveAnalyser


def single_threaded():
    """Pin OpenCV and TensorFlow to one thread (must run before TensorFlow starts working)."""
    import tensorflow as tf

    cv2.setNumThreads(1)
    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # TensorFlow already initialised: measure anyway, but say so
        return False
    return True


def _fit(image, width, height):
    """Resize to fit inside width x height, keeping the aspect ratio (a webcam frame's size)."""
    scale = min(width / image.shape[1], height / image.shape[0])
    return cv2.resize(image, (round(image.shape[1] * scale), round(image.shape[0] * scale)), interpolation=cv2.INTER_AREA)


def bench_live(photo_dir, explainer, *, width=640, height=480, repeats=3):
    """Time each stage per photo; returns dict stage -> median milliseconds, plus counts.

    Stages: detection; classification alone (a forward pass, what a video mode without
    heatmaps needs); Grad-CAM (a forward and backward pass, which also gives the
    probabilities); and the total, timed separately as what the Live page runs per photo:
    `analyse_photo`, i.e. detection plus one Grad-CAM pass.
    """
    folder = Path(photo_dir)
    if not folder.is_dir():
        raise DataError(f"photo folder not found: {photo_dir}")
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise DataError(f"no photos ({', '.join(IMAGE_SUFFIXES)}) in {photo_dir}")
    images = [_fit(read_image_file(p), width, height) for p in paths]
    model = explainer.model
    times = {"detection": [], "classification": [], "grad-cam": [], "total": [], "video frame": [],
             "video frame, no grad-cam": []}
    with_cam, without_cam = LiveAnalyser(explainer, heatmaps=True), LiveAnalyser(explainer, heatmaps=False)
    faces_found = 0
    for _ in range(repeats):
        faces_found = 0
        for image in images:
            t0 = time.perf_counter()
            faces = find_faces(image)
            t1 = time.perf_counter()
            crops = np.stack([f.crop for f in faces]) if faces else np.zeros((0, FACE_SIZE, FACE_SIZE), np.uint8)
            if faces:
                predict_probabilities(model, crops)
            t2 = time.perf_counter()
            if faces:
                explainer(crops)
            t3 = time.perf_counter()
            analyse_photo(model, image, explainer=explainer)
            t4 = time.perf_counter()
            with_cam.process(image)  # the video tab's whole work per frame: analysis, drawing, history
            t5 = time.perf_counter()
            without_cam.process(image)
            t6 = time.perf_counter()
            faces_found += len(faces)
            for stage, seconds in (("detection", t1 - t0), ("classification", t2 - t1), ("grad-cam", t3 - t2),
                                   ("total", t4 - t3), ("video frame", t5 - t4),
                                   ("video frame, no grad-cam", t6 - t5)):
                times[stage].append(seconds * 1000)
    medians = {stage: statistics.median(values) for stage, values in times.items()}
    return {"photos": len(images), "faces": faces_found, "size": f"{width}x{height}", "median_ms": medians}


def format_live(result):
    lines = [f"{result['photos']} photos fitted into {result['size']}, {result['faces']} faces, one thread"]
    medians = result["median_ms"]
    for stage in ("detection", "classification", "grad-cam", "total"):
        lines.append(f"  {stage:<26} {medians[stage]:7.1f} ms median per photo")
    lines[-1] += "  (the Live page: detection + one Grad-CAM pass, which gives the probabilities too)"
    for stage in ("video frame", "video frame, no grad-cam"):
        lines.append(f"  {stage:<26} {medians[stage]:7.1f} ms median per frame = {1000 / medians[stage]:.0f} frames/s")
    total = medians["total"]
    lines.append(f"  end to end: {1000 / total:.0f} photos/s" if total else "")
    return "\n".join(lines)
