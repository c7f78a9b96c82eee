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
    lines = [t for t in fig.data if t.mode == "lines+markers"]
    assert len(lines) == 8  # 2 runs x (loss, accuracy) x (training, validation)
    val_acc_a = [t for t in lines if t.name == "a validation" and t.xaxis == "x2"][0]
    assert list(val_acc_a.y) == [1 / 11, 2 / 11, 3 / 11]
    assert fig.layout.yaxis2.tickformat == ".0%" and fig.layout.xaxis.tickformat == "d"


def test_the_kept_epoch_is_starred_even_when_a_later_epoch_fell():
    records = [{"epoch": 1, "val_accuracy": 0.3}, {"epoch": 2, "val_accuracy": 0.55}, {"epoch": 3, "val_accuracy": 0.09}]
    (star,) = [t for t in plots.training_curves({"run": records}).data if t.marker.symbol == "star"]
    assert list(star.x) == [2] and list(star.y) == [0.55] and "best epoch 2 (kept)" in star.name


def test_batch_rows_draw_a_thin_line_before_the_first_epoch_ends():
    rows = [{"step": 1, "epoch_progress": 0.02, "loss": 2.0, "accuracy": 0.1},
            {"step": 30, "epoch_progress": 0.6, "loss": 1.8, "accuracy": 0.22}]
    fig = plots.training_curves({"run": []}, batches={"run": rows})
    within = [t for t in fig.data if t.name == "run training (within epochs)"]
    assert [list(t.x) for t in within] == [[0.02, 0.6], [0.02, 0.6]] and list(within[1].y) == [0.1, 0.22]


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
