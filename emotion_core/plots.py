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


# The face map's groups beyond the emotions, drawn after them (so flagged faces lie on top).
MAP_OTHER_COLOURS = {"no votes": "#d9d9d9", "not flagged": "#c7c7c7", "flagged": "#e6550d"}


def face_map_figure(xy, groups, *, names=None, title=None, height=520):
    """The face map: one dot per face, one colour per group, selectable with box or lasso.

    One trace per group, so the legend toggles groups. Each dot's customdata is its face's
    index, which `face_map_selection` reads back from Streamlit's selection state.

    Args:
        xy: float (n, 2) positions (audit.facemap.project). groups: n strings (an emotion's
            name, or a key of MAP_OTHER_COLOURS). names: optional n face names for hovering.
    """
    xy, groups = np.asarray(xy, dtype=float), np.asarray(groups, dtype=object)
    order = [g for g in (*EMOTIONS, *MAP_OTHER_COLOURS) if g in set(groups)]
    order += sorted(set(groups) - set(order))
    fig = go.Figure()
    for group in order:
        members = np.flatnonzero(groups == group)
        colour = EMOTION_COLOURS.get(group) or MAP_OTHER_COLOURS.get(group, "#636363")
        fig.add_trace(go.Scattergl(
            x=xy[members, 0], y=xy[members, 1], mode="markers", name=str(group).capitalize(),
            marker=dict(size=7 if group == "flagged" else 5, color=colour, opacity=0.8),
            customdata=members, hovertext=[str(names[i]) for i in members] if names is not None else None,
            hovertemplate="%{hovertext}<extra>%{fullData.name}</extra>" if names is not None else None))
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, scaleanchor="x")
    fig.update_layout(title=title, height=height, dragmode="lasso", plot_bgcolor="white",
                      margin=dict(t=40 if title else 10, b=10, l=10, r=10), legend=dict(itemsizing="constant"))
    return fig


def face_map_selection(selection):
    """The face indices in a box or lasso selection of `face_map_figure` (sorted, no repeats).

    Args:
        selection: Streamlit's plotly selection state, {"points": [{"customdata": 12, ...}, ...]};
            customdata may come as a number, a one-element list, or a dict keyed "0".
    Returns:
        int64 array of face indices (empty when nothing is selected).
    """
    chosen = []
    for point in (selection or {}).get("points") or []:
        data = point.get("customdata")
        if isinstance(data, dict):
            data = [data[key] for key in sorted(data, key=int)]
        if isinstance(data, (list, tuple)):
            data = data[0] if data else None
        if data is not None:
            chosen.append(int(data))
    return np.unique(np.asarray(chosen, dtype=np.int64))


def study_accuracy_figure(rows, *, epochs=None):
    """The study's reported test accuracy beside this app's, one pair of bars per experiment.

    Args:
        rows: reference.study_rows() dicts (experiment, architecture, reported, measured); rows
            without a measured value show the reported bar alone.
        epochs: the reference runs' epoch budget, named in the legend.
    """
    names = [f"{r['experiment'].replace('Table 1, experiment', 'Exp.')}<br>{r['architecture'] or ''}" for r in rows]
    measured_name = f"measured here ({epochs} epochs, PublicTest)" if epochs else "measured here (PublicTest)"
    fig = go.Figure()
    for key, label, colour in (("reported", "reported by the study", "#bbbbbb"), ("measured", measured_name, "#1f77b4")):
        values = [r[key] for r in rows]
        fig.add_trace(go.Bar(x=names, y=values, name=label, marker_color=colour,
                             text=[f"{v:.0%}" if v is not None else "" for v in values], textposition="outside"))
    fig.update_layout(barmode="group", yaxis=dict(title="test accuracy", tickformat=".0%", range=[0, 0.8]),
                      legend=dict(orientation="h", y=1.12, x=0), margin=dict(t=60, b=40), height=380)
    return fig
