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
    drawn = [t for t in plots.training_curves({"run": records}).data if t.x[0] is not None]  # not the legend's key
    (star,) = [t for t in drawn if t.marker.symbol == "star"]
    assert list(star.x) == [2] and list(star.y) == [0.55] and "best epoch 2 (kept)" in star.name


def test_batch_rows_draw_a_thin_line_before_the_first_epoch_ends():
    rows = [{"step": 1, "epoch_progress": 0.02, "loss": 2.0, "accuracy": 0.1},
            {"step": 30, "epoch_progress": 0.6, "loss": 1.8, "accuracy": 0.22}]
    fig = plots.training_curves({"run": []}, batches={"run": rows})
    within = [t for t in fig.data if t.name == "run training (within epochs)"]
    assert [list(t.x) for t in within] == [[0.02, 0.6], [0.02, 0.6]] and list(within[1].y) == [0.1, 0.22]


def test_the_legend_names_each_run_once_and_each_line_style_once():
    """A long run name repeated on four legend rows ("<name> training", ...) was cut to "trainin"
    on a narrow chart: the legend now says the name once, wrapped, and the styles once."""
    records = [{"epoch": 1, "loss": 1.0, "accuracy": 0.2, "val_loss": 1.1, "val_accuracy": 0.25}]
    long_name = "reference seed_cnn on fer2013, unweighted (02 Dec 19:10:00)"
    fig = plots.training_curves({long_name: records, "b": records})
    legend = [t.name for t in fig.data if t.showlegend is not False]
    assert legend == ["reference seed_cnn on<br>fer2013, unweighted (02<br>Dec 19:10:00)", "b",
                      "training", "validation", "kept epoch"]
    assert all(len(line) <= 24 for name in legend for line in name.split("<br>"))
    assert fig.layout.legend.yref == "container"  # below everything, never over the "epoch" titles


def test_the_strip_chart_legend_lies_below_its_axis_title():
    fig = plots.emotion_strip_chart([-2.0, -1.0, 0.0], np.full((3, 7), 1 / 7))
    assert fig.layout.xaxis.title.text == "seconds ago"
    assert (fig.layout.legend.yref, fig.layout.legend.y, fig.layout.legend.yanchor) == ("container", 0, "bottom")


def test_the_projector_matrix_fits_one_1024x768_screen_with_larger_numbers():
    small, large = plots.confusion_matrix_figure(np.eye(7)), plots.confusion_matrix_figure(np.eye(7), large=True)
    assert large.layout.height <= 768 - 100  # the window less Streamlit's header and a margin
    assert large.layout.width <= 1024 - 2 * 21  # the page's width in presentation mode (sidebar collapsed)
    assert large.data[0].textfont.size >= 21 > small.data[0].textfont.size  # as large as the page's text
    assert small.layout.width <= 556  # the main column at 1024x768 with the sidebar open


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


def test_the_study_bars_are_labelled_level_and_short_enough_for_1024_px():
    """Rotated "Exp. 8<br>cnn_block1x3" labels ran off the chart's right edge at 1024 px."""
    from emotion_core.plots import study_accuracy_figure
    from emotion_core.reference import STUDY_TABLE1

    rows = [{"experiment": f"Table 1, experiment {i}", "architecture": name, "reported": reported, "measured": 0.5}
            for i, (name, reported) in enumerate(STUDY_TABLE1.items(), start=1)]
    fig = study_accuracy_figure(rows, epochs=5)
    labels = list(fig.data[0].x)
    assert fig.layout.xaxis.tickangle == 0 and len(labels) == 8
    assert labels[7] == "Exp. 8<br>block1x3" and max(len(line) for label in labels for line in label.split("<br>")) <= 10
