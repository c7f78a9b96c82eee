"""Mistakes: click a confusion-matrix cell, browse its faces with Grad-CAM."""

import streamlit as st

from emotion_core.evaluation import report
from emotion_core.explain import mean_heatmaps, overlay
from emotion_core.labels import EMOTIONS
from emotion_core.mistakes import DEFAULT_CELL, REVERSE_CELL, cell_indices, cell_table, most_confused_pairs, saved_predictions
from emotion_core.model_io import ModelLoadError, resolve_model_path
from emotion_core.plots import confusion_matrix_figure
from pages._shared import cached_data, data_source_picker, explainer_for, model_picker

PAGE_SIZE = 24


@st.cache_data(show_spinner=False, max_entries=8)
def probabilities_for(ref, model_file, modified, source):
    """Probabilities of `ref` on the test split of `source`: from the run folder when it
    saved them for this very set, else computed once (with a progress bar) and cached."""
    dataset = cached_data(source, "test")
    saved = saved_predictions(ref if ref != "default" else None, dataset)
    if saved is not None:
        return saved
    bar = st.progress(0.0, text="Predicting the test set (once)…")
    from emotion_core.evaluation import predict_probabilities
    from pages._shared import cached_model

    probs = predict_probabilities(cached_model(model_file, modified), dataset.images,
                                  progress=lambda d, t: bar.progress(d / t, text=f"Predicting {d}/{t} faces…"))
    bar.empty()
    return probs


@st.cache_data(show_spinner="Averaging Grad-CAM per class…", max_entries=8)
def class_attention(ref, model_file, modified, source):
    dataset = cached_data(source, "test")
    return mean_heatmaps(explainer_for(ref), dataset.images, dataset.labels, max_per_class=60)


def choose_cell(matrix):
    """The clickable matrix; returns the selected (true, predicted) cell, kept in session state."""
    st.session_state.setdefault("cell", DEFAULT_CELL)
    normalise = st.toggle("Normalise by row (share of each true emotion)", key="normalise")
    event = st.plotly_chart(confusion_matrix_figure(matrix, normalise=normalise, selected=st.session_state["cell"]),
                            on_select="rerun", selection_mode="points", key="matrix")
    points = event.selection.get("points", []) if event else []
    if points and points[0].get("customdata"):
        clicked = tuple(int(v) for v in points[0]["customdata"])
        if clicked != st.session_state.get("last_click"):
            st.session_state["last_click"] = clicked
            st.session_state["cell"] = clicked
            st.rerun()
    c1, c2 = st.columns(2)
    if c1.button("Neutral → predicted sad"):
        st.session_state["cell"] = DEFAULT_CELL
        st.rerun()
    if c2.button("Sad → predicted neutral"):
        st.session_state["cell"] = REVERSE_CELL
        st.rerun()
    return st.session_state["cell"]


def gallery(dataset, probs, cell, ref):
    true, predicted = cell
    indices = cell_indices(dataset.labels, probs, true, predicted)
    st.subheader(f"True {EMOTIONS[true]}, predicted {EMOTIONS[predicted]}: {len(indices)} faces")
    if not len(indices):
        st.info("No faces in this cell. Click another cell of the matrix.")
        return
    c1, c2, c3 = st.columns([1, 1, 2])
    show_heatmaps = c1.toggle("Grad-CAM", value=True, key="gallery_cam")
    pages = (len(indices) - 1) // PAGE_SIZE + 1
    page = c2.number_input(f"Page (of {pages})", 1, pages, 1, key=f"page_{true}_{predicted}")
    c3.download_button("Download this cell as CSV", cell_table(dataset.names, dataset.labels, probs, indices)
                       .to_csv(index=False), file_name=f"{EMOTIONS[true]}_as_{EMOTIONS[predicted]}.csv")
    shown = indices[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    heatmaps, _ = explainer_for(ref)(dataset.images[shown], class_index=predicted) if show_heatmaps else (None, None)
    columns = st.columns(6)
    for n, i in enumerate(shown):
        face = overlay(dataset.images[i], heatmaps[n]) if show_heatmaps else dataset.images[i]
        top = sorted(range(7), key=lambda c: -probs[i, c])[:3]
        columns[n % 6].image(face, width="stretch", clamp=True,
                             caption=f"{dataset.names[i]} · " + ", ".join(f"{EMOTIONS[c]} {probs[i, c]:.0%}" for c in top))


def summary(dataset, probs, result, ref, model_file, modified, source):
    left, right = st.columns(2)
    with left:
        st.markdown("**Classification report**")
        rows = {e.capitalize(): result["per_class"][e] for e in EMOTIONS}
        st.dataframe(rows, width="stretch")
    with right:
        st.markdown("**Most confused pairs**")
        st.dataframe([{"true": EMOTIONS[t], "predicted": EMOTIONS[p], "faces": n, "share of true class": f"{s:.0%}"}
                      for t, p, n, s in most_confused_pairs(result["confusion_matrix"])], hide_index=True)
    st.markdown("**Where the model looks, per true emotion** (mean Grad-CAM on correctly classified faces)")
    maps = class_attention(ref, model_file, modified, source)
    columns = st.columns(7)
    for label, column in enumerate(columns):
        if label in maps:
            face = dataset.images[dataset.labels == label].mean(axis=0).astype("uint8")
            column.image(overlay(face, maps[label]), caption=EMOTIONS[label], width="stretch")


st.title("Mistakes")
st.caption("Which emotions does the model confuse, and what was it looking at? Click a cell of the matrix.")
c1, c2 = st.columns(2)
with c1:
    ref = model_picker(key="mistakes_model")
with c2:
    source = data_source_picker(key="mistakes_data", label="Labelled test set")
if ref is None:
    st.stop()
try:
    model_path = resolve_model_path(ref)
    dataset = cached_data(source, "test")
    modified = model_path.stat().st_mtime
    probs = probabilities_for(ref, str(model_path), modified, source)
except (ModelLoadError, ValueError) as error:
    st.error(str(error))
    st.stop()
if dataset.synthetic:
    st.info("Test set: **synthetic faces** drawn by the app.")
result = report(dataset.labels, probs.argmax(axis=1))
st.metric("Accuracy on this test set", f"{result['accuracy']:.1%}", help=f"{len(dataset):,} faces, {dataset.description}")
matrix_col, gallery_col = st.columns([2, 3], gap="large")
with matrix_col:
    cell = choose_cell(result["confusion_matrix"])
with gallery_col:
    gallery(dataset, probs, cell, ref)
with st.expander("Summary: report, confused pairs, attention per emotion", expanded=False):
    summary(dataset, probs, result, ref, str(model_path), modified, source)
