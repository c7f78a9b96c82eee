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


def training_curves(histories, *, batches=None):
    """Loss and accuracy per epoch, training solid and validation dashed, one colour per run;
    the best epoch (the one kept) is starred, accuracy is in percent, epochs are whole numbers.

    Args:
        histories: dict run name -> list of metrics.jsonl epoch records (epoch, loss, accuracy,
            val_loss, val_accuracy).
        batches: optional dict run name -> batch rows (step, epoch_progress, loss, accuracy),
            drawn as a thin line so that a run shows movement before its first epoch ends.
    """
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Loss", "Accuracy"), horizontal_spacing=0.1)
    last_epoch = 1
    for i, (name, records) in enumerate(histories.items()):
        colour = RUN_COLOURS[i % len(RUN_COLOURS)]
        epochs = [r["epoch"] for r in records]
        last_epoch = max([last_epoch, *epochs])
        for col, metric in ((1, "loss"), (2, "accuracy")):
            for prefix, dash in (("", "solid"), ("val_", "dash")):
                values = [r.get(prefix + metric) for r in records]
                label = f"{name} {'validation' if prefix else 'training'}"
                fig.add_trace(go.Scatter(x=epochs, y=values, mode="lines+markers", name=label, legendgroup=name,
                                         line=dict(color=colour, dash=dash), showlegend=col == 1), row=1, col=col)
        rows = (batches or {}).get(name) or []
        if rows:
            last_epoch = max(last_epoch, rows[-1]["epoch_progress"])
            for col, metric in ((1, "loss"), (2, "accuracy")):
                fig.add_trace(go.Scatter(x=[r["epoch_progress"] for r in rows], y=[r.get(metric) for r in rows],
                                         mode="lines", name=f"{name} training (within epochs)", legendgroup=name,
                                         line=dict(color=colour, width=1), opacity=0.45, showlegend=col == 1),
                              row=1, col=col)
        best = best_epoch(records)
        if best is not None:
            fig.add_trace(go.Scatter(x=[best["epoch"]], y=[best["val_accuracy"]], mode="markers",
                                     marker=dict(symbol="star", size=16, color=colour, line=dict(width=1, color="black")),
                                     name=f"{name} best epoch {best['epoch']} (kept)", legendgroup=name),
                          row=1, col=2)
    fig.update_xaxes(title_text="epoch", rangemode="tozero", tickformat="d", dtick=max(1, round(last_epoch / 10)))
    fig.update_yaxes(rangemode="tozero")
    fig.update_yaxes(tickformat=".0%", row=1, col=2)
    fig.update_layout(height=400, margin=dict(t=50, b=30), legend=dict(orientation="h", y=-0.25))
    return fig


def best_epoch(records):
    """The epoch record with the highest validation accuracy (the checkpoint a run keeps), or None."""
    scored = [r for r in records if r.get("val_accuracy") is not None]
    return max(scored, key=lambda r: r["val_accuracy"]) if scored else None


def confusion_matrix_figure(matrix, *, normalise=False, selected=None, large=False):
    """Confusion matrix drawn as square scatter markers with the numbers as text.

    Scatter points (not a heatmap) so that clicking a cell is a selectable point in
    Streamlit: heatmap cells return an empty selection there. Each point's customdata
    is [true index, predicted index].

    Args:
        matrix: ints (7, 7), rows true, columns predicted.
        normalise: show each row as fractions of its true class.
        selected: optional (true, predicted) cell to outline.
        large: bigger text, for a projector. Either way the figure fits the main column of
            a 1024x768 screen with the sidebar open (556 px; 632 px in presentation mode,
            whose page padding is narrower).
    """
    cell, gap, font = (40, 16, 15) if large else (40, 8, 13)
    matrix = np.asarray(matrix, dtype=float)
    rows = matrix.sum(axis=1, keepdims=True)
    values = np.divide(matrix, rows, out=np.zeros_like(matrix), where=rows > 0) if normalise else matrix
    names = [e.capitalize() for e in EMOTIONS]
    true_idx, pred_idx = np.meshgrid(range(len(EMOTIONS)), range(len(EMOTIONS)), indexing="ij")
    text = [f"{v:.2f}" if normalise else f"{int(v)}" for v in values.ravel()]
    shade = values / values.max() if values.max() > 0 else values
    fig = go.Figure(go.Scatter(
        x=[names[p] for p in pred_idx.ravel()], y=[names[t] for t in true_idx.ravel()], mode="markers+text",
        text=text, textfont=dict(size=font, color=["white" if s > 0.5 else "black" for s in shade.ravel()]),
        marker=dict(symbol="square", size=cell, color=values.ravel(), colorscale="Blues", showscale=True,
                    colorbar=dict(thickness=14),
                    line=dict(width=[3 if selected == (t, p) else 0 for t, p in zip(true_idx.ravel(), pred_idx.ravel())],
                              color="#ff7f0e")),
        customdata=np.stack([true_idx.ravel(), pred_idx.ravel()], axis=1),
        hovertemplate="true %{y}, predicted %{x}: %{text}<extra></extra>"))
    fig.update_xaxes(title_text="predicted", categoryorder="array", categoryarray=names, side="top")
    fig.update_yaxes(title_text="true", categoryorder="array", categoryarray=names[::-1])
    side = len(EMOTIONS) * (cell + gap) + (240 if large else 220)  # cells with gaps, labels, colour bar
    fig.update_layout(height=side - 60, width=side, margin=dict(t=70, l=90, r=20, b=20), plot_bgcolor="white",
                      clickmode="event+select", dragmode=False, font=dict(size=font))
    fig.update_xaxes(tickangle=0)
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


def emotion_strip_chart(seconds, probabilities, *, span=30.0):
    """Each emotion's probability over the last `span` seconds, one line per emotion.

    Args:
        seconds: float (n,), times relative to now (negative: the past).
        probabilities: float (n, 7) in canonical order.
    """
    fig = go.Figure()
    probabilities = np.asarray(probabilities)
    for c, emotion in enumerate(EMOTIONS):
        fig.add_trace(go.Scatter(x=list(np.asarray(seconds, float)), y=list(probabilities[:, c].astype(float)),
                                 mode="lines", name=emotion.capitalize(), line=dict(color=EMOTION_COLOURS[emotion], width=3)))
    fig.update_layout(xaxis=dict(range=[-span, 0], title="seconds ago"), yaxis=dict(range=[0, 1], tickformat=".0%"),
                      height=300, margin=dict(t=20, b=40, l=10, r=10), legend=dict(orientation="h", y=-0.3))
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
