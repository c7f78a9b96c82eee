"""Plotly figure builders shared by the pages; each is tested without Streamlit."""

import textwrap

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

    The legend names each run once (its colour) and each line style once (grey), so that a long
    run name never pushes "training" and "validation" off a narrow chart; hovering a line gives
    its full name.

    Args:
        histories: dict run name -> list of metrics.jsonl epoch records (epoch, loss, accuracy,
            val_loss, val_accuracy).
        batches: optional dict run name -> batch rows (step, epoch_progress, loss, accuracy),
            drawn as a thin line so that a run shows movement before its first epoch ends.
    """
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Loss", "Accuracy"), horizontal_spacing=0.14)
    last_epoch, styles = 1, {"training": dict(dash="solid"), "validation": dict(dash="dash")}
    for i, (name, records) in enumerate(histories.items()):
        colour = RUN_COLOURS[i % len(RUN_COLOURS)]
        epochs = [r["epoch"] for r in records]
        last_epoch = max([last_epoch, *epochs])
        fig.add_trace(_legend_entry(_wrap(name), dict(color=colour, width=3), group=name))
        for col, metric in ((1, "loss"), (2, "accuracy")):
            for prefix, dash in (("", "solid"), ("val_", "dash")):
                values = [r.get(prefix + metric) for r in records]
                label = f"{name} {'validation' if prefix else 'training'}"
                fig.add_trace(go.Scatter(x=epochs, y=values, mode="lines+markers", name=label, legendgroup=name,
                                         line=dict(color=colour, dash=dash), showlegend=False), row=1, col=col)
        rows = (batches or {}).get(name) or []
        if rows:
            styles["within epochs"] = dict(width=1)
            last_epoch = max(last_epoch, rows[-1]["epoch_progress"])
            for col, metric in ((1, "loss"), (2, "accuracy")):
                fig.add_trace(go.Scatter(x=[r["epoch_progress"] for r in rows], y=[r.get(metric) for r in rows],
                                         mode="lines", name=f"{name} training (within epochs)", legendgroup=name,
                                         line=dict(color=colour, width=1), opacity=0.45, showlegend=False),
                              row=1, col=col)
        best = best_epoch(records)
        if best is not None:
            styles["kept epoch"] = None
            fig.add_trace(go.Scatter(x=[best["epoch"]], y=[best["val_accuracy"]], mode="markers",
                                     marker=dict(symbol="star", size=16, color=colour, line=dict(width=1, color="black")),
                                     name=f"{name} best epoch {best['epoch']} (kept)", legendgroup=name,
                                     showlegend=False), row=1, col=2)
    for style, line in styles.items():
        fig.add_trace(_legend_entry(style, dict(color="#888888", **(line or {})), star=line is None))
    fig.update_xaxes(title_text="epoch", rangemode="tozero", tickformat="d", dtick=max(1, round(last_epoch / 10)))
    fig.update_yaxes(rangemode="tozero")
    fig.update_yaxes(tickformat=".0%", row=1, col=2)
    # the legend takes its rows from the figure's height: add them, so the plots keep theirs
    legend_lines = sum(len(_wrap(name).split("<br>")) for name in histories) + len(styles)
    fig.update_layout(height=300 + 22 * legend_lines, margin=dict(t=50, b=10, l=40, r=10), legend=_LEGEND_BELOW)
    return fig


# Below the plots, anchored to the figure's bottom edge: Plotly then grows the bottom margin to
# fit the legend, so it never lies over an axis title however many rows it wraps onto.
_LEGEND_BELOW = dict(orientation="h", yref="container", y=0, yanchor="bottom", x=0, xanchor="left")


def _legend_entry(name, line, *, group=None, star=False):
    """A trace drawn only in the legend (no data): a run's colour, or a line style in grey."""
    marker = dict(symbol="star", size=12, color="#888888", line=dict(width=1, color="black")) if star else None
    return go.Scatter(x=[None], y=[None], mode="markers" if star else "lines", name=name, line=line,
                      marker=marker, legendgroup=group or name, hoverinfo="skip")


