import numpy as np

from emotion_core.bench import BenchResult, bench_train, format_results
from emotion_core.cli import main
from emotion_core.evaluation import predict_probabilities


class MirrorSensitive:
    """A stand-in model whose output depends on which side of the face is brighter."""

    def __call__(self, x, training=False):
        left = np.asarray(x)[:, :, :24].mean(axis=(1, 2, 3))
        right = np.asarray(x)[:, :, 24:].mean(axis=(1, 2, 3))
        p = np.zeros((len(left), 7), np.float32)
        p[:, 0] = left / (left + right)
        p[:, 1] = right / (left + right)
        return p

    def predict_on_batch(self, x):
        return self(x)


def test_tta_only_averages_with_the_mirrored_face():
    faces = np.zeros((2, 48, 48), np.uint8)
    faces[:, :, :24] = 200
    faces[:, :, 24:] = 50
    plain = predict_probabilities(MirrorSensitive(), faces)
    tta = predict_probabilities(MirrorSensitive(), faces, tta=True)
    mirrored = predict_probabilities(MirrorSensitive(), faces[:, :, ::-1])
    assert np.allclose(tta, (plain + mirrored) / 2)
    # flipping twice is the identity: TTA of mirrored faces equals TTA of the originals
    assert np.allclose(predict_probabilities(MirrorSensitive(), faces[:, :, ::-1], tta=True), tta)


def test_bench_runs_both_recipes_on_synthetic_within_the_budget():
    results = bench_train("synthetic", budget_s=3)
    assert [r.recipe for r in results] == ["study recipe, plain port", "fast recipe, this project"]
    for r in results:
        assert r.images_per_s > 0 and r.epochs > 0 and 0 <= r.test_accuracy <= 1
        assert r.seconds < 3 + 30  # stops within a batch or so of the budget (first batch compiles)
    assert "throughput ratio (fast / study)" in format_results(results)


def test_bench_cli_prints_its_table(capsys):
    assert main(["bench", "train", "--data", "synthetic", "--budget-min", "0.02"]) == 0
    out = capsys.readouterr().out
    assert "images/s" in out and "throughput ratio" in out


def test_format_results_ratio():
    rows = [BenchResult("a", "float32", 100.0, 1, 60, 0.5, 0.51), BenchResult("b", "mixed_bfloat16", 250.0, 2.5, 60, 0.6, 0.61)]
    assert "2.50x" in format_results(rows)
