"""Mistakes: click a confusion-matrix cell, browse its faces with their probabilities and Grad-CAM."""

import streamlit as st

from emotion_core.errors import EmotionCoreError
from emotion_core.data.crowd import votes_or_warning, votes_stamp
from emotion_core.evaluation import crowd_report
from emotion_core.explain import colour_scale
from emotion_core.labels import EMOTIONS
from emotion_core.mistakes import (
    DEFAULT_CELL,
    REVERSE_CELL,
    SIDE_FILTERS,
    attention_overlays,
    cell_headline,
    cell_indices,
    cell_table,
    face_name,
    filter_by_side,
    clicked_cell,
    gallery_pictures,
    most_confused_pairs,
    page_count,
    page_of,
    pairs_table,
    predictions_for,
    probability_lines,
    report_for,
    report_table,
    saved_test_source,
)
from emotion_core.models.io import DEFAULT, resolve_model_path
from emotion_core.plots import confusion_matrix_figure
from app_pages._shared import (cached_data, data_source_picker, explainer_for, gradcam_explainer, model_for,
                                model_picker, plain, presenting, rem_px, show_error, text_card_width)

PAGE_SIZE = 24
MATRIX_KEY = "mistakes_matrix"
CELL_KEY = "mistakes_cell"  # the selected (true, predicted) cell; survives reruns and page changes


# Cached on strings (model reference, its file and time, data source), never on the model itself.
@st.cache_data(show_spinner=False, max_entries=8)
def cached_predictions(ref, model_file, modified, source):
    """Probabilities (n, 7) on the test split of `source`, and whether they were predicted
    here: the run's saved ones are used when they are for this very set, else the set is
    predicted once, with a progress bar, and kept for every visitor."""
    bar = None

    def show(done, total):
        nonlocal bar  # created on first use, so saved predictions show no bar at all
        bar = bar or st.progress(0.0)
        bar.progress(done / total, text=f"Predicting the test set once: {done:,}/{total:,} faces")

    _, probabilities = predictions_for(ref, source, dataset=cached_data(source, "test"), load_model=model_for,
                                       progress=show)
    if bar is not None:
        bar.empty()
    return probabilities, bar is not None


@st.cache_data(show_spinner=False, max_entries=8)
def cached_crowd(source, stamp):
    """The crowd's votes for the test faces of `source` (none for synthetic faces or a CSV), and
    why there are none when the votes file cannot be read. `stamp` (votes_stamp()) is only
    the cache key: a changed votes file is read again."""
    return votes_or_warning(cached_data(source, "test").names)


SIDE_LABELS = {"all": "All faces", "model": "Crowd agrees with the model (label noise?)",
               "label": "Crowd agrees with the label (real mistake)", "neither": "Crowd split"}


@st.cache_data(show_spinner="Averaging Grad-CAM over correctly classified faces…", max_entries=8)
def cached_attention(ref, model_file, modified, source):
    """Per emotion, the mean Grad-CAM of correct faces over the mean face (RGB pictures)."""
    dataset = cached_data(source, "test")
    return attention_overlays(explainer_for(ref), dataset.images, dataset.labels)


def choose_models_form():
    """The model and the labelled test set; (ref, source), ref None when there is no model.

    One under the other: a run's name or a folder's path, half a 1024-px page wide, was cut."""
    ref = model_picker(key="mistakes_model")
    source = data_source_picker(key="mistakes_data", label="Labelled test set")
    return ref, source


def _select(cell):
    st.session_state[CELL_KEY] = cell


def _select_clicked_cell():
    """on_select callback: a click on a marker selects its cell (runs before the page reruns,
    so the matrix is drawn with the new cell outlined)."""
    cell = clicked_cell(st.session_state[MATRIX_KEY].get("selection"))
    if cell is not None:
        _select(cell)


def matrix_form(matrix):
    """The clickable confusion matrix; returns the selected (true, predicted) cell."""
    st.session_state.setdefault(CELL_KEY, DEFAULT_CELL)
    normalise = st.toggle("Normalise by row (share of each true emotion)", key="mistakes_normalise")
    figure = confusion_matrix_figure(matrix, normalise=normalise, selected=st.session_state[CELL_KEY],
                                     large=presenting())
    # width="content": the figure's own width keeps its square markers apart (stretched into a
    # narrow column they overlap, and a click lands on the wrong cell)
    st.plotly_chart(figure, width="content", on_select=_select_clicked_cell, selection_mode="points",
                    key=MATRIX_KEY)
    st.caption("Click a cell to see its faces below. Rows: the true emotion; columns: what the model said.")
    return st.session_state[CELL_KEY]


