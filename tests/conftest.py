"""Shared fixtures: tiny data the tests write themselves, and isolated runs/cache folders."""

import fcntl
import hashlib
import os
import shutil
from pathlib import Path

import streamlit_webrtc  # noqa: F401  (before TensorFlow, as app.py does: libsrtp crashes when loaded after it)
import cv2
import numpy as np
import pytest

from emotion_core.quiet import silenced_stderr

# A quiet start in every test process (xdist workers print theirs after the summary): no
# TensorFlow start-up lines.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
if os.environ.get("PYTEST_XDIST_WORKER"):
    # One worker per core already fills the cores: a TensorFlow thread pool per core in every
    # worker (and in the trainings the tests start) only makes them take turns. Measured, full
    # suite on 2 cores: 288 s with the pools, 269 s without. The slow tier (-n 0) keeps them.
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
with silenced_stderr():
    import tensorflow  # noqa: F401

from emotion_core.labels import EMOTIONS, csv_code_of  # noqa: E402
from emotion_core.models import model_names  # noqa: E402  (registers the real architectures first)
from emotion_core.models.registry import register  # noqa: E402

def pytest_sessionstart(session):
    """Freeze what the imports made (about 700,000 objects of TensorFlow, Keras and Streamlit)
    out of the garbage collector's sight: otherwise every full collection walks them all again
    (measured: ~70 s of collections in a 5-minute run, pauses of up to 4 s)."""
    import gc

    import keras  # noqa: F401
    import streamlit.testing.v1  # noqa: F401

    gc.collect()
    gc.freeze()


SHARED_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
FER2013_DIR = SHARED_DATA / "fer2013"
PHOTOS_DIR = SHARED_DATA / "photos"


