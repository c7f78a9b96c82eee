"""Label audit: the faces whose label is likely wrong, checked against 10 people's votes, and the face map."""

import streamlit as st

from emotion_core.errors import EmotionCoreError
from emotion_core.audit import face_lines, filter_issues, headline, issues_table
from emotion_core import runs
from emotion_core.audit.background import fold_run_names, fold_states, launch_fold_audit
from emotion_core.audit.facemap import COLOUR_BY, face_map, map_groups, method_for
from emotion_core.audit.folds import audit_with_folds
from emotion_core.config import PRESETS
from emotion_core.audit.model import audit_with_model
from emotion_core.audit.retrain import without_flagged
from emotion_core.data.crowd import votes_or_warning, votes_stamp
from emotion_core.explain import colour_scale
from emotion_core.labels import EMOTIONS
from emotion_core.mistakes import face_name, gallery_pictures, page_count, page_of
from emotion_core.models.io import resolve_model_path
from emotion_core.plots import face_map_figure, face_map_selection
from emotion_core.training.launch import launch_training
from app_pages._shared import (cached_data, data_source_picker, explainer_for, model_for, model_picker, plain,
                                presenting, show_error)

PAGE_SIZE = 24
COLUMNS = 4  # a face's probability and vote bars need ~150 px (1024x768 with the sidebar open)
ANY = "any"
MAP_KEY = "audit_map"
COLOUR_LABELS = {"label": "Given label", "prediction": "Model's prediction", "crowd": "Crowd's majority",
                 "flag": "Flagged by the audit"}
METHOD_NAMES = {"tsne": "t-SNE", "pca": "PCA"}
HOW = {"model": "One model that never saw these faces", "folds": "K models out of fold (trained in the background)"}
SPLITS = {"test": "Test faces (the model never trained on them)", "train": "Training faces"}


@st.cache_data(show_spinner=False, max_entries=8)
def cached_audit(ref, model_file, modified, source, split):
    """The audit of `split` of `source` with model `ref` (keyed by its file and time), once per visitor."""
    bar = st.progress(0.0, text="Asking the model about every face once…")
    result = audit_with_model(source, ref, split=split, model=model_for(ref),
                              progress=lambda done, total: bar.progress(done / total, text=f"Asking the model about "
                                                                        f"{done:,}/{total:,} faces once"))
    bar.empty()
    return result


@st.cache_data(show_spinner=False, max_entries=8)
def cached_crowd(source, split, stamp):
    """The crowd's votes for the audited faces (none for synthetic faces or a CSV), and why there
    are none when the votes file cannot be read. `stamp` (votes_stamp()) is only
    the cache key: a changed votes file is read again."""
    return votes_or_warning(cached_data(source, split).names)


@st.cache_data(show_spinner=False, max_entries=4)
def cached_map(ref, model_file, modified, source, split):
    """The face map's positions (n, 2) and probabilities, computed once per model and faces (and kept on disk)."""
    bar = st.progress(0.0, text="Drawing the face map…")
    xy, probabilities = face_map(ref, cached_data(source, split), model=model_for(ref),
                                 progress=lambda fraction, message: bar.progress(fraction, text=message))
    bar.empty()
    return xy, probabilities


@st.cache_data(show_spinner="Predicting each face with the fold model that never saw it…", max_entries=4)
def cached_fold_audit(source, k, preset, names, modified):
    """The K-fold audit once every fold is finished (nothing is trained here); `names` and
    `modified` (the fold models' times) make retrained folds count as new."""
    return audit_with_folds(source, k, preset=preset)


@st.cache_data(show_spinner=False, max_entries=8)
def cached_fold_names(source, k, preset):
    return fold_run_names(source, k, preset=preset)


def choose_form():
    """How to audit, the data and the model or folds: (ref, source, split, k, preset); k None with a model."""
    how = st.radio("Probabilities from", list(HOW), format_func=HOW.get, horizontal=True, key="audit_how",
                   help="Confident learning needs out-of-sample probabilities: from a model that never trained on "
                        "the faces, or, to audit training faces, from K models each trained without one fold.")
    if how == "folds":
        left, middle, right = st.columns([3, 1, 1])
        with left:
            source = data_source_picker(key="audit_data", label="Training faces to audit")
        k = middle.selectbox("Folds", [2, 3, 4, 5], key="audit_k")
        preset = right.selectbox("Recipe", sorted(PRESETS), index=sorted(PRESETS).index("fast"), key="audit_preset")
        return None, source, "train", k, preset
    left, middle, right = st.columns([2, 2, 1])
    with left:
        ref = model_picker(key="audit_model")
    with middle:
        source = data_source_picker(key="audit_data", label="Labelled faces to audit")
    split = right.radio("Split", list(SPLITS), format_func=lambda s: s.capitalize(), key="audit_split",
                        help="Audit faces the model never trained on: its opinion of the others is not independent.")
    return ref, source, split, None, None


