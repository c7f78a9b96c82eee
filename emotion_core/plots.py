"""Plotly figure builders shared by the pages; each is tested without Streamlit."""

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from emotion_core.labels import EMOTIONS

# One colour per emotion, used by every chart so a class looks the same everywhere.
EMOTION_COLOURS = dict(zip(EMOTIONS, ("#d62728", "#8c564b", "#9467bd", "#ffbf00", "#7f7f7f", "#1f77b4", "#17becf")))
RUN_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")


def class_distribution(counts, *, title="Images per emotion"):
    """Bar chart of images per class (the study's imbalance figure). counts: ints (7,)."""
    counts = [int(c) for c in counts]
    fig = go.Figure(go.Bar(x=[e.capitalize() for e in EMOTIONS], y=counts, text=counts, textposition="outside",
                           marker_color=[EMOTION_COLOURS[e] for e in EMOTIONS]))
    fig.update_layout(title=title, yaxis_title="images", margin=dict(t=50, b=30), height=340)
    return fig


def training_curves(histories):
    """Loss and accuracy per epoch, training solid and validation dashed, one colour per run.

    Args:
        histories: dict run name -> list of metrics.jsonl records (with epoch, loss, accuracy,
            val_loss, val_accuracy).
    """
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Loss", "Accuracy"))
    for i, (name, records) in enumerate(histories.items()):
        colour = RUN_COLOURS[i % len(RUN_COLOURS)]
        epochs = [r["epoch"] for r in records]
        for col, metric in ((1, "loss"), (2, "accuracy")):
            for prefix, dash in (("", "solid"), ("val_", "dash")):
                values = [r.get(prefix + metric) for r in records]
                label = f"{name} {'validation' if prefix else 'training'}"
                fig.add_trace(go.Scatter(x=epochs, y=values, mode="lines+markers", name=label, legendgroup=name,
                                         line=dict(color=colour, dash=dash), showlegend=col == 1), row=1, col=col)
    fig.update_xaxes(title_text="epoch", rangemode="tozero")
    fig.update_yaxes(rangemode="tozero")
    fig.update_layout(height=380, margin=dict(t=40, b=30), legend=dict(orientation="h", y=-0.25))
    return fig


def confusion_matrix_figure(matrix, *, normalise=False, selected=None):
    """Confusion matrix drawn as square scatter markers with the numbers as text.

    Scatter points (not a heatmap) so that clicking a cell is a selectable point in
    Streamlit: heatmap cells return an empty selection there. Each point's customdata
    is [true index, predicted index].

    Args:
        matrix: ints (7, 7), rows true, columns predicted.
        normalise: show each row as fractions of its true class.
        selected: optional (true, predicted) cell to outline.
    """
    matrix = np.asarray(matrix, dtype=float)
    rows = matrix.sum(axis=1, keepdims=True)
    values = np.divide(matrix, rows, out=np.zeros_like(matrix), where=rows > 0) if normalise else matrix
    names = [e.capitalize() for e in EMOTIONS]
    true_idx, pred_idx = np.meshgrid(range(len(EMOTIONS)), range(len(EMOTIONS)), indexing="ij")
    text = [f"{v:.2f}" if normalise else f"{int(v)}" for v in values.ravel()]
    shade = values / values.max() if values.max() > 0 else values
    fig = go.Figure(go.Scatter(
        x=[names[p] for p in pred_idx.ravel()], y=[names[t] for t in true_idx.ravel()], mode="markers+text",
        text=text, textfont=dict(color=["white" if s > 0.5 else "black" for s in shade.ravel()]),
        marker=dict(symbol="square", size=40, color=values.ravel(), colorscale="Blues", showscale=True,
                    line=dict(width=[3 if selected == (t, p) else 0 for t, p in zip(true_idx.ravel(), pred_idx.ravel())],
                              color="#ff7f0e")),
        customdata=np.stack([true_idx.ravel(), pred_idx.ravel()], axis=1),
        hovertemplate="true %{y}, predicted %{x}: %{text}<extra></extra>"))
    fig.update_xaxes(title_text="predicted", categoryorder="array", categoryarray=names, side="top")
    fig.update_yaxes(title_text="true", categoryorder="array", categoryarray=names[::-1])
    fig.update_layout(height=470, width=560, margin=dict(t=60, l=60, r=20, b=20), plot_bgcolor="white",
                      clickmode="event+select", dragmode=False)
    return fig


def per_class_metrics(reports, *, metric="f1-score"):
    """Grouped bars of one per-class metric, one group per emotion and one bar per run.

    Args:
        reports: dict run name -> evaluation dict (with per_class).
    """
    fig = go.Figure()
    for i, (name, report) in enumerate(reports.items()):
        values = [report["per_class"][e][metric] for e in EMOTIONS]
        fig.add_trace(go.Bar(x=[e.capitalize() for e in EMOTIONS], y=values, name=name,
                             marker_color=RUN_COLOURS[i % len(RUN_COLOURS)]))
    fig.update_layout(barmode="group", yaxis=dict(range=[0, 1], title=metric), height=340,
                      margin=dict(t=30, b=30), legend=dict(orientation="h", y=-0.2))
    return fig


def probability_bars(probabilities, *, height=230):
    """Horizontal bars of the 7 probabilities of one face. probabilities: floats (7,) in canonical order."""
    probabilities = [float(p) for p in probabilities]
    fig = go.Figure(go.Bar(x=probabilities, y=[e.capitalize() for e in EMOTIONS], orientation="h",
                           marker_color=[EMOTION_COLOURS[e] for e in EMOTIONS],
                           text=[f"{p:.0%}" for p in probabilities], textposition="auto"))
    fig.update_layout(xaxis=dict(range=[0, 1], tickformat=".0%"), yaxis=dict(autorange="reversed"),
                      height=height, margin=dict(t=10, b=10, l=10, r=10))
    return fig
