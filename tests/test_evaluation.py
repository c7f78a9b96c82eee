"""Predictions with flip TTA (implemented once, in evaluation.py) and the classification report."""

import numpy as np
from sklearn.metrics import accuracy_score, f1_score

from emotion_core.evaluation import predict_probabilities, report


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


def test_report_agrees_with_scikit_learn_computed_independently():
    # 10 faces, hand-written: 7 right, and a confusion of sad (5) taken for neutral (4) twice
    y_true = np.array([0, 1, 2, 3, 4, 5, 5, 5, 6, 3])
    y_pred = np.array([0, 1, 2, 3, 4, 4, 4, 5, 6, 0])
    result = report(y_true, y_pred)
    assert result["accuracy"] == accuracy_score(y_true, y_pred) == 0.7
    assert result["macro_f1"] == f1_score(y_true, y_pred, average="macro", labels=range(7), zero_division=0)
    assert result["confusion_matrix"][5][4] == 2 and result["confusion_matrix"][3][0] == 1
    assert result["per_class"]["sad"]["recall"] == 1 / 3 and result["n"] == 10