def shortcuts_form(result, dataset, view_key):
    """Accuracy, the study's two neutral/sad cells one click away, and the most confused pairs.

    `view_key` names the model and test set shown: the pairs table is a new widget for each,
    so a row ticked for one model is not left ticked beside another model's gallery.
    """
    # one row that wraps where the page is narrow: each button as wide as its label, never cut
    with st.container(horizontal=True, vertical_alignment="bottom", gap="medium"):
        st.metric("Accuracy on this test set", f"{result['accuracy']:.1%}", width="content",
                  help=f"{len(dataset):,} faces: {dataset.description}")
        st.button("Neutral taken for sad", on_click=_select, args=(DEFAULT_CELL,))
        st.button("Sad taken for neutral", on_click=_select, args=(REVERSE_CELL,))
    pairs = most_confused_pairs(result["confusion_matrix"])
    st.markdown("**Most confused pairs** (click a row)")
    table_key = f"mistakes_pairs_{abs(hash(view_key))}"

    def select_pair():
        rows = st.session_state[table_key].selection.rows
        if rows:
            _select(pairs[rows[0]][:2])

    st.dataframe(pairs_table(pairs), hide_index=True, on_select=select_pair, selection_mode="single-row",
                 key=table_key, width="stretch",
                 column_config={"share of true class": st.column_config.NumberColumn(format="percent")})


def gallery(dataset, probabilities, cell, ref, crowd, *, crowd_rows):
    """The faces of one cell, surest mistakes first, a page at a time, with the crowd's votes."""
    true, predicted = cell
    majority = crowd.majority()
    truth = majority if crowd_rows else dataset.labels
    indices = cell_indices(truth, probabilities, true, predicted)
    said = "the crowd said" if crowd_rows else "true"
    st.subheader(f"{said.capitalize()} {EMOTIONS[true]}, predicted {EMOTIONS[predicted]}: {len(indices):,} faces")
    if not len(indices):
        st.info("No faces in this cell. Click another cell of the matrix.")
        return
    if crowd.has_votes.any() and not crowd_rows:
        headline = cell_headline(indices, true, predicted, majority)
        if headline:
            st.markdown(f"**{headline}**")
        side = st.radio("Show", SIDE_FILTERS, format_func=SIDE_LABELS.get, horizontal=True, key="mistakes_side")
        indices = filter_by_side(indices, dataset.labels, probabilities, majority, side)
        if not len(indices):
            st.info("No face of this cell fits that filter.")
            return
    pages = page_count(len(indices), PAGE_SIZE)
    table = cell_table(dataset.names, dataset.labels, probabilities, indices,
                       crowd=crowd if crowd.has_votes.any() else None)
    # one row of controls that wraps where the page is narrow; each as wide as its label needs
    with st.container(horizontal=True, vertical_alignment="bottom", gap="medium"):
        with st.container(width="content", gap="small"):
            with_cam = st.toggle("Grad-CAM", value=True, key="mistakes_gradcam",
                                 help=f"Colour where the model looked when it said {EMOTIONS[predicted]}.")
            side_by_side = st.toggle("Beside the face", value=presenting(), key="mistakes_beside",
                                     disabled=not with_cam, help="the face alone, then with its heatmap")
        alpha = st.slider("Heatmap opacity", 0.1, 0.9, 0.45, 0.05, key="mistakes_alpha", disabled=not with_cam,
                          width=12 * rem_px())
        page = st.number_input(f"Page (of {pages})", 1, pages, 1, key=f"mistakes_page_{true}_{predicted}",
                               width=8 * rem_px())
        st.download_button("Download as CSV", table.to_csv(index=False),
                           file_name=f"true_{EMOTIONS[true]}_predicted_{EMOTIONS[predicted]}.csv", mime="text/csv")
    shown = page_of(indices, page, PAGE_SIZE)
    pictures = gallery_pictures(dataset.images[shown], explainer=explainer_for(ref) if with_cam else None,
                                class_index=predicted, alpha=alpha, side_by_side=side_by_side)
    if with_cam:
        st.image(colour_scale(), caption="Grad-CAM colours: blue, no attention; red, the most", width=256)
        gradcam_explainer()
    votes = crowd.emotion_votes()
    if crowd.has_votes[shown].any():
        st.caption("Under each face: the model's probabilities, then how many of 10 people chose each emotion.")
    lines = [probability_lines(probabilities[i], votes=votes[i] if crowd.has_votes[i] else None) for i in shown]
    # Cards as wide as their longest line, as many a row as the page holds: fixed columns wrapped
    # each line over two or three at 1024 px.
    width = text_card_width("\n".join(lines), least_rem=18 if side_by_side else 9)
    with st.container(horizontal=True, gap="medium"):
        for n, (i, picture) in enumerate(zip(shown, pictures)):
            with st.container(width=width, gap="small", key=f"text-card-{n}"):
                # the file's name only: the heading above already says which cell these faces are in
                st.image(picture, width="stretch", caption=face_name(dataset.names[i]))
                st.text(lines[n])


