import numpy as np

from emotion_core import plots
from emotion_core.labels import EMOTIONS


def test_class_distribution_has_one_bar_per_emotion():
    fig = plots.class_distribution(range(7))
    assert list(fig.data[0].y) == list(range(7)) and len(fig.data[0].x) == 7


def test_training_curves_draw_train_and_validation_for_each_run():
    records = [{"epoch": e, "loss": 1 / e, "accuracy": e / 10, "val_loss": 1.1 / e, "val_accuracy": e / 11}
               for e in (1, 2, 3)]
    fig = plots.training_curves({"a": records, "b": records[:1]})
    assert len(fig.data) == 8  # 2 runs x (loss, accuracy) x (training, validation)
    val_acc_a = [t for t in fig.data if t.name == "a validation" and t.xaxis == "x2"][0]
    assert list(val_acc_a.y) == [1 / 11, 2 / 11, 3 / 11]


def test_confusion_matrix_points_carry_their_cell_and_normalise_by_row():
    matrix = np.zeros((7, 7), int)
    matrix[4, 5] = 3  # three neutral faces predicted sad
    matrix[4, 4] = 1
    fig = plots.confusion_matrix_figure(matrix, normalise=True, selected=(4, 5))
    trace = fig.data[0]
    cell = [i for i, (t, p) in enumerate(trace.customdata) if (t, p) == (4, 5)][0]
    assert trace.text[cell] == "0.75" and trace.x[cell] == "Sad" and trace.y[cell] == "Neutral"
    assert trace.marker.line.width[cell] == 3 and sum(w > 0 for w in trace.marker.line.width) == 1
    assert plots.confusion_matrix_figure(matrix).data[0].text[cell] == "3"


def test_per_class_metrics_and_probability_bars():
    report = {"per_class": {e: {"precision": 0.5, "recall": 0.25, "f1-score": 0.3} for e in EMOTIONS}}
    fig = plots.per_class_metrics({"r1": report, "r2": report}, metric="recall")
    assert len(fig.data) == 2 and list(fig.data[0].y) == [0.25] * 7
    bars = plots.probability_bars([0.1, 0, 0, 0.6, 0.3, 0, 0])
    assert bars.data[0].text[3] == "60%"