def tree_hash(folder):
    """A hash of every file's relative path and bytes under `folder` (missing: empty hash)."""
    digest = hashlib.sha256()
    for path in sorted(Path(folder).rglob("*")) if Path(folder).exists() else []:
        digest.update(str(path.relative_to(folder)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="session", autouse=True)
def shipped_files_stay_byte_for_byte():
    """Whatever a test does (bad input, damaged runs, killed ships, full disks), the package's
    shipped model, card, votes and reference runs end the session byte for byte as they began."""
    from emotion_core.settings import assets_dir

    before = tree_hash(assets_dir())
    yield
    assert tree_hash(assets_dir()) == before, f"a test changed the shipped files in {assets_dir()}"


@pytest.fixture(autouse=True)
def isolated_folders(tmp_path, monkeypatch):
    """Every test gets its own runs root and dataset cache, so tests never see each other's files."""
    monkeypatch.setenv("EMOTION_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("EMOTION_CACHE_DIR", str(tmp_path / "cache"))


def face_image(label, index):
    """A distinct 48x48 image per (label, index): brightness encodes the label, so tests can check mapping."""
    rng = np.random.default_rng(label * 100 + index)
    image = rng.integers(0, 30, size=(48, 48)).astype(np.uint8)
    image[10:20, 10:20] = 30 * label + 20
    return image


@pytest.fixture
def kaggle_root(tmp_path):
    """A Kaggle-layout root: train/<class>/ with 3 images per class, test/<class>/ with 1."""
    root = tmp_path / "fer_kaggle"
    for split, per_class in (("train", 3), ("test", 1)):
        for label, name in enumerate(EMOTIONS):
            folder = root / split / name
            folder.mkdir(parents=True)
            for i in range(per_class):
                cv2.imwrite(str(folder / f"{split}_{i}.png"), face_image(label, i))
    return root


@pytest.fixture
def fer_csv(tmp_path):
    """A 21-row fer2013.csv: per class 2 Training rows and 1 PublicTest row, same pixels as kaggle_root."""
    lines = ["emotion,pixels,Usage"]
    for label in range(len(EMOTIONS)):
        for i, usage in ((0, "Training"), (1, "Training"), (0, "PublicTest")):
            pixels = " ".join(str(v) for v in face_image(label, i).ravel())
            lines.append(f"{csv_code_of(label)},{pixels},{usage}")
    path = tmp_path / "fer2013.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


TINY_MODEL = "tiny_cnn"


def build_tiny_cnn(**options):
    """A test-only network: three 3x3 convolutions (16, 32, 64 filters) with batch norm, global
    pooling and the softmax, 24,199 parameters. It learns the synthetic faces in seconds
    where the study's CNNs take minutes, and keeps what the library relies on: 48x48x1 input,
    7 float32 probabilities, the model named after its registry entry, a `last_conv` layer at
    12x12 for Grad-CAM."""
    import keras
    from keras import layers

    from emotion_core.models.cnn import BN_MOMENTUM, GRADCAM_LAYER, INPUT_SHAPE

    x = inputs = keras.Input(INPUT_SHAPE, name="image")
    for i, filters in enumerate((16, 32, 64), start=1):
        x = layers.Conv2D(filters, 3, padding="same", name=GRADCAM_LAYER if i == 3 else f"conv{i}")(x)
        x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"bn{i}")(x)
        x = layers.Activation("relu", name=f"relu{i}")(x)
        if i < 3:
            x = layers.MaxPooling2D(2, name=f"pool{i}")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = layers.Dense(len(EMOTIONS), activation="softmax", dtype="float32", name="emotion")(x)
    return keras.Model(inputs, outputs, name=TINY_MODEL)


# Registered here only, so the app never offers it; tests parametrised over model_names() check
# it like any other entry. Guarded: test modules that import `tests.conftest` run this file twice.
if TINY_MODEL not in model_names():
    register(TINY_MODEL, gradcam_layer="last_conv", description="test only: a tiny CNN that learns in seconds")(
        build_tiny_cnn)


@pytest.fixture(scope="session")
def trained_synthetic_run(tmp_path_factory):
    """One tiny model trained on synthetic faces, shared by the tests that need a model that has
    learnt something (Grad-CAM on the mouth, the Mistakes page, a teacher): seconds, not minutes."""
    from emotion_core.config import NO_AUGMENTATION
    from emotion_core.config import TrainConfig
    from emotion_core.training.loop import train

    # Six epochs of all 2,100 training faces, annealed from a high rate (cosine) so the last epochs
    # settle: about 97% on the synthetic test faces, and Grad-CAM maps that sit on the mouth.
    config = TrainConfig(data="synthetic", model=TINY_MODEL, epochs=6, batch_size=16, learning_rate=3e-3,
                         lr_schedule="cosine", imbalance="none", augment=NO_AUGMENTATION)
    return built_once(tmp_path_factory, "trained", lambda root: train(config, root=root))


def built_once(tmp_path_factory, name, build):
    """`build(folder)`'s result, made once per test session: under pytest-xdist the first worker
    to ask builds it under a lock and the others wait for it and reuse it (a session fixture is
    otherwise built again in every worker). Tests read what it holds; they copy before changing."""
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        return build(tmp_path_factory.mktemp(name))
    shared = tmp_path_factory.getbasetemp().parent / name  # the session's folder, above the workers'
    with open(shared.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        record = shared.with_suffix(".built")
        if not record.exists():
            shutil.rmtree(shared, ignore_errors=True)
            shared.mkdir()
            record.write_text(str(build(shared)))
        return Path(record.read_text())


@pytest.fixture
def stand_in_children(monkeypatch):
    """Every training the launcher starts is `sleep <seconds>` instead (30 unless a test sets
    `.seconds`); `.commands` holds the command lines it was asked to run. For tests of what the
    app decides and the launcher does, not of training."""
    import subprocess
    from types import SimpleNamespace

    from emotion_core.training import launch

    stand_in, real_popen, children = SimpleNamespace(seconds=30, commands=[]), subprocess.Popen, []

    def popen(args, **kwargs):
        stand_in.commands.append(args)
        children.append(real_popen(["sleep", str(stand_in.seconds)], **kwargs))
        return children[-1]

    monkeypatch.setattr(launch.subprocess, "Popen", popen)
    yield stand_in
    for child in children:
        child.kill()
        child.wait()


@pytest.fixture
def voted_kaggle_root(tmp_path, monkeypatch):
    """A Kaggle-layout root whose every file name is unique, and a votes file for it.

    Per class: 6 training and 3 test faces. The crowd agrees with the label on the first face
    of each class, says neutral on the second, and calls the third not-a-face.
    """
    root, lines = tmp_path / "voted", ["file,split,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF"]
    fer_plus_column = {"neutral": 0, "happy": 1, "surprise": 2, "sad": 3, "angry": 4, "disgust": 5, "fear": 6}
    for split, per_class in (("train", 6), ("test", 3)):
        for label, name in enumerate(EMOTIONS):
            (root / split / name).mkdir(parents=True)
            for i in range(per_class):
                file = f"{split}_{name}_{i}.png"
                cv2.imwrite(str(root / split / name / file), face_image(label, i))
                votes = [0] * 10
                votes[(fer_plus_column[name], 0, 9)[i % 3]] = 10
                lines.append(f"{file},{split}," + ",".join(map(str, votes)))
    votes_file = tmp_path / "votes.csv"
    votes_file.write_text("\n".join(lines) + "\n")
    monkeypatch.setenv("EMOTION_VOTES_FILE", str(votes_file))
    return root