def summary(result, ref, model_key, source):
    """The classification report, and where the model looks per emotion when it is right."""
    st.markdown("**Classification report**")
    st.dataframe(report_table(result), column_config={c: st.column_config.NumberColumn(format="%.2f")
                                                      for c in ("precision", "recall", "f1-score")})
    st.markdown("**Where the model looks when it is right**: mean Grad-CAM over correctly classified "
                "faces of each emotion, drawn over that emotion's mean face.")
    if st.toggle("Compute the mean Grad-CAM per emotion", key="mistakes_attention",
                 help="Explains up to 150 faces per emotion once, then it is cached."):
        pictures = cached_attention(ref, *model_key, source)
        st.image(colour_scale(), caption="blue: no attention; red: the most", width=256)
        for label, column in enumerate(st.columns(len(EMOTIONS))):
            if label in pictures:
                column.image(pictures[label], caption=EMOTIONS[label], width="stretch")
            else:
                column.caption(f"{EMOTIONS[label]}: no face classified correctly")


st.title("Mistakes")
st.caption("Which emotions does the model confuse, and what was it looking at?")
ref, source = choose_models_form()
if ref is None:
    st.stop()
try:
    model_file = resolve_model_path(ref)
    model_key = (str(model_file), model_file.stat().st_mtime)  # a retrained model gets fresh predictions
    dataset = cached_data(source, "test")
    probabilities, predicted_here = cached_predictions(ref, *model_key, source)
except EmotionCoreError as error:  # the one family users cause; anything else is a bug and surfaces
    show_error(error)
    st.stop()
if dataset.synthetic:
    st.info("Test set: **synthetic faces** drawn by the app, not FER2013.")
for warning in dataset.warnings:  # folders ignored, emotions without faces
    st.warning(plain(f"Test set: {warning}"))
saved_on = saved_test_source(ref) if predicted_here and ref != DEFAULT else None
if saved_on:
    st.caption(f"Predicted here: this run saved its predictions for `{saved_on}`, not for this set.")
result = report_for(dataset.labels, probabilities)
crowd, crowd_problem = cached_crowd(source, votes_stamp())
if crowd_problem:
    st.warning(plain(f"Shown without the crowd's votes: {crowd_problem}"))
crowd_rows, versus_crowd = False, None
if crowd.has_votes.any():
    crowd_rows = st.toggle("Rows: what 10 people said (FER+ crowd votes) instead of FER2013's labels",
                           key="mistakes_crowd_rows",
                           help="FER2013's labels are noisy: where people side with the model, the label is the odd one out.")
    versus_crowd = crowd_report(dataset.labels, probabilities, crowd)
    st.caption(f"On the {versus_crowd['faces_with_votes']:,} faces with crowd votes, the model agrees with the "
               f"crowd's majority on {versus_crowd['accuracy']:.1%}; FER2013's labels agree with it on "
               f"{versus_crowd['label_agreement']:.1%}. Of {versus_crowd['mistakes']['n']:,} mistakes, the crowd sides "
               f"with the model on {versus_crowd['mistakes']['sides_with_model'] / max(1, versus_crowd['mistakes']['n']):.0%} "
               f"and with the label on {versus_crowd['mistakes']['sides_with_label'] / max(1, versus_crowd['mistakes']['n']):.0%}.")
matrix = versus_crowd["confusion_matrix"] if crowd_rows else result["confusion_matrix"]
# The matrix gets the page's whole width: squeezed into a column on a 1024x768 projector,
# its numbers overlapped and its labels slanted.
cell = matrix_form(matrix)
shortcuts_form(result, dataset, (model_key, source))
gallery(dataset, probabilities, cell, ref, crowd, crowd_rows=crowd_rows)
with st.expander("Classification report and attention per emotion"):
    summary(result, ref, model_key, source)