def folds_ready(source, k, preset):
    """The fold runs' progress until all are finished (a button starts or resumes them).

    Returns the first fold's run folder once every fold is finished (its model draws Grad-CAM
    and the map), else None.
    """
    names = cached_fold_names(source, k, preset)
    states = fold_states(names)
    if all(state["state"] == runs.FINISHED for state in states):
        return states[0]["run"], names
    st.info(f"Each of the {k} folds trains the **{preset}** recipe without its own faces, then predicts them; "
            "the audit appears here when all are finished. The runs also show on **Train & compare**.")
    fold_progress(source, k, preset, names)
    return None, names


@st.fragment(run_every=3)
def fold_progress(source, k, preset, names):
    """Polls the fold runs' status files (never the process), and reloads the page when all are done."""
    states = fold_states(names)
    if all(state["state"] == runs.FINISHED for state in states):
        st.rerun(scope="app")
    for number, state in enumerate(states, start=1):
        st.text(f"fold {number} of {k}: {state['caption']}")
    if any(state["state"] == runs.RUNNING for state in states):
        return
    label = "Resume the folds" if any(state["run"].is_dir() for state in states) else "Start the folds"
    if st.button(label, key="audit_start_folds"):
        try:
            launch_fold_audit(source, k, preset=preset)
        except EmotionCoreError as error:  # the one family users cause; anything else is a bug and surfaces
            show_error(error)


def headline_panel(result):
    """How many faces are flagged, and how the crowd judges them against all faces."""
    faces, flagged, crowd_line = st.columns(3)
    faces.metric("Faces audited", f"{len(result.labels):,}")
    flagged.metric("Flagged as likely mislabelled", f"{len(result.issues):,}")
    if result.crowd and result.crowd["flagged_rate"] is not None:
        points = 100 * (result.crowd["flagged_rate"] - result.crowd["base_rate"])
        crowd_line.metric("Crowd disagrees", f"{result.crowd['flagged_rate']:.0%}",
                          delta=f"{points:+.0f} pts vs all faces", delta_color="off",
                          help="Of the flagged faces with a crowd majority, the share whose majority is not the "
                               f"label; on all faces it is {result.crowd['base_rate']:.0%}.")
        st.markdown(f"**{headline(result.crowd)}**")
    else:
        crowd_line.caption("No crowd votes for these faces: the audit cannot be checked against people here.")


def filter_form(result):
    """Given and suggested emotion (sad flagged as neutral first, when there are such faces)."""
    options = [ANY, *EMOTIONS]
    if "audit_given" not in st.session_state:
        sad_as_neutral = len(filter_issues(result, given=EMOTIONS.index("sad"), suggested=EMOTIONS.index("neutral")))
        st.session_state["audit_given"] = "sad" if sad_as_neutral else ANY
        st.session_state["audit_suggested"] = "neutral" if sad_as_neutral else ANY
    given, suggested = st.columns(2)
    given_name = given.selectbox("Given label", options, key="audit_given")
    suggested_name = suggested.selectbox("Suggested label", options, key="audit_suggested")
    return (None if given_name == ANY else EMOTIONS.index(given_name),
            None if suggested_name == ANY else EMOTIONS.index(suggested_name))


def table_panel(result, indices, crowd):
    """The flagged faces as a table, most doubtful first, and as a CSV download."""
    table = issues_table(result, indices, crowd=crowd if crowd.has_votes.any() else None)
    st.dataframe(table, hide_index=True, width="stretch", height=240,
                 column_config={"score": st.column_config.NumberColumn(
                     help="the model's probability of the given label: lower is more doubtful", format="%.3f")})
    st.download_button("Download as CSV", table.to_csv(index=False), file_name="label_issues.csv", mime="text/csv",
                       key="audit_download")


def gallery(dataset, result, indices, ref, crowd, *, key):
    """A page of faces: given -> suggested label, score, the model's probabilities, the crowd's votes, Grad-CAM."""
    if not len(indices):
        st.info("No flagged face fits this choice.")
        return
    controls = st.columns(2, vertical_alignment="bottom")
    with_cam = controls[0].toggle("Grad-CAM of the suggested label", value=True, key=f"{key}_gradcam",
                                  help="Colour where the model looked when it said the suggested emotion.")
    pages = page_count(len(indices), PAGE_SIZE)
    page = controls[1].number_input(f"Page (of {pages})", 1, pages, 1, key=f"{key}_page")
    shown = page_of(indices, page, PAGE_SIZE)
    suggested = result.suggested[shown]
    pictures = gallery_pictures(dataset.images[shown], explainer=explainer_for(ref) if with_cam else None,
                                class_index=suggested)
    if with_cam:
        st.image(colour_scale(), caption="Grad-CAM colours: blue, no attention; red, the most", width=256)
    st.caption("Under each face: its file, given label → suggested label (score: the model's probability of the "
               "given label), the model's top emotions, and how many of 10 people chose each emotion.")
    votes = crowd.emotion_votes()
    per_row = 2 if presenting() else COLUMNS
    columns = st.columns(per_row)
    for n, (i, picture) in enumerate(zip(shown, pictures)):
        with columns[n % per_row]:
            st.image(picture, width="stretch", caption=face_name(dataset.names[i]))
            lines = face_lines(result.probabilities[i], votes[i] if crowd.has_votes[i] else None)
            st.markdown(f"**{EMOTIONS[result.labels[i]]} → {EMOTIONS[result.suggested[i]]}** "
                        f"({result.scores[i]:.2f})  \n" + "  \n".join(lines))


