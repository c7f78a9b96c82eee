import json

import keras
import numpy as np
import pytest

from emotion_core.training import precision
from emotion_core.config import TrainConfig
from emotion_core.models.io import load_model, save_model_atomic
from emotion_core.models import build_model
from emotion_core.models.dtypes import as_float16, as_float32
from emotion_core.training.precision import cpu_has_bfloat16, dtype_policy, resolve_precision
from emotion_core.training.loop import train
from conftest import TINY_MODEL


def test_bfloat16_support_is_read_from_the_cpu_flags(tmp_path):
    with_amx = tmp_path / "amx"
    with_amx.write_text("processor\t: 0\nflags\t\t: fpu sse avx2 avx512f amx_bf16 amx_tile\n")
    without = tmp_path / "plain"
    without.write_text("processor\t: 0\nflags\t\t: fpu sse avx2 avx512f\n")
    assert cpu_has_bfloat16(with_amx) and not cpu_has_bfloat16(without)
    assert not cpu_has_bfloat16(tmp_path / "missing")  # not Linux: stay in float32


def test_auto_picks_bfloat16_only_where_the_cpu_has_it(monkeypatch):
    monkeypatch.setattr(precision, "cpu_has_bfloat16", lambda: True)
    assert resolve_precision("auto") == "mixed_bfloat16"
    monkeypatch.setattr(precision, "cpu_has_bfloat16", lambda: False)
    assert resolve_precision("auto") == "float32"
    assert resolve_precision("mixed_bfloat16") == "mixed_bfloat16"
    with pytest.raises(ValueError, match="unknown precision 'half'"):
        resolve_precision("half")


def test_the_policy_is_restored_even_after_an_error():
    with pytest.raises(RuntimeError):
        with dtype_policy("mixed_bfloat16"):
            assert keras.config.dtype_policy().name == "mixed_bfloat16"
            raise RuntimeError
    assert keras.config.dtype_policy().name == "float32"


def test_a_mixed_precision_model_loads_back_as_float32_with_the_same_outputs(tmp_path):
    with dtype_policy("mixed_bfloat16"):
        mixed = build_model("cnn_3blocks")
    assert mixed.output.dtype == "float32"  # the softmax stays float32 under mixed precision
    save_model_atomic(mixed, tmp_path / "mixed.keras")
    loaded = load_model(tmp_path / "mixed.keras")
    assert {layer.dtype_policy.name for layer in loaded.layers} == {"float32"}
    x = np.random.default_rng(0).random((4, 48, 48, 1), np.float32)
    # same weights; only the arithmetic differs (bfloat16 keeps ~3 significant digits)
    assert np.allclose(loaded.predict_on_batch(x), mixed.predict_on_batch(x), atol=0.02)
    assert np.allclose(loaded.predict_on_batch(x).sum(axis=1), 1, atol=1e-5)
    assert as_float32(loaded) is loaded  # already float32: nothing rebuilt


def test_a_model_stored_with_float16_weights_is_half_the_file_and_loads_back_as_float32(tmp_path):
    model = build_model("cnn_3blocks")
    x = np.random.default_rng(0).random((4, 48, 48, 1), np.float32)
    model(x, training=True)  # moves the BatchNorm statistics away from their initial 0 and 1
    save_model_atomic(model, tmp_path / "float32.keras")
    save_model_atomic(as_float16(model), tmp_path / "float16.keras")
    full, half = ((tmp_path / name).stat().st_size for name in ("float32.keras", "float16.keras"))
    assert half < 0.6 * full
    loaded = load_model(tmp_path / "float16.keras")
    assert {weight.dtype for weight in loaded.weights} == {"float32"}
    assert np.allclose(loaded.predict_on_batch(x), model.predict_on_batch(x), atol=1e-3)


def test_training_in_mixed_precision_records_it_and_leaves_a_float32_model(tmp_path):
    config = TrainConfig(data="synthetic", model=TINY_MODEL, epochs=1, limit=280, batch_size=32,
                         precision="mixed_bfloat16")
    run_dir = train(config, root=tmp_path / "runs")
    assert json.loads((run_dir / "config.json").read_text())["precision_used"] == "mixed_bfloat16"
    assert {layer.dtype_policy.name for layer in load_model(run_dir).layers} == {"float32"}
    assert keras.config.dtype_policy().name == "float32"  # training did not leak its policy