def _wrap(text, width=24):
    """`text` broken onto lines of at most `width` characters at spaces (Plotly's <br>): legends
    and titles do not wrap by themselves, and a narrow chart cuts them."""
    return "<br>".join(textwrap.wrap(str(text), width, break_long_words=False)) or str(text)


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
        large: for a projector: numbers as large as the page's text (presentation mode's 21 px),
            and the whole matrix on one 1024x768 screen (651 px tall, 766 wide: the sidebar is
            collapsed then). Otherwise it fits the main column of a 1024x768 screen with the
            sidebar open (556 px).
    """
    # marker side, gap between markers, numbers, tick labels, margins (top, left) in px
    cell, gap, font, ticks, top, left = (62, 16, 22, 18, 90, 120) if large else (40, 8, 13, 13, 70, 90)
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
    plot = len(EMOTIONS) * (cell + gap)  # the cells with their gaps
    # the width adds the labels and the colour bar; the height, on a projector, only what it must
    fig.update_layout(height=plot + (top + 15 if large else 160), width=plot + 220, plot_bgcolor="white",
                      margin=dict(t=top, l=left, r=20, b=15 if large else 20), clickmode="event+select",
                      dragmode=False, font=dict(size=ticks))
    fig.update_xaxes(tickangle=0)
    return fig


def per_class_metrics(reports, *, metric="f1-score"):
    """Grouped bars of one per-class metric, one group per emotion and one bar per run.

    Args:
        reports: dict run name -> evaluation dict (with per_class; one without usable
            per-class rows, from a damaged evaluation.json, gets no bars).
    """
    from emotion_core.run_records import is_number

    def has_metric(report):
        rows = report.get("per_class") if isinstance(report, dict) else None
        return isinstance(rows, dict) and all(isinstance(rows.get(e), dict) and is_number(rows[e].get(metric))
                                              for e in EMOTIONS)

    fig = go.Figure()
    usable = {name: r for name, r in reports.items() if has_metric(r)}
    for i, (name, report) in enumerate(usable.items()):
        values = [report["per_class"][e][metric] for e in EMOTIONS]
        fig.add_trace(go.Bar(x=[e.capitalize() for e in EMOTIONS], y=values, name=_wrap(name),
                             marker_color=RUN_COLOURS[i % len(RUN_COLOURS)]))
    fig.update_layout(barmode="group", yaxis=dict(range=[0, 1], title=metric), height=360,
                      margin=dict(t=30, b=10), legend=_LEGEND_BELOW)
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
                      height=340, margin=dict(t=20, b=10, l=10, r=10),
                      # two emotions a row: seven names side by side wrap unevenly in a narrow column
                      legend=dict(_LEGEND_BELOW, entrywidth=0.5, entrywidthmode="fraction"))
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
    # Short and level ("Exp. 8<br>block1x3"): rotated full names ran off the right edge at 1024 px.
    names = [f"{r['experiment'].replace('Table 1, experiment', 'Exp.')}<br>{(r['architecture'] or '').removeprefix('cnn_')}"
             for r in rows]
    measured_name = f"measured here ({epochs} epochs, PublicTest)" if epochs else "measured here (PublicTest)"
    fig = go.Figure()
    for key, label, colour in (("reported", "reported by the study", "#bbbbbb"), ("measured", measured_name, "#1f77b4")):
        values = [r[key] for r in rows]
        fig.add_trace(go.Bar(x=names, y=values, name=label, marker_color=colour,
                             text=[f"{v:.0%}" if v is not None else "" for v in values], textposition="outside"))
    fig.update_layout(barmode="group", yaxis=dict(title="test accuracy", tickformat=".0%", range=[0, 0.8]),
                      xaxis=dict(tickangle=0, tickfont=dict(size=11)),
                      legend=dict(orientation="h", y=1.12, x=0), margin=dict(t=60, b=40), height=380)
    return fig