def map_panel(ref, model_key, source, split, dataset, result, crowd):
    """The face map, coloured as chosen; a box or lasso selection opens that region's faces."""
    st.subheader("The face map")
    method = METHOD_NAMES[method_for(len(dataset))]
    st.caption(f"Every face placed by how the model sees it (its last hidden layer, {method}): look-alikes sit "
               "together. A dot whose colour differs from its neighbours' is a face to doubt.")
    if not st.toggle("Draw the face map", key="audit_show_map",
                     help="About a minute the first time; then it is cached."):
        return
    xy, _ = cached_map(ref, *model_key, source, split)
    choices = [c for c in COLOUR_BY if c != "crowd" or crowd.has_votes.any()]
    by = st.radio("Colour by", choices, format_func=COLOUR_LABELS.get, horizontal=True, key="audit_colour")
    groups = map_groups(by, labels=result.labels, probabilities=result.probabilities, majority=crowd.majority(),
                        flagged=result.flagged)
    figure = face_map_figure(xy, groups, names=[face_name(n) for n in dataset.names])
    st.plotly_chart(figure, key=MAP_KEY, on_select="rerun", selection_mode=("box", "lasso"), width="stretch",
                    config={"displayModeBar": False})
    state = st.session_state.get(MAP_KEY)
    chosen = face_map_selection(state.get("selection") if state else None)
    if not len(chosen):
        st.caption("Drag a lasso (or shift-drag a box) around a region to see its faces.")
        return
    st.markdown(f"**{len(chosen):,} faces in the selected region** (flagged ones first)")
    flagged = result.flagged[chosen]
    gallery(dataset, result, [*chosen[flagged], *chosen[~flagged]], ref, crowd, key="audit_region")


def retrain_panel(result):
    """Start the fast recipe on the audited training faces less the flagged ones (a separate process)."""
    st.subheader("Train without them")
    if result.source.get("split") != "train":
        st.caption("Flagged test faces are in no training data. To train without flagged *training* faces, audit "
                   "the training split with a model that never saw it, or out of fold from the command line: "
                   "`python -m emotion_core audit --data DIR --folds 2`, then `train --exclude FILE.csv`.")
        return
    epochs_column, button_column = st.columns([1, 3], vertical_alignment="bottom")
    epochs = epochs_column.number_input("Epochs", 1, 200, 8, key="audit_epochs",
                                        help="Compare with a run of the same recipe and epochs that keeps the faces.")
    if button_column.button(f"Train the fast recipe without the {len(result.issues):,} flagged faces",
                            key="audit_retrain"):
        try:
            run_dir = launch_training(without_flagged(result, epochs=int(epochs)), recipe="fast")
        except EmotionCoreError as error:  # the one family users cause; anything else is a bug and surfaces
            show_error(error)
            return
        st.success(f"Started {plain(run_dir.name)}: follow it, and compare it with a run that kept them, on "
                   "**Train & compare**.")


st.title("Label audit")
st.caption("Which labels are likely wrong? Confident learning flags the faces whose label a model that never "
           "trained on them finds unlikely, and 10 people's votes (FER+) check the flags.")
ref, source, split, k, preset = choose_form()
if k is not None:
    try:
        ref, names = folds_ready(source, k, preset)
    except EmotionCoreError as error:  # the one family users cause; anything else is a bug and surfaces
        show_error(error)
        st.stop()
if ref is None:
    st.stop()
try:
    model_file = resolve_model_path(ref)
    model_key = (str(model_file), model_file.stat().st_mtime)
    if k is None:
        result = cached_audit(ref, *model_key, source, split)
    else:
        result = cached_fold_audit(source, k, preset, tuple(names),
                                   tuple(runs.model_path(runs.runs_root() / n).stat().st_mtime for n in names))
        st.caption(f"Out of fold: {k} models, each trained without the faces it judged. Grad-CAM and the map use "
                   "fold 1's model.")
    dataset, (crowd, votes_problem) = cached_data(source, split), cached_crowd(source, split, votes_stamp())
    if votes_problem:
        st.warning(plain(f"The crowd's votes cannot be shown: {votes_problem}"))
except EmotionCoreError as error:  # the one family users cause; anything else is a bug and surfaces
    show_error(error)
    st.stop()
if dataset.synthetic:
    st.info("Faces: **synthetic faces** drawn by the app, not FER2013; their labels are right by construction.")
headline_panel(result)
given, suggested = filter_form(result)
indices = filter_issues(result, given=given, suggested=suggested)
st.markdown(f"**{len(indices):,} flagged faces** of this choice, most doubtful first")
table_panel(result, indices, crowd)
gallery(dataset, result, indices, ref, crowd, key=f"audit_gallery_{given}_{suggested}")
map_panel(ref, model_key, source, split, dataset, result, crowd)
retrain_panel(result)
